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
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from tests.conftest import World
from verwijsindex.models import SignalRow
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
            kept = node["Actual Rows"] * node["Actual Loops"]
            read += kept + node.get("Rows Removed by Filter", 0)
            read += node.get("Rows Removed by Index Recheck", 0)
    return read


def _store_other_active_signals(core: Core, professional_id: uuid.UUID) -> None:
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
    with Session(core.database.engine) as session:
        session.execute(insert(SignalRow), rows)
        session.commit()
    with core.database.engine.connect() as connection:
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
