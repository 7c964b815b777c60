"""The change feed's table: each organisation's section-7 events, for systems that poll.

One row is one event as one organisation hears of it (the `data` a webhook subscriber of
that organisation would be sent: ids only, naming only its own professionals), written in
the transaction of the event itself and kept at least 30 days.

Why a row has a `position` apart from `seq`: `seq` is handed out when the row is written,
before commit, so a transaction that commits late can make a row with a *lower* `seq`
visible after a reader has moved past it. `position` is given only to rows already
committed, by one positioner at a time, each new one above every earlier one
(`repository.feed`), and readers read by `position` alone; a row not yet positioned is
not yet in the feed.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from verwijsindex.models.base import Base, UtcDateTime


class FeedEventRow(Base):
    """One event of contract section 7 in one organisation's change feed."""

    __tablename__ = "feed_events"
    __table_args__ = (
        # An organisation's feed in reading order.
        Index("ix_feed_events_organisation_id_position", "organisation_id", "position"),
        # One place per event; the last place given; the purge's prefix.
        Index("ux_feed_events_position", "position", unique=True),
        # The rows still waiting for a place, in the order they were written.
        Index(
            "ix_feed_events_unpositioned",
            "seq",
            postgresql_where=text("position IS NULL"),
            sqlite_where=text("position IS NULL"),
        ),
        # `after=<event id>` finds its place by the event's id.
        Index("ux_feed_events_id", "id", unique=True),
        # SQLite: never hand out a purged row's number again.
        {"sqlite_autoincrement": True},
    )

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid)  # the event's id, as consumers see it
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    position: Mapped[int | None] = mapped_column(BigInteger)  # NULL: not yet in the feed
    type: Mapped[str] = mapped_column(String(40))  # match.created, ... (events.WebhookEvent)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    data: Mapped[str] = mapped_column(Text)  # JSON, ids only
