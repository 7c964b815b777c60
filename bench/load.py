"""Bulk loading of stored signals for the match-lookup measurement.

Putting 100 000 to 5 000 000 signals in through the API would take hours on 2 cores and measure
the POST path again; the match-lookup question is how reads scale with the size of the tables.
So the loader writes rows straight into verwijsindex's tables with ``COPY ... FROM STDIN``,
with pseudonyms made with the service's own key from ``keys_dir``, and the matches the service
would have formed (``bench.load_plan`` decides what to write; this module writes it).

* The measured professionals (``professional_ids``) have a fixed caseload: they take part only
  in households that start below ``bench_until`` (the baseline, 10 000 signals), so they have
  the same matches (about 130 for the first) at 10 000 and at 5 000 000 signals, and a lookup
  measures the size of the tables, not the size of the caseload.
* Everyone else is a filler professional in one filler organisation, with names, e-mail
  addresses and phone numbers encrypted with the service's field key: one per 200 signals of
  the database's final size, at least 1000 (``bench.load_plan.filler_count``), so the growth is
  carried by more professionals rather than busier ones. Each call creates the fillers it needs
  that are not there yet, with fixed ids, so later calls find the earlier ones.
* The signals, parents, matches and links go in one transaction: a failed load leaves none of
  them behind. Rows go in batches of whole households (so families, and their matches, are
  complete), made by two forked processes while this one streams them to PostgreSQL, with
  progress on stderr.
* A large load (at least ``REBUILD_MIN`` signals, more than the tables already hold) first drops
  the four tables' foreign keys and the indexes that back no constraint, and restores them from
  the catalogue's own definitions at the end of the same transaction: one sort per index instead
  of millions of random B-tree insertions, one join per foreign key instead of a lookup per row.
  Every row is still checked: the primary keys stay, the unique indexes are checked when built
  and the foreign keys when added. The schema afterwards is the migration's, unchanged.

Measured on this 2-core machine (quiet): 100 000 signals on top of 10 000 in about 3 s, 990 000
on top of 10 000 in 34 s (29 000 signals/s, of which 10 s restoring indexes and keys).
"""

from __future__ import annotations

import multiprocessing
import queue
import sys
import time
import traceback
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
    BENCH_SIGNALS,
    DEFAULT_SEED,
    MATCH_COLUMNS,
    MATCH_SIGNAL_COLUMNS,
    MAX_SIGNALS,
    SIGNAL_COLUMNS,
    SIGNAL_PARENT_COLUMNS,
    FastPseudonymiser,
    RowMaker,
    filler_count,
    plan_batches,
    plan_units,
)
from verwijsindex.crypto import FieldCipher, load_keys

BATCH_SIGNALS = 20_000
MAKERS = 2  # row-making processes
REBUILD_MIN = 50_000  # below this, keeping the indexes is about as fast as rebuilding them
PROGRESS_STEP = 5  # percent
TABLES = ("signals", "signal_parents", "matches", "match_signals")
_NAMESPACE = uuid.UUID("6f1d7c52-8b0e-4c1e-9a53-2b7d3f0e5a10")
FILLER_ORGANISATION_ID = uuid.uuid5(_NAMESPACE, "filler-organisation")


def filler_professional_ids(count: int) -> list[uuid.UUID]:
    """The first ``count`` filler ids: fixed, so a later call uses (and extends) the
    professionals an earlier one created."""
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
    waiting_for_rows: float  # seconds the COPY side waited for Python: high means Python-bound

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
    bench_until: int = BENCH_SIGNALS,
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
    * The professionals in ``professional_ids`` take part only in households that start below
      global index ``bench_until`` (pass the baseline size to every call), where the first
      takes part in about 5 % of the matches: about 130 at 10 000 signals. Signals from
      ``bench_until`` on go to filler professionals only, so their numbers of signals and
      matches stay what they were at the baseline whatever the final size.
    * The filler professionals number ``filler_count(first + n)`` (one per 200 signals, at
      least 1000); the ones missing are created, with fixed ids and encrypted contact data.
    * Pseudonyms are the service's own keyed HMAC with the key in ``keys_dir``; no BSN and no
      unkeyed hash is ever written (contract, privacy invariant 1).
    * Everything is committed before returning, and the four tables are analysed.

    ``rebuild_indexes`` None decides by size (module doc); ``progress`` defaults to stderr.
    """
    out = sys.stderr if progress is None else progress
    if n < 0:
        raise ValueError("n must not be negative")
    keys = load_keys(keys_dir)
    began = time.monotonic()
    with psycopg.connect(libpq_url(database_url)) as conn:
        existing = _scalar(conn, "SELECT count(*) FROM signals")
        first = max(start, existing)
        if first + n > MAX_SIGNALS:
            raise ValueError(f"the BSN layout holds {MAX_SIGNALS:,} signals, not {first + n:,}")
        fillers = _ensure_fillers(conn, keys.cipher, filler_count(first + n))
        conn.commit()
    if rebuild_indexes is None:
        rebuild_indexes = n >= REBUILD_MIN and n > existing
    print(
        f"load: adding {n:,} signals from index {first:,} to {existing:,} stored "
        f"({len(professional_ids)} bench professionals below index {bench_until:,}, "
        f"{len(fillers):,} filler professionals"
        f"{', rebuilding indexes' if rebuild_indexes else ''})",
        file=out,
        flush=True,
    )
    job = _Job(
        key_id=keys.pseudonym_key_id,
        key=keys.pseudonym_key,
        professionals=[uuid.UUID(p) for p in professional_ids] + fillers,
        n_bench=len(professional_ids),
        first=first,
        n=n,
        now=datetime.now(UTC),
        seed=seed,
        bench_until=bench_until,
        batch_signals=batch_signals,
    )
    totals = _Chunk(b"", b"", b"", b"", 0, 0, 0, 0)
    # The rows are made in child processes, forked before any connection is open, while this
    # one streams finished batches into PostgreSQL. Making rows costs about twice what
    # PostgreSQL spends on them, hence two makers on this 2-core machine.
    context = multiprocessing.get_context("fork")
    chunks: multiprocessing.Queue[_Chunk | str | None] = context.Queue(maxsize=2 * MAKERS)
    makers = [
        context.Process(
            target=_make_rows,
            args=(job, w, MAKERS, chunks),
            name=f"bench-load-rows-{w}",
            daemon=True,
        )
        for w in range(MAKERS)
    ]
    sys.stdout.flush()  # or a child would write the parent's buffered output again at its exit
    sys.stderr.flush()
    for maker in makers:
        maker.start()
    try:
        with psycopg.connect(libpq_url(database_url)) as conn:
            restore = drop_for_bulk_load(conn) if rebuild_indexes else []
            next_report = PROGRESS_STEP
            waited = [0.0]
            for chunk in _received(chunks, makers, waited):
                _copy(conn, "signals", SIGNAL_COLUMNS, chunk.signals)
                _copy(conn, "signal_parents", SIGNAL_PARENT_COLUMNS, chunk.signal_parents)
                _copy(conn, "matches", MATCH_COLUMNS, chunk.matches)
                _copy(conn, "match_signals", MATCH_SIGNAL_COLUMNS, chunk.match_signals)
                totals = totals.plus(chunk)
                pct = 100 * totals.n_signals // n
                if pct >= next_report:
                    _report(out, totals.n_signals, n, began)
                    next_report = (pct // PROGRESS_STEP + 1) * PROGRESS_STEP
            if totals.n_signals != n:
                raise RuntimeError(f"made {totals.n_signals} signals instead of {n}")
            if restore:
                print(
                    f"load: restoring {len(restore)} indexes and foreign keys", file=out, flush=True
                )
                t0 = time.monotonic()
                conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
                for statement in restore:
                    conn.execute(statement)
                print(f"load: restored in {time.monotonic() - t0:.1f} s", file=out, flush=True)
            conn.commit()
    finally:
        for maker in makers:
            if maker.is_alive():
                maker.terminate()
            maker.join()
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        for table in TABLES:
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
    summary = LoadSummary(
        first_index=first,
        signals=totals.n_signals,
        signal_parents=totals.n_parents,
        client_matches=totals.client_matches,
        family_matches=totals.family_matches,
        seconds=time.monotonic() - began,
        rebuilt_indexes=bool(restore),
        waiting_for_rows=waited[0],
    )
    print(
        f"load: {summary.signals:,} signals, {summary.signal_parents:,} parent links, "
        f"{summary.client_matches:,} client and {summary.family_matches:,} family matches "
        f"in {summary.seconds:.1f} s ({summary.signals_per_second:,.0f} signals/s; "
        f"{summary.waiting_for_rows:.1f} s of it waiting for rows)",
        file=out,
        flush=True,
    )
    return summary


def caseload(database_url: str, professional_id: str) -> tuple[int, int]:
    """(signals, matches) of one professional as stored: its caseload, which the match lookups
    of the benchmark should find the same at every size."""
    with psycopg.connect(libpq_url(database_url)) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM signals WHERE professional_id = %(p)s),"
            " (SELECT count(DISTINCT ms.match_id) FROM match_signals ms"
            "  JOIN signals s ON s.id = ms.signal_id WHERE s.professional_id = %(p)s)",
            {"p": uuid.UUID(professional_id)},
        ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


@dataclass(frozen=True)
class _Job:
    """What the row-making process needs; it inherits this through fork, never pickled."""

    key_id: str
    key: bytes
    professionals: list[uuid.UUID]  # bench professionals first, then the fillers
    n_bench: int
    first: int
    n: int
    now: datetime
    seed: int
    bench_until: int
    batch_signals: int


@dataclass(frozen=True)
class _Chunk:
    """One batch as COPY text per table, with counts (or, summed, the totals)."""

    signals: bytes
    signal_parents: bytes
    matches: bytes
    match_signals: bytes
    n_signals: int
    n_parents: int
    client_matches: int
    family_matches: int

    def plus(self, other: _Chunk) -> _Chunk:
        return _Chunk(
            b"",
            b"",
            b"",
            b"",
            self.n_signals + other.n_signals,
            self.n_parents + other.n_parents,
            self.client_matches + other.client_matches,
            self.family_matches + other.family_matches,
        )


def _make_rows(
    job: _Job, worker: int, workers: int, chunks: multiprocessing.Queue[_Chunk | str | None]
) -> None:
    """Child process: rows of every ``workers``-th batch from ``worker`` on, then None.

    On failure it sends its traceback instead. Batches are independent (``plan_batches``), so
    their order in the database does not matter.
    """
    try:
        maker = RowMaker(
            FastPseudonymiser(job.key_id, job.key), job.professionals, seed=job.seed + worker
        )
        batches = plan_batches(job.first, job.n, job.batch_signals)
        for batch_start, batch_size in batches[worker::workers]:
            units = plan_units(
                batch_start,
                batch_size,
                n_bench=job.n_bench,
                n_filler=len(job.professionals) - job.n_bench,
                now=job.now,
                seed=job.seed,
                bench_until=job.bench_until,
            )
            rows = maker.rows(list(units))
            chunks.put(
                _Chunk(
                    "".join(rows.signals).encode("ascii"),
                    "".join(rows.signal_parents).encode("ascii"),
                    "".join(rows.matches).encode("ascii"),
                    "".join(rows.match_signals).encode("ascii"),
                    len(rows.signals),
                    len(rows.signal_parents),
                    rows.client_matches,
                    rows.family_matches,
                )
            )
        chunks.put(None)
    except BaseException:
        chunks.put(traceback.format_exc())
        raise


def _received(
    chunks: multiprocessing.Queue[_Chunk | str | None],
    makers: Sequence[multiprocessing.process.BaseProcess],
    waited: list[float],
) -> Iterator[_Chunk]:
    """The makers' chunks until each has sent its end mark; a traceback, or a maker's silent
    death, as an error. Adds the time spent waiting for them to ``waited[0]``."""
    running = len(makers)
    while running:
        t0 = time.monotonic()
        try:
            item = chunks.get(timeout=2)
        except queue.Empty:
            waited[0] += time.monotonic() - t0
            dead = [m for m in makers if not m.is_alive() and m.exitcode != 0]
            if dead:
                raise RuntimeError(
                    f"row-making process died (exit code {dead[0].exitcode})"
                ) from None
            continue
        waited[0] += time.monotonic() - t0
        if item is None:
            running -= 1
        elif isinstance(item, str):
            raise RuntimeError(f"row-making process failed:\n{item}")
        else:
            yield item


def _scalar(conn: psycopg.Connection[tuple[Any, ...]], query: LiteralString) -> int:
    row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0


def _copy(
    conn: psycopg.Connection[tuple[Any, ...]],
    table: str,
    columns: Sequence[str],
    data: bytes,
) -> None:
    if not data:
        return
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with conn.cursor() as cur, cur.copy(statement) as copy:
        copy.write(data)


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


def drop_for_bulk_load(
    conn: psycopg.Connection[tuple[Any, ...]], tables: Sequence[str] = TABLES
) -> list[sql.SQL | sql.Composed]:
    """Drop these tables' foreign keys and the indexes that back no constraint.

    Returns the statements that restore them, made from the catalogue's own definitions
    (``pg_get_indexdef``, ``pg_get_constraintdef``), so what is restored is exactly what the
    migrations created, whatever they hold by then. Indexes come back first; each foreign key
    is then validated over all rows in one join, instead of one lookup per row while loading.
    """
    tables = list(tables)
    foreign_keys = conn.execute(
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)"
        " FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid"
        " WHERE c.contype = 'f' AND t.relname = ANY(%s)"
        " AND t.relnamespace = 'public'::regnamespace ORDER BY 1, 2",
        (tables,),
    ).fetchall()
    indexes = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)"
        " FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid"
        " WHERE t.relname = ANY(%s) AND t.relnamespace = 'public'::regnamespace"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
        " ORDER BY 1",
        (tables,),
    ).fetchall()
    restore: list[sql.SQL | sql.Composed] = []
    for table, name, definition in foreign_keys:
        target, constraint = _name(table), sql.Identifier(str(name))
        conn.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(target, constraint))
        # the catalogue's own text, not outside input
        restore.append(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(target, constraint)
            + sql.SQL(str(definition))
        )
    for name, definition in indexes:
        conn.execute(sql.SQL("DROP INDEX {}").format(_name(name)))
        restore.insert(0, sql.SQL(str(definition)))
    return restore


def _name(qualified: object) -> sql.Identifier:
    """``regclass::text`` (``name`` or ``schema.name``) as an identifier."""
    return sql.Identifier(*str(qualified).split("."))


def _ensure_fillers(
    conn: psycopg.Connection[tuple[Any, ...]], cipher: FieldCipher, count: int
) -> list[uuid.UUID]:
    """The filler organisation and the first ``count`` filler professionals; creates those
    missing (all on the first call, the extra ones when a later call needs more)."""
    ids = filler_professional_ids(count)
    have = {
        row[0]
        for row in conn.execute(
            "SELECT id FROM professionals WHERE organisation_id = %s", (FILLER_ORGANISATION_ID,)
        )
    }
    missing = [(i, pid) for i, pid in enumerate(ids) if pid not in have]
    if not missing:
        return ids
    created = datetime.now(UTC) - timedelta(days=800)
    conn.execute(
        "INSERT INTO organisations (id, name, sector, created_at) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (id) DO NOTHING",
        (FILLER_ORGANISATION_ID, "Bench filler organisation", "jeugdhulp", created),
    )
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY professionals"
            " (id, organisation_id, name_enc, email_enc, phone_enc, roles, created_at)"
            " FROM STDIN"
        ) as copy,
    ):
        for i, pid in missing:
            copy.write_row(
                (
                    pid,
                    FILLER_ORGANISATION_ID,
                    cipher.encrypt(f"Filler professional {i:05d}", f"professionals:{pid}:name"),
                    cipher.encrypt(f"filler-{i:05d}@example.org", f"professionals:{pid}:email"),
                    cipher.encrypt(f"020{1000000 + i:07d}", f"professionals:{pid}:phone"),
                    "professional",
                    created,
                )
            )
    return ids
