"""The statistics counters: who counts where (a signal's sector), increments, and reads.

Plain functions on a session rather than a repository mixin: they need no field encryption,
and `count_statistics` runs inside `Transaction.commit` on the transaction's own session.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from verwijsindex.models.statistics import StatisticsCountRow


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
