"""Registering a signal: validation, pseudonymisation, matching, audit, in one transaction.

`register_signal_once` adds the contract's `Idempotency-Key`: a retry with the same key and
body gets the original response, replayed from an encrypted copy; the same key with another
body is refused. The key is looked up after the person locks are taken, so a retry racing
its original waits for it and then replays it instead of answering 409. The key itself is
stored only as a keyed digest: integrators often derive it from a BSN or pupil number.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from verwijsindex import domain, gemeenten
from verwijsindex.audit import AuditEntry
from verwijsindex.db import with_retries
from verwijsindex.domain import (
    DuplicateSignal,
    InvalidInput,
    MatchRef,
    NewSignal,
    Postponement,
    Problem,
    Role,
    Signal,
    SignalStatus,
)
from verwijsindex.events import SignalMoved, SignalRegistered
from verwijsindex.matching import SignalFacts, family_of, refresh_matches_around
from verwijsindex.models import SignalRow
from verwijsindex.repository import SignalOwner, StoredResponse
from verwijsindex.services.core import Actor, Core
from verwijsindex.services.refusals import records_refusals
from verwijsindex.services.unit_of_work import Transaction

IDEMPOTENCY_WINDOW = timedelta(hours=24)
CREATED = 201


@dataclass(frozen=True, slots=True)
class Once:
    """An idempotency key, the keyed fingerprint of the request body, and how the API
    renders a response (so the original bytes can be stored and replayed)."""

    key: str
    fingerprint: str
    render: Callable[[Signal], str]


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: str
    replayed: bool


def register_signal(core: Core, actor: Actor, request: NewSignal) -> Signal:
    signal = _register(core, actor, request, None)
    assert isinstance(signal, Signal)
    return signal


def register_signal_once(core: Core, actor: Actor, request: NewSignal, once: Once) -> Answer:
    answer = _register(core, actor, request, once)
    assert isinstance(answer, Answer)
    return answer


def _key_reused() -> InvalidInput:
    return InvalidInput(
        [Problem("Idempotency-Key", "This key was already used for a different request.")]
    )


@records_refusals
def _register(core: Core, actor: Actor, request: NewSignal, once: Once | None) -> Signal | Answer:
    actor.require(Role.PROFESSIONAL)
    now = core.now()
    problems = domain.new_signal_problems(
        child=request.child,
        birth_date=request.birth_date,
        parents=request.parents,
        informatieplicht=request.informatieplicht,
        today=domain.local_date(now),
        gemeente=request.gemeente,
        known_gemeenten=gemeenten.current(),
    )
    problems += domain.own_reference_problems(request.own_reference)
    if problems:
        raise InvalidInput(problems)
    # The organisation's default comes with the cached actor: no statement to look it up.
    gemeente = request.gemeente or actor.professional.organisation.default_gemeente
    child = core.pseudonymiser.pseudonymise(request.child)
    parent_pairs = [(core.pseudonymiser.pseudonymise(p), p) for p in request.parents]
    parents = frozenset(pseudonym for pseudonym, _ in parent_pairs)
    # Federation: blinded here, while the BSNs are at hand; stored in the transaction.
    staged = core.federation_blinds([(child, request.child), *parent_pairs])
    turns_23_at = domain.start_of_local_day(domain.turns_23_on(request.birth_date))
    stored_key = core.pseudonymiser.idempotency_key(once.key) if once is not None else ""

    def attempt() -> Signal | Answer:
        with core.transaction(write=True, actor=actor) as tx:
            tx.matches.lock_persons([child, *parents])
            tx.staged_pseudonyms.extend(staged)
            if once is not None:
                earlier = tx.records.idempotent_response(actor.id, stored_key, tx.now)
                if earlier is not None:
                    if not hmac.compare_digest(earlier.fingerprint, once.fingerprint):
                        raise _key_reused()
                    tx.record(AuditEntry("signal:create-replayed", "signal", earlier.signal_id))
                    tx.commit()
                    return Answer(earlier.status, earlier.body, replayed=True)
            around = tx.matches.surroundings([child], parents)
            for earlier_signal in around.active:
                if earlier_signal.child == child and earlier_signal.professional_id == actor.id:
                    raise DuplicateSignal(earlier_signal.id)
            family = family_of(tx.matches, child, parents, first=around)
            signal_id = uuid.uuid4()
            duty = request.informatieplicht
            first_day_archived = domain.active_until(tx.now, turns_23_at)
            row = SignalRow(
                id=signal_id,
                professional_id=actor.id,
                child_pseudonym=child,
                status=SignalStatus.ACTIVE.value,
                created_at=tx.now,
                active_until=first_day_archived,
                archived_at=None,
                archived_until=domain.archived_until(first_day_archived, turns_23_at),
                child_birth_date=request.birth_date,
                child_informed=duty.child_informed,
                parents_informed=duty.parents_informed,
                gemeente=gemeente,
            )
            set_postponement(tx, row, duty.postponement)
            if request.own_reference is not None:
                # Sealed into the same INSERT: no statement more on the hot path.
                row.own_reference_enc = tx.signals.seal_own_reference(
                    signal_id, request.own_reference
                )
            try:
                tx.signals.add_signal(row, sorted(parents))
            except IntegrityError:
                # The partial unique index is the backstop for the check above.
                raise DuplicateSignal(None) from None
            tx.emit(SignalRegistered(signal_id, actor.id, gemeente))
            # Known here: counting and notifying at commit need not look it up.
            organisation = actor.professional.organisation
            tx.owners[signal_id] = SignalOwner(
                actor.id, organisation.id, organisation.sector.value, gemeente
            )
            joined = SignalFacts(signal_id, actor.id, child, parents, tx.now)
            matches = refresh_matches_around(
                tx.matches, signal_id, child, parents, family=[*family, joined]
            )
            # The other signals' owners came with the surroundings: same reason.
            tx.owners.update(tx.matches.owners_seen())
            note_move(tx, signal_id, gemeente, child, around.active, matches)
            signal = tx.signals.to_signal(
                row,
                actor.professional,
                history_available=child in around.children_with_history,
                matches=matches,
                show_justification=True,
            )
            tx.record(
                AuditEntry("signal:create", "signal", signal_id, child, [m.id for m in matches])
            )
            result: Signal | Answer = signal
            if once is not None:
                result = Answer(CREATED, once.render(signal), replayed=False)
                stored = StoredResponse(once.fingerprint, CREATED, result.body, signal_id)
                try:
                    tx.records.store_idempotent_response(
                        actor.id, stored_key, stored, tx.now, tx.now + IDEMPOTENCY_WINDOW
                    )
                except IntegrityError:
                    # The same key, at the same moment, for another child: not a retry.
                    raise _key_reused() from None
            tx.commit()
            return result

    try:
        return with_retries(attempt)
    except DuplicateSignal as duplicate:
        if duplicate.existing_signal_id is not None:
            raise
        # A concurrent registration won the race: its row is committed now, so name it
        # (off the hot path: only a refused request pays for this statement).
        with core.transaction(write=False) as tx:
            raise DuplicateSignal(tx.signals.active_signal_of(actor.id, child)) from None


def note_move(
    tx: Transaction,
    signal_id: uuid.UUID,
    gemeente: str | None,
    child: str,
    active: Iterable[SignalFacts],
    matches: Iterable[MatchRef],
) -> None:
    """Jeugdwet 7.1.2.3 g: a new signal naming another gemeente than the child's other
    active signals tells the new gemeente's regievoerders (staged with the notifications),
    and the audit log says so. The other signals' gemeenten came with the surroundings,
    so this costs no statement; a signal without a gemeente is no move. The bulk engine
    calls it for each signal a batch creates, with the families it walked."""
    if gemeente is None:
        return
    earlier = {
        owner.gemeente
        for facts in active
        if facts.child == child
        and (owner := tx.owners.get(facts.id)) is not None
        and owner.gemeente is not None
    }
    if not earlier or gemeente in earlier:
        return
    match_ids = tuple(m.id for m in matches)
    tx.emit(SignalMoved(signal_id, gemeente, match_ids))
    tx.record(AuditEntry("signal:move-notified", "signal", signal_id, None, match_ids))


def set_postponement(tx: Transaction, row: SignalRow, postponement: Postponement | None) -> None:
    if postponement is None:
        row.postponement_reason = None
        row.postponement_justification_enc = None
        row.review_on = None
    else:
        row.postponement_reason = postponement.reason.value
        row.postponement_justification_enc = tx.signals.seal_justification(
            row.id, postponement.justification
        )
        row.review_on = postponement.review_on
