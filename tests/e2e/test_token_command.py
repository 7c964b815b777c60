"""`verwijsindex token` (issue 10 items 4 and 11): its tokens work on any address the same
installation serves, it is on the audit record, and it does not hand out oversight powers
without being told to."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import jwt
from click.testing import CliRunner, Result
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import FakeClock, World, core_of
from verwijsindex import create_app
from verwijsindex.cli import main
from verwijsindex.config import Settings
from verwijsindex.models import AuditEventRow
from verwijsindex.services import Core

SIGNALS_URL = "/api/v1/signals"
AUDIT_URL = "/api/v1/audit-events"


def token(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, ["token", *args], env=env)


def _audit(core: Core, action: str) -> list[tuple[str, object]]:
    with core.transaction(write=False) as tx:
        rows = tx.uow.session.execute(
            select(AuditEventRow.outcome, AuditEventRow.object_id).where(
                AuditEventRow.action == action
            )
        ).all()
    return [(outcome, object_id) for outcome, object_id in rows]


def test_a_token_from_the_cli_works_on_any_address_with_the_same_keys_and_database(
    world: World, env: dict[str, str], settings: Settings, clock: FakeClock
) -> None:
    clock.now = datetime.now(UTC)  # the CLI issues with the wall clock
    anna = world.professional("Anna Jansen")
    # As `serve --port 18081` sets it for itself, and the CLI run elsewhere does not.
    issued = token(
        {**env, "VERWIJSINDEX_BASE_URL": "http://127.0.0.1:18081"},
        "--professional",
        str(anna.professional_id),
    )
    assert issued.exit_code == 0, issued.output
    bearer = {"Authorization": f"Bearer {issued.stdout.strip()}"}
    for base_url in ("http://localhost:8080", "http://192.0.2.10:9999", "https://vi.example.nl"):
        other = create_app(replace(settings, base_url=base_url), clock=clock)
        try:
            response = other.test_client().get(SIGNALS_URL, headers=bearer)
            assert response.status_code == 200, (base_url, response.get_json())
        finally:
            core_of(other).database.dispose()


def test_an_explicit_token_issuer_is_used_and_checked(
    world: World, settings: Settings, keys_dir: Path, clock: FakeClock, client: FlaskClient
) -> None:
    anna = world.professional("Anna Jansen")  # a token with the installation's own issuer
    named = Settings.from_env(
        {
            "VERWIJSINDEX_DATABASE_URL": settings.database_url,
            "VERWIJSINDEX_KEYS_DIR": str(keys_dir),
            "VERWIJSINDEX_TOKEN_ISSUER": "https://vi.example.nl",
        }
    )
    app = create_app(named, clock=clock)
    try:
        core = core_of(app)
        own = core.tokens.issue("personal", anna.professional_id, "test", clock.now)
        assert jwt.decode(own, options={"verify_signature": False})["iss"] == (
            "https://vi.example.nl"
        )
        http = app.test_client()
        assert http.get(SIGNALS_URL, headers={"Authorization": f"Bearer {own}"}).status_code == 200
        assert http.get(SIGNALS_URL, headers=anna.headers()).status_code == 401
    finally:
        core_of(app).database.dispose()


def test_issuing_a_token_is_on_the_audit_record(
    world: World, env: dict[str, str], core: Core
) -> None:
    anna = world.professional("Anna Jansen")
    issued = token(env, "--professional", str(anna.professional_id))
    assert issued.exit_code == 0, issued.output
    assert _audit(core, "cli:token:issue") == [("success", anna.professional_id)]


def test_a_token_for_an_oversight_role_holder_is_refused_without_allow_oversight(
    world: World, env: dict[str, str], core: Core, client: FlaskClient
) -> None:
    for roles in (("privacy_officer",), ("professional", "beheerder")):
        person = world.professional(f"Olga {'-'.join(roles)}", roles=roles)
        refused = token(env, "--professional", str(person.professional_id))
        assert refused.exit_code != 0
        assert "--allow-oversight" in refused.stderr
        assert "Traceback" not in refused.output
        assert refused.stdout.strip() == ""  # no token printed
        assert ("denied", person.professional_id) in _audit(core, "cli:token:issue")


def test_allow_oversight_gives_a_personal_token_that_carries_the_role(
    world: World, env: dict[str, str], core: Core, client: FlaskClient, clock: FakeClock
) -> None:
    clock.now = datetime.now(UTC)  # the CLI issues with the wall clock
    officer = world.professional("Olga Officier", roles=("privacy_officer",))
    issued = token(env, "--professional", str(officer.professional_id), "--allow-oversight")
    assert issued.exit_code == 0, issued.output
    response = client.get(AUDIT_URL, headers={"Authorization": f"Bearer {issued.stdout.strip()}"})
    assert response.status_code == 200, response.get_json()
    assert ("success", officer.professional_id) in _audit(core, "cli:token:issue")
