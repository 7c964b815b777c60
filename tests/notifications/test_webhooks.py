"""Webhooks (contract section 7): system clients subscribe; deliveries follow Standard
Webhooks, verified here by the public `standardwebhooks` library on the receiving side;
payloads carry ids only; failures are retried with backoff for at least 24 hours."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import CHILD_BSN, PARENT_BSN, SIBLING_BSN, FakeClock, World
from tests.notifications.conftest import (
    System,
    assert_none_in,
    forbidden_strings,
    make_worker,
    system_of,
    verified_events,
)
from tests.servers import HttpReceiver, free_port, http_receiver
from verwijsindex.services import Core
from verwijsindex.services.delivery import Worker

ALL = ["match.created", "match.changed", "regisseur.designated", "signal.archived"]
SUBSCRIPTIONS = "/api/v1/webhook-subscriptions"


@pytest.fixture
def webhook_worker(core: Core) -> Worker:
    return make_worker(core)


def school_system(world: World, client: FlaskClient, core: Core) -> System:
    return system_of(client, core, world.organisation("Basisschool De Linde"))


def test_a_match_reaches_the_subscribed_system_signed_and_with_ids_only(
    world: World, client: FlaskClient, core: Core, receiver: HttpReceiver, webhook_worker: Worker
) -> None:
    system = school_system(world, client, core)
    secret = system.subscribe(receiver.url, ALL)["secret"]
    anna = world.professional("Anna de Vries", "Basisschool De Linde")
    bram = world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp")
    anna.signal(CHILD_BSN, birth_date="2014-05-01", parents=[PARENT_BSN])
    match_id = bram.signal(CHILD_BSN, birth_date="2014-05-01", parents=[PARENT_BSN])["matches"][0][
        "id"
    ]

    outcomes = webhook_worker.run_until_idle()

    assert [o.status for o in outcomes] == ["delivered"]
    [event] = verified_events(receiver, secret)
    assert event["type"] == "match.created"
    # Only this system's own professional, not the other organisation's.
    assert event["data"] == {
        "matchId": match_id,
        "matchType": "client",
        "professionalIds": [str(anna.professional_id)],
    }
    [request] = receiver.requests
    assert request.headers["webhook-id"] == str(outcomes[0].delivery_id)
    assert_none_in(
        [request.body.decode(), str(request.headers)],
        forbidden_strings(names=["Anna", "Bram", "Linde"], birth_dates=["2014-05-01"]),
    )


def test_other_organisations_systems_hear_nothing(
    world: World, client: FlaskClient, core: Core, receiver: HttpReceiver, webhook_worker: Worker
) -> None:
    outsider = system_of(
        client, core, world.organisation("Sportclub", "maatschappelijke_ondersteuning")
    )
    outsider.subscribe(receiver.url, ALL)
    world.professional("Anna de Vries").signal(CHILD_BSN)
    world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp").signal(CHILD_BSN)

    assert webhook_worker.run_until_idle() == []
    assert receiver.requests == []


def test_regisseur_archiving_and_dissolving_are_announced_to_those_who_asked(
    world: World, client: FlaskClient, core: Core, receiver: HttpReceiver, webhook_worker: Worker
) -> None:
    system = school_system(world, client, core)
    secret = system.subscribe(
        receiver.url, ["regisseur.designated", "signal.archived", "match.changed"]
    )["secret"]
    anna = world.professional("Anna de Vries", "Basisschool De Linde")
    bram = world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp")
    mine = anna.signal(CHILD_BSN)
    match_id = bram.signal(CHILD_BSN)["matches"][0]["id"]
    body = {"professionalId": str(bram.professional_id)}
    assert anna.put(f"/api/v1/matches/{match_id}/regisseur", json=body).status_code == 200
    assert anna.delete(f"/api/v1/signals/{mine['id']}").status_code == 204

    webhook_worker.run_until_idle()

    events = {e["type"]: e["data"] for e in verified_events(receiver, secret)}
    assert "match.created" not in events  # not subscribed
    assert events["regisseur.designated"] == {
        "matchId": match_id,
        "regisseurId": str(bram.professional_id),
        "professionalIds": [str(anna.professional_id)],
    }
    assert events["signal.archived"] == {
        "signalId": mine["id"],
        "professionalIds": [str(anna.professional_id)],
    }
    assert events["match.changed"]["matchId"] == match_id
    assert events["match.changed"]["dissolved"] is True


def test_a_receiver_answering_500_gets_the_same_message_again_later(
    world: World,
    client: FlaskClient,
    core: Core,
    clock: FakeClock,
    receiver: HttpReceiver,
    webhook_worker: Worker,
) -> None:
    system = school_system(world, client, core)
    created = system.subscribe(receiver.url, ALL)
    receiver.script = [500]
    world.professional("Anna de Vries", "Basisschool De Linde").signal(CHILD_BSN)
    world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp").signal(CHILD_BSN)

    [first] = webhook_worker.run_until_idle()
    assert (first.status, first.reason) == ("pending", "HTTP 500")
    assert webhook_worker.run_until_idle() == []  # not due yet: backoff
    pending = deliveries(system, created["id"])
    assert pending[0]["attempts"] == 1 and pending[0]["lastError"] == "HTTP 500"

    clock.advance(minutes=2)
    [second] = webhook_worker.run_until_idle()

    assert second.status == "delivered"
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert len(receiver.requests) == 2 and ids == {str(first.delivery_id)}
    verified_events(receiver, created["secret"])
    assert deliveries(system, created["id"])[0]["status"] == "delivered"


def test_a_receiver_that_was_down_gets_the_message_when_it_is_back(
    world: World, client: FlaskClient, core: Core, clock: FakeClock, webhook_worker: Worker
) -> None:
    port = free_port()
    system = school_system(world, client, core)
    created = system.subscribe(f"http://127.0.0.1:{port}/hooks", ALL)
    world.professional("Anna de Vries", "Basisschool De Linde").signal(CHILD_BSN)
    world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp").signal(CHILD_BSN)

    [down] = webhook_worker.run_until_idle()
    assert (down.status, down.reason) == ("pending", "connection refused")

    with http_receiver(port) as back:
        clock.advance(minutes=2)
        [up] = webhook_worker.run_until_idle()
        assert up.status == "delivered"
        [event] = verified_events(back, created["secret"])
        assert event["type"] == "match.created"


def test_a_receiver_failing_for_a_day_is_retried_with_backoff_then_marked_failed(
    world: World,
    client: FlaskClient,
    core: Core,
    clock: FakeClock,
    receiver: HttpReceiver,
    webhook_worker: Worker,
) -> None:
    system = school_system(world, client, core)
    created = system.subscribe(receiver.url, ["match.created"])
    receiver.status = 503
    world.professional("Anna de Vries", "Basisschool De Linde").signal(CHILD_BSN)
    world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp").signal(CHILD_BSN)
    queued = clock.now
    attempts_at = []
    status = "pending"
    while status == "pending":
        for outcome in webhook_worker.run_until_idle():
            attempts_at.append(clock.now)
            status = outcome.status
        clock.advance(minutes=5)
        assert clock.now - queued < timedelta(days=3), "never gave up"

    assert status == "failed"
    assert attempts_at[-1] - queued >= timedelta(hours=24)
    gaps = [b - a for a, b in itertools.pairwise(attempts_at)]
    assert gaps[0] < timedelta(minutes=10) and max(gaps) >= timedelta(minutes=30)  # backoff
    assert len(attempts_at) < 60  # not hammered every few minutes for a day
    system.token = token_again(client, core, system)
    [failed] = deliveries(system, created["id"], status="failed")
    assert failed["attempts"] == len(attempts_at) and failed["lastError"] == "HTTP 503"
    assert failed["eventType"] == "match.created" and failed["finishedAt"] is not None


def test_a_receiver_answering_410_is_unsubscribed(
    world: World, client: FlaskClient, core: Core, receiver: HttpReceiver, webhook_worker: Worker
) -> None:
    system = school_system(world, client, core)
    created = system.subscribe(receiver.url, ALL)
    receiver.status = 410
    world.professional("Anna de Vries", "Basisschool De Linde").signal(
        CHILD_BSN, parents=[PARENT_BSN]
    )
    world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp").signal(
        CHILD_BSN, parents=[PARENT_BSN]
    )

    [gone] = webhook_worker.run_until_idle()
    assert gone.status == "failed"
    shown = client.get(f"{SUBSCRIPTIONS}/{created['id']}", headers=system.headers()).get_json()
    assert shown["disabledAt"] is not None

    world.professional("Carla Claes", "Basisschool De Linde").signal(
        SIBLING_BSN, parents=[PARENT_BSN]
    )
    assert webhook_worker.run_until_idle() == []
    assert len(receiver.requests) == 1


# --- the subscription API ------------------------------------------------------------------


def test_a_subscription_is_listed_and_read_without_its_secret_and_can_be_deleted(
    world: World, client: FlaskClient, core: Core, receiver: HttpReceiver
) -> None:
    system = school_system(world, client, core)
    created = system.subscribe(receiver.url, ["match.created"])
    assert created["secret"].startswith("whsec_")

    listed = client.get(SUBSCRIPTIONS, headers=system.headers()).get_json()
    assert [s["id"] for s in listed["items"]] == [created["id"]]
    assert "secret" not in listed["items"][0] and listed["next"] is None
    one = client.get(f"{SUBSCRIPTIONS}/{created['id']}", headers=system.headers())
    assert one.status_code == 200 and one.get_json()["events"] == ["match.created"]

    assert (
        client.delete(f"{SUBSCRIPTIONS}/{created['id']}", headers=system.headers()).status_code
        == 204
    )
    assert (
        client.get(f"{SUBSCRIPTIONS}/{created['id']}", headers=system.headers()).status_code == 404
    )


def test_another_systems_subscription_is_not_found(
    world: World, client: FlaskClient, core: Core, receiver: HttpReceiver
) -> None:
    mine = school_system(world, client, core)
    theirs = system_of(client, core, world.organisation("Wijkteam Noord", "jeugdhulp"))
    created = theirs.subscribe(receiver.url, ALL)
    path = f"{SUBSCRIPTIONS}/{created['id']}"

    assert client.get(path, headers=mine.headers()).status_code == 404
    assert client.get(f"{path}/deliveries", headers=mine.headers()).status_code == 404
    assert client.delete(path, headers=mine.headers()).status_code == 404
    assert client.get(path, headers=theirs.headers()).status_code == 200


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"url": "http://hooks.example.nl/x", "events": ["match.created"]}, ["url"]),
        ({"url": "ftp://hooks.example.nl/x", "events": ["match.created"]}, ["url"]),
        ({"url": "https://hooks.example.nl/x", "events": ["match.eaten"]}, ["events[0]"]),
        ({"url": "https://hooks.example.nl/x", "events": []}, ["events"]),
        ({"url": "not a url", "events": ["nope"]}, ["url", "events[0]"]),
        ({"url": "https://hooks.example.nl/x"}, ["events"]),
        ({"url": "https://hooks.example.nl/x", "events": ["match.created"], "bsn": "1"}, ["bsn"]),
    ],
)
def test_a_bad_subscription_is_a_400_listing_every_problem(
    world: World, client: FlaskClient, core: Core, body: dict[str, Any], names: list[str]
) -> None:
    system = school_system(world, client, core)
    response = client.post(SUBSCRIPTIONS, json=body, headers=system.headers())
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert sorted(p["name"] for p in response.get_json()["invalidParams"]) == sorted(names)


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ({"status": "lost"}, "status"),
        ({"pageSize": "0"}, "pageSize"),
        ({"pageSize": "101"}, "pageSize"),
        ({"cursor": "not-ours"}, "cursor"),
        ({"subscriptionId": "x"}, "subscriptionId"),
    ],
)
def test_a_bad_deliveries_query_is_a_400_naming_the_parameter(
    world: World,
    client: FlaskClient,
    core: Core,
    receiver: HttpReceiver,
    query: dict[str, str],
    name: str,
) -> None:
    system = school_system(world, client, core)
    created = system.subscribe(receiver.url, ALL)
    response = client.get(
        f"{SUBSCRIPTIONS}/{created['id']}/deliveries", query_string=query, headers=system.headers()
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert [p["name"] for p in response.get_json()["invalidParams"]] == [name]


def test_production_refuses_http_and_private_receivers(
    world: World, client: FlaskClient, core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    monkeypatch.setattr(core, "settings", replace(core.settings, environment="production"))
    system = school_system(world, client, core)
    for url in ("http://127.0.0.1:8000/hooks", "https://10.0.0.7/hooks", "https://localhost/x"):
        response = client.post(
            SUBSCRIPTIONS, json={"url": url, "events": ALL}, headers=system.headers()
        )
        assert response.status_code == 400, url
    ok = client.post(
        SUBSCRIPTIONS,
        json={"url": "https://hooks.example.nl/verwijsindex", "events": ALL},
        headers=system.headers(),
    )
    assert ok.status_code == 201


def test_subscriptions_are_for_systems_not_people(world: World, client: FlaskClient) -> None:
    anna = world.professional("Anna de Vries")
    response = anna.post(SUBSCRIPTIONS, json={"url": "https://hooks.example.nl/x", "events": ALL})
    assert response.status_code == 403
    assert client.get(SUBSCRIPTIONS).status_code == 401


# --- helpers -------------------------------------------------------------------------------


def deliveries(system: System, subscription_id: str, **query: str) -> list[dict[str, Any]]:
    response = system.http.get(
        f"{SUBSCRIPTIONS}/{subscription_id}/deliveries",
        query_string=query,
        headers=system.headers(),
    )
    assert response.status_code == 200, response.get_json()
    items: list[dict[str, Any]] = response.get_json()["items"]
    return items


def token_again(client: FlaskClient, core: Core, system: System) -> str:
    """A system token after the clock moved past the old one's hour."""
    del client
    return core.tokens.issue("system", system.client_id, str(system.client_id), core.now())
