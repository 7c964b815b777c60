"""POST /api/v1/erasure-requests: every signal on a child removed at once, archive included,
at the person's request (art. 7.1.4.6 lid 1, 7.1.5; AVG 16, 17, 21; contract section 10)."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
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
)
from tests.e2e.test_auth import bearer, system_token
from tests.e2e.test_privacy import database_contents, forbidden_forms
from verwijsindex.models import AuditEventRow, FeedEventRow, OutboxRow, SignalParentRow, SignalRow
from verwijsindex.services import Core
from verwijsindex.services.audit_log import verify_audit_log

URL = "/api/v1/erasure-requests"
INVALID_BSN = "123456789"  # fails the elfproef


@dataclass
class Scenario:
    officer: ApiClient
    anna: ApiClient
    bert: ApiClient
    carla: ApiClient
    dirk: ApiClient
    anna_signal: str  # on the child, parent named: in a client and a family match
    bert_signal: str  # on the child: in the client match
    carla_signal: str  # on the sibling, same parent: in the family match, stays
    dirk_signal: str  # on the child, archived
    client_match: str
    family_match: str


def scenario(world: World, clock: FakeClock) -> Scenario:
    """Each signal a minute after the one before, so the removed list has one order."""
    officer = world.professional("Pia Privacy", "Gemeente P", roles=("privacy_officer",))
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    carla = world.professional("Carla Claes", "Huisartsen C", "gezondheidszorg")
    dirk = world.professional("Dirk Dekker", "Sportclub D", "maatschappelijke_ondersteuning")
    dirk_signal = dirk.signal(CHILD_BSN)["id"]
    clock.advance(minutes=1)
    assert dirk.delete(f"/api/v1/signals/{dirk_signal}").status_code == 204
    anna_signal = anna.signal(CHILD_BSN, parents=[PARENT_BSN])["id"]
    clock.advance(minutes=1)
    carla_answer = carla.signal(SIBLING_BSN, parents=[PARENT_BSN])
    [family_match] = [m["id"] for m in carla_answer["matches"]]
    clock.advance(minutes=1)
    bert_answer = bert.signal(CHILD_BSN)
    [client_match] = [m["id"] for m in bert_answer["matches"] if m["type"] == "client"]
    return Scenario(
        officer,
        anna,
        bert,
        carla,
        dirk,
        anna_signal,
        bert_answer["id"],
        carla_answer["id"],
        dirk_signal,
        client_match,
        family_match,
    )


def erase(api: ApiClient, bsn: Any = CHILD_BSN, reason: Any = "objection") -> Any:
    return api.post(URL, json={"bsn": bsn, "reason": reason})


def audit_rows(core: Core) -> list[AuditEventRow]:
    with core.transaction(write=False) as tx:
        rows = list(tx.uow.session.scalars(select(AuditEventRow).order_by(AuditEventRow.seq)))
        tx.uow.session.expunge_all()
    return rows


def stored_signal_ids(core: Core) -> set[str]:
    with core.transaction(write=False) as tx:
        return {str(i) for i in tx.uow.session.scalars(select(SignalRow.id))}


def test_every_signal_on_the_child_active_and_archived_is_removed_and_listed(
    world: World, clock: FakeClock, core: Core
) -> None:
    s = scenario(world, clock)
    response = erase(s.officer)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) == {"id", "removed", "matchesChanged"}
    assert body["removed"] == [
        {
            "signalId": s.dirk_signal,
            "organisation": "Sportclub D",
            "sector": "maatschappelijke_ondersteuning",
            "region": None,
            "status": "archived",
            "createdAt": "2026-11-23T09:30:00+00:00",
        },
        {
            "signalId": s.anna_signal,
            "organisation": "School A",
            "sector": "onderwijs",
            "region": None,
            "status": "active",
            "createdAt": "2026-11-23T09:31:00+00:00",
        },
        {
            "signalId": s.bert_signal,
            "organisation": "Jeugdteam B",
            "sector": "jeugdhulp",
            "region": None,
            "status": "active",
            "createdAt": "2026-11-23T09:33:00+00:00",
        },
    ]
    assert body["matchesChanged"] == 2

    assert stored_signal_ids(core) == {s.carla_signal}  # erased, not archived
    with core.transaction(write=False) as tx:
        assert list(tx.uow.session.scalars(select(SignalParentRow.signal_id))) == [
            uuid.UUID(s.carla_signal)
        ]
    for api, signal_id in (
        (s.anna, s.anna_signal),
        (s.bert, s.bert_signal),
        (s.dirk, s.dirk_signal),
    ):
        assert api.get(f"/api/v1/signals/{signal_id}").status_code == 404
    # Both matches dissolved: Carla's signal stands alone now.
    carla_now = s.carla.get(f"/api/v1/signals/{s.carla_signal}").get_json()
    assert carla_now["matches"] == []
    for match_id in (s.client_match, s.family_match):
        assert s.carla.get(f"/api/v1/matches/{match_id}").status_code == 404
    report = s.officer.post("/api/v1/subject-access-requests", json={"bsn": CHILD_BSN})
    assert report.get_json()["signals"] == []


def test_a_shrinking_match_keeps_its_other_members(world: World, clock: FakeClock) -> None:
    s = scenario(world, clock)
    erik = world.professional("Erik Ede", "Jeugdteam E", "jeugdhulp")
    erik_signal = erik.signal(OTHER_CHILD_BSN, parents=[PARENT_BSN])
    assert [m["id"] for m in erik_signal["matches"]] == [s.family_match]
    assert erase(s.officer, reason="unlawful").get_json()["matchesChanged"] == 2
    # Carla's and Erik's children still share a parent: the family match stays, smaller.
    family = s.carla.get(f"/api/v1/signals/{s.carla_signal}").get_json()["matches"]
    assert [m["id"] for m in family] == [s.family_match]
    members = s.carla.get(f"/api/v1/matches/{s.family_match}").get_json()
    text = json.dumps(members)
    assert "Erik" in text and "Carla" in text
    assert "Anna" not in text and "Bert" not in text


def test_the_removal_is_announced_as_any_removal_is_by_feed_and_webhook_events(
    world: World, clock: FakeClock, core: Core
) -> None:
    s = scenario(world, clock)

    def feed() -> list[tuple[str, str, dict[str, Any]]]:
        with core.transaction(write=False) as tx:
            rows = tx.uow.session.scalars(select(FeedEventRow).order_by(FeedEventRow.seq))
            return [(str(r.organisation_id), r.type, json.loads(r.data)) for r in rows]

    def mails() -> int:
        with core.transaction(write=False) as tx:
            return len(
                list(
                    tx.uow.session.scalars(select(OutboxRow.id).where(OutboxRow.channel == "email"))
                )
            )

    before, mails_before = len(feed()), mails()
    assert erase(s.officer).status_code == 200
    new = feed()[before:]
    changed = {(org, data.get("matchId")) for org, kind, data in new if kind == "match.changed"}
    # Whoever is left in a match hears of it, as after any erasure (Carla: her family match
    # dissolved); the removed signals' own authors are not told, as after any erasure.
    assert changed == {(str(s.carla.organisation_id), s.family_match)}
    assert all(data["dissolved"] for _, kind, data in new if kind == "match.changed")
    assert mails() == mails_before  # a shrinking or dissolving match mails nobody (section 7)
    text = json.dumps(new)
    assert CHILD_BSN not in text and "Anna" not in text


def test_the_request_is_audited_without_the_bsn_and_the_chain_still_verifies(
    world: World, clock: FakeClock, core: Core
) -> None:
    s = scenario(world, clock)
    body = erase(s.officer, reason="rectification").get_json()
    rows = audit_rows(core)
    [record] = [r for r in rows if r.action == "api:erasure-request:create"]
    assert record.outcome == "success"
    assert record.actor_id == s.officer.professional_id
    assert str(record.object_id) == body["id"]
    assert record.object_type == "erasure-request:rectification"
    assert record.subject_pseudonym is None
    removed = {r["signalId"] for r in body["removed"]}
    assert set(record.related_ids.split()) == removed
    erased = [r for r in rows if r.action == "api:signal:erase"]
    assert {str(r.object_id) for r in erased} == removed
    # Nothing about the child is left, so neither is its pseudonym anywhere in the log.
    assert all(r.subject_pseudonym is None for r in rows if str(r.object_id) in removed)
    assert verify_audit_log(core).ok

    contents = database_contents(core)
    for form in forbidden_forms(CHILD_BSN):
        assert form not in contents


def test_nothing_on_the_child_is_an_empty_answer_not_a_404(world: World, clock: FakeClock) -> None:
    s = scenario(world, clock)
    response = erase(s.officer, OTHER_CHILD_BSN)
    assert response.status_code == 200
    assert response.get_json()["removed"] == []
    assert response.get_json()["matchesChanged"] == 0
    assert len(erase(s.officer).get_json()["removed"]) == 3
    assert erase(s.officer).get_json()["removed"] == []  # asked again: nothing left


def test_a_signal_naming_the_person_as_a_parent_is_not_touched(
    world: World, clock: FakeClock, core: Core
) -> None:
    s = scenario(world, clock)
    response = erase(s.officer, PARENT_BSN)
    assert response.get_json()["removed"] == []
    assert len(stored_signal_ids(core)) == 4


def test_only_a_privacy_officer_in_person_may_ask_and_refusals_are_audited(
    world: World, clock: FakeClock, core: Core, client: FlaskClient
) -> None:
    s = scenario(world, clock)
    beheerder = world.professional("Bea Beheer", "Gemeente P", roles=("beheerder",))
    both = world.professional(
        "Olga Officier", "School A", roles=("professional", "privacy_officer")
    )
    system = bearer(system_token(client, core, both.organisation_id), both.professional_id)
    refusals = [
        erase(s.anna),
        erase(beheerder),
        client.post(URL, json={"bsn": CHILD_BSN, "reason": "objection"}, headers=system),
    ]
    for response in refusals:
        assert response.status_code == 403
        assert response.mimetype == "application/problem+json"
        assert CHILD_BSN not in response.get_data(as_text=True)
    assert "system token" in refusals[2].get_json()["detail"]
    assert len(stored_signal_ids(core)) == 4
    denied = [r for r in audit_rows(core) if r.action == "api:erasure-request:create"]
    assert [(r.outcome, r.actor_id, r.credential) for r in denied] == [
        ("denied", s.anna.professional_id, "personal"),
        ("denied", beheerder.professional_id, "personal"),
        ("denied", both.professional_id, "system"),
    ]
    assert all(r.subject_pseudonym is None for r in denied)
    assert client.post(URL, json={"bsn": CHILD_BSN, "reason": "objection"}).status_code == 401
    assert len(erase(both).get_json()["removed"]) == 3  # the same person, in person


@pytest.mark.parametrize("bad", [INVALID_BSN, "12345678", "1112223330", "111 222 333", 111222333])
def test_an_invalid_bsn_is_a_400_that_does_not_echo_it(world: World, bad: Any) -> None:
    officer = world.professional("Pia Privacy", "Gemeente P", roles=("privacy_officer",))
    response = erase(officer, bad)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert [p["name"] for p in response.get_json()["invalidParams"]] == ["bsn"]
    assert str(bad) not in response.get_data(as_text=True)


def test_an_unknown_or_missing_reason_and_unknown_fields_are_400_naming_each(
    world: World,
) -> None:
    officer = world.professional("Pia Privacy", "Gemeente P", roles=("privacy_officer",))
    unknown = erase(officer, reason="because")
    assert unknown.status_code == 400
    assert [p["name"] for p in unknown.get_json()["invalidParams"]] == ["reason"]
    both = officer.post(URL, json={"bsn": INVALID_BSN, "parentBsn": PARENT_BSN})
    assert both.status_code == 400
    names = sorted(p["name"] for p in both.get_json()["invalidParams"])
    assert names == ["bsn", "parentBsn", "reason"]
    for bsn in (INVALID_BSN, PARENT_BSN):
        assert bsn not in both.get_data(as_text=True)


def test_the_openapi_document_describes_the_operation(world: World) -> None:
    officer = world.professional("Pia Privacy", "Gemeente P", roles=("privacy_officer",))
    operation = officer.get("/api/v1/openapi.json").get_json()["paths"]["/erasure-requests"]["post"]
    assert {"200", "400", "401", "403"} <= set(operation["responses"])
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema


def test_no_bsn_or_unkeyed_hash_of_one_in_the_logs_the_database_or_the_answers(
    world: World, clock: FakeClock, core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # includes SQLAlchemy's statements and parameters
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    s = scenario(world, clock)
    s.officer.responses.clear()
    assert erase(s.officer, INVALID_BSN).status_code == 400
    assert erase(s.officer, reason="because").status_code == 400
    assert erase(s.anna).status_code == 403
    assert len(erase(s.officer).get_json()["removed"]) == 3
    logs = "\n".join(r.getMessage() for r in caplog.records).encode()
    assert b"DELETE" in logs, "SQL logging should have been captured"
    answers = b"\n".join(r.get_data() for api in (s.officer, s.anna) for r in api.responses[-4:])
    database = database_contents(core)
    for bsn in (CHILD_BSN, INVALID_BSN):
        for form in forbidden_forms(bsn):
            assert form not in logs, f"a form of {bsn} is in the logs"
            assert form not in database, f"a form of {bsn} is in the database"
            assert form not in answers, f"a form of {bsn} is in an answer"
