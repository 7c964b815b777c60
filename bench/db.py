"""The benchmark's own PostgreSQL database: create it fresh, drop it after, read settings.

Only the database named in ``--database-url`` is touched (dropped and recreated), through the
server's ``postgres`` maintenance database. It also records ``synchronous_commit`` and ``fsync``
so a result can never silently come from a non-durable setup.
"""

from __future__ import annotations

from typing import Any, LiteralString

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+psycopg://...``) as a plain libpq URL for psycopg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _maintenance_url(url: str) -> tuple[str, str]:
    parsed = make_url(url)
    if parsed.database is None:
        raise ValueError(f"no database name in {parsed.render_as_string()}")
    if parsed.host not in (None, "127.0.0.1", "localhost", "::1"):
        raise ValueError("the benchmark only runs against a database on this machine (loopback)")
    return libpq_url(str(parsed.set(database="postgres").render_as_string(False))), parsed.database


def recreate_database(url: str) -> None:
    """Drop (forcing out stale sessions of an aborted earlier run) and create the database."""
    maintenance, name = _maintenance_url(url)
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url: str) -> None:
    """Drop the database again, so a 5-million-row run does not leave gigabytes behind."""
    maintenance, name = _maintenance_url(url)
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def server_facts(url: str) -> dict[str, Any]:
    """Version and durability settings of the server, as the benchmark connection sees them."""
    with psycopg.connect(libpq_url(url)) as conn:
        facts: dict[str, Any] = {}
        for setting in ("server_version", "synchronous_commit", "fsync", "shared_buffers"):
            row = conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(setting))).fetchone()
            facts[setting] = row[0] if row else None
        return facts


def query_one(url: str, query: LiteralString) -> tuple[Any, ...] | None:
    """One row of a read-only query (sanity checks on what a run wrote)."""
    with psycopg.connect(libpq_url(url)) as conn:
        return conn.execute(query).fetchone()


def activity(url: str) -> dict[str, int]:
    """Cumulative commit/rollback counts of this database and WAL syncs of the server.

    Taken before and after a load, the difference per request shows how many transactions (and
    so, with synchronous_commit on, how many waits for the disk) one POST costs, and how well
    concurrent commits share a WAL flush. Schema-agnostic, so it works for every app under test.
    """
    with psycopg.connect(libpq_url(url)) as conn:
        row = conn.execute(
            "SELECT d.xact_commit, d.xact_rollback, w.wal_sync, w.wal_records"
            " FROM pg_stat_database d, pg_stat_wal w WHERE d.datname = current_database()"
        ).fetchone()
    assert row is not None
    return dict(
        zip(("commits", "rollbacks", "wal_syncs", "wal_records"), map(int, row), strict=True)
    )


def per_request(before: dict[str, int], after: dict[str, int], requests: int) -> dict[str, float]:
    """Counter deltas per answered request, minus the probe's own transaction."""
    # each activity() call commits one read-only transaction of its own
    deltas = {k: after[k] - before[k] for k in before}
    deltas["commits"] -= 1
    return {k: round(v / requests, 2) if requests else 0.0 for k, v in deltas.items()}


def analyze(url: str) -> None:
    """Refresh planner statistics after a bulk load, as autovacuum would on a live system."""
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("ANALYZE")
