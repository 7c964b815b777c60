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
from typing import TypeAlias

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from verwijsindex.models.statistics import statistics_counts as counts

_ADD = insert(counts)
_CELL = (counts.c.month, counts.c.sector, counts.c.kind)

# (sector, kind, gemeente), or (sector, kind) for a count without a gemeente (NULL).
Cell: TypeAlias = tuple[str, str] | tuple[str, str, str | None]
Counts: TypeAlias = Mapping[tuple[str, str, str | None], int] | Mapping[tuple[str, str], int]


def _gemeente(cell: Cell) -> str | None:
    return cell[2] if len(cell) == 3 else None


def add_counts(session: Session, month: date, added: Counts) -> None:
    """Add `added` (by sector, kind and gemeente) to the month: one insert of every
    non-zero cell."""
    add_counts_by_month(session, {month: added})


def add_counts_by_month(session: Session, added: Mapping[date, Counts]) -> None:
    """`add_counts` for several months at once (a migration's signals are counted in the
    months they were first registered): still one insert of every non-zero cell."""
    rows = []
    for month in sorted(added):
        cells = {(cell[0], cell[1], _gemeente(cell)): n for cell, n in added[month].items() if n}
        rows += [
            {"month": month, "sector": sector, "kind": kind, "gemeente": gemeente, "count": n}
            for (sector, kind, gemeente), n in sorted(
                cells.items(), key=lambda i: (i[0][0], i[0][1], i[0][2] or "")
            )
        ]
    if rows:
        # executemany of one cached statement (sent as one multi-row INSERT).
        session.execute(_ADD, rows)


def counts_between(
    session: Session, first: date, last: date, gemeente: str | None = None
) -> list[tuple[date, str, str, int]]:
    """(month, sector, kind, count) for the months `first` to `last` inclusive, in key order:
    over every gemeente (and none), or only those counted under `gemeente`."""
    query = select(*_CELL, func.sum(counts.c.count)).where(
        counts.c.month >= first, counts.c.month <= last
    )
    if gemeente is not None:
        query = query.where(counts.c.gemeente == gemeente)
    rows = session.execute(query.group_by(*_CELL).order_by(*_CELL)).all()
    return [(m, s, k, int(c)) for m, s, k, c in rows]


def compact(session: Session, before: date) -> int:
    """Fold the rows of every cell of the months before `before` into one row per cell;
    how many rows it removed.

    Safe beside concurrent counting: it deletes exactly the rows it read (`RETURNING`) and
    inserts their sums, so a row added meanwhile stays and is summed when read.
    """
    taken = session.execute(
        delete(counts)
        .where(counts.c.month < before)
        .returning(*_CELL, counts.c.gemeente, counts.c.count)
    ).all()
    sums: dict[tuple[date, str, str, str | None], int] = {}
    for month, sector, kind, gemeente, count in taken:
        cell = (month, sector, kind, gemeente)
        sums[cell] = sums.get(cell, 0) + count
    if sums:
        session.execute(
            _ADD,
            [
                {"month": m, "sector": s, "kind": k, "gemeente": g, "count": n}
                for (m, s, k, g), n in sorted(
                    sums.items(), key=lambda i: (*i[0][:3], i[0][3] or "")
                )
            ],
        )
    return len(taken) - len(sums)
