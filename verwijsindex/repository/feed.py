"""The change feed (`tx.feed`): each organisation's section-7 events, read by polling systems.

A row is written with the event, before commit, but enters the feed only when it is given
a `position`, and readers page by `position` alone. `position_new_events` gives places to
the rows that are committed and have none yet, in the order they were written, each above
every place given before; one positioner at a time (PostgreSQL: a transaction-scoped
advisory lock, tried and not waited for; SQLite: writers are serial anyway). A row whose
transaction is still running is not visible to it and gets a place the next time, above
everything a reader may already have been given: a late commit is read late, never lost.
(Paging by `seq` instead would lose it: `seq` is handed out before commit, and a slow
transaction can commit a lower number after a faster one committed a higher.)

The purge deletes only a prefix of the positions (rows older than the cutoff, below the
first one it keeps), so an event that is still kept has every later event kept too, and
`place_of` answering None means "this cursor has expired (or was never this feed's)".
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, aliased

from verwijsindex.crypto import KeyRing
from verwijsindex.models.feed import FeedEventRow
from verwijsindex.repository.arrays import insert_rows
from verwijsindex.repository.base import RepositoryBase

# PostgreSQL advisory lock of the positioner, in the two-key space ("ve", 1), which never
# meets the one-key locks on persons (`repository.matches.lock_persons`).
_POSITIONER_LOCK = (0x7665, 1)


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
            # One statement of arrays on PostgreSQL: a bulk batch announces hundreds.
            self.session.flush()
            insert_rows(self.session.connection(), FeedEventRow, rows)
        return len(rows)

    def position_new_events(self) -> int:
        """Give the committed rows without a place theirs, after every place given; how many.

        On PostgreSQL only if no other transaction is doing so right now (then 0: its rows
        are in the feed as soon as it commits). Keep the transaction short after this: the
        lock is held until it ends.
        """
        if self._postgres and not self.session.scalar(
            select(func.pg_try_advisory_xact_lock(*_POSITIONER_LOCK))
        ):
            return 0
        placed, waiting = aliased(FeedEventRow), aliased(FeedEventRow)
        last_place = select(func.coalesce(func.max(placed.position), 0)).scalar_subquery()
        numbered = (
            select(
                waiting.seq,
                (last_place + func.row_number().over(order_by=waiting.seq)).label("place"),
            )
            .where(waiting.position.is_(None))
            .subquery()
        )
        result = self.session.execute(
            update(FeedEventRow)
            .where(FeedEventRow.seq == numbered.c.seq)
            .values(position=numbered.c.place)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def place_of(self, organisation_id: uuid.UUID, event_id: uuid.UUID) -> int | None:
        """This organisation's event's place in the feed; None when it is not kept (purged,
        or never one of its events)."""
        return self.session.scalar(
            select(FeedEventRow.position).where(
                FeedEventRow.id == event_id, FeedEventRow.organisation_id == organisation_id
            )
        )

    def events_after(
        self, organisation_id: uuid.UUID, after: int | None, limit: int
    ) -> list[FeedEvent]:
        """Up to `limit` of the organisation's events placed after `after`, in feed order."""
        rows = self.session.execute(
            select(FeedEventRow.id, FeedEventRow.type, FeedEventRow.occurred_at, FeedEventRow.data)
            .where(
                FeedEventRow.organisation_id == organisation_id,
                FeedEventRow.position > (0 if after is None else after),
            )
            .order_by(FeedEventRow.position)
            .limit(limit)
        )
        return [FeedEvent(r.id, r.type, r.occurred_at, json.loads(r.data)) for r in rows]

    def purge_older_than(self, cutoff: datetime) -> int:
        """Delete the placed events written before `cutoff` that form a prefix of the feed.

        Everything deleted lies below the first place kept (the first newer than the
        cutoff), and rows without a place yet will get places above all of these: an old row
        behind a newer one stays until it is no longer behind (a later run).
        """
        first_kept = self.session.scalar(
            select(func.min(FeedEventRow.position)).where(FeedEventRow.occurred_at >= cutoff)
        )
        statement = delete(FeedEventRow).where(
            FeedEventRow.occurred_at < cutoff, FeedEventRow.position.is_not(None)
        )
        if first_kept is not None:
            statement = statement.where(FeedEventRow.position < first_kept)
        result = self.session.execute(statement)
        return int(getattr(result, "rowcount", 0) or 0)
