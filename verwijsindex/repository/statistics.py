"""The statistics counters: who counts where (a signal's sector), increments, and reads.

Plain functions on a session rather than a repository mixin: they need no field encryption,
and `count_statistics` runs inside `Transaction.commit` on the transaction's own session.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from verwijsindex.models import OrganisationRow, ProfessionalRow, SignalRow
from verwijsindex.models.statistics import StatisticsCountRow


def sectors_of_signals(session: Session, signal_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The sector of each signal's professional's organisation, in one query."""
    wanted = set(signal_ids)
    if not wanted:
        return {}
    rows = session.execute(
        select(SignalRow.id, OrganisationRow.sector)
        .join(ProfessionalRow, ProfessionalRow.id == SignalRow.professional_id)
        .join(OrganisationRow, OrganisationRow.id == ProfessionalRow.organisation_id)
        .where(SignalRow.id.in_(wanted))
    ).all()
    return dict((s, sector) for s, sector in rows)


def add_counts(session: Session, month: date, counts: Mapping[tuple[str, str], int]) -> None:
    """Add `counts` (by sector and kind) to the month's counters, creating missing ones.

    One statement for all of them, rows in key order: concurrent writers lock the counter
    rows they share in the same order, so two of them cannot deadlock on each other.
    """
    rows = [
        {"month": month, "sector": sector, "kind": kind, "count": n}
        for (sector, kind), n in sorted(counts.items())
        if n
    ]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert: Any = (postgresql if dialect == "postgresql" else sqlite).insert(StatisticsCountRow)
    statement = insert.values(rows)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["month", "sector", "kind"],
            set_={"count": StatisticsCountRow.count + statement.excluded.count},
        )
    )


def counts_between(session: Session, first: date, last: date) -> list[tuple[date, str, str, int]]:
    """(month, sector, kind, count) for the months `first` to `last` inclusive, in key order."""
    rows = session.execute(
        select(
            StatisticsCountRow.month,
            StatisticsCountRow.sector,
            StatisticsCountRow.kind,
            StatisticsCountRow.count,
        )
        .where(StatisticsCountRow.month >= first, StatisticsCountRow.month <= last)
        .order_by(StatisticsCountRow.month, StatisticsCountRow.sector, StatisticsCountRow.kind)
    ).all()
    return [(m, s, k, c) for m, s, k, c in rows]
