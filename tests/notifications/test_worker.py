"""The outbox worker: requests never wait for mail servers or receivers; several workers
never deliver the same notification twice; a dead worker's claim runs out; the real
`verwijsindex worker` process delivers and stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import (
    CHILD_BSN,
    OTHER_CHILD_BSN,
    PARENT_BSN,
    SIBLING_BSN,
    FakeClock,
    World,
)
from tests.notifications.conftest import make_worker, system_of, verified_events
from tests.servers import HttpReceiver, SmtpInbox, silent_server
from verwijsindex.audit import AuditLog
from verwijsindex.config import Settings
from verwijsindex.db import Database
from verwijsindex.models import AuditEventRow, OutboxRow
from verwijsindex.notify.smtp import MailSender, parse_smtp_url
from verwijsindex.services import Core
from verwijsindex.services.delivery import LEASE, Worker

ALL = ["match.created", "match.changed", "regisseur.designated", "signal.archived"]


def outbox_count(core: Core, **where: str) -> int:
    with core.transaction(write=False) as tx:
        statement = select(func.count()).select_from(OutboxRow)
        for column, value in where.items():
            statement = statement.where(getattr(OutboxRow, column) == value)
        return int(tx.uow.session.scalar(statement) or 0)


def test_a_request_returns_while_the_mail_server_hangs(
    world: World, core: Core, settings: Settings
) -> None:
    """The worker is stuck talking to a mail server that never answers; registering a
    signal that makes a match still returns at once, and the mail server never hears of
    the request (the mails wait in the outbox)."""
    anna = world.professional("Anna de Vries")
    bram = world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp")
    carla = world.professional("Carla Claes", "GGD", "jeugdgezondheidszorg")
    anna.signal(CHILD_BSN)
    bram.signal(CHILD_BSN)  # two mails queued
    with silent_server() as hanging:
        stuck = Worker(
            core, mail=MailSender(parse_smtp_url(f"smtp://127.0.0.1:{hanging.port}?timeout=30"))
        )
        finished = threading.Event()

        def deliver() -> None:
            stuck.deliver_one()
            finished.set()

        threading.Thread(target=deliver, daemon=True).start()
        assert hanging.connected.wait(10), "the worker never reached the mail server"

        response = carla.post(
            "/api/v1/signals",
            json={
                "bsn": CHILD_BSN,
                "birthDate": "2015-03-14",
                "informatieplicht": {"childInformed": True, "parentsInformed": True},
            },
        )

        assert response.status_code == 201
        assert not finished.is_set(), "the worker was not stuck after all"
        assert len(hanging.connections) == 1  # only the worker's
        assert outbox_count(core, channel="email", status="pending") == 2 + 3
    # Hung up on, the worker records a failed attempt to retry later.
    assert finished.wait(30)
    assert outbox_count(core, channel="email", status="pending") == 2 + 3


def test_two_workers_deliver_every_notification_exactly_once(
    world: World,
    client: FlaskClient,
    core: Core,
    settings: Settings,
    clock: FakeClock,
    inbox: SmtpInbox,
    receiver: HttpReceiver,
) -> None:
    secrets = [
        system_of(client, core, world.organisation(org)).subscribe(receiver.url, ALL)["secret"]
        for org in ("School A", "Wijkteam Noord")
    ]
    people = [world.professional(f"School {i}") for i in range(3)]
    people += [world.professional(f"Team {i}", "Wijkteam Noord", "jeugdhulp") for i in range(3)]
    for child in (CHILD_BSN, SIBLING_BSN, OTHER_CHILD_BSN):
        for person in people:
            person.signal(child, parents=[PARENT_BSN])
    mails = outbox_count(core, channel="email")
    hooks = outbox_count(core, channel="webhook")
    assert mails > 20 and hooks > 10

    workers = [
        make_worker(Core(settings, Database(settings.database_url), core.keys, clock), inbox)
        for _ in range(2)
    ]
    start = threading.Barrier(2)
    results: list[list[object]] = [[], []]

    def run(index: int) -> None:
        start.wait()
        results[index] = list(workers[index].run_until_idle())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for worker in workers:
        worker.core.database.dispose()

    assert len(results[0]) + len(results[1]) == mails + hooks
    assert len(inbox.envelopes) == mails
    webhook_ids = Counter(r.headers["webhook-id"] for r in receiver.requests)
    assert len(webhook_ids) == hooks and set(webhook_ids.values()) == {1}
    for secret in secrets:
        # Each system's deliveries verify with its own secret (and not the other's).
        mine = [r for r in receiver.requests if _verifies(r, secret)]
        assert 0 < len(mine) < len(receiver.requests)
    assert outbox_count(core, status="delivered") == mails + hooks


def _verifies(request: object, secret: str) -> bool:
    from standardwebhooks import Webhook
    from standardwebhooks.webhooks import WebhookVerificationError

    try:
        Webhook(secret).verify(request.body, request.headers)  # type: ignore[attr-defined]
    except WebhookVerificationError:
        return False
    return True


def test_a_dead_workers_claim_runs_out_and_another_delivers(
    world: World, core: Core, clock: FakeClock, inbox: SmtpInbox
) -> None:
    world.professional("Anna de Vries").signal(CHILD_BSN)
    world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp").signal(CHILD_BSN)
    with core.transaction(write=True) as tx:  # a worker claims a mail, then dies
        abandoned = tx.outbox.claim_due(tx.now, tx.now + LEASE, ["email"])
        tx.commit()
    assert abandoned is not None
    worker = make_worker(core, inbox)

    assert len(worker.run_until_idle()) == 1  # the other mail; the claimed one is leased
    clock.advance(seconds=LEASE.total_seconds() + 1)
    [retaken] = worker.run_until_idle()

    assert retaken.delivery_id == abandoned.id and retaken.status == "delivered"
    assert len(inbox.envelopes) == 2
    with core.transaction(write=True) as tx:  # the dead worker cannot overwrite it now
        assert not tx.outbox.settle(abandoned, tx.now, status="failed", error="late")
        tx.commit()


def test_without_a_mail_server_mails_wait_and_webhooks_still_go(
    world: World, client: FlaskClient, core: Core, receiver: HttpReceiver
) -> None:
    secret = system_of(client, core, world.organisation("School A")).subscribe(receiver.url, ALL)[
        "secret"
    ]
    world.professional("Anna de Vries").signal(CHILD_BSN)
    world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp").signal(CHILD_BSN)

    outcomes = make_worker(core, None).run_until_idle()

    assert [o.channel for o in outcomes] == ["webhook"]
    assert [e["type"] for e in verified_events(receiver, secret)] == ["match.created"]
    assert outbox_count(core, channel="email", status="pending") == 2


def test_each_mail_sent_is_audited_and_the_chain_still_verifies(
    world: World, core: Core, worker: Worker
) -> None:
    anna = world.professional("Anna de Vries")
    world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp").signal(CHILD_BSN)
    anna.signal(CHILD_BSN)

    outcomes = worker.run_until_idle()

    with core.transaction(write=False) as tx:
        rows = tx.uow.session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "worker:notification:email-sent")
        ).all()
        assert sorted(r.object_id for r in rows) == sorted(o.delivery_id for o in outcomes)
        assert anna.professional_id in {
            uid for r in rows for uid in map(_uuid, r.related_ids.split())
        }
        assert AuditLog(core.keys.audit_key).verify(tx.uow.session).ok


def _uuid(text: str) -> uuid.UUID:
    return uuid.UUID(text.strip(","))


def test_the_worker_command_delivers_and_stops_on_sigterm(
    world: World, core: Core, clock: FakeClock, inbox: SmtpInbox, env: dict[str, str]
) -> None:
    # The process uses the real clock: queue the mails at the real time.
    clock.now = datetime.now(UTC)
    world.professional("Anna de Vries").signal(CHILD_BSN)
    world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp").signal(CHILD_BSN)
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("verwijsindex")), "worker", "--poll-interval", "0.1"],
        env={**os.environ, **env, "VERWIJSINDEX_SMTP_URL": inbox.url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while len(inbox.envelopes) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(inbox.envelopes) == 2
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "stopping" in stderr
    assert outbox_count(core, status="delivered") == 2
