"""The regievoerder (contract §10, Jeugdwet 7.1.3.2): the matches in their gemeenten with who
has and has not followed up, the contact check, and nothing else; in person only."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import (
    CHILD_BSN,
    OTHER_CHILD_BSN,
    PARENT_BSN,
    SIBLING_BSN,
    ApiClient,
    FakeClock,
    World,
    signal_body,
)
from tests.e2e.test_auth import assert_problem, bearer, system_token
from verwijsindex.models import AuditEventRow
from verwijsindex.services import Core
from verwijsindex.services import admin as admin_service
from verwijsindex.services.auth import personal_token

MONITORING = "/api/v1/monitoring/matches"
MISSING = "00000000-0000-4000-8000-000000000000"
BSNS = (CHILD_BSN, OTHER_CHILD_BSN, PARENT_BSN, SIBLING_BSN)


def regievoerder(
    world: World,
    name: str,
    gemeenten: tuple[str, ...] = (),
    roles: tuple[str, ...] = ("regievoerder",),
) -> ApiClient:
    organisation_id = world.organisation("Gemeente", "maatschappelijke_ondersteuning")
    created = admin_service.create_professional(
        world.core,
        organisation_id,
        name=name,
        email=f"{name.lower().replace(' ', '.')}@gemeente.example.nl",
        phone="+31 6 9876 5432",
        roles=roles,
        password=None,
        gemeenten_assigned=gemeenten,
    )
    token = personal_token(world.core, created.professional.id)
    return ApiClient(world.http, created.professional.id, organisation_id, token)


def client_match(
    world: World, child: str, gemeente: str | None
) -> tuple[str, ApiClient, ApiClient]:
    """A cliëntmatch on `child` between a school and a youth-care team, naming `gemeente`."""
    extra = {} if gemeente is None else {"gemeente": gemeente}
    tag = BSNS.index(child)
    anna = world.professional(f"Anna {tag}", "School A", "onderwijs")
    bert = world.professional(f"Bert {tag}", "Team B", "jeugdhulp")
    anna.signal(child, **extra)
    made = bert.signal(child, **extra)
    return made["matches"][0]["id"], anna, bert


def renew(world: World, *callers: ApiClient) -> None:
    """New personal tokens after the clock moved past the old ones' lifetime."""
    for caller in callers:
        caller.token = personal_token(world.core, caller.professional_id)


def listed(api: ApiClient, query: str = "") -> list[dict[str, Any]]:
    response = api.get(f"{MONITORING}{query}")
    assert response.status_code == 200, response.get_json()
    items: list[dict[str, Any]] = response.get_json()["items"]
    return items


def ids(api: ApiClient, query: str = "") -> set[str]:
    return {m["id"] for m in listed(api, query)}


def actions(core: Core, action: str) -> list[AuditEventRow]:
    with core.transaction(write=False) as tx:
        rows = tx.uow.session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == action).order_by(AuditEventRow.seq)
        ).all()
        tx.uow.session.expunge_all()
    return list(rows)


def assert_no_bsn(text: str) -> None:
    for bsn in BSNS:
        assert bsn not in text


# --- scope -----------------------------------------------------------------------------------


def test_a_regievoerder_sees_the_matches_of_their_gemeenten_only(world: World) -> None:
    in_ede, _, _ = client_match(world, CHILD_BSN, "GM0228")
    in_amsterdam, _, _ = client_match(world, OTHER_CHILD_BSN, "GM0363")
    ede = regievoerder(world, "Rita Ede", ("GM0228",))
    assert ids(ede) == {in_ede}
    assert ede.get(f"{MONITORING}/{in_ede}").status_code == 200
    assert_problem(ede.get(f"{MONITORING}/{in_amsterdam}"), 404)
    assert_problem(ede.get(f"{MONITORING}/{MISSING}"), 404)


def test_a_regievoerder_without_gemeenten_sees_the_whole_index(world: World) -> None:
    in_ede, _, _ = client_match(world, CHILD_BSN, "GM0228")
    nowhere, _, _ = client_match(world, OTHER_CHILD_BSN, None)
    everywhere = regievoerder(world, "Rob Regio")
    assert ids(everywhere) == {in_ede, nowhere}
    assert ids(everywhere, "?gemeente=GM0228") == {in_ede}


def test_a_match_shows_participants_with_contact_and_follow_up_but_nothing_of_the_child(
    world: World,
) -> None:
    match_id, anna, bert = client_match(world, CHILD_BSN, "GM0228")
    assert anna.put(f"/api/v1/matches/{match_id}/follow-up").status_code == 200
    response = regievoerder(world, "Rita Ede", ("GM0228",)).get(MONITORING)
    assert_no_bsn(response.get_data(as_text=True))
    (match,) = response.get_json()["items"]
    assert match["type"] == "client"
    assert match["gemeenten"] == ["GM0228"]
    assert match["followUp"] == "open"
    assert match["checkedAt"] is None and match["checkedBy"] is None
    people = {p["professionalId"]: p for p in match["participants"]}
    assert set(people) == {str(anna.professional_id), str(bert.professional_id)}
    assert people[str(anna.professional_id)]["followedUpAt"] is not None
    assert people[str(bert.professional_id)]["followedUpAt"] is None
    assert people[str(bert.professional_id)]["email"] == "bert.0@example.org"
    assert people[str(bert.professional_id)]["sector"] == "jeugdhulp"
    assert {"mySignalIds", "signals", "child"}.isdisjoint(match)


def test_a_gemeente_outside_the_scope_is_403_and_an_unknown_one_400(world: World) -> None:
    ede = regievoerder(world, "Rita Ede", ("GM0228",))
    assert_problem(ede.get(f"{MONITORING}?gemeente=GM0363"), 403)
    body = assert_problem(ede.get(f"{MONITORING}?gemeente=GM9999"), 400)
    assert [p["name"] for p in body["invalidParams"]] == ["gemeente"]
    assert_problem(ede.get(f"{MONITORING}?followUp=late"), 400)


def test_the_list_is_paginated(world: World) -> None:
    client_match(world, CHILD_BSN, None)
    client_match(world, OTHER_CHILD_BSN, None)
    rob = regievoerder(world, "Rob Regio")
    first = rob.get(f"{MONITORING}?pageSize=1").get_json()
    assert len(first["items"]) == 1 and first["next"]
    second = rob.get(first["next"].partition("verwijsindex")[2] or first["next"]).get_json()
    assert len(second["items"]) == 1 and second["next"] is None
    assert first["items"][0]["id"] != second["items"][0]["id"]


# --- follow-up with a moved clock -----------------------------------------------------------


def test_overdue_on_the_eleventh_working_day_with_dutch_holidays_excluded(
    world: World, clock: FakeClock
) -> None:
    # Joined on Monday 21 December 2026: 25 and 26 December and 1 January are holidays, so
    # the 10th working day after it is Wednesday 6 January (without them: Monday 4th).
    clock.now = datetime(2026, 12, 21, 9, 0, tzinfo=UTC)
    match_id, anna, bert = client_match(world, CHILD_BSN, None)
    rob = regievoerder(world, "Rob Regio")
    assert ids(rob, "?followUp=open") == {match_id}
    clock.now = datetime(2027, 1, 5, 16, 0, tzinfo=UTC)
    renew(world, anna, bert, rob)
    assert ids(rob, "?followUp=overdue") == set()
    assert ids(rob, "?followUp=open") == {match_id}
    clock.now = datetime(2027, 1, 6, 8, 0, tzinfo=UTC)
    renew(world, anna, bert, rob)
    assert ids(rob, "?followUp=overdue") == {match_id}
    assert ids(rob, "?followUp=open") == set()
    (match,) = listed(rob)
    assert {p["overdue"] for p in match["participants"]} == {True}
    assert anna.put(f"/api/v1/matches/{match_id}/follow-up").status_code == 200
    (match,) = listed(rob, "?followUp=overdue")
    overdue = {p["professionalId"]: p["overdue"] for p in match["participants"]}
    assert overdue == {str(anna.professional_id): False, str(bert.professional_id): True}
    assert bert.put(f"/api/v1/matches/{match_id}/follow-up").status_code == 200
    assert ids(rob, "?followUp=overdue") == set()
    assert ids(rob, "?followUp=done") == {match_id}
    assert listed(rob)[0]["followUp"] == "done"


# --- the contact check ------------------------------------------------------------------------


def test_checking_contact_is_recorded_once_and_audited(
    world: World, core: Core, clock: FakeClock
) -> None:
    match_id, _, _ = client_match(world, CHILD_BSN, "GM0228")
    ede = regievoerder(world, "Rita Ede", ("GM0228",))
    first = ede.put(f"{MONITORING}/{match_id}/check")
    assert first.status_code == 200, first.get_json()
    checked = first.get_json()
    assert checked["checkedBy"]["id"] == str(ede.professional_id)
    assert checked["checkedBy"]["name"] == "Rita Ede"
    clock.advance(minutes=5)
    again = ede.put(f"{MONITORING}/{match_id}/check").get_json()
    assert again["checkedAt"] == checked["checkedAt"]
    assert listed(ede)[0]["checkedAt"] == checked["checkedAt"]
    recorded = actions(core, "api:monitoring:check")
    assert [(r.object_id, r.actor_id, r.outcome) for r in recorded] == [
        (uuid.UUID(match_id), ede.professional_id, "success")
    ] * 2


def test_checking_a_match_outside_the_scope_is_404_and_audited_as_denied(
    world: World, core: Core
) -> None:
    elsewhere, _, _ = client_match(world, CHILD_BSN, "GM0363")
    ede = regievoerder(world, "Rita Ede", ("GM0228",))
    assert_problem(ede.put(f"{MONITORING}/{elsewhere}/check"), 404)
    assert_problem(ede.put(f"{MONITORING}/{MISSING}/check"), 404)
    denied = [r for r in actions(core, "api:monitoring:check") if r.outcome == "denied"]
    assert [r.object_id for r in denied] == [uuid.UUID(elsewhere), uuid.UUID(MISSING)]


def test_every_read_is_audited(world: World, core: Core) -> None:
    match_id, _, _ = client_match(world, CHILD_BSN, None)
    rob = regievoerder(world, "Rob Regio")
    listed(rob)
    assert rob.get(f"{MONITORING}/{match_id}").status_code == 200
    (listing,) = actions(core, "api:monitoring:list")
    assert listing.actor_id == rob.professional_id
    (read,) = actions(core, "api:monitoring:read")
    assert read.object_id == uuid.UUID(match_id)


# --- nothing else ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/signals", None),
        ("POST", "/api/v1/signals", signal_body(CHILD_BSN)),
        ("GET", f"/api/v1/signals/{MISSING}", None),
        ("GET", "/api/v1/matches", None),
        ("GET", f"/api/v1/matches/{MISSING}", None),
        ("PUT", f"/api/v1/matches/{MISSING}/follow-up", None),
        ("GET", "/api/v1/audit-events", None),
        ("POST", "/api/v1/subject-access-requests", {"bsn": CHILD_BSN}),
        ("POST", "/api/v1/erasure-requests", {"bsn": CHILD_BSN, "reason": "objection"}),
        ("GET", "/api/v1/statistics", None),
        ("GET", f"/api/v1/signals/{MISSING}/history", None),
        ("DELETE", f"/api/v1/signals/{MISSING}", None),
        ("PUT", f"/api/v1/matches/{MISSING}/regisseur", {"professionalId": MISSING}),
        ("GET", "/api/v1/audit-checkpoints", None),
    ],
)
def test_a_regievoerder_is_refused_everything_else(
    world: World, method: str, path: str, body: dict[str, Any] | None
) -> None:
    rob = regievoerder(world, "Rob Regio")
    response = rob.request(method, path, json=body)
    problem = assert_problem(response, 403)
    assert_no_bsn(str(problem))


def test_others_are_refused_the_monitoring(world: World) -> None:
    match_id, anna, _ = client_match(world, CHILD_BSN, None)
    beheerder = world.professional("Bea Beheer", roles=("beheerder",))
    for caller in (anna, beheerder):
        assert_problem(caller.get(MONITORING), 403)
        assert_problem(caller.put(f"{MONITORING}/{match_id}/check"), 403)


def test_a_system_token_never_carries_the_regievoerder_role(
    world: World, core: Core, client: FlaskClient
) -> None:
    match_id, _, _ = client_match(world, CHILD_BSN, None)
    both = regievoerder(world, "Rob Regio", roles=("professional", "regievoerder"))
    assert both.get(MONITORING).status_code == 200  # in person: allowed
    headers = bearer(system_token(client, core, both.organisation_id), both.professional_id)
    assert_problem(client.get(MONITORING, headers=headers), 403)
    assert_problem(client.put(f"{MONITORING}/{match_id}/check", headers=headers), 403)


def test_the_openapi_document_describes_the_monitoring(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    listing = json.dumps(paths["/monitoring/matches"]["get"])
    assert all(f'"{name}"' in listing for name in ("followUp", "gemeente", "pageSize"))
    assert "put" in paths["/monitoring/matches/{match_id}/check"]
