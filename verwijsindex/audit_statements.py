"""The statements that append to the audit chains, built once at import.

Kept apart from `audit.py` (what a record is, its MAC, the order of the steps) because they
are PostgreSQL-shaped for speed: every request's commit runs them, so each is compiled once
and hits SQLAlchemy's statement cache, whatever the number of records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    CTE,
    BigInteger,
    Integer,
    Select,
    String,
    bindparam,
    func,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeEngine

from verwijsindex.models import AuditEventRow, AuditHeadRow
from verwijsindex.models.audit import AUDIT_POSITIONS


@dataclass(frozen=True, slots=True)
class TakenHead:
    """A chain's head, locked by this transaction, and the places in the log it may use."""

    chain: int
    seq: int
    mac: str
    positions: Sequence[int]


HEAD_OF_CHAIN = select(AuditHeadRow.chain, AuditHeadRow.seq, AuditHeadRow.mac).where(
    AuditHeadRow.chain == bindparam("chain")
)
NEWEST_POSITION = select(func.max(AuditEventRow.seq))


MOVE_HEAD = (
    update(AuditHeadRow)
    .where(AuditHeadRow.chain == bindparam("head_chain"))
    .values(
        seq=bindparam("head_seq", type_=BigInteger),
        mac=bindparam("head_mac", type_=String),
        head_mac=bindparam("head_head_mac", type_=String),
    )
)


_POSTGRESQL = postgresql.dialect()  # type: ignore[no-untyped-call]


def _postgresql_type(column_type: TypeEngine[Any]) -> str:
    name = column_type.compile(dialect=_POSTGRESQL)
    return "timestamptz" if name == "TIMESTAMP WITH TIME ZONE" else name


# The records, one array per column, and the head moved, in one statement whatever the number
# of records: so it is the same statement every time (SQLAlchemy never caches multi-row
# VALUES). Driver-level SQL (`Connection.exec_driver_sql`), for psycopg's `%(name)b`
# placeholders: the arrays go in binary, value by value as they are, where as text psycopg
# formats and quotes each of a bulk batch's thousands of values in Python.
RECORD_COLUMNS = tuple(c.key for c in AuditEventRow.__table__.columns)
# Built once from the model's own column names: nothing from outside goes into the text.
APPEND_ON_POSTGRESQL = (
    "WITH new_records AS (INSERT INTO audit_events ("  # noqa: S608
    + ", ".join(RECORD_COLUMNS)
    + ") SELECT * FROM unnest("
    + ", ".join(
        f"CAST(%({c.key})b AS {_postgresql_type(c.type)}[])"
        for c in AuditEventRow.__table__.columns
    )
    + ")) UPDATE audit_heads SET seq = %(head_seq)s, mac = %(head_mac)s,"
    " head_mac = %(head_head_mac)s WHERE chain = %(head_chain)s"
)


def _head_with_places(head: CTE) -> Select[Any]:
    """The locked head once per place asked for, each with a new number from the sequence."""
    places = func.generate_series(1, bindparam("count", type_=Integer)).table_valued("n")
    return select(
        head.c.chain, head.c.seq, head.c.mac, func.nextval(AUDIT_POSITIONS.name).label("position")
    ).select_from(head.join(places, true()))


# The first head from chain `start` on (wrapping around) that no open transaction holds.
TAKE_FREE_HEAD = _head_with_places(
    select(AuditHeadRow.chain, AuditHeadRow.seq, AuditHeadRow.mac)
    .order_by(AuditHeadRow.chain < bindparam("start"), AuditHeadRow.chain)
    .limit(1)
    .with_for_update(skip_locked=True)
    .cte("head")
)
# Every head is held: wait for chain `start`'s.
WAIT_FOR_HEAD = _head_with_places(
    select(AuditHeadRow.chain, AuditHeadRow.seq, AuditHeadRow.mac)
    .where(AuditHeadRow.chain == bindparam("start"))
    .with_for_update()
    .cte("head")
)
