"""The unit of work: what runs before every commit is registered in one place, in order,
and archiving follows one rule whoever archives (issue 11.3)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from tests.conftest import FakeClock, World
from verwijsindex import domain
from verwijsindex.audit import AuditEntry
from verwijsindex.domain import CloseReason, Sector, SignalStatus
from verwijsindex.events import SignalArchived
from verwijsindex.services import Core
from verwijsindex.services.archiving import archive
from verwijsindex.services.change_feed import record_announcements
from verwijsindex.services.pipeline import (
    BEFORE_COMMIT,
    append_audit,
    forget_follow_ups_of_leavers,
    stage_federation,
    stage_outbox,
)
from verwijsindex.services.statistics import count_statistics
from verwijsindex.services.unit_of_work import Transaction


def test_the_steps_before_commit_run_in_this_registered_order(core: Core) -> None:
    assert (
        forget_follow_ups_of_leavers,
        count_statistics,
        stage_outbox,
        record_announcements,
        stage_federation,
        append_audit,
    ) == BEFORE_COMMIT
    assert core.before_commit == BEFORE_COMMIT


def test_commit_runs_the_registered_steps_in_order_inside_the_transaction(
    core: Core, clock: FakeClock
) -> None:
    ran: list[str] = []

    def first(tx: Transaction) -> None:
        ran.append("first")
        tx.people.add_organisation("Written before commit", Sector.ONDERWIJS, tx.now)

    def second(tx: Transaction) -> None:
        ran.append("second")

    wired = Core(core.settings, core.database, core.keys, clock, before_commit=(first, second))
    with wired.transaction(write=True) as tx:
        tx.commit()
    assert ran == ["first", "second"]
    with core.transaction(write=False) as tx:
        assert tx.people.organisation_named("Written before commit") is not None


def test_a_failing_step_before_commit_commits_nothing(core: Core, clock: FakeClock) -> None:
    def write(tx: Transaction) -> None:
        tx.people.add_organisation("Never committed", Sector.ONDERWIJS, tx.now)

    def fail(tx: Transaction) -> None:
        raise RuntimeError("a step failed")

    wired = Core(core.settings, core.database, core.keys, clock, before_commit=(write, fail))
    with pytest.raises(RuntimeError), wired.transaction(write=True) as tx:
        tx.commit()
    with core.transaction(write=False) as tx:
        assert tx.people.organisation_named("Never committed") is None


def test_the_outbox_and_audit_steps_take_what_the_use_case_left_once(
    core: Core, world: World
) -> None:
    """The registered steps, not `commit` itself, write the outbox rows and audit records."""
    api = world.professional("Anna Jansen")
    signal_id = uuid.UUID(api.signal()["id"])
    with core.transaction(write=True) as tx:
        tx.emit(SignalArchived(signal_id, api.professional_id))
        tx.record(AuditEntry("test:pipeline", "signal", signal_id))
        stage_outbox(tx)
        append_audit(tx)
        assert tx.events == [] and tx.entries == []
        tx.commit()  # the steps run again, with nothing left to stage or append
    with core.transaction(write=False) as tx:
        found = tx.records.audit_events(
            since=None, until=None, actor=None, object_id=signal_id, before_seq=None, limit=100
        )
        # (The action's source prefix, `internal:` or `cli:`, depends on what ran before.)
        assert [r.action.endswith(":test:pipeline") for r in found].count(True) == 1


def test_closing_and_expiry_archive_by_the_same_rule(
    core: Core, world: World, clock: FakeClock
) -> None:
    """Closing archives as of now, expiry as of the end of the active period; both keep
    the signal the archive period (capped at the 23rd birthday) and announce it."""
    api = world.professional("Anna Jansen")
    closed = uuid.UUID(api.signal()["id"])
    expiring = uuid.UUID(api.signal("123456782")["id"])
    clock.advance(minutes=10)
    assert api.delete(f"/api/v1/signals/{closed}").status_code == 204
    with core.transaction(write=True) as tx:
        row = tx.signals.signal_row(closed)
        assert row is not None
        closed_at = tx.now
        assert row.status == SignalStatus.ARCHIVED.value
        assert row.archived_at == row.active_until == closed_at
        assert row.close_reason == CloseReason.RISK_GONE.value
        turns_23 = domain.start_of_local_day(domain.turns_23_on(row.child_birth_date))
        assert row.archived_until == domain.archived_until(closed_at, turns_23)

        other = tx.signals.signal_row(expiring, for_update=True)
        assert other is not None
        end_of_active = other.active_until
        archive(tx, other, frozenset(), end_of_active)
        assert other.archived_at == other.active_until == end_of_active
        assert other.close_reason is None
        turns_23 = domain.start_of_local_day(domain.turns_23_on(other.child_birth_date))
        assert other.archived_until == domain.archived_until(end_of_active, turns_23)
        assert tx.events == [SignalArchived(expiring, api.professional_id)]
        assert end_of_active - closed_at > timedelta(days=365)
