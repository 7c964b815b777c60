"""Applying sync runs: what `verwijsindex worker` does with a run `PUT /sync/signals`
queued (`services.sync`).

A worker claims the oldest run that is first in its client's queue (`repository.sync_queue`:
a lease, `FOR UPDATE SKIP LOCKED` on PostgreSQL), so one client's runs are applied one at a
time and in the order they were accepted, and two workers never apply the same run. It
then applies the run's pending items in batches through the bulk engine
(`services.bulk.apply_batch`): each batch marks its items applied (or in error, with the
engine's problems), adds its counts to the run and pushes the lease on *in the batch's own
transaction* (`in_same_transaction`). So a worker killed at any moment leaves every item
either applied and counted, or pending, never half: whoever claims the run when its lease
runs out resumes at the first pending item, and nothing is applied twice. A worker whose
lease ran out while it was still working finds its token gone at the next batch, and that
batch is rolled back.

After the last item, the client's signals absent from the run are closed
(`services.bulk.close_absent`). *Present* are the references of every item of the run,
valid or not: an item in error still names a signal the source holds; one passed by as
unchanged when the run was accepted (`services.sync_unchanged`) is kept as its reference
alone, already applied. How many will be
closed is counted first (the engine's dry run) and recorded once with the start of the
closing, so a run resumed half-way through closing still reports every one.

An attempt that fails is tried again with backoff; after `MAX_ATTEMPTS` the run is
`failed`, with the kind of error as its reason (never a message that could quote data).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from verwijsindex.audit import AuditEntry, RequestContext, Who, request_context
from verwijsindex.db import DatabaseError, describe
from verwijsindex.domain import Informatieplicht, Postponement, PostponementReason
from verwijsindex.repository.sync_runs import BatchOutcome, ClaimedRun, PendingItem, SyncRun
from verwijsindex.services.bulk import (
    BATCH_SIZE,
    BulkReport,
    DesiredSignal,
    Feed,
    apply_batch,
    close_absent,
)
from verwijsindex.services.core import Core
from verwijsindex.services.unit_of_work import Transaction

log = logging.getLogger("verwijsindex.worker")

# Renewed by every batch, which takes seconds; a worker silent this long is presumed dead.
LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 5
FIRST_RETRY = timedelta(seconds=30)
# Claims that never came back (the worker was killed: a deploy, the OOM killer) count too,
# but more are allowed: a restart is not the run's fault, a run that kills every worker is.
MAX_CLAIMS = 10
# A finished run (its report, its items' pseudonyms and sealed references) is kept this long
# for its client to read, then purged by `verwijsindex maintenance`.
RUNS_KEPT = timedelta(days=30)


class LeaseLost(Exception):
    """Another worker holds the run now: whatever this one was doing is rolled back."""


class Abandoned(Exception):
    """Claimed `MAX_CLAIMS` times without finishing: every worker that took it died."""


class Interrupted(Exception):
    """The worker is stopping: it hands the run back between two batches, due at once."""


@dataclass(frozen=True, slots=True)
class RunOutcome:
    run_id: str
    status: str  # done | failed | retry | lost | interrupted
    reason: str | None = None


def apply_next_run(core: Core, stopping: Callable[[], bool] = lambda: False) -> RunOutcome | None:
    """Claim the next run that is due and apply it to the end; None when none is due.

    `stopping` is asked before each batch: when it says yes, the run is handed back (due
    again at once, for whichever worker comes next) instead of left to its lease."""
    claimed = _claim(core)
    if claimed is None:
        return None
    run, token = claimed.run, claimed.claim_token
    context = request_context.set(RequestContext("worker", str(run.id)))
    try:
        if run.attempts > MAX_CLAIMS:
            raise Abandoned
        _apply(core, claimed, stopping)
        return RunOutcome(str(run.id), "done")
    except Interrupted:
        with core.transaction(write=True) as tx:
            tx.sync_runs.renew_lease(run.id, token, tx.now)
            tx.commit()
        return RunOutcome(str(run.id), "interrupted")
    except LeaseLost:
        log.warning("worker: sync run %s was taken over by another worker", run.id)
        return RunOutcome(str(run.id), "lost")
    except Exception as error:
        reason = _reason(error)
        retry_at = _retry_at(core.now(), run.attempts)
        with core.transaction(write=True) as tx:
            tx.sync_runs.give_back(run.id, token, tx.now, failure=reason, retry_at=retry_at)
            if retry_at is None:
                tx.record(AuditEntry("sync-run:fail", "sync-run", run.id))
            tx.commit()
        log.warning(
            "worker: sync run %s attempt %d failed (%s)%s",
            run.id,
            run.attempts,
            reason,
            "; given up" if retry_at is None else f"; again at {retry_at.isoformat()}",
        )
        if not isinstance(error, DatabaseError):
            log.exception("worker: unexpected error in sync run %s", run.id)
        return RunOutcome(str(run.id), "failed" if retry_at is None else "retry", reason)
    finally:
        request_context.reset(context)


def apply_due_runs(core: Core, limit: int | None = None) -> list[RunOutcome]:
    """Apply every run that is due now (at most `limit`); what tests and `--once` use."""
    outcomes: list[RunOutcome] = []
    while limit is None or len(outcomes) < limit:
        outcome = apply_next_run(core)
        if outcome is None:
            break
        outcomes.append(outcome)
    return outcomes


def purge_runs(tx: Transaction, now: datetime) -> int:
    """Maintenance: delete runs finished more than `RUNS_KEPT` ago, with their items."""
    return tx.sync_runs.purge_finished(now - RUNS_KEPT)


def _claim(core: Core) -> ClaimedRun | None:
    with core.transaction(write=True) as tx:
        claimed = tx.sync_runs.claim_next(tx.now, tx.now + LEASE)
        if claimed is not None:
            tx.commit()
        return claimed


def _apply(core: Core, claimed: ClaimedRun, stopping: Callable[[], bool]) -> None:
    run, token = claimed.run, claimed.claim_token
    feed = Feed(run.organisation_id, run.client_id)
    who = Who(None, run.client_id, ("system",), "system")  # each item names its professional
    while True:
        if stopping():
            raise Interrupted
        with core.transaction(write=False) as tx:
            pending = tx.sync_runs.pending_items(run.id, BATCH_SIZE)
        if not pending:
            break
        apply_batch(
            core,
            who,
            feed,
            [_desired(i) for i in pending],
            dry_run=run.dry_run,
            in_same_transaction=_settler(run.id, token, pending),
        )
    _close_and_finish(core, run, token, feed, who)


def _settler(
    run_id: uuid.UUID, token: uuid.UUID, batch: Sequence[PendingItem]
) -> Callable[[Transaction, BulkReport], None]:
    """What a batch's transaction does last: settle its items and counts under the lease."""

    def settle(tx: Transaction, report: BulkReport) -> None:
        outcome = BatchOutcome(
            first=batch[0].position,
            last=batch[-1].position,
            count=len(batch),
            errors={s.position: s.problems for s in report.skipped},
            created=report.created,
            updated=report.updated,
            closed=report.closed,
            unchanged=report.unchanged,
        )
        if not tx.sync_runs.settle_batch(run_id, token, outcome, tx.now + LEASE):
            raise LeaseLost

    return settle


def _close_and_finish(core: Core, run: SyncRun, token: uuid.UUID, feed: Feed, who: Who) -> None:
    with core.transaction(write=False) as tx:
        present = tx.sync_runs.present_refs(run.id)
    # Counted first, by the engine's own rule, and recorded once: a run resumed half-way
    # through closing still reports every signal it closed.
    absent = close_absent(core, who, feed, present, dry_run=True)
    with core.transaction(write=True) as tx:
        if not tx.sync_runs.start_closing(run.id, token, tx.now, tx.now + LEASE, absent=absent):
            raise LeaseLost
        tx.commit()

    def renew(_: int) -> None:
        with core.transaction(write=True) as tx:
            if not tx.sync_runs.renew_lease(run.id, token, tx.now + LEASE):
                raise LeaseLost
            tx.commit()

    if not run.dry_run:
        close_absent(core, who, feed, present, progress=renew)
    with core.transaction(write=True) as tx:
        if not tx.sync_runs.finish(run.id, token, tx.now):
            raise LeaseLost
        tx.record(AuditEntry("sync-run:apply", "sync-run", run.id))
        tx.commit()


def _desired(item: PendingItem) -> DesiredSignal:
    postponement = (
        Postponement(
            PostponementReason(item.postponement_reason), item.justification, item.review_on
        )
        if item.postponement_reason and item.justification is not None and item.review_on
        else None
    )
    return DesiredSignal(
        position=item.position,
        professional_id=item.professional_id,
        child=item.child,
        parents=item.parents,
        birth_date=item.birth_date,
        informatieplicht=Informatieplicht(item.child_informed, item.parents_informed, postponement),
        external_ref=item.external_ref_digest,
        fingerprint=item.fingerprint,
    )


def _reason(error: Exception) -> str:
    """What a run's `failure` may say: the error's kind (for the database, its SQLSTATE and
    first line, which hide the statement's parameters), never free text from elsewhere."""
    if isinstance(error, DatabaseError):
        return describe(error)[:200]
    return type(error).__name__


def _retry_at(now: datetime, attempts: int) -> datetime | None:
    """Backoff doubling from `FIRST_RETRY`; None once `MAX_ATTEMPTS` have failed."""
    if attempts >= MAX_ATTEMPTS or attempts > MAX_CLAIMS:
        return None
    return now + FIRST_RETRY * (1 << max(attempts - 1, 0))
