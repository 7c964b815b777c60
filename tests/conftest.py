"""Shared fixtures: every test that touches the database runs on SQLite *and* PostgreSQL.

The `backend` fixture is parametrised over both; PostgreSQL comes from
`VERWIJSINDEX_TEST_POSTGRES_URL` (set by `make test`) or the local default, and a test run
that cannot reach it fails instead of quietly testing SQLite alone. Each database is
migrated once per session with Alembic (so the migrations are what is tested) and emptied
before every test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, text

from verwijsindex import create_app
from verwijsindex.config import Settings
from verwijsindex.crypto import ensure_keys
from verwijsindex.migrate import upgrade
from verwijsindex.models import Base
from verwijsindex.services import Actor, Core
from verwijsindex.services import admin as admin_service
from verwijsindex.services.auth import personal_token

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/verwijsindex_test"
START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)

# BSNs that pass the elfproef, used throughout the tests (and searched for by the privacy
# tests). Generated, not real people's numbers.
CHILD_BSN = "111222333"
SIBLING_BSN = "123456782"
OTHER_CHILD_BSN = "100000009"
PARENT_BSN = "111111110"
OTHER_PARENT_BSN = "222222220"
THIRD_PARENT_BSN = "333333330"


@dataclass
class FakeClock:
    """A clock the tests move forward instead of waiting."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def _postgres_url() -> str:
    return os.environ.get("VERWIJSINDEX_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL


@contextmanager
def _private_postgres_database() -> Iterator[str]:
    """A fresh database for this test session, dropped afterwards.

    Named after the configured one plus a random suffix, so that test runs in parallel (CI,
    several developers on one machine) never see each other's rows.
    """
    base = make_url(_postgres_url())
    name = f"{base.database}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        pytest.fail(f"PostgreSQL is required for the test suite: {base}: {error}")
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database URL per backend, migrated with Alembic once per test session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'verwijsindex.db'}"
        upgrade(url)
        yield url
        return
    with _private_postgres_database() as url:
        upgrade(url)
        yield url


def _empty_all_tables(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {names} CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())
    engine.dispose()


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys")
    ensure_keys(path)
    return path


@pytest.fixture(autouse=True)
def audit_anchor_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test its own anchor file: the keys directory (the default place) is shared by
    the whole session and both databases, whose audit logs are emptied between tests."""
    path = tmp_path / "anchors"
    monkeypatch.setenv("VERWIJSINDEX_AUDIT_ANCHOR_DIR", str(path))
    return path


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(backend: str, keys_dir: Path) -> Settings:
    return Settings(database_url=backend, keys_dir=keys_dir)


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> Iterator[Flask]:
    _empty_all_tables(settings.database_url)
    application = create_app(settings, clock=clock)
    yield application
    core_of(application).database.dispose()


def core_of(app: Flask) -> Core:
    found: Core = app.extensions["verwijsindex"]
    return found


@pytest.fixture
def core(app: Flask) -> Core:
    return core_of(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def signal_body(
    bsn: str = CHILD_BSN,
    *,
    birth_date: str = "2015-03-14",
    parents: list[str] | None = None,
    child_informed: bool = True,
    parents_informed: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "bsn": bsn,
        "birthDate": birth_date,
        "parentBsns": parents or [],
        "informatieplicht": {"childInformed": child_informed, "parentsInformed": parents_informed},
    }
    body.update(extra)
    return body


@dataclass
class ApiClient:
    """A test client that carries one professional's personal token."""

    http: FlaskClient
    professional_id: uuid.UUID
    organisation_id: uuid.UUID
    token: str
    responses: list[Any] = field(default_factory=list)

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = self.headers(kwargs.pop("headers", None))
        response = self.http.open(path, method=method, headers=headers, **kwargs)
        self.responses.append(response)
        return response

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)

    def signal(self, bsn: str = CHILD_BSN, **kwargs: Any) -> dict[str, Any]:
        """Register a signal and insist that it worked."""
        response = self.post("/api/v1/signals", json=signal_body(bsn, **kwargs))
        assert response.status_code == 201, response.get_json()
        result: dict[str, Any] = response.get_json()
        return result


@dataclass
class World:
    """Organisations and professionals made on demand by the `world` fixture."""

    core: Core
    http: FlaskClient
    _organisations: dict[str, uuid.UUID] = field(default_factory=dict)

    def organisation(self, name: str, sector: str = "onderwijs") -> uuid.UUID:
        if name not in self._organisations:
            self._organisations[name] = admin_service.create_organisation(
                self.core, name, sector
            ).id
        return self._organisations[name]

    def professional(
        self,
        name: str,
        organisation: str = "School A",
        sector: str = "onderwijs",
        roles: tuple[str, ...] = ("professional",),
    ) -> ApiClient:
        organisation_id = self.organisation(organisation, sector)
        slug = name.lower().replace(" ", ".")
        created = admin_service.create_professional(
            self.core,
            organisation_id,
            name=name,
            email=f"{slug}@example.org",
            phone="+31 6 1234 5678",
            roles=roles,
            password=None,
        )
        token = personal_token(self.core, created.professional.id)
        return ApiClient(self.http, created.professional.id, organisation_id, token)

    def actor(self, api: ApiClient) -> Actor:
        with self.core.transaction(write=False) as tx:
            professional = tx.people.professional(api.professional_id)
        assert professional is not None
        return Actor(professional)


@pytest.fixture
def env(app: Flask, backend: str, keys_dir: Path) -> dict[str, str]:
    """The CLI's environment, pointing at the (emptied) test database and keys."""
    return {
        "VERWIJSINDEX_DATABASE_URL": backend,
        "VERWIJSINDEX_KEYS_DIR": str(keys_dir),
        "VERWIJSINDEX_BASE_URL": "",
        "VERWIJSINDEX_SMTP_URL": "",
    }


@pytest.fixture
def world(core: Core, client: FlaskClient) -> World:
    return World(core, client)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`@pytest.mark.postgres_only` tests run on PostgreSQL alone: their SQLite variant is
    deselected rather than skipped, since it has nothing to test (SQLite serialises writers)."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_sqlite = callspec is not None and callspec.params.get("backend") == "sqlite"
        (dropped if on_sqlite and item.get_closest_marker("postgres_only") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
