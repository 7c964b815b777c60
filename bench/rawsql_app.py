"""Durable-work reference: the essential writes of ``POST /api/v1/signals`` in plain psycopg.

Per request: parse JSON, validate the BSNs (elfproef) and date, HMAC-SHA256 the child's and the
parents' BSNs with a key, one indexed lookup of existing rows on the child's pseudonym, one
INSERT, one COMMIT with ``synchronous_commit`` left on (every 201 is on disk). No ORM, no
framework extensions, no audit or matching. ``ours / raw-SQL`` throughput therefore says what our
layers cost on top of the unavoidable fsync-bound work.

Configuration (environment, so gunicorn can pass it to every worker):

* ``BENCH_DATABASE_URL``: libpq or SQLAlchemy-style URL (``postgresql+psycopg://`` is accepted).
* ``BENCH_HMAC_KEY``: hex key, shared by all workers so equal BSNs give equal pseudonyms.

One connection per worker process (with the default sync workers), opened lazily after the fork:
a connection opened in the gunicorn master and inherited by the workers would be shared by
several processes and corrupt. It is kept per thread, so ``--worker-class gthread`` experiments
get one connection per thread instead of interleaving transactions on a shared one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import threading
import uuid
from collections.abc import Sequence
from typing import Any

import psycopg
from flask import Flask, Response, jsonify, request

from bench.bsn import is_valid

TABLE_DDL = (
    """
    CREATE TABLE IF NOT EXISTS bench_raw_signals (
        id uuid PRIMARY KEY,
        child_pseudonym bytea NOT NULL,
        parent_pseudonyms bytea[] NOT NULL DEFAULT '{}',
        birth_date date NOT NULL,
        child_informed boolean NOT NULL,
        parents_informed boolean NOT NULL,
        status text NOT NULL DEFAULT 'active',
        created_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE INDEX IF NOT EXISTS bench_raw_signals_child_pseudonym_idx
        ON bench_raw_signals (child_pseudonym)
    """,
)
# Any constant works; it only serialises concurrent CREATE ... IF NOT EXISTS of several workers,
# which otherwise can fail with a unique violation in pg_type.
_DDL_LOCK_ID = 0x5E_4C_B1_00

app = Flask(__name__)

_local = threading.local()


def _libpq_url(url: str) -> str:
    """Strip a SQLAlchemy driver suffix so the same URL works for psycopg."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+', 1)[0]}{sep}{rest}"


def _key() -> bytes:
    """The pseudonymisation key; required, because per-worker random keys would never match."""
    raw = os.environ.get("BENCH_HMAC_KEY")
    if not raw:
        raise RuntimeError("set BENCH_HMAC_KEY (hex), e.g. BENCH_HMAC_KEY=$(openssl rand -hex 32)")
    return bytes.fromhex(raw)


_KEY: bytes | None = None


def pseudonym(bsn: str) -> bytes:
    """Keyed HMAC-SHA256 of a BSN, as the contract requires (never an unkeyed hash)."""
    global _KEY
    if _KEY is None:
        _KEY = _key()
    return hmac.new(_KEY, bsn.encode("ascii"), hashlib.sha256).digest()


def worker_connection(
    local: threading.local, lock_id: int, ddl: Sequence[str]
) -> psycopg.Connection[Any]:
    """The worker's connection kept in `local`; (re)opened after a fork or when it broke,
    creating its tables (`ddl`) under an advisory lock so parallel workers don't race."""
    conn: psycopg.Connection[Any] | None = getattr(local, "conn", None)
    if conn is None or conn.closed or getattr(local, "pid", None) != os.getpid():
        url = os.environ.get("BENCH_DATABASE_URL")
        if not url:
            raise RuntimeError("set BENCH_DATABASE_URL")
        conn = psycopg.connect(_libpq_url(url), autocommit=False)
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (lock_id,))
            for statement in ddl:
                cur.execute(statement)
        conn.commit()
        local.conn, local.pid = conn, os.getpid()
    return conn


def connection() -> psycopg.Connection[Any]:
    """This worker's connection; (re)opened after a fork or when it broke."""
    return worker_connection(_local, _DDL_LOCK_ID, TABLE_DDL)


def _invalid(name: str, reason: str) -> tuple[Response, int]:
    """A small 400 that never echoes the offending value (a BSN must not leave the process)."""
    return jsonify({"status": 400, "invalidParams": [{"name": name, "reason": reason}]}), 400


@app.post("/api/v1/signals")
def post_signal() -> tuple[Response, int]:
    """Validate, pseudonymise, look up, insert, commit: the durable core of registering a signal."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _invalid("body", "not a JSON object")
    bsn = body.get("bsn")
    if not isinstance(bsn, str) or not is_valid(bsn):
        return _invalid("bsn", "not a valid BSN")
    try:
        birth_date = dt.date.fromisoformat(str(body.get("birthDate")))
    except ValueError:
        return _invalid("birthDate", "not a date")
    parents = body.get("parentBsns", [])
    if not isinstance(parents, list) or not all(
        isinstance(p, str) and is_valid(p) for p in parents
    ):
        return _invalid("parentBsns", "not a list of valid BSNs")
    info = body.get("informatieplicht")
    if not isinstance(info, dict):
        return _invalid("informatieplicht", "missing")

    child = pseudonym(bsn)
    parent_pseudonyms = [pseudonym(p) for p in parents]
    signal_id = uuid.uuid4()
    conn = connection()
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT id, status FROM bench_raw_signals WHERE child_pseudonym = %s", (child,)
            )
            existing = cur.fetchall()
            cur.execute(
                "INSERT INTO bench_raw_signals (id, child_pseudonym, parent_pseudonyms, birth_date,"
                " child_informed, parents_informed) VALUES (%s, %s, %s, %s, %s, %s)",
                (
                    signal_id,
                    child,
                    parent_pseudonyms,
                    birth_date,
                    bool(info.get("childInformed")),
                    bool(info.get("parentsInformed")),
                ),
            )
        conn.commit()
    except psycopg.Error:
        if not conn.closed:
            conn.rollback()
        raise
    return jsonify({"id": str(signal_id), "status": "active", "existing": len(existing)}), 201


@app.get("/health")
def health() -> Response:
    """Readiness probe: answers only once this worker's connection (and the table) is there."""
    with connection().cursor() as cur:
        cur.execute("SELECT 1")
    connection().rollback()
    return jsonify({"status": "ok", "database": "ok"})
