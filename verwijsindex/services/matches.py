"""Use cases on matches: see the ones you take part in, designate a regisseur, step down."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from verwijsindex import domain
from verwijsindex.audit import AuditEntry
from verwijsindex.db import with_retries
from verwijsindex.domain import (
    Conflict,
    Forbidden,
    InvalidInput,
    Match,
    NotFound,
    Participant,
    Problem,
    Role,
)
from verwijsindex.events import RegisseurDesignated, RegisseurSteppedDown
from verwijsindex.repository.match_views import MatchDetails
from verwijsindex.services.core import Actor, Core
from verwijsindex.services.refusals import Refusal, records_refusals
from verwijsindex.services.unit_of_work import Transaction


@dataclass(frozen=True, slots=True)
class MatchPage:
    items: list[Match]
    last_key: tuple[datetime, uuid.UUID] | None


def _to_matches(tx: Transaction, actor: Actor, found: list[MatchDetails]) -> list[Match]:
    people = tx.people.opened(row for d in found for row in d.people.values())
    contacts = tx.people.opened(row for d in found for row in d.contacts.values())
    result = []
    for details in found:
        match = details.match
        participants = tuple(
            Participant(
                professional=people[pid],
                since=domain.local_date(moment),
                is_regisseur=pid == match.regisseur_id,
                followed_up_at=details.followed_up.get(pid),
                contact=(
                    contacts[details.contacts[pid][0].id] if pid in details.contacts else None
                ),
            )
            for pid, moment in match.participants_since()
        )
        result.append(
            Match(
                id=match.id,
                type=match.type,
                created_at=match.created_at,
                my_signal_ids=tuple(s for s, pid, _ in match.members if pid == actor.id),
                participants=participants,
                regisseur=next((p for p in participants if p.is_regisseur), None),
            )
        )
    return result


def _participating(tx: Transaction, actor: Actor, match_id: uuid.UUID, action: str) -> MatchDetails:
    """The match with everything shown of it, in one statement; 404 unless the actor takes
    part (the same as for a match that does not exist)."""
    found = tx.match_views.match_details([match_id])
    if not found or all(pid != actor.id for _, pid, _ in found[0].match.members):
        raise Refusal(NotFound("No such match."), AuditEntry(action, "match", match_id))
    return found[0]


def list_matches(
    core: Core, actor: Actor, after: tuple[datetime, uuid.UUID] | None, page_size: int
) -> MatchPage:
    actor.require(Role.PROFESSIONAL)
    with core.transaction(write=True, actor=actor) as tx:
        found = tx.match_views.details_of_professional(actor.id, after, page_size + 1)
        more = len(found) > page_size
        stored = [d.match for d in found[:page_size]]
        items = _to_matches(tx, actor, found[:page_size])
        tx.record(AuditEntry("match:list", related_ids=[m.id for m in stored]))
        tx.commit()
    last = (stored[-1].created_at, stored[-1].id) if more and stored else None
    return MatchPage(items, last)


@records_refusals
def get_match(core: Core, actor: Actor, match_id: uuid.UUID) -> Match:
    actor.require(Role.PROFESSIONAL)
    with core.transaction(write=True, actor=actor) as tx:
        match = _to_matches(tx, actor, [_participating(tx, actor, match_id, "match:read")])
        tx.record(AuditEntry("match:read", "match", match_id))
        tx.commit()
    return match[0]


def _refuse_remote_regisseur(details: MatchDetails, professional_id: uuid.UUID) -> None:
    """Designation stays within a region (docs/federation.md, point 7): each region holds
    its own match object and its regievoerders oversee only their own professionals, so a
    mirrored participant of another region cannot be this region's procesregisseur."""
    person = details.people.get(professional_id)
    region = person[1].region if person is not None else None
    if region is not None:
        entry = AuditEntry(
            "match:designate-regisseur", "match", details.match.id, None, [professional_id]
        )
        raise Refusal(
            Conflict(
                f"This professional works in another region ({region}): a procesregisseur is "
                "designated within one region. Agree by phone who coordinates; their region "
                "designates its own. / Deze professional werkt in een andere regio "
                f"({region}): een procesregisseur wordt binnen een regio aangewezen. Spreek "
                "telefonisch af wie de regie neemt."
            ),
            entry,
        )


@records_refusals
def designate_regisseur(
    core: Core, actor: Actor, match_id: uuid.UUID, professional_id: uuid.UUID
) -> Match:
    """Any participant may designate any participant (themselves included)."""
    actor.require(Role.PROFESSIONAL)

    def attempt() -> Match:
        with core.transaction(write=True, actor=actor) as tx:
            tx.matches.lock_match(match_id)
            details = _participating(tx, actor, match_id, "match:designate-regisseur")
            match = details.match
            if all(pid != professional_id for _, pid, _ in match.members):
                raise InvalidInput(
                    [
                        Problem(
                            "professionalId", "This professional does not take part in the match."
                        )
                    ]
                )
            _refuse_remote_regisseur(details, professional_id)
            if match.regisseur_id != professional_id:  # a repeated PUT announces nothing new
                tx.matches.set_regisseur(match_id, professional_id)
                tx.emit(RegisseurDesignated(match_id, professional_id))
            result = _to_matches(tx, actor, tx.match_views.match_details([match_id]))[0]
            tx.record(
                AuditEntry("match:designate-regisseur", "match", match_id, None, [professional_id])
            )
            tx.commit()
            return result

    return with_retries(attempt)


@records_refusals
def step_down(core: Core, actor: Actor, match_id: uuid.UUID) -> None:
    actor.require(Role.PROFESSIONAL)

    def attempt() -> None:
        with core.transaction(write=True, actor=actor) as tx:
            tx.matches.lock_match(match_id)
            match = _participating(tx, actor, match_id, "match:step-down").match
            if match.regisseur_id != actor.id:
                raise Refusal(
                    Forbidden("Only the regisseur can step down."),
                    AuditEntry("match:step-down", "match", match_id),
                )
            tx.matches.set_regisseur(match_id, None)
            tx.emit(RegisseurSteppedDown(match_id, actor.id))
            tx.record(AuditEntry("match:step-down", "match", match_id))
            tx.commit()

    with_retries(attempt)


@records_refusals
def set_follow_up(core: Core, actor: Actor, match_id: uuid.UUID, *, done: bool) -> Match:
    """Mark (or unmark) the match as followed up by the acting participant.

    Idempotent: marking again keeps the first moment. A participant who marked it gets
    no reminder; every participant sees who has and who has not followed up.
    """
    actor.require(Role.PROFESSIONAL)
    action = "match:follow-up" if done else "match:follow-up-undo"

    def attempt() -> Match:
        with core.transaction(write=True, actor=actor) as tx:
            already = _participating(tx, actor, match_id, action).followed_up.get(actor.id)
            if done != (already is not None):
                tx.follow_ups.set_followed_up(match_id, actor.id, tx.now if done else None)
            match = _to_matches(tx, actor, tx.match_views.match_details([match_id]))[0]
            tx.record(AuditEntry(action, "match", match_id))
            tx.commit()
            return match

    return with_retries(attempt)
