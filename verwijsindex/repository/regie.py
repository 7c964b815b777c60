"""What the regievoerder works with (`tx.regie`): their gemeenten, the matches in their
scope with the follow-up state of each, and the record that contact was checked.

A match is in a regievoerder's scope when any of its signals carries one of their
gemeenten, or always when they have none assigned (the whole index). Follow-up is per
participation: a professional in a match since their first signal's link to it, followed
up or not (`match_follow_ups`).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, delete, exists, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from verwijsindex.domain import Role
from verwijsindex.models import (
    FollowUpRow,
    MatchCheckRow,
    MatchRow,
    MatchSignalRow,
    OrganisationRow,
    ProfessionalGemeenteRow,
    ProfessionalRow,
    SignalRow,
)
from verwijsindex.repository.base import RepositoryBase
from verwijsindex.repository.federated import local_signal

FollowUpState = Literal["overdue", "open", "done"]


@dataclass(frozen=True, slots=True)
class Regievoerder:
    """An active regievoerder and the gemeenten assigned (empty: the whole index)."""

    professional_id: uuid.UUID
    gemeenten: frozenset[str]

    def covers(self, gemeenten: Iterable[str | None]) -> bool:
        return not self.gemeenten or any(g in self.gemeenten for g in gemeenten)


@dataclass(frozen=True, slots=True)
class Check:
    checked_by: uuid.UUID
    checked_at: datetime


class RegieRepository(RepositoryBase):
    def _insert(self, table: Any) -> Any:
        dialect = self.session.get_bind().dialect.name
        return (postgresql if dialect == "postgresql" else sqlite).insert(table)

    # --- gemeenten of a regievoerder -----------------------------------------------------

    def assign_gemeenten(self, professional_id: uuid.UUID, codes: Iterable[str]) -> None:
        rows = [{"professional_id": professional_id, "gemeente": c} for c in sorted(set(codes))]
        if rows:
            self.session.execute(insert(ProfessionalGemeenteRow), rows)

    def replace_gemeenten(self, professional_id: uuid.UUID, codes: Iterable[str]) -> None:
        self.session.execute(
            delete(ProfessionalGemeenteRow).where(
                ProfessionalGemeenteRow.professional_id == professional_id
            )
        )
        self.assign_gemeenten(professional_id, codes)

    def gemeenten_of(self, professional_id: uuid.UUID) -> frozenset[str]:
        return frozenset(
            self.session.scalars(
                select(ProfessionalGemeenteRow.gemeente).where(
                    ProfessionalGemeenteRow.professional_id == professional_id
                )
            )
        )

    def regievoerders(self) -> list[Regievoerder]:
        """Every active regievoerder with their gemeenten, in one statement: a region has a
        handful, so who is told of what is decided in Python."""
        rows = self.session.execute(
            select(ProfessionalRow.id, ProfessionalRow.roles, ProfessionalGemeenteRow.gemeente)
            .outerjoin(
                ProfessionalGemeenteRow,
                ProfessionalGemeenteRow.professional_id == ProfessionalRow.id,
            )
            .where(
                ProfessionalRow.active.is_(True),
                ProfessionalRow.roles.contains(Role.REGIEVOERDER.value),
            )
        ).all()
        found: dict[uuid.UUID, set[str]] = {}
        for professional_id, roles, gemeente in rows:
            if Role.REGIEVOERDER.value not in roles.split():
                continue
            found.setdefault(professional_id, set())
            if gemeente is not None:
                found[professional_id].add(gemeente)
        return [Regievoerder(p, frozenset(g)) for p, g in sorted(found.items())]

    # --- matches in scope ----------------------------------------------------------------

    @staticmethod
    def _in_scope(gemeenten: frozenset[str] | None) -> ColumnElement[bool] | None:
        if gemeenten is None:
            return None
        carrying = (
            select(MatchSignalRow.match_id)
            .join(SignalRow, SignalRow.id == MatchSignalRow.signal_id)
            .where(SignalRow.gemeente.in_(sorted(gemeenten)))
        )
        return MatchRow.id.in_(carrying)

    @staticmethod
    def _pending(joined_before: datetime | None) -> ColumnElement[bool]:
        """A participation of the match not followed up (joined before the moment, if given)."""
        query = (
            select(MatchSignalRow.signal_id)
            .join(SignalRow, SignalRow.id == MatchSignalRow.signal_id)
            .outerjoin(
                FollowUpRow,
                and_(
                    FollowUpRow.match_id == MatchSignalRow.match_id,
                    FollowUpRow.professional_id == SignalRow.professional_id,
                ),
            )
            .where(
                MatchSignalRow.match_id == MatchRow.id,
                FollowUpRow.followed_up_at.is_(None),
                # Another region's mirrored participant is followed up there, not here.
                local_signal(),
            )
        )
        if joined_before is not None:
            query = query.where(MatchSignalRow.linked_at < joined_before)
        return exists(query)

    def match_ids_in_scope(
        self,
        gemeenten: frozenset[str] | None,
        state: FollowUpState | None,
        overdue_before: datetime,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[uuid.UUID]:
        """A page of the matches in scope (None: all), newest first, in that follow-up state.

        Overdue: a participant joined before `overdue_before` and has not followed up; open:
        someone has not followed up, nobody overdue; done: everyone followed up.
        """
        query = select(MatchRow.id)
        scope = self._in_scope(gemeenten)
        if scope is not None:
            query = query.where(scope)
        if state == "overdue":
            query = query.where(self._pending(overdue_before))
        elif state == "open":
            query = query.where(self._pending(None), ~self._pending(overdue_before))
        elif state == "done":
            query = query.where(~self._pending(None))
        if after is not None:
            created_at, last_id = after
            query = query.where(
                (MatchRow.created_at < created_at)
                | ((MatchRow.created_at == created_at) & (MatchRow.id < last_id))
            )
        query = query.order_by(MatchRow.created_at.desc(), MatchRow.id.desc()).limit(limit)
        return list(self.session.scalars(query))

    def match_in_scope(self, match_id: uuid.UUID, gemeenten: frozenset[str] | None) -> bool:
        query = select(MatchRow.id).where(MatchRow.id == match_id)
        scope = self._in_scope(gemeenten)
        if scope is not None:
            query = query.where(scope)
        return self.session.scalar(query) is not None

    def joined(self, match_ids: Iterable[uuid.UUID]) -> dict[tuple[uuid.UUID, uuid.UUID], datetime]:
        """When each participant joined each match: their first signal's link to it."""
        wanted = sorted(set(match_ids))
        if not wanted:
            return {}
        rows = self.session.execute(
            select(
                MatchSignalRow.match_id,
                SignalRow.professional_id,
                func.min(MatchSignalRow.linked_at),
            )
            .join(SignalRow, SignalRow.id == MatchSignalRow.signal_id)
            .where(MatchSignalRow.match_id.in_(wanted))
            .group_by(MatchSignalRow.match_id, SignalRow.professional_id)
        ).all()
        return {(m, p): at for m, p, at in rows}

    def gemeenten_of_matches(self, match_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, set[str]]:
        wanted = sorted(set(match_ids))
        found: dict[uuid.UUID, set[str]] = defaultdict(set)
        if not wanted:
            return found
        rows = self.session.execute(
            select(MatchSignalRow.match_id, SignalRow.gemeente)
            .join(SignalRow, SignalRow.id == MatchSignalRow.signal_id)
            .where(MatchSignalRow.match_id.in_(wanted), SignalRow.gemeente.is_not(None))
        ).all()
        for match_id, gemeente in rows:
            if gemeente is not None:
                found[match_id].add(gemeente)
        return found

    def participations(
        self, joined_from: datetime, joined_until: datetime, gemeenten: frozenset[str] | None
    ) -> list[tuple[datetime, str, datetime | None]]:
        """(joined, sector, followed up) of every participation that began in the period,
        in the matches in scope (None: all); for the follow-up rate."""
        joined = func.min(MatchSignalRow.linked_at)
        query = (
            select(joined, OrganisationRow.sector, FollowUpRow.followed_up_at)
            .select_from(MatchSignalRow)
            .join(SignalRow, SignalRow.id == MatchSignalRow.signal_id)
            .join(ProfessionalRow, ProfessionalRow.id == SignalRow.professional_id)
            .join(OrganisationRow, OrganisationRow.id == ProfessionalRow.organisation_id)
            .outerjoin(
                FollowUpRow,
                and_(
                    FollowUpRow.match_id == MatchSignalRow.match_id,
                    FollowUpRow.professional_id == SignalRow.professional_id,
                ),
            )
            .group_by(
                MatchSignalRow.match_id,
                SignalRow.professional_id,
                OrganisationRow.sector,
                FollowUpRow.followed_up_at,
            )
            # Another region's mirrored participants count in their own region's rate.
            .where(local_signal())
            .having(joined >= joined_from, joined < joined_until)
        )
        if gemeenten is not None:
            carrying = (
                select(MatchSignalRow.match_id)
                .join(SignalRow, SignalRow.id == MatchSignalRow.signal_id)
                .where(SignalRow.gemeente.in_(sorted(gemeenten)))
            )
            query = query.where(MatchSignalRow.match_id.in_(carrying))
        return [(j, sector, done) for j, sector, done in self.session.execute(query).all()]

    # --- contact checked -----------------------------------------------------------------

    def check(self, match_id: uuid.UUID, by: uuid.UUID, at: datetime) -> None:
        """Record the check; the first one stands (idempotent)."""
        self.session.execute(
            self._insert(MatchCheckRow)
            .values(match_id=match_id, checked_by=by, checked_at=at)
            .on_conflict_do_nothing(index_elements=["match_id"])
        )

    def checks(self, match_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Check]:
        wanted = sorted(set(match_ids))
        if not wanted:
            return {}
        rows = self.session.execute(
            select(
                MatchCheckRow.match_id, MatchCheckRow.checked_by, MatchCheckRow.checked_at
            ).where(MatchCheckRow.match_id.in_(wanted))
        ).all()
        return {m: Check(b, at) for m, b, at in rows}
