"""Engines and the unit of work: one transaction per use case, rolled back unless committed.

SQLite and PostgreSQL get the same guarantees by different means:

- SQLite: every writing transaction starts with `BEGIN IMMEDIATE`, which takes the single
  write lock up front; two writers never interleave, so matching is trivially serial.
  WAL mode lets readers proceed meanwhile; `synchronous` stays at its durable default.
- PostgreSQL: READ COMMITTED plus transaction-scoped advisory locks per person (see
  `repository.lock_persons`), so only writers about the same child or family wait.
  Deadlocks between such locks are detected by PostgreSQL and retried here.

Both engines hide statement parameters (`hide_parameters=True`): the parameters are
pseudonyms and encrypted contact data, and a database error's message goes to the log.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self, TypeVar

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

T = TypeVar("T")

# Every error the database layer raises, for the handlers that turn one into a 503 or a
# 500 problem: the API and the web UI catch this name and import nothing of SQLAlchemy's.
DatabaseError = SQLAlchemyError

_WRITE_OPTION = "verwijsindex_write"
# PostgreSQL: serialization_failure, deadlock_detected.
_RETRYABLE_SQLSTATES = {"40001", "40P01"}
MAX_ATTEMPTS = 5


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    # No pre-ping: it costs a round trip per transaction. A connection found dead (say,
    # after a database restart) invalidates the pool and `with_retries` runs the
    # transaction again on a fresh one.
    return create_engine(url, pool_size=5, max_overflow=10, pool_recycle=3600, hide_parameters=True)


def ensure_sqlite_directory(url: str) -> None:
    """SQLite creates the file but not its folder (e.g. `instance/` on a fresh clone)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_engine(url: str) -> Engine:
    ensure_sqlite_directory(url)
    engine = create_engine(
        url,
        connect_args={"timeout": 30, "check_same_thread": False},
        hide_parameters=True,
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: DBAPIConnection, _: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        writes = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    return engine


class Database:
    """The engine and the two session factories (reading and writing)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.dialect = self.engine.dialect.name
        self._read_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(
            self.engine.execution_options(**{_WRITE_OPTION: True}), expire_on_commit=False
        )

    def unit_of_work(self, *, write: bool) -> UnitOfWork:
        return UnitOfWork(self._write_sessions if write else self._read_sessions)

    def dispose(self) -> None:
        self.engine.dispose()


class UnitOfWork:
    """A session whose transaction is rolled back unless `commit()` was called."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self.session: Session

    def __enter__(self) -> Self:
        self.session = self._factory()
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()

    def commit(self) -> None:
        self.session.commit()


def is_retryable(error: BaseException) -> bool:
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        sqlstate = getattr(error.orig, "sqlstate", None)
        if sqlstate in _RETRYABLE_SQLSTATES:
            return True
        if isinstance(error, OperationalError) and "database is locked" in str(error.orig):
            return True
    return False


def is_unavailable(error: BaseException) -> bool:
    """True when the database could not be used at all (down, restarting, refusing
    connections, locked, out of connections), as opposed to a statement it refused.

    Such an error is the service's temporary state, not the caller's fault nor a bug: the
    API answers 503 with `Retry-After` instead of 500.
    """
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OperationalError | InterfaceError | PoolTimeout)


def describe(error: SQLAlchemyError) -> str:
    """One log-safe line about a database error: its driver class, SQLSTATE and the first
    line of its message. PostgreSQL's DETAIL lines (which may quote a key, i.e. a
    pseudonym) and the statement are left out."""
    original = getattr(error, "orig", None) or error
    sqlstate = getattr(original, "sqlstate", None)
    first_line = (str(original).strip().splitlines() or [""])[0][:200]
    state = f" [{sqlstate}]" if sqlstate else ""
    return f"{type(original).__name__}{state}: {first_line}"


def with_retries(attempt: Callable[[], T]) -> T:
    """Run a whole transaction again after a deadlock, a lock timeout or a lost connection.

    Only the transaction is repeated, never a side effect: notifications are collected in
    the use case and dispatched after commit.
    """
    for number in range(1, MAX_ATTEMPTS + 1):
        try:
            return attempt()
        except DBAPIError as error:
            if number == MAX_ATTEMPTS or not is_retryable(error):
                raise
            time.sleep(0.01 * 2**number)
    raise AssertionError("unreachable")
