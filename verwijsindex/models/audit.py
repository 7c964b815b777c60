"""The audit log's tables: its records, the heads of its chains, its signed checkpoints and
the verification runs.

None holds personal data beyond what a record names: ids, roles, a subject's pseudonym
(blanked on erasure; the chain covers a salted commitment instead), sequence numbers, keyed
MACs and times.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Index,
    Sequence,
    SmallInteger,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from verwijsindex.models.base import PSEUDONYM_LENGTH, Base, UtcDateTime

# Where a record's place in the whole log (`AuditEventRow.seq`) comes from on PostgreSQL: a
# sequence hands out numbers without any lock held to commit (SQLite writers are serial and
# take max + 1). Numbers of rolled-back transactions are never used: the log has gaps there,
# which is why contiguity is checked per chain (`chain_seq`), not on `seq`.
AUDIT_POSITIONS = Sequence("audit_events_seq", metadata=Base.metadata)


class AuditEventRow(Base):
    """One audit record (NEN 7513 fields), MACed into one of several chains.

    `seq` is the record's place in the whole log (ascending in the order records were
    appended, with gaps), the number the API and the pages show and page by. `(chain,
    chain_seq)` is its place in its chain: contiguous from 1, each record's MAC covering its
    predecessor's. Records written before revision 0007 are chain 0 with `chain_seq = seq`.

    The chain covers `subject_commitment` (a salted hash of the subject's pseudonym) rather
    than the pseudonym itself, so that erasing a child's data can blank `subject_pseudonym`
    without breaking verification: afterwards the record keeps ids only.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_occurred_at", "occurred_at"),
        Index("ix_audit_events_actor_id", "actor_id"),
        Index("ix_audit_events_object_id", "object_id"),
        Index("ix_audit_events_subject_pseudonym", "subject_pseudonym"),
        # The walk of one chain in order, and a second guard that a place is taken once.
        Index("ux_audit_events_chain_chain_seq", "chain", "chain_seq", unique=True),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chain: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    chain_seq: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    action: Mapped[str] = mapped_column(String(80))  # source:subject:action
    outcome: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    on_behalf_of: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # the system client, if any
    roles: Mapped[str | None] = mapped_column(String(100))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    related_ids: Mapped[str] = mapped_column(Text, server_default="")
    subject_pseudonym: Mapped[str | None] = mapped_column(String(PSEUDONYM_LENGTH))
    subject_commitment: Mapped[str | None] = mapped_column(String(64))
    subject_salt: Mapped[str | None] = mapped_column(String(32))
    request_id: Mapped[str | None] = mapped_column(String(64))
    client_address: Mapped[str | None] = mapped_column(String(64))
    # Which kind of credential acted (`system`, `personal`, `web`; NULL for the service
    # itself or for records written before revision 0006); covered by the MAC when set.
    credential: Mapped[str | None] = mapped_column(String(16))
    prev_mac: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    """One chain's newest (chain_seq, MAC), itself MACed: deleting its last records shows.

    A transaction holds the head row of the chain it appends to until it commits; others
    pick a head nobody holds (`FOR UPDATE SKIP LOCKED`), so they never wait on each other.
    """

    __tablename__ = "audit_heads"

    chain: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    mac: Mapped[str] = mapped_column(String(64))
    head_mac: Mapped[str] = mapped_column(String(64))


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
    """One verification of the chains: asked for, claimed by a worker, finished.

    `status` is `queued`, `running` or `done`. A running row carries a claim token and a
    lease; another worker takes it over only when the lease has run out (its worker died).
    `from_seq`, `to_seq` and `anchored_seq` count records over all chains (`to_seq` is the
    size of the log walked); `first_bad_seq` is the bad record's place in the whole log when
    a stored record is at fault, and `first_bad_chain` the chain that is broken.
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
    first_bad_chain: Mapped[int | None] = mapped_column(SmallInteger)
    reason: Mapped[str | None] = mapped_column(Text)
