"""Watch the SQL a piece of code sends: how many statements, and which missed the cache.

`watch_statements(engine)` listens to SQLAlchemy's `before_cursor_execute` on the engine
(the events reach the app's write-option engine too) and records every statement sent to
the database, with whether its compiled form came from SQLAlchemy's compiled cache
(`context.cache_hit`; the `[cached since ...]` / `[generated in ...]` of the engine log).

Transaction control is kept apart: `BEGIN` (SQLite's `BEGIN IMMEDIATE`, sent as a
statement) is not counted among the statements, and commits are counted on their own
(`commits`) from the engine's `commit` event, since psycopg and sqlite3 send them without
a cursor. So a request's round trips on PostgreSQL are `len(statements)` + `commits`
(+ psycopg's own `BEGIN`, sent before the first statement of each transaction).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.engine.interfaces import CacheStats

_TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    # False when SQLAlchemy compiled it for this execution: a cache miss, or a statement it
    # cannot cache at all (e.g. a multi-row VALUES). Driver-level SQL (`exec_driver_sql`)
    # is never compiled and counts as cached.
    cached: bool
    cache: str  # the CacheStats name, for the failure message

    def first_line(self) -> str:
        return " ".join(self.sql.split())[:160]


@dataclass
class StatementLog:
    statements: list[Statement] = field(default_factory=list)
    commits: int = 0

    @property
    def count(self) -> int:
        return len(self.statements)

    def misses(self) -> list[Statement]:
        return [s for s in self.statements if not s.cached]

    def describe(self) -> str:
        return "\n".join(
            f"  {'hit ' if s.cached else 'MISS'} [{s.cache}] {s.first_line()}"
            for s in self.statements
        )


def _was_cached(context: DefaultExecutionContext | None) -> tuple[bool, str]:
    if context is None or context.compiled is None:
        return True, "driver sql"
    stats: CacheStats = context.cache_hit
    return stats is CacheStats.CACHE_HIT, stats.name


@contextmanager
def watch_statements(engine: Engine) -> Iterator[StatementLog]:
    log = StatementLog()

    def before(
        _conn: Any,
        _cursor: Any,
        statement: str,
        _parameters: Any,
        context: DefaultExecutionContext | None,
        _executemany: bool,
    ) -> None:
        if statement.lstrip().upper().startswith(_TRANSACTION_CONTROL):
            return
        cached, cache = _was_cached(context)
        log.statements.append(Statement(statement, cached, cache))

    def commit(_conn: Any) -> None:
        log.commits += 1

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "commit", commit)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "commit", commit)
