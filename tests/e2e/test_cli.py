"""The `verwijsindex` command line (contract section 8), run in-process with click's runner,
plus one real `verwijsindex serve --demo` subprocess answering HTTP on loopback.
"""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask.testing import FlaskClient
from sqlalchemy import create_engine, inspect

from tests.conftest import CHILD_BSN, FakeClock, signal_body
from tests.served import stop
from verwijsindex.cli import main
from verwijsindex.models import Base

KEY_FILES = {
    "pseudonym.key",
    "aead.key",
    "jwt-signing.pem",
    "audit.key",
    "audit-checkpoint.pem",
    "audit-checkpoint.pub.pem",
}


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, input=stdin)


def assert_clean_failure(result: Result, code: int) -> str:
    """A failure with the given exit status and a readable message, never a traceback."""
    assert result.exit_code == code, result.output
    assert result.exc_info is None or result.exc_info[0] is SystemExit, result.exc_info
    assert "Traceback" not in result.output
    message = result.stderr or result.output
    assert message.strip()
    return message


def json_of(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, (result.output, result.exc_info)
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.stdout
    data: dict[str, Any] = json.loads(lines[0])
    return data


def organisation(env: dict[str, str], name: str = "School A", sector: str = "onderwijs") -> str:
    found: str = json_of(
        run(env, "admin", "create-organisation", "--name", name, "--sector", sector, "--json")
    )["id"]
    return found


def professional(env: dict[str, str], organisation_id: str, *roles: str) -> dict[str, Any]:
    args = [
        "admin",
        "create-professional",
        "--organisation",
        organisation_id,
        "--name",
        "Anna Jansen",
        "--email",
        "anna@example.org",
        "--phone",
        "+31 6 1234 5678",
    ]
    for role in roles:
        args += ["--role", role]
    return json_of(run(env, *args, "--json"))


# --- admin ----------------------------------------------------------------------------------


def test_create_organisation_prints_one_json_object_with_its_id(
    env: dict[str, str], client: FlaskClient
) -> None:
    data = json_of(
        run(
            env,
            "admin",
            "create-organisation",
            "--name",
            "School A",
            "--sector",
            "onderwijs",
            "--json",
        )
    )
    uuid.UUID(data["id"])
    assert data["name"] == "School A"
    assert data["sector"] == "onderwijs"


def test_create_organisation_without_json_prints_just_the_id(env: dict[str, str]) -> None:
    result = run(env, "admin", "create-organisation", "--name", "School A", "--sector", "onderwijs")
    assert result.exit_code == 0, result.output
    uuid.UUID(result.stdout.strip())


def test_an_invalid_sector_fails_without_a_traceback(env: dict[str, str]) -> None:
    result = run(env, "admin", "create-organisation", "--name", "X", "--sector", "kapper", "--json")
    assert result.exit_code != 0
    message = assert_clean_failure(result, result.exit_code)
    assert "sector" in message


def test_an_empty_organisation_name_is_refused_with_the_field_named(env: dict[str, str]) -> None:
    result = run(env, "admin", "create-organisation", "--name", "  ", "--sector", "onderwijs")
    assert "name" in assert_clean_failure(result, 2)


def test_create_professional_prints_id_roles_and_a_totp_uri(env: dict[str, str]) -> None:
    organisation_id = organisation(env)
    data = professional(env, organisation_id, "professional", "beheerder")
    uuid.UUID(data["id"])
    assert sorted(data["roles"]) == ["beheerder", "professional"]
    assert data["totpUri"].startswith("otpauth://totp/")
    assert "secret=" in data["totpUri"]
    assert data["organisation"] == organisation_id


def test_create_professional_defaults_to_the_professional_role(env: dict[str, str]) -> None:
    assert professional(env, organisation(env))["roles"] == ["professional"]


def test_a_short_password_on_stdin_is_exit_2_naming_password(env: dict[str, str]) -> None:
    organisation_id = organisation(env)
    result = run(
        env,
        "admin",
        "create-professional",
        "--organisation",
        organisation_id,
        "--name",
        "Anna Jansen",
        "--email",
        "anna@example.org",
        "--phone",
        "+31 6 1234 5678",
        "--password-stdin",
        stdin="short\n",
    )
    message = assert_clean_failure(result, 2)
    assert "password" in message
    assert "short" not in message


def test_a_long_enough_password_on_stdin_is_accepted(env: dict[str, str]) -> None:
    organisation_id = organisation(env)
    result = run(
        env,
        "admin",
        "create-professional",
        "--organisation",
        organisation_id,
        "--name",
        "Anna Jansen",
        "--email",
        "anna@example.org",
        "--phone",
        "+31 6 1234 5678",
        "--password-stdin",
        "--json",
        stdin="correct horse battery staple\n",
    )
    data = json_of(result)
    assert "correct horse" not in result.output
    uuid.UUID(data["id"])


@pytest.mark.parametrize("command", ["create-professional", "create-client"])
def test_an_unknown_organisation_is_exit_1_with_a_message(
    env: dict[str, str], command: str
) -> None:
    args = ["admin", command, "--organisation", str(uuid.uuid4())]
    if command == "create-professional":
        args += ["--name", "Anna", "--email", "anna@example.org", "--phone", "+31 6 1234 5678"]
    message = assert_clean_failure(run(env, *args), 1)
    assert "organisation" in message.lower()


def test_a_malformed_organisation_id_is_exit_2(env: dict[str, str]) -> None:
    result = run(env, "admin", "create-client", "--organisation", "school-a")
    assert "--organisation" in assert_clean_failure(result, 2)


def test_create_client_prints_a_secret_that_works_at_the_token_endpoint(
    env: dict[str, str], client: FlaskClient
) -> None:
    data = json_of(
        run(env, "admin", "create-client", "--organisation", organisation(env), "--json")
    )
    uuid.UUID(data["client_id"])
    assert len(data["client_secret"]) >= 32
    response = client.post(
        "/api/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": data["client_id"],
            "client_secret": data["client_secret"],
        },
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["token_type"] == "Bearer"


# --- token ----------------------------------------------------------------------------------


def test_token_prints_a_personal_token_the_api_accepts(
    env: dict[str, str], client: FlaskClient, clock: FakeClock
) -> None:
    clock.now = datetime.now(UTC)  # the CLI issues with the wall clock
    person = professional(env, organisation(env))
    result = run(env, "token", "--professional", person["id"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.count(".") == 2 and "\n" not in token
    response = client.post(
        "/api/v1/signals",
        json=signal_body(CHILD_BSN),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["professional"]["id"] == person["id"]


def test_token_json_is_one_object_shaped_like_the_oauth_response(
    env: dict[str, str], client: FlaskClient, clock: FakeClock
) -> None:
    clock.now = datetime.now(UTC)
    person = professional(env, organisation(env))
    data = json_of(run(env, "token", "--professional", person["id"], "--json"))
    assert data["token_type"] == "Bearer"
    assert 0 < data["expires_in"] <= 3600
    response = client.get(
        "/api/v1/signals", headers={"Authorization": f"Bearer {data['access_token']}"}
    )
    assert response.status_code == 200, response.get_json()


def test_token_for_an_unknown_professional_fails_cleanly(env: dict[str, str]) -> None:
    assert_clean_failure(run(env, "token", "--professional", str(uuid.uuid4())), 1)
    assert_clean_failure(run(env, "token", "--professional", "anna"), 2)


# --- configuration and set-up ---------------------------------------------------------------


def test_missing_keys_are_a_readable_error_not_a_traceback(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = run(
        {**env, "VERWIJSINDEX_KEYS_DIR": str(tmp_path / "nowhere")},
        "admin",
        "create-organisation",
        "--name",
        "School A",
        "--sector",
        "onderwijs",
    )
    assert "key" in assert_clean_failure(result, 2)
    assert not (tmp_path / "nowhere").exists()


def test_an_unusable_database_url_is_a_readable_error(env: dict[str, str]) -> None:
    result = run(
        {**env, "VERWIJSINDEX_DATABASE_URL": "mysql://root@localhost/x"},
        "admin",
        "create-organisation",
        "--name",
        "School A",
        "--sector",
        "onderwijs",
    )
    assert "VERWIJSINDEX_DATABASE_URL" in assert_clean_failure(result, 2)


def test_db_upgrade_creates_missing_keys_and_the_schema_and_is_idempotent(
    tmp_path: Path,
) -> None:
    keys = tmp_path / "keys"
    database = tmp_path / "fresh.db"
    env = {
        "VERWIJSINDEX_DATABASE_URL": f"sqlite:///{database}",
        "VERWIJSINDEX_KEYS_DIR": str(keys),
    }
    first = run(env, "db", "upgrade")
    assert first.exit_code == 0, (first.output, first.exc_info)
    assert {p.name for p in keys.iterdir()} == KEY_FILES
    for path in keys.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
    assert first.output.count("created key") == len(KEY_FILES)
    contents = {p.name: p.read_bytes() for p in keys.iterdir()}
    engine = create_engine(f"sqlite:///{database}")
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    assert "alembic_version" in tables

    second = run(env, "db", "upgrade")
    assert second.exit_code == 0, (second.output, second.exc_info)
    assert "created key" not in second.output
    assert {p.name: p.read_bytes() for p in keys.iterdir()} == contents


def test_openapi_prints_the_document_as_json(tmp_path: Path) -> None:
    result = run({"VERWIJSINDEX_KEYS_DIR": str(tmp_path / "keys")}, "openapi")
    assert result.exit_code == 0, (result.output, result.exc_info)
    document = json.loads(result.stdout)
    assert document["openapi"].startswith("3.")
    assert "/signals" in document["paths"]
    assert "/oauth/token" in document["paths"]


# --- the real thing: serve --demo -----------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _get(url: str, token: str | None = None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url)  # noqa: S310 - loopback http only
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_serve_demo_answers_http_with_a_visible_client_match(tmp_path: Path) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERWIJSINDEX_")}
    env.update(
        VERWIJSINDEX_DATABASE_URL=f"sqlite:///{tmp_path / 'demo.db'}",
        VERWIJSINDEX_KEYS_DIR=str(tmp_path / "keys"),
        PYTHONUNBUFFERED="1",
    )
    command = Path(sys.executable).parent / "verwijsindex"
    stdout_path, stderr_path = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        process = subprocess.Popen(
            [
                str(command),
                *("serve", "--demo", "--host", "127.0.0.1", "--port", str(port)),
                *("--workers", "1"),
            ],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + 60
        health: tuple[int, dict[str, Any]] | None = None
        while time.monotonic() < deadline:
            assert process.poll() is None, stderr_path.read_text()
            try:
                health = _get(f"{base}/api/v1/health")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.25)
        assert health == (200, {"status": "ok", "database": "ok"}), stderr_path.read_text()

        printed = stdout_path.read_text()
        assert CHILD_BSN not in printed
        # The outbox worker may already have anchored an audit checkpoint beside the keys
        # (keys/audit-anchors.jsonl) on a slow machine; that log is not a key.
        made = {p.name for p in (tmp_path / "keys").iterdir()} - {"audit-anchors.jsonl"}
        assert made == KEY_FILES
        found = re.search(r"curl -s (\S+)/api/v1/matches", printed)
        assert found is not None, printed
        assert found.group(1) == base
        bearer = re.search(
            r"Authorization: Bearer ([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)", printed
        )
        assert bearer is not None, printed

        status, page = _get(f"{base}/api/v1/matches", bearer.group(1))
        assert status == 200, page
        assert len(page["items"]) == 1
        match = page["items"][0]
        assert match["type"] == "client"
        assert len(match["participants"]) == 2
        assert len({p["organisation"] for p in match["participants"]}) == 2
        assert CHILD_BSN not in json.dumps(page)
    finally:
        stop(process)
