"""Signals (`tx.signals`): writing, reading own signals, their matches and history flag,
their owners, the domain view."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVarTuple

from sqlalchemy import (
    Insert,
    Select,
    String,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    true,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import aliased

from verwijsindex.domain import (
    InformatieplichtView,
    MatchRef,
    MatchType,
    PostponementReason,
    Professional,
    Signal,
    SignalStatus,
)
from verwijsindex.models import (
    IdempotencyKeyRow,
    MatchRow,
    MatchSignalRow,
    OrganisationRow,
    ProfessionalRow,
    SignalParentRow,
    SignalRow,
)
from verwijsindex.repository.base import RepositoryBase


def _signal_with_parents_on_postgresql() -> Insert:
    """The signal and its parents' pseudonyms in one statement, whatever their number: the
    signal's INSERT is a data-modifying CTE and the parents come from one array (`unnest`),
    so there is one round trip and one compiled statement (issue 11.2)."""
    columns = SignalRow.__table__.columns
    signal = (
        insert(SignalRow)
        .values({c.key: bindparam(c.key, type_=c.type) for c in columns})
        .returning(SignalRow.id)
        .cte("new_signal")
    )
    parents = (
        func.unnest(bindparam("parent_pseudonyms", type_=postgresql.ARRAY(String)))
        .table_valued("parent_pseudonym")
        .render_derived(name="parents")
    )
    return insert(SignalParentRow).from_select(
        ["signal_id", "parent_pseudonym"],
        select(signal.c.id, parents.c.parent_pseudonym).select_from(signal).join(parents, true()),
    )


_ADD_SIGNAL_ON_POSTGRESQL = _signal_with_parents_on_postgresql()


@dataclass(frozen=True, slots=True)
class SignalOwner:
    """Who registered a signal: their id, their organisation and its sector; and the
    gemeente the signal names (whose regievoerders hear of its matches)."""

    professional_id: uuid.UUID
    organisation_id: uuid.UUID
    sector: str
    gemeente: str | None = None
    # Set for a mirrored signal (federation): the region its professional works in. They
    # hear nothing from this region (their own region mails them); see `services.notifications`.
    region: str | None = None


Row = TypeVarTuple("Row")


def newest_first(
    statement: Select[*Row],
    status: SignalStatus | None,
    after: tuple[datetime, uuid.UUID] | None,
) -> Select[*Row]:
    """Signals of one status (or all), newest first, after the keyset cursor
    (created_at, id): the order of every signals list, for their authors and coordinators."""
    if status is not None:
        statement = statement.where(SignalRow.status == status.value)
    if after is not None:
        created_at, last_id = after
        statement = statement.where(
            or_(
                SignalRow.created_at < created_at,
                and_(SignalRow.created_at == created_at, SignalRow.id < last_id),
            )
        )
    return statement.order_by(SignalRow.created_at.desc(), SignalRow.id.desc())


class SignalRepository(RepositoryBase):
    def owners(self, signal_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, SignalOwner]:
        """Who registered each signal, with organisation and sector (what statistics and
        notifications are made of). One query for all; erased signals are simply absent."""
        wanted = set(signal_ids)
        if not wanted:
            return {}
        rows = self.session.execute(
            select(
                SignalRow.id,
                SignalRow.professional_id,
                ProfessionalRow.organisation_id,
                OrganisationRow.sector,
                SignalRow.gemeente,
                OrganisationRow.region,
            )
            .join(ProfessionalRow, ProfessionalRow.id == SignalRow.professional_id)
            .join(OrganisationRow, OrganisationRow.id == ProfessionalRow.organisation_id)
            .where(SignalRow.id.in_(wanted))
        ).all()
        return {s: SignalOwner(p, o, sector, g, r) for s, p, o, sector, g, r in rows}

    def add_signal(self, row: SignalRow, parents: Sequence[str]) -> None:
        """Core inserts (the hot path): the ORM's unit-of-work bookkeeping is not needed for
        a row that is written once and returned. One statement on PostgreSQL."""
        connection = self.session.connection()
        values = {c.key: getattr(row, c.key) for c in SignalRow.__table__.columns}
        if connection.dialect.name == "postgresql":
            parameters = {**values, "parent_pseudonyms": list(parents)}
            connection.execute(_ADD_SIGNAL_ON_POSTGRESQL, parameters)
            return
        connection.execute(insert(SignalRow).values(values))
        if parents:
            connection.execute(
                insert(SignalParentRow),
                [{"signal_id": row.id, "parent_pseudonym": p} for p in parents],
            )

    def signal_row(self, signal_id: uuid.UUID, *, for_update: bool = False) -> SignalRow | None:
        statement = select(SignalRow).where(SignalRow.id == signal_id)
        if for_update:
            statement = statement.with_for_update()
        return self.session.execute(statement).scalar_one_or_none()

    def parents_of(self, signal_id: uuid.UUID) -> frozenset[str]:
        return frozenset(
            self.session.scalars(
                select(SignalParentRow.parent_pseudonym).where(
                    SignalParentRow.signal_id == signal_id
                )
            )
        )

    def active_signal_of(self, professional_id: uuid.UUID, child: str) -> uuid.UUID | None:
        """The professional's active signal on this child, if any (at most one: a partial
        unique index holds that)."""
        return self.session.scalar(
            select(SignalRow.id).where(
                SignalRow.professional_id == professional_id,
                SignalRow.child_pseudonym == child,
                SignalRow.status == SignalStatus.ACTIVE.value,
            )
        )

    def any_signal_on(self, child: str) -> bool:
        return (
            self.session.scalar(
                select(SignalRow.id).where(SignalRow.child_pseudonym == child).limit(1)
            )
            is not None
        )

    def erase_signal(self, signal_id: uuid.UUID) -> None:
        """Remove the row, its parent pseudonyms, match links and any stored response that
        described it (idempotency): deletion leaves nothing about the signal behind."""
        self.session.execute(
            delete(IdempotencyKeyRow).where(IdempotencyKeyRow.signal_id == signal_id)
        )
        self.session.execute(delete(MatchSignalRow).where(MatchSignalRow.signal_id == signal_id))
        self.session.execute(delete(SignalParentRow).where(SignalParentRow.signal_id == signal_id))
        self.session.execute(delete(SignalRow).where(SignalRow.id == signal_id))

    def own_signal_rows(
        self,
        professional_id: uuid.UUID,
        status: SignalStatus | None,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[SignalRow]:
        """Newest first, keyset-paginated on (created_at, id)."""
        statement = select(SignalRow).where(SignalRow.professional_id == professional_id)
        statement = newest_first(statement, status, after)
        return list(self.session.scalars(statement.limit(limit)))

    def own_rows_by_id(
        self, professional_id: uuid.UUID, signal_ids: Iterable[uuid.UUID]
    ) -> list[SignalRow]:
        """Those of `signal_ids` that `professional_id` wrote; anyone else's are left out."""
        wanted = set(signal_ids)
        if not wanted:
            return []
        return list(
            self.session.scalars(
                select(SignalRow).where(
                    SignalRow.id.in_(wanted), SignalRow.professional_id == professional_id
                )
            )
        )

    def open_own_reference(self, row: SignalRow) -> str | None:
        if row.own_reference_enc is None:
            return None
        return self._open("signals", row.id, "own_reference", row.own_reference_enc)

    def match_refs(self, signal_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[MatchRef]]:
        wanted = set(signal_ids)
        refs: dict[uuid.UUID, list[MatchRef]] = {i: [] for i in wanted}
        if not wanted:
            return refs
        rows = self.session.execute(
            select(MatchSignalRow.signal_id, MatchRow.id, MatchRow.type)
            .join(MatchRow, MatchRow.id == MatchSignalRow.match_id)
            .where(MatchSignalRow.signal_id.in_(wanted))
            .order_by(MatchRow.type, MatchRow.created_at)
        ).all()
        for signal_id, match_id, match_type in rows:
            refs[signal_id].append(MatchRef(match_id, MatchType(match_type)))
        return refs

    def with_history(self, rows: Iterable[SignalRow]) -> set[uuid.UUID]:
        """Ids of those signals whose child has another, archived signal (any author)."""
        ids = {r.id for r in rows}
        if not ids:
            return set()
        other = aliased(SignalRow)
        return set(
            self.session.scalars(
                select(SignalRow.id).where(
                    SignalRow.id.in_(ids),
                    exists().where(
                        other.child_pseudonym == SignalRow.child_pseudonym,
                        other.status == SignalStatus.ARCHIVED.value,
                        other.id != SignalRow.id,
                    ),
                )
            )
        )

    def to_signal(
        self,
        row: SignalRow,
        author: Professional,
        *,
        history_available: bool,
        matches: Sequence[MatchRef],
        show_justification: bool,
    ) -> Signal:
        """The signal as a domain object; `show_justification` is the author's view: only
        then are the justification, the child's birth date and the own reference in it."""
        justification = None
        if show_justification and row.postponement_justification_enc is not None:
            justification = self._open(
                "signals", row.id, "justification", row.postponement_justification_enc
            )
        own_reference = self.open_own_reference(row) if show_justification else None
        return Signal(
            id=row.id,
            professional=author,
            status=SignalStatus(row.status),
            created_at=row.created_at,
            active_until=row.active_until,
            archived_until=row.archived_until,
            informatieplicht=InformatieplichtView(
                child_informed=row.child_informed,
                parents_informed=row.parents_informed,
                postponed=row.postponement_reason is not None,
                review_on=row.review_on,
                reason=(
                    PostponementReason(row.postponement_reason) if row.postponement_reason else None
                ),
                justification=justification,
            ),
            history_available=history_available,
            matches=tuple(matches),
            gemeente=row.gemeente,
            child_birth_date=row.child_birth_date if show_justification else None,
            own_reference=own_reference,
        )

    def seal_justification(self, signal_id: uuid.UUID, justification: str) -> bytes:
        return self._seal("signals", signal_id, "justification", justification)

    def seal_own_reference(self, signal_id: uuid.UUID, reference: str) -> bytes:
        """Sealed with the signal's id and its own purpose, like the justification."""
        return self._seal("signals", signal_id, "own_reference", reference)
