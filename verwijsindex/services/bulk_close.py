"""Closing a feed's signals in bulk: those a complete set no longer names
(`services.bulk.close_absent`), and a sync's signal whose reference moved to another
professional or child (`services.bulk_apply`). Closing is archiving with reason
`risk_gone`, exactly as `DELETE /signals/{id}` does it.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from verwijsindex import domain
from verwijsindex.audit import AuditEntry
from verwijsindex.domain import CloseReason
from verwijsindex.events import SignalArchived
from verwijsindex.matching import refresh_matches_around
from verwijsindex.models import SignalRow
from verwijsindex.repository.bulk import BulkRepository
from verwijsindex.services.bulk_items import Feed
from verwijsindex.services.unit_of_work import Transaction

# Rows read per statement when looking for a feed's absent signals.
FEED_PAGE = 2000


def close_rows(
    tx: Transaction,
    repository: BulkRepository,
    rows: Sequence[SignalRow],
    parents: dict[uuid.UUID, frozenset[str]],
) -> int:
    """Archive these active signals at once, reason `risk_gone`, exactly as
    `services.archiving.archive` does for `DELETE /signals/{id}`, but with one UPDATE for
    all; only the signals that were in a match have their matches reconciled (one not in a
    match cannot change any: a match needs two signals, and fewer cannot form one)."""
    at = tx.now
    for row in rows:
        turns_23_at = domain.start_of_local_day(domain.turns_23_on(row.child_birth_date))
        row.status = domain.SignalStatus.ARCHIVED.value
        row.archived_at = at
        row.active_until = min(row.active_until, at)
        row.archived_until = domain.archived_until(at, turns_23_at)
        row.close_reason = CloseReason.RISK_GONE.value
    tx.uow.session.flush()
    matched = repository.in_a_match(r.id for r in rows)
    for row in rows:
        tx.emit(SignalArchived(row.id, row.professional_id))
        if row.id in matched:
            refresh_matches_around(tx.matches, row.id, row.child_pseudonym, parents[row.id])
        tx.record(
            AuditEntry(
                "signal:close",
                "signal",
                row.id,
                row.child_pseudonym,
                on_behalf_of=row.professional_id,
            )
        )
    return len(rows)


def absent_signals(
    tx: Transaction,
    feed: Feed,
    present: Collection[str | tuple[uuid.UUID, str]],
    *,
    after: uuid.UUID | None,
    limit: int,
) -> tuple[list[uuid.UUID], uuid.UUID | None]:
    """Up to `limit` active signals of this feed, in id order after `after`, that `present`
    does not name; and the id to go on after (None: none left)."""
    repository = BulkRepository(tx.uow.session, tx.keys)
    absent: list[uuid.UUID] = []
    cursor = after
    while True:
        page = repository.feed_page(
            feed.kind, feed.client_id, feed.organisation_id, cursor, FEED_PAGE
        )
        for signal_id, professional_id, child, ref in page:
            cursor = signal_id
            key = ref if feed.client_id is not None else (professional_id, child)
            if key not in present:
                absent.append(signal_id)
                if len(absent) == limit:
                    return absent, cursor
        if len(page) < FEED_PAGE:
            return absent, None


def close_signals(tx: Transaction, feed: Feed, signal_ids: Sequence[uuid.UUID]) -> int:
    """Close these signals of the feed (those still active), with their persons locked first
    as `DELETE /signals/{id}` does; returns how many were closed."""
    repository = BulkRepository(tx.uow.session, tx.keys)
    parents = repository.parents_of(signal_ids)
    children = repository.children_of(signal_ids)
    tx.matches.lock_persons({*children.values(), *(p for ps in parents.values() for p in ps)})
    rows = [
        r
        for r in repository.rows_for_update(signal_ids)
        if r.feed == feed.kind and r.feed_client_id == feed.client_id
    ]
    return close_rows(tx, repository, rows, parents) if rows else 0
