"""Tables around the audit chain: its signed checkpoints and the verification runs.

Neither holds personal data: sequence numbers, keyed MACs, times, and the id of the privacy
officer who asked for a verification.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from verwijsindex.models.base import Base, UtcDateTime


class AuditCheckpointRow(Base):
    """A copy of a signed checkpoint, served to external witnesses.

    The anchor file outside the database is the copy that counts; this one is for
    `GET /audit-checkpoints`. Whoever edits it cannot forge a signature, only delete rows,
    which a witness that kept earlier pages notices.
    """

    __tablename__ = "audit_checkpoints"
    __table_args__ = (Index("ix_audit_checkpoints_issued_at_id", "issued_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    payload: Mapped[str] = mapped_column(Text)  # the exact signed bytes, as UTF-8 JSON
    signature: Mapped[str] = mapped_column(String(100))  # base64 Ed25519


class AuditVerificationRow(Base):
    """One verification of the chain: asked for, claimed by a worker, finished.

    `status` is `queued`, `running` or `done`. A running row carries a claim token and a
    lease; another worker takes it over only when the lease has run out (its worker died).
    """

    __tablename__ = "audit_verifications"
    __table_args__ = (
        Index("ix_audit_verifications_status_requested_at", "status", "requested_at"),
        Index("ix_audit_verifications_finished_at", "finished_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    requested_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # None: the service itself
    source: Mapped[str] = mapped_column(String(16))  # web | cli | maintenance | worker
    full: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))
    claim_token: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    from_seq: Mapped[int | None] = mapped_column(BigInteger)
    to_seq: Mapped[int | None] = mapped_column(BigInteger)
    checked: Mapped[int] = mapped_column(BigInteger, default=0)
    anchored_seq: Mapped[int | None] = mapped_column(BigInteger)  # the newest anchor checked
    ok: Mapped[bool | None] = mapped_column(Boolean)
    first_bad_seq: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(Text)
