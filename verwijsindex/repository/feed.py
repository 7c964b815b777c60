"""The change feed (`tx.feed`): each organisation's section-7 events, read by polling systems.

Rows are read in `(writer_xid, seq)` order and, on PostgreSQL, only up to the read horizon:
rows whose writing transaction is older than every transaction still running, taken from
the reading statement's own snapshot (`pg_snapshot_xmin(pg_current_snapshot())`). Every
such writer has finished, and every writer still to commit has a larger id, so a row can
never become visible *behind* a place a reader was already given. Ordering by `seq` alone
would allow it: `seq` is handed out before commit, and a slow transaction can commit a
lower number after a faster one committed a higher. The cost is a delay, never a loss: an
event waits until the transactions that were already running when it was written have
ended. SQLite serialises writers (`BEGIN IMMEDIATE`), so there `seq` order is commit order
and `writer_xid` is 0.

The purge deletes only a prefix of that order (rows older than the cutoff, below the first
row it keeps, and final), so an event that is still kept has every later event kept too,
and `place_of` answering None is exactly "this cursor has expired (or was never ours)".
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Text, cast, delete, func, insert, select, tuple_
from sqlalchemy.orm import Session

from verwijsindex.crypto import KeyRing
from verwijsindex.models.feed import FeedEventRow
from verwijsindex.repository.base import RepositoryBase

Place = tuple[int, int]
"""A row's place in the feed's order: `(writer_xid, seq)`."""


def _as_bigint(xid8: ColumnElement[Any]) -> ColumnElement[int]:
    return cast(cast(xid8, Text), BigInteger)


# PostgreSQL: the writing transaction's id (assigned at its first write; a subtransaction
# reports its top-level one), and the oldest transaction still running in this snapshot.
_WRITER_XID = _as_bigint(func.pg_current_xact_id())
_READ_HORIZON = _as_bigint(func.pg_snapshot_xmin(func.pg_current_snapshot()))
_IN_ORDER = (FeedEventRow.writer_xid, FeedEventRow.seq)


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """An event to append to one organisation's feed; `data` holds ids only."""

    organisation_id: uuid.UUID
    type: str
    data: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """An event as the feed serves it."""

    id: uuid.UUID
    type: str
    occurred_at: datetime
    data: dict[str, Any]


class FeedRepository(RepositoryBase):
    """`tx.feed`."""

    def __init__(self, session: Session, keys: KeyRing) -> None:
        super().__init__(session, keys)
        self._postgres = session.get_bind().dialect.name == "postgresql"

    def append(self, entries: Iterable[FeedEntry], now: datetime) -> int:
        """One multi-row INSERT, in the transaction of the events (none when there are none)."""
        rows = [
            {
                "id": uuid.uuid4(),
                "organisation_id": e.organisation_id,
                "type": e.type,
                "occurred_at": now,
                "data": json.dumps(e.data, default=str, separators=(",", ":"), sort_keys=True),
            }
            for e in entries
        ]
        if rows:
            writer = _WRITER_XID if self._postgres else 0
            self.session.execute(insert(FeedEventRow).values(writer_xid=writer), rows)
        return len(rows)

    def place_of(self, organisation_id: uuid.UUID, event_id: uuid.UUID) -> Place | None:
        """Where this organisation's event is in the feed; None when it is not kept (purged,
        or never one of its events)."""
        found = self.session.execute(
            select(*_IN_ORDER).where(
                FeedEventRow.id == event_id, FeedEventRow.organisation_id == organisation_id
            )
        ).first()
        return None if found is None else (found[0], found[1])

    def events_after(
        self, organisation_id: uuid.UUID, after: Place | None, limit: int
    ) -> list[FeedEvent]:
        """Up to `limit` of the organisation's final events after `after`, in feed order."""
        statement = select(
            FeedEventRow.id, FeedEventRow.type, FeedEventRow.occurred_at, FeedEventRow.data
        ).where(FeedEventRow.organisation_id == organisation_id)
        if self._postgres:
            # In the same statement as the rows, so both come from one snapshot.
            statement = statement.where(FeedEventRow.writer_xid < _READ_HORIZON)
        if after is not None:
            statement = statement.where(tuple_(*_IN_ORDER) > tuple_(*after))
        rows = self.session.execute(statement.order_by(*_IN_ORDER).limit(limit))
        return [FeedEvent(r.id, r.type, r.occurred_at, json.loads(r.data)) for r in rows]

    def purge_older_than(self, cutoff: datetime) -> int:
        """Delete the events written before `cutoff` that form a prefix of the feed's order.

        The first row kept is the first that is newer than the cutoff or not yet final; what
        is deleted lies wholly before it, and before every transaction still running. An old
        row behind that first kept one stays until it is no longer behind (a later run).
        """
        statement = delete(FeedEventRow).where(FeedEventRow.occurred_at < cutoff)
        keeps: ColumnElement[bool] = FeedEventRow.occurred_at >= cutoff
        if self._postgres:
            horizon = self.session.scalar(select(_READ_HORIZON))
            statement = statement.where(FeedEventRow.writer_xid < horizon)
            keeps = keeps | (FeedEventRow.writer_xid >= horizon)
        first_kept = self.session.execute(
            select(*_IN_ORDER).where(keeps).order_by(*_IN_ORDER).limit(1)
        ).first()
        if first_kept is not None:
            statement = statement.where(tuple_(*_IN_ORDER) < tuple_(*first_kept))
        result = self.session.execute(statement)
        return int(getattr(result, "rowcount", 0) or 0)
