"""The one rule for archiving a signal, used by closing (DELETE /signals/{id}) and by
maintenance when the active period ends.

Archiving is the same act whoever does it: the signal stays stored for the archive period
(five years, never past the child's 23rd birthday), it is active no longer, it leaves every
match it was in, and its owner's organisation hears of it (`signal.archived`).
"""

from __future__ import annotations

from datetime import datetime

from verwijsindex import domain
from verwijsindex.domain import CloseReason, MatchRef, SignalStatus
from verwijsindex.events import SignalArchived
from verwijsindex.matching import refresh_matches_around
from verwijsindex.models import SignalRow
from verwijsindex.services.unit_of_work import Transaction


def archive(
    tx: Transaction,
    row: SignalRow,
    parents: frozenset[str],
    at: datetime,
    reason: CloseReason | None = None,
) -> list[MatchRef]:
    """Archive an active signal as of `at` and take it out of its matches; returns the
    matches it is in afterwards (none: an archived signal is in no match).

    Closing passes the moment of closing and why; maintenance passes the end of the active
    period, so a signal archived late by a delayed run keeps the dates the law gives it.
    """
    turns_23_at = domain.start_of_local_day(domain.turns_23_on(row.child_birth_date))
    row.status = SignalStatus.ARCHIVED.value
    row.archived_at = at
    row.active_until = min(row.active_until, at)
    row.archived_until = domain.archived_until(at, turns_23_at)
    if reason is not None:
        row.close_reason = reason.value
    tx.uow.session.flush()
    tx.emit(SignalArchived(row.id, row.professional_id))
    return refresh_matches_around(tx.matches, row.id, row.child_pseudonym, parents)
