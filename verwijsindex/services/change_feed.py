"""The change feed (`GET /api/v1/events`): section-7 events for systems that cannot receive
webhooks (contract section 9, "Change feed").

What an organisation's feed holds is exactly what its webhook subscribers would be sent,
whether or not it has any: `services.notifications` turns a transaction's events into one
`Announcement` per organisation involved, the webhook calls are made from those, and the
step before commit `record_announcements` (`services.pipeline`) writes the same ones to the
feed, in one multi-row INSERT in the transaction of the events. A transaction without
announcements writes nothing.

Reading: oldest first, ids only, `after` the id of the last event the system has seen,
pages of at most 100. An event enters the feed when a read (or maintenance) gives it its
place, which happens only after its transaction committed and always above every place
given before (`repository.feed`); so a system that keeps reading `after` its last event
never misses one, however late a transaction commits. A read is therefore a writing
transaction: on PostgreSQL one that finds nothing to place writes nothing and waits for no
one; on SQLite it takes the write lock for a moment, as every writer does there.

Events are kept `FEED_KEPT` (30 days); `verwijsindex maintenance` purges older ones. An
`after` that names no kept event of the organisation (purged, or never its own) is refused
with `FeedCursorGone` (410): skipping silently to the oldest kept event would hide that
events were missed, so the system must start again without `after` and reconcile.

Audit: an event holds ids only, but it does say that one of the organisation's
professionals takes part in a match about some child: the same disclosure as a webhook
delivery, which is audited. So a read that hands out events leaves one record
(`event-feed:read`, the organisation, the matches and signals named); an empty poll discloses
nothing and leaves none (a system polling every minute would otherwise fill the log with
nothing). The record is written in the reading transaction: no events leave without it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from verwijsindex.audit import AuditEntry
from verwijsindex.domain import DomainError
from verwijsindex.repository import FeedEntry, FeedEvent
from verwijsindex.services.unit_of_work import Transaction

if TYPE_CHECKING:  # services.core imports the pipeline, which imports this module
    from verwijsindex.services.auth import SystemCaller
    from verwijsindex.services.core import Core

# FeedEvent is what the API shows: re-exported, so that it needs no repository.
__all__ = [
    "FEED_KEPT",
    "MAX_PAGE_SIZE",
    "FeedCursorGone",
    "FeedEvent",
    "FeedPage",
    "purge_feed",
    "read_feed",
    "record_announcements",
]

FEED_KEPT = timedelta(days=30)
MAX_PAGE_SIZE = 100


class FeedCursorGone(DomainError):
    """`after` names no event kept in this organisation's feed (410 Gone)."""


@dataclass(frozen=True, slots=True)
class FeedPage:
    items: list[FeedEvent]
    more: bool  # more events are final after the last item: read again at once


def record_announcements(tx: Transaction) -> None:
    """Step before commit: the transaction's announcements become feed rows, once."""
    if tx.announcements:
        tx.feed.append(
            (FeedEntry(a.organisation_id, a.type, a.data) for a in tx.announcements), tx.now
        )
        tx.announcements.clear()


def read_feed(
    core: Core, caller: SystemCaller, after: uuid.UUID | None, page_size: int
) -> FeedPage:
    """The caller's organisation's events after the event `after` (from the oldest kept
    without it), at most `page_size`, oldest first."""
    with core.transaction(write=True, actor=caller) as tx:
        tx.feed.position_new_events()
        place = None
        if after is not None:
            place = tx.feed.place_of(caller.organisation_id, after)
            if place is None:
                raise FeedCursorGone(
                    f"`after` names no event kept in this organisation's feed: events are "
                    f"kept {FEED_KEPT.days} days. Read again without `after` (from the "
                    "oldest event kept) and compare your matches with GET /matches."
                )
        found = tx.feed.events_after(caller.organisation_id, place, page_size + 1)
        page = FeedPage(found[:page_size], len(found) > page_size)
        if page.items:
            tx.record(
                AuditEntry(
                    "event-feed:read",
                    "organisation",
                    caller.organisation_id,
                    related_ids=_objects_named(page.items),
                )
            )
        tx.commit()
    return page


def purge_feed(tx: Transaction, now: datetime) -> int:
    """Maintenance: delete the events older than `FEED_KEPT`; how many were deleted. Events
    nobody has read yet get their places first, so that they are purged in order too."""
    tx.feed.position_new_events()
    return tx.feed.purge_older_than(now - FEED_KEPT)


def _objects_named(events: list[FeedEvent]) -> list[uuid.UUID]:
    """The matches and signals the events name, each once, in order of appearance."""
    named: dict[uuid.UUID, None] = {}
    for event in events:
        for key in ("matchId", "signalId"):
            value = event.data.get(key)
            if isinstance(value, str):
                named[uuid.UUID(value)] = None
    return list(named)
