"""Tables for `PUT /sync/signals`: a system client's desired state, accepted as a run and
applied later by `verwijsindex worker`.

What a run holds, and what it never holds:

- no BSN and no unkeyed hash of one: each item was validated and pseudonymised before the
  202, so it holds the keyed pseudonyms of the child and parents, as `signals` does;
- the source's `externalRef` (it may be a pupil number) as a keyed digest (`external_ref`,
  the same digest the signal will carry). A sealed copy (`external_ref_enc`, AEAD, key in
  `keys/`) is kept only so the run's report can name an item in its `errors`: it is
  dropped when the item is applied without a problem, so a finished run keeps it only for
  the items in its report, and the whole run is purged by `verwijsindex maintenance`
  after 30 days;
- an informatieplicht justification sealed, as `signals.postponement_justification_enc`;
- an item's problems in our own words (field names and reasons, never a value).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from verwijsindex.models.base import PSEUDONYM_LENGTH, Base, UtcDateTime

# Up to four parents' pseudonyms, separated by spaces.
PARENT_PSEUDONYMS_LENGTH = 4 * (PSEUDONYM_LENGTH + 1)


class SyncRunRow(Base):
    """One accepted `PUT /sync/signals`: its place in the client's queue, its progress and
    its report so far.

    A client's runs are applied strictly one after another in `number` order (the order in
    which they were accepted, numbered under a lock on the client). A worker claims a run
    with a lease (`lease_until`, `claim_token`), renewed by every batch; a run whose lease
    ran out is resumed by any worker from its first pending item.
    """

    __tablename__ = "sync_runs"
    __table_args__ = (
        # Arrival order within one client, and its backstop against two runs numbered alike.
        Index("ux_sync_runs_client_id_number", "client_id", "number", unique=True),
        # The queue: unfinished runs (the claim looks at nothing else).
        Index(
            "ix_sync_runs_open",
            "status",
            "client_id",
            "number",
            sqlite_where=text("status IN ('queued', 'running')"),
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
        # Maintenance purges finished runs by age.
        Index("ix_sync_runs_finished_at", "finished_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    client_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("system_clients.id", ondelete="CASCADE")
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # queued | running | done | failed
    dry_run: Mapped[bool] = mapped_column(Boolean)
    total: Mapped[int] = mapped_column(Integer)
    # Items whose outcome is settled: applied, or in the report's errors.
    processed: Mapped[int] = mapped_column(Integer)
    created: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    updated: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    closed: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    unchanged: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    accepted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # When closing the absent signals began (after the last item), and with it the ones
    # absent were counted in `closed`: a resumed run closes the rest without counting again.
    closing_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    claim_token: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # Why the last attempt failed, or why the run was given up: the error's kind, never a
    # message that could quote data.
    failure: Mapped[str | None] = mapped_column(String(200))


class SyncRunItemRow(Base):
    """One item of a run's body, as the engine's `DesiredSignal` needs it (pseudonyms only),
    and whether it has been applied."""

    __tablename__ = "sync_run_items"
    __table_args__ = (
        # "The first pending items of this run": where a batch, or a resumed run, starts.
        Index(
            "ix_sync_run_items_pending",
            "run_id",
            "position",
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
    )

    run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sync_runs.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0-based index in the body
    state: Mapped[str] = mapped_column(String(8))  # pending | applied | error
    external_ref: Mapped[str] = mapped_column(String(64))  # keyed digest
    external_ref_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    professional_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    child_pseudonym: Mapped[str | None] = mapped_column(String(PSEUDONYM_LENGTH))
    parent_pseudonyms: Mapped[str | None] = mapped_column(String(PARENT_PSEUDONYMS_LENGTH))
    birth_date: Mapped[date | None] = mapped_column(Date)
    child_informed: Mapped[bool | None] = mapped_column(Boolean)
    parents_informed: Mapped[bool | None] = mapped_column(Boolean)
    postponement_reason: Mapped[str | None] = mapped_column(String(40))
    justification_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    review_on: Mapped[date | None] = mapped_column(Date)
    # The item's keyed fingerprint (`services.sync_unchanged`), for the signal to keep.
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    # JSON list of {"name", "reason"}: our own words, never a value from the request.
    problems: Mapped[str | None] = mapped_column(Text)
