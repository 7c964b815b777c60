"""The working half of `tx.sync_runs`: claiming a run, reading its pending items, and
recording each batch's progress under the lease (see `repository.sync_runs`).

A claim is a lease, as in `repository.outbox`: a fresh `claim_token` and a `lease_until`
that every batch pushes on. A worker that dies leaves its run to be claimed again when the
lease runs out; a worker that lost its lease can no longer record anything, because every
write names the token it holds.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, exists, select, update
from sqlalchemy.orm import aliased

from verwijsindex.domain import Problem
from verwijsindex.models import SyncRunItemRow, SyncRunRow
from verwijsindex.repository.base import RepositoryBase

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
OPEN = (QUEUED, RUNNING)

PENDING = "pending"
APPLIED = "applied"
ERROR = "error"

ITEMS_TABLE = "sync_run_items"


@dataclass(frozen=True, slots=True)
class SyncRun:
    id: uuid.UUID
    client_id: uuid.UUID
    organisation_id: uuid.UUID
    number: int
    status: str
    dry_run: bool
    total: int
    processed: int
    created: int
    updated: int
    closed: int
    unchanged: int
    accepted_at: datetime
    finished_at: datetime | None
    closing_at: datetime | None
    attempts: int
    failure: str | None


@dataclass(frozen=True, slots=True)
class PendingItem:
    """An item still to apply, with its justification opened."""

    position: int
    external_ref_digest: str
    professional_id: uuid.UUID
    child: str
    parents: frozenset[str]
    birth_date: date
    child_informed: bool
    parents_informed: bool
    postponement_reason: str | None
    justification: str | None
    review_on: date | None
    fingerprint: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimedRun:
    run: SyncRun
    claim_token: uuid.UUID


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What one applied batch settles: its `count` items, the pending ones from position
    `first` to `last` (a batch is the run's first pending items), some of them in error,
    and the counts."""

    first: int
    last: int
    count: int
    errors: Mapping[int, Sequence[Problem]]
    created: int = 0
    updated: int = 0
    closed: int = 0
    unchanged: int = 0


def run_of(row: SyncRunRow) -> SyncRun:
    return SyncRun(**{f.name: getattr(row, f.name) for f in fields(SyncRun)})


def problems_json(problems: Iterable[Problem]) -> str:
    return json.dumps([{"name": p.name, "reason": p.reason} for p in problems])


class SyncQueue(RepositoryBase):
    """Claiming runs and recording their progress; `SyncRunRepository` adds the rest."""

    def pending_items(self, run_id: uuid.UUID, limit: int) -> list[PendingItem]:
        """The first `limit` items not yet applied, in body order."""
        rows = self.session.execute(
            select(
                SyncRunItemRow.position,
                SyncRunItemRow.external_ref,
                SyncRunItemRow.professional_id,
                SyncRunItemRow.child_pseudonym,
                SyncRunItemRow.parent_pseudonyms,
                SyncRunItemRow.birth_date,
                SyncRunItemRow.child_informed,
                SyncRunItemRow.parents_informed,
                SyncRunItemRow.postponement_reason,
                SyncRunItemRow.justification_enc,
                SyncRunItemRow.review_on,
                SyncRunItemRow.fingerprint,
            )
            .where(SyncRunItemRow.run_id == run_id, SyncRunItemRow.state == PENDING)
            .order_by(SyncRunItemRow.position)
            .limit(limit)
        )
        items = []
        for row in rows:
            position, ref, professional, child, parents, born, told_child, told_parents = row[:8]
            reason, sealed, review, fingerprint = row[8:]
            # A pending item was valid when accepted: every field an item needs is there.
            assert professional and child and born and told_child is not None
            assert told_parents is not None
            justification = (
                self._open(ITEMS_TABLE, f"{run_id}:{position}", "justification", sealed)
                if sealed is not None
                else None
            )
            items.append(
                PendingItem(
                    position,
                    ref,
                    professional,
                    child,
                    frozenset((parents or "").split()),
                    born,
                    told_child,
                    told_parents,
                    reason,
                    justification,
                    review,
                    fingerprint,
                )
            )
        return items

    def present_refs(self, run_id: uuid.UUID) -> set[str]:
        """The reference digests of every item of the run, valid or not."""
        return set(
            self.session.scalars(
                select(SyncRunItemRow.external_ref).where(SyncRunItemRow.run_id == run_id)
            )
        )

    # --- claiming and recording progress -----------------------------------------------------

    def claim_next(self, now: datetime, lease_until: datetime) -> ClaimedRun | None:
        """The oldest run that is the first unfinished one of its client and not held by a
        live lease; leased until `lease_until`. None when there is none.

        A client's later run waits while an earlier one is queued or running, so one client's
        runs are never applied at once nor out of order. PostgreSQL: `FOR UPDATE SKIP
        LOCKED`, so two workers never take the same run; SQLite writers are serial.
        """
        earlier = aliased(SyncRunRow)
        row = self.session.scalar(
            select(SyncRunRow)
            .where(
                SyncRunRow.status.in_(OPEN),
                (SyncRunRow.status == QUEUED) | (SyncRunRow.lease_until <= now),
                ~exists().where(
                    and_(
                        earlier.client_id == SyncRunRow.client_id,
                        earlier.status.in_(OPEN),
                        earlier.number < SyncRunRow.number,
                    )
                ),
            )
            .order_by(SyncRunRow.accepted_at, SyncRunRow.number)
            .limit(1)
            .with_for_update(skip_locked=True, of=SyncRunRow)
        )
        if row is None:
            return None
        token = uuid.uuid4()
        row.status = RUNNING
        row.claim_token = token
        row.lease_until = lease_until
        row.attempts += 1
        row.started_at = row.started_at or now
        self.session.flush()
        return ClaimedRun(run_of(row), token)

    def _held(self, run_id: uuid.UUID, token: uuid.UUID) -> ColumnElement[bool]:
        return and_(
            SyncRunRow.id == run_id, SyncRunRow.claim_token == token, SyncRunRow.status == RUNNING
        )

    def settle_batch(
        self, run_id: uuid.UUID, token: uuid.UUID, outcome: BatchOutcome, lease_until: datetime
    ) -> bool:
        """Mark a batch's items applied or in error, and add its counts to the run, in the
        batch's own transaction. False (change nothing more) when the lease is lost or an
        item was no longer pending: the caller must roll the batch back."""
        moved = self.session.execute(
            update(SyncRunRow)
            .where(self._held(run_id, token))
            .values(
                processed=SyncRunRow.processed + outcome.count,
                created=SyncRunRow.created + outcome.created,
                updated=SyncRunRow.updated + outcome.updated,
                closed=SyncRunRow.closed + outcome.closed,
                unchanged=SyncRunRow.unchanged + outcome.unchanged,
                lease_until=lease_until,
                failure=None,
            )
        )
        if not getattr(moved, "rowcount", 0):
            return False
        marked = 0
        mine = and_(SyncRunItemRow.run_id == run_id, SyncRunItemRow.state == PENDING)
        for position, problems in outcome.errors.items():
            result = self.session.execute(
                update(SyncRunItemRow)
                .where(mine, SyncRunItemRow.position == position)
                .values(state=ERROR, justification_enc=None, problems=problems_json(problems))
            )
            marked += int(getattr(result, "rowcount", 0) or 0)
        # The rest of the batch was applied without a problem: the sealed reference is not
        # needed for the report any more, nor the sealed justification.
        result = self.session.execute(
            update(SyncRunItemRow)
            .where(mine, SyncRunItemRow.position.between(outcome.first, outcome.last))
            .values(state=APPLIED, external_ref_enc=None, justification_enc=None)
        )
        marked += int(getattr(result, "rowcount", 0) or 0)
        return marked == outcome.count

    def renew_lease(self, run_id: uuid.UUID, token: uuid.UUID, lease_until: datetime) -> bool:
        result = self.session.execute(
            update(SyncRunRow).where(self._held(run_id, token)).values(lease_until=lease_until)
        )
        return bool(getattr(result, "rowcount", 0))

    def start_closing(
        self,
        run_id: uuid.UUID,
        token: uuid.UUID,
        now: datetime,
        lease_until: datetime,
        *,
        absent: int,
    ) -> bool:
        """Closing the absent signals begins: count the `absent` ones as closed, once.

        Counted before they are closed, and only by the first attempt that gets here: one
        resumed half-way through closing finds fewer absent, and must not count again.
        False when the lease is lost."""
        row = self.session.scalar(
            select(SyncRunRow).where(self._held(run_id, token)).with_for_update()
        )
        if row is None:
            return False
        if row.closing_at is None:
            row.closing_at = now
            row.closed += absent
        row.lease_until = lease_until
        self.session.flush()
        return True

    def finish(self, run_id: uuid.UUID, token: uuid.UUID, now: datetime) -> bool:
        """Done, with the report as it stands."""
        result = self.session.execute(
            update(SyncRunRow)
            .where(self._held(run_id, token))
            .values(
                status=DONE,
                finished_at=now,
                lease_until=None,
                claim_token=None,
                failure=None,
            )
        )
        return bool(getattr(result, "rowcount", 0))

    def give_back(
        self,
        run_id: uuid.UUID,
        token: uuid.UUID,
        now: datetime,
        *,
        failure: str,
        retry_at: datetime | None,
    ) -> bool:
        """After a failed attempt: due again at `retry_at`, or failed for good (None)."""
        values: dict[str, object] = {"failure": failure[:200]}
        if retry_at is None:
            values.update(status=FAILED, finished_at=now, lease_until=None, claim_token=None)
        else:
            values.update(lease_until=retry_at)
        result = self.session.execute(
            update(SyncRunRow).where(self._held(run_id, token)).values(**values)
        )
        return bool(getattr(result, "rowcount", 0))
