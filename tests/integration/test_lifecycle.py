"""The lifecycle of signals (contract section 6) at each of its boundaries, on SQLite and
PostgreSQL: archived after two years, deleted after seven, everything gone on the 23rd
birthday or a reported death, and maintenance that is idempotent and safe to run twice at
once. The clock is moved, never waited for.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import (
    CHILD_BSN,
    OTHER_CHILD_BSN,
    PARENT_BSN,
    SIBLING_BSN,
    START,
    FakeClock,
    World,
)
from tests.integration.test_concurrency import race, valid_bsns
from verwijsindex import domain
from verwijsindex.domain import LOCAL_TIME, CloseReason, Informatieplicht, MatchType, NewSignal
from verwijsindex.models import (
    AuditEventRow,
    MatchRow,
    MatchSignalRow,
    SignalParentRow,
    SignalRow,
)
from verwijsindex.pseudonym import parse_bsn
from verwijsindex.services import Actor, Core
from verwijsindex.services.audit_log import verify_audit_log
from verwijsindex.services.lifecycle import (
    MaintenanceReport,
    latest_birth_date_turned_23,
    report_death,
    run_maintenance,
)
from verwijsindex.services.signals import close_signal, register_signal

BIRTH_DATE = date(2015, 3, 14)


# --- helpers ------------------------------------------------------------------------------


def bsn(raw: str) -> domain.Bsn:
    parsed = parse_bsn(raw)
    assert parsed is not None, "test BSNs must pass the elfproef"
    return parsed


def signal(
    core: Core, actor: Actor, child: str, *parents: str, birth_date: date = BIRTH_DATE
) -> uuid.UUID:
    created = register_signal(
        core,
        actor,
        NewSignal(
            child=bsn(child),
            birth_date=birth_date,
            parents=tuple(bsn(p) for p in parents),
            informatieplicht=Informatieplicht(child_informed=True, parents_informed=True),
        ),
    )
    return created.id


def pseudonym(core: Core, raw: str) -> str:
    return core.pseudonymiser.pseudonymise(bsn(raw))


def actors(world: World, *names: str) -> list[Actor]:
    return [world.actor(world.professional(f"{n} Test", f"Organisation {n}")) for n in names]


def signal_row(core: Core, signal_id: uuid.UUID) -> Any:
    with core.database.engine.connect() as connection:
        return connection.execute(select(SignalRow).where(SignalRow.id == signal_id)).first()


def status(core: Core, signal_id: uuid.UUID) -> str | None:
    row = signal_row(core, signal_id)
    return None if row is None else str(row.status)


def matches(core: Core) -> dict[uuid.UUID, tuple[str, frozenset[uuid.UUID]]]:
    """Every stored match: its type and the signals in it."""
    with core.database.engine.connect() as connection:
        heads = connection.execute(select(MatchRow.id, MatchRow.type)).all()
        links = connection.execute(select(MatchSignalRow.match_id, MatchSignalRow.signal_id)).all()
    members: dict[uuid.UUID, set[uuid.UUID]] = {match_id: set() for match_id, _ in heads}
    for match_id, signal_id in links:
        members[match_id].add(signal_id)
    return {i: (kind, frozenset(members[i])) for i, kind in heads}


def stored_pseudonyms(core: Core) -> set[str]:
    """Every pseudonym left in signals, signal_parents and matches."""
    with core.database.engine.connect() as connection:
        found = set(connection.scalars(select(SignalRow.child_pseudonym)))
        found |= set(connection.scalars(select(SignalParentRow.parent_pseudonym)))
        found |= {p for p in connection.scalars(select(MatchRow.child_pseudonym)) if p}
    return found


def audit_records(core: Core) -> list[Any]:
    with core.database.engine.connect() as connection:
        return list(connection.execute(select(AuditEventRow).order_by(AuditEventRow.seq)).all())


def audited_subjects(core: Core) -> set[str]:
    return {r.subject_pseudonym for r in audit_records(core) if r.subject_pseudonym}


def count(core: Core, table: Any) -> int:
    with core.database.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(table)) or 0)


def snapshot(core: Core) -> tuple[Any, ...]:
    """Everything maintenance may change, to compare two points in time."""
    with core.database.engine.connect() as connection:
        signals = sorted(
            (str(r.id), r.status, r.archived_at, r.archived_until)
            for r in connection.execute(select(SignalRow)).all()
        )
    return (
        signals,
        sorted((str(i), kind, sorted(map(str, s))) for i, (kind, s) in matches(core).items()),
        count(core, SignalParentRow),
        count(core, AuditEventRow),
        sorted(audited_subjects(core)),
    )


def at_local(day: date, hour: int = 12) -> datetime:
    """A moment on a Dutch calendar day (birthdays are Amsterdam dates)."""
    return datetime.combine(day, time(hour), tzinfo=LOCAL_TIME).astimezone(UTC)


TWO_YEARS = domain.add_years_dt(START, 2)
SEVEN_YEARS = domain.add_years_dt(START, 7)
DAY = timedelta(days=1)


# --- the rule for the 23rd birthday ---------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "last_birth_date"),
    [
        (date(2027, 2, 27), date(2004, 2, 27)),
        (date(2027, 2, 28), date(2004, 2, 29)),  # a leap-day child turns 23 on 28 February
        (date(2027, 3, 1), date(2004, 3, 1)),
        (date(2028, 2, 28), date(2005, 2, 28)),
        (date(2028, 2, 29), date(2005, 2, 28)),
        (date(2028, 3, 1), date(2005, 3, 1)),
    ],
)
def test_the_last_birth_date_of_a_23_year_old_agrees_with_turns_23_on(
    today: date, last_birth_date: date
) -> None:
    assert latest_birth_date_turned_23(today) == last_birth_date
    assert domain.turns_23_on(last_birth_date) <= today
    assert domain.turns_23_on(last_birth_date + DAY) > today


# --- two years: active, then archived -------------------------------------------------------


def test_a_signal_stays_active_and_in_its_match_until_two_years_have_passed(
    world: World, core: Core, clock: FakeClock
) -> None:
    anna, bert = actors(world, "Anna", "Bert")
    first = signal(core, anna, CHILD_BSN)
    second = signal(core, bert, CHILD_BSN)
    before = matches(core)
    assert [s for _, s in before.values()] == [{first, second}]

    clock.now = TWO_YEARS - DAY
    report = run_maintenance(core)

    # Nothing archived or deleted; only the two participants reminded to follow up.
    # Two signals counted in a month now past: their two statistics rows fold into one.
    # The match's creation, in each participant's change feed, is past its 30 days.
    assert report == MaintenanceReport(
        follow_up_reminders=2, statistics_rows_compacted=1, feed_events_purged=2
    )
    assert status(core, first) == status(core, second) == "active"
    assert matches(core) == before


def test_a_signal_a_day_past_two_years_is_archived_and_leaves_its_match(
    world: World, core: Core, clock: FakeClock
) -> None:
    anna, bert, carla = actors(world, "Anna", "Bert", "Carla")
    old = signal(core, anna, CHILD_BSN)
    clock.advance(days=30)
    newer = {signal(core, bert, CHILD_BSN), signal(core, carla, CHILD_BSN)}
    ((match_id, (_, members)),) = matches(core).items()
    assert members == {old, *newer}

    clock.now = TWO_YEARS + DAY
    report = run_maintenance(core)

    assert report.archived == 1 and report.deleted == 0
    row = signal_row(core, old)
    assert row.status == "archived"
    assert row.archived_at == row.active_until == TWO_YEARS
    assert row.archived_until == domain.add_years_dt(TWO_YEARS, 5)
    assert matches(core) == {match_id: ("client", frozenset(newer))}, "the match stays, smaller"
    expired = audit_records(core)[-1]
    assert expired.action.endswith(":signal:expire")
    assert expired.actor_id is None
    assert expired.object_id == old
    assert str(match_id) in expired.related_ids
    assert all(status(core, s) == "active" for s in newer)


def test_a_match_made_only_of_expired_signals_disappears_with_them(
    world: World, core: Core, clock: FakeClock
) -> None:
    anna, bert = actors(world, "Anna", "Bert")
    signal(core, anna, CHILD_BSN, PARENT_BSN)
    signal(core, bert, SIBLING_BSN, PARENT_BSN)
    signal(core, bert, CHILD_BSN)
    assert {kind for kind, _ in matches(core).values()} == {"client", "family"}

    clock.now = TWO_YEARS + DAY
    # A batch of one: every signal is archived in a transaction of its own.
    assert run_maintenance(core, batch_size=1).archived == 3

    assert matches(core) == {}
    assert count(core, MatchSignalRow) == 0


# --- seven years: archived, then gone --------------------------------------------------------


def test_an_archived_signal_is_deleted_after_five_years_with_every_pseudonym(
    world: World, core: Core, clock: FakeClock
) -> None:
    anna, bert = actors(world, "Anna", "Bert")
    ids = {
        signal(core, anna, CHILD_BSN, PARENT_BSN),
        signal(core, bert, SIBLING_BSN),
        signal(core, bert, CHILD_BSN, PARENT_BSN),
    }
    people = {pseudonym(core, b) for b in (CHILD_BSN, SIBLING_BSN, PARENT_BSN)}
    assert people <= stored_pseudonyms(core) | audited_subjects(core)

    clock.now = SEVEN_YEARS - DAY
    report = run_maintenance(core)
    assert report.archived == 3 and report.deleted == 0, "archived at two, kept until seven"
    assert {status(core, s) for s in ids} == {"archived"}

    clock.now = SEVEN_YEARS + DAY
    report = run_maintenance(core)

    assert report.deleted_expired == 3 and report.children_forgotten == 2
    assert {status(core, s) for s in ids} == {None}
    assert count(core, SignalRow) == count(core, SignalParentRow) == 0
    assert count(core, MatchRow) == count(core, MatchSignalRow) == 0
    assert not people & stored_pseudonyms(core)
    records = audit_records(core)
    assert all(r.subject_pseudonym is None for r in records), "audit records keep ids only"
    deleted = [r for r in records if r.action.endswith(":signal:delete")]
    assert sorted(r.object_id for r in deleted) == sorted(ids)
    assert all(r.actor_id is None for r in deleted)
    assert verify_audit_log(core).ok


def test_a_signal_closed_early_is_deleted_five_years_after_closing(
    world: World, core: Core, clock: FakeClock
) -> None:
    (anna,) = actors(world, "Anna")
    closed = signal(core, anna, CHILD_BSN)
    clock.advance(days=100)
    close_signal(core, anna, closed, CloseReason.RISK_GONE)
    five_years_on = domain.add_years_dt(clock.now, 5)

    clock.now = five_years_on - DAY
    # Only the closing's signal.archived, in the change feed, is past its 30 days.
    assert run_maintenance(core) == MaintenanceReport(feed_events_purged=1)
    assert status(core, closed) == "archived"

    clock.now = five_years_on + DAY
    assert run_maintenance(core).deleted_expired == 1
    assert status(core, closed) is None


def test_a_child_keeps_its_pseudonym_in_the_audit_log_while_another_signal_remains(
    world: World, core: Core, clock: FakeClock
) -> None:
    anna, bert = actors(world, "Anna", "Bert")
    signal(core, anna, CHILD_BSN)
    clock.now = domain.add_years_dt(START, 3)
    later = signal(core, bert, CHILD_BSN)
    child = pseudonym(core, CHILD_BSN)

    clock.now = SEVEN_YEARS + DAY
    report = run_maintenance(core)

    assert report.deleted_expired == 1 and report.children_forgotten == 0
    assert status(core, later) == "archived"
    assert child in audited_subjects(core)
    assert verify_audit_log(core).ok


# --- the 23rd birthday ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth_date", "birthday"),
    [
        (date(2004, 3, 10), date(2027, 3, 10)),
        (date(2004, 2, 29), date(2027, 2, 28)),  # leap-day child, common year
    ],
    ids=["ordinary", "leap-day"],
)
def test_everything_about_a_child_is_deleted_on_its_23rd_birthday_not_the_day_before(
    world: World, core: Core, clock: FakeClock, birth_date: date, birthday: date
) -> None:
    anna, bert = actors(world, "Anna", "Bert")
    active = signal(core, anna, CHILD_BSN, PARENT_BSN, birth_date=birth_date)
    archived = signal(core, bert, CHILD_BSN, birth_date=birth_date)
    close_signal(core, bert, archived, CloseReason.RISK_GONE)
    # Born a day after the leap day / the ordinary birthday: one day younger.
    younger = signal(core, bert, SIBLING_BSN, PARENT_BSN, birth_date=birth_date + DAY)
    child = pseudonym(core, CHILD_BSN)

    clock.now = at_local(birthday - DAY, hour=23)  # 23:00 in Amsterdam: still 22
    report = run_maintenance(core)
    assert report.deleted == 0
    assert status(core, active) == "active" and status(core, archived) == "archived"

    clock.now = at_local(birthday, hour=0) + timedelta(minutes=1)
    report = run_maintenance(core)

    assert report.deleted_at_23 == 2 and report.archived == 0, "deleted, not archived first"
    assert report.children_forgotten == 1
    assert status(core, active) is None and status(core, archived) is None
    assert child not in stored_pseudonyms(core) | audited_subjects(core)
    assert status(core, younger) == "active", "the sibling is still 22 today"
    assert verify_audit_log(core).ok

    clock.now = at_local(domain.turns_23_on(birth_date + DAY), hour=0) + timedelta(minutes=1)
    assert run_maintenance(core).deleted_at_23 == 1
    assert count(core, SignalRow) == 0 and count(core, MatchRow) == 0


# --- a reported death -----------------------------------------------------------------------


def test_a_reported_death_deletes_everything_about_the_child_and_nothing_of_siblings(
    world: World, core: Core, clock: FakeClock
) -> None:
    anna, bert, carla = actors(world, "Anna", "Bert", "Carla")
    own = {signal(core, anna, CHILD_BSN, PARENT_BSN), signal(core, bert, CHILD_BSN)}
    closed = signal(core, carla, CHILD_BSN)
    close_signal(core, carla, closed, CloseReason.RISK_GONE)
    siblings = {signal(core, carla, SIBLING_BSN, PARENT_BSN), signal(core, bert, SIBLING_BSN)}
    other = signal(core, anna, OTHER_CHILD_BSN)
    child = pseudonym(core, CHILD_BSN)
    assert child in audited_subjects(core)

    deleted = report_death(core, bsn(CHILD_BSN))

    assert deleted == 3
    assert all(status(core, s) is None for s in {*own, closed})
    assert all(status(core, s) == "active" for s in {*siblings, other})
    assert child not in stored_pseudonyms(core) | audited_subjects(core)
    assert pseudonym(core, PARENT_BSN) in stored_pseudonyms(core), "the sibling's parent stays"
    assert [(k, s) for k, s in matches(core).values()] == [("client", frozenset(siblings))]
    record = audit_records(core)[-1]
    assert record.action.endswith(":child:report-death")
    assert record.subject_pseudonym is None and record.actor_id is None
    assert set(record.related_ids.split()) == {str(s) for s in {*own, closed}}
    assert verify_audit_log(core).ok


def test_a_death_reported_for_a_child_without_signals_deletes_nothing(
    world: World, core: Core
) -> None:
    (anna,) = actors(world, "Anna")
    kept = signal(core, anna, SIBLING_BSN)

    assert report_death(core, bsn(CHILD_BSN)) == 0
    assert status(core, kept) == "active"
    assert audit_records(core)[-1].action.endswith(":child:report-death")


# --- idempotent and concurrent ------------------------------------------------------------


def test_maintenance_run_twice_changes_nothing_the_second_time(
    world: World, core: Core, clock: FakeClock
) -> None:
    anna, bert = actors(world, "Anna", "Bert")
    signal(core, anna, CHILD_BSN, PARENT_BSN)
    signal(core, bert, CHILD_BSN)
    signal(core, anna, OTHER_CHILD_BSN, birth_date=date(2004, 12, 1))
    clock.now = domain.add_years_dt(START, 3)
    signal(core, bert, SIBLING_BSN, PARENT_BSN)
    # Maintenance did not run for years: archiving and deleting fall due in one run.
    clock.now = domain.add_years_dt(START, 8)

    first = run_maintenance(core, batch_size=2)
    after_first = snapshot(core)
    second = run_maintenance(core, batch_size=2)

    assert first == MaintenanceReport(
        archived=3,
        deleted_expired=2,
        deleted_at_23=1,
        children_forgotten=2,
        statistics_rows_compacted=2,  # past months' counting rows, folded once
        feed_events_purged=4,  # the change feed's events of years ago (matches formed then)
    )
    assert second == MaintenanceReport()
    assert snapshot(core) == after_first
    assert verify_audit_log(core).ok


def test_maintenance_reports_progress_after_every_batch(
    world: World, core: Core, clock: FakeClock
) -> None:
    anna, bert = actors(world, "Anna", "Bert")
    for child in (CHILD_BSN, SIBLING_BSN, OTHER_CHILD_BSN):
        signal(core, anna, child)
        signal(core, bert, child)
    seen: list[int] = []

    clock.now = TWO_YEARS + DAY
    report = run_maintenance(core, batch_size=4, progress=lambda r: seen.append(r.archived))

    assert seen == [4, 6]
    assert report.archived == 6


@dataclass
class Crowd:
    """Children each signalled by four professionals: two at START, two a year later."""

    old: set[uuid.UUID]
    new: set[uuid.UUID]
    children: int
    one_family: bool


def crowd(world: World, core: Core, clock: FakeClock, *, one_family: bool) -> Crowd:
    people = actors(world, "Anna", "Bert", "Carla", "Dirk")
    children = 6
    numbers = valid_bsns(children + 1, 400_000_000)
    parents, kids = numbers[:1] if one_family else [], numbers[1:]
    old = {signal(core, a, kid, *parents) for kid in kids for a in people[:2]}
    clock.now = domain.add_years_dt(START, 1)
    new = {signal(core, a, kid, *parents) for kid in kids for a in people[2:]}
    return Crowd(old, new, children, one_family)


@pytest.mark.parametrize("one_family", [True, False], ids=["siblings", "unrelated"])
def test_two_maintenance_runs_at_once_handle_each_signal_exactly_once(
    world: World, core: Core, clock: FakeClock, one_family: bool
) -> None:
    people = crowd(world, core, clock, one_family=one_family)
    reports: list[MaintenanceReport] = []

    def maintain() -> None:
        reports.append(run_maintenance(core, batch_size=3))

    clock.now = TWO_YEARS + DAY
    race([maintain, maintain])

    assert sum(r.archived for r in reports) == len(people.old)
    assert all(status(core, s) == "archived" for s in people.old)
    assert all(status(core, s) == "active" for s in people.new)
    client = [s for kind, s in matches(core).values() if kind == MatchType.CLIENT.value]
    family = [s for kind, s in matches(core).values() if kind == MatchType.FAMILY.value]
    assert sorted(map(len, client)) == [2] * people.children
    assert family == ([frozenset(people.new)] if one_family else [])
    expired = [r.object_id for r in audit_records(core) if r.action.endswith("signal:expire")]
    assert sorted(expired) == sorted(people.old), "each signal archived exactly once"

    clock.now = SEVEN_YEARS + DAY
    reports.clear()
    race([maintain, maintain])

    assert sum(r.deleted_expired for r in reports) == len(people.old)
    assert sum(r.archived for r in reports) == len(people.new)
    assert sum(r.children_forgotten for r in reports) == 0
    assert all(status(core, s) is None for s in people.old)
    assert all(status(core, s) == "archived" for s in people.new)
    assert matches(core) == {}
    deleted = [r.object_id for r in audit_records(core) if r.action.endswith("signal:delete")]
    assert sorted(deleted) == sorted(people.old), "each signal deleted exactly once"
    assert run_maintenance(core) == MaintenanceReport()
    assert verify_audit_log(core).ok
