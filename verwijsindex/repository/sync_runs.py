"""Sync runs and their items (`tx.sync_runs`): the queue a system client's desired state
waits in until a worker applies it.

A client's runs are numbered under a lock on the client's row, so their numbers are the
order in which they were accepted (committed), and a worker takes a client's runs in that
order only, one at a time (`repository.sync_queue`, the working half of this repository:
claims, leases, progress).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import delete, func, insert, select, text

from verwijsindex.domain import Problem, SignalStatus
from verwijsindex.models import SignalRow, SyncRunItemRow, SyncRunRow, SystemClientRow
from verwijsindex.repository.sync_queue import (
    APPLIED,
    DONE,
    ERROR,
    FAILED,
    ITEMS_TABLE,
    OPEN,
    PENDING,
    QUEUED,
    BatchOutcome,
    ClaimedRun,
    PendingItem,
    SyncQueue,
    SyncRun,
    problems_json,
    run_of,
)

# The items' table, and the signals', for Core statements.
_ITEMS_TABLE = SyncRunItemRow.metadata.tables[ITEMS_TABLE]
_SIGNALS_TABLE = SignalRow.metadata.tables[SignalRow.__tablename__]
# The items passed by as unchanged (`services.sync_unchanged`): their place and reference,
# already applied. Only the table's own names are formatted in; the values are bound.
_PASSED_ON_POSTGRESQL = text(
    f"INSERT INTO {ITEMS_TABLE} (run_id, position, state, external_ref) "  # noqa: S608
    f"SELECT CAST(:run_id AS UUID), p.position, '{APPLIED}', p.ref FROM unnest("
    "CAST(:positions AS INTEGER[]), CAST(:refs AS VARCHAR[])) AS p(position, ref)"
)
_ACTIVE = SignalStatus.ACTIVE.value

__all__ = [
    "BatchOutcome",
    "ClaimedRun",
    "FedSignal",
    "NewItem",
    "PendingItem",
    "RunError",
    "SyncRun",
    "SyncRunRepository",
]


@dataclass(frozen=True, slots=True)
class NewItem:
    """An item as accepted: pseudonyms and the digest of its reference, or its problems;
    or, `unchanged`, only the digest: an item passed by (`services.sync_unchanged`), kept
    so that closing the absent signals passes its signal by."""

    position: int
    external_ref: str  # the source's own value: only sealed here, never stored in clear
    external_ref_digest: str
    problems: Sequence[Problem] = ()
    unchanged: bool = False
    fingerprint: str | None = None  # keyed, for the signal the item makes
    professional_id: uuid.UUID | None = None
    child: str | None = None
    parents: Iterable[str] = ()
    birth_date: date | None = None
    child_informed: bool | None = None
    parents_informed: bool | None = None
    postponement_reason: str | None = None
    justification: str | None = None
    review_on: date | None = None


class FedSignal(NamedTuple):
    """An active signal of a sync as the next body is compared with it: its reference
    digest, the fingerprint of the item last applied to it (None: changed by hand since, or
    never fingerprinted), and what a hand could have changed without clearing it."""

    external_ref: str
    fingerprint: str | None
    professional_id: uuid.UUID
    child_informed: bool
    parents_informed: bool
    postponement_reason: str | None
    review_on: date | None


@dataclass(frozen=True, slots=True)
class RunError:
    """An item in the report's errors: its index in the body, its reference, its problems."""

    position: int
    external_ref: str | None
    problems: list[Problem]


class SyncRunRepository(SyncQueue):
    """`tx.sync_runs`."""

    # --- accepting -------------------------------------------------------------------------

    def next_number(self, client_id: uuid.UUID) -> int:
        """Lock the client's queue and give the next run's number.

        The lock (the client's row, `FOR NO KEY UPDATE`, which does not block the foreign
        key checks of other tables) is held until commit, so two requests of one client
        are numbered in the order they commit. SQLite writers are serial anyway.
        """
        self.session.execute(
            select(SystemClientRow.id)
            .where(SystemClientRow.id == client_id)
            .with_for_update(key_share=True)
        )
        latest = self.session.scalar(
            select(func.max(SyncRunRow.number)).where(SyncRunRow.client_id == client_id)
        )
        return int(latest or 0) + 1

    def add_run(
        self,
        run_id: uuid.UUID,
        *,
        client_id: uuid.UUID,
        organisation_id: uuid.UUID,
        number: int,
        dry_run: bool,
        items: Sequence[NewItem],
        now: datetime,
        total: int | None = None,
        unchanged: int = 0,
        done: bool = False,
    ) -> None:
        """The run and its items, the items in one multi-row INSERT.

        `total` is the body's size when not every item is stored (default: the items');
        `unchanged` of them were passed by, settled at once; `done`: nothing is left for a
        worker, the run is finished as it is recorded."""
        errors = sum(1 for i in items if i.problems)
        self.session.execute(
            insert(SyncRunRow).values(
                id=run_id,
                client_id=client_id,
                organisation_id=organisation_id,
                number=number,
                status=DONE if done else QUEUED,
                dry_run=dry_run,
                total=len(items) if total is None else total,
                processed=errors + unchanged,
                created=0,
                updated=0,
                closed=0,
                unchanged=unchanged,
                accepted_at=now,
                started_at=now if done else None,
                finished_at=now if done else None,
                attempts=0,
            )
        )
        connection = self.session.connection()
        kept = [i for i in items if not i.unchanged]
        if kept:
            # Core, not the ORM's bulk insert: its bookkeeping per row doubled the time.
            connection.execute(insert(_ITEMS_TABLE), [self._item(run_id, i) for i in kept])
        passed = [i for i in items if i.unchanged]
        if passed and connection.dialect.name == "postgresql":
            # Up to 10,000 rows of a position and a reference: one statement, two arrays.
            connection.execute(
                _PASSED_ON_POSTGRESQL,
                {
                    "run_id": run_id,
                    "positions": [i.position for i in passed],
                    "refs": [i.external_ref_digest for i in passed],
                },
            )
        elif passed:
            connection.execute(
                insert(_ITEMS_TABLE),
                [
                    {
                        "run_id": run_id,
                        "position": i.position,
                        "state": APPLIED,
                        "external_ref": i.external_ref_digest,
                    }
                    for i in passed
                ],
            )

    def _item(self, run_id: uuid.UUID, item: NewItem) -> dict[str, object]:
        where = f"{run_id}:{item.position}"
        return {
            "run_id": run_id,
            "position": item.position,
            "state": ERROR if item.problems else PENDING,
            "external_ref": item.external_ref_digest,
            "external_ref_enc": self._seal(ITEMS_TABLE, where, "external_ref", item.external_ref),
            "professional_id": item.professional_id,
            "child_pseudonym": item.child,
            "parent_pseudonyms": " ".join(sorted(item.parents)) or None,
            "birth_date": item.birth_date,
            "child_informed": item.child_informed,
            "parents_informed": item.parents_informed,
            "postponement_reason": item.postponement_reason,
            "justification_enc": self._seal(ITEMS_TABLE, where, "justification", item.justification)
            if item.justification is not None
            else None,
            "review_on": item.review_on,
            "problems": problems_json(item.problems) if item.problems else None,
            "fingerprint": item.fingerprint,
        }

    def queue_state(self, client_id: uuid.UUID) -> tuple[int, bool]:
        """The number of the client's latest run (0: none yet), and whether one of its
        runs is queued or running."""
        latest, open_runs = self.session.execute(
            select(
                func.max(SyncRunRow.number),
                func.count(SyncRunRow.id).filter(SyncRunRow.status.in_(OPEN)),
            ).where(SyncRunRow.client_id == client_id)
        ).one()
        return int(latest or 0), bool(open_runs)

    def feed_signals(self, client_id: uuid.UUID) -> list[FedSignal]:
        """The client's active signals, as a new body is compared with them. Core columns:
        the ORM's row processing cost as much again, at 10,000 rows."""
        signals = _SIGNALS_TABLE.c
        rows = self.session.execute(
            select(
                signals.external_ref,
                signals.feed_fingerprint,
                signals.professional_id,
                signals.child_informed,
                signals.parents_informed,
                signals.postponement_reason,
                signals.review_on,
            ).where(
                signals.feed_client_id == client_id,
                signals.status == _ACTIVE,
                signals.external_ref.is_not(None),
            )
        )
        return [FedSignal(*row) for row in rows]

    # --- reading ---------------------------------------------------------------------------

    def run(self, run_id: uuid.UUID) -> SyncRun | None:
        row = self.session.get(SyncRunRow, run_id)
        return run_of(row) if row is not None else None

    def errors(self, run_id: uuid.UUID) -> list[RunError]:
        """The items in the report's errors, in body order, their references opened."""
        rows = self.session.execute(
            select(
                SyncRunItemRow.position, SyncRunItemRow.external_ref_enc, SyncRunItemRow.problems
            )
            .where(SyncRunItemRow.run_id == run_id, SyncRunItemRow.state == ERROR)
            .order_by(SyncRunItemRow.position)
        )
        return [
            RunError(
                position,
                self._open(ITEMS_TABLE, f"{run_id}:{position}", "external_ref", sealed)
                if sealed is not None
                else None,
                [Problem(p["name"], p["reason"]) for p in json.loads(problems or "[]")],
            )
            for position, sealed, problems in rows
        ]

    # --- maintenance -------------------------------------------------------------------------

    def purge_finished(self, finished_before: datetime) -> int:
        """Delete finished runs (and their items) finished before this moment."""
        old = select(SyncRunRow.id).where(
            SyncRunRow.status.in_((DONE, FAILED)), SyncRunRow.finished_at < finished_before
        )
        self.session.execute(delete(SyncRunItemRow).where(SyncRunItemRow.run_id.in_(old)))
        result = self.session.execute(delete(SyncRunRow).where(SyncRunRow.id.in_(old)))
        return int(getattr(result, "rowcount", 0) or 0)
