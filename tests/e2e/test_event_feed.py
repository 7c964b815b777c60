"""The change feed `GET /api/v1/events` (contract sections 7 and 9): a system client reads its
organisation's events, ids only, oldest first, after the last one it has seen, and never
misses one, however late a transaction commits."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import (
    CHILD_BSN,
    OTHER_CHILD_BSN,
    SIBLING_BSN,
    START,
    ApiClient,
    FakeClock,
    World,
)
from tests.notifications.conftest import make_worker, verified_events
from tests.servers import http_receiver
from verwijsindex.config import Settings
from verwijsindex.models import FeedEventRow
from verwijsindex.repository import FeedEntry
from verwijsindex.services import Core
from verwijsindex.services import admin as admin_service
from verwijsindex.services.auth import personal_token
from verwijsindex.services.lifecycle import run_maintenance

EVENTS = "/api/v1/events"
BASE_URL = "https://verwijsindex.example.nl"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Development mode (a webhook receiver on http://127.0.0.1) and a public base URL."""
    return replace(settings, environment="development", base_url=BASE_URL)


@dataclass
class System:
    """A school or care system reading its organisation's change feed."""

    http: FlaskClient
    client_id: str
    secret: str
    token: str = ""

    def __post_init__(self) -> None:
        self.sign_in()

    def sign_in(self) -> None:
        """A fresh token (after the tests moved the clock past the old one's hour)."""
        response = self.http.post(
            "/api/v1/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.secret,
            },
        )
        assert response.status_code == 200, response.get_json()
        self.token = response.get_json()["access_token"]

    def read(self, path: str = EVENTS, **query: str) -> Any:
        return self.http.get(
            path, query_string=query, headers={"Authorization": f"Bearer {self.token}"}
        )

    def events(self, **query: str) -> dict[str, Any]:
        response = self.read(**query)
        assert response.status_code == 200, response.get_json()
        page: dict[str, Any] = response.get_json()
        return page

    def subscribe(self, url: str) -> str:
        response = self.http.post(
            "/api/v1/webhook-subscriptions",
            json={"url": url, "events": ["match.created", "match.changed",
                                          "regisseur.designated", "signal.archived"]},
            headers={"Authorization": f"Bearer {self.token}"},
        )  # fmt: skip
        assert response.status_code == 201, response.get_json()
        secret: str = response.get_json()["secret"]
        return secret


def system_of(world: World, client: FlaskClient, organisation: str) -> System:
    created = admin_service.create_system_client(world.core, world.organisation(organisation))
    return System(client, str(created.client_id), created.client_secret)


def match_between(first: ApiClient, second: ApiClient, child: str = CHILD_BSN) -> str:
    """A client match on `child` (no parents named, so children never form a family)."""
    first.signal(child)
    match_id: str = second.signal(child)["matches"][0]["id"]
    return match_id


def test_a_match_is_in_the_feed_of_each_organisation_involved_and_of_no_other(
    world: World, client: FlaskClient
) -> None:
    school, team = system_of(world, client, "School A"), system_of(world, client, "Team B")
    sportclub = system_of(world, client, "Sportclub C")
    anna = world.professional("Anna Jansen", "School A")
    bram = world.professional("Bram Bakker", "Team B", "jeugdhulp")

    match_id = match_between(anna, bram)

    # No organisation has a webhook subscription: the feed does not depend on one.
    [seen_by_school] = school.events()["items"]
    assert seen_by_school["type"] == "match.created"
    assert seen_by_school["data"] == {
        "matchId": match_id,
        "matchType": "client",
        "professionalIds": [str(anna.professional_id)],  # its own professional only
    }
    assert set(seen_by_school) == {"id", "type", "occurredAt", "data"}
    assert datetime.fromisoformat(seen_by_school["occurredAt"]) == START
    [seen_by_team] = team.events()["items"]
    assert seen_by_team["data"]["professionalIds"] == [str(bram.professional_id)]
    assert seen_by_team["id"] != seen_by_school["id"]
    assert sportclub.events() == {"items": [], "next": None}


def test_the_feed_holds_what_the_webhooks_are_sent_in_the_order_it_happened(
    world: World, client: FlaskClient, core: Core
) -> None:
    school = system_of(world, client, "School A")
    anna = world.professional("Anna Jansen", "School A")
    bram = world.professional("Bram Bakker", "Team B", "jeugdhulp")
    with http_receiver() as receiver:
        secret = school.subscribe(receiver.url)
        mine = anna.signal(CHILD_BSN)
        match_id = bram.signal(CHILD_BSN)["matches"][0]["id"]
        body = {"professionalId": str(bram.professional_id)}
        assert anna.put(f"/api/v1/matches/{match_id}/regisseur", json=body).status_code == 200
        assert anna.delete(f"/api/v1/signals/{mine['id']}").status_code == 204
        make_worker(core).run_until_idle()
        delivered = verified_events(receiver, secret)

    items = school.events()["items"]

    assert [e["type"] for e in items] == [
        "match.created",
        "regisseur.designated",
        "match.changed",  # closing dissolved the match ...
        "signal.archived",  # ... and archived the signal, in one transaction
    ]
    # Each event once, with the very `data` the subscribed webhook was sent.
    assert len(delivered) == len(items)
    assert {e["type"]: e["data"] for e in items} == {e["type"]: e["data"] for e in delivered}
    assert items[2]["data"]["dissolved"] is True


def test_the_feed_pages_after_the_last_event_seen_and_ends_with_next_null(
    world: World, client: FlaskClient
) -> None:
    school = system_of(world, client, "School A")
    anna = world.professional("Anna Jansen", "School A")
    bram = world.professional("Bram Bakker", "Team B", "jeugdhulp")
    matches = [match_between(anna, bram, child) for child in (CHILD_BSN, SIBLING_BSN)]
    matches.append(match_between(anna, bram, OTHER_CHILD_BSN))

    first = school.events(pageSize="2")
    assert [e["data"]["matchId"] for e in first["items"]] == matches[:2]
    assert first["next"].startswith(f"{BASE_URL}{EVENTS}?")
    query = {k: v for k, [v] in parse_qs(urlsplit(first["next"]).query).items()}
    assert query == {"after": first["items"][1]["id"], "pageSize": "2"}
    second = school.events(**query)
    assert [e["data"]["matchId"] for e in second["items"]] == matches[2:]
    assert second["next"] is None

    last = second["items"][-1]["id"]
    assert school.events(after=last) == {"items": [], "next": None}
    anna.delete(f"/api/v1/signals/{anna.get('/api/v1/signals').get_json()['items'][0]['id']}")
    later = school.events(after=last)["items"]
    assert later and later[0]["type"] in ("match.changed", "signal.archived")
    assert last not in [e["id"] for e in later]


def test_maintenance_purges_events_after_30_days_and_an_expired_cursor_is_gone(
    world: World, client: FlaskClient, core: Core, clock: FakeClock
) -> None:
    school, team = system_of(world, client, "School A"), system_of(world, client, "Team B")
    anna = world.professional("Anna Jansen", "School A")
    bram = world.professional("Bram Bakker", "Team B", "jeugdhulp")
    match_between(anna, bram, CHILD_BSN)
    clock.advance(days=20)
    for person in (anna, bram):
        person.token = personal_token(core, person.professional_id)
    younger = match_between(anna, bram, SIBLING_BSN)
    clock.advance(days=11)
    school.sign_in()
    [old, young] = school.events()["items"]  # the team's feed is never read before the purge

    report = run_maintenance(core)

    assert report.feed_events_purged == 2  # the first match's, for each organisation
    assert [e["data"]["matchId"] for e in school.events()["items"]] == [younger]
    team.sign_in()
    assert [e["data"]["matchId"] for e in team.events()["items"]] == [younger]
    gone = school.read(after=old["id"])
    assert gone.status_code == 410
    assert gone.mimetype == "application/problem+json"
    assert "without `after`" in gone.get_json()["detail"]
    assert school.events(after=young["id"]) == {"items": [], "next": None}
    assert run_maintenance(core).feed_events_purged == 0


def test_only_a_system_client_reads_the_feed(world: World, client: FlaskClient) -> None:
    anna = world.professional("Anna Jansen", "School A")

    assert anna.get(EVENTS).status_code == 403  # a personal token
    anonymous = client.get(EVENTS)
    assert anonymous.status_code == 401
    assert anonymous.mimetype == "application/problem+json"


def test_a_malformed_cursor_or_page_size_is_a_400_naming_each(
    world: World, client: FlaskClient
) -> None:
    school = system_of(world, client, "School A")

    response = school.read(after="not-an-event", pageSize="101")

    assert response.status_code == 400
    names = {p["name"] for p in response.get_json()["invalidParams"]}
    assert names == {"after", "pageSize"}
    assert school.read(cursor="x").status_code == 400  # not a parameter of this list


def test_an_event_of_another_organisation_is_no_cursor(world: World, client: FlaskClient) -> None:
    school, team = system_of(world, client, "School A"), system_of(world, client, "Team B")
    match_between(
        world.professional("Anna Jansen", "School A"),
        world.professional("Bram Bakker", "Team B", "jeugdhulp"),
    )
    [theirs] = team.events()["items"]

    assert school.read(after=theirs["id"]).status_code == 410
    assert school.read(after=str(uuid.uuid4())).status_code == 410


def test_a_read_that_hands_out_events_is_audited_and_an_empty_poll_is_not(
    world: World, client: FlaskClient, core: Core
) -> None:
    school = system_of(world, client, "School A")
    organisation_id = world.organisation("School A")

    def feed_reads() -> list[tuple[str, uuid.UUID | None, str]]:
        with core.transaction(write=False) as tx:
            found = tx.records.audit_events(
                since=None, until=None, actor=None, object_id=organisation_id,
                before_seq=None, limit=100,
            )  # fmt: skip
            return [
                (r.action, r.on_behalf_of, r.related_ids)
                for r in found
                if r.action.endswith("event-feed:read")
            ]

    assert school.events()["items"] == []
    assert feed_reads() == []
    match_id = match_between(
        world.professional("Anna Jansen", "School A"),
        world.professional("Bram Bakker", "Team B", "jeugdhulp"),
    )
    school.events()

    [(action, client_id, related_ids)] = feed_reads()
    assert action == "api:event-feed:read"
    assert client_id == uuid.UUID(school.client_id)
    assert match_id in related_ids.split()


def test_the_openapi_document_describes_the_feed_for_systems(client: FlaskClient) -> None:
    operation = client.get("/api/v1/openapi.json").get_json()["paths"]["/events"]["get"]

    assert {"200", "400", "401", "403", "410"} <= set(operation["responses"])
    parameters = [p.get("name") or p.get("$ref") for p in operation.get("parameters", [])]
    assert "after" in parameters and "pageSize" in parameters
    assert "#/components/parameters/ProfessionalId" not in parameters


# --- a late commit never lands behind a cursor -------------------------------------------------


@pytest.mark.postgres_only
def test_an_event_committed_late_is_read_after_the_cursor_that_passed_its_number(
    world: World, client: FlaskClient, core: Core
) -> None:
    """Transaction 1 writes an event and stays open; transaction 2 writes one (a higher
    number) and commits. A read then returns nothing of transaction 1, and a cursor past
    its number; after transaction 1 commits, reading after that cursor returns its event.
    (SQLite needs no such test: its writers are serial, so numbers are in commit order.)"""
    school = system_of(world, client, "School A")
    organisation_id = world.organisation("School A")
    ids = {name: str(uuid.uuid4()) for name in ("before", "early", "late")}
    name_of = {v: k for k, v in ids.items()}

    def entry(name: str) -> list[FeedEntry]:
        return [FeedEntry(organisation_id, "match.created", {"matchId": ids[name]})]

    def names(page: dict[str, Any]) -> list[str]:
        return [name_of[e["data"]["matchId"]] for e in page["items"]]

    with core.transaction(write=True) as tx:
        tx.feed.append(entry("before"), tx.now)
        tx.commit()
    with core.transaction(write=True) as tx1, core.transaction(write=True) as tx2:
        tx1.feed.append(entry("late"), tx1.now)
        tx2.feed.append(entry("early"), tx2.now)
        tx2.commit()

        meanwhile = school.events()

        tx1.commit()
    assert names(meanwhile) == ["before", "early"]
    cursor = meanwhile["items"][-1]["id"]

    after = school.events(after=cursor)

    assert names(after) == ["late"]
    with core.transaction(write=False) as tx:
        rows = tx.uow.session.execute(
            select(FeedEventRow.data, FeedEventRow.seq, FeedEventRow.position)
        ).all()
    places = {name_of[json.loads(data)["matchId"]]: (seq, place) for data, seq, place in rows}
    # Written before "early", placed after it: the read by number alone would have lost it.
    assert places["late"][0] < places["early"][0]
    assert places["late"][1] > places["early"][1]
