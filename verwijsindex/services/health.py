"""Is the service able to serve: the database answers (GET /health)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from verwijsindex.db import with_retries
from verwijsindex.services.core import Core


def database_reachable(core: Core) -> bool:
    """One `SELECT 1` on a pooled connection, outside any transaction of a use case and
    without an audit record (it touches no personal data).

    A pooled connection that died with a database restart is replaced and tried again
    first (`with_retries`), so a database that is back is reported as back.
    """
    engine = core.database.engine

    def ping() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    try:
        with_retries(ping)
    except SQLAlchemyError:
        return False
    return True
