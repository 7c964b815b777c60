"""Tables for notifications: the outbox, webhook subscriptions and match follow-up.

The outbox holds ids only. An e-mail row names the recipient by professional id and the
address is decrypted at delivery time; a webhook row carries its ids-only payload, the
subscription holds the URL and the encrypted signing secret.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from verwijsindex.models.base import Base, UtcDateTime


class WebhookSubscriptionRow(Base):
    """A system client's wish to hear about events of its own organisation."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    client_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("system_clients.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[str] = mapped_column(String(200))  # space-separated event types
    secret_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Set when the receiver answered 410 Gone: Standard Webhooks' "stop sending".
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class OutboxRow(Base):
    """One notification to deliver: an e-mail to one professional or one webhook call.

    Written in the transaction of the event that causes it. A worker claims a due row by
    pushing `next_attempt_at` past its delivery timeout (a lease: if the worker dies, the
    row is due again) and stamping `claim_token`; only the holder of the token settles it.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index(
            "ix_outbox_due",
            "next_attempt_at",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_outbox_subscription_queued", "subscription_id", "queued_at", "id"),
        Index("ix_outbox_status_queued", "status", "queued_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # also the webhook-id
    channel: Mapped[str] = mapped_column(String(16))  # email | webhook
    topic: Mapped[str] = mapped_column(String(40))  # mail kind or event type
    professional_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("professionals.id"), index=True
    )
    subscription_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    payload: Mapped[str] = mapped_column(Text)  # JSON, ids only
    status: Mapped[str] = mapped_column(String(16))  # pending | delivered | failed | skipped
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    queued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    claim_token: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # A reason safe to show (e.g. "HTTP 500", "timeout"): never a reply text or an address.
    last_error: Mapped[str | None] = mapped_column(String(120))


class FollowUpRow(Base):
    """A participant's follow-up of a match, and the one reminder they may get."""

    __tablename__ = "match_follow_ups"

    match_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("matches.id", ondelete="CASCADE"), primary_key=True
    )
    professional_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("professionals.id"), primary_key=True
    )
    followed_up_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
