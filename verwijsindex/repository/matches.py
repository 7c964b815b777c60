"""Stored matches as matching changes them (`tx.matches`): the `MatchStore` that matching
runs on, and the writes of designation. The reads behind /matches are `match_views`.

Every lookup here is by an indexed key (child pseudonym, parent pseudonym, signal id, match
id), never a scan, so matching costs the same with ten thousand or five million signals.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Select,
    delete,
    select,
    tuple_,
    union,
    update,
)
from sqlalchemy.orm import Session

from verwijsindex.domain import MatchType, SignalStatus
from verwijsindex.events import MatchChanged
from verwijsindex.matching import MatchState, SignalFacts, Surroundings
from verwijsindex.matching.rules import MatchPlan
from verwijsindex.models import (
    MatchRow,
    MatchSignalRow,
    OrganisationRow,
    ProfessionalRow,
    SignalParentRow,
    SignalRow,
)
from verwijsindex.pseudonym import lock_id
from verwijsindex.repository.arrays import among, insert_rows
from verwijsindex.repository.signals import SignalOwner

ACTIVE = SignalStatus.ACTIVE.value
_LOCK_PERSONS = "SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(%(keys)b AS bigint[])) AS k"


class SqlMatchStore:
    """The `MatchStore` protocol on one session, noting how each match changed in this
    transaction (`changes()`): what statistics and notifications are made of."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self._now = now
        self._postgres = session.get_bind().dialect.name == "postgresql"
        # Each match's signals as first read in this transaction, and how it changed since:
        # what notifications are made of.
        self._first_seen: dict[uuid.UUID, frozenset[uuid.UUID]] = {}
        self._changed: dict[uuid.UUID, MatchChanged] = {}
        self._owners: dict[uuid.UUID, SignalOwner] = {}
        # Every person a writer locked in this transaction: whoever changes a child's
        # signals locks it first, so these are the children whose state may have changed
        # (federation queues them for publishing; no statement is spent on it here).
        self.locked: set[str] = set()

    def owners_seen(self) -> dict[uuid.UUID, SignalOwner]:
        """Owner, organisation and sector of every active signal `surroundings` read in this
        transaction: read with them, so counting and notifying need not ask again."""
        return dict(self._owners)

    def changes(self) -> list[MatchChanged]:
        """Every match whose signals changed in this transaction, as before and after it."""
        return [c for c in self._changed.values() if c.before != c.after]

    def _note(
        self,
        match_id: uuid.UUID,
        match_type: MatchType,
        before: frozenset[uuid.UUID],
        after: frozenset[uuid.UUID],
    ) -> None:
        earlier = self._changed.get(match_id)
        first = earlier.before if earlier is not None else before
        self._changed[match_id] = MatchChanged(match_id, match_type, first, after)

    # --- MatchStore ------------------------------------------------------------------------

    def lock_persons(self, pseudonyms: Iterable[str]) -> None:
        """Transaction-scoped advisory locks, in a stable order so two writers cannot deadlock
        on the first batch. SQLite needs none: `BEGIN IMMEDIATE` already serialises writers."""
        pseudonyms = set(pseudonyms)
        self.locked |= pseudonyms
        keys = sorted({lock_id(p) for p in pseudonyms})
        if not self._postgres or not keys:
            return
        self.session.flush()
        # The keys as a binary array (driver-level SQL): a bulk batch locks a thousand.
        self.session.connection().exec_driver_sql(_LOCK_PERSONS, {"keys": keys})

    def surroundings(self, children: Iterable[str], parents: Iterable[str]) -> Surroundings:
        children, parents = set(children), set(parents)
        # Signals on these children (any status: archived ones mean history), or active
        # ones naming these parents; each with all its parents and its owner's organisation
        # and sector. One round trip. The two kinds are found by a UNION of two indexed
        # lookups: as one OR, PostgreSQL read every active signal to test the second half
        # (tests/integration/test_query_plans.py).
        wanted: Select[uuid.UUID] | CompoundSelect[uuid.UUID] = select(SignalRow.id).where(
            among(SignalRow.child_pseudonym, children, on_postgresql=self._postgres)
        )
        if parents:
            naming = (
                select(SignalParentRow.signal_id)
                .join(SignalRow, SignalRow.id == SignalParentRow.signal_id)
                .where(
                    among(SignalParentRow.parent_pseudonym, parents, on_postgresql=self._postgres),
                    SignalRow.status == ACTIVE,
                )
            )
            wanted = union(wanted, naming)
        about = SignalRow.id.in_(wanted)
        rows = self.session.execute(
            select(
                SignalRow.id,
                SignalRow.professional_id,
                SignalRow.child_pseudonym,
                SignalRow.created_at,
                SignalRow.status,
                SignalParentRow.parent_pseudonym,
                ProfessionalRow.organisation_id,
                OrganisationRow.sector,
                SignalRow.gemeente,
                OrganisationRow.region,
            )
            .outerjoin(SignalParentRow, SignalParentRow.signal_id == SignalRow.id)
            .join(ProfessionalRow, ProfessionalRow.id == SignalRow.professional_id)
            .join(OrganisationRow, OrganisationRow.id == ProfessionalRow.organisation_id)
            .where(about)
        ).all()
        parents_of: dict[uuid.UUID, set[str]] = defaultdict(set)
        facts: dict[uuid.UUID, tuple[uuid.UUID, str, datetime]] = {}
        with_history: set[str] = set()
        for row in rows:
            signal_id, professional_id, child, created_at, status, parent = row[:6]
            organisation_id, sector, gemeente, region = row[6:]
            if status != ACTIVE:
                with_history.add(child)
                continue
            if parent is not None:
                parents_of[signal_id].add(parent)
            facts[signal_id] = (professional_id, child, created_at)
            self._owners[signal_id] = SignalOwner(
                professional_id, organisation_id, sector, gemeente, region
            )
        return Surroundings(
            active=[
                SignalFacts(i, p, c, frozenset(parents_of[i]), t) for i, (p, c, t) in facts.items()
            ],
            children_with_history=frozenset(with_history),
        )

    def matches_of_signals(self, signal_ids: Iterable[uuid.UUID]) -> list[MatchState]:
        """The matches these signals are in, with all their signals, locked FOR UPDATE so a
        regisseur designated concurrently is seen rather than overwritten."""
        wanted = set(signal_ids)
        if not wanted:
            return []
        of_these = select(MatchSignalRow.match_id).where(
            among(MatchSignalRow.signal_id, wanted, on_postgresql=self._postgres)
        )
        rows = self.session.execute(
            select(
                MatchRow.id,
                MatchRow.type,
                MatchRow.created_at,
                MatchRow.regisseur_id,
                MatchSignalRow.signal_id,
            )
            .join(MatchSignalRow, MatchSignalRow.match_id == MatchRow.id)
            .where(MatchRow.id.in_(of_these))
            .with_for_update(of=MatchRow)
        ).all()
        heads: dict[uuid.UUID, tuple[str, datetime, uuid.UUID | None]] = {}
        links: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
        for match_id, kind, created_at, regisseur_id, signal_id in rows:
            heads[match_id] = (kind, created_at, regisseur_id)
            links[match_id].add(signal_id)
        for match_id, signals in links.items():
            self._first_seen.setdefault(match_id, frozenset(signals))
        return [
            MatchState(i, MatchType(k), c, frozenset(links[i]), r) for i, (k, c, r) in heads.items()
        ]

    def apply_plan(
        self, plan: MatchPlan, match_type: MatchType, child: str | None
    ) -> list[MatchState]:
        return self.apply_plans([(plan, match_type, child)])

    def apply_plans(
        self, plans: Sequence[tuple[MatchPlan, MatchType, str | None]]
    ) -> list[MatchState]:
        """Write several plans (each with its match type and, for a client match, its child)
        with one statement per kind of write, however many matches they touch: a batch of
        a bulk import forms dozens of matches, and a statement per match was most of its
        time. Returns the matches the plans keep or create, plan by plan."""
        gone = [(match_id, kind) for plan, kind, _ in plans for match_id in plan.delete]
        if gone:
            self.session.execute(delete(MatchRow).where(MatchRow.id.in_([m for m, _ in gone])))
            for match_id, kind in gone:
                self._note(match_id, kind, self._first_seen.get(match_id, frozenset()), frozenset())
        kept = [(keep, kind) for plan, kind, _ in plans for keep in plan.keep]
        current = self._signal_ids_of(k.match_id for k, _ in kept)
        unlinked = [(k.match_id, s) for k, _ in kept for s in current[k.match_id] - k.signal_ids]
        if unlinked:
            self.session.execute(
                delete(MatchSignalRow).where(
                    tuple_(MatchSignalRow.match_id, MatchSignalRow.signal_id).in_(unlinked)
                )
            )
        links = [(k.match_id, s) for k, _ in kept for s in k.signal_ids - current[k.match_id]]
        created: list[dict[str, Any]] = []
        after: list[MatchState] = []
        for plan, kind, child in plans:
            for keep in plan.keep:
                self._note(keep.match_id, kind, frozenset(current[keep.match_id]), keep.signal_ids)
                after.append(
                    MatchState(keep.match_id, kind, self._now, keep.signal_ids, keep.regisseur_id)
                )
            for create in plan.create:
                match_id = uuid.uuid4()
                created.append(
                    {
                        "id": match_id,
                        "type": kind.value,
                        "child_pseudonym": child if kind is MatchType.CLIENT else None,
                        "created_at": self._now,
                        "updated_at": self._now,
                        "regisseur_id": None,
                    }
                )
                links += [(match_id, s) for s in create.signal_ids]
                self._note(match_id, kind, frozenset(), create.signal_ids)
                after.append(MatchState(match_id, kind, self._now, create.signal_ids, None))
        if created or links:
            self.session.flush()  # the links name signals the ORM may not have written yet
            connection = self.session.connection()
            insert_rows(connection, MatchRow, created)
            insert_rows(
                connection,
                MatchSignalRow,
                [{"match_id": m, "signal_id": s, "linked_at": self._now} for m, s in links],
            )
        if kept:
            self.session.execute(
                update(MatchRow),
                [
                    {"id": k.match_id, "updated_at": self._now, "regisseur_id": k.regisseur_id}
                    for k, _ in kept
                ],
            )
        return after

    def _signal_ids_of(self, match_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, set[uuid.UUID]]:
        wanted = set(match_ids)
        found: dict[uuid.UUID, set[uuid.UUID]] = {m: set() for m in wanted}
        if wanted:
            for match_id, signal_id in self.session.execute(
                select(MatchSignalRow.match_id, MatchSignalRow.signal_id).where(
                    among(MatchSignalRow.match_id, wanted, on_postgresql=self._postgres)
                )
            ):
                found[match_id].add(signal_id)
        return found

    def lock_match(self, match_id: uuid.UUID) -> None:
        """Row lock on the match, so designation and matching never overwrite each other."""
        self.session.execute(select(MatchRow.id).where(MatchRow.id == match_id).with_for_update())

    def set_regisseur(self, match_id: uuid.UUID, professional_id: uuid.UUID | None) -> None:
        self.session.execute(
            update(MatchRow)
            .where(MatchRow.id == match_id)
            .values(regisseur_id=professional_id, updated_at=self._now)
        )
