"""Mirrored signals of another region in this region's API (docs/federation.md, points 5-7;
contract section 11): the other region's professionals show in the match with name,
organisation, sector, contact and their region; they cannot be designated procesregisseur
here; the subject-access report lists their signals under the region that holds them, and a
local erasure removes the mirrored rows too."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import CHILD_BSN, PARENT_BSN, ApiClient, FakeClock, World
from tests.e2e.test_monitoring_api import regievoerder
from tests.federation_rows import mirror_signal
from verwijsindex.domain import Unauthenticated
from verwijsindex.models import FederatedSignalRow, ProfessionalRow, SignalRow
from verwijsindex.services import Core
from verwijsindex.services.auth import issue_personal_token, personal_token
from verwijsindex.services.web_auth import backfill_email_lookups


def _anna(world: World) -> ApiClient:
    return world.professional("Anna Jansen", "School A", "onderwijs")


def _participants(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in body["participants"]}


def test_a_mirrored_participant_shows_with_contact_and_region_in_the_match(
    world: World, core: Core
) -> None:
    anna = _anna(world)
    anna.signal(CHILD_BSN)
    mirrored = mirror_signal(core, CHILD_BSN)
    assert len(mirrored.match_ids) == 1
    (listed,) = anna.get("/api/v1/matches").get_json()["items"]
    one = anna.get(f"/api/v1/matches/{listed['id']}").get_json()
    for body in (listed, one):
        people = _participants(body)
        assert people["Anna Jansen"]["region"] is None
        remote = people["Rob Remote"]
        assert remote["region"] == "regio-b"
        assert remote["professionalId"] == str(mirrored.professional_id)
        assert remote["organisation"] == "Jeugdteam Regio B"
        assert remote["sector"] == "jeugdhulp"
        assert remote["email"] == "rob.remote@regio-b.example.org"
        assert remote["phone"] == "+31 6 9876 5432"


def test_the_openapi_document_describes_the_participants_region(client: FlaskClient) -> None:
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    region = schemas["Participant"]["properties"]["region"]
    assert region["type"] == "string" and region["nullable"] is True
    assert "region" in region["description"]
    responses = client.get("/api/v1/openapi.json").get_json()["paths"][
        "/matches/{match_id}/regisseur"
    ]["put"]["responses"]
    assert "409" in responses


def test_a_professional_of_another_region_cannot_be_designated_regisseur(
    world: World, core: Core
) -> None:
    anna = _anna(world)
    anna.signal(CHILD_BSN)
    mirrored = mirror_signal(core, CHILD_BSN)
    (match_id,) = mirrored.match_ids
    response = anna.put(
        f"/api/v1/matches/{match_id}/regisseur",
        json={"professionalId": str(mirrored.professional_id)},
    )
    assert response.status_code == 409
    assert response.content_type == "application/problem+json"
    detail = response.get_json()["detail"]
    assert "regio-b" in detail and "andere regio" in detail and "another region" in detail
    assert anna.get(f"/api/v1/matches/{match_id}").get_json()["regisseur"] is None
    # A local participant still can be designated.
    ok = anna.put(
        f"/api/v1/matches/{match_id}/regisseur", json={"professionalId": str(anna.professional_id)}
    )
    assert ok.status_code == 200
    assert ok.get_json()["regisseur"]["region"] is None


def test_an_archived_mirrored_signal_makes_history_available_once(world: World, core: Core) -> None:
    mirror_signal(core, CHILD_BSN, status="archived")
    anna = _anna(world)
    created = anna.signal(CHILD_BSN)
    assert created["historyAvailable"] is True
    assert created["matches"] == []
    history = anna.get(f"/api/v1/signals/{created['id']}/history")
    assert history.status_code == 200, history.get_json()
    [earlier] = history.get_json()["items"]
    assert (earlier["organisation"], earlier["region"]) == ("Jeugdteam Regio B", "regio-b")
    assert anna.get(f"/api/v1/signals/{created['id']}/history").status_code == 410  # once


def _count(core: Core, statement: Any) -> int:
    with core.transaction(write=False) as tx:
        return int(tx.uow.session.scalar(statement) or 0)


def test_mirrored_professionals_cannot_log_in_or_get_a_token(world: World, core: Core) -> None:
    mirrored = mirror_signal(core, CHILD_BSN)
    for issue in (personal_token, issue_personal_token):
        with pytest.raises(Unauthenticated):
            issue(core, mirrored.professional_id)
    # The backfill of e-mail lookups (people from before lookups existed) passes them by,
    # so a login by their address finds nobody.
    backfill_email_lookups(core)
    with core.transaction(write=False) as tx:
        proxy = tx.uow.session.get(ProfessionalRow, mirrored.professional_id)
        assert proxy is not None
        assert proxy.password_hash is None and proxy.email_lookup is None
        assert tx.web.login_record_by_email("rob.remote@regio-b.example.org") is None


def test_erasing_a_child_here_removes_the_mirrored_signals_on_it_too(
    world: World, core: Core
) -> None:
    anna = _anna(world)
    anna.signal(CHILD_BSN, parents=[PARENT_BSN])
    mirror_signal(core, CHILD_BSN, parents=(PARENT_BSN,))
    mirror_signal(core, CHILD_BSN, status="archived", name="Ria Remote", remote_ref="old")
    assert _count(core, select(func.count()).select_from(SignalRow)) == 3
    officer = world.professional("Pia Privacy", "Gemeente P", roles=("privacy_officer",))
    response = officer.post(
        "/api/v1/erasure-requests", json={"bsn": CHILD_BSN, "reason": "objection"}
    )
    assert response.status_code == 200, response.get_json()
    removed = {(r["organisation"], r["region"]) for r in response.get_json()["removed"]}
    assert removed == {("School A", None), ("Jeugdteam Regio B", "regio-b")}
    assert _count(core, select(func.count()).select_from(SignalRow)) == 0
    assert _count(core, select(func.count()).select_from(FederatedSignalRow)) == 0


def test_the_subject_access_report_lists_mirrored_signals_under_their_region(
    world: World, core: Core
) -> None:
    anna = _anna(world)
    anna.signal(CHILD_BSN)
    mirror_signal(core, CHILD_BSN)
    officer = world.professional("Pia Privacy", "Gemeente P", roles=("privacy_officer",))
    response = officer.post("/api/v1/subject-access-requests", json={"bsn": CHILD_BSN})
    assert response.status_code in (200, 201), response.get_json()
    body = response.get_json()
    signals = {(s["organisation"], s["region"]) for s in body["signals"]}
    assert signals == {("School A", None), ("Jeugdteam Regio B", "regio-b")}
    (match,) = body["matches"]
    participants = {(p["organisation"], p["region"]) for p in match["participants"]}
    assert participants == {("School A", None), ("Jeugdteam Regio B", "regio-b")}
    # As for this region's own: organisations, never the professionals' names (art. 15(4)).
    text = response.get_data(as_text=True)
    assert "Rob Remote" not in text and "rob.remote" not in text


def test_a_mirrored_signal_is_nobodys_own_here(world: World, core: Core) -> None:
    anna = _anna(world)
    anna.signal(CHILD_BSN)
    mirrored = mirror_signal(core, CHILD_BSN)
    assert anna.get(f"/api/v1/signals/{mirrored.signal_id}").status_code == 404
    assert anna.get(f"/api/v1/signals/{mirrored.signal_id}/history").status_code == 404
    own = anna.get("/api/v1/signals").get_json()["items"]
    assert str(mirrored.signal_id) not in {s["id"] for s in own}
    (match,) = anna.get("/api/v1/matches").get_json()["items"]
    assert str(mirrored.signal_id) not in match["mySignalIds"]


def test_the_regievoerder_sees_the_region_and_no_overdue_for_the_other_regions_participant(
    world: World, core: Core, clock: FakeClock
) -> None:
    anna = _anna(world)
    anna.signal(CHILD_BSN)
    (match_id,) = mirror_signal(core, CHILD_BSN).match_ids
    clock.advance(days=30)
    anna.token = personal_token(core, anna.professional_id)
    assert anna.put(f"/api/v1/matches/{match_id}/follow-up").status_code == 200
    rita = regievoerder(world, "Rita Ede")
    (match,) = rita.get("/api/v1/monitoring/matches").get_json()["items"]
    people = _participants(match)
    assert people["Rob Remote"]["region"] == "regio-b"
    assert people["Rob Remote"]["overdue"] is False
    assert people["Anna Jansen"]["region"] is None
    assert match["followUp"] == "done"  # the other region follows up its own
    assert rita.get("/api/v1/monitoring/matches?followUp=overdue").get_json()["items"] == []
