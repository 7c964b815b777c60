"""The Alembic migrations build exactly the schema the models describe, on both databases.

A model change without its migration (or the reverse) fails here, not in production.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from tests.conftest import _private_postgres_database
from verwijsindex.audit import AuditEntry
from verwijsindex.config import Settings
from verwijsindex.crypto import load_keys
from verwijsindex.db import Database
from verwijsindex.migrate import alembic_config
from verwijsindex.models import AuditEventRow, Base
from verwijsindex.services import Core
from verwijsindex.services.audit_log import verify_audit_log


def test_migrations_and_models_agree(backend: str) -> None:
    engine = create_engine(backend)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


# --- revision 0007: the audit log's records from before there were several chains ---------------


def _mac_before_0007(key: bytes, values: dict[str, Any]) -> str:
    """The record MAC as revisions 0002 to 0006 wrote it (one chain; no credential)."""
    covered = {
        name: (values[name].isoformat() if isinstance(values[name], datetime) else values[name])
        for name in (
            "seq", "occurred_at", "action", "outcome", "actor_id", "on_behalf_of", "roles",
            "object_type", "object_id", "related_ids", "subject_commitment", "request_id",
            "client_address", "prev_mac",
        )
    }  # fmt: skip
    message = json.dumps(covered, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    with _private_postgres_database() as url:
        yield url


def test_records_from_before_0007_become_chain_0_and_still_verify(
    fresh_database: str, keys_dir: Path
) -> None:
    config = alembic_config(fresh_database)
    command.upgrade(config, "0006")
    keys = load_keys(keys_dir)
    engine = create_engine(fresh_database)
    prev, at = "0" * 64, datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    with engine.begin() as connection:
        for seq in (1, 2, 3):
            values: dict[str, Any] = {
                "seq": seq, "occurred_at": at, "action": "api:signal:read", "outcome": "success",
                "actor_id": None, "on_behalf_of": None, "roles": None, "object_type": None,
                "object_id": None, "related_ids": "", "subject_commitment": None,
                "request_id": None, "client_address": None, "prev_mac": prev,
            }  # fmt: skip
            values["mac"] = prev = _mac_before_0007(keys.audit_key, values)
            stored = {**values, "occurred_at": at.replace(tzinfo=None)}
            connection.execute(
                text(
                    "INSERT INTO audit_events (seq, occurred_at, action, outcome, related_ids,"
                    " prev_mac, mac) VALUES (:seq, :occurred_at, :action, :outcome,"
                    " :related_ids, :prev_mac, :mac)"
                ),
                stored,
            )
        head_mac = hmac.new(keys.audit_key, f"head:3:{prev}".encode(), hashlib.sha256)
        connection.execute(
            text("INSERT INTO audit_head (id, seq, mac, head_mac) VALUES (1, 3, :mac, :head)"),
            {"mac": prev, "head": head_mac.hexdigest()},
        )
    engine.dispose()

    command.upgrade(config, "head")
    core = Core(
        Settings(database_url=fresh_database, keys_dir=keys_dir), Database(fresh_database), keys
    )
    try:
        before = verify_audit_log(core)
        assert before.ok and before.checked == 3, before.reason
        assert [(h.chain, h.seq) for h in before.heads] == [(0, 3)]
        with Session(core.database.engine) as session:
            core.audit_log.append(session, [AuditEntry("test:after")] * 2, None, core.now())
            session.commit()
        after = verify_audit_log(core)
        assert (after.ok, after.checked) == (True, 5)
        with core.database.engine.connect() as connection:
            positions = list(connection.scalars(select(AuditEventRow.seq)))
        assert sorted(positions)[:3] == [1, 2, 3] and min(sorted(positions)[3:]) > 3
    finally:
        core.database.dispose()
