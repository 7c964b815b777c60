"""The region's federation worker (docs/federation.md, "What a region does" 2-4).

Each round, outside the request path and in transactions of its own:
1. **evaluate**: staged blinded pseudonyms go to the key holder in batches; the answers are
   unblinded and stored as federation pseudonyms, the blinded element and the sealed blind
   cleared;
2. **publish**: the children queued by the request path (outbox rows of channel
   `federation`, payload the local pseudonym, which never leaves) whose state differs from
   what was last published go to the hub in one call; a child whose pseudonyms are not
   known yet waits for the next round;
3. **mirror**: for each counterpart region in the hub's results, its participants are
   fetched with the hub's ticket and kept as mirrored signals (`feed = 'fed'`), and the
   ordinary matching forms, grows, shrinks and dissolves matches around them;
4. **notices**: the hub's notices (every `poll_seconds`) name children whose counterparts
   changed; those are looked up and mirrored again.

Failures (hub or key holder down) leave everything queued: registration never waits, and
the next round catches up, with a back-off per queued child. A hub 409 (`currentKeyVersion`)
re-keys the region's pseudonyms (`GET /rekey`) and publishes again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from verwijsindex.audit import AuditEntry, RequestContext, Who, request_context
from verwijsindex.domain import SignalStatus
from verwijsindex.federation import oprf
from verwijsindex.federation.client import (
    FederationClient,
    FederationError,
    Peer,
    StaleKey,
    Unreachable,
)
from verwijsindex.federation.identity import Identity, b64url, from_b64url, signing_key
from verwijsindex.federation.staged import open_blind
from verwijsindex.matching import refresh_matches_around
from verwijsindex.models import SignalRow
from verwijsindex.repository.federation import FED, Mirrored, OwnSignal
from verwijsindex.services.core import Core
from verwijsindex.services.unit_of_work import Transaction

log = logging.getLogger("verwijsindex.federation")

EVALUATE_BATCH = 1000
PUBLISH_BATCH = 100
LEASE = timedelta(minutes=2)
# How long a mirrored signal is kept active/archived here: its home region runs the
# lifecycle (mirrored signals are left out of this region's sweeps) and publishes `gone`.
MIRROR_HORIZON = timedelta(days=366 * 10)
NOTICE_CURSOR = "notice_cursor"
LAST_PUBLISH = "last_publish"
KEY_VERSION = "key_version"
ACTIVE, ARCHIVED, GONE = "active", "archived", "gone"
_NAMESPACE = uuid.UUID("7f0c4c52-4a52-4b8e-9d7e-5f6d2b0e2a11")


def region_client(core: Core) -> FederationClient:
    """The client of this region, signed with its federation key (`federation_signing.pem`)."""
    settings = core.federation
    assert settings.region_enabled and settings.name and settings.hub_url
    assert settings.keyholder_url
    return FederationClient(
        Identity(settings.name, signing_key(core.settings.keys_dir)),
        hub_url=settings.hub_url,
        hub_name=settings.hub_name,
        keyholder_url=settings.keyholder_url,
        keyholder_name=settings.keyholder_name,
    )


@dataclass
class Round:
    """What one round did (for `worker --once`, the CLI and tests)."""

    evaluated: int = 0
    published: int = 0
    unchanged: int = 0
    waiting: int = 0
    asked: int = 0
    mirrored: int = 0
    removed: int = 0
    notices: int = 0
    errors: list[str] = field(default_factory=list)


def retry_delay(attempts: int) -> timedelta:
    """Back-off for a queued child: 1, 2, 4 … seconds, at most a minute. Shorter than the
    mail outbox's: the hub coming back should be noticed within a minute."""
    return timedelta(seconds=min(2 ** max(attempts - 1, 0), 60))


class FederationSync:
    """One region's federation work; `run_round` is safe to call from several processes."""

    def __init__(self, core: Core, client: FederationClient | None = None) -> None:
        self.core = core
        self.client = client or region_client(core)
        self._last_notice_poll = 0.0

    # --- the round --------------------------------------------------------------------------

    def run_round(self, *, notices: bool | None = None) -> Round:
        token = request_context.set(RequestContext("worker", str(uuid.uuid4())))
        report = Round()
        try:
            for step in (self._evaluate, self._publish_queued):
                try:
                    step(report)
                except FederationError as error:
                    report.errors.append(str(error))
                    log.warning("federation: %s; trying again later", error)
            due = time.monotonic() - self._last_notice_poll >= self.core.federation.poll_seconds
            if notices if notices is not None else due:
                self._last_notice_poll = time.monotonic()
                try:
                    self._poll_notices(report)
                except FederationError as error:
                    report.errors.append(str(error))
                    log.warning("federation notices: %s; trying again later", error)
        finally:
            request_context.reset(token)
        return report

    def run_until_idle(self, rounds: int = 20) -> Round:
        """Rounds until nothing more happens (tests, `worker --once`)."""
        total = Round()
        for _ in range(rounds):
            one = self.run_round(notices=True)
            for name in ("evaluated", "published", "asked", "mirrored", "removed", "notices"):
                setattr(total, name, getattr(total, name) + getattr(one, name))
            total.waiting, total.errors = one.waiting, total.errors + one.errors
            if not (one.evaluated or one.published or one.notices or one.mirrored or one.removed):
                break
        return total

    def run_forever(self, stop: threading.Event, poll_seconds: float) -> None:
        """The worker's federation thread: a round every poll, backing off on errors, so
        mails and webhooks (another thread) never wait for the federation."""
        pause = min(poll_seconds, self.core.federation.poll_seconds)
        while not stop.is_set():
            try:
                report = self.run_round()
                busy = report.evaluated or report.published or report.mirrored
                pause = 0.0 if busy else min(poll_seconds, self.core.federation.poll_seconds)
            except Exception:
                log.exception("federation: round failed; trying again in %.0f s", pause)
                pause = min(max(pause, 0.5) * 2, 30.0)
            stop.wait(pause)

    # --- 1. evaluation ----------------------------------------------------------------------

    def _evaluate(self, report: Round) -> None:
        while True:
            with self.core.transaction(write=False) as tx:
                pending = tx.federation_store.pending_blinds(EVALUATE_BATCH)
            if not pending:
                return
            answer = self.client.evaluate([p.blinded for p in pending])
            cipher = self.core.keys.cipher
            with self.core.transaction(write=True) as tx:
                tx.federation = False
                for item, evaluated in zip(pending, answer.elements, strict=True):
                    try:
                        blind = open_blind(cipher, item.local, item.blind_enc)
                        element = oprf.unblind(blind, from_b64url(evaluated))
                    except (oprf.OprfError, ValueError):
                        log.warning("federation: the key holder returned an invalid element")
                        continue
                    tx.federation_store.store_element(
                        item.local, item.blinded, b64url(element), answer.key_version
                    )
                tx.commit()
            report.evaluated += len(pending)
            # Only a newer key version means stored pseudonyms to re-key; walking them after
            # every evaluation made each registration cost O(all pseudonyms) (5.6 s until a
            # cross-region match showed at 1 M signals, bench.federation).
            if answer.key_version > self._stored_key_version():
                self._ensure_key_version(answer.key_version)
            if len(pending) < EVALUATE_BATCH:
                return

    # --- key rotation ------------------------------------------------------------------------

    def _stored_key_version(self) -> int:
        """The key version this region's pseudonyms are on (0: none evaluated yet)."""
        with self.core.transaction(write=False) as tx:
            return int(tx.federation_store.state(KEY_VERSION) or 0)

    def _ensure_key_version(self, current: int) -> int:
        """Re-key every stored pseudonym of an older version to `current` (no BSN needed:
        `F' = (k_new · k_old⁻¹) · F`); returns how many were re-keyed."""
        factors: dict[int, bytes] = {}
        moved, after = 0, ""
        while True:
            with self.core.transaction(write=False) as tx:
                stale = tx.federation_store.known_elements(after, 1000, below=current)
            if not stale:
                break
            after = stale[-1][0]
            for version in {v for _, _, v in stale} - factors.keys():
                factors[version] = from_b64url(self.client.rekey_factor(version, current))
            with self.core.transaction(write=True) as tx:
                tx.federation = False
                for local, element, version in stale:
                    new = oprf.rekey(factors[version], from_b64url(element))
                    tx.federation_store.rekeyed(local, element, b64url(new), current)
                tx.commit()
            moved += len(stale)
        with self.core.transaction(write=True) as tx:
            tx.federation_store.set_state(KEY_VERSION, str(current))
            tx.commit()
        return moved

    # --- 2. publishing ------------------------------------------------------------------------

    def _publish_queued(self, report: Round) -> None:
        now = self.core.now()
        with self.core.transaction(write=True) as tx:
            claimed = tx.federation_store.claim_queued(now, now + LEASE, PUBLISH_BATCH)
            tx.commit()
        if not claimed:
            return
        self.publish(sorted(claimed), report, attempts=claimed)

    def publish(
        self, children: Sequence[str], report: Round, attempts: dict[str, int] | None = None
    ) -> None:
        """Publish the state of these local children (those whose state changed), mirror
        the answers, and settle their queue rows."""
        attempts = attempts or {}
        plans: list[_Plan] = []
        done: list[str] = []
        waiting: list[str] = []
        with self.core.transaction(write=False) as tx:
            for child in children:
                plan = _plan(tx, child)
                if plan is None:
                    done.append(child)
                elif plan.missing:
                    waiting.append(child)
                elif plan.fingerprint == tx.federation_store.published(child):
                    report.unchanged += 1
                    done.append(child)
                else:
                    plans.append(plan)
        report.waiting += len(waiting)
        self._settle(done, None)
        self._settle(
            waiting, "pseudonym not evaluated yet", attempts, delay=timedelta(milliseconds=300)
        )
        if not plans:
            return
        try:
            results = self._publish_call(plans)
        except FederationError as error:
            self._settle([p.child for p in plans], str(error)[:120], attempts)
            raise
        report.published += len(plans)
        gone = any(p.status == GONE for p in plans)
        for plan, result in zip(plans, results, strict=False):
            try:
                self._mirror(plan.child, result, report)
            except FederationError as error:
                report.errors.append(str(error))
                self._settle([plan.child], str(error)[:120], attempts)
                continue
            with self.core.transaction(write=True) as tx:
                tx.federation = False
                tx.federation_store.set_published(
                    plan.child, None if plan.status == GONE else plan.fingerprint, tx.now
                )
                tx.federation_store.set_state(LAST_PUBLISH, tx.now.isoformat())
                tx.federation_store.settle_queued(plan.child, tx.now, None)
                tx.record(AuditEntry("federation:publish", "child", None, plan.child))
                tx.commit()
        if gone:
            report.removed += sweep_unanchored(self.core)

    def _publish_call(self, plans: list[_Plan]) -> list[dict[str, Any]]:
        version = max(p.key_version for p in plans)
        for attempt in range(2):
            try:
                if any(p.key_version != version for p in plans):
                    self._ensure_key_version(version)
                    plans[:] = self._replanned(plans)
                return self.client.publish(version, [p.holding for p in plans])
            except StaleKey as stale:
                if attempt:
                    raise
                self._ensure_key_version(stale.current)
                plans[:] = self._replanned(plans)
                version = stale.current
        raise Unreachable("publish failed")  # pragma: no cover - the loop returns or raises

    def _replanned(self, plans: list[_Plan]) -> list[_Plan]:
        with self.core.transaction(write=False) as tx:
            fresh = [_plan(tx, p.child) for p in plans]
        return [p for p in fresh if p is not None and not p.missing]

    def _settle(
        self,
        children: Sequence[str],
        error: str | None,
        attempts: dict[str, int] | None = None,
        delay: timedelta | None = None,
    ) -> None:
        if not children:
            return
        with self.core.transaction(write=True) as tx:
            tx.federation = False
            for child in children:
                retry = None
                if error is not None:
                    retry = tx.now + (delay or retry_delay((attempts or {}).get(child, 1)))
                tx.federation_store.settle_queued(child, tx.now, retry, error)
            tx.commit()

    # --- 3. mirroring ---------------------------------------------------------------------------

    def _mirror(self, child: str, result: dict[str, Any], report: Round) -> None:
        """Ask every counterpart region of one child for its participants (with the hub's
        ticket) and bring the mirrored signals here in line with the answers."""
        counterparts = [c for c in result.get("counterparts") or [] if isinstance(c, dict)]
        tickets = result.get("tickets") or {}
        by_region: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for counterpart in counterparts:
            if isinstance(counterpart.get("region"), str) and isinstance(
                counterpart.get("child"), str
            ):
                by_region[counterpart["region"]].append(counterpart)
        answers: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        for region, theirs in sorted(by_region.items()):
            ticket, url = tickets.get(region), theirs[0].get("url")
            if not isinstance(ticket, str) or not isinstance(url, str):
                continue
            wanted = sorted({c["child"] for c in theirs})
            participants = self.client.participants(Peer(region, url), ticket, wanted)
            report.asked += 1
            with self.core.transaction(write=True) as tx:
                tx.federation = False
                # Which region was asked, about which child (its pseudonym stays here).
                tx.who = Who(None, None, (f"region:{region}",))
                tx.record(AuditEntry("federation:ask", "child", None, child))
                tx.commit()
            of_child: dict[str, dict[str, Any]] = {c["child"]: c for c in theirs}
            for participant in participants:
                named = of_child.get(str(participant.get("child")))
                if named is not None and _valid_participant(participant):
                    answers.append((region, named, participant))
        with self.core.transaction(write=True) as tx:
            tx.federation = False
            changed = _apply_mirror(self.core, tx, child, answers)
            report.mirrored += changed[0]
            report.removed += changed[1]
            tx.commit()

    # --- 4. notices -------------------------------------------------------------------------------

    def _poll_notices(self, report: Round) -> None:
        with self.core.transaction(write=False) as tx:
            cursor = int(tx.federation_store.state(NOTICE_CURSOR) or 0)
        notices, last = self.client.notices(cursor)
        elements = sorted({n["child"] for n in notices if isinstance(n.get("child"), str)})
        if elements:
            with self.core.transaction(write=False) as tx:
                locals_of = tx.federation_store.locals_of(elements)
                known = tx.federation_store.elements(locals_of.values())
            if locals_of:
                version = max(v for _, v in known.values()) if known else 1
                try:
                    results = self.client.lookup(version, sorted(locals_of))
                except StaleKey as stale:
                    self._ensure_key_version(stale.current)
                    raise Unreachable("re-keyed; notices asked again next round") from None
                for result in results:
                    local = locals_of.get(str(result.get("child")))
                    if local is not None:
                        self._mirror(local, result, report)
            report.notices += len(notices)
        if last != cursor:
            with self.core.transaction(write=True) as tx:
                tx.federation_store.set_state(NOTICE_CURSOR, str(last))
                tx.commit()


# --- what is published ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Plan:
    child: str
    status: str
    key_version: int
    holding: dict[str, Any]
    fingerprint: str
    missing: bool = False


def child_state(own: Sequence[OwnSignal]) -> str:
    """`active` if any own signal is, else `archived` if any is, else `gone`."""
    statuses = {s.status for s in own}
    if SignalStatus.ACTIVE.value in statuses:
        return ACTIVE
    if SignalStatus.ARCHIVED.value in statuses:
        return ARCHIVED
    return GONE


def _plan(tx: Transaction, child: str) -> _Plan | None:
    """The holding to publish for a local child; None when there is nothing to say (not a
    child of this region, and never published)."""
    store = tx.federation_store
    own = [s for s in store.own_signals(child) if s.status in (ACTIVE, ARCHIVED)]
    status = child_state(own)
    if status == GONE and store.published(child) is None:
        return None
    parents = sorted({p for s in own for p in s.parents}) if status != GONE else []
    elements = store.elements([child, *parents])
    if child not in elements or any(p not in elements for p in parents):
        return _Plan(child, status, 0, {}, "", missing=True)
    versions = {elements[p][1] for p in (child, *parents)}
    version = max(versions)
    if len(versions) > 1:
        # Mid-rotation: the evaluation step re-keys the older ones first.
        return _Plan(child, status, version, {}, "", missing=True)
    expires = max((s.archived_until for s in own), default=tx.now)
    holding = {
        "child": elements[child][0],
        "parents": sorted(elements[p][0] for p in parents),
        "status": status,
        "expiresAt": expires.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    fingerprint = hashlib.sha256(
        json.dumps([version, holding], sort_keys=True).encode()
    ).hexdigest()
    return _Plan(child, status, version, holding, fingerprint)


# --- mirrored signals ------------------------------------------------------------------------


def _valid_participant(participant: dict[str, Any]) -> bool:
    professional, organisation = participant.get("professional"), participant.get("organisation")
    return (
        isinstance(participant.get("ref"), str)
        and 1 <= len(participant["ref"]) <= 64
        and participant.get("status") in (ACTIVE, ARCHIVED)
        and isinstance(participant.get("since"), str)
        and isinstance(professional, dict)
        and isinstance(organisation, dict)
        and all(isinstance(professional.get(k), str) for k in ("id", "name", "email"))
        and all(isinstance(organisation.get(k), str) for k in ("id", "name", "sector"))
    )


def stand_in(core: Core, element: str) -> str:
    """A region-local pseudonym for a child known here only by its federation pseudonym
    (a sibling registered elsewhere): the local pseudonym format, keyed with the region's
    pseudonym key under its own domain separator, so it can never equal a BSN's."""
    digest = hmac.new(
        core.keys.pseudonym_key, b"federation-stand-in:" + element.encode("ascii"), "sha256"
    ).digest()
    return f"{core.keys.pseudonym_key_id}:{b64url(digest)}"


def _proxy_id(region: str, kind: str, remote_id: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"{region}\x00{kind}\x00{remote_id}")


def _since(text: str, fallback: datetime) -> datetime:
    try:
        day = date.fromisoformat(text[:10])
    except ValueError:
        return fallback
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _apply_mirror(
    core: Core,
    tx: Transaction,
    child: str,
    answers: list[tuple[str, dict[str, Any], dict[str, Any]]],
) -> tuple[int, int]:
    """Make the mirrored signals around `child` what the answers say; returns (added or
    changed, removed). Every change runs the ordinary matching around that signal."""
    store = tx.federation_store
    elements = {c.get("child") for _, c, _ in answers} | {
        v for _, c, _ in answers for v in (c.get("via") or []) if isinstance(v, str)
    }
    locals_of = store.locals_of(e for e in elements if isinstance(e, str))
    # What this child's result speaks for: mirrored signals on the child itself (client
    # counterparts) and those naming one of its parents (family counterparts). A mirrored
    # signal on a sibling that names none of them belongs to that sibling's result.
    existing = {
        (m.region, m.remote_ref): m
        for m in store.mirrored(children=[child], parents=store.own_parents(child))
    }
    birth = store.own_birth_date(child)
    now = tx.now
    seen: set[tuple[str, str]] = set()
    touched: list[tuple[uuid.UUID, str, frozenset[str]]] = []
    changed = 0
    for region, counterpart, participant in answers:
        key = (region, participant["ref"])
        if key in seen:
            continue
        seen.add(key)
        remote_child: str = counterpart["child"]
        local_child = (
            child
            if counterpart.get("kind") == "client"
            else locals_of.get(remote_child) or stand_in(core, remote_child)
        )
        via = [v for v in counterpart.get("via") or [] if isinstance(v, str)]
        parents = frozenset(locals_of[v] for v in via if v in locals_of)
        status = participant["status"]
        since = _since(participant["since"], now)
        professional, organisation = participant["professional"], participant["organisation"]
        organisation_id = _proxy_id(region, "organisation", organisation["id"])
        professional_id = _proxy_id(region, "professional", professional["id"])
        store.ensure_proxy(
            organisation_id,
            organisation["name"][:200],
            organisation["sector"][:40],
            region,
            professional_id,
            (
                professional["name"],
                professional["email"],
                str(professional.get("phone") or ""),
            ),
            now,
        )
        before = existing.get(key)
        if before is not None and (
            before.child == local_child
            and before.status == status
            and before.parents == parents
            and before.professional_id == professional_id
        ):
            continue
        tx.matches.lock_persons([local_child, *parents, *(before.parents if before else ())])
        if before is not None and (
            before.child != local_child or before.professional_id != professional_id
        ):
            _remove(tx, before)
            before = None
        if before is None:
            signal_id = uuid.uuid4()
            row = SignalRow(
                id=signal_id,
                professional_id=professional_id,
                child_pseudonym=local_child,
                status=status,
                created_at=since,
                active_until=since if status == ARCHIVED else now + MIRROR_HORIZON,
                archived_at=since if status == ARCHIVED else None,
                archived_until=now + MIRROR_HORIZON,
                # Birth dates never cross regions: the local child's own, else the day of
                # mirroring (no age-based rule can reach it before its home region's has).
                child_birth_date=(birth if local_child == child and birth else now.date()),
                child_informed=True,
                parents_informed=True,
                feed=FED,
            )
            tx.signals.add_signal(row, sorted(parents))
            store.note_mirror(signal_id, region, remote_child, participant["ref"])
            touched.append((signal_id, local_child, parents))
        else:
            signal = tx.signals.signal_row(before.signal_id)
            assert signal is not None
            if signal.status != status:
                signal.status = status
                if status == ARCHIVED:
                    signal.archived_at = since
                    signal.active_until = since
                else:
                    signal.archived_at = None
                    signal.active_until = now + MIRROR_HORIZON
            tx.uow.session.flush()
            store.set_parents(before.signal_id, parents)
            touched.append((before.signal_id, local_child, parents | before.parents))
        changed += 1
    removed = 0
    for key, mirrored in existing.items():
        if key not in seen:
            tx.matches.lock_persons([mirrored.child, *mirrored.parents])
            _remove(tx, mirrored)
            touched.append((mirrored.signal_id, mirrored.child, mirrored.parents))
            removed += 1
    for signal_id, local_child, parents in touched:
        refresh_matches_around(tx.matches, signal_id, local_child, parents)
    tx.owners.update(tx.matches.owners_seen())
    return changed, removed


def _remove(tx: Transaction, mirrored: Mirrored) -> None:
    tx.federation_store.forget_mirror(mirrored.signal_id)
    tx.signals.erase_signal(mirrored.signal_id)


def sweep_unanchored(core: Core) -> int:
    """Delete mirrored signals that no own signal anchors any more (the child withdrawn or
    erased here), refreshing the matches around each; returns how many."""
    with core.transaction(write=True) as tx:
        tx.federation = False
        ids = tx.federation_store.unanchored_mirrors()
        for mirrored in tx.federation_store.mirrored_by_id(ids):
            tx.matches.lock_persons([mirrored.child, *mirrored.parents])
            _remove(tx, mirrored)
            refresh_matches_around(tx.matches, mirrored.signal_id, mirrored.child, mirrored.parents)
        tx.commit()
    return len(ids)


def pending_counts(core: Core) -> dict[str, object]:
    """`federation status`: what waits and what was done last."""
    with core.transaction(write=False) as tx:
        store = tx.federation_store
        return {
            "pendingEvaluations": store.count_pending_blinds(),
            "queuedPublishes": store.count_queued(),
            "lastPublish": store.state(LAST_PUBLISH),
            "noticeCursor": int(store.state(NOTICE_CURSOR) or 0),
            "keyVersion": int(store.state(KEY_VERSION) or 0) or None,
        }


def reconcile(core: Core) -> int:
    """Queue every child whose state differs from what was last published (the backstop
    for a queue row lost or a change that locked nobody), and sweep mirrored signals no
    own signal anchors; returns how many children were queued."""
    sweep_unanchored(core)
    with core.transaction(write=False) as tx:
        children = tx.federation_store.own_children()
        differing = []
        for child in children:
            plan = _plan(tx, child)
            if plan is None:
                continue
            if plan.missing or plan.fingerprint != tx.federation_store.published(child):
                differing.append(child)
    if differing:
        with core.transaction(write=True) as tx:
            tx.federation_store.queue(differing, tx.now)
            tx.commit()
    return len(differing)
