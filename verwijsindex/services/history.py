"""History of a signal (contract section 6): the earlier, archived signals on the same child.

When a new signal finds archived signals on its child, its author learns only that history
exists (`historyAvailable`); asking for it is a separate, audited step, and it answers once
(contract section 10, art. 7.1.4.6 lid 2: "uitsluitend en eenmalig"): the first answer that
lists something records `history_shown_at`, every later request is refused as gone. An
empty answer shows nothing and so does not count. What it shows is deliberately thin: which
organisation and sector signalled, and when. Never the professional's name or contact details
(they have left the case), never a justification.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from verwijsindex.audit import AuditEntry
from verwijsindex.domain import DomainError, NotFound, Role, Sector
from verwijsindex.services.core import Actor, Core
from verwijsindex.services.refusals import Refusal, records_refusals

ACTION = "signal:history"


class HistoryShown(DomainError):
    """The history was shown once already (the API answers 410 Gone)."""

    def __init__(self, shown_at: datetime) -> None:
        super().__init__(
            "The history of this signal was shown once already; it is not shown again."
        )
        self.shown_at = shown_at


@dataclass(frozen=True, slots=True)
class EarlierSignal:
    id: uuid.UUID  # for the audit record only; not shown to the requester
    organisation: str
    sector: Sector
    created_at: datetime
    archived_at: datetime
    # The other region that holds it (a mirrored signal, docs/federation.md point 6).
    region: str | None = None


@records_refusals
def signal_history(core: Core, actor: Actor, signal_id: uuid.UUID) -> list[EarlierSignal]:
    """The archived signals (any author) on the child of the actor's own signal, newest first,
    shown once.

    Only the signal's author may ask; anyone else's request answers like a missing signal and
    is recorded as denied. The list holds exactly the signals that make `historyAvailable`
    true. It is not paged: a child has a handful of archived signals at most. A non-empty
    answer records the moment it was shown, in the same transaction; a request after that
    raises `HistoryShown` and is recorded as denied. The row is locked first, so of two
    requests at the same instant exactly one gets the list.
    """
    actor.require(Role.PROFESSIONAL)
    with core.transaction(write=True, actor=actor) as tx:
        row = tx.signals.signal_row(signal_id, for_update=True)
        if row is None or row.professional_id != actor.id:
            raise Refusal(NotFound("No such signal."), AuditEntry(ACTION, "signal", signal_id))
        gone = AuditEntry(ACTION, "signal", signal_id, row.child_pseudonym)
        if row.history_shown_at is not None:
            raise Refusal(HistoryShown(row.history_shown_at), gone)
        earlier = [
            EarlierSignal(
                id=signal.id,
                organisation=organisation.name,
                sector=organisation.sector,
                created_at=signal.created_at,
                # Closing sets archived_at; archiving by expiry may leave it unset, and then
                # the signal stopped being active at active_until.
                archived_at=signal.archived_at or signal.active_until,
                region=organisation.region,
            )
            for signal, organisation in tx.lifecycle.archived_signals_on(
                row.child_pseudonym, excluding=row.id
            )
        ]
        if earlier and not tx.lifecycle.mark_history_shown(signal_id, tx.now):
            raise Refusal(HistoryShown(tx.now), gone)  # only if the lock did not hold
        tx.record(
            AuditEntry(ACTION, "signal", signal_id, row.child_pseudonym, [e.id for e in earlier])
        )
        tx.commit()
    return earlier


def history_shown_at(core: Core, actor: Actor, signal_id: uuid.UUID) -> datetime | None:
    """When the author was shown the history of their own signal, if ever (for the web page
    that says so instead of offering it again). A signal not theirs answers None."""
    actor.require(Role.PROFESSIONAL)
    with core.transaction(write=False, actor=actor) as tx:
        row = tx.signals.signal_row(signal_id)
        if row is None or row.professional_id != actor.id:
            return None
        return row.history_shown_at
