"""Matches as the API and the web show them (`tx.match_views`): who is in a match through
which active signals. A read model, apart from the store that matching writes through.

Every lookup is by an indexed key (match id, professional id), never a scan. What
GET /matches and GET /matches/{id} show (the match, its members, their professionals and
organisations, their follow-ups) is read in one statement (`match_details`,
`details_of_professional`): those are hot paths (issue 11.2).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session, aliased

from verwijsindex.domain import MatchType, Role
from verwijsindex.models import (
    FollowUpRow,
    MatchRow,
    MatchSignalRow,
    OrganisationRow,
    ProfessionalRow,
    SignalRow,
)
from verwijsindex.repository.coordination import holds_role

# Contract section 10: while a deactivated professional's signals wait to be moved, a match
# names a coordinator of their organisation (the longest-serving active one) as the contact.
# Read in the same statement as the participants (an outer join on a correlated subquery that
# only runs for deactivated participants), so GET /matches keeps its pinned statement count.
_Contact = aliased(ProfessionalRow, name="contact")
_OtherPerson = aliased(ProfessionalRow, name="coordinator")
_FIRST_COORDINATOR = (
    select(_OtherPerson.id)
    .where(
        _OtherPerson.organisation_id == ProfessionalRow.organisation_id,
        _OtherPerson.active.is_(True),
        holds_role(Role.COORDINATOR, _OtherPerson),
    )
    .order_by(_OtherPerson.created_at, _OtherPerson.id)
    .limit(1)
    .correlate(ProfessionalRow)
    .scalar_subquery()
)


@dataclass(frozen=True, slots=True)
class StoredMatch:
    """A match as read for display: who is in it through which active signals."""

    id: uuid.UUID
    type: MatchType
    created_at: datetime
    regisseur_id: uuid.UUID | None
    # (signal id, professional id, signal created_at) of every active signal in the match
    members: tuple[tuple[uuid.UUID, uuid.UUID, datetime], ...]

    def participants_since(self) -> list[tuple[uuid.UUID, datetime]]:
        """Each participating professional once, since their first signal in the match
        (in a family match one may follow several siblings), earliest first."""
        since: dict[uuid.UUID, datetime] = {}
        for _, professional_id, created_at in self.members:
            since[professional_id] = min(created_at, since.get(professional_id, created_at))
        return sorted(since.items(), key=lambda item: item[1])


def _member_order(member: tuple[uuid.UUID, uuid.UUID, datetime]) -> tuple[datetime, uuid.UUID]:
    signal_id, _, created_at = member
    return created_at, signal_id


# A match and one of its members per row: the first columns of every match read here.
_MATCH_AND_MEMBER = (
    MatchRow.id,
    MatchRow.type,
    MatchRow.created_at,
    MatchRow.regisseur_id,
    SignalRow.id,
    SignalRow.professional_id,
    SignalRow.created_at,
)


def _stored_matches(rows: Iterable[Sequence[Any]]) -> dict[uuid.UUID, StoredMatch]:
    """The matches in rows that start with `_MATCH_AND_MEMBER`, in the order first seen;
    members by signal date, then id, so every plan gives the same order."""
    heads: dict[uuid.UUID, tuple[str, datetime, uuid.UUID | None]] = {}
    members: dict[uuid.UUID, list[tuple[uuid.UUID, uuid.UUID, datetime]]] = defaultdict(list)
    for row in rows:
        match_id, kind, created_at, regisseur_id, signal_id, professional_id, since = row[:7]
        heads[match_id] = (kind, created_at, regisseur_id)
        members[match_id].append((signal_id, professional_id, since))
    return {
        i: StoredMatch(i, MatchType(k), c, r, tuple(sorted(members[i], key=_member_order)))
        for i, (k, c, r) in heads.items()
    }


@dataclass(frozen=True, slots=True)
class MatchDetails:
    """A match with what its display needs: its participants' stored rows (contact data
    still sealed: `PeopleRepository.opened` opens them) and when each followed it up."""

    match: StoredMatch
    people: dict[uuid.UUID, tuple[ProfessionalRow, OrganisationRow]]
    followed_up: dict[uuid.UUID, datetime]
    # Deactivated participant → the coordinator of their organisation to contact instead.
    contacts: dict[uuid.UUID, tuple[ProfessionalRow, OrganisationRow]] = field(default_factory=dict)


class MatchViews:
    def __init__(self, session: Session) -> None:
        self.session = session

    def details_of_professional(
        self, professional_id: uuid.UUID, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[MatchDetails]:
        """The matches the professional takes part in, newest first (keyset on created_at,
        id), as `match_details` gives them, in one statement: the page of ids is a subquery."""
        mine = (
            select(MatchSignalRow.match_id)
            .join(SignalRow, SignalRow.id == MatchSignalRow.signal_id)
            .where(SignalRow.professional_id == professional_id)
        )
        page = select(MatchRow.id).where(MatchRow.id.in_(mine))
        if after is not None:
            created_at, last_id = after
            page = page.where(
                (MatchRow.created_at < created_at)
                | ((MatchRow.created_at == created_at) & (MatchRow.id < last_id))
            )
        page = page.order_by(MatchRow.created_at.desc(), MatchRow.id.desc()).limit(limit)
        found = self._details(MatchRow.id.in_(page))
        return sorted(found, key=lambda d: (d.match.created_at, d.match.id), reverse=True)

    def match_details(self, match_ids: Iterable[uuid.UUID]) -> list[MatchDetails]:
        """These matches with their participants and follow-ups, in one statement."""
        wanted = list(set(match_ids))
        return self._details(MatchRow.id.in_(wanted)) if wanted else []

    def _details(self, which: ColumnElement[bool]) -> list[MatchDetails]:
        rows = self.session.execute(
            select(
                *_MATCH_AND_MEMBER,
                ProfessionalRow,
                OrganisationRow,
                FollowUpRow.followed_up_at,
                _Contact,
            )
            .join(MatchSignalRow, MatchSignalRow.match_id == MatchRow.id)
            .join(SignalRow, SignalRow.id == MatchSignalRow.signal_id)
            .join(ProfessionalRow, ProfessionalRow.id == SignalRow.professional_id)
            .join(OrganisationRow, OrganisationRow.id == ProfessionalRow.organisation_id)
            .outerjoin(
                FollowUpRow,
                and_(
                    FollowUpRow.match_id == MatchRow.id,
                    FollowUpRow.professional_id == SignalRow.professional_id,
                ),
            )
            .outerjoin(
                _Contact,
                and_(ProfessionalRow.active.is_(False), _Contact.id == _FIRST_COORDINATOR),
            )
            .where(which)
        ).all()
        people: dict[uuid.UUID, dict[uuid.UUID, tuple[ProfessionalRow, OrganisationRow]]] = (
            defaultdict(dict)
        )
        followed_up: dict[uuid.UUID, dict[uuid.UUID, datetime]] = defaultdict(dict)
        contacts: dict[uuid.UUID, dict[uuid.UUID, tuple[ProfessionalRow, OrganisationRow]]] = (
            defaultdict(dict)
        )
        for row in rows:
            match_id, professional_id = row[0], row[5]
            professional, organisation, followed_up_at, contact = row[7:]
            people[match_id][professional_id] = (professional, organisation)
            if followed_up_at is not None:
                followed_up[match_id][professional_id] = followed_up_at
            if contact is not None:
                contacts[match_id][professional_id] = (contact, organisation)
        return [
            MatchDetails(match, people[i], followed_up[i], contacts[i])
            for i, match in _stored_matches(rows).items()
        ]

    def stored_matches(self, match_ids: Iterable[uuid.UUID]) -> list[StoredMatch]:
        wanted = list(set(match_ids))
        if not wanted:
            return []
        rows = self.session.execute(
            select(*_MATCH_AND_MEMBER)
            .join(MatchSignalRow, MatchSignalRow.match_id == MatchRow.id)
            .join(SignalRow, SignalRow.id == MatchSignalRow.signal_id)
            .where(MatchRow.id.in_(wanted))
        ).all()
        return list(_stored_matches(rows).values())
