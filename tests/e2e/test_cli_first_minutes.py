"""The command line in a newcomer's first minutes (issue 14, items 13 and 14): listing
organisations and professionals, refusing a duplicate organisation name, `--version`, a busy
port said in one line, and no `instance/` left behind in a folder where a command failed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from tests.e2e.test_cli import assert_clean_failure, json_of, organisation, run
from verwijsindex.models import AuditEventRow
from verwijsindex.services import Core

VERWIJSINDEX = str(Path(sys.executable).with_name("verwijsindex"))


def _professional(env: dict[str, str], organisation_id: str, name: str, email: str) -> str:
    created = json_of(
        run(
            env,
            *("admin", "create-professional", "--organisation", organisation_id),
            *("--name", name, "--email", email, "--phone", "+31 6 1234 5678", "--json"),
        )
    )
    found: str = created["id"]
    return found


def test_list_organisations_prints_a_table_and_with_json_one_object(env: dict[str, str]) -> None:
    school = organisation(env, "OBS De Linde", "onderwijs")
    team = organisation(env, "Jeugdteam Zuid", "jeugdhulp")

    table = run(env, "admin", "list-organisations")
    assert table.exit_code == 0, table.output
    header, *rows = table.stdout.splitlines()
    assert header.split() == ["id", "sector", "gemeente", "name"]
    # By name: Jeugdteam before OBS.
    assert [r.split()[0] for r in rows] == [team, school]
    assert rows[1].split(maxsplit=3)[1:] == ["onderwijs", "-", "OBS De Linde"]

    listed = json_of(run(env, "admin", "list-organisations", "--json"))
    assert listed == {
        "items": [
            {"id": team, "name": "Jeugdteam Zuid", "sector": "jeugdhulp", "defaultGemeente": None},
            {"id": school, "name": "OBS De Linde", "sector": "onderwijs", "defaultGemeente": None},
        ]
    }


def test_list_organisations_says_so_when_there_are_none(env: dict[str, str]) -> None:
    result = run(env, "admin", "list-organisations")
    assert result.exit_code == 0
    assert result.stdout.strip() == "(none)"


def test_list_professionals_of_one_organisation_or_all_and_the_read_is_audited(
    env: dict[str, str], core: Core
) -> None:
    school = organisation(env, "OBS De Linde")
    team = organisation(env, "Jeugdteam Zuid", "jeugdhulp")
    anna = _professional(env, school, "Anna Jansen", "anna@delinde.example")
    bert = _professional(env, team, "Bert Bakker", "bert@zuid.example")

    everyone = json_of(run(env, "admin", "list-professionals", "--json"))["items"]
    assert [p["id"] for p in everyone] == [bert, anna]  # by organisation name
    assert everyone[1] == {
        "id": anna,
        "name": "Anna Jansen",
        "email": "anna@delinde.example",
        "phone": "+31 6 1234 5678",
        "organisation": {"id": school, "name": "OBS De Linde"},
        "roles": ["professional"],
        "active": True,
    }

    table = run(env, "admin", "list-professionals", "--organisation", school)
    assert table.exit_code == 0, table.output
    header, *rows = table.stdout.splitlines()
    assert header.split() == ["id", "roles", "active", "name", "email", "organisation"]
    assert len(rows) == 1 and rows[0].startswith(anna)
    assert "anna@delinde.example" in rows[0] and "Bert" not in table.stdout

    with core.transaction(write=False) as tx:
        audited = tx.uow.session.scalars(
            select(AuditEventRow).where(AuditEventRow.action.like("%professional:list"))
        ).all()
    assert len(audited) == 2


def test_list_professionals_of_an_unknown_organisation_fails_cleanly(
    env: dict[str, str],
) -> None:
    result = run(
        env, "admin", "list-professionals", "--organisation", "00000000-0000-4000-8000-000000000000"
    )
    assert "No such organisation" in assert_clean_failure(result, 1)
    assert "must be a UUID" in assert_clean_failure(
        run(env, "admin", "list-professionals", "--organisation", "x"), 2
    )


def test_a_duplicate_organisation_name_is_refused_in_one_line_unless_allowed(
    env: dict[str, str],
) -> None:
    first = organisation(env, "OBS De Linde")
    refused = run(
        env, "admin", "create-organisation", "--name", " obs de linde ", "--sector", "onderwijs"
    )
    message = assert_clean_failure(refused, 2)
    assert len(message.strip().splitlines()) == 1
    assert first in message and "--allow-duplicate" in message
    assert [
        o["id"] for o in json_of(run(env, "admin", "list-organisations", "--json"))["items"]
    ] == [first]

    allowed = run(
        env,
        *("admin", "create-organisation", "--name", "OBS De Linde", "--sector", "onderwijs"),
        *("--allow-duplicate", "--json"),
    )
    second = json_of(allowed)["id"]
    listed = json_of(run(env, "admin", "list-organisations", "--json"))["items"]
    assert sorted(o["id"] for o in listed) == sorted([first, second])


def _bare_environment() -> dict[str, str]:
    """The environment of someone who has set nothing of ours."""
    return {k: v for k, v in os.environ.items() if not k.startswith("VERWIJSINDEX_")}


def test_version_prints_the_package_version(tmp_path: Path) -> None:
    from importlib.metadata import version

    result = subprocess.run(
        [VERWIJSINDEX, "--version"],
        cwd=tmp_path,
        env=_bare_environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"verwijsindex {version('verwijsindex')}"


def test_commands_run_outside_the_repository_leave_no_instance_folder(tmp_path: Path) -> None:
    commands = [
        ["--version"],
        ["--help"],
        ["openapi"],
        ["admin", "list-organisations"],
        ["token", "--professional", "00000000-0000-4000-8000-000000000000"],
        ["maintenance"],
        ["audit", "verify"],
    ]
    for command in commands:
        result = subprocess.run(
            [VERWIJSINDEX, *command],
            cwd=tmp_path,
            env=_bare_environment(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "Traceback" not in result.stderr, (command, result.stderr)
        assert sorted(p.name for p in tmp_path.iterdir()) == [], command


def test_serve_on_a_busy_port_says_so_in_one_line_and_exits_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [VERWIJSINDEX, "serve", "--demo", "--port", str(port)],
            cwd=tmp_path,
            env=_bare_environment(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: port {port} on 127.0.0.1 is in use by another program; "
        "choose another with --port (make demo PORT=...)"
    ]
    # Checked before anything was made: no keys, no database.
    assert list(tmp_path.iterdir()) == []


def test_the_demo_target_serves_on_the_port_given(tmp_path: Path) -> None:
    """`make demo PORT=…` reaches `serve --port`, after installing the runtime lock only
    (make's dry run with every target out of date: what a fresh clone would run)."""
    repository = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        ["make", "-n", "-B", "demo", "PORT=18123"],
        cwd=repository,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert ".venv/bin/verwijsindex serve --demo --host 127.0.0.1 --port 18123" in result.stdout
    # Serving needs the runtime lock only: no test or lint tools.
    assert "--require-hashes -r requirements/runtime.txt" in result.stdout
    assert "requirements/dev.txt" not in result.stdout
