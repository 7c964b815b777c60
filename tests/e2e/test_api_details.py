"""API details a first integrator trips over (issue 14, items 15 and 16): `Location` on every
201, a duplicate signal's 409 naming the signal to go on with, one title per status, and a
postponement that contradicts "everyone informed" refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from http import HTTPStatus
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import CHILD_BSN, SIBLING_BSN, ApiClient, World, signal_body
from verwijsindex.config import Settings
from verwijsindex.matching import Surroundings
from verwijsindex.repository import SqlMatchStore
from verwijsindex.services import admin as admin_service

POSTPONEMENT = {
    "reason": "not_in_interest_of_child",
    "justification": "Informing now would endanger the child.",
    "reviewOn": "2027-01-15",
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Development mode: a webhook receiver on http://localhost may be subscribed."""
    return replace(settings, environment="development")


def _system_token(world: World, client: FlaskClient) -> str:
    created = admin_service.create_system_client(world.core, world.organisation("School A"))
    response = client.post(
        "/api/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": str(created.client_id),
            "client_secret": created.client_secret,
        },
    )
    assert response.status_code == 200, response.get_json()
    token: str = response.get_json()["access_token"]
    return token


def _create_signal(world: World, client: FlaskClient) -> Any:
    return world.professional("Anna Jansen").post("/api/v1/signals", json=signal_body())


def _create_subscription(world: World, client: FlaskClient) -> Any:
    return client.post(
        "/api/v1/webhook-subscriptions",
        json={"url": "http://localhost:9/hook", "events": ["match.created"]},
        headers={"Authorization": f"Bearer {_system_token(world, client)}"},
    )


# How to make each operation answer 201. The test below walks the served OpenAPI document:
# an operation documented with a 201 that is missing here fails it.
CREATORS: dict[tuple[str, str], Callable[[World, FlaskClient], Any]] = {
    ("post", "/signals"): _create_signal,
    ("post", "/webhook-subscriptions"): _create_subscription,
}


def _operations_answering_201(client: FlaskClient) -> list[tuple[str, str]]:
    document = client.get("/api/v1/openapi.json").get_json()
    return sorted(
        (method, path)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "201" in operation.get("responses", {})
    )


def test_every_201_in_the_openapi_document_documents_a_location(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    operations = _operations_answering_201(client)
    assert operations == sorted(CREATORS)
    for method, path in operations:
        headers = document["paths"][path][method]["responses"]["201"]["headers"]
        assert "Location" in headers, (method, path)


@pytest.mark.parametrize(("method", "path"), sorted(CREATORS))
def test_every_201_carries_a_location_that_reads_back_the_created_object(
    world: World, client: FlaskClient, method: str, path: str
) -> None:
    response = CREATORS[(method, path)](world, client)
    assert response.status_code == 201, response.get_json()
    created_id = response.get_json()["id"]
    assert response.headers["Location"] == f"/api/v1{path}/{created_id}"


def test_an_idempotent_registration_and_its_replay_carry_the_same_location(
    world: World,
) -> None:
    api = world.professional("Anna Jansen")
    headers = {"Idempotency-Key": "attempt-1"}
    first = api.post("/api/v1/signals", json=signal_body(), headers=headers)
    again = api.post("/api/v1/signals", json=signal_body(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    expected = f"/api/v1/signals/{first.get_json()['id']}"
    assert first.headers["Location"] == again.headers["Location"] == expected


def test_a_duplicate_signal_names_the_existing_one_in_the_body_and_location(
    world: World,
) -> None:
    api = world.professional("Anna Jansen")
    existing = api.signal(CHILD_BSN)
    response = api.post("/api/v1/signals", json=signal_body(CHILD_BSN))
    assert response.status_code == 409
    body = response.get_json()
    assert body["existingSignalId"] == existing["id"]
    assert response.headers["Location"] == f"/api/v1/signals/{existing['id']}"
    assert api.get(response.headers["Location"]).status_code == 200


def test_another_professionals_signal_on_the_child_is_no_duplicate_and_is_not_named(
    world: World,
) -> None:
    anna = world.professional("Anna Jansen")
    bert = world.professional("Bert Bakker", "Team B", "jeugdhulp")
    anna.signal(CHILD_BSN)
    response = bert.post("/api/v1/signals", json=signal_body(CHILD_BSN))
    assert response.status_code == 201


def _problem_answers(world: World, client: FlaskClient) -> list[Any]:
    api = world.professional("Anna Jansen")
    api.signal(CHILD_BSN)
    return [
        api.post("/api/v1/signals", json={"bsn": "x"}),  # 400
        client.get("/api/v1/signals"),  # 401
        api.get("/api/v1/statistics"),  # 403
        api.get("/api/v1/signals/00000000-0000-4000-8000-000000000000"),  # 404 (domain)
        api.get("/api/v1/no-such-thing"),  # 404 (routing)
        api.put("/api/v1/signals"),  # 405
        api.post("/api/v1/signals", json=signal_body(CHILD_BSN)),  # 409
        api.post("/api/v1/signals", data="bsn=1", content_type="text/plain"),  # 415
    ]


def test_problem_titles_are_the_http_reason_phrase_whoever_raised_them(
    world: World, client: FlaskClient
) -> None:
    answers = _problem_answers(world, client)
    assert [a.status_code for a in answers] == [400, 401, 403, 404, 404, 405, 409, 415]
    for answer in answers:
        body = answer.get_json()
        assert answer.mimetype == "application/problem+json"
        assert body["title"] == HTTPStatus(answer.status_code).phrase, body


def test_everyone_informed_with_a_postponement_is_refused_with_the_postponement_named(
    world: World,
) -> None:
    api = world.professional("Anna Jansen")
    response = api.post(
        "/api/v1/signals",
        json={
            "bsn": CHILD_BSN,
            "birthDate": "2012-01-01",
            "informatieplicht": {
                "childInformed": True,
                "parentsInformed": True,
                "postponement": POSTPONEMENT,
            },
        },
    )
    assert response.status_code == 400
    assert response.get_json()["invalidParams"] == [
        {
            "name": "informatieplicht.postponement",
            "reason": "The child and the parents are both informed, so there is nothing to "
            "postpone: remove the postponement, or say who is not informed yet.",
        }
    ]


def test_a_patch_may_not_leave_everyone_informed_and_a_postponement_standing(
    world: World,
) -> None:
    api: ApiClient = world.professional("Anna Jansen")
    created = api.post(
        "/api/v1/signals",
        json={
            "bsn": SIBLING_BSN,
            "birthDate": "2012-01-01",
            "informatieplicht": {"childInformed": True, "postponement": POSTPONEMENT},
        },
    )
    assert created.status_code == 201, created.get_json()
    path = f"/api/v1/signals/{created.get_json()['id']}"
    kept = api.patch(path, json={"informatieplicht": {"parentsInformed": True}})
    assert kept.status_code == 400
    assert [p["name"] for p in kept.get_json()["invalidParams"]] == [
        "informatieplicht.postponement"
    ]
    sent = api.patch(
        path,
        json={"informatieplicht": {"parentsInformed": True, "postponement": POSTPONEMENT}},
    )
    assert sent.status_code == 400
    done = api.patch(
        path, json={"informatieplicht": {"parentsInformed": True, "postponement": None}}
    )
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["informatieplicht"]["postponed"] is False


def test_a_duplicate_caught_by_the_unique_index_still_names_the_existing_signal(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race of two registrations at once: the second's check sees nothing, its insert
    hits the partial unique index. Simulated by hiding the caller's active signals from
    the check, so the real database refuses the row."""
    api = world.professional("Anna Jansen")
    existing = api.signal(CHILD_BSN)
    original = SqlMatchStore.surroundings

    def without_own(self: SqlMatchStore, *args: Any) -> Surroundings:
        found = original(self, *args)
        others = [s for s in found.active if s.professional_id != api.professional_id]
        return Surroundings(others, found.children_with_history)

    monkeypatch.setattr(SqlMatchStore, "surroundings", without_own)
    response = api.post("/api/v1/signals", json=signal_body(CHILD_BSN))
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["existingSignalId"] == existing["id"]
    assert response.headers["Location"] == f"/api/v1/signals/{existing['id']}"
