"""History, subject access and lifecycle sweeps (`tx.lifecycle`): queries about persons
across authors."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from verwijsindex.domain import (
    Organisation,
    Sector,
    SignalStatus,
)
from verwijsindex.models import (
    OrganisationRow,
    ProfessionalRow,
    SignalParentRow,
    SignalRow,
)
from verwijsindex.repository.base import RepositoryBase
from verwijsindex.repository.federated import local_signal


class LifecycleRepository(RepositoryBase):
    def archived_signals_on(
        self, child: str, *, excluding: uuid.UUID
    ) -> list[tuple[SignalRow, Organisation]]:
        """The child's archived signals (any author) but `excluding`, newest first, each with
        its author's organisation: the history of contract section 6. The same condition as
        `with_history`, so `historyAvailable` is true exactly when this list is not empty."""
        rows = self.session.execute(
            select(SignalRow, OrganisationRow)
            .join(ProfessionalRow, ProfessionalRow.id == SignalRow.professional_id)
            .join(OrganisationRow, OrganisationRow.id == ProfessionalRow.organisation_id)
            .where(
                SignalRow.child_pseudonym == child,
                SignalRow.status == SignalStatus.ARCHIVED.value,
                SignalRow.id != excluding,
            )
            .order_by(SignalRow.created_at.desc(), SignalRow.id.desc())
        ).all()
        return [(s, Organisation(o.id, o.name, Sector(o.sector), region=o.region)) for s, o in rows]

    def mark_history_shown(self, signal_id: uuid.UUID, now: datetime) -> bool:
        """Record that the signal's history is being shown; False when it already was.

        One conditional UPDATE: of two requests at the same instant, exactly one changes
        the row (the other waits for its lock, then finds the column set), so the history
        is shown once however the requests interleave (art. 7.1.4.6 lid 2)."""
        result = self.session.execute(
            update(SignalRow)
            .where(SignalRow.id == signal_id, SignalRow.history_shown_at.is_(None))
            .values(history_shown_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    def signals_about_person(self, pseudonym: str) -> list[tuple[SignalRow, Organisation]]:
        """Every signal, in any status, on this person as the child or naming them as a
        parent, newest first, each with its author's organisation (for subject access)."""
        naming = select(SignalParentRow.signal_id).where(
            SignalParentRow.parent_pseudonym == pseudonym
        )
        rows = self.session.execute(
            select(SignalRow, OrganisationRow)
            .join(ProfessionalRow, ProfessionalRow.id == SignalRow.professional_id)
            .join(OrganisationRow, OrganisationRow.id == ProfessionalRow.organisation_id)
            .where(or_(SignalRow.child_pseudonym == pseudonym, SignalRow.id.in_(naming)))
            .order_by(SignalRow.created_at.desc(), SignalRow.id.desc())
        ).all()
        return [(s, Organisation(o.id, o.name, Sector(o.sector), region=o.region)) for s, o in rows]

    def children_of_signals(self, signal_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        """Each signal's child pseudonym (which child a match member is about)."""
        wanted = set(signal_ids)
        if not wanted:
            return {}
        return {
            signal_id: child
            for signal_id, child in self.session.execute(
                select(SignalRow.id, SignalRow.child_pseudonym).where(SignalRow.id.in_(wanted))
            )
        }

    def organisations_of(
        self, professional_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, Organisation]:
        """Each professional's organisation, without decrypting anyone's name or contacts."""
        wanted = set(professional_ids)
        if not wanted:
            return {}
        rows = self.session.execute(
            select(ProfessionalRow.id, OrganisationRow)
            .join(OrganisationRow, OrganisationRow.id == ProfessionalRow.organisation_id)
            .where(ProfessionalRow.id.in_(wanted))
        ).all()
        return {
            pid: Organisation(o.id, o.name, Sector(o.sector), region=o.region) for pid, o in rows
        }

    # --- lifecycle sweeps ----------------------------------------------------------------

    def active_signals_due(self, now: datetime, limit: int) -> list[SignalRow]:
        """Active signals whose active period has ended, oldest first, row-locked."""
        return self._claim(
            and_(
                SignalRow.status == SignalStatus.ACTIVE.value,
                SignalRow.active_until <= now,
            ),
            SignalRow.active_until,
            limit,
        )

    def archived_signals_due(self, now: datetime, limit: int) -> list[SignalRow]:
        """Archived signals whose archive period has ended, oldest first, row-locked."""
        return self._claim(
            and_(
                SignalRow.status == SignalStatus.ARCHIVED.value,
                SignalRow.archived_until <= now,
            ),
            SignalRow.archived_until,
            limit,
        )

    def signals_of_children_born_by(self, last_birth_date: date, limit: int) -> list[SignalRow]:
        """Signals (any status) on children born on or before the day, row-locked."""
        return self._claim(
            SignalRow.child_birth_date <= last_birth_date, SignalRow.child_birth_date, limit
        )

    def _claim(
        self, due: ColumnElement[bool], order: InstrumentedAttribute[Any], limit: int
    ) -> list[SignalRow]:
        """Up to `limit` signals meeting `due`, in `order`, each locked for this transaction.

        PostgreSQL: `FOR NO KEY UPDATE SKIP LOCKED`, so concurrent sweeps take disjoint
        batches, and matching linking one of these signals meanwhile (a `KEY SHARE` lock on
        it) is not blocked. SQLite renders no lock clause: its writers are serial anyway.
        """
        return list(
            self.session.scalars(
                select(SignalRow)
                # Mirrored signals: their home region runs their lifecycle.
                .where(due, local_signal())
                .order_by(order, SignalRow.id)
                .limit(limit)
                .with_for_update(skip_locked=True, key_share=True)
            )
        )

    def parents_of_signals(
        self, signal_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, frozenset[str]]:
        wanted = set(signal_ids)
        found: dict[uuid.UUID, set[str]] = {i: set() for i in wanted}
        if wanted:
            rows = self.session.execute(
                select(SignalParentRow.signal_id, SignalParentRow.parent_pseudonym).where(
                    SignalParentRow.signal_id.in_(wanted)
                )
            ).all()
            for signal_id, parent in rows:
                found[signal_id].add(parent)
        return {i: frozenset(p) for i, p in found.items()}

    def signals_on(self, child: str, *, for_update: bool = False) -> list[SignalRow]:
        """Every signal on the child, any status."""
        statement = select(SignalRow).where(SignalRow.child_pseudonym == child)
        if for_update:
            # Locked rows are read afresh, not taken from what the session read before.
            statement = statement.with_for_update().execution_options(populate_existing=True)
        return list(self.session.scalars(statement.order_by(SignalRow.created_at, SignalRow.id)))

    def children_with_signals(self, children: Iterable[str]) -> set[str]:
        """Those of `children` that some signal (any status) is still about."""
        wanted = set(children)
        if not wanted:
            return set()
        return set(
            self.session.scalars(
                select(SignalRow.child_pseudonym)
                .where(SignalRow.child_pseudonym.in_(wanted))
                .distinct()
            )
        )
