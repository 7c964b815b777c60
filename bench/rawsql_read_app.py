"""Read reference: the essential work of ``GET /api/v1/matches/{id}`` in plain psycopg.

Per request: check the bearer token (RS256 signature and expiry, with the service's own public
key, to know who asks), **one query** for the match and its participants (joined with their
signals, professionals, organisations and follow-ups), 404 unless the caller takes part,
decrypt each participant's name, e-mail and phone (AES-GCM, the service's field key), **one
audit INSERT** (with a keyed MAC over the record) and **one COMMIT** with
``synchronous_commit`` on. No ORM, no framework extensions, no audit chain, no head row.
``ours / raw-SQL`` for this endpoint therefore says what our layers cost on top of the
unavoidable work of an audited read.

It reads the service's own tables, so it must run against a database the service migrated
and ``bench.load`` filled, with the service's keys:

* ``BENCH_DATABASE_URL``: libpq or SQLAlchemy-style URL;
* ``BENCH_KEYS_DIR``: the service's ``keys/`` (field key and token signing key).

Like ``bench.rawsql_app``: one connection per worker process (per thread under gthread),
opened after the fork.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import psycopg
from flask import Flask, Response, jsonify, request

from bench.rawsql_app import worker_connection
from verwijsindex.crypto import KeyRing, load_keys

AUDIT_DDL = """
    CREATE TABLE IF NOT EXISTS bench_raw_read_audit (
        id uuid PRIMARY KEY,
        occurred_at timestamptz NOT NULL,
        action text NOT NULL,
        outcome text NOT NULL,
        actor_id uuid NOT NULL,
        object_id uuid NOT NULL,
        mac text NOT NULL
    )
"""
_DDL_LOCK_ID = 0x5E_4C_B1_01

# One statement: the match, each of its signals' professionals and organisations, and their
# follow-up marks. Participation is decided on these rows, so a non-participant costs the same.
MATCH_QUERY = """
    SELECT m.type, m.created_at, m.regisseur_id,
           s.id, s.professional_id, s.created_at,
           p.name_enc, p.email_enc, p.phone_enc, o.name, o.sector, f.followed_up_at
      FROM matches m
      JOIN match_signals ms ON ms.match_id = m.id
      JOIN signals s ON s.id = ms.signal_id
      JOIN professionals p ON p.id = s.professional_id
      JOIN organisations o ON o.id = p.organisation_id
      LEFT JOIN match_follow_ups f
        ON f.match_id = m.id AND f.professional_id = s.professional_id
     WHERE m.id = %s
"""
AUDIT_INSERT = (
    "INSERT INTO bench_raw_read_audit (id, occurred_at, action, outcome, actor_id, object_id, mac)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s)"
)

app = Flask(__name__)

_local = threading.local()
_keys: KeyRing | None = None


def keys() -> KeyRing:
    """The service's keys, read once per process."""
    global _keys
    if _keys is None:
        directory = os.environ.get("BENCH_KEYS_DIR")
        if not directory:
            raise RuntimeError("set BENCH_KEYS_DIR to the service's keys directory")
        _keys = load_keys(Path(directory))
    return _keys


def connection() -> psycopg.Connection[Any]:
    """This worker's connection; (re)opened after a fork or when it broke."""
    return worker_connection(_local, _DDL_LOCK_ID, [AUDIT_DDL])


def _caller() -> uuid.UUID | None:
    """The professional a valid personal token names; None for anything else."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    try:
        claims = jwt.decode(
            header[len("Bearer ") :],
            keys().signing.public_pem,
            algorithms=["RS256"],
            options={"require": ["sub", "exp"], "verify_aud": False},
        )
        return uuid.UUID(str(claims["sub"]))
    except (jwt.InvalidTokenError, ValueError):
        return None


def _audit_mac(values: tuple[object, ...]) -> str:
    """A keyed MAC over the record, so the reference pays for a tamper-evident record too."""
    message = "|".join(str(v) for v in values).encode()
    return hmac.new(keys().audit_key, message, hashlib.sha256).hexdigest()


def _participants(rows: list[tuple[Any, ...]], regisseur: uuid.UUID | None) -> list[dict[str, Any]]:
    """One entry per professional, since their first signal in the match, earliest first."""
    cipher = keys().cipher
    first: dict[uuid.UUID, tuple[Any, ...]] = {}
    for row in rows:
        pid, since = row[4], row[5]
        if pid not in first or since < first[pid][5]:
            first[pid] = row
    out = []
    for row in sorted(first.values(), key=lambda r: r[5]):
        pid = row[4]
        out.append(
            {
                "professionalId": str(pid),
                "name": cipher.decrypt(row[6], f"professionals:{pid}:name"),
                "email": cipher.decrypt(row[7], f"professionals:{pid}:email"),
                "phone": cipher.decrypt(row[8], f"professionals:{pid}:phone"),
                "organisation": row[9],
                "sector": row[10],
                "since": row[5].date().isoformat(),
                "isRegisseur": pid == regisseur,
                "followedUpAt": row[11].isoformat() if row[11] else None,
            }
        )
    return out


@app.get("/api/v1/matches/<uuid:match_id>")
def get_match(match_id: uuid.UUID) -> tuple[Response, int]:
    """Authenticate, one query, 404 unless a participant, decrypt, audit, commit."""
    caller = _caller()
    if caller is None:
        return jsonify({"status": 401, "title": "Unauthorized"}), 401
    conn = connection()
    now = datetime.now(UTC)
    try:
        with conn.cursor() as cur:
            cur.execute(MATCH_QUERY, (match_id,))
            rows = cur.fetchall()
            allowed = any(r[4] == caller for r in rows)
            outcome = "success" if allowed else "denied"
            record = (uuid.uuid4(), now, "api:match:read", outcome, caller, match_id)
            cur.execute(AUDIT_INSERT, (*record, _audit_mac(record)))
        conn.commit()
    except psycopg.Error:
        if not conn.closed:
            conn.rollback()
        raise
    if not allowed:
        return jsonify({"status": 404, "title": "Not Found"}), 404
    kind, created_at, regisseur = rows[0][0], rows[0][1], rows[0][2]
    participants = _participants(rows, regisseur)
    body = {
        "id": str(match_id),
        "type": kind,
        "createdAt": created_at.isoformat(),
        "mySignalIds": [str(r[3]) for r in rows if r[4] == caller],
        "participants": participants,
        "regisseur": next((p for p in participants if p["isRegisseur"]), None),
    }
    return jsonify(body), 200


@app.get("/health")
def health() -> Response:
    """Readiness probe: answers once this worker's connection (and its table) is there."""
    with connection().cursor() as cur:
        cur.execute("SELECT 1")
    connection().rollback()
    keys()
    return jsonify({"status": "ok", "database": "ok"})
