"""Signals in bulk from source systems: the engine under `verwijsindex import` and
`PUT /sync/signals` (contract section 9).

A source system states its *desired* signals; the engine makes the index agree, in batches
of at most `BATCH_SIZE` items, each batch one transaction (`apply_batch`), and closes the
signals a complete set no longer names (`close_absent`). Callers parse their input (a CSV
row, a JSON item) and hand each one to `desired_signal`, which validates it exactly like
`POST /signals` and pseudonymises it: from there on no BSN exists, only keyed pseudonyms.

Who keeps a signal is its `Feed`: an organisation's CSV imports (`feed = 'import'`), or one
system client's sync (`feed = 'sync'`, `feed_client_id`). A feed updates and closes only
its own signals; a signal registered by hand, or by another feed, is never adopted, changed
or closed by it (an item naming a professional who already has an active signal on that
child is `unchanged`).

Everything a single registration does happens for each created item, in the batch's
transaction: matching (client and family) under the same per-person locks as
`services.registration` (every child and parent of the batch locked in one sorted
statement, families walked for the whole batch), `SignalRegistered` events and owners (the
statistics), match changes (mails and webhooks through the outbox), and audit.

**One audit record per item**, not one per batch: `signal:create`, `signal:update` or
`signal:close` like the hand-made ones, the child's pseudonym as subject, the related match
ids, and `on_behalf_of` the item's professional (so the record's `actor_id` names that
professional, as with a system token and `X-Professional-Id`, while the source's client is
named as the one it came through). A privacy officer searching by `objectId` for one signal,
or by actor for one professional, must find its creation; a batch record naming hundreds of
ids would hide it from both. It costs no round trips: a transaction's records are appended in
one statement already (`audit.AuditLog.append`).

`migration=True` (a region moving from another system, once): matches are formed but nobody
is mailed (they are old news; webhooks still go, a source system may want to know), and an
item's `registered_on` becomes its signal's registration moment, so the lifecycle dates
follow from the original date. For the same reasons the participations a migration forms
count as reminded already (`match_follow_ups.reminded_at`), so `maintenance` sends nobody a
"not followed up" reminder ten working days later about a match they were never told of
(`bulk_matching.count_as_reminded`); and a migrated signal is counted in the statistics in
the month of its original registration (`SignalRegistered.registered_at`), while a match it
forms counts in the month it is formed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from verwijsindex.audit import Who
from verwijsindex.db import with_retries
from verwijsindex.domain import Problem
from verwijsindex.repository.bulk import BulkRepository
from verwijsindex.services import bulk_apply, bulk_close
from verwijsindex.services.bulk_items import (
    MAX_EXTERNAL_REF_LENGTH,
    DesiredSignal,
    Feed,
    Roster,
    desired_signal,
    external_ref_digest,
    roster,
)

if TYPE_CHECKING:
    from verwijsindex.services.core import Core
    from verwijsindex.services.unit_of_work import Transaction

__all__ = [
    "BATCH_SIZE",
    "MAX_EXTERNAL_REF_LENGTH",
    "BulkReport",
    "DesiredSignal",
    "Feed",
    "Roster",
    "SkippedItem",
    "apply_batch",
    "close_absent",
    "desired_signal",
    "external_ref_digest",
    "refresh_statistics",
    "roster",
]

# Items per transaction. Each locks its child and parents (PostgreSQL advisory locks, which
# share the lock table: max_locks_per_transaction 64 x max_connections), so a batch must
# stay far below that table's size; and a batch is what a killed worker redoes.
BATCH_SIZE = 250


@dataclass(frozen=True, slots=True)
class SkippedItem:
    """An item not applied, and why, in the contract's field names; never a BSN."""

    position: int
    problems: list[Problem]
    external_ref: str | None = None  # the source's own value, for the sync report only;
    # the engine never sees it: callers fill it in from their input.


@dataclass
class BulkReport:
    """What a run did: counts per outcome, and the items skipped with their problems."""

    created: int = 0
    updated: int = 0
    closed: int = 0
    unchanged: int = 0
    skipped: list[SkippedItem] = field(default_factory=list)

    def add(self, other: BulkReport) -> None:
        """Fold another batch's report into this one."""
        self.created += other.created
        self.updated += other.updated
        self.closed += other.closed
        self.unchanged += other.unchanged
        self.skipped.extend(other.skipped)

    def skip(self, position: int, problems: Sequence[Problem]) -> None:
        self.skipped.append(SkippedItem(position, list(problems)))

    def as_json(self) -> dict[str, Any]:
        """Contract section 9, `import --json`: skipped items as `line` and `invalidParams`."""
        return {
            "created": self.created,
            "updated": self.updated,
            "closed": self.closed,
            "unchanged": self.unchanged,
            "skipped": [
                {
                    "line": s.position,
                    "invalidParams": [{"name": p.name, "reason": p.reason} for p in s.problems],
                }
                for s in sorted(self.skipped, key=lambda s: s.position)
            ],
        }


# --- applying ------------------------------------------------------------------------------


def apply_batch(
    core: Core,
    who: Who,
    feed: Feed,
    items: Sequence[DesiredSignal],
    *,
    dry_run: bool = False,
    migration: bool = False,
    in_same_transaction: Callable[[Transaction, BulkReport], None] | None = None,
) -> BulkReport:
    """Make the index agree with these items, in one transaction (at most `BATCH_SIZE`).

    `who` is the audit log's actor: the system client (sync) or the service itself (CLI);
    it should not name a professional, since each item's audit record names its own
    professional. Per item: a professional who is not an active professional of the feed's
    organisation (checked in the batch's own query, so a deactivation just before counts)
    is skipped with a problem on `professional` / `professionalId`; a second item on the
    same professional and child (or the same external reference) in one batch is skipped;
    an existing active signal of that professional on that child is `unchanged`, unless it
    is this feed's own, whose informatieplicht is then updated like `PATCH /signals/{id}`
    (`updated`); for a sync, a reference that now names another professional or child
    closes the old signal and creates the new one.

    `in_same_transaction` runs just before commit with the transaction and this batch's
    report (a sync run marks its items applied there, atomically with them). `dry_run`:
    the same report, nothing of the items written (their work is rolled back to a
    savepoint; the callback's writes are committed). A dry run's batches do not see each
    other's would-be signals, so an item repeated in a later batch counts as created
    there again. The whole batch is retried after a
    deadlock or serialisation failure (`db.with_retries`), so the callback may run more
    than once, each time in a fresh transaction.
    """

    # The planner's statistics first: the batch's lookups are planned by them.
    refresh_statistics(core, at_least=BATCH_SIZE)

    def attempt() -> BulkReport:
        report = BulkReport()
        with core.transaction(write=True, actor=_Source(who)) as tx:
            if dry_run:
                # Everything the items would do, then undone; what the caller records
                # (a run's progress) is still committed.
                with bulk_apply.undone(tx):
                    bulk_apply.apply_items(tx, feed, items, report, migration=migration)
            else:
                bulk_apply.apply_items(tx, feed, items, report, migration=migration)
            if in_same_transaction is not None:
                in_same_transaction(tx, report)
            tx.commit()
        return report

    return with_retries(attempt)


def close_absent(
    core: Core,
    who: Who,
    feed: Feed,
    present: Collection[str | tuple[uuid.UUID, str]],
    *,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Close (archive, reason `risk_gone`, exactly like `DELETE /signals/{id}`) every
    *active* signal of this feed that `present` does not name; returns how many.

    For a sync feed `present` holds external-reference digests (`external_ref_digest`); for
    an import feed, `(professional_id, child pseudonym)` pairs. Signals with no feed (made
    by hand) or of another feed are never touched. In batches of `BATCH_SIZE`, each its own
    transaction; `progress` is called with the number closed after each batch. `dry_run`
    counts without closing.
    """
    if not isinstance(present, set | frozenset):
        present = frozenset(present)  # looked up once per active signal of the feed
    closed, after = 0, None
    while True:
        batch, after = _close_absent_batch(core, who, feed, present, dry_run=dry_run, after=after)
        closed += batch
        if batch and progress is not None:
            progress(closed)
        if after is None:
            return closed


def _close_absent_batch(
    core: Core,
    who: Who,
    feed: Feed,
    present: Collection[str | tuple[uuid.UUID, str]],
    *,
    dry_run: bool,
    after: uuid.UUID | None,
) -> tuple[int, uuid.UUID | None]:
    """Close up to `BATCH_SIZE` absent signals in one transaction, reading the feed's
    active signals in id order from `after` on; returns how many, and where to go on from
    (None: the end)."""

    def attempt() -> tuple[int, uuid.UUID | None]:
        with core.transaction(write=True, actor=_Source(who)) as tx:
            absent, next_after = bulk_close.absent_signals(
                tx, feed, present, after=after, limit=BATCH_SIZE
            )
            if dry_run or not absent:
                return len(absent), next_after
            closed = bulk_close.close_signals(tx, feed, absent)
            tx.commit()
        return closed, next_after

    return with_retries(attempt)


def refresh_statistics(core: Core, *, at_least: int) -> list[str]:
    """Analyse the tables a bulk run grows when their statistics no longer describe them
    (PostgreSQL; `BulkRepository.stale_statistics`); returns which were analysed.

    Autovacuum analyses a table after a tenth of it changed, but looks only once a minute
    (or never, where it is off), and a bulk run changes a table faster: a region's first
    import runs on tables never analysed, which the planner takes for ten rows, and then
    plans its lookups as scans of every signal (a 100,000-row import took 865 s). The
    PostgreSQL manual's advice for bulk loading is to ANALYZE after it; here it is done
    along the way, whenever the changes since the last one outnumber the rows it counted
    (so about log2 of the run's size times). In a transaction of its own, before the batch,
    so the batch holds none of ANALYZE's locks."""
    if core.database.dialect != "postgresql":
        return []  # SQLite's planner does not go astray without statistics here
    with core.transaction(write=True) as tx:
        repository = BulkRepository(tx.uow.session, tx.keys)
        stale = repository.stale_statistics(at_least)
        if stale:
            repository.analyse(stale)
            tx.commit()
    return stale


@dataclass(frozen=True, slots=True)
class _Source:
    """The audit actor of a bulk transaction, as `Core.transaction` takes it."""

    who: Who
