"""Moving a signal to a colleague (contract section 10, Jeugdwet 7.1.3.3): its author may,
and so may a coordinator of its organisation, typically when the author leaves.

The signal keeps its id, dates and informatieplicht; only who holds it changes. Matching
runs again around it under the usual person locks, because a match is about *different*
professionals: a family match whose two signals now share one professional dissolves, as
it would have if that professional had registered both. A regisseur who no longer takes part
in a match passes the role to the colleague. The colleague is told of each match as of a new
one; every organisation involved hears `match.changed`.

Refusals: unknown signal, or one the caller may not move: 404; a system token acting as
coordinator: 403; an archived signal: 409; a colleague who is unknown, of another
organisation, deactivated or without the professional role: 400; a colleague who already has
an active signal on the same child: 409. Moving a signal to whoever holds it already changes
nothing and answers as if it had (idempotent).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from verwijsindex.audit import AuditEntry
from verwijsindex.db import with_retries
from verwijsindex.domain import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Problem,
    Professional,
    Role,
    SignalStatus,
)
from verwijsindex.events import SignalTransferred
from verwijsindex.matching import refresh_matches_around
from verwijsindex.models import SignalRow
from verwijsindex.repository import OrganisationSignal
from verwijsindex.services.coordination import is_coordinator_of, require_coordinator_of
from verwijsindex.services.core import Actor, Core
from verwijsindex.services.refusals import Refusal, records_refusals
from verwijsindex.services.unit_of_work import Transaction

ACTION = "signal:transfer"
NOT_A_COLLEAGUE = "No professional of the signal's organisation has this id."
DEACTIVATED = "This professional is deactivated."
NOT_A_PROFESSIONAL = "This person does not have the role professional."


@dataclass(frozen=True, slots=True)
class Transferred:
    signal: OrganisationSignal
    professional: Professional


def _movable_row(
    tx: Transaction, actor: Actor, signal_id: uuid.UUID
) -> tuple[SignalRow, uuid.UUID]:
    """The signal and its organisation, if the actor is its author or its organisation's
    coordinator; anything else answers like a missing signal (or 403 for a system token
    that would need the coordinator role)."""
    entry = AuditEntry(ACTION, "signal", signal_id)
    if not (
        actor.professional.has_role(Role.PROFESSIONAL)
        or actor.professional.has_role(Role.COORDINATOR)
        or Role.COORDINATOR in actor.withheld
    ):
        # Neither an author nor a coordinator by role: refused before anything is looked up.
        raise Refusal(
            Forbidden(
                f"This requires the role {Role.PROFESSIONAL.value} or {Role.COORDINATOR.value}."
            ),
            entry,
        )
    row = tx.signals.signal_row(signal_id)
    # Not `tx.signal_owners`: that caches for the notifications, which must see the new owner.
    owner = tx.signals.owners([signal_id]).get(signal_id) if row is not None else None
    if row is None or owner is None:
        raise Refusal(NotFound("No such signal."), entry)
    if row.professional_id == actor.id and actor.professional.has_role(Role.PROFESSIONAL):
        return row, owner.organisation_id
    if Role.COORDINATOR in actor.withheld:
        try:
            actor.require(Role.COORDINATOR)
        except Forbidden as refused:
            raise Refusal(refused, entry) from None
    if not is_coordinator_of(actor, owner.organisation_id):
        raise Refusal(NotFound("No such signal."), entry)
    return row, owner.organisation_id


def _colleague(tx: Transaction, organisation_id: uuid.UUID, to_id: uuid.UUID) -> Professional:
    colleague = tx.people.professional(to_id)
    problem = None
    if colleague is None or colleague.organisation.id != organisation_id:
        problem = NOT_A_COLLEAGUE  # the same for both: ids of others cannot be probed
    elif not colleague.active:
        problem = DEACTIVATED
    elif not colleague.has_role(Role.PROFESSIONAL):
        problem = NOT_A_PROFESSIONAL
    if problem is not None:
        raise InvalidInput([Problem("professionalId", problem)], problem)
    assert colleague is not None
    return colleague


def _view(tx: Transaction, row: SignalRow) -> OrganisationSignal:
    return OrganisationSignal(
        row.id,
        row.professional_id,
        SignalStatus(row.status),
        row.created_at,
        row.active_until,
        row.archived_at,
        row.gemeente,
        len(tx.signals.match_refs([row.id])[row.id]),
    )


@records_refusals
def transfer_signal(
    core: Core, actor: Actor, signal_id: uuid.UUID, to_id: uuid.UUID
) -> Transferred:
    def attempt() -> Transferred:
        with core.transaction(write=True, actor=actor) as tx:
            row, organisation_id = _movable_row(tx, actor, signal_id)
            if row.status != SignalStatus.ACTIVE.value:
                raise Conflict("Only an active signal can be moved; this one is archived.")
            colleague = _colleague(tx, organisation_id, to_id)
            old = row.professional_id
            if old == to_id:
                unchanged = Transferred(_view(tx, row), colleague)
                tx.record(AuditEntry(ACTION, "signal", signal_id, None, [to_id]))
                tx.commit()
                return unchanged
            child = row.child_pseudonym
            parents = tx.signals.parents_of(signal_id)
            tx.matches.lock_persons([child, *parents])
            locked = tx.signals.signal_row(signal_id, for_update=True)
            if locked is None or locked.status != SignalStatus.ACTIVE.value:
                raise Conflict("Only an active signal can be moved; this one is archived.")
            if tx.coordination.has_active_signal_on(to_id, child):
                raise Conflict(
                    "This colleague already has an active signal on the same young person."
                )
            # Matching clears a regisseur who left a match: note first where the author is it.
            led = {
                m.id
                for m in tx.match_views.stored_matches(
                    r.id for r in tx.signals.match_refs([signal_id])[signal_id]
                )
                if m.regisseur_id == old
            }
            tx.coordination.move_signal(signal_id, to_id)
            after = refresh_matches_around(tx.matches, signal_id, child, parents)
            match_ids = tuple(m.id for m in after)
            for match in tx.match_views.stored_matches(led & set(match_ids)):
                if match.regisseur_id is None:  # the author left it: the colleague takes over
                    tx.matches.set_regisseur(match.id, to_id)
            tx.emit(SignalTransferred(signal_id, old, to_id, match_ids))
            tx.uow.session.refresh(locked)
            moved = Transferred(_view(tx, locked), colleague)
            tx.record(AuditEntry(ACTION, "signal", signal_id, child, [old, to_id, *match_ids]))
            tx.commit()
            return moved

    return with_retries(attempt)


@dataclass(frozen=True, slots=True)
class BulkTransfer:
    moved: int
    # Signals the colleague could not take (they already have one on that child, or the
    # signal was archived meanwhile): left with the coordinator's task.
    refused: int


@records_refusals
def transfer_all(core: Core, actor: Actor, from_id: uuid.UUID, to_id: uuid.UUID) -> BulkTransfer:
    """The coordinator's task: every active signal of `from_id` to `to_id`, each in a
    transaction of its own (and audited as its own transfer), so one refusal does not
    hold back the others. A colleague who cannot take signals at all (400) stops it before
    anything moved."""
    entry = AuditEntry(ACTION, "professional", from_id)
    # The role first, so that someone without it learns nothing about the id.
    require_coordinator_of(actor, actor.professional.organisation.id, entry)
    with core.transaction(write=False, actor=actor) as tx:
        person = tx.people.professional(from_id)
        mine = person is not None and person.organisation.id == actor.professional.organisation.id
        signal_ids = tx.coordination.active_signal_ids(from_id) if mine else []
    if not mine:
        raise Refusal(NotFound("No such professional."), entry)
    moved = refused = 0
    for signal_id in signal_ids:
        try:
            transfer_signal(core, actor, signal_id, to_id)
            moved += 1
        except (Conflict, NotFound):
            refused += 1
    return BulkTransfer(moved, refused)
