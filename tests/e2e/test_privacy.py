"""Contract section 2, tested: after a full scenario no BSN, and no unkeyed hash of one, is
in the database, the logs or any response; contact data and justifications are encrypted.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from tests.conftest import (
    CHILD_BSN,
    OTHER_CHILD_BSN,
    OTHER_PARENT_BSN,
    PARENT_BSN,
    SIBLING_BSN,
    ApiClient,
    World,
    signal_body,
)
from verwijsindex.models import Base
from verwijsindex.services import Core
from verwijsindex.services.admin import create_system_client

INVALID_BSN = "111222334"  # fails the elfproef: must not be echoed either
JUSTIFICATION = "Vader is gewelddadig; informeren brengt het kind in gevaar."
BSNS = [CHILD_BSN, SIBLING_BSN, OTHER_CHILD_BSN, PARENT_BSN, OTHER_PARENT_BSN, INVALID_BSN]


def forbidden_forms(bsn: str) -> list[bytes]:
    """The BSN and the unkeyed hashes an attacker would try first."""
    digest = hashlib.sha256(bsn.encode()).digest()
    return [
        bsn.encode(),
        digest.hex().encode(),
        digest.hex().upper().encode(),
        base64.b64encode(digest).rstrip(b"="),
        base64.urlsafe_b64encode(digest).rstrip(b"="),
    ]


def database_contents(core: Core) -> bytes:
    """Every row of every table, plus (SQLite) the raw database and WAL files."""
    parts: list[bytes] = []
    engine = create_engine(core.database.url)
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                for value in row:
                    parts.append(value if isinstance(value, bytes) else str(value).encode())
    engine.dispose()
    if core.database.dialect == "sqlite":
        path = Path(core.database.engine.url.database or "")
        for candidate in (path, path.with_name(path.name + "-wal")):
            if candidate.exists():
                parts.append(candidate.read_bytes())
    return b"\n".join(parts)


def run_scenario(world: World, core: Core) -> list[ApiClient]:
    """Everything a day in the index does with BSNs: signals, matches, errors, closing."""
    anna = world.professional("Anna Jansen", "School A", "onderwijs")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    carla = world.professional("Carla Claes", "Huisartsen C", "gezondheidszorg")

    first = anna.signal(CHILD_BSN, parents=[PARENT_BSN, OTHER_PARENT_BSN])
    bert.signal(CHILD_BSN, parents=[PARENT_BSN])
    carla.signal(SIBLING_BSN, parents=[OTHER_PARENT_BSN])
    postponed = anna.post(
        "/api/v1/signals",
        json={
            "bsn": OTHER_CHILD_BSN,
            "birthDate": "2012-05-01",
            "parentBsns": [PARENT_BSN],
            "informatieplicht": {
                "postponement": {
                    "reason": "not_in_interest_of_child",
                    "justification": JUSTIFICATION,
                    "reviewOn": "2027-02-01",
                }
            },
        },
    )
    assert postponed.status_code == 201
    # Errors of every kind, with BSNs in them.
    anna.post("/api/v1/signals", json=signal_body(CHILD_BSN))  # 409
    anna.post("/api/v1/signals", json=signal_body(INVALID_BSN, parents=[CHILD_BSN]))
    anna.post("/api/v1/signals", json={**signal_body(SIBLING_BSN), CHILD_BSN: "smuggled"})
    anna.post("/api/v1/signals", json=signal_body(SIBLING_BSN, parents=[SIBLING_BSN]))
    # A system client acting for Bert.
    client = create_system_client(core, bert.organisation_id)
    token = world.http.post(
        "/api/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": str(client.client_id),
            "client_secret": client.client_secret,
        },
    ).get_json()["access_token"]
    system = ApiClient(world.http, bert.professional_id, bert.organisation_id, token)
    system.post(
        "/api/v1/signals",
        json=signal_body(SIBLING_BSN, parents=[OTHER_PARENT_BSN]),
        headers={"X-Professional-Id": str(bert.professional_id)},
    )
    # Reading everything there is to read.
    for api in (anna, bert, carla):
        for match in api.get("/api/v1/matches").get_json()["items"]:
            api.get(f"/api/v1/matches/{match['id']}")
        for signal in api.get("/api/v1/signals").get_json()["items"]:
            api.get(f"/api/v1/signals/{signal['id']}")
    matches = anna.get("/api/v1/matches").get_json()["items"]
    anna.put(
        f"/api/v1/matches/{matches[0]['id']}/regisseur",
        json={"professionalId": str(bert.professional_id)},
    )
    # The oversight roles (contract section 10) at work: a move between gemeenten, the
    # regievoerder's monitoring and check, the coordinator's list and a transfer.
    eva = world.professional("Eva Evers", "Wijkteam E", "jeugdhulp")
    anna.signal(SIBLING_BSN, parents=[PARENT_BSN], gemeente="GM0228")
    eva.signal(SIBLING_BSN, parents=[PARENT_BSN], gemeente="GM0363")
    regie = world.professional("Rita Regie", "Gemeente R", roles=("regievoerder",))
    monitored = regie.get("/api/v1/monitoring/matches").get_json()["items"]
    assert monitored, "the regievoerder (whole index) should see the matches"
    for match in monitored:
        regie.get(f"/api/v1/monitoring/matches/{match['id']}")
        regie.put(f"/api/v1/monitoring/matches/{match['id']}/check")
    coordinator = world.professional("Cor Coord", "School A", roles=("coordinator",))
    colleague = world.professional("Dirk Docent", "School A")
    listed = coordinator.get(f"/api/v1/organisations/{anna.organisation_id}/signals")
    assert listed.status_code == 200
    moved = listed.get_json()["items"][0]
    transferred = coordinator.post(
        f"/api/v1/signals/{moved['id']}/transfer",
        json={"professionalId": str(colleague.professional_id)},
    )
    assert transferred.status_code == 200, transferred.get_json()
    # Closing and erasing.
    anna.delete(f"/api/v1/signals/{first['id']}")
    carla_signal = carla.get("/api/v1/signals").get_json()["items"][0]
    carla.delete(f"/api/v1/signals/{carla_signal['id']}?reason=unjustified")
    return [anna, bert, carla, system, eva, regie, coordinator, colleague]


def test_no_bsn_or_unkeyed_hash_in_database_logs_or_responses(
    world: World, core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # includes SQLAlchemy's statements and parameters
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    clients = run_scenario(world, core)
    bodies = b"\n".join(
        r.get_data() + str(r.headers).encode() for api in clients for r in api.responses
    )
    assert len(bodies) > 5000, "the scenario should have produced real responses"
    assert any(b"invalidParams" in r.get_data() for r in clients[0].responses)
    database = database_contents(core)
    logs = "\n".join(r.getMessage() for r in caplog.records).encode()
    assert b"SELECT" in logs, "SQL logging should have been captured"
    for bsn in BSNS:
        for form in forbidden_forms(bsn):
            assert form not in database, f"a form of {bsn} is in the database"
            assert form not in logs, f"a form of {bsn} is in the logs"
            assert form not in bodies, f"a form of {bsn} is in a response"


def test_contact_details_and_justifications_are_encrypted_at_rest(world: World, core: Core) -> None:
    run_scenario(world, core)
    database = database_contents(core)
    for plain in (
        "Anna Jansen",
        "anna.jansen@example.org",
        "+31 6 1234 5678",
        JUSTIFICATION,
        "Vader is gewelddadig",
    ):
        assert plain.encode() not in database, plain
    # ...while organisation names, which are not personal data, are stored as they are.
    assert b"School A" in database
