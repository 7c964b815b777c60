"""`serve --demo` only where a demo belongs (issue 10 item 2).

The demo creates a beheerder and a privacy officer with a published password. Run as real
`verwijsindex serve --demo` processes against both databases: refused (one line, exit 2,
nothing loaded) on a database holding anything but the demo, and on a production database
server; accepted on an empty database and again on the demo's own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.served import stop
from tests.servers import free_port
from verwijsindex.demo import SCHOOL, DemoRefused, load_demo
from verwijsindex.models import OrganisationRow, ProfessionalRow
from verwijsindex.services import Core
from verwijsindex.services import admin as admin_service


@dataclass(frozen=True)
class Outcome:
    exit_code: int | None  # None: it was serving HTTP (and has been stopped)
    stdout: str
    stderr: str


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def serve_demo(tmp_path: Path, database_url: str, keys_dir: Path, **env: str) -> Outcome:
    """Run `verwijsindex serve --demo` until it exits or answers /health; then stop it."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("VERWIJSINDEX_")}
    environ.update(
        VERWIJSINDEX_DATABASE_URL=database_url,
        VERWIJSINDEX_KEYS_DIR=str(keys_dir),
        PYTHONUNBUFFERED="1",
        **env,
    )
    command = [
        str(Path(sys.executable).parent / "verwijsindex"),
        *("serve", "--demo", "--host", "127.0.0.1", "--port", str(port)),
        *("--workers", "1", "--no-worker"),
    ]
    out, err = tmp_path / f"stdout-{port}.txt", tmp_path / f"stderr-{port}.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(command, cwd=tmp_path, env=environ, stdout=stdout, stderr=stderr)
    exit_code: int | None = None
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            exit_code = process.poll()
            if exit_code is not None or _healthy(f"http://127.0.0.1:{port}/api/v1/health"):
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"serve --demo neither exited nor served: {err.read_text()}")
    finally:
        if process.poll() is None:
            stop(process)
    return Outcome(exit_code, out.read_text(), err.read_text())


def assert_refused(outcome: Outcome) -> None:
    assert outcome.exit_code == 2, outcome
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1, outcome.stderr
    assert lines[0].startswith("error: --demo refused:"), lines[0]
    assert "Demo loaded" not in outcome.stdout


def counts(core: Core) -> tuple[int, int]:
    """(organisations, professionals) in the database."""
    with core.database.engine.connect() as connection:
        organisations = connection.scalar(select(func.count()).select_from(OrganisationRow))
        people = connection.scalar(select(func.count()).select_from(ProfessionalRow))
    return int(organisations or 0), int(people or 0)


def test_serve_demo_refuses_a_database_that_holds_a_real_organisation(
    core: Core, backend: str, keys_dir: Path, tmp_path: Path
) -> None:
    organisation = admin_service.create_organisation(core, "Gemeente Echtdorp", "jeugdhulp")
    admin_service.create_professional(
        core,
        organisation.id,
        name="Echte Beheerder",
        email="beheer@echtdorp.example",
        phone="+31 20 555 9999",
        roles=["beheerder"],
        password=None,
    )
    outcome = serve_demo(tmp_path, backend, keys_dir, VERWIJSINDEX_ENVIRONMENT="development")
    assert_refused(outcome)
    assert counts(core) == (1, 1)


def test_a_real_person_added_to_a_demo_organisation_makes_the_database_no_demo(
    core: Core,
) -> None:
    """Names of organisations alone are not trusted: the people must be the demo's too."""
    development = Core(
        replace(core.settings, environment="development"), core.database, core.keys, core.clock
    )
    load_demo(development, "http://127.0.0.1:8080")
    with core.transaction(write=False) as tx:
        school = tx.people.organisation_named(SCHOOL)
    assert school is not None
    admin_service.create_professional(
        core,
        school.id,
        name="Echte Leerkracht",
        email="leerkracht@school.example",
        phone="+31 20 555 8888",
        roles=["professional"],
        password=None,
    )
    with pytest.raises(DemoRefused):
        load_demo(development, "http://127.0.0.1:8080")
    assert counts(core) == (3, 4)


def test_serve_demo_loads_into_an_empty_database_and_again_into_its_own(
    core: Core, backend: str, keys_dir: Path, tmp_path: Path
) -> None:
    first = serve_demo(tmp_path, backend, keys_dir, VERWIJSINDEX_ENVIRONMENT="development")
    assert first.exit_code is None, first
    assert "Demo loaded" in first.stdout
    loaded = counts(core)
    assert loaded == (3, 3)
    again = serve_demo(tmp_path, backend, keys_dir, VERWIJSINDEX_ENVIRONMENT="development")
    assert again.exit_code is None, again
    assert "Demo loaded" in again.stdout
    assert counts(core) == loaded


def test_in_production_the_demo_is_refused_on_a_database_server_but_not_on_sqlite(
    core: Core, backend: str, tmp_path: Path
) -> None:
    """Production is the default environment, so `make demo` (SQLite) must keep working,
    while a production PostgreSQL is refused before any key or table is made."""
    keys = tmp_path / "fresh-keys"
    outcome = serve_demo(tmp_path, backend, keys)  # VERWIJSINDEX_ENVIRONMENT unset
    if backend.startswith("sqlite"):
        assert outcome.exit_code is None, outcome
        assert "Demo loaded" in outcome.stdout
    else:
        assert_refused(outcome)
        assert "production" in outcome.stderr
        assert not keys.exists()
        assert counts(core) == (0, 0)
