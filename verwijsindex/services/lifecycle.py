"""The lifecycle of signals (contract section 6; Jeugdwet art. 7.1.4.5 and 7.1.4.6).

`run_maintenance` makes the stored data agree with the calendar: active signals past their
two years are archived (and leave their matches), archived ones past their five years are
deleted, and everything about a child who has turned 23 is deleted. It then sends the
reminders that are due (`services.reminders`). `report_death` deletes
everything about one child at once, by `erase_child`, which erasure on request uses too.

Sweeps work in small batches, one short transaction each (retried as a whole after a
deadlock), so that millions of signals never mean one long transaction or long-held locks.
A batch claims its rows with `FOR NO KEY UPDATE SKIP LOCKED`, so two runs at the same time
take different rows; it then takes the person locks that matching takes, for the whole
families of its signals at once, so a sweep and a new signal in the same family never
interleave. A row already handled by another run no longer meets the batch's condition,
which makes a run idempotent. (A professional closing one of the claimed signals at that
very instant can deadlock with the sweep; PostgreSQL detects it and one side is retried.)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

from verwijsindex import domain
from verwijsindex.audit import AuditEntry
from verwijsindex.db import with_retries
from verwijsindex.domain import Bsn, SignalStatus
from verwijsindex.matching import refresh_matches_around
from verwijsindex.models import SignalRow
from verwijsindex.repository import LifecycleRepository
from verwijsindex.services.archiving import archive
from verwijsindex.services.change_feed import purge_feed
from verwijsindex.services.core import Core
from verwijsindex.services.reminders import send_reminders
from verwijsindex.services.statistics import compact_statistics
from verwijsindex.services.sync_runs import purge_runs
from verwijsindex.services.unit_of_work import Transaction

BATCH_SIZE = 500
# Finished notifications stay visible (e.g. to a webhook subscriber) this long.
NOTIFICATIONS_KEPT = timedelta(days=30)

ACTIVE = SignalStatus.ACTIVE.value


@dataclass(slots=True)
class MaintenanceReport:
    """What one run changed; all zero when there was nothing to do."""

    archived: int = 0
    deleted_expired: int = 0  # archived for the full five years
    deleted_at_23: int = 0  # the child turned 23, whatever the signal's status
    children_forgotten: int = 0  # nothing left about them: pseudonym blanked in the audit log
    idempotency_keys_purged: int = 0  # stored responses past their 24 hours
    follow_up_reminders: int = 0  # participants reminded to follow up a match
    review_reminders: int = 0  # authors reminded of a passed postponement review date
    notifications_purged: int = 0  # delivered or failed notifications past their 30 days
    feed_events_purged: int = 0  # change-feed events past their 30 days
    sync_runs_purged: int = 0  # finished sync runs (and their items) past their 30 days
    statistics_rows_compacted: int = 0  # past months' counting rows folded into one per cell

    @property
    def deleted(self) -> int:
        return self.deleted_expired + self.deleted_at_23


Progress = Callable[[MaintenanceReport], None]


@dataclass(frozen=True, slots=True)
class _Done:
    signals: int
    children_forgotten: int = 0
    idempotency_keys_purged: int = 0


_Claim = Callable[[LifecycleRepository], list[SignalRow]]
_Handle = Callable[[Core, Transaction, list[SignalRow], dict[uuid.UUID, frozenset[str]]], _Done]


def latest_birth_date_turned_23(today: date) -> date:
    """The last birth date of someone who is 23 or older on `today`.

    One day past `today` minus 23 years can still qualify: born on 29 February, one turns
    23 on 28 February of a common year, the same day as those born on the 28th.
    """
    candidate = domain.add_years(today, -domain.MAX_AGE)
    following = candidate + timedelta(days=1)
    return following if domain.turns_23_on(following) <= today else candidate


def run_maintenance(
    core: Core, *, batch_size: int = BATCH_SIZE, progress: Progress | None = None
) -> MaintenanceReport:
    """Apply every lifecycle transition that is due now; returns what changed.

    The order matters. Children who turned 23 go first, so their signals are deleted
    outright rather than archived on the way. Archiving comes before deleting expired
    archived signals, so a signal whose archive period has also passed (maintenance did
    not run for years) is gone after one run, and a second run has nothing left to do.
    """
    now = core.now()
    last_birth_date = latest_birth_date_turned_23(domain.local_date(now))
    report = MaintenanceReport()

    def sweep(claim: _Claim, handle: _Handle) -> Iterable[_Done]:
        while True:
            done = with_retries(partial(_one_batch, core, claim, handle))
            if done is None:
                return
            report.children_forgotten += done.children_forgotten
            yield done

    for done in sweep(
        lambda signals: signals.signals_of_children_born_by(last_birth_date, batch_size), _delete
    ):
        report.deleted_at_23 += done.signals
        _tell(progress, report)
    for done in sweep(lambda signals: signals.active_signals_due(now, batch_size), _archive):
        report.archived += done.signals
        _tell(progress, report)
    for done in sweep(lambda signals: signals.archived_signals_due(now, batch_size), _delete):
        report.deleted_expired += done.signals
        _tell(progress, report)
    with core.transaction(write=True) as tx:
        report.idempotency_keys_purged = tx.records.purge_expired_idempotency_keys(now)
        report.notifications_purged = tx.outbox.purge_finished_notifications(
            now - NOTIFICATIONS_KEPT
        )
        report.feed_events_purged = purge_feed(tx, now)
        report.sync_runs_purged = purge_runs(tx, now)
        tx.commit()
    report.statistics_rows_compacted = compact_statistics(core)
    reminders = send_reminders(core, batch_size=batch_size)
    report.follow_up_reminders = reminders.follow_up
    report.review_reminders = reminders.review
    return report


def _tell(progress: Progress | None, report: MaintenanceReport) -> None:
    if progress is not None:
        progress(report)


def _one_batch(core: Core, claim: _Claim, handle: _Handle) -> _Done | None:
    """One transaction: claim a batch, lock its people, handle it. None when none was due."""
    with core.transaction(write=True) as tx:
        rows = claim(tx.lifecycle)
        if not rows:
            return None
        parents = tx.lifecycle.parents_of_signals(r.id for r in rows)
        _lock_families(tx, *_people(rows, parents))
        done = handle(core, tx, rows, parents)
        tx.commit()
        return done


def _lock_families(tx: Transaction, children: set[str], parents: set[str]) -> set[str]:
    """Lock these people and everyone in their families, in one statement; returns them.

    Matching locks a family person by person as it walks it, which is fine for one signal
    but lets two sweeps of overlapping families each hold a part the other waits for.
    Reading the families first and locking them all at once, in one order, means that the
    walk inside `refresh_matches_around` finds everyone already locked.
    """
    children, parents = set(children), set(parents)
    while True:
        around = tx.matches.surroundings(children, parents).active
        new_children = {s.child for s in around} - children
        new_parents = {p for s in around for p in s.parents} - parents
        if not new_children and not new_parents:
            break
        children |= new_children
        parents |= new_parents
    tx.matches.lock_persons(children | parents)
    return children | parents


def _people(
    rows: Iterable[SignalRow], parents: dict[uuid.UUID, frozenset[str]]
) -> tuple[set[str], set[str]]:
    """The children and the parents of these signals."""
    return {r.child_pseudonym for r in rows}, {p for r in rows for p in parents[r.id]}


def _archive(
    core: Core, tx: Transaction, rows: list[SignalRow], parents: dict[uuid.UUID, frozenset[str]]
) -> _Done:
    """Archive as of the end of the active period, by the rule closing follows too.

    One signal at a time: each refresh must see the others of the batch still active and
    still linked, or a match made only of this batch's signals would be left behind.
    """
    left = tx.signals.match_refs(r.id for r in rows)
    for row in rows:
        archive(tx, row, parents[row.id], row.active_until)
        tx.record(
            AuditEntry(
                "signal:expire",
                "signal",
                row.id,
                row.child_pseudonym,
                [m.id for m in left[row.id]],
            )
        )
    return _Done(len(rows))


def _delete(
    core: Core, tx: Transaction, rows: list[SignalRow], parents: dict[uuid.UUID, frozenset[str]]
) -> _Done:
    """Delete the rows with their pseudonyms and match links; forget children left with none."""
    left = _erase(tx, rows, parents)
    children = {r.child_pseudonym for r in rows}
    forgotten = children - tx.lifecycle.children_with_signals(children)
    for child in forgotten:
        tx.audit_log.forget_subject(tx.uow.session, child)
    for row in rows:
        subject = None if row.child_pseudonym in forgotten else row.child_pseudonym
        tx.record(
            AuditEntry("signal:delete", "signal", row.id, subject, [m.id for m in left[row.id]])
        )
    return _Done(len(rows), len(forgotten))


def _erase(
    tx: Transaction, rows: list[SignalRow], parents: dict[uuid.UUID, frozenset[str]]
) -> dict[uuid.UUID, list[domain.MatchRef]]:
    """Erase one at a time, refreshing the matches around each; returns the matches left.

    Erasing all first would leave a match made only of these signals without a signal to
    find it by. An archived signal is in no match, so it needs no refresh.
    """
    left = tx.signals.match_refs(r.id for r in rows)
    for row in rows:
        in_matches = row.status == ACTIVE or bool(left[row.id])
        tx.signals.erase_signal(row.id)
        if in_matches:
            refresh_matches_around(tx.matches, row.id, row.child_pseudonym, parents[row.id])
    return left


def report_death(core: Core, bsn: Bsn) -> int:
    """Delete everything about a deceased child at once; returns how many signals were deleted.

    The audit record names no subject: the child's pseudonym is blanked in every record,
    this one included, and only the ids of the deleted signals remain.
    """
    child = core.pseudonymiser.pseudonymise(bsn)

    def attempt() -> int:
        with core.transaction(write=True) as tx:
            rows, _ = erase_child(tx, child)
            tx.audit_log.forget_subject(tx.uow.session, child)
            tx.record(AuditEntry("child:report-death", related_ids=[r.id for r in rows]))
            tx.commit()
            return len(rows)

    return with_retries(attempt)


def erase_child(
    tx: Transaction, child: str
) -> tuple[list[SignalRow], dict[uuid.UUID, list[domain.MatchRef]]]:
    """Erase every signal on the child, active and archived, in the caller's transaction:
    the rows erased, and the matches each was in (each one refreshed: shrunk or dissolved).

    The one way to remove a child whole, shared by `report_death` and erasure on request
    (`services.erasure`), so both remove exactly alike. The people are locked first, as
    matching does, then the signals are read again under the locks, so a signal registered
    meanwhile is erased too. The caller writes the audit records and forgets the subject.
    """
    seen = tx.lifecycle.signals_on(child)
    _, seen_parents = _people(seen, tx.lifecycle.parents_of_signals(r.id for r in seen))
    locked = _lock_families(tx, {child}, seen_parents)
    rows = tx.lifecycle.signals_on(child, for_update=True)
    parents = tx.lifecycle.parents_of_signals(r.id for r in rows)
    tx.matches.lock_persons(_people(rows, parents)[1] - locked)
    return rows, _erase(tx, rows, parents)
