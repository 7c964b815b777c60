"""The audit log search and stored idempotent responses: `tx.records`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select

from verwijsindex.models import (
    AuditEventRow,
    IdempotencyKeyRow,
)
from verwijsindex.repository.base import RepositoryBase


@dataclass(frozen=True, slots=True)
class StoredResponse:
    fingerprint: str
    status: int
    body: str
    signal_id: uuid.UUID | None


class RecordRepository(RepositoryBase):
    def audit_events(
        self,
        *,
        since: datetime | None,
        until: datetime | None,
        actor: uuid.UUID | None,
        object_id: uuid.UUID | None,
        before_seq: int | None,
        limit: int,
    ) -> list[AuditEventRow]:
        """Newest first; every filter uses an index (occurred_at, actor_id, object_id)."""
        statement = select(AuditEventRow)
        if since is not None:
            statement = statement.where(AuditEventRow.occurred_at >= since)
        if until is not None:
            statement = statement.where(AuditEventRow.occurred_at < until)
        if actor is not None:
            statement = statement.where(AuditEventRow.actor_id == actor)
        if object_id is not None:
            statement = statement.where(AuditEventRow.object_id == object_id)
        if before_seq is not None:
            statement = statement.where(AuditEventRow.seq < before_seq)
        return list(self.session.scalars(statement.order_by(AuditEventRow.seq.desc()).limit(limit)))

    def idempotent_response(
        self, professional_id: uuid.UUID, key_digest: str, now: datetime
    ) -> StoredResponse | None:
        """The stored answer to an earlier request with this key; an expired one is removed.

        `key_digest` is the keyed digest of the Idempotency-Key (`Pseudonymiser.idempotency_key`),
        never the key itself: the key may be derived from a BSN.
        """
        row = self.session.get(IdempotencyKeyRow, (professional_id, key_digest))
        if row is None:
            return None
        if row.expires_at <= now:
            self.session.delete(row)
            self.session.flush()
            return None
        body = self._open("idempotency_keys", row.professional_id, key_digest, row.response_enc)
        return StoredResponse(row.fingerprint, row.status, body, row.signal_id)

    def purge_expired_idempotency_keys(self, now: datetime) -> int:
        result = self.session.execute(
            delete(IdempotencyKeyRow).where(IdempotencyKeyRow.expires_at <= now)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def store_idempotent_response(
        self,
        professional_id: uuid.UUID,
        key_digest: str,
        response: StoredResponse,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        self.session.execute(
            insert(IdempotencyKeyRow).values(
                professional_id=professional_id,
                key=key_digest,
                fingerprint=response.fingerprint,
                status=response.status,
                response_enc=self._seal(
                    "idempotency_keys", professional_id, key_digest, response.body
                ),
                signal_id=response.signal_id,
                created_at=now,
                expires_at=expires_at,
            )
        )
