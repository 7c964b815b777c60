"""The statistics counts: adding to them, reading them, folding them together.

Plain functions on a session rather than a repository: they need no field encryption, and
`add_counts` runs before commit in the transaction of the event it counts.

Adding is an insert, never an update: transactions counting the same cell at once do not
wait on each other, whatever the database. Reading sums the rows of a cell; `compact`
folds them into one, so the rows to sum stay few.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from verwijsindex.models.statistics import statistics_counts as counts

_ADD = insert(counts)
_CELL = (counts.c.month, counts.c.sector, counts.c.kind)


def add_counts(session: Session, month: date, added: Mapping[tuple[str, str], int]) -> None:
    """Add `added` (by sector and kind) to the month: one insert of every non-zero cell."""
    rows = [
        {"month": month, "sector": sector, "kind": kind, "count": n}
        for (sector, kind), n in sorted(added.items())
        if n
    ]
    if rows:
        # executemany of one cached statement (sent as one multi-row INSERT).
        session.execute(_ADD, rows)


def counts_between(session: Session, first: date, last: date) -> list[tuple[date, str, str, int]]:
    """(month, sector, kind, count) for the months `first` to `last` inclusive, in key order."""
    rows = session.execute(
        select(*_CELL, func.sum(counts.c.count))
        .where(counts.c.month >= first, counts.c.month <= last)
        .group_by(*_CELL)
        .order_by(*_CELL)
    ).all()
    return [(m, s, k, int(c)) for m, s, k, c in rows]


def compact(session: Session, before: date) -> int:
    """Fold the rows of every cell of the months before `before` into one row per cell;
    how many rows it removed.

    Safe beside concurrent counting: it deletes exactly the rows it read (`RETURNING`) and
    inserts their sums, so a row added meanwhile stays and is summed when read.
    """
    taken = session.execute(
        delete(counts).where(counts.c.month < before).returning(*_CELL, counts.c.count)
    ).all()
    sums: dict[tuple[date, str, str], int] = {}
    for month, sector, kind, count in taken:
        sums[month, sector, kind] = sums.get((month, sector, kind), 0) + count
    if sums:
        session.execute(
            _ADD,
            [
                {"month": m, "sector": s, "kind": k, "count": n}
                for (m, s, k), n in sorted(sums.items())
            ],
        )
    return len(taken) - len(sums)
