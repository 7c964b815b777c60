"""The change feed's table: each organisation's section-7 events, for systems that poll.

One row is one event as one organisation hears it (the body a webhook subscriber of that
organisation would be sent: ids only, naming only its own professionals), written in the
transaction of the event itself and kept at least 30 days.

Why a row carries `writer_xid` and is read in `(writer_xid, seq)` order, not by `seq`
alone: `seq` comes from a sequence, handed out before commit, so a transaction that commits
late can make a row with a *lower* `seq` visible after a reader has moved past it. On
PostgreSQL `writer_xid` is the writing transaction's id (`pg_current_xact_id()`), and a
reader takes only rows written by transactions older than every transaction still running
(`pg_snapshot_xmin` of its own snapshot): all of those have finished, so nothing can ever
appear before what it has read. SQLite writers are serial (`BEGIN IMMEDIATE`), so `seq`
order is commit order there and `writer_xid` is 0.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from verwijsindex.models.base import Base, UtcDateTime


class FeedEventRow(Base):
    """One event of contract section 7 in one organisation's change feed."""

    __tablename__ = "feed_events"
    __table_args__ = (
        # An organisation's feed in reading order.
        Index(
            "ix_feed_events_organisation_id_writer_xid_seq", "organisation_id", "writer_xid", "seq"
        ),
        # The whole feed in reading order: the purge deletes a prefix of it.
        Index("ix_feed_events_writer_xid_seq", "writer_xid", "seq"),
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
    writer_xid: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(40))  # match.created, ... (events.WebhookEvent)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    data: Mapped[str] = mapped_column(Text)  # JSON, ids only
