"""The regievoerder's use cases (Jeugdwet 7.1.3.2): see the matches in their gemeenten with
who has and has not followed up, and record that contact was checked.

The municipality must make sure it is checked whether matched professionals contacted each
other; whoever does that may use the index for that purpose only. So these use cases show a
match's type, dates, participants with contact details, regisseur and follow-up, and nothing
of the signals behind it: no child, no informatieplicht, no history. Every read is audited.

Overdue means a participant has not followed up within 10 working days of joining (the same
moment `maintenance` reminds them, `services.reminders`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from verwijsindex import domain, gemeenten
from verwijsindex.audit import AuditEntry
from verwijsindex.db import with_retries
from verwijsindex.domain import Forbidden, InvalidInput, NotFound, Problem, Professional, Role
from verwijsindex.repository import FollowUpState
from verwijsindex.repository.match_views import MatchDetails
from verwijsindex.services.core import Actor, Core
from verwijsindex.services.refusals import Refusal, records_refusals
from verwijsindex.services.reminders import FOLLOW_UP_WORKING_DAYS
from verwijsindex.services.unit_of_work import Transaction
from verwijsindex.working_days import latest_start_due

__all__ = [
    "FOLLOW_UP_STATES",
    "FollowUpState",
    "MonitoredMatch",
    "MonitoredParticipant",
    "MonitoringPage",
    "check_contact",
    "get_monitored",
    "list_monitored",
    "overdue_before",
    "scope_of",
]

FOLLOW_UP_STATES: tuple[FollowUpState, ...] = ("overdue", "open", "done")


@dataclass(frozen=True, slots=True)
class MonitoredParticipant:
    professional: Professional
    since: datetime  # joined the match (their first signal's link to it)
    is_regisseur: bool
    followed_up_at: datetime | None
    overdue: bool  # not followed up within 10 working days of joining


@dataclass(frozen=True, slots=True)
class MonitoredMatch:
    id: uuid.UUID
    type: domain.MatchType
    created_at: datetime
    participants: tuple[MonitoredParticipant, ...]
    regisseur: MonitoredParticipant | None
    follow_up: FollowUpState
    gemeenten: tuple[str, ...]
    checked_at: datetime | None
    checked_by: Professional | None


@dataclass(frozen=True, slots=True)
class MonitoringPage:
    items: list[MonitoredMatch]
    last_key: tuple[datetime, uuid.UUID] | None
    scope: frozenset[str] | None  # the caller's gemeenten; None: the whole index


def overdue_before(now: datetime) -> datetime:
    """Whoever joined before this moment and has not followed up is overdue today."""
    today = domain.local_date(now)
    return domain.start_of_local_day(
        latest_start_due(today, FOLLOW_UP_WORKING_DAYS) + timedelta(days=1)
    )


def scope_of(tx: Transaction, actor: Actor) -> frozenset[str] | None:
    """The caller's gemeenten, or None for the whole index (none assigned)."""
    assigned = tx.regie.gemeenten_of(actor.id)
    return assigned or None


def _narrowed(scope: frozenset[str] | None, gemeente: str | None) -> frozenset[str] | None:
    """The caller's scope narrowed to one gemeente. A gemeente outside their scope is a 403:
    they know their own gemeenten, so an empty list would only hide a mistake."""
    if gemeente is None:
        return scope
    if scope is not None and gemeente not in scope:
        raise Forbidden("This gemeente is not one of yours.")
    return frozenset({gemeente})


def _monitored(tx: Transaction, found: list[MatchDetails], cut: datetime) -> list[MonitoredMatch]:
    ids = [d.match.id for d in found]
    joined = tx.regie.joined(ids)
    checks = tx.regie.checks(ids)
    places = tx.regie.gemeenten_of_matches(ids)
    people = tx.people.opened(row for d in found for row in d.people.values())
    checkers = tx.people.professionals(c.checked_by for c in checks.values())
    result = []
    for details in found:
        match = details.match
        participants = []
        for pid, first_signal in match.participants_since():
            since = joined.get((match.id, pid), first_signal)
            done_at = details.followed_up.get(pid)
            # Another region's participant (federation) is followed up by that region.
            remote = people[pid].organisation.is_remote
            participants.append(
                MonitoredParticipant(
                    professional=people[pid],
                    since=since,
                    is_regisseur=pid == match.regisseur_id,
                    followed_up_at=done_at,
                    overdue=done_at is None and since < cut and not remote,
                )
            )
        local = [p for p in participants if not p.professional.organisation.is_remote]
        state: FollowUpState = (
            "overdue"
            if any(p.overdue for p in local)
            else "open"
            if any(p.followed_up_at is None for p in local)
            else "done"
        )
        check = checks.get(match.id)
        result.append(
            MonitoredMatch(
                id=match.id,
                type=match.type,
                created_at=match.created_at,
                participants=tuple(participants),
                regisseur=next((p for p in participants if p.is_regisseur), None),
                follow_up=state,
                gemeenten=tuple(sorted(places.get(match.id, ()))),
                checked_at=check.checked_at if check else None,
                checked_by=checkers.get(check.checked_by) if check else None,
            )
        )
    return result


def list_monitored(
    core: Core,
    actor: Actor,
    *,
    follow_up: FollowUpState | None,
    gemeente: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    page_size: int,
) -> MonitoringPage:
    """The matches in the caller's gemeenten (or all), newest first, audited as one read."""
    actor.require(Role.REGIEVOERDER)
    if gemeente is not None and gemeente not in gemeenten.current():
        raise InvalidInput([Problem("gemeente", domain.UNKNOWN_GEMEENTE)])
    with core.transaction(write=True, actor=actor) as tx:
        scope = scope_of(tx, actor)
        wanted = _narrowed(scope, gemeente)
        cut = overdue_before(tx.now)
        ids = tx.regie.match_ids_in_scope(wanted, follow_up, cut, after, page_size + 1)
        more = len(ids) > page_size
        ids = ids[:page_size]
        found = {d.match.id: d for d in tx.match_views.match_details(ids)}
        items = _monitored(tx, [found[i] for i in ids if i in found], cut)
        tx.record(AuditEntry("monitoring:list", related_ids=[m.id for m in items]))
        tx.commit()
    last = (items[-1].created_at, items[-1].id) if more and items else None
    return MonitoringPage(items, last, scope)


def _in_scope(tx: Transaction, actor: Actor, match_id: uuid.UUID, action: str) -> None:
    """404 for a match outside the caller's gemeenten, as for one that does not exist."""
    if not tx.regie.match_in_scope(match_id, scope_of(tx, actor)):
        raise Refusal(NotFound("No such match."), AuditEntry(action, "match", match_id))


@records_refusals
def get_monitored(core: Core, actor: Actor, match_id: uuid.UUID) -> MonitoredMatch:
    actor.require(Role.REGIEVOERDER)
    with core.transaction(write=True, actor=actor) as tx:
        _in_scope(tx, actor, match_id, "monitoring:read")
        found = _monitored(tx, tx.match_views.match_details([match_id]), overdue_before(tx.now))
        tx.record(AuditEntry("monitoring:read", "match", match_id))
        tx.commit()
    return found[0]


@records_refusals
def check_contact(core: Core, actor: Actor, match_id: uuid.UUID) -> MonitoredMatch:
    """Record that contact in the match was checked (idempotent: the first check stands)."""
    actor.require(Role.REGIEVOERDER)

    def attempt() -> MonitoredMatch:
        with core.transaction(write=True, actor=actor) as tx:
            _in_scope(tx, actor, match_id, "monitoring:check")
            tx.regie.check(match_id, actor.id, tx.now)
            found = _monitored(tx, tx.match_views.match_details([match_id]), overdue_before(tx.now))
            tx.record(AuditEntry("monitoring:check", "match", match_id))
            tx.commit()
            return found[0]

    return with_retries(attempt)
