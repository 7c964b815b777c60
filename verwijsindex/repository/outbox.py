"""The outbox (`tx.outbox`): notifications written with the event that causes them,
claimed by workers.

A claim is a lease: the row's `next_attempt_at` is pushed past the longest a delivery may
take, and a fresh `claim_token` is stamped on it. Two workers never hold the same row at
once (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: writers are serial), a worker that
dies leaves the row due again when the lease runs out, and only the token's holder can
settle it, so a worker whose lease ran out cannot overwrite the next one's outcome.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update

from verwijsindex.models import OutboxRow
from verwijsindex.repository.arrays import insert_rows
from verwijsindex.repository.base import RepositoryBase

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
SKIPPED = "skipped"  # nobody left to deliver to (professional deactivated, hook disabled)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A notification to queue: an e-mail (`professional_id`) or a webhook call
    (`subscription_id`); `payload` is JSON with ids only."""

    channel: str
    topic: str
    payload: str
    professional_id: uuid.UUID | None = None
    subscription_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """A claimed outbox row, as a worker needs it."""

    id: uuid.UUID
    channel: str
    topic: str
    payload: str
    professional_id: uuid.UUID | None
    subscription_id: uuid.UUID | None
    attempts: int
    queued_at: datetime
    claim_token: uuid.UUID


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """An outbox row as its subscriber may see it."""

    id: uuid.UUID
    topic: str
    status: str
    attempts: int
    queued_at: datetime
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    finished_at: datetime | None
    last_error: str | None


class OutboxRepository(RepositoryBase):
    """`tx.outbox`."""

    def queue(self, outgoing: Iterable[Outgoing], now: datetime) -> int:
        rows = [
            {
                "id": uuid.uuid4(),
                "channel": o.channel,
                "topic": o.topic,
                "payload": o.payload,
                "professional_id": o.professional_id,
                "subscription_id": o.subscription_id,
                "status": PENDING,
                "attempts": 0,
                "queued_at": now,
                "next_attempt_at": now,
            }
            for o in outgoing
        ]
        if rows:
            # One statement of arrays on PostgreSQL: a bulk batch queues hundreds of mails.
            self.session.flush()
            insert_rows(self.session.connection(), OutboxRow, rows)
        return len(rows)

    def claim_due(
        self, now: datetime, lease_until: datetime, channels: Iterable[str]
    ) -> Delivery | None:
        """Take the longest-waiting due row of these channels, leased until `lease_until`;
        None when none is due."""
        row = self.session.scalar(
            select(OutboxRow)
            .where(
                OutboxRow.status == PENDING,
                OutboxRow.next_attempt_at <= now,
                OutboxRow.channel.in_(list(channels)),
            )
            .order_by(OutboxRow.next_attempt_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if row is None:
            return None
        token = uuid.uuid4()
        row.claim_token = token
        row.next_attempt_at = lease_until
        row.attempts += 1
        row.last_attempt_at = now
        self.session.flush()
        return Delivery(
            row.id,
            row.channel,
            row.topic,
            row.payload,
            row.professional_id,
            row.subscription_id,
            row.attempts,
            row.queued_at,
            token,
        )

    def settle(
        self,
        delivery: Delivery,
        now: datetime,
        *,
        status: str,
        error: str | None = None,
        retry_at: datetime | None = None,
    ) -> bool:
        """Record the attempt's outcome; False when the lease was lost to another worker."""
        values: dict[str, object] = {"status": status, "last_error": error}
        if status == PENDING:
            assert retry_at is not None
            values["next_attempt_at"] = retry_at
        else:
            values["finished_at"] = now
        result = self.session.execute(
            update(OutboxRow)
            .where(
                OutboxRow.id == delivery.id,
                OutboxRow.claim_token == delivery.claim_token,
                OutboxRow.status == PENDING,
            )
            .values(**values)
        )
        return bool(getattr(result, "rowcount", 0))

    def deliveries_of_subscription(
        self,
        subscription_id: uuid.UUID,
        status: str | None,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[DeliveryRecord]:
        """Newest first, keyset-paginated on (queued_at, id)."""
        statement = select(OutboxRow).where(OutboxRow.subscription_id == subscription_id)
        if status is not None:
            statement = statement.where(OutboxRow.status == status)
        if after is not None:
            queued_at, last_id = after
            statement = statement.where(
                (OutboxRow.queued_at < queued_at)
                | ((OutboxRow.queued_at == queued_at) & (OutboxRow.id < last_id))
            )
        rows = self.session.scalars(
            statement.order_by(OutboxRow.queued_at.desc(), OutboxRow.id.desc()).limit(limit)
        )
        return [
            DeliveryRecord(
                r.id,
                r.topic,
                r.status,
                r.attempts,
                r.queued_at,
                r.next_attempt_at if r.status == PENDING else None,
                r.last_attempt_at,
                r.finished_at,
                r.last_error,
            )
            for r in rows
        ]

    def purge_finished_notifications(self, finished_before: datetime) -> int:
        result = self.session.execute(
            delete(OutboxRow).where(
                OutboxRow.status != PENDING, OutboxRow.finished_at < finished_before
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)
