"""Applying sync runs (`services.sync_runs`): leases, resuming, order per client, giving up,
purging, and a run racing ordinary registrations. Both databases unless marked."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from sqlalchemy import func, select, update

from tests.conftest import CHILD_BSN, SIBLING_BSN, FakeClock, World
from tests.e2e.test_sync_api import Source, item, source, valid_bsns
from tests.integration.test_concurrency import matches_of_type, new_signal, race
from verwijsindex.domain import MatchType
from verwijsindex.models import AuditEventRow, SignalRow, SyncRunItemRow, SyncRunRow
from verwijsindex.repository.sync_runs import BatchOutcome, SyncRun
from verwijsindex.services import Core
from verwijsindex.services import sync_runs as sync_runs_service
from verwijsindex.services.bulk import apply_batch
from verwijsindex.services.lifecycle import run_maintenance
from verwijsindex.services.registration import register_signal
from verwijsindex.services.sync_runs import LEASE, MAX_ATTEMPTS, apply_due_runs, apply_next_run


def queue(school: Source, items: list[dict[str, Any]]) -> uuid.UUID:
    accepted = school.put(items)
    assert accepted.status_code == 202, accepted.get_json()
    return uuid.UUID(accepted.get_json()["id"])


def stored_run(core: Core, run_id: uuid.UUID) -> SyncRun:
    with core.transaction(write=False) as tx:
        found = tx.sync_runs.run(run_id)
    assert found is not None
    return found


def created_records(core: Core) -> list[uuid.UUID]:
    with core.transaction(write=False) as tx:
        found = tx.uow.session.scalars(
            select(AuditEventRow.object_id).where(AuditEventRow.action == "worker:signal:create")
        )
        return [i for i in found if i is not None]


def signal_count(core: Core) -> int:
    with core.transaction(write=False) as tx:
        return int(tx.uow.session.scalar(select(func.count()).select_from(SignalRow)) or 0)


class Killed(BaseException):
    """Stands for SIGKILL inside one process: nothing after it runs, no handler catches it."""


def dying_after(batches: int) -> Callable[..., Any]:
    """The engine's `apply_batch`, for `batches` calls; then the worker "dies"."""
    calls = 0

    def apply(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls > batches:
            raise Killed
        return apply_batch(*args, **kwargs)

    return apply


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(sync_runs_service, "BATCH_SIZE", 10)
    return 10


def test_a_killed_worker_loses_nothing_and_the_next_applies_nothing_twice(
    world: World, core: Core, clock: FakeClock, small_batches: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    anna = world.professional("Anna Jansen")
    school = source(world, anna.organisation_id)
    items = [item(f"p{i}", anna, bsn) for i, bsn in enumerate(valid_bsns(35))]
    run_id = queue(school, items)

    monkeypatch.setattr(sync_runs_service, "apply_batch", dying_after(2))
    with pytest.raises(Killed):
        apply_due_runs(core)
    half = stored_run(core, run_id)
    assert (half.status, half.processed, half.created) == ("running", 20, 20)
    assert signal_count(core) == 20

    monkeypatch.setattr(sync_runs_service, "apply_batch", apply_batch)
    assert apply_due_runs(core) == []  # its lease still holds: nobody takes it over yet
    clock.advance(seconds=LEASE.total_seconds() + 1)
    [outcome] = apply_due_runs(core)

    assert outcome.status == "done"
    done = stored_run(core, run_id)
    assert (done.status, done.total, done.processed, done.created) == ("done", 35, 35, 35)
    assert done.attempts == 2
    assert signal_count(core) == 35
    records = created_records(core)
    assert len(records) == len(set(records)) == 35


def test_a_worker_that_lost_its_lease_records_nothing_and_its_batch_is_undone(
    world: World, core: Core, clock: FakeClock, small_batches: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    anna = world.professional("Anna Jansen")
    school = source(world, anna.organisation_id)
    run_id = queue(school, [item(f"p{i}", anna, b) for i, b in enumerate(valid_bsns(25))])
    calls = 0

    def slow_then_overtaken(*args: Any, **kwargs: Any) -> Any:
        """Before its second batch the worker stalls past its lease and another takes over."""
        nonlocal calls
        calls += 1
        if calls == 2:
            clock.advance(seconds=LEASE.total_seconds() + 1)
            with core.transaction(write=True) as tx:
                assert tx.sync_runs.claim_next(tx.now, tx.now + LEASE) is not None
                tx.commit()
        return apply_batch(*args, **kwargs)

    monkeypatch.setattr(sync_runs_service, "apply_batch", slow_then_overtaken)
    [outcome] = apply_due_runs(core)
    assert outcome.status == "lost"
    assert stored_run(core, run_id).processed == 10  # the second batch was rolled back
    assert signal_count(core) == 10

    monkeypatch.setattr(sync_runs_service, "apply_batch", apply_batch)
    clock.advance(seconds=LEASE.total_seconds() + 1)  # the usurper died as well
    [outcome] = apply_due_runs(core)
    assert outcome.status == "done"
    assert (stored_run(core, run_id).created, signal_count(core)) == (25, 25)
    assert len(set(created_records(core))) == len(created_records(core)) == 25


def test_settling_needs_the_current_lease(world: World, core: Core, clock: FakeClock) -> None:
    anna = world.professional("Anna Jansen")
    run_id = queue(source(world, anna.organisation_id), [item("p1", anna)])
    with core.transaction(write=True) as tx:
        first = tx.sync_runs.claim_next(tx.now, tx.now + LEASE)
        assert first is not None and tx.sync_runs.claim_next(tx.now, tx.now + LEASE) is None
        tx.commit()
    clock.advance(seconds=LEASE.total_seconds() + 1)
    with core.transaction(write=True) as tx:
        second = tx.sync_runs.claim_next(tx.now, tx.now + LEASE)
        assert second is not None and second.run.id == run_id
        outcome = BatchOutcome(first=0, last=0, count=1, errors={})
        assert not tx.sync_runs.settle_batch(run_id, first.claim_token, outcome, tx.now)
        assert tx.sync_runs.settle_batch(run_id, second.claim_token, outcome, tx.now)


def test_one_clients_runs_are_applied_one_at_a_time_in_order_others_meanwhile(
    world: World, core: Core
) -> None:
    anna = world.professional("Anna Jansen")
    school, other = source(world, anna.organisation_id), source(world, anna.organisation_id)
    first = queue(school, [item("a", anna, CHILD_BSN), item("b", anna, SIBLING_BSN)])
    second = queue(school, [item("a", anna, CHILD_BSN)])
    theirs = queue(other, [item("c", anna, "100000009")])

    with core.transaction(write=True) as tx:
        claimed = [tx.sync_runs.claim_next(tx.now, tx.now + LEASE) for _ in range(3)]
        tx.commit()
    # The school's second run waits for its first; the other client's does not.
    assert {c.run.id for c in claimed if c} == {first, theirs} and claimed[2] is None

    with core.transaction(write=True) as tx:  # release both, as if their workers stopped
        tx.uow.session.execute(update(SyncRunRow).values(lease_until=tx.now))
        tx.commit()
    order = [o.run_id for o in apply_due_runs(core)]

    assert sorted(order) == sorted(map(str, (first, second, theirs)))
    assert order.index(str(first)) < order.index(str(second))
    assert stored_run(core, second).closed == 1  # "b" was closed by the later run


def test_a_run_that_keeps_failing_is_given_up_with_a_reason_and_the_next_one_runs(
    world: World, core: Core, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    anna = world.professional("Anna Jansen")
    school = source(world, anna.organisation_id)
    broken = queue(school, [item("a", anna, CHILD_BSN)])
    after = queue(school, [item("a", anna, CHILD_BSN)])

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"something about {CHILD_BSN}")

    monkeypatch.setattr(sync_runs_service, "apply_batch", failing)
    statuses = []
    for _ in range(MAX_ATTEMPTS):
        outcome = apply_next_run(core)
        assert outcome is not None and outcome.run_id == str(broken)
        statuses.append(outcome.status)
        if outcome.status == "retry":
            assert apply_next_run(core) is None  # backing off; the next run waits its turn
        clock.advance(hours=1)
    assert statuses == ["retry"] * (MAX_ATTEMPTS - 1) + ["failed"]
    given_up = stored_run(core, broken)
    assert (given_up.status, given_up.failure, given_up.attempts) == (
        "failed",
        "RuntimeError",
        MAX_ATTEMPTS,
    )

    monkeypatch.setattr(sync_runs_service, "apply_batch", apply_batch)
    assert [o.status for o in apply_due_runs(core)] == ["done"]
    assert stored_run(core, after).created == 1
    school.refresh()
    body = school.run(f"/api/v1/sync/runs/{broken}")
    assert (body["status"], body["failure"]) == ("failed", "RuntimeError")


def test_maintenance_purges_runs_finished_over_30_days_ago(
    world: World, core: Core, clock: FakeClock
) -> None:
    anna = world.professional("Anna Jansen")
    school = source(world, anna.organisation_id)
    old = queue(school, [item("a", anna, CHILD_BSN), item("b", anna, "111222334")])
    apply_due_runs(core)
    clock.advance(days=29)
    school.refresh()  # the first token has long expired
    # A new item: a body of unchanged ones only would be done at once, with no items kept.
    recent = queue(school, [item("a", anna, CHILD_BSN), item("c", anna, SIBLING_BSN)])
    apply_due_runs(core)
    clock.advance(days=2)

    assert run_maintenance(core).sync_runs_purged == 1

    with core.transaction(write=False) as tx:
        runs = set(tx.uow.session.scalars(select(SyncRunRow.id)))
        items = set(tx.uow.session.scalars(select(SyncRunItemRow.run_id)))
    assert runs == items == {recent}
    assert old not in runs
    assert run_maintenance(core).sync_runs_purged == 0


def test_an_applied_item_keeps_no_sealed_reference_and_an_error_keeps_it_for_the_report(
    world: World, core: Core
) -> None:
    anna = world.professional("Anna Jansen")
    run_id = queue(
        source(world, anna.organisation_id),
        [item("ok", anna, CHILD_BSN), item("bad", anna, "111222334")],
    )
    apply_due_runs(core)

    with core.transaction(write=False) as tx:
        rows = tx.uow.session.execute(
            select(SyncRunItemRow.position, SyncRunItemRow.state, SyncRunItemRow.external_ref_enc)
            .where(SyncRunItemRow.run_id == run_id)
            .order_by(SyncRunItemRow.position)
        ).all()
    assert [(p, s, sealed is not None) for p, s, sealed in rows] == [
        (0, "applied", False),
        (1, "error", True),
    ]


@pytest.mark.postgres_only
def test_a_sync_run_racing_registrations_on_the_same_children_gives_one_match_each(
    world: World, core: Core
) -> None:
    anna = world.professional("Anna Jansen")
    carla = world.professional("Carla Zorg", organisation="Jeugdteam", sector="jeugdhulp")
    children = list(valid_bsns(60, start=300_000_000))
    queue(
        source(world, anna.organisation_id),
        [item(f"p{i}", anna, c) for i, c in enumerate(children)],
    )
    as_carla = world.actor(carla)

    def register(batch: Sequence[str]) -> Callable[[], None]:
        def call() -> None:
            for child in batch:
                register_signal(core, as_carla, new_signal(child, []))

        return call

    race(
        [
            lambda: apply_due_runs(core),
            register(children[0::3]),
            register(children[1::3]),
            register(children[2::3]),
        ]
    )

    client_matches = matches_of_type(core, MatchType.CLIENT)
    assert len(client_matches) == len(children)
    assert all(size == 2 for _, size in client_matches)
