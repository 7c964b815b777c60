"""Bulk loading of stored signals for the match-lookup measurement.

Putting 100 000 to 5 000 000 signals in through the API would take hours on 2 cores and measure
the POST path again; the match-lookup question is how reads scale with the size of the tables.
So the loader writes rows straight into verwijsindex's tables with ``COPY ... FROM STDIN``,
with pseudonyms made with the service's own key from ``keys_dir``, and the matches the service
would have formed (``bench.load_plan`` decides what to write; this module writes it).

* About 1000 filler professionals in one filler organisation, with names, e-mail addresses and
  phone numbers encrypted with the service's field key, are the other participants; they are
  created by the first call (fixed ids, so later calls find them).
* One transaction for the whole call: a failed load leaves nothing behind. Rows go in batches of
  whole households (so families, and their matches, are complete), with progress on stderr.
* A large load (more signals than the tables already hold, and at least ``REBUILD_MIN``) drops
  the secondary indexes of the four tables first and creates them again from their own stored
  definitions at the end, inside the same transaction: one sort per index instead of millions
  of random B-tree insertions. Primary keys and foreign keys stay, so PostgreSQL still checks
  every row; the unique indexes are checked when they are built.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, LiteralString, TextIO

import psycopg
from psycopg import sql

from bench.db import libpq_url
from bench.load_plan import (
    DEFAULT_SEED,
    MATCH_COLUMNS,
    MATCH_SIGNAL_COLUMNS,
    SIGNAL_COLUMNS,
    SIGNAL_PARENT_COLUMNS,
    FastPseudonymiser,
    RowMaker,
    Unit,
    plan_units,
)
from verwijsindex.crypto import FieldCipher, load_keys

FILLER_PROFESSIONALS = 1000
BATCH_SIGNALS = 50_000
REBUILD_MIN = 200_000  # below this, keeping the indexes is as fast as rebuilding them
PROGRESS_STEP = 5  # percent
TABLES = ("signals", "signal_parents", "matches", "match_signals")
_NAMESPACE = uuid.UUID("6f1d7c52-8b0e-4c1e-9a53-2b7d3f0e5a10")
FILLER_ORGANISATION_ID = uuid.uuid5(_NAMESPACE, "filler-organisation")


def filler_professional_ids(count: int = FILLER_PROFESSIONALS) -> list[uuid.UUID]:
    """Fixed ids, so a later call uses the professionals an earlier one created."""
    return [uuid.uuid5(_NAMESPACE, f"filler-professional:{i}") for i in range(count)]


@dataclass(frozen=True)
class LoadSummary:
    first_index: int  # global index of the first signal this call added
    signals: int
    signal_parents: int
    client_matches: int
    family_matches: int
    seconds: float
    rebuilt_indexes: bool

    @property
    def signals_per_second(self) -> float:
        return self.signals / self.seconds if self.seconds else 0.0


def load_signals(
    database_url: str,
    keys_dir: Path,
    n: int,
    professional_ids: Sequence[str],
    *,
    start: int = 0,
    seed: int = DEFAULT_SEED,
    batch_signals: int = BATCH_SIGNALS,
    rebuild_indexes: bool | None = None,
    progress: TextIO | None = None,
) -> LoadSummary:
    """Add ``n`` active signals (and the matches they form) to the verwijsindex database.

    Contract the orchestrator relies on:

    * ``start`` is how many signals earlier calls already added, so consecutive calls
      (10 000, then N - 10 000) never reuse a child. Children and parents are numbered by
      global signal index (``bench.load_plan``); the first index used is the larger of
      ``start`` and the number of signals already stored, so a repeated call cannot collide.
    * Signals are spread over ``professional_ids`` and the filler professionals; each
      professional in ``professional_ids`` takes part in a steady share of the matches (about
      5 % for the first), so its number of matches grows with ``n``.
    * Pseudonyms are the service's own keyed HMAC with the key in ``keys_dir``; no BSN and no
      unkeyed hash is ever written (contract, privacy invariant 1).
    * Everything is committed before returning, and the four tables are analysed.

    ``rebuild_indexes`` None decides by size (module doc); ``progress`` defaults to stderr.
    """
    out = sys.stderr if progress is None else progress
    keys = load_keys(keys_dir)
    pseudonymise = FastPseudonymiser(keys.pseudonym_key_id, keys.pseudonym_key)
    began = time.monotonic()
    with psycopg.connect(libpq_url(database_url)) as conn:
        existing = _scalar(conn, "SELECT count(*) FROM signals")
        first = max(start, existing)
        if rebuild_indexes is None:
            rebuild_indexes = n >= REBUILD_MIN and n > existing
        fillers = _ensure_fillers(conn, keys.cipher)
        professionals = [uuid.UUID(p) for p in professional_ids] + fillers
        print(
            f"load: adding {n:,} signals from index {first:,} to {existing:,} stored "
            f"({len(professional_ids)} bench + {len(fillers)} filler professionals"
            f"{', rebuilding indexes' if rebuild_indexes else ''})",
            file=out,
            flush=True,
        )
        indexes = _drop_secondary_indexes(conn) if rebuild_indexes else []
        maker = RowMaker(pseudonymise, professionals, seed=seed)
        units = plan_units(
            first,
            n,
            n_bench=len(professional_ids),
            n_filler=len(fillers),
            now=datetime.now(UTC),
            seed=seed,
        )
        done = parent_links = client_matches = family_matches = 0
        next_report = PROGRESS_STEP
        for batch in _batches(units, batch_signals):
            rows = maker.rows(batch)
            _copy(conn, "signals", SIGNAL_COLUMNS, rows.signals)
            _copy(conn, "signal_parents", SIGNAL_PARENT_COLUMNS, rows.signal_parents)
            _copy(conn, "matches", MATCH_COLUMNS, rows.matches)
            _copy(conn, "match_signals", MATCH_SIGNAL_COLUMNS, rows.match_signals)
            done += len(rows.signals)
            parent_links += len(rows.signal_parents)
            client_matches += rows.client_matches
            family_matches += rows.family_matches
            pct = 100 * done // n if n else 100
            if pct >= next_report:
                _report(out, done, n, began)
                next_report = (pct // PROGRESS_STEP + 1) * PROGRESS_STEP
        if indexes:
            print(f"load: creating {len(indexes)} indexes again", file=out, flush=True)
            t0 = time.monotonic()
            conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
            for definition in indexes:
                # from pg_get_indexdef: the catalogue's own text, not outside input
                conn.execute(sql.SQL(definition))
            print(f"load: indexes built in {time.monotonic() - t0:.1f} s", file=out, flush=True)
        conn.commit()
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        for table in TABLES:
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
    summary = LoadSummary(
        first_index=first,
        signals=done,
        signal_parents=parent_links,
        client_matches=client_matches,
        family_matches=family_matches,
        seconds=time.monotonic() - began,
        rebuilt_indexes=bool(indexes),
    )
    print(
        f"load: {summary.signals:,} signals, {summary.signal_parents:,} parent links, "
        f"{summary.client_matches:,} client and {summary.family_matches:,} family matches "
        f"in {summary.seconds:.1f} s ({summary.signals_per_second:,.0f} signals/s)",
        file=out,
        flush=True,
    )
    return summary


def _scalar(conn: psycopg.Connection[tuple[Any, ...]], query: LiteralString) -> int:
    row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0


def _batches(units: Iterator[Unit], size: int) -> Iterator[list[Unit]]:
    """Whole units, about ``size`` signals per batch."""
    batch: list[Unit] = []
    count = 0
    for unit in units:
        batch.append(unit)
        count += len(unit.signals)
        if count >= size:
            yield batch
            batch, count = [], 0
    if batch:
        yield batch


def _copy(
    conn: psycopg.Connection[tuple[Any, ...]],
    table: str,
    columns: Sequence[str],
    lines: list[str],
) -> None:
    if not lines:
        return
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with conn.cursor() as cur, cur.copy(statement) as copy:
        copy.write("".join(lines))


def _report(out: TextIO, done: int, n: int, began: float) -> None:
    elapsed = time.monotonic() - began
    rate = done / elapsed if elapsed else 0.0
    eta = (n - done) / rate if rate else 0.0
    print(
        f"load: {done:>10,}/{n:,} signals ({100 * done // n:3d} %), "
        f"{rate:8,.0f}/s, {elapsed:6.1f} s elapsed, ~{eta:.0f} s to go",
        file=out,
        flush=True,
    )


def _drop_secondary_indexes(conn: psycopg.Connection[tuple[Any, ...]]) -> list[str]:
    """Drop the indexes of the loaded tables that back no constraint; return their DDL.

    The definitions come from the catalogue (``pg_get_indexdef``), so the indexes built again
    are exactly the migration's, whatever it holds by then.
    """
    rows = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)"
        " FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid"
        " WHERE t.relname = ANY(%s) AND t.relnamespace = 'public'::regnamespace"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
        " ORDER BY 1",
        (list(TABLES),),
    ).fetchall()
    for name, _ in rows:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(*str(name).split("."))))
    return [str(definition) for _, definition in rows]


def _ensure_fillers(
    conn: psycopg.Connection[tuple[Any, ...]], cipher: FieldCipher
) -> list[uuid.UUID]:
    """The filler organisation and professionals, created on first use."""
    ids = filler_professional_ids()
    have = _scalar_param(
        conn,
        "SELECT count(*) FROM professionals WHERE organisation_id = %s",
        FILLER_ORGANISATION_ID,
    )
    if have == len(ids):
        return ids
    created = datetime.now(UTC) - timedelta(days=800)
    conn.execute(
        "INSERT INTO organisations (id, name, sector, created_at) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (id) DO NOTHING",
        (FILLER_ORGANISATION_ID, "Bench filler organisation", "jeugdhulp", created),
    )
    rows = []
    for i, pid in enumerate(ids):
        rows.append(
            (
                pid,
                FILLER_ORGANISATION_ID,
                cipher.encrypt(f"Filler professional {i:04d}", f"professionals:{pid}:name"),
                cipher.encrypt(f"filler-{i:04d}@example.org", f"professionals:{pid}:email"),
                cipher.encrypt(f"020{1000000 + i:07d}", f"professionals:{pid}:phone"),
                "professional",
                created,
            )
        )
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO professionals"
            " (id, organisation_id, name_enc, email_enc, phone_enc, roles, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
            rows,
        )
    return ids


def _scalar_param(
    conn: psycopg.Connection[tuple[Any, ...]], query: LiteralString, param: object
) -> int:
    row = conn.execute(query, (param,)).fetchone()
    return int(row[0]) if row else 0
