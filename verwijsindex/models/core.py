"""SQLAlchemy 2 tables. What is *not* here matters as much as what is:

- no BSN and no unkeyed hash of one: children and parents appear only as keyed pseudonyms;
- no case content: a signal says who is involved since when, never why;
- professionals' names, phones and e-mails and informatieplicht justifications are stored
  encrypted (`*_enc` columns, see `crypto.FieldCipher`);
- of the child, besides pseudonyms, only the birth date: the age rules and the deletion on
  the 23rd birthday need it.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from verwijsindex.models.base import PSEUDONYM_LENGTH, Base, UtcDateTime


class OrganisationRow(Base):
    __tablename__ = "organisations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The gemeente (CBS code) its signals carry unless the professional names another.
    default_gemeente: Mapped[str | None] = mapped_column(String(6))
    # Set for another region's organisation mirrored by federation (docs/federation.md):
    # its professionals cannot log in and it is left out of this region's lists.
    region: Mapped[str | None] = mapped_column(String(63))


class ProfessionalRow(Base):
    __tablename__ = "professionals"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    email_enc: Mapped[bytes] = mapped_column(LargeBinary)
    phone_enc: Mapped[bytes] = mapped_column(LargeBinary)
    # Space-separated `domain.Role` values; a person may hold several.
    roles: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Keyed hash of the normalised e-mail address: logging in finds a person by it, while
    # the address itself stays encrypted.
    email_lookup: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Web login: the second factor is confirmed once (QR code at first login); the last
    # time step used, so a code cannot be replayed; lock-out after repeated failures.
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    failed_logins: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SystemClientRow(Base):
    """A school or care system using the client-credentials grant."""

    __tablename__ = "system_clients"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # the OAuth client_id
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    # SHA-256 of a 256-bit random secret: a fast hash suffices for a secret nobody chose.
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SignalRow(Base):
    __tablename__ = "signals"
    __table_args__ = (
        # Matching: the active signals on one child (also used for the 409 check).
        Index("ix_signals_child_pseudonym_status", "child_pseudonym", "status"),
        # At most one active signal per professional per child, even under races.
        Index(
            "uq_signals_active_professional_child",
            "professional_id",
            "child_pseudonym",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        # "My signals", newest first, keyset-paginated.
        Index("ix_signals_professional_created", "professional_id", "created_at", "id"),
        # Lifecycle sweeps.
        Index("ix_signals_status_active_until", "status", "active_until"),
        Index("ix_signals_archived_until", "archived_until"),
        Index("ix_signals_child_birth_date", "child_birth_date"),
        # Informatieplicht reminders: open postponements by review date.
        Index("ix_signals_review_on", "review_on"),
        # A sync's identity: one active signal per (system client, source reference); also
        # "this client's active signals", which a sync closes when absent from its body.
        Index(
            "ux_signals_active_feed_client_external_ref",
            "feed_client_id",
            "external_ref",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        # An import's active signals by professional: `import --sync` closes the absent ones.
        Index(
            "ix_signals_active_feed_professional",
            "feed",
            "professional_id",
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    professional_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("professionals.id"))
    child_pseudonym: Mapped[str] = mapped_column(String(PSEUDONYM_LENGTH))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    active_until: Mapped[datetime] = mapped_column(UtcDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    archived_until: Mapped[datetime] = mapped_column(UtcDateTime)
    child_birth_date: Mapped[date] = mapped_column(Date)
    child_informed: Mapped[bool] = mapped_column(Boolean)
    parents_informed: Mapped[bool] = mapped_column(Boolean)
    postponement_reason: Mapped[str | None] = mapped_column(String(40))
    postponement_justification_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    review_on: Mapped[date | None] = mapped_column(Date)
    # The author's own short reference (issue 14), sealed like the justification: shown
    # only to its author, never in mails, webhooks, the change feed or to anyone else.
    own_reference_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The `review_on` its author was last reminded of, so a passed review date is
    # reminded of once, and a new review date (after a PATCH) once again.
    review_reminded_for: Mapped[date | None] = mapped_column(Date)
    close_reason: Mapped[str | None] = mapped_column(String(20))
    # Who keeps this signal: NULL = registered by hand (API, web), 'import' = CSV import,
    # 'sync' = PUT /sync/signals. A feed updates and closes only its own signals.
    feed: Mapped[str | None] = mapped_column(String(8))
    # The system client whose sync created it (sync only). No foreign key: a revoked
    # client's signals stay, and so does the record of who fed them.
    feed_client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # Keyed hash (HMAC, key in keys/) of the source system's own reference, scoped by client
    # (sync) or organisation (import). Never the reference itself: it may be a pupil number.
    external_ref: Mapped[str | None] = mapped_column(String(64))
    # Sync only: keyed hash (HMAC, key in keys/) of the item its source last stated for it,
    # as applied, so an identical later sync passes it by without validating it again
    # (`services.sync_unchanged`). Cleared when the signal is changed by hand. Keyed: it
    # covers the BSNs, and unkeyed it would be a hash of them.
    feed_fingerprint: Mapped[str | None] = mapped_column(String(64))
    # Contract section 10: the CBS code (e.g. GM0935) of the municipality where the child
    # lives, checked against the bundled list; optional. Tells a regievoerder's scope.
    gemeente: Mapped[str | None] = mapped_column(String(6))
    # Art. 7.1.4.6 lid 2: the history of earlier signals is offered once. Set when its
    # author was shown it; asking again is 410 Gone.
    history_shown_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SignalParentRow(Base):
    __tablename__ = "signal_parents"

    signal_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("signals.id", ondelete="CASCADE"), primary_key=True
    )
    parent_pseudonym: Mapped[str] = mapped_column(
        String(PSEUDONYM_LENGTH), primary_key=True, index=True
    )


class MatchRow(Base):
    """One stable object per child (client) or per family (family)."""

    __tablename__ = "matches"
    __table_args__ = (
        Index(
            "uq_matches_client_child",
            "child_pseudonym",
            unique=True,
            sqlite_where=text("type = 'client'"),
            postgresql_where=text("type = 'client'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    # Set for client matches only: the child all its signals are about.
    child_pseudonym: Mapped[str | None] = mapped_column(String(PSEUDONYM_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    regisseur_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("professionals.id"))


class MatchSignalRow(Base):
    """The active signals that currently make up a match."""

    __tablename__ = "match_signals"

    match_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("matches.id", ondelete="CASCADE"), primary_key=True
    )
    signal_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("signals.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # When the signal joined the match: a participant's follow-up period starts here.
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime)


class IdempotencyKeyRow(Base):
    """A POST /signals answered once, replayed for a retry with the same key and body."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_expires_at", "expires_at"),)

    professional_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("professionals.id"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    # Keyed fingerprint of the body: an unkeyed hash of a body would be one of its BSNs.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    response_enc: Mapped[bytes] = mapped_column(LargeBinary)  # holds contact data: encrypted
    signal_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
