"""Many values in one parameter on PostgreSQL: arrays, for statements about a whole batch.

A bulk batch reads and writes hundreds of rows at once. `insert_rows`: as an executemany,
each row is a separate parameter set that psycopg prepares in Python; as one `INSERT ...
SELECT * FROM unnest(...)` with a binary array per column (psycopg's `%(name)b`
placeholders, so the values are not formatted and quoted one by one either), the rows cost
a few microseconds each. `among`: `column IN (...)` of a few hundred values is as many
parameters, each rendered, cast and sent apart, and a statement text of its own for every
count; `column = ANY(array)` is one parameter and one statement, planned the same.
SQLite has no arrays: there they stay an executemany and an IN.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Connection, Table, any_, bindparam, insert
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import QueryableAttribute

from verwijsindex.models import Base

_POSTGRESQL = postgresql.dialect()  # type: ignore[no-untyped-call]
T = TypeVar("T")


def among(
    column: QueryableAttribute[T], values: Iterable[T], *, on_postgresql: bool
) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL `column = ANY(:array)`, one parameter whatever the
    number of values."""
    if not on_postgresql:
        return column.in_(list(values))
    return column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))


@cache
def _insert_sql(table: Table, keys: tuple[str, ...]) -> str:
    """The statement for these columns (by key) of `table`; built once per shape. Only the
    model's own table and column names and types are formatted in; the values are bound."""
    columns = [table.c[key] for key in keys]
    names = ", ".join(c.name for c in columns)
    arrays = ", ".join(
        f"CAST(%({c.key})b AS {c.type.compile(dialect=_POSTGRESQL)}[])" for c in columns
    )
    return f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({arrays})"  # noqa: S608


def insert_rows(
    connection: Connection, model: type[Base], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert `rows` of the model's table (dicts naming the same columns by key) in one
    statement on PostgreSQL; a column they do not name takes its default. The caller
    flushes the session first if the rows refer to rows the ORM has not written yet (this
    goes to the connection)."""
    if not rows:
        return
    table = cast(Table, model.__table__)
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), list(rows))
        return
    keys = tuple(rows[0])
    connection.exec_driver_sql(
        _insert_sql(table, keys), {key: [row[key] for row in rows] for key in keys}
    )
