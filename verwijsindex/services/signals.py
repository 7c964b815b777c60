"""Use cases on signals: register, read, list, update informatieplicht, close or erase.

Each runs in one transaction, retried as a whole after a deadlock; matching happens inside
it, so an acknowledged signal has its matches committed with it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime

from verwijsindex import domain
from verwijsindex.audit import AuditEntry
from verwijsindex.db import with_retries
from verwijsindex.domain import (
    CloseReason,
    Informatieplicht,
    InvalidInput,
    NotFound,
    Postponement,
    Role,
    Signal,
    SignalStatus,
)
from verwijsindex.matching import refresh_matches_around
from verwijsindex.models import SignalRow
from verwijsindex.services.archiving import archive
from verwijsindex.services.core import Actor, Core
from verwijsindex.services.refusals import Refusal, records_refusals
from verwijsindex.services.registration import register_signal, set_postponement
from verwijsindex.services.unit_of_work import Transaction

__all__ = ["register_signal"]  # re-exported: registration lives in its own module

MAX_PAGE_SIZE = 100


def _own_row(tx: Transaction, actor: Actor, signal_id: uuid.UUID, action: str) -> SignalRow:
    """The actor's own signal; anyone else's answers exactly like a missing one."""
    row = tx.signals.signal_row(signal_id)
    if row is None or row.professional_id != actor.id:
        raise Refusal(NotFound("No such signal."), AuditEntry(action, "signal", signal_id))
    return row


def _view(tx: Transaction, actor: Actor, row: SignalRow) -> Signal:
    return tx.signals.to_signal(
        row,
        actor.professional,
        history_available=row.id in tx.signals.with_history([row]),
        matches=tx.signals.match_refs([row.id])[row.id],
        show_justification=True,
    )


@records_refusals
def get_signal(core: Core, actor: Actor, signal_id: uuid.UUID) -> Signal:
    actor.require(Role.PROFESSIONAL)
    with core.transaction(write=True, actor=actor) as tx:
        row = _own_row(tx, actor, signal_id, "signal:read")
        signal = _view(tx, actor, row)
        tx.record(AuditEntry("signal:read", "signal", signal_id, row.child_pseudonym))
        tx.commit()
    return signal


@dataclass(frozen=True, slots=True)
class SignalPage:
    items: list[Signal]
    last_key: tuple[datetime, uuid.UUID] | None  # set when there may be a next page


def list_signals(
    core: Core,
    actor: Actor,
    status: SignalStatus | None,
    after: tuple[datetime, uuid.UUID] | None,
    page_size: int,
) -> SignalPage:
    actor.require(Role.PROFESSIONAL)
    with core.transaction(write=True, actor=actor) as tx:
        rows = tx.signals.own_signal_rows(actor.id, status, after, page_size + 1)
        more = len(rows) > page_size
        rows = rows[:page_size]
        refs = tx.signals.match_refs(r.id for r in rows)
        history = tx.signals.with_history(rows)
        items = [
            tx.signals.to_signal(
                r,
                actor.professional,
                history_available=r.id in history,
                matches=refs[r.id],
                show_justification=True,
            )
            for r in rows
        ]
        last = (rows[-1].created_at, rows[-1].id) if more and rows else None
        tx.record(AuditEntry("signal:list", related_ids=[r.id for r in rows]))
        tx.commit()
    return SignalPage(items, last)


@dataclass(frozen=True, slots=True)
class SignalLabel:
    """What tells the author's cases apart: the child's birth date and their own reference."""

    birth_date: date
    own_reference: str | None


def own_signal_labels(
    core: Core, actor: Actor, signal_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, SignalLabel]:
    """The labels of the actor's own signals among `signal_ids` (their signals in a match).

    Another participant's signal is never in the answer, whatever ids are asked for: the
    match pages show each participant only their own child's birth date and reference.
    A separate read, so the match reads (API and web) keep their pinned statement counts.
    """
    actor.require(Role.PROFESSIONAL)
    with core.transaction(write=True, actor=actor) as tx:
        rows = tx.signals.own_rows_by_id(actor.id, signal_ids)
        labels = {
            r.id: SignalLabel(r.child_birth_date, tx.signals.open_own_reference(r)) for r in rows
        }
        if rows:
            tx.record(AuditEntry("signal:labels", related_ids=[r.id for r in rows]))
        tx.commit()
    return labels


SEARCH_LIMIT = 2000  # far above any one professional's signals (30-300 in practice)


def search_own_signals(
    core: Core,
    actor: Actor,
    status: SignalStatus | None,
    text: str | None = None,
    birth_date: date | None = None,
) -> list[Signal]:
    """The actor's own signals whose own reference contains `text` (case-insensitive)
    and/or whose child was born on `birth_date`, newest first.

    Own references are sealed per signal, so the database cannot search them: every own
    signal (of that status) is read and opened, then filtered here. That is fine because the
    list is per author: a professional has tens to a few hundred signals, not the index's
    millions; `SEARCH_LIMIT` bounds it anyway. The birth date could be filtered in SQL, but
    both filters on one small list keep one path.
    """
    actor.require(Role.PROFESSIONAL)
    wanted = (text or "").strip().casefold()
    with core.transaction(write=True, actor=actor) as tx:
        rows = tx.signals.own_signal_rows(actor.id, status, None, SEARCH_LIMIT)
        if birth_date is not None:
            rows = [r for r in rows if r.child_birth_date == birth_date]
        views = [
            tx.signals.to_signal(
                r, actor.professional, history_available=False, matches=(), show_justification=True
            )
            for r in rows
        ]
        found = [v for v in views if not wanted or wanted in (v.own_reference or "").casefold()]
        refs = tx.signals.match_refs(v.id for v in found)
        history = tx.signals.with_history(r for r in rows if r.id in refs)
        items = [
            replace(v, matches=tuple(refs[v.id]), history_available=v.id in history) for v in found
        ]
        tx.record(AuditEntry("signal:search", related_ids=[v.id for v in found]))
        tx.commit()
    return items


@dataclass(frozen=True, slots=True)
class InformatieplichtUpdate:
    """Fields left None are unchanged; `clear_postponement` removes a recorded one."""

    child_informed: bool | None = None
    parents_informed: bool | None = None
    postponement: Postponement | None = None
    clear_postponement: bool = False


@records_refusals
def update_informatieplicht(
    core: Core, actor: Actor, signal_id: uuid.UUID, update: InformatieplichtUpdate
) -> Signal:
    actor.require(Role.PROFESSIONAL)

    def attempt() -> Signal:
        with core.transaction(write=True, actor=actor) as tx:
            row = _own_row(tx, actor, signal_id, "signal:update")
            today = domain.local_date(tx.now)
            duty = Informatieplicht(
                child_informed=_pick(update.child_informed, row.child_informed),
                parents_informed=_pick(update.parents_informed, row.parents_informed),
                postponement=None
                if update.clear_postponement or update.postponement is None
                else update.postponement,
            )
            kept_postponement = (
                update.postponement is None
                and not update.clear_postponement
                and row.postponement_reason is not None
            )
            problems = domain.postponement_problems(duty.postponement, today)
            # The postponement the signal will have, sent or kept, must not contradict it.
            problems += domain.contradiction_problems(
                child_informed=duty.child_informed,
                parents_informed=duty.parents_informed,
                postponed=kept_postponement or duty.postponement is not None,
            )
            if not kept_postponement:
                problems += domain.informatieplicht_problems(
                    duty, domain.age_on(row.child_birth_date, today)
                )
            if problems:
                raise InvalidInput(problems)
            row.child_informed = duty.child_informed
            row.parents_informed = duty.parents_informed
            if not kept_postponement:
                set_postponement(tx, row, duty.postponement)
            # No longer as its sync left it: the next sync must not pass it by as unchanged,
            # but put the source's informatieplicht back (`services.sync_unchanged`).
            row.feed_fingerprint = None
            tx.uow.session.flush()
            signal = _view(tx, actor, row)
            tx.record(AuditEntry("signal:update", "signal", signal_id, row.child_pseudonym))
            tx.commit()
            return signal

    return with_retries(attempt)


@records_refusals
def update_own_reference(
    core: Core, actor: Actor, signal_id: uuid.UUID, reference: str | None
) -> Signal:
    """Set (or, with None, remove) the author's own reference on their signal.

    Only the author can: another's signal answers like a missing one. The reference is
    sealed per signal like the justification; the audit entry names the signal, never the
    reference itself.
    """
    actor.require(Role.PROFESSIONAL)
    reference = domain.own_reference(reference)
    problems = domain.own_reference_problems(reference)
    if problems:
        raise InvalidInput(problems)
    with core.transaction(write=True, actor=actor) as tx:
        row = _own_row(tx, actor, signal_id, "signal:update")
        row.own_reference_enc = (
            None if reference is None else tx.signals.seal_own_reference(row.id, reference)
        )
        tx.uow.session.flush()
        signal = _view(tx, actor, row)
        tx.record(AuditEntry("signal:update", "signal", signal_id, row.child_pseudonym))
        tx.commit()
    return signal


def _pick(new: bool | None, old: bool) -> bool:
    return old if new is None else new


@records_refusals
def close_signal(core: Core, actor: Actor, signal_id: uuid.UUID, reason: CloseReason) -> None:
    """Archive at once (the risk is gone), or erase for good when it was unjustified.

    Either way the signal leaves every match it was in, in the same transaction.
    """
    actor.require(Role.PROFESSIONAL)

    def attempt() -> None:
        action = "signal:erase" if reason is CloseReason.UNJUSTIFIED else "signal:close"
        with core.transaction(write=True, actor=actor) as tx:
            row = _own_row(tx, actor, signal_id, action)
            child = row.child_pseudonym
            parents = tx.signals.parents_of(signal_id)
            tx.matches.lock_persons([child, *parents])
            # Read again under the locks: maintenance may have archived or deleted it since.
            locked = tx.signals.signal_row(signal_id, for_update=True)
            if locked is None:
                raise Refusal(NotFound("No such signal."), AuditEntry(action, "signal", signal_id))
            row = locked
            child_for_audit: str | None = child
            if reason is CloseReason.UNJUSTIFIED:
                tx.signals.erase_signal(signal_id)
                if not tx.signals.any_signal_on(child):
                    # Nothing about the child is left: neither is its pseudonym in the log.
                    tx.audit_log.forget_subject(tx.uow.session, child)
                    child_for_audit = None
                after = refresh_matches_around(tx.matches, signal_id, child, parents)
            elif row.status == SignalStatus.ACTIVE.value:
                after = archive(tx, row, parents, tx.now, reason)
            else:
                return  # already archived: closing again changes nothing
            tx.record(
                AuditEntry(action, "signal", signal_id, child_for_audit, [m.id for m in after])
            )
            tx.commit()

    with_retries(attempt)
