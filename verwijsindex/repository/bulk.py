"""Batched statements for signals fed in bulk (`services.bulk`): each reads or writes a whole
batch in one statement, so a 100,000-row import costs a few hundred round trips, not
100,000 or more.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Select,
    String,
    Uuid,
    and_,
    bindparam,
    cast,
    func,
    insert,
    select,
    text,
    true,
    tuple_,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, aliased

from verwijsindex.crypto import KeyRing
from verwijsindex.domain import Role, SignalStatus
from verwijsindex.models import (
    MatchSignalRow,
    OrganisationRow,
    ProfessionalRow,
    SignalParentRow,
    SignalRow,
)
from verwijsindex.repository.arrays import among
from verwijsindex.repository.base import RepositoryBase

ACTIVE = SignalStatus.ACTIVE.value
_SIGNAL_COLUMNS = [c for c in SignalRow.__table__.columns]
# The tables a batch grows and that its own later batches (and every registration) look up
# by key: the planner chooses those lookups' plans by these tables' statistics.
PLANNED_TABLES = ("signals", "signal_parents", "matches", "match_signals")


def _many_signals_with_parents_on_postgresql() -> str:
    """Every signal of a batch and all their parents in one statement: one array per column
    (`unnest`), the signals' INSERT a data-modifying CTE that the parents' INSERT joins, so
    the foreign key is satisfied, whatever the number of rows (one compiled statement).

    Driver-level SQL, for its `%(name)b` placeholders: psycopg sends these arrays in binary,
    element by element as they are, where as text it would format and quote each of the
    batch's five thousand values in Python (a fifth of an import's own time went there)."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    names = ", ".join(c.name for c in _SIGNAL_COLUMNS)
    arrays = ", ".join(
        f"CAST(%({c.name})b AS {c.type.compile(dialect=dialect)}[])" for c in _SIGNAL_COLUMNS
    )
    # Only the model's own column names and types are formatted in; the values are bound.
    return (
        f"WITH new_signals AS (INSERT INTO signals ({names}) "  # noqa: S608
        f"SELECT * FROM unnest({arrays}) RETURNING id) "
        "INSERT INTO signal_parents (signal_id, parent_pseudonym) "
        "SELECT p.signal_id, p.parent_pseudonym "
        "FROM unnest(CAST(%(parent_signal_ids)b AS UUID[]), "
        "CAST(%(parent_pseudonyms)b AS VARCHAR[])) "
        "AS p(signal_id, parent_pseudonym) JOIN new_signals n ON n.id = p.signal_id"
    )


_ADD_SIGNALS_ON_POSTGRESQL = _many_signals_with_parents_on_postgresql()


def _on_each_child() -> Select[SignalRow]:
    """The active signals of some (professional, child) pairs, found child by child: a
    LATERAL subquery per child, fenced by `OFFSET 0` so that the planner neither merges it
    into one set-wise join nor pushes the outer conditions into it. Inside, nothing but the
    child is asked for, so the only index it can probe is the one that leads with the child
    (`ix_signals_child_pseudonym_status`); the status and the professional are checked on
    the child's few signals (its archived ones included) outside. A status condition inside
    made every partial index on active signals a candidate, and without statistics the
    planner took one of those and read it whole, for every child
    (tests/integration/test_query_plans.py). The pairs are bound as two arrays,
    `wanted_children` and `wanted_professionals`."""
    wanted = (
        func.unnest(
            cast(bindparam("wanted_children"), ARRAY(String)),
            cast(bindparam("wanted_professionals"), ARRAY(Uuid)),
        )
        .table_valued("child_pseudonym", "professional_id")
        .render_derived(name="wanted")
    )
    on_child = (
        select(SignalRow)
        .where(SignalRow.child_pseudonym == wanted.c.child_pseudonym)
        .offset(0)
        .lateral("on_child")
    )
    found = aliased(SignalRow, on_child)
    return (
        select(found)
        .select_from(wanted)
        .join(
            on_child,
            and_(
                on_child.c.professional_id == wanted.c.professional_id,
                on_child.c.status == ACTIVE,
            ),
        )
    )


_ON_EACH_CHILD = _on_each_child()  # built once: building it cost more than running it


_FEED_SIGNAL_COLUMNS = (
    SignalRow.id,
    SignalRow.professional_id,
    SignalRow.child_pseudonym,
    SignalRow.external_ref,
    SignalParentRow.parent_pseudonym,
)


def _by_each_ref() -> Select[Any]:
    """A client's active signals by their references (`wanted_refs`, an array), with their
    parents: one probe of `ux_signals_active_feed_client_external_ref` per reference, in a
    LATERAL subquery fenced by `OFFSET 0` (as `_on_each_child`), so the reference is always
    part of the index condition, never a filter over all the client's signals."""
    wanted = (
        func.unnest(cast(bindparam("wanted_refs"), ARRAY(String)))
        .table_valued("ref")
        .render_derived(name="wanted")
    )
    by_ref = (
        select(SignalRow.id, SignalRow.professional_id, SignalRow.child_pseudonym)
        .add_columns(SignalRow.external_ref)
        .where(
            SignalRow.feed_client_id == bindparam("client_id"),
            SignalRow.external_ref == wanted.c.ref,
            SignalRow.status == ACTIVE,
        )
        .offset(0)
        .lateral("by_ref")
    )
    return (
        select(
            by_ref.c.id,
            by_ref.c.professional_id,
            by_ref.c.child_pseudonym,
            by_ref.c.external_ref,
            SignalParentRow.parent_pseudonym,
        )
        .select_from(wanted)
        .join(by_ref, true())
        .outerjoin(SignalParentRow, SignalParentRow.signal_id == by_ref.c.id)
    )


_BY_EACH_REF = _by_each_ref()


@dataclass(frozen=True, slots=True)
class FeedSignal:
    """An active signal of a feed, as a sync found it by its source reference."""

    id: uuid.UUID
    professional_id: uuid.UUID
    child: str
    parents: frozenset[str]
    external_ref: str


@dataclass(frozen=True, slots=True)
class Registering:
    """Who of a batch may register, and what the organisation gives their new signals."""

    professional_ids: frozenset[uuid.UUID]
    sector: str | None
    default_gemeente: str | None  # CBS code, as `POST /signals` takes it when none is named


class BulkRepository(RepositoryBase):
    def __init__(self, session: Session, keys: KeyRing) -> None:
        super().__init__(session, keys)
        self._postgres = session.get_bind().dialect.name == "postgresql"

    def professionals_of(self, organisation_id: uuid.UUID) -> dict[uuid.UUID, str | None]:
        """The organisation's active professionals who may register signals, each with the
        keyed lookup of their e-mail address (for finding them by address)."""
        rows = self.session.execute(
            select(ProfessionalRow.id, ProfessionalRow.roles, ProfessionalRow.email_lookup).where(
                ProfessionalRow.organisation_id == organisation_id,
                ProfessionalRow.active.is_(True),
            )
        ).all()
        return {i: lookup for i, roles, lookup in rows if Role.PROFESSIONAL.value in roles.split()}

    def registering(self, organisation_id: uuid.UUID, ids: Iterable[uuid.UUID]) -> Registering:
        """Which of these are active professionals of the organisation who may register
        signals, with the organisation's sector and default gemeente (both None when there
        are none): one statement, the batch's new signals carry both."""
        wanted = set(ids)
        if not wanted:
            return Registering(frozenset(), None, None)
        rows = self.session.execute(
            select(
                ProfessionalRow.id,
                ProfessionalRow.roles,
                OrganisationRow.sector,
                OrganisationRow.default_gemeente,
            )
            .join(OrganisationRow, OrganisationRow.id == ProfessionalRow.organisation_id)
            .where(
                among(ProfessionalRow.id, wanted, on_postgresql=self._postgres),
                ProfessionalRow.organisation_id == organisation_id,
                ProfessionalRow.active.is_(True),
            )
        ).all()
        valid = frozenset(i for i, roles, _, _ in rows if Role.PROFESSIONAL.value in roles.split())
        if not rows:
            return Registering(valid, None, None)
        return Registering(valid, rows[0].sector, rows[0].default_gemeente)

    def by_external_ref(self, client_id: uuid.UUID, refs: Iterable[str]) -> list[FeedSignal]:
        """This client's active signals with these source references, with their parents.

        On PostgreSQL one index probe per reference (`_BY_EACH_REF`): as `external_ref IN
        (...)`, the planner, whose statistics predate the client's signals (the run is what
        makes them), probed the index by client alone and read every signal of the client
        for each batch."""
        wanted = set(refs)
        if not wanted:
            return []
        if self._postgres:
            rows = self.session.execute(
                _BY_EACH_REF, {"client_id": client_id, "wanted_refs": list(wanted)}
            ).all()
        else:
            rows = self.session.execute(
                select(*_FEED_SIGNAL_COLUMNS)
                .outerjoin(SignalParentRow, SignalParentRow.signal_id == SignalRow.id)
                .where(
                    SignalRow.feed_client_id == client_id,
                    SignalRow.external_ref.in_(wanted),
                    SignalRow.status == ACTIVE,
                )
            ).all()
        parents: dict[uuid.UUID, set[str]] = defaultdict(set)
        facts: dict[uuid.UUID, tuple[uuid.UUID, str, str]] = {}
        for signal_id, professional_id, child, ref, parent in rows:
            facts[signal_id] = (professional_id, child, str(ref))  # found by it: never NULL
            if parent is not None:
                parents[signal_id].add(parent)
        return [FeedSignal(i, p, c, frozenset(parents[i]), r) for i, (p, c, r) in facts.items()]

    def active_rows(self, pairs: Iterable[tuple[uuid.UUID, str]]) -> list[SignalRow]:
        """The active signals of these (professional, child pseudonym) pairs: what a batch
        compares its items with, read under the person locks (at most one each: the unique
        index on active signals).

        On PostgreSQL, one index probe per child (`_on_each_child`), whatever the planner
        believes about the table: a region's first import runs on a table without statistics
        (autovacuum has not analysed it yet, or is off), and there every set-wise form of this
        lookup (`IN` lists, a join against the pairs) was planned as a scan of every active
        signal, because the planner took the table for ten rows: a batch then cost time in
        proportion to the signals already imported (a 100,000-row import took 865 s)."""
        wanted = set(pairs)
        if not wanted:
            return []
        if self._postgres:
            arrays = {
                "wanted_children": [c for _, c in wanted],
                "wanted_professionals": [p for p, _ in wanted],
            }
            return list(self.session.scalars(_ON_EACH_CHILD, arrays))
        return list(
            self.session.scalars(
                select(SignalRow).where(
                    tuple_(SignalRow.professional_id, SignalRow.child_pseudonym).in_(wanted),
                    SignalRow.status == ACTIVE,
                )
            )
        )

    def add_signals(
        self, values: Sequence[dict[str, Any]], parents: dict[uuid.UUID, Sequence[str]]
    ) -> None:
        """Insert the batch's new signals (columns of `signals` by their keys; one the values
        do not name is NULL, on both databases) and their parents: one statement on
        PostgreSQL, two executemany on SQLite."""
        if not values:
            return
        connection = self.session.connection()
        links = [(s, p) for s, ps in parents.items() for p in ps]
        if connection.dialect.name == "postgresql":
            columns = {c.name: [v.get(c.key) for v in values] for c in _SIGNAL_COLUMNS}
            connection.exec_driver_sql(
                _ADD_SIGNALS_ON_POSTGRESQL,
                {
                    **columns,
                    "parent_signal_ids": [s for s, _ in links],
                    "parent_pseudonyms": [p for _, p in links],
                },
            )
            return
        connection.execute(insert(SignalRow), values)
        if links:
            connection.execute(
                insert(SignalParentRow),
                [{"signal_id": s, "parent_pseudonym": p} for s, p in links],
            )

    def prefer_index_probes(self) -> None:
        """PostgreSQL, for the rest of this transaction: plan with random reads costing
        little more than sequential ones (`random_page_cost` 1.1, as for SSDs or a cached
        database, instead of the spinning-disk default of 4).

        A batch looks up a few hundred children, parents and matches scattered through
        tables of any size. At the default the planner reads a whole table rather than
        probe its index a few hundred times once it holds some tens of thousands of
        signals, so every batch cost time in proportion to everything stored: a batch's
        surroundings took 52 ms at 30,000 signals, 17 ms with index probes (and the gap
        grows with the table)."""
        if self._postgres:
            self.session.execute(text("SET LOCAL random_page_cost = 1.1"))

    def stale_statistics(self, at_least: int) -> list[str]:
        """PostgreSQL: which of `PLANNED_TABLES` have had at least `at_least` rows changed,
        and more than their statistics count, since they were last analysed (never, for a
        freshly migrated table): those whose statistics no longer describe them."""
        found = self.session.scalars(
            # The statistics function itself, not the pg_stat_user_tables view (whose joins
            # took ten times as long, before every batch).
            text(
                "SELECT c.relname FROM pg_class c "
                "WHERE c.oid = ANY(CAST(:tables AS regclass[])) "
                "AND pg_stat_get_mod_since_analyze(c.oid) >= :at_least "
                "AND pg_stat_get_mod_since_analyze(c.oid) > c.reltuples"
            ),
            {"tables": list(PLANNED_TABLES), "at_least": at_least},
        )
        return [str(name) for name in found]

    def analyse(self, tables: Sequence[str]) -> None:
        """PostgreSQL's ANALYZE of these tables (of `PLANNED_TABLES` only); its statistics
        are kept when the transaction commits. Not the tables' owner: a warning, no error."""
        names = ", ".join(t for t in PLANNED_TABLES if t in tables)
        if names:
            # Only our own table names are formatted in.
            self.session.execute(text(f"ANALYZE {names}"))

    def feed_page(
        self,
        feed: str,
        client_id: uuid.UUID | None,
        organisation_id: uuid.UUID,
        after: uuid.UUID | None,
        limit: int,
    ) -> list[tuple[uuid.UUID, uuid.UUID, str, str | None]]:
        """A page of a feed's active signals in id order after `after`: (id, professional,
        child, external ref). A sync's are its client's; an import's are those of the
        organisation's professionals."""
        statement = select(
            SignalRow.id,
            SignalRow.professional_id,
            SignalRow.child_pseudonym,
            SignalRow.external_ref,
        ).where(SignalRow.feed == feed, SignalRow.status == ACTIVE)
        if client_id is not None:
            statement = statement.where(SignalRow.feed_client_id == client_id)
        else:
            statement = statement.join(
                ProfessionalRow, ProfessionalRow.id == SignalRow.professional_id
            ).where(ProfessionalRow.organisation_id == organisation_id)
        if after is not None:
            statement = statement.where(SignalRow.id > after)
        rows = self.session.execute(statement.order_by(SignalRow.id).limit(limit)).all()
        return [(i, p, c, r) for i, p, c, r in rows]

    def rows_for_update(self, signal_ids: Iterable[uuid.UUID]) -> list[SignalRow]:
        """These signals, still active, locked for the closing transaction."""
        wanted = set(signal_ids)
        if not wanted:
            return []
        return list(
            self.session.scalars(
                select(SignalRow)
                .where(
                    among(SignalRow.id, wanted, on_postgresql=self._postgres),
                    SignalRow.status == ACTIVE,
                )
                .with_for_update()
            )
        )

    def parents_of(self, signal_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, frozenset[str]]:
        wanted = set(signal_ids)
        found: dict[uuid.UUID, set[str]] = {s: set() for s in wanted}
        if wanted:
            for signal_id, parent in self.session.execute(
                select(SignalParentRow.signal_id, SignalParentRow.parent_pseudonym).where(
                    among(SignalParentRow.signal_id, wanted, on_postgresql=self._postgres)
                )
            ):
                found[signal_id].add(parent)
        return {s: frozenset(p) for s, p in found.items()}

    def children_of(self, signal_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        wanted = set(signal_ids)
        if not wanted:
            return {}
        rows = self.session.execute(
            select(SignalRow.id, SignalRow.child_pseudonym).where(
                among(SignalRow.id, wanted, on_postgresql=self._postgres)
            )
        ).all()
        return {i: c for i, c in rows}

    def justification(self, row: SignalRow) -> str | None:
        """A signal's postponement justification, opened (to compare with a source's)."""
        if row.postponement_justification_enc is None:
            return None
        return self._open("signals", row.id, "justification", row.postponement_justification_enc)

    def in_a_match(self, signal_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these signals are in some match."""
        wanted = set(signal_ids)
        if not wanted:
            return set()
        return set(
            self.session.scalars(
                select(MatchSignalRow.signal_id)
                .where(among(MatchSignalRow.signal_id, wanted, on_postgresql=self._postgres))
                .distinct()
            )
        )
