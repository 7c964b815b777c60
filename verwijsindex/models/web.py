"""Tables for people logging into the web UI: server-side sessions and invitations.

The browser holds only a random token; the database holds its SHA-256 (a fast hash is
enough for a 256-bit random value), so a copy of the database opens no session. Sessions
live server-side so that logging out, deactivating someone and expiry take effect at once.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from verwijsindex.models.base import Base, UtcDateTime


class WebSessionRow(Base):
    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_last_seen_at", "last_seen_at"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    professional_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("professionals.id"), index=True)
    # password: second factor still to come; totp_setup: first login, scanning the QR code;
    # active: logged in.
    stage: Mapped[str] = mapped_column(String(16))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)


class InvitationRow(Base):
    """A one-time link with which an invited professional sets a password."""

    __tablename__ = "invitations"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    professional_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("professionals.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
