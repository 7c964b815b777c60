"""A real `verwijsindex worker` process killed (SIGKILL) in the middle of a sync run, and
another one started: the run finishes with every item applied exactly once (issue 12)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from tests.conftest import FakeClock, World
from tests.e2e.test_sync_api import Source, item, source, valid_bsns
from tests.served import stop
from verwijsindex.models import AuditEventRow, SignalRow, SyncRunItemRow, SyncRunRow
from verwijsindex.repository.sync_runs import SyncRun
from verwijsindex.services import Core

ITEMS = 3000
DEADLINE_SECONDS = 180


@contextmanager
def worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`verwijsindex worker` with the test database and keys, polling every 0.1 s."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("VERWIJSINDEX_")}
    environment.update(env, PYTHONUNBUFFERED="1")
    environment["VERWIJSINDEX_AUDIT_ANCHOR_DIR"] = os.environ["VERWIJSINDEX_AUDIT_ANCHOR_DIR"]
    command = [sys.executable, "-m", "verwijsindex", "worker", "--poll-interval", "0.1"]
    with log.open("ab") as output:
        process = subprocess.Popen(command, env=environment, stdout=output, stderr=output)
    try:
        yield process
    finally:
        if process.poll() is None:
            stop(process)


def run_of(core: Core, run_id: uuid.UUID) -> SyncRun:
    with core.transaction(write=False) as tx:
        found = tx.sync_runs.run(run_id)
    assert found is not None
    return found


def wait_for(core: Core, run_id: uuid.UUID, done: Callable[[SyncRun], bool], log: Path) -> SyncRun:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        run = run_of(core, run_id)
        if done(run):
            return run
        time.sleep(0.02)
    raise AssertionError(f"the run did not get there in time: {log.read_text()[-3000:]}")


def queued(world: World, clock: FakeClock) -> tuple[Source, uuid.UUID]:
    """A school system's run of `ITEMS` new signals for two professionals, queued."""
    clock.now = datetime.now(UTC)  # the worker processes use the wall clock
    anna = world.professional("Anna Jansen")
    bart = world.professional("Bart de Vries")
    school = source(world, anna.organisation_id)
    items = [
        item(f"pupil-{i}", (anna, bart)[i % 2], bsn)
        for i, bsn in enumerate(valid_bsns(ITEMS, start=400_000_000))
    ]
    accepted = school.put(items)
    assert accepted.status_code == 202, accepted.get_json()
    return school, uuid.UUID(accepted.get_json()["id"])


def mid_run(run: SyncRun) -> bool:
    return 0 < run.processed < ITEMS


def finished(run: SyncRun) -> bool:
    return run.status in ("done", "failed")


def assert_each_item_applied_once(core: Core, school: Source, run: SyncRun, log: Path) -> None:
    assert run.status == "done", log.read_text()[-3000:]
    assert (run.total, run.processed, run.created) == (ITEMS, ITEMS, ITEMS)
    assert (run.updated, run.closed, run.unchanged) == (0, 0, 0)
    with core.transaction(write=False) as tx:
        session = tx.uow.session
        signals = session.execute(
            select(SignalRow.external_ref, SignalRow.status).where(
                SignalRow.feed_client_id == uuid.UUID(school.client_id)
            )
        ).all()
        created = list(
            session.scalars(
                select(AuditEventRow.object_id).where(
                    AuditEventRow.action == "worker:signal:create"
                )
            )
        )
        not_applied = session.scalar(
            select(func.count())
            .select_from(SyncRunItemRow)
            .where(SyncRunItemRow.run_id == run.id, SyncRunItemRow.state != "applied")
        )
    assert len(signals) == ITEMS and {status for _, status in signals} == {"active"}
    assert len({ref for ref, _ in signals}) == ITEMS  # no reference twice
    assert len(created) == len(set(created)) == ITEMS  # one audit record per item, once
    assert not_applied == 0
    body = school.run(f"/api/v1/sync/runs/{run.id}")
    assert (body["status"], body["processed"], body["report"]["created"]) == (
        "done",
        ITEMS,
        ITEMS,
    )


def test_a_run_survives_a_killed_worker_and_finishes_with_each_item_applied_once(
    world: World, core: Core, env: dict[str, str], clock: FakeClock, tmp_path: Path
) -> None:
    school, run_id = queued(world, clock)
    log = tmp_path / "worker.log"

    with worker(env, log) as first:
        halfway = wait_for(core, run_id, mid_run, log)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    killed = run_of(core, run_id)
    assert killed.status == "running" and 0 < killed.processed < ITEMS, killed
    assert halfway.processed <= killed.processed

    # Its lease would run out in two minutes; let it run out now.
    with core.transaction(write=True) as tx:
        tx.uow.session.execute(
            update(SyncRunRow)
            .where(SyncRunRow.id == run_id)
            .values(lease_until=datetime.now(UTC) - timedelta(seconds=1))
        )
        tx.commit()
    with worker(env, log):
        done = wait_for(core, run_id, finished, log)

    assert done.attempts == 2
    assert_each_item_applied_once(core, school, done, log)


def test_a_worker_stopped_with_sigterm_hands_its_run_back_for_the_next_at_once(
    world: World, core: Core, env: dict[str, str], clock: FakeClock, tmp_path: Path
) -> None:
    school, run_id = queued(world, clock)
    log = tmp_path / "worker.log"

    with worker(env, log) as first:
        wait_for(core, run_id, mid_run, log)
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 0
    stopped = run_of(core, run_id)
    assert stopped.status == "running" and 0 < stopped.processed < ITEMS, stopped
    with core.transaction(write=False) as tx:
        lease = tx.uow.session.scalar(select(SyncRunRow.lease_until).where(SyncRunRow.id == run_id))
    assert lease is not None and lease <= datetime.now(UTC)  # due again, no lease to wait for

    with worker(env, log):
        done = wait_for(core, run_id, finished, log)

    assert_each_item_applied_once(core, school, done, log)
