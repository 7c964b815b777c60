"""The work inside one bulk transaction: `services.bulk` opens the transactions and retries
them, this module fills them. See `services.bulk` for what a feed may do to which signals,
and why.

A batch, in order:
1. items repeating an earlier one of the batch, and items whose professional is not an
   active professional of the feed's organisation, are skipped;
2. every child and parent of the batch (and of a sync's signals whose reference moved) is
   locked in one sorted statement, the same per-person locks `services.registration` takes,
   so an ordinary `POST /signals` on one of these children waits for the batch or the
   batch for it, and exactly one of them forms the match;
3. under the locks: the items' existing signals are read in one statement (one index probe
   per child, planned alike with or without statistics: `BulkRepository.active_rows`);
   signals whose source reference now names another professional or child are closed;
4. own signals with another informatieplicht are updated (as `PATCH /signals/{id}`);
5. the new signals' families are walked for the whole batch (locking every further person
   reached, as `matching.family_of` does for one), the new signals inserted in one
   statement, and the stored matches reconciled once for every family a new signal joined,
   every match of the batch written together (`services.bulk_matching`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from verwijsindex import domain
from verwijsindex.audit import AuditEntry
from verwijsindex.domain import Informatieplicht, Problem
from verwijsindex.events import SignalRegistered
from verwijsindex.matching import SignalFacts
from verwijsindex.models import SignalRow
from verwijsindex.repository import SignalOwner
from verwijsindex.repository.bulk import BulkRepository, FeedSignal, Registering
from verwijsindex.services.bulk_close import close_rows
from verwijsindex.services.bulk_items import DesiredSignal, Feed
from verwijsindex.services.bulk_matching import count_as_reminded, reconcile, walk_families
from verwijsindex.services.registration import note_move, set_postponement
from verwijsindex.services.unit_of_work import Transaction

if TYPE_CHECKING:
    from verwijsindex.services.bulk import BulkReport

ACTIVE = domain.SignalStatus.ACTIVE.value


def _repository(tx: Transaction) -> BulkRepository:
    return BulkRepository(tx.uow.session, tx.keys)


def apply_items(
    tx: Transaction,
    feed: Feed,
    items: Sequence[DesiredSignal],
    report: BulkReport,
    *,
    migration: bool,
) -> None:
    """Apply one batch in the caller's transaction, counting every outcome in `report`."""
    repository = _repository(tx)
    repository.prefer_index_probes()
    tx.mail = not migration
    candidates = _first_of_each(feed, items, report, migration=migration)
    registering = repository.registering(
        feed.organisation_id, {i.professional_id for i in candidates}
    )
    valid = registering.professional_ids
    for item in [i for i in candidates if i.professional_id not in valid]:
        report.skip(
            item.position,
            [Problem(feed.professional_field, "Not an active professional of this organisation.")],
        )
    candidates = [i for i in candidates if i.professional_id in valid]
    if not candidates:
        return
    referenced: dict[str, FeedSignal] = {}
    if feed.client_id is not None:
        refs = {i.external_ref for i in candidates if i.external_ref}
        referenced = {s.external_ref: s for s in repository.by_external_ref(feed.client_id, refs)}
    tx.staged_pseudonyms.extend(s for i in candidates for s in i.staged)
    tx.matches.lock_persons(
        {p for i in candidates for p in (i.child, *i.parents)}
        | {p for s in referenced.values() for p in (s.child, *s.parents)}
    )
    # The referenced signals are found again by their own pair, now under the locks: one
    # closed in the meantime is not found (nor one taken over by another signal since).
    rows = repository.active_rows(
        {(i.professional_id, i.child) for i in candidates}
        | {(s.professional_id, s.child) for s in referenced.values()}
    )
    by_id = {r.id: r for r in rows}
    moved = [
        by_id[s.id]
        for i in candidates
        if i.external_ref
        and (s := referenced.get(i.external_ref)) is not None
        and s.id in by_id
        and (s.professional_id, s.child) != (i.professional_id, i.child)
    ]
    if moved:
        report.closed += close_rows(
            tx, repository, moved, {s.id: s.parents for s in referenced.values()}
        )
    by_pair = {(r.professional_id, r.child_pseudonym): r for r in rows if r.status == ACTIVE}
    new: list[DesiredSignal] = []
    for item in candidates:
        existing = by_pair.get((item.professional_id, item.child))
        if existing is None:
            new.append(item)
        elif not _kept_by(existing, feed, item) or _same_duty(
            repository, existing, item.informatieplicht
        ):
            report.unchanged += 1  # someone else's signal (by hand, another feed): not adopted
        else:
            _update(tx, existing, item.informatieplicht)
            report.updated += 1
        if existing is not None and _kept_by(existing, feed, item):
            # The item as now applied: an identical later sync passes it by (sync_unchanged).
            existing.feed_fingerprint = item.fingerprint
    if new:
        _create(tx, feed, new, registering, migration=migration)
        report.created += len(new)


def _first_of_each(
    feed: Feed, items: Sequence[DesiredSignal], report: BulkReport, *, migration: bool
) -> list[DesiredSignal]:
    """The items that do not repeat an earlier one (same professional and child, or same
    source reference); the repeats are skipped. Also skips a sync item without a reference,
    and an original registration date outside a migration (the callers check both first)."""
    word = "line" if feed.client_id is None else "item"
    by_pair: dict[tuple[uuid.UUID, str], int] = {}
    by_ref: dict[str, int] = {}
    kept = []
    for item in items:
        problems = []
        earlier = by_pair.get((item.professional_id, item.child))
        if earlier is not None:
            problems.append(Problem("bsn", f"The same professional and child as {word} {earlier}."))
        if item.external_ref is not None and item.external_ref in by_ref:
            problems.append(
                Problem("externalRef", f"The same reference as {word} {by_ref[item.external_ref]}.")
            )
        if feed.client_id is not None and item.external_ref is None:
            problems.append(Problem("externalRef", "A sync item needs its source's reference."))
        if item.registered_on is not None and not migration:
            problems.append(
                Problem("registeredOn", "Only a migration keeps an original registration date.")
            )
        if problems:
            report.skip(item.position, problems)
            continue
        by_pair[item.professional_id, item.child] = item.position
        if item.external_ref is not None:
            by_ref[item.external_ref] = item.position
        kept.append(item)
    return kept


def _kept_by(row: SignalRow, feed: Feed, item: DesiredSignal) -> bool:
    """Whether this feed keeps `row` as the signal of `item` (and so may change it)."""
    if feed.client_id is None:
        return row.feed == feed.kind
    return (
        row.feed == feed.kind
        and row.feed_client_id == feed.client_id
        and row.external_ref == item.external_ref
    )


def _same_duty(repository: BulkRepository, row: SignalRow, duty: Informatieplicht) -> bool:
    if (row.child_informed, row.parents_informed) != (duty.child_informed, duty.parents_informed):
        return False
    postponement = duty.postponement
    if postponement is None or row.postponement_reason is None:
        return postponement is None and row.postponement_reason is None
    return (
        row.postponement_reason == postponement.reason.value
        and row.review_on == postponement.review_on
        and repository.justification(row) == postponement.justification
    )


def _update(tx: Transaction, row: SignalRow, duty: Informatieplicht) -> None:
    """The informatieplicht of a feed's own signal, as `PATCH /signals/{id}` changes it: the
    whole duty as the source states it now (validated like the PATCH by `desired_signal`),
    the justification sealed again, audited as `signal:update`."""
    row.child_informed = duty.child_informed
    row.parents_informed = duty.parents_informed
    set_postponement(tx, row, duty.postponement)
    tx.record(
        AuditEntry(
            "signal:update",
            "signal",
            row.id,
            row.child_pseudonym,
            on_behalf_of=row.professional_id,
        )
    )


def _create(
    tx: Transaction,
    feed: Feed,
    items: Sequence[DesiredSignal],
    registering: Registering,
    *,
    migration: bool,
) -> None:
    """Store the new signals, each in the organisation's default gemeente (a source system
    names none, as a professional may leave it out of `POST /signals`), and match them."""
    gemeente = registering.default_gemeente
    sector = registering.sector or ""
    family = walk_families(tx, {i.child for i in items}, {p for i in items for p in i.parents})
    rows = [_new_row(tx, feed, item, gemeente, migration=migration) for item in items]
    _repository(tx).add_signals(
        rows, {r["id"]: sorted(i.parents) for r, i in zip(rows, items, strict=True)}
    )
    joined = []
    for row, item in zip(rows, items, strict=True):
        registered_at = row["created_at"] if row["created_at"] != tx.now else None
        tx.emit(
            SignalRegistered(row["id"], item.professional_id, gemeente, registered_at=registered_at)
        )
        tx.owners[row["id"]] = SignalOwner(
            item.professional_id, feed.organisation_id, sector, gemeente
        )
        joined.append(
            SignalFacts(
                row["id"], item.professional_id, item.child, item.parents, row["created_at"]
            )
        )
    matches = reconcile(tx, family, joined)
    tx.owners.update(tx.matches.owners_seen())
    if migration:
        count_as_reminded(tx)
    else:
        # A move (Jeugdwet 7.1.2.3 g) as for one registration; a migration's are old news.
        for row, item in zip(rows, items, strict=True):
            note_move(tx, row["id"], gemeente, item.child, family, matches.get(row["id"], []))
    for row, item in zip(rows, items, strict=True):
        tx.record(
            AuditEntry(
                "signal:create",
                "signal",
                row["id"],
                item.child,
                [m.id for m in matches.get(row["id"], [])],
                on_behalf_of=item.professional_id,
            )
        )


def _new_row(
    tx: Transaction, feed: Feed, item: DesiredSignal, gemeente: str | None, *, migration: bool
) -> dict[str, Any]:
    """The signal's column values, as `services.registration` makes them (a plain dict: an
    ORM object per row would cost more than the insert); with a migration's original date,
    registered at the start of that day, so its active and archive periods run from then."""
    created_at: datetime = tx.now
    if migration and item.registered_on is not None:
        created_at = min(domain.start_of_local_day(item.registered_on), tx.now)
    turns_23_at = domain.start_of_local_day(domain.turns_23_on(item.birth_date))
    first_day_archived = domain.active_until(created_at, turns_23_at)
    duty = item.informatieplicht
    signal_id = uuid.uuid4()
    postponement = duty.postponement
    return {
        "id": signal_id,
        "professional_id": item.professional_id,
        "child_pseudonym": item.child,
        "status": ACTIVE,
        "created_at": created_at,
        "active_until": first_day_archived,
        "archived_at": None,
        "archived_until": domain.archived_until(first_day_archived, turns_23_at),
        "child_birth_date": item.birth_date,
        "child_informed": duty.child_informed,
        "parents_informed": duty.parents_informed,
        # As `registration.set_postponement`: the justification sealed to this signal.
        "postponement_reason": postponement.reason.value if postponement else None,
        "postponement_justification_enc": (
            tx.signals.seal_justification(signal_id, postponement.justification)
            if postponement
            else None
        ),
        "review_on": postponement.review_on if postponement else None,
        "review_reminded_for": None,
        "close_reason": None,
        "feed": feed.kind,
        "feed_client_id": feed.client_id,
        "external_ref": item.external_ref,
        "feed_fingerprint": item.fingerprint,
        "gemeente": gemeente,
    }


# --- a dry run --------------------------------------------------------------------------------


@contextmanager
def undone(tx: Transaction) -> Iterator[None]:
    """Whatever the block writes is rolled back to a savepoint at its end, and what it
    recorded (audit entries, events, match changes) is forgotten, so that the transaction
    can still commit what its caller writes afterwards."""
    session = tx.uow.session
    savepoint = session.begin_nested()
    try:
        yield
        session.flush()  # every change inside the savepoint, so its rollback takes them all
    finally:
        savepoint.rollback()
        tx.entries.clear()
        tx.events.clear()
        tx.owners.clear()
        tx.__dict__.pop("matches", None)  # a fresh match store: no changes to announce
        tx.mail = True
