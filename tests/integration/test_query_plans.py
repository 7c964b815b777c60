"""The lookup behind every registration and every archived signal reads only the signals it
is about, however many others are stored.

A benchmark at 500 000 signals found maintenance's archiving 7× slower per signal than at
100 000: the query for a signal's surroundings (`SqlMatchStore.surroundings`: signals on
these children, or active ones naming these parents) read every active signal, because an
OR of an indexed condition and a sub-select cannot be answered from indexes alone.
POST /signals with parents ran the same query. Timing that in a test would be flaky; what
PostgreSQL's own EXPLAIN ANALYZE counts is not: the rows the query reads from `signals`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, insert, text
from sqlalchemy.orm import Session

from tests.conftest import World, _private_postgres_database
from verwijsindex.migrate import upgrade
from verwijsindex.models import OrganisationRow, ProfessionalRow, SignalRow
from verwijsindex.repository.bulk import BulkRepository
from verwijsindex.repository.matches import SqlMatchStore
from verwijsindex.services import Core

OTHER_SIGNALS = 1000
CHILD = "k1:" + "a" * 43
PARENT = "k1:" + "b" * 43


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _rows_read_from_signals(plan: dict[str, Any]) -> int:
    read = 0
    for node in _nodes(plan):
        if node.get("Relation Name") == "signals":
            # EXPLAIN gives each count per loop (an inner side of a nested loop runs many).
            loops = node["Actual Loops"]
            read += node["Actual Rows"] * loops + node.get("Rows Removed by Filter", 0) * loops
            read += node.get("Rows Removed by Index Recheck", 0) * loops
    return read


def _store_other_active_signals(
    core: Core, professional_id: uuid.UUID, *, engine: Engine | None = None, analyse: bool = True
) -> None:
    now = datetime.now(UTC)
    rows = [
        {
            "id": uuid.uuid4(),
            "professional_id": professional_id,
            "child_pseudonym": f"k1:{n:043x}",
            "status": "active",
            "created_at": now,
            "active_until": now + timedelta(days=730),
            "archived_until": now + timedelta(days=2555),
            "child_birth_date": date(2015, 1, 1),
            "child_informed": True,
            "parents_informed": True,
        }
        for n in range(OTHER_SIGNALS)
    ]
    engine = engine or core.database.engine
    with Session(engine) as session:
        session.execute(insert(SignalRow), rows)
        session.commit()
    if analyse:
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE signals")
            connection.commit()


@pytest.mark.postgres_only
@pytest.mark.parametrize("parents", [[], [PARENT]], ids=["child only", "child and parent"])
def test_a_signals_surroundings_read_only_the_signals_they_are_about(
    core: Core, world: World, parents: list[str]
) -> None:
    _store_other_active_signals(core, world.professional("Anna Jansen").professional_id)
    sent: list[tuple[str, Any]] = []
    with Session(core.database.engine) as session:
        connection = session.connection()

        def capture(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
            sent.append((statement, parameters))

        event.listen(connection, "before_cursor_execute", capture)
        SqlMatchStore(session, datetime.now(UTC)).surroundings([CHILD], parents)
        event.remove(connection, "before_cursor_execute", capture)
        assert len(sent) == 1
        statement, parameters = sent[0]
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
        plan = cursor.fetchone()[0]
        session.rollback()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    assert _rows_read_from_signals(plan[0]["Plan"]) <= 2, json.dumps(plan, indent=1)


def _explained(session: Session, run: Callable[[], object]) -> dict[str, Any]:
    """The EXPLAIN ANALYZE plan of the one statement `run` sends, run again as sent."""
    sent: list[tuple[str, Any]] = []
    connection = session.connection()

    def capture(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", capture)
    run()
    event.remove(connection, "before_cursor_execute", capture)
    assert len(sent) == 1
    statement, parameters = sent[0]
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
    plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    found: dict[str, Any] = plan[0]["Plan"]
    return found


@pytest.mark.postgres_only
def test_a_batch_reads_only_its_own_existing_signals_also_on_a_table_without_statistics(
    core: Core,
) -> None:
    """A region's first import runs on a table PostgreSQL has never analysed (autovacuum
    comes later, or is off): there the batch's lookup of its items' existing signals was
    planned as a scan of every active signal, and a 100,000-row import took 865 s. Here,
    on a freshly migrated database of its own (no statistics at all), and again after
    ANALYZE, the lookup reads only the signals on the batch's children."""
    professionals = [uuid.uuid4() for _ in range(4)]
    now = datetime.now(UTC)
    with _private_postgres_database() as url:
        upgrade(url)
        engine = create_engine(url)
        try:
            with Session(engine) as session:
                organisation = uuid.uuid4()
                session.execute(
                    insert(OrganisationRow).values(
                        id=organisation, name="School", sector="onderwijs", created_at=now
                    )
                )
                session.execute(
                    insert(ProfessionalRow),
                    [
                        {
                            "id": p,
                            "organisation_id": organisation,
                            "name_enc": b"-",
                            "email_enc": b"-",
                            "phone_enc": b"-",
                            "roles": "professional",
                            "created_at": now,
                        }
                        for p in professionals
                    ],
                )
                session.commit()
            _store_other_active_signals(core, professionals[0], engine=engine, analyse=False)
            stored = [(professionals[0], f"k1:{n:043x}") for n in range(0, OTHER_SIGNALS, 20)]
            new = [(professionals[1], f"k1:{n:043x}") for n in range(0, OTHER_SIGNALS, 25)]
            with Session(engine) as session:
                never_analysed = session.execute(
                    text("SELECT reltuples < 0 FROM pg_class WHERE relname = 'signals'")
                ).scalar_one()
                assert never_analysed
                repository = BulkRepository(session, core.keys)
                wanted = {*stored, *new}
                for analysed in (False, True):
                    if analysed:
                        session.execute(text("ANALYZE signals"))
                    found = repository.active_rows(wanted)
                    assert {(r.professional_id, r.child_pseudonym) for r in found} == set(stored)
                    plan = _explained(session, partial(repository.active_rows, wanted))
                    # One probe per item, reading its child's signals (here one at most)
                    # and nothing else; the scan it replaced read 1,000 per item.
                    assert _rows_read_from_signals(plan) <= len(wanted), json.dumps(plan)
                session.rollback()
        finally:
            engine.dispose()


@pytest.mark.postgres_only
def test_a_sync_batch_finds_its_references_by_index_when_the_statistics_predate_them(
    core: Core, world: World
) -> None:
    """A sync run makes its client's signals: the statistics taken before show none, and
    the planner then probed the references index by client alone and filtered every
    signal of the client for the batch's references. Each reference is its own probe."""
    anna = world.professional("Anna Jansen")
    _store_other_active_signals(core, anna.professional_id)  # analysed: no client's signals
    client_id, now = uuid.uuid4(), datetime.now(UTC)
    with Session(core.database.engine) as session:
        session.execute(
            insert(SignalRow),
            [
                {
                    "id": uuid.uuid4(),
                    "professional_id": anna.professional_id,
                    "child_pseudonym": f"k2:{n:043x}",
                    "status": "active",
                    "created_at": now,
                    "active_until": now + timedelta(days=730),
                    "archived_until": now + timedelta(days=2555),
                    "child_birth_date": date(2015, 1, 1),
                    "child_informed": True,
                    "parents_informed": True,
                    "feed": "sync",
                    "feed_client_id": client_id,
                    "external_ref": f"ref-{n}",
                }
                for n in range(OTHER_SIGNALS)
            ],
        )
        session.commit()
        repository = BulkRepository(session, core.keys)
        wanted = [f"ref-{n}" for n in range(0, OTHER_SIGNALS, 20)] + ["ref-none"]
        assert len(repository.by_external_ref(client_id, wanted)) == len(wanted) - 1
        plan = _explained(session, partial(repository.by_external_ref, client_id, wanted))
        session.rollback()
    assert _rows_read_from_signals(plan) <= len(wanted), json.dumps(plan)
