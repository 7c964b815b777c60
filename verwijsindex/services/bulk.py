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
follow from the original date.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from verwijsindex import domain
from verwijsindex.audit import Who
from verwijsindex.db import with_retries
from verwijsindex.domain import Bsn, Informatieplicht, InvalidInput, Problem
from verwijsindex.pseudonym import parse_bsn
from verwijsindex.services import bulk_apply

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
    "roster",
]

# Items per transaction. Each locks its child and parents (PostgreSQL advisory locks, which
# share the lock table: max_locks_per_transaction 64 x max_connections), so a batch must
# stay far below that table's size; and a batch is what a killed worker redoes.
BATCH_SIZE = 250
MAX_EXTERNAL_REF_LENGTH = 100

IMPORT = "import"
SYNC = "sync"


@dataclass(frozen=True, slots=True)
class Feed:
    """Who keeps this desired state: an organisation's CSV imports, or one system client's sync."""

    organisation_id: uuid.UUID
    client_id: uuid.UUID | None = None  # None: CSV import; else the sync's system client

    @property
    def kind(self) -> str:
        """The value of `signals.feed` for this feed's signals."""
        return IMPORT if self.client_id is None else SYNC

    @property
    def professional_field(self) -> str:
        """How the input names an item's professional: a CSV column or a JSON field."""
        return "professional" if self.client_id is None else "professionalId"


@dataclass(frozen=True, slots=True)
class DesiredSignal:
    """One validated, pseudonymised item: no BSN left, only keyed pseudonyms."""

    position: int  # CSV line number, or 0-based index in the sync body
    professional_id: uuid.UUID
    child: str  # keyed pseudonym, never a BSN
    parents: frozenset[str]  # keyed pseudonyms
    birth_date: date
    informatieplicht: Informatieplicht
    external_ref: str | None = None  # keyed digest from external_ref_digest()
    registered_on: date | None = None  # --migration only


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


# --- validation and pseudonymisation, before any transaction -------------------------------


def desired_signal(
    core: Core,
    *,
    position: int,
    professional_id: uuid.UUID,
    bsn: str | None,
    birth_date: date | None,
    parent_bsns: Sequence[str],
    informatieplicht: Informatieplicht | None,
    external_ref: str | None,
    feed: Feed,
    registered_on: date | None = None,
    migration: bool = False,
) -> DesiredSignal:
    """Validate one item exactly like `POST /signals` and pseudonymise it.

    The rules are the domain's (`domain.new_signal_problems`), BSNs are parsed with the
    elfproef by `pseudonym.parse_bsn`, and `registered_on` is allowed only with `migration`,
    not in the future, not over two years ago, not before the birth date. `bsn`,
    `birth_date` and `informatieplicht` may be None when the caller found that field
    missing or malformed (and has its own problem for it), so every problem is reported at
    once. `external_ref` is the source's own reference, as received: it is digested here
    (`external_ref_digest`) and only the digest is kept.

    Whether the professional belongs to the organisation is checked by `apply_batch` (or
    earlier by the caller, with a `Roster`). Raises `InvalidInput` listing every problem;
    no reason ever echoes a BSN.
    """
    today = domain.local_date(core.now())
    problems: list[Problem] = []
    child: Bsn | None = None
    if bsn is None or not bsn.strip():
        problems.append(Problem("bsn", "A BSN is required."))
    else:
        child = parse_bsn(bsn.strip())
        if child is None:
            problems.append(Problem("bsn", "Not a valid BSN (nine digits passing the elfproef)."))
    parents: list[Bsn] = []
    for index, raw in enumerate(parent_bsns):
        parent = parse_bsn(raw.strip())
        if parent is None:
            problems.append(
                Problem(
                    f"parentBsns[{index}]", "Not a valid BSN (nine digits passing the elfproef)."
                )
            )
        else:
            parents.append(parent)
    if birth_date is None and bsn is not None:
        problems.append(Problem("birthDate", "A birth date is required."))
    if informatieplicht is None:
        problems.append(Problem("informatieplicht", "The informatieplicht is required."))
    problems += domain.new_signal_problems(
        child=child,
        birth_date=birth_date,
        parents=parents if len(parents) == len(parent_bsns) else None,
        informatieplicht=informatieplicht,
        today=today,
    )
    problems += _registered_on_problems(registered_on, birth_date, today, migration)
    if external_ref is not None and not 1 <= len(external_ref) <= MAX_EXTERNAL_REF_LENGTH:
        problems.append(
            Problem("externalRef", f"Between 1 and {MAX_EXTERNAL_REF_LENGTH} characters.")
        )
    if problems or child is None or birth_date is None or informatieplicht is None:
        raise InvalidInput(problems)
    pseudonymise = core.pseudonymiser.pseudonymise
    return DesiredSignal(
        position=position,
        professional_id=professional_id,
        child=pseudonymise(child),
        parents=frozenset(pseudonymise(p) for p in parents),
        birth_date=birth_date,
        informatieplicht=informatieplicht,
        external_ref=external_ref_digest(core, feed, external_ref) if external_ref else None,
        registered_on=registered_on,
    )


def _registered_on_problems(
    registered_on: date | None, birth_date: date | None, today: date, migration: bool
) -> list[Problem]:
    if registered_on is None:
        return []
    if not migration:
        return [Problem("registeredOn", "Only a migration keeps an original registration date.")]
    if registered_on > today:
        return [Problem("registeredOn", "The registration date lies in the future.")]
    if registered_on < domain.add_years(today, -domain.ACTIVE_YEARS):
        return [
            Problem(
                "registeredOn",
                f"The registration date lies over {domain.ACTIVE_YEARS} years ago: "
                "such a signal is no longer active.",
            )
        ]
    if birth_date is not None and registered_on < birth_date:
        return [Problem("registeredOn", "The registration date lies before the birth date.")]
    return []


def external_ref_digest(core: Core, feed: Feed, external_ref: str) -> str:
    """The only form in which a source's own reference is stored: a keyed hash (the key in
    `keys/`), scoped by the system client (sync) or the organisation (import), so that the
    same pupil number from two sources never names the same signal. The reference may be a
    pupil number or a BSN: stored in clear, or hashed without a key, it would be that number.
    """
    scope = f"client:{feed.client_id}" if feed.client_id else f"organisation:{feed.organisation_id}"
    return core.keys.lookup("external-ref", f"{scope}:{external_ref}")


# --- the organisation's professionals ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Roster:
    """An organisation's active professionals (role `professional`), for resolving the CSV's
    `professional` column: by id, or by e-mail address through the keyed `email_lookup`
    (addresses are stored encrypted)."""

    ids: frozenset[uuid.UUID]
    by_email_lookup: dict[str, uuid.UUID]
    lookup: Callable[[str], str]

    def find(self, id_or_email: str) -> uuid.UUID | None:
        """The professional named by id or e-mail address; None if not an active
        professional of this organisation."""
        text = id_or_email.strip()
        try:
            wanted = uuid.UUID(text)
        except ValueError:
            return self.by_email_lookup.get(self.lookup(text))
        return wanted if wanted in self.ids else None

    def __contains__(self, professional_id: object) -> bool:
        return professional_id in self.ids


def roster(core: Core, organisation_id: uuid.UUID) -> Roster:
    """One query: the organisation's active professionals who may register signals."""
    with core.transaction(write=False) as tx:
        found = bulk_apply.active_professionals(tx, organisation_id)
    return Roster(
        ids=frozenset(found),
        by_email_lookup={lookup: pid for pid, lookup in found.items() if lookup},
        lookup=lambda email: core.keys.lookup("email", email.strip().lower()),
    )


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
            absent, next_after = bulk_apply.absent_signals(
                tx, feed, present, after=after, limit=BATCH_SIZE
            )
            if dry_run or not absent:
                return len(absent), next_after
            closed = bulk_apply.close_signals(tx, feed, absent)
            tx.commit()
        return closed, next_after

    return with_retries(attempt)


@dataclass(frozen=True, slots=True)
class _Source:
    """The audit actor of a bulk transaction, as `Core.transaction` takes it."""

    who: Who
