"""The outbox worker: delivers queued e-mails and webhook calls, retrying with backoff.

Each delivery is three steps, and only the first and last touch the database, each in a
short transaction of its own: claim a due row (a lease, see `repository.outbox`), deliver
it with no transaction open (a hanging mail server holds no lock and no connection), then
settle it: delivered, retried later, or failed for good. Several workers, in as many
processes as wanted, never deliver the same row at once. A worker that dies mid-delivery
leaves its row to be tried again when the lease runs out, so delivery is at least once:
receivers deduplicate on `webhook-id`, which is stable across attempts.

Mail addresses are decrypted only here, at the last moment, and each mail sent or
attempted leaves an audit record naming the professional.

Beside the deliveries, a second thread runs the audit-chain verifications privacy officers
queue (so a long walk never delays a mail) and anchors a checkpoint of the chain every
`CHECKPOINT_EVERY` (see `services.audit_chain`), and a third applies the sync runs source
systems queue with `PUT /sync/signals` (`services.sync_runs`: a run of 10,000 items takes
a while, and must not hold up the mails its own matches cause).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidTag

from verwijsindex.audit import AuditEntry, RequestContext, request_context
from verwijsindex.crypto import KeyFileError
from verwijsindex.notify.errors import DeliveryError
from verwijsindex.notify.mails import MailKind, build_mail
from verwijsindex.notify.retry import next_attempt_at
from verwijsindex.notify.smtp import MailSender, parse_smtp_url
from verwijsindex.notify.webhooks import WebhookSender
from verwijsindex.repository import Delivery
from verwijsindex.repository.outbox import DELIVERED, FAILED, PENDING, SKIPPED
from verwijsindex.services.core import Core
from verwijsindex.services.invitations import open_mailed_invitation
from verwijsindex.services.notifications import EMAIL, WEBHOOK
from verwijsindex.services.unit_of_work import Transaction

log = logging.getLogger("verwijsindex.worker")

# Longer than any one delivery may take (the transports time out well before), so a lease
# never runs out while its worker is still delivering.
LEASE = timedelta(minutes=5)
WEBHOOK_TIMEOUT_SECONDS = 10.0
CHECKPOINT_EVERY = timedelta(hours=1)
SYNC_STOP_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Outcome:
    delivery_id: uuid.UUID
    channel: str
    topic: str
    status: str  # delivered | pending (to be retried) | failed | skipped
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class _Ready:
    """A claimed delivery with what it takes to deliver it, or a reason to skip it."""

    delivery: Delivery
    to: str | None = None  # e-mail address
    url: str | None = None
    secret: str | None = None
    skip: str | None = None


class Worker:
    def __init__(
        self,
        core: Core,
        *,
        mail: MailSender | None = None,
        webhooks: WebhookSender | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.core = core
        self.mail = mail
        self.webhooks = webhooks or WebhookSender(
            timeout=WEBHOOK_TIMEOUT_SECONDS, allow_http_loopback=core.settings.development
        )
        self.rng = rng
        # Without a mail server, e-mails wait in the outbox until one is configured.
        self.channels = (EMAIL, WEBHOOK) if mail is not None else (WEBHOOK,)

    @classmethod
    def from_settings(cls, core: Core) -> Worker:
        url = core.settings.smtp_url
        return cls(core, mail=MailSender(parse_smtp_url(url)) if url else None)

    def deliver_one(self) -> Outcome | None:
        """Claim, deliver and settle the longest-waiting due notification; None if none is due."""
        ready = self._claim()
        if ready is None:
            return None
        delivery = ready.delivery
        token = request_context.set(RequestContext("worker", str(delivery.id)))
        try:
            status, reason = self._attempt(ready)
            return self._settle(ready, status, reason)
        finally:
            request_context.reset(token)

    def run_until_idle(self, limit: int | None = None) -> list[Outcome]:
        """Deliver everything due now (at most `limit`); what tests and `--once` use."""
        outcomes: list[Outcome] = []
        while limit is None or len(outcomes) < limit:
            outcome = self.deliver_one()
            if outcome is None:
                break
            outcomes.append(outcome)
        return outcomes

    def verify_queued(self) -> int:
        """Run the audit-chain verifications waiting in the queue; how many were run."""
        from verwijsindex.services.audit_chain import run_queued_verification

        token = request_context.set(RequestContext("worker", request_context.get().request_id))
        try:
            runs = 0
            while run_queued_verification(self.core) is not None:
                runs += 1
            return runs
        finally:
            request_context.reset(token)

    def federate(self) -> int:
        """A federating region: evaluate, publish and mirror what is due now (until idle);
        how many children were published. Errors wait for the next run."""
        if not self.core.federation.region_enabled:
            return 0
        from verwijsindex.services.federation_sync import FederationSync

        return FederationSync(self.core).run_until_idle().published

    def apply_sync_runs(self) -> int:
        """Apply every sync run that is due now; how many were finished or given up."""
        from verwijsindex.services.sync_runs import apply_due_runs

        return sum(1 for o in apply_due_runs(self.core) if o.status in ("done", "failed"))

    def apply_sync_runs_forever(self, stop: threading.Event, poll_seconds: float) -> None:
        """The third thread: sync runs, one after another, as they become due; on `stop`, the
        run in hand is handed back after its current batch."""
        from verwijsindex.services.sync_runs import apply_next_run

        while not stop.is_set():
            try:
                worked = apply_next_run(self.core, stop.is_set) is not None
            except Exception:
                log.exception("worker: sync round failed; trying again later")
                worked = False
            if not worked:
                stop.wait(poll_seconds)

    def guard_chain_forever(self, stop: threading.Event, poll_seconds: float) -> None:
        """The second thread: queued verifications, and a checkpoint when one is due."""
        from verwijsindex.services.audit_chain import make_checkpoint

        last_checkpoint: datetime | None = None
        while not stop.is_set():
            try:
                self.verify_queued()
                if last_checkpoint is None or self.core.now() - last_checkpoint >= CHECKPOINT_EVERY:
                    make_checkpoint(self.core)
                    last_checkpoint = self.core.now()
            except Exception:
                log.exception("worker: audit chain round failed; trying again later")
            stop.wait(max(poll_seconds, 5.0))

    def run_forever(self, stop: threading.Event, poll_seconds: float = 1.0) -> None:
        """Deliver until `stop` is set, polling when idle; survives a database outage."""
        guard = threading.Thread(
            target=self.guard_chain_forever, args=(stop, poll_seconds), daemon=True
        )
        guard.start()
        syncing = threading.Thread(
            target=self.apply_sync_runs_forever, args=(stop, poll_seconds), daemon=True
        )
        syncing.start()
        if self.core.federation.region_enabled:
            # A fourth thread: federation (docs/federation.md) never delays a mail.
            from verwijsindex.services.federation_sync import FederationSync

            threading.Thread(
                target=FederationSync(self.core).run_forever,
                args=(stop, poll_seconds),
                daemon=True,
                name="federation",
            ).start()
        pause = poll_seconds
        while not stop.is_set():
            try:
                worked = self.deliver_one() is not None
                pause = poll_seconds
            except Exception:
                # The database may be restarting: say so once per pause, and back off.
                log.exception("worker: delivery round failed; retrying in %.0f s", pause)
                worked = False
                pause = min(pause * 2, 60.0)
            if not worked:
                stop.wait(pause)
        # A sync batch takes seconds; let it finish and hand its run back (a worker killed
        # instead loses nothing either, but its run waits for the lease to run out).
        syncing.join(timeout=SYNC_STOP_SECONDS)

    # --- the three steps -------------------------------------------------------------------

    def _claim(self) -> _Ready | None:
        with self.core.transaction(write=True) as tx:
            delivery = tx.outbox.claim_due(tx.now, tx.now + LEASE, self.channels)
            if delivery is None:
                return None
            ready = self._prepare(tx, delivery)
            tx.commit()
        return ready

    @staticmethod
    def _prepare(tx: Transaction, delivery: Delivery) -> _Ready:
        if delivery.channel == EMAIL:
            professional = (
                tx.people.professional(delivery.professional_id)
                if delivery.professional_id
                else None
            )
            if professional is None or not professional.active:
                return _Ready(delivery, skip="professional inactive")
            return _Ready(delivery, to=professional.email)
        subscription = (
            tx.webhooks.subscription(delivery.subscription_id) if delivery.subscription_id else None
        )
        if subscription is None or subscription.disabled_at is not None:
            return _Ready(delivery, skip="subscription disabled")
        return _Ready(
            delivery, url=subscription.url, secret=tx.webhooks.subscription_secret(subscription.id)
        )

    def _attempt(self, ready: _Ready) -> tuple[str, str | None]:
        if ready.skip is not None:
            return SKIPPED, ready.skip
        delivery = ready.delivery
        try:
            if delivery.channel == EMAIL:
                assert self.mail is not None and ready.to is not None
                self.mail.send(
                    build_mail(
                        MailKind(delivery.topic),
                        to=ready.to,
                        sender=self.core.settings.sender_address,
                        link=self._link(delivery),
                        count=self._count(delivery),
                        regions=self._regions(delivery),
                    )
                )
            else:
                assert ready.url is not None and ready.secret is not None
                self.webhooks.send(
                    ready.url, ready.secret, str(delivery.id), delivery.payload.encode()
                )
        except DeliveryError as error:
            return (FAILED if error.permanent else PENDING), error.reason
        return DELIVERED, None

    @staticmethod
    def _count(delivery: Delivery) -> int | None:
        """The one number a mail may carry (signals left behind), if any."""
        count = json.loads(delivery.payload).get("count")
        return None if count is None else int(count)

    @staticmethod
    def _regions(delivery: Delivery) -> tuple[str, ...]:
        """Federation: the other regions a match mail names (`services.notifications`)."""
        named = json.loads(delivery.payload).get("regions")
        return tuple(str(named).split(",")) if named else ()

    def _link(self, delivery: Delivery) -> str:
        """Where the mail's reader looks: the match or the signal in the web UI, by id."""
        ids = json.loads(delivery.payload)
        base = self.core.settings.base_url.rstrip("/")
        if delivery.topic == MailKind.INVITATION and delivery.professional_id:
            # The code is opened only here, to write the mail; the outbox keeps it sealed.
            try:
                code = open_mailed_invitation(self.core, delivery.payload, delivery.professional_id)
            except (ValueError, KeyError, KeyFileError, InvalidTag) as error:
                # Sealed with a key this installation no longer has, or not by us: no mail
                # can be written; the beheerder makes a new invitation.
                raise DeliveryError("invitation unreadable", permanent=True) from error
            return f"{base}/uitnodiging#{code}"
        if delivery.topic.startswith("regie_"):
            return f"{base}/regie"  # the regievoerder's page, not a participant's match
        if "matchId" in ids:
            return f"{base}/matches/{uuid.UUID(ids['matchId'])}"
        if "count" in ids:  # the coordinator's task: signals left behind to move
            return f"{base}/coordinatie"
        return f"{base}/signalen/{uuid.UUID(ids['signalId'])}"

    def _settle(self, ready: _Ready, status: str, reason: str | None) -> Outcome:
        delivery = ready.delivery
        with self.core.transaction(write=True) as tx:
            retry_at: datetime | None = None
            if status == PENDING:
                retry_at = next_attempt_at(delivery.attempts, delivery.queued_at, tx.now, self.rng)
                if retry_at is None:
                    status = FAILED
            if status == FAILED and reason == "HTTP 410" and delivery.subscription_id:
                # Standard Webhooks: 410 Gone means "stop sending to this endpoint".
                tx.webhooks.disable_subscription(delivery.subscription_id, tx.now)
            if not tx.outbox.settle(
                delivery, tx.now, status=status, error=reason, retry_at=retry_at
            ):
                log.warning("worker: lease on %s lost before settling; not recorded", delivery.id)
                return Outcome(delivery.id, delivery.channel, delivery.topic, status, reason)
            if status != SKIPPED:
                subject = delivery.professional_id or delivery.subscription_id
                verb = "sent" if status == DELIVERED else "attempt"
                tx.record(
                    AuditEntry(
                        f"notification:{delivery.channel}-{verb}",
                        "notification",
                        delivery.id,
                        None,
                        [subject] if subject else [],
                    )
                )
            tx.commit()
        log.info(
            "worker: %s %s (%s) %s%s",
            delivery.channel,
            delivery.id,
            delivery.topic,
            status,
            f": {reason}" if reason else "",
        )
        return Outcome(delivery.id, delivery.channel, delivery.topic, status, reason)
