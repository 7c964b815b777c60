"""Bulk loading of audit records that verify, for ``bench.audit_verify``.

Ten million records through ``AuditLog.append`` would take hours: it compiles one multi-row
INSERT per call (about 0.3 ms a record here). So the loader takes the one step of ``append``
that matters for verification, the service's own ``AuditLog._row`` (the record's columns, its
salted subject commitment and its MAC over the predecessor's), keeps the chain state itself,
and writes the rows with ``COPY``; then it moves the head rows as ``append`` would, MACed with
the service's own ``AuditLog.head_mac``. The columns written are the keys ``_row`` returns,
so the loader follows the service's record layout. ``verwijsindex audit verify`` is the judge:
a loader that got anything wrong makes the measured run fail, not silently pass.

Two layouts are understood, told apart by ``_row``'s parameters: one chain (``_row(seq,
prev_mac, ...)``, head row ``id = 1``) and striped chains (``_row(chain, chain_seq, position,
prev_mac, ...)``, one head row per chain, records spread over ``CHAINS`` chains in turn).

The records look like a working day's: mostly ``api:match:read`` and ``api:signal:create``
by a thousand professionals, a third naming a data subject (salted commitment), request ids,
times spread evenly over the days the log spans.
"""

from __future__ import annotations

import inspect
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import psycopg
from psycopg import sql

from bench.db import libpq_url
from bench.load import drop_for_bulk_load
from verwijsindex import audit
from verwijsindex.audit import AuditEntry, AuditLog, RequestContext, Who
from verwijsindex.crypto import load_keys

BATCH = 20_000
ACTORS = 1000
REBUILD_MIN = 200_000  # below this, keeping the indexes is as fast as rebuilding them
_ACTIONS = (
    ("match:read", "match"),
    ("signal:create", "signal"),
    ("match:list", None),
    ("signal:read", "signal"),
)


@dataclass
class ChainState:
    """Where each chain's head is, and the last place in the whole log."""

    striped: bool
    heads: dict[int, tuple[int, str]] = field(default_factory=dict)  # chain -> (seq, mac)
    position: int = 0


def _striped() -> bool:
    return "chain" in inspect.signature(AuditLog._row).parameters


def _chains() -> int:
    return int(getattr(audit, "CHAINS", 1))


def read_state(conn: psycopg.Connection[tuple[Any, ...]]) -> ChainState:
    """The heads as stored (none: an empty log)."""
    striped = _striped()
    state = ChainState(striped)
    key, table = ("chain", "audit_heads") if striped else ("id", "audit_head")
    for chain, seq, mac in conn.execute(
        sql.SQL("SELECT {}, seq, mac FROM {}").format(sql.Identifier(key), sql.Identifier(table))
    ):
        state.heads[int(chain) if striped else 0] = (int(seq), str(mac))
    top = conn.execute("SELECT coalesce(max(seq), 0) FROM audit_events").fetchone()
    state.position = int(top[0]) if top else 0
    return state


def _entries(first: int, count: int) -> Iterator[tuple[AuditEntry, Who, RequestContext]]:
    """Deterministic, realistic entries for places ``first .. first + count - 1``."""
    actors = [uuid.UUID(int=0xA0D17 << 64 | i) for i in range(ACTORS)]
    for place in range(first, first + count):
        action, object_type = _ACTIONS[place % len(_ACTIONS)]
        subject = f"bench-subject-{place // 3:012d}" if place % 3 == 0 else None
        entry = AuditEntry(
            action,
            object_type,
            uuid.UUID(int=place) if object_type else None,
            subject,
            (uuid.UUID(int=place + 1),) if action == "match:list" else (),
        )
        who = Who(actors[place % ACTORS], None, ("professional",), "personal")
        yield entry, who, RequestContext("api", f"req-{place:016x}", "127.0.0.1")


def _copy_text(value: object) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _rows(
    log: AuditLog, state: ChainState, count: int, first_at: datetime, step: timedelta
) -> Iterator[dict[str, object]]:
    """``count`` new records after ``state``, advancing it; the service's ``_row`` each."""
    chains = _chains() if state.striped else 1
    make_row: Callable[..., dict[str, object]] = getattr(log, "_row")  # noqa: B009 - either layout
    for entry, who, context in _entries(state.position + 1, count):
        state.position += 1
        chain = state.position % chains
        seq, prev = state.heads.get(chain, (0, audit.GENESIS))
        now = first_at + step * state.position
        if state.striped:
            row = make_row(chain, seq + 1, state.position, prev, entry, who, context, now)
        else:
            row = make_row(seq + 1, prev, entry, who, context, now)
        state.heads[chain] = (seq + 1, str(row["mac"]))
        yield row


def _write_heads(
    conn: psycopg.Connection[tuple[Any, ...]], log: AuditLog, state: ChainState
) -> None:
    """Move (or make) the head rows, MACed as ``append`` does."""
    # public in the one-chain layout; the striped one MACs (chain, seq, mac)
    head_mac: Callable[..., str] = getattr(log, "head_mac", None) or log._head_mac
    for chain, (seq, mac) in sorted(state.heads.items()):
        if state.striped:
            conn.execute(
                "INSERT INTO audit_heads (chain, seq, mac, head_mac) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (chain) DO UPDATE SET seq = excluded.seq, mac = excluded.mac,"
                " head_mac = excluded.head_mac",
                (chain, seq, mac, head_mac(chain, seq, mac)),
            )
            # Places in the whole log come from this sequence: continue after the loaded ones.
            conn.execute("SELECT setval('audit_events_seq', (SELECT max(seq) FROM audit_events))")
        else:
            conn.execute(
                "INSERT INTO audit_head (id, seq, mac, head_mac) VALUES (1, %s, %s, %s)"
                " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, mac = excluded.mac,"
                " head_mac = excluded.head_mac",
                (seq, mac, head_mac(seq, mac)),
            )


def load_audit_records(
    database_url: str,
    keys_dir: Path,
    n: int,
    *,
    first_at: datetime | None = None,
    span: timedelta = timedelta(days=365),
    progress: TextIO | None = None,
) -> float:
    """Append ``n`` verifying records after whatever the log holds; returns seconds taken.

    One transaction; the secondary indexes of ``audit_events`` are dropped and rebuilt from
    the catalogue for a large load (``bench.load.drop_for_bulk_load``).
    """
    out = sys.stderr if progress is None else progress
    log = AuditLog(load_keys(keys_dir).audit_key)
    began = time.monotonic()
    start = first_at or datetime.now(UTC) - span
    with psycopg.connect(libpq_url(database_url)) as conn:
        state = read_state(conn)
        step = span / max(state.position + n, 1)
        restore = drop_for_bulk_load(conn, ("audit_events",)) if n >= REBUILD_MIN else []
        columns: list[str] | None = None
        done = 0
        rows = _rows(log, state, n, start, step)
        while done < n:
            batch = [next(rows) for _ in range(min(BATCH, n - done))]
            if columns is None:
                columns = list(batch[0])
            data = "".join(
                "\t".join(_copy_text(r[c]) for c in columns) + "\n" for r in batch
            ).encode()
            statement = sql.SQL("COPY audit_events ({}) FROM STDIN").format(
                sql.SQL(", ").join(map(sql.Identifier, columns))
            )
            with conn.cursor() as cur, cur.copy(statement) as copy:
                copy.write(data)
            done += len(batch)
            if done % (BATCH * 25) == 0 or done == n:
                rate = done / (time.monotonic() - began)
                print(
                    f"audit load: {done:>11,}/{n:,} records, {rate:8,.0f}/s", file=out, flush=True
                )
        _write_heads(conn, log, state)
        for statement_ in restore:
            conn.execute(statement_)
        conn.commit()
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE audit_events")
    return time.monotonic() - began
