"""Tables of the federation (contract section 11, docs/federation.md).

One schema serves all three modes, each with its own database: a region uses the
`federation_pseudonyms`, `federation_published` and `federated_signals` tables (and
`organisations.region` for the other regions' organisations it mirrors); the key holder
`keyholder_*`; the hub `hub_*`. Members, seen tokens, state and audit serve every mode.

Nothing here is a BSN or a local pseudonym sent anywhere: `federation_pseudonyms` maps the
region's own pseudonyms to federation pseudonyms *inside* the region.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from verwijsindex.models.base import PSEUDONYM_LENGTH, Base, UtcDateTime

# base64url of a 32-byte ristretto255 element, without padding.
FEDERATION_PSEUDONYM_LENGTH = 43
MEMBER_NAME_LENGTH = 63


class FederationPseudonymRow(Base):
    """A region's local pseudonym (child or parent) and its federation pseudonym.

    Until the key holder has evaluated it, `blinded` and the sealed blind wait here (made on
    the request path, without network); both are cleared once `element` is known."""

    __tablename__ = "federation_pseudonyms"
    __table_args__ = (
        # The worker's "what waits for the key holder", oldest first: without it every round
        # read the whole table (1 M children: seconds until a cross-region match showed).
        Index(
            "ix_federation_pseudonyms_pending",
            "created_at",
            sqlite_where=text("blinded IS NOT NULL"),
            postgresql_where=text("blinded IS NOT NULL"),
        ),
    )

    local_pseudonym: Mapped[str] = mapped_column(String(PSEUDONYM_LENGTH), primary_key=True)
    element: Mapped[str | None] = mapped_column(String(FEDERATION_PSEUDONYM_LENGTH), index=True)
    key_version: Mapped[int | None] = mapped_column(Integer)
    blinded: Mapped[str | None] = mapped_column(String(FEDERATION_PSEUDONYM_LENGTH))
    blind_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class FederationPublishedRow(Base):
    """What the region last told the hub about one of its children (a fingerprint of the
    state), so the reconcile backstop republishes only what changed."""

    __tablename__ = "federation_published"

    child_pseudonym: Mapped[str] = mapped_column(String(PSEUDONYM_LENGTH), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)


class FederatedSignalRow(Base):
    """A mirrored signal (`signals.feed = 'fed'`): which region holds it, on which of its
    children (federation pseudonym), under which opaque reference."""

    __tablename__ = "federated_signals"
    __table_args__ = (
        Index("ux_federated_signals_region_ref", "region", "remote_ref", unique=True),
    )

    signal_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("signals.id", ondelete="CASCADE"), primary_key=True
    )
    region: Mapped[str] = mapped_column(String(MEMBER_NAME_LENGTH))
    remote_child: Mapped[str] = mapped_column(String(FEDERATION_PSEUDONYM_LENGTH), index=True)
    remote_ref: Mapped[str] = mapped_column(String(64))


class FederationMemberRow(Base):
    """A party enrolled with this hub or key holder (a region, or the hub at the key
    holder); `url` is where other regions reach a region."""

    __tablename__ = "federation_members"

    name: Mapped[str] = mapped_column(String(MEMBER_NAME_LENGTH), primary_key=True)
    url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class FederationMemberKeyRow(Base):
    """A member's public signing key (PEM); several during a rotation, `kid` = RFC 7638
    thumbprint."""

    __tablename__ = "federation_member_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    member: Mapped[str] = mapped_column(
        ForeignKey("federation_members.name", ondelete="CASCADE"), index=True
    )
    public_key: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class FederationSeenTokenRow(Base):
    """The `jti` of an assertion or ticket already accepted, until it expires: a replay is
    refused."""

    __tablename__ = "federation_seen_tokens"

    jti: Mapped[str] = mapped_column(String(100), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class FederationStateRow(Base):
    """Small named values: the hub's current key version, a region's notice cursor."""

    __tablename__ = "federation_state"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class FederationAuditRow(Base):
    """The hub's and key holder's audit: who asked what, counts only (no pseudonyms)."""

    __tablename__ = "federation_audit"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    member: Mapped[str | None] = mapped_column(String(MEMBER_NAME_LENGTH))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text)  # JSON: counts, member names, key versions


class KeyholderKeyRow(Base):
    """An OPRF key version; the highest is current. The scalar is sealed (field key)."""

    __tablename__ = "keyholder_keys"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    secret_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class KeyholderUsageRow(Base):
    """Elements evaluated per member per minute: the rate limit, shared by all workers."""

    __tablename__ = "keyholder_usage"

    member: Mapped[str] = mapped_column(String(MEMBER_NAME_LENGTH), primary_key=True)
    minute: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class HubHoldingRow(Base):
    """A pointer: region `region` holds active or archived signals on child `child`."""

    __tablename__ = "hub_holdings"

    region: Mapped[str] = mapped_column(String(MEMBER_NAME_LENGTH), primary_key=True)
    child: Mapped[str] = mapped_column(
        String(FEDERATION_PSEUDONYM_LENGTH), primary_key=True, index=True
    )
    status: Mapped[str] = mapped_column(String(10))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class HubHoldingParentRow(Base):
    """A parent the region's signals on `child` name: gezinsmatch across regions."""

    __tablename__ = "hub_holding_parents"

    region: Mapped[str] = mapped_column(String(MEMBER_NAME_LENGTH), primary_key=True)
    child: Mapped[str] = mapped_column(String(FEDERATION_PSEUDONYM_LENGTH), primary_key=True)
    parent: Mapped[str] = mapped_column(
        String(FEDERATION_PSEUDONYM_LENGTH), primary_key=True, index=True
    )


class HubNoticeRow(Base):
    """Tell `region` that the counterparts of its child `child` changed (polled)."""

    __tablename__ = "hub_notices"
    __table_args__ = (
        Index("ix_hub_notices_region_seq", "region", "seq"),
        {"sqlite_autoincrement": True},
    )

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    region: Mapped[str] = mapped_column(String(MEMBER_NAME_LENGTH))
    child: Mapped[str] = mapped_column(String(FEDERATION_PSEUDONYM_LENGTH))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


__all__ = [
    "FEDERATION_PSEUDONYM_LENGTH",
    "FederatedSignalRow",
    "FederationAuditRow",
    "FederationMemberKeyRow",
    "FederationMemberRow",
    "FederationPseudonymRow",
    "FederationPublishedRow",
    "FederationSeenTokenRow",
    "FederationStateRow",
    "HubHoldingParentRow",
    "HubHoldingRow",
    "HubNoticeRow",
    "KeyholderKeyRow",
    "KeyholderUsageRow",
]
