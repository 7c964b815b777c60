"""The gemeente on a signal (contract §10, issue 13 item 1): a CBS code from the bundled
list, named in POST /signals or taken from the organisation's default, stored, shown to the
signal's author and to nobody else; the organisation's default set from the command line."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from tests.conftest import CHILD_BSN, OTHER_CHILD_BSN, ApiClient, World, signal_body
from verwijsindex.cli import main
from verwijsindex.domain import UNKNOWN_GEMEENTE
from verwijsindex.models import SignalRow
from verwijsindex.services import Core
from verwijsindex.services import admin as admin_service
from verwijsindex.services.auth import personal_token

SIGNALS = "/api/v1/signals"


def stored_gemeente(core: Core, signal_id: str) -> str | None:
    with core.transaction(write=False) as tx:
        found: str | None = tx.uow.session.scalar(
            select(SignalRow.gemeente).where(SignalRow.id == uuid.UUID(signal_id))
        )
        return found


def problems_of(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 400, response.get_json()
    assert response.mimetype == "application/problem+json"
    found: dict[str, list[str]] = {}
    for p in response.get_json()["invalidParams"]:
        found.setdefault(p["name"], []).append(p["reason"])
    return found


def test_a_named_gemeente_is_stored_and_shown_to_the_author(world: World, core: Core) -> None:
    anna = world.professional("Anna Jansen")
    signal = anna.signal(CHILD_BSN, gemeente="GM0363")
    assert signal["gemeente"] == "GM0363"
    assert anna.get(f"{SIGNALS}/{signal['id']}").get_json()["gemeente"] == "GM0363"
    assert stored_gemeente(core, signal["id"]) == "GM0363"


def test_without_a_gemeente_the_signal_carries_its_organisations_default(
    world: World, core: Core
) -> None:
    anna = world.professional("Anna Jansen", "School Maastricht")
    admin_service.set_organisation_gemeente(core, anna.organisation_id, "GM0935")
    defaulted = anna.signal(CHILD_BSN)
    assert defaulted["gemeente"] == "GM0935"
    assert stored_gemeente(core, defaulted["id"]) == "GM0935"
    # Naming one overrides the default.
    named = anna.signal(OTHER_CHILD_BSN, gemeente="GM0599")
    assert named["gemeente"] == "GM0599"


def test_without_a_gemeente_or_a_default_the_signal_has_none(world: World, core: Core) -> None:
    signal = world.professional("Anna Jansen").signal(CHILD_BSN)
    assert signal["gemeente"] is None
    assert stored_gemeente(core, signal["id"]) is None


@pytest.mark.parametrize("code", ["GM9999", "gm0363", "GM363", "0363", "Amsterdam", ""])
def test_an_unknown_gemeente_is_400_naming_the_field(world: World, core: Core, code: str) -> None:
    anna = world.professional("Anna Jansen")
    response = anna.post(SIGNALS, json=signal_body(CHILD_BSN, gemeente=code))
    assert problems_of(response) == {"gemeente": [UNKNOWN_GEMEENTE]}
    assert anna.get(SIGNALS).get_json()["items"] == []


def test_a_gemeente_that_is_not_a_string_is_400_and_reported_with_the_other_problems(
    world: World,
) -> None:
    anna = world.professional("Anna Jansen")
    response = anna.post(
        SIGNALS, json=signal_body(CHILD_BSN, birth_date="1990-01-01", gemeente=363)
    )
    assert set(problems_of(response)) == {"gemeente", "birthDate"}


def test_another_participant_of_the_match_does_not_see_the_gemeente(world: World) -> None:
    anna = world.professional("Anna Jansen")
    bert = world.professional("Bert Bos", "Jeugdteam", "jeugdhulp")
    anna.signal(CHILD_BSN, gemeente="GM0363")
    match = bert.signal(CHILD_BSN)["matches"][0]
    seen_by_bert = bert.get(f"/api/v1/matches/{match['id']}")
    assert seen_by_bert.status_code == 200
    assert "GM0363" not in seen_by_bert.get_data(as_text=True)
    assert "GM0363" not in bert.get("/api/v1/matches").get_data(as_text=True)


def test_the_openapi_document_offers_the_gemeente_in_and_out(world: World) -> None:
    schemas = world.http.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert schemas["SignalIn"]["properties"]["gemeente"]["pattern"] == "^GM[0-9]{4}$"
    assert "gemeente" not in schemas["SignalIn"].get("required", [])
    assert "gemeente" in schemas["SignalOut"]["properties"]


# --- the organisation's default, from the command line ---------------------------------------


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def test_create_organisation_takes_a_default_gemeente_that_its_signals_carry(
    env: dict[str, str], core: Core, world: World
) -> None:
    result = run(
        env,
        "admin", "create-organisation", "--name", "GGD Zuid", "--sector",
        "jeugdgezondheidszorg", "--default-gemeente", "GM0935", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert created["defaultGemeente"] == "GM0935"
    with core.transaction(write=False) as tx:
        organisation = tx.people.organisation(uuid.UUID(created["id"]))
    assert organisation is not None
    assert organisation.default_gemeente == "GM0935"
    professional = admin_service.create_professional(
        core,
        organisation.id,
        name="Gea Geerts",
        email="gea@example.org",
        phone="+31 6 1234 5678",
        roles=["professional"],
        password=None,
    ).professional
    gea = ApiClient(
        world.http, professional.id, organisation.id, personal_token(core, professional.id)
    )
    assert gea.signal(CHILD_BSN)["gemeente"] == "GM0935"


def test_set_organisation_gemeente_changes_and_clears_the_default(
    env: dict[str, str], core: Core, world: World
) -> None:
    organisation = world.organisation("School A")
    changed = run(
        env, "admin", "set-organisation-gemeente", "--organisation", str(organisation),
        "--gemeente", "GM0518",
    )  # fmt: skip
    assert changed.exit_code == 0, changed.output
    assert changed.stdout.strip() == "GM0518"
    with core.transaction(write=False) as tx:
        found = tx.people.organisation(organisation)
    assert found is not None and found.default_gemeente == "GM0518"
    cleared = run(env, "admin", "set-organisation-gemeente", "--organisation", str(organisation))
    assert cleared.exit_code == 0, cleared.output
    with core.transaction(write=False) as tx:
        found = tx.people.organisation(organisation)
    assert found is not None and found.default_gemeente is None


@pytest.mark.parametrize(
    "args",
    [
        (
            "create-organisation",
            "--name",
            "X",
            "--sector",
            "onderwijs",
            "--default-gemeente",
            "GM9",
        ),
        ("set-organisation-gemeente", "--organisation", "", "--gemeente", "GM9999"),
    ],
)
def test_an_unknown_default_gemeente_is_refused_with_exit_2_and_one_clear_message(
    env: dict[str, str], world: World, args: tuple[str, ...]
) -> None:
    if "--organisation" in args:
        organisation = str(world.organisation("School A"))
        args = tuple(organisation if a == "" else a for a in args)
    result = run(env, "admin", *args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"defaultGemeente: {UNKNOWN_GEMEENTE}" in result.stderr


def test_set_organisation_gemeente_of_an_unknown_organisation_fails_cleanly(
    env: dict[str, str],
) -> None:
    result = run(
        env, "admin", "set-organisation-gemeente", "--organisation", str(uuid.uuid4()),
        "--gemeente", "GM0363",
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "No such organisation." in result.stderr
