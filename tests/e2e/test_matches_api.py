"""GET /api/v1/matches, GET /api/v1/matches/{id} and the regisseur, through the real app.

Matches are made by signalling (POST /api/v1/signals) and unmade by closing signals (DELETE),
so these tests pin what a professional sees of cliëntmatches and gezinsmatches end to end.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import (
    CHILD_BSN,
    OTHER_CHILD_BSN,
    OTHER_PARENT_BSN,
    PARENT_BSN,
    SIBLING_BSN,
    THIRD_PARENT_BSN,
    ApiClient,
    FakeClock,
    World,
)
from verwijsindex.models import MatchRow, MatchSignalRow
from verwijsindex.services import Core

MATCHES = "/api/v1/matches"
MISSING = "00000000-0000-4000-8000-000000000000"
FOURTH_CHILD_BSN = "444444440"
FIFTH_CHILD_BSN = "555555550"


# --- helpers ---------------------------------------------------------------------------------


def my_matches(api: ApiClient, query: str = "") -> list[dict[str, Any]]:
    response = api.get(f"{MATCHES}{query}")
    assert response.status_code == 200, response.get_json()
    items: list[dict[str, Any]] = response.get_json()["items"]
    return items


def the_match(api: ApiClient, match_id: str) -> dict[str, Any]:
    response = api.get(f"{MATCHES}/{match_id}")
    assert response.status_code == 200, response.get_json()
    found: dict[str, Any] = response.get_json()
    return found


def only_match(api: ApiClient, match_type: str) -> dict[str, Any]:
    found = [m for m in my_matches(api) if m["type"] == match_type]
    assert len(found) == 1, found
    return found[0]


def participant_ids(match: dict[str, Any]) -> list[str]:
    return [p["professionalId"] for p in match["participants"]]


def close(api: ApiClient, signal_id: str, query: str = "") -> None:
    response = api.delete(f"/api/v1/signals/{signal_id}{query}")
    assert response.status_code == 204, response.get_json()


def problem_names(response: Any) -> list[str]:
    assert response.status_code == 400, response.get_json()
    assert response.mimetype == "application/problem+json"
    return [p["name"] for p in response.get_json()["invalidParams"]]


def stored_rows(core: Core, match_id: str) -> tuple[int, int]:
    """(rows in `matches`, rows in `match_signals`) for one match id."""
    key = uuid.UUID(match_id)
    with core.database.engine.connect() as connection:
        matches = connection.scalar(
            select(func.count()).select_from(MatchRow).where(MatchRow.id == key)
        )
        links = connection.scalar(
            select(func.count()).select_from(MatchSignalRow).where(MatchSignalRow.match_id == key)
        )
    return int(matches or 0), int(links or 0)


def links_of_signal(core: Core, signal_id: str) -> int:
    key = uuid.UUID(signal_id)
    with core.database.engine.connect() as connection:
        found = connection.scalar(
            select(func.count()).select_from(MatchSignalRow).where(MatchSignalRow.signal_id == key)
        )
    return int(found or 0)


def all_match_rows(core: Core) -> tuple[int, int]:
    with core.database.engine.connect() as connection:
        matches = connection.scalar(select(func.count()).select_from(MatchRow))
        links = connection.scalar(select(func.count()).select_from(MatchSignalRow))
    return int(matches or 0), int(links or 0)


def assert_gone(match_id: str, *apis: ApiClient) -> None:
    for api in apis:
        assert api.get(f"{MATCHES}/{match_id}").status_code == 404
        assert match_id not in [m["id"] for m in my_matches(api)]


# --- cliëntmatch -----------------------------------------------------------------------------


def test_two_professionals_on_one_child_get_one_client_match_in_both_responses(
    world: World,
) -> None:
    anna = world.professional("Anna Jansen", "School A", "onderwijs")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    first = anna.signal(CHILD_BSN, parents=[PARENT_BSN])
    assert first["matches"] == []
    second = bert.signal(CHILD_BSN, parents=[PARENT_BSN])
    assert len(second["matches"]) == 1
    match_ref = second["matches"][0]
    assert match_ref["type"] == "client"
    uuid.UUID(match_ref["id"])
    # Anna's signal now shows the same match too.
    shown = anna.get(f"/api/v1/signals/{first['id']}").get_json()
    assert shown["matches"] == [match_ref]
    assert bert.get(f"/api/v1/signals/{second['id']}").get_json()["matches"] == [match_ref]


def test_both_participants_see_the_same_match_with_contact_details_and_only_own_signals(
    world: World,
) -> None:
    anna = world.professional("Anna Jansen", "School A", "onderwijs")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    anna_signal = anna.signal(CHILD_BSN)["id"]
    bert_signal = bert.signal(CHILD_BSN)["id"]

    seen_by_anna = my_matches(anna)
    seen_by_bert = my_matches(bert)
    assert len(seen_by_anna) == 1 and len(seen_by_bert) == 1
    for_anna, for_bert = seen_by_anna[0], seen_by_bert[0]
    assert for_anna["id"] == for_bert["id"]
    assert for_anna["type"] == "client"
    assert for_anna["createdAt"].startswith("2026-11-23T09:30")
    assert for_anna["regisseur"] is None
    expected_participants = [
        {
            "professionalId": str(anna.professional_id),
            "name": "Anna Jansen",
            "organisation": "School A",
            "sector": "onderwijs",
            "phone": "+31 6 1234 5678",
            "email": "anna.jansen@example.org",
            "region": None,  # this region's own (federation: the other region's name)
            "since": "2026-11-23",
            "isRegisseur": False,
            "followedUpAt": None,
            "active": True,
            "contact": None,  # only while a participant is deactivated (contract section 10)
        },
        {
            "professionalId": str(bert.professional_id),
            "name": "Bert Bakker",
            "organisation": "Jeugdteam B",
            "sector": "jeugdhulp",
            "phone": "+31 6 1234 5678",
            "email": "bert.bakker@example.org",
            "region": None,
            "since": "2026-11-23",
            "isRegisseur": False,
            "followedUpAt": None,
            "active": True,
            "contact": None,  # only while a participant is deactivated (contract section 10)
        },
    ]
    assert sorted(for_anna["participants"], key=lambda p: p["name"]) == expected_participants
    assert sorted(for_bert["participants"], key=lambda p: p["name"]) == expected_participants
    assert for_anna["mySignalIds"] == [anna_signal]
    assert for_bert["mySignalIds"] == [bert_signal]
    # The single-match endpoint says the same as the list.
    assert the_match(anna, for_anna["id"]) == for_anna
    assert the_match(bert, for_bert["id"]) == for_bert


def test_participants_since_is_the_local_date_of_their_signal(
    world: World, clock: FakeClock
) -> None:
    anna = world.professional("Anna Jansen", "School A")
    anna.signal(CHILD_BSN)
    # 23:30 UTC on 23 November is already 24 November in Amsterdam.
    clock.advance(hours=14)
    # Personal tokens are short-lived: Bert logs in after the clock moved.
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    bert.signal(CHILD_BSN)
    match = only_match(bert, "client")
    since = {p["professionalId"]: p["since"] for p in match["participants"]}
    assert since == {
        str(anna.professional_id): "2026-11-23",
        str(bert.professional_id): "2026-11-24",
    }
    assert [p["name"] for p in match["participants"]] == ["Anna Jansen", "Bert Bakker"]
    assert match["createdAt"].startswith("2026-11-23T23:30")


def test_a_third_signal_on_the_child_grows_the_same_match(world: World) -> None:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    carla = world.professional("Carla Claes", "GGD C", "jeugdgezondheidszorg")
    anna.signal(CHILD_BSN)
    match_id = bert.signal(CHILD_BSN)["matches"][0]["id"]
    third = carla.signal(CHILD_BSN)
    assert third["matches"] == [{"id": match_id, "type": "client"}]
    for api in (anna, bert, carla):
        match = only_match(api, "client")
        assert match["id"] == match_id
        assert sorted(participant_ids(match)) == sorted(
            str(a.professional_id) for a in (anna, bert, carla)
        )
    assert stored_rows(world.core, match_id) == (1, 3)


def test_colleagues_of_one_organisation_also_match(world: World) -> None:
    anna = world.professional("Anna Jansen", "School A")
    colleague = world.professional("Carla Claes", "School A")
    anna.signal(CHILD_BSN)
    assert colleague.signal(CHILD_BSN)["matches"][0]["type"] == "client"


def test_signals_on_different_children_without_shared_parents_do_not_match(
    world: World,
) -> None:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    anna.signal(CHILD_BSN, parents=[PARENT_BSN])
    assert bert.signal(SIBLING_BSN, parents=[OTHER_PARENT_BSN])["matches"] == []
    assert bert.signal(OTHER_CHILD_BSN)["matches"] == []
    assert my_matches(anna) == [] and my_matches(bert) == []
    assert all_match_rows(world.core) == (0, 0)


def test_a_professional_on_two_children_of_a_family_is_one_participant(world: World) -> None:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    anna_first = anna.signal(CHILD_BSN, parents=[PARENT_BSN])["id"]
    anna_second = anna.signal(SIBLING_BSN, parents=[PARENT_BSN])["id"]
    bert_signal = bert.signal(OTHER_CHILD_BSN, parents=[PARENT_BSN])["id"]
    match = only_match(anna, "family")
    assert sorted(participant_ids(match)) == sorted(
        [str(anna.professional_id), str(bert.professional_id)]
    )
    assert sorted(match["mySignalIds"]) == sorted([anna_first, anna_second])
    assert only_match(bert, "family")["mySignalIds"] == [bert_signal]


def test_a_non_participant_gets_the_same_404_as_for_a_missing_match(world: World) -> None:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    outsider = world.professional("Olga Ouderen", "Jeugdteam B", "jeugdhulp")
    anna.signal(CHILD_BSN)
    match_id = bert.signal(CHILD_BSN)["matches"][0]["id"]
    outsider.signal(SIBLING_BSN)  # active elsewhere, in no match
    hidden = outsider.get(f"{MATCHES}/{match_id}")
    missing = outsider.get(f"{MATCHES}/{MISSING}")
    assert hidden.status_code == 404
    assert hidden.mimetype == "application/problem+json"
    assert hidden.get_json() == missing.get_json()
    assert missing.get_json()["status"] == 404
    assert my_matches(outsider) == []
    assert match_id not in hidden.get_data(as_text=True)


def test_closing_a_signal_removes_its_professional_from_the_match(world: World) -> None:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    carla = world.professional("Carla Claes", "GGD C", "jeugdgezondheidszorg")
    anna.signal(CHILD_BSN)
    bert_signal = bert.signal(CHILD_BSN)["id"]
    match_id = carla.signal(CHILD_BSN)["matches"][0]["id"]

    close(bert, bert_signal)

    for api in (anna, carla):
        match = the_match(api, match_id)
        assert sorted(participant_ids(match)) == sorted(
            [str(anna.professional_id), str(carla.professional_id)]
        )
    assert_gone(match_id, bert)
    assert bert.get(f"/api/v1/signals/{bert_signal}").get_json()["matches"] == []
    assert stored_rows(world.core, match_id) == (1, 2)
    assert links_of_signal(world.core, bert_signal) == 0


@pytest.mark.parametrize("query", ["", "?reason=unjustified"], ids=["risk_gone", "unjustified"])
def test_a_match_with_fewer_than_two_professionals_left_is_gone(world: World, query: str) -> None:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    anna_signal = anna.signal(CHILD_BSN, parents=[PARENT_BSN])["id"]
    bert_signal = bert.signal(CHILD_BSN, parents=[PARENT_BSN])["id"]
    match_id = bert.get(f"/api/v1/signals/{bert_signal}").get_json()["matches"][0]["id"]
    assert stored_rows(world.core, match_id) == (1, 2)

    close(bert, bert_signal, query)

    assert_gone(match_id, anna, bert)
    assert anna.get(f"/api/v1/signals/{anna_signal}").get_json()["matches"] == []
    assert stored_rows(world.core, match_id) == (0, 0)
    assert all_match_rows(world.core) == (0, 0)


def test_a_new_signal_after_a_match_disappeared_makes_a_new_match(world: World) -> None:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    anna.signal(CHILD_BSN)
    bert_signal = bert.signal(CHILD_BSN)
    old_id = bert_signal["matches"][0]["id"]
    close(bert, bert_signal["id"])
    new = bert.signal(CHILD_BSN)
    assert len(new["matches"]) == 1
    assert new["matches"][0]["id"] != old_id
    assert new["historyAvailable"] is True
    assert [m["id"] for m in my_matches(anna)] == [new["matches"][0]["id"]]


# --- gezinsmatch -----------------------------------------------------------------------------


def test_signals_on_siblings_sharing_a_parent_form_one_family_match(world: World) -> None:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    anna_signal = anna.signal(CHILD_BSN, parents=[PARENT_BSN])
    bert_signal = bert.signal(SIBLING_BSN, parents=[PARENT_BSN, OTHER_PARENT_BSN])
    assert len(bert_signal["matches"]) == 1
    assert bert_signal["matches"][0]["type"] == "family"
    match_id = bert_signal["matches"][0]["id"]
    assert anna.get(f"/api/v1/signals/{anna_signal['id']}").get_json()["matches"] == [
        {"id": match_id, "type": "family"}
    ]
    for api in (anna, bert):
        match = only_match(api, "family")
        assert match["id"] == match_id
        assert sorted(participant_ids(match)) == sorted(
            [str(anna.professional_id), str(bert.professional_id)]
        )
    assert stored_rows(world.core, match_id) == (1, 2)


def test_a_family_match_never_reveals_the_siblings_signal(world: World) -> None:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    anna_signal = anna.signal(CHILD_BSN, parents=[PARENT_BSN])["id"]
    bert_signal = bert.signal(SIBLING_BSN, parents=[PARENT_BSN])["id"]
    match_id = only_match(anna, "family")["id"]
    for api, own, other in ((anna, anna_signal, bert_signal), (bert, bert_signal, anna_signal)):
        listed = only_match(api, "family")
        single = the_match(api, match_id)
        assert listed["mySignalIds"] == [own]
        assert single["mySignalIds"] == [own]
        for body in (listed, single):
            text = json.dumps(body)
            assert other not in text
            for bsn in (CHILD_BSN, SIBLING_BSN, PARENT_BSN):
                assert bsn not in text
        # Nothing beyond the contract's fields, so no field can name the sibling.
        assert set(single) == {
            "id",
            "type",
            "createdAt",
            "mySignalIds",
            "participants",
            "regisseur",
        }
        for participant in single["participants"]:
            assert set(participant) == {
                "professionalId",
                "name",
                "organisation",
                "sector",
                "phone",
                "email",
                "since",
                "isRegisseur",
                "followedUpAt",
                # Contract section 10: whether they are active, and while not, a
                # coordinator of their organisation to contact (never about the child).
                "active",
                "contact",
                # Contract section 11: the other region of a mirrored participant (else null).
                "region",
            }
    # The list page as a whole does not carry the other signal either.
    assert bert_signal not in anna.get(MATCHES).get_data(as_text=True)
    assert anna_signal not in bert.get(MATCHES).get_data(as_text=True)


def test_siblings_linked_through_a_chain_of_parents_form_one_family_match(
    world: World,
) -> None:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    carla = world.professional("Carla Claes", "GGD C", "jeugdgezondheidszorg")
    # A and C share no parent; B has a parent of each.
    anna.signal(CHILD_BSN, parents=[PARENT_BSN])
    carla.signal(OTHER_CHILD_BSN, parents=[OTHER_PARENT_BSN])
    assert my_matches(anna) == [] and my_matches(carla) == []
    bert.signal(SIBLING_BSN, parents=[PARENT_BSN, OTHER_PARENT_BSN])
    ids = {only_match(api, "family")["id"] for api in (anna, bert, carla)}
    assert len(ids) == 1
    match = only_match(anna, "family")
    assert sorted(participant_ids(match)) == sorted(
        str(a.professional_id) for a in (anna, bert, carla)
    )
    assert all_match_rows(world.core) == (1, 3)


def test_chain_order_does_not_matter_for_the_family_match(world: World) -> None:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    carla = world.professional("Carla Claes", "GGD C", "jeugdgezondheidszorg")
    bert.signal(SIBLING_BSN, parents=[PARENT_BSN, OTHER_PARENT_BSN])
    anna.signal(CHILD_BSN, parents=[PARENT_BSN])
    carla.signal(OTHER_CHILD_BSN, parents=[OTHER_PARENT_BSN, THIRD_PARENT_BSN])
    ids = {only_match(api, "family")["id"] for api in (anna, bert, carla)}
    assert len(ids) == 1
    assert len(only_match(carla, "family")["participants"]) == 3


def test_a_child_known_with_different_parents_links_its_signals_into_one_family(
    world: World,
) -> None:
    """Child A is known with parent P1 (Anna) and with parent P2 (Bert); sibling B shares
    P1. A and B share a parent, so every professional on A or B is in the family match,
    whichever of A's parents their own signal happened to list."""
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    carla = world.professional("Carla Claes", "GGD C", "jeugdgezondheidszorg")
    anna.signal(CHILD_BSN, parents=[PARENT_BSN])
    bert.signal(CHILD_BSN, parents=[OTHER_PARENT_BSN])
    carla.signal(SIBLING_BSN, parents=[PARENT_BSN])
    family = only_match(carla, "family")
    assert sorted(participant_ids(family)) == sorted(
        str(a.professional_id) for a in (anna, bert, carla)
    )
    assert only_match(bert, "family")["id"] == family["id"]


def test_one_professional_alone_on_two_siblings_gets_no_family_match(world: World) -> None:
    anna = world.professional("Anna Jansen", "School A")
    anna.signal(CHILD_BSN, parents=[PARENT_BSN])
    second = anna.signal(SIBLING_BSN, parents=[PARENT_BSN])
    assert second["matches"] == []
    assert my_matches(anna) == []
    assert all_match_rows(world.core) == (0, 0)


def test_a_client_match_and_a_family_match_coexist(world: World) -> None:
    xavier = world.professional("Xavier Xander", "School A")
    yara = world.professional("Yara Yilmaz", "Jeugdteam B", "jeugdhulp")
    zoe = world.professional("Zoe Zwart", "GGD C", "jeugdgezondheidszorg")
    xavier.signal(CHILD_BSN, parents=[PARENT_BSN])
    yara_signal = yara.signal(CHILD_BSN, parents=[PARENT_BSN])
    assert [m["type"] for m in yara_signal["matches"]] == ["client"]
    zoe_signal = zoe.signal(SIBLING_BSN, parents=[PARENT_BSN])

    yara_now = yara.get(f"/api/v1/signals/{yara_signal['id']}").get_json()
    assert sorted(m["type"] for m in yara_now["matches"]) == ["client", "family"]
    assert [m["type"] for m in zoe_signal["matches"]] == ["family"]
    client = only_match(xavier, "client")
    family = only_match(xavier, "family")
    assert client["id"] != family["id"]
    assert sorted(participant_ids(client)) == sorted(
        [str(xavier.professional_id), str(yara.professional_id)]
    )
    assert sorted(participant_ids(family)) == sorted(
        str(a.professional_id) for a in (xavier, yara, zoe)
    )
    assert only_match(yara, "client")["id"] == client["id"]
    assert only_match(yara, "family")["id"] == family["id"]
    assert [m["type"] for m in my_matches(zoe)] == ["family"]
    assert zoe.get(f"{MATCHES}/{client['id']}").status_code == 404


def test_a_family_match_shrinks_and_then_disappears_as_siblings_signals_close(
    world: World,
) -> None:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    carla = world.professional("Carla Claes", "GGD C", "jeugdgezondheidszorg")
    anna.signal(CHILD_BSN, parents=[PARENT_BSN])
    bert_signal = bert.signal(SIBLING_BSN, parents=[PARENT_BSN])["id"]
    carla_signal = carla.signal(OTHER_CHILD_BSN, parents=[PARENT_BSN])["id"]
    match_id = only_match(anna, "family")["id"]

    close(carla, carla_signal, "?reason=unjustified")
    assert the_match(anna, match_id)["id"] == match_id
    assert len(the_match(bert, match_id)["participants"]) == 2
    assert_gone(match_id, carla)
    assert stored_rows(world.core, match_id) == (1, 2)

    close(bert, bert_signal)
    assert_gone(match_id, anna, bert, carla)
    assert all_match_rows(world.core) == (0, 0)


# --- regisseur -------------------------------------------------------------------------------


def client_match_of_two(world: World) -> tuple[ApiClient, ApiClient, str]:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    anna.signal(CHILD_BSN)
    match_id: str = bert.signal(CHILD_BSN)["matches"][0]["id"]
    return anna, bert, match_id


def designate(api: ApiClient, match_id: str, professional_id: object) -> Any:
    return api.put(f"{MATCHES}/{match_id}/regisseur", json={"professionalId": str(professional_id)})


@pytest.mark.parametrize("whom", ["self", "other"])
def test_a_participant_designates_any_participant_as_regisseur(world: World, whom: str) -> None:
    anna, bert, match_id = client_match_of_two(world)
    chosen = anna if whom == "self" else bert
    response = designate(anna, match_id, chosen.professional_id)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["id"] == match_id
    assert body["regisseur"]["professionalId"] == str(chosen.professional_id)
    assert body["regisseur"]["isRegisseur"] is True
    flags = {p["professionalId"]: p["isRegisseur"] for p in body["participants"]}
    assert flags == {
        str(anna.professional_id): chosen is anna,
        str(bert.professional_id): chosen is bert,
    }
    # The other participant sees it too, in the single view and in the list.
    for seen in (the_match(bert, match_id), only_match(bert, "client")):
        assert seen["regisseur"]["professionalId"] == str(chosen.professional_id)
        assert seen["regisseur"]["name"] == ("Anna Jansen" if chosen is anna else "Bert Bakker")
        assert {p["professionalId"]: p["isRegisseur"] for p in seen["participants"]} == flags
    assert seen["regisseur"] in seen["participants"]


def test_designating_again_replaces_the_regisseur(world: World) -> None:
    anna, bert, match_id = client_match_of_two(world)
    assert designate(anna, match_id, anna.professional_id).status_code == 200
    response = designate(bert, match_id, bert.professional_id)
    assert response.status_code == 200
    assert response.get_json()["regisseur"]["professionalId"] == str(bert.professional_id)
    flags = [p["isRegisseur"] for p in the_match(anna, match_id)["participants"]]
    assert sorted(flags) == [False, True]


def test_designating_a_non_participant_is_a_400_on_professional_id(world: World) -> None:
    anna, _bert, match_id = client_match_of_two(world)
    outsider = world.professional("Olga Ouderen", "School A")
    for candidate in (outsider.professional_id, MISSING):
        response = designate(anna, match_id, candidate)
        assert problem_names(response) == ["professionalId"]
    assert the_match(anna, match_id)["regisseur"] is None


def test_a_non_participant_cannot_designate_and_gets_404(world: World) -> None:
    anna, _bert, match_id = client_match_of_two(world)
    outsider = world.professional("Olga Ouderen", "School A")
    hidden = designate(outsider, match_id, anna.professional_id)
    missing = designate(outsider, MISSING, anna.professional_id)
    assert hidden.status_code == 404
    assert hidden.get_json() == missing.get_json()
    assert outsider.delete(f"{MATCHES}/{match_id}/regisseur").status_code == 404
    assert the_match(anna, match_id)["regisseur"] is None


def test_regisseur_body_is_strict(world: World) -> None:
    anna, _bert, match_id = client_match_of_two(world)
    path = f"{MATCHES}/{match_id}/regisseur"
    smuggled = anna.put(
        path, json={"professionalId": str(anna.professional_id), "note": "difficult family"}
    )
    assert "note" in problem_names(smuggled)
    assert "difficult family" not in smuggled.get_data(as_text=True)
    assert problem_names(anna.put(path, json={})) == ["professionalId"]
    assert problem_names(anna.put(path, json={"professionalId": "not-a-uuid"})) == [
        "professionalId"
    ]
    wrong_type = anna.put(path, data="professionalId=x", content_type="text/plain")
    assert wrong_type.status_code == 415
    assert wrong_type.mimetype == "application/problem+json"
    assert the_match(anna, match_id)["regisseur"] is None


def test_the_regisseur_steps_down(world: World) -> None:
    anna, bert, match_id = client_match_of_two(world)
    assert designate(bert, match_id, anna.professional_id).status_code == 200
    response = anna.delete(f"{MATCHES}/{match_id}/regisseur")
    assert response.status_code == 204
    assert response.get_data() == b""
    for api in (anna, bert):
        match = the_match(api, match_id)
        assert match["regisseur"] is None
        assert not any(p["isRegisseur"] for p in match["participants"])


def test_only_the_regisseur_can_step_down(world: World) -> None:
    anna, bert, match_id = client_match_of_two(world)
    assert designate(anna, match_id, anna.professional_id).status_code == 200
    response = bert.delete(f"{MATCHES}/{match_id}/regisseur")
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert the_match(bert, match_id)["regisseur"]["professionalId"] == str(anna.professional_id)
    # Nobody designated: stepping down is refused as well.
    assert anna.delete(f"{MATCHES}/{match_id}/regisseur").status_code == 204
    assert anna.delete(f"{MATCHES}/{match_id}/regisseur").status_code == 403


def test_a_regisseur_whose_signal_closes_stops_being_regisseur(world: World) -> None:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    carla = world.professional("Carla Claes", "GGD C", "jeugdgezondheidszorg")
    anna.signal(CHILD_BSN)
    bert_signal = bert.signal(CHILD_BSN)["id"]
    match_id = carla.signal(CHILD_BSN)["matches"][0]["id"]
    assert designate(anna, match_id, bert.professional_id).status_code == 200

    close(bert, bert_signal)

    for api in (anna, carla):
        match = the_match(api, match_id)
        assert match["regisseur"] is None
        assert str(bert.professional_id) not in participant_ids(match)
        assert not any(p["isRegisseur"] for p in match["participants"])
    with world.core.database.engine.connect() as connection:
        stored = connection.scalar(
            select(MatchRow.regisseur_id).where(MatchRow.id == uuid.UUID(match_id))
        )
    assert stored is None
    # Someone else can be designated afterwards.
    assert designate(carla, match_id, carla.professional_id).status_code == 200


def test_a_regisseur_who_signals_again_in_the_family_stays_regisseur(world: World) -> None:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    carla = world.professional("Carla Claes", "GGD C", "jeugdgezondheidszorg")
    anna_first = anna.signal(CHILD_BSN, parents=[PARENT_BSN])["id"]
    anna.signal(OTHER_CHILD_BSN, parents=[PARENT_BSN])
    bert.signal(SIBLING_BSN, parents=[PARENT_BSN])
    match_id = only_match(anna, "family")["id"]
    assert designate(bert, match_id, anna.professional_id).status_code == 200
    carla.signal(FOURTH_CHILD_BSN, parents=[PARENT_BSN])
    # Anna closes one of her two signals: still a participant, still regisseur.
    close(anna, anna_first)
    match = the_match(bert, match_id)
    assert match["regisseur"]["professionalId"] == str(anna.professional_id)
    assert len(match["participants"]) == 3


# --- pagination ------------------------------------------------------------------------------


def test_matches_are_listed_newest_first_with_cursor_pagination(
    world: World, clock: FakeClock
) -> None:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    created = []
    for bsn in (CHILD_BSN, SIBLING_BSN, OTHER_CHILD_BSN, FOURTH_CHILD_BSN, FIFTH_CHILD_BSN):
        anna.signal(bsn)
        created.append(bert.signal(bsn)["matches"][0]["id"])
        clock.advance(minutes=1)
    newest_first = created[::-1]

    response = anna.get(f"{MATCHES}?pageSize=2")
    assert response.status_code == 200
    page = response.get_json()
    assert [m["id"] for m in page["items"]] == newest_first[:2]
    assert page["next"].startswith("http://localhost:8080/api/v1/matches?")
    assert "pageSize=2" in page["next"]
    seen = [m["id"] for m in page["items"]]
    while page["next"] is not None:
        page = anna.get(page["next"].removeprefix("http://localhost:8080")).get_json()
        assert len(page["items"]) <= 2
        seen += [m["id"] for m in page["items"]]
    assert seen == newest_first
    exact = anna.get(f"{MATCHES}?pageSize=5").get_json()
    assert [m["id"] for m in exact["items"]] == newest_first
    assert exact["next"] is None
    assert [m["id"] for m in my_matches(bert)] == newest_first


def test_matches_with_equal_creation_times_are_paged_without_loss(world: World) -> None:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    created = set()
    for bsn in (CHILD_BSN, SIBLING_BSN, OTHER_CHILD_BSN):
        anna.signal(bsn)
        created.add(bert.signal(bsn)["matches"][0]["id"])
    seen: list[str] = []
    page = anna.get(f"{MATCHES}?pageSize=1").get_json()
    seen += [m["id"] for m in page["items"]]
    while page["next"] is not None:
        page = anna.get(page["next"].removeprefix("http://localhost:8080")).get_json()
        seen += [m["id"] for m in page["items"]]
    assert len(seen) == 3
    assert set(seen) == created


@pytest.mark.parametrize("page_size", ["0", "101", "-1", "many"])
def test_page_size_out_of_range_is_a_400(world: World, page_size: str) -> None:
    anna = world.professional("Anna Jansen", "School A")
    assert problem_names(anna.get(f"{MATCHES}?pageSize={page_size}")) == ["pageSize"]


def test_a_cursor_not_given_out_is_a_400(world: World) -> None:
    anna = world.professional("Anna Jansen", "School A")
    assert problem_names(anna.get(f"{MATCHES}?cursor=bm9wZQ")) == ["cursor"]


def test_page_size_boundaries_are_accepted(world: World) -> None:
    anna = world.professional("Anna Jansen", "School A")
    for size in (1, 100):
        response = anna.get(f"{MATCHES}?pageSize={size}")
        assert response.status_code == 200
        assert response.get_json() == {"items": [], "next": None}


# --- authentication --------------------------------------------------------------------------


def test_matches_need_a_token(world: World) -> None:
    anna, _bert, match_id = client_match_of_two(world)
    for method, path in (
        ("GET", MATCHES),
        ("GET", f"{MATCHES}/{match_id}"),
        ("DELETE", f"{MATCHES}/{match_id}/regisseur"),
    ):
        response = world.http.open(path, method=method)
        assert response.status_code == 401, (method, path)
        assert response.mimetype == "application/problem+json"
    put = world.http.put(
        f"{MATCHES}/{match_id}/regisseur", json={"professionalId": str(anna.professional_id)}
    )
    assert put.status_code == 401
    assert the_match(anna, match_id)["regisseur"] is None


def test_unsupported_methods_trailing_slashes_and_bad_ids(world: World) -> None:
    anna, _bert, match_id = client_match_of_two(world)
    for method, path, allowed in (
        ("POST", MATCHES, {"GET"}),
        ("DELETE", f"{MATCHES}/{match_id}", {"GET"}),
        ("PATCH", f"{MATCHES}/{match_id}/regisseur", {"PUT", "DELETE"}),
    ):
        response = anna.request(method, path, json={})
        assert response.status_code == 405, (method, path)
        assert allowed <= set(response.headers["Allow"].replace(" ", "").split(","))
    assert anna.get(f"{MATCHES}/").status_code == 404
    assert anna.get(f"{MATCHES}/{match_id}/").status_code == 404
    assert anna.get(f"{MATCHES}/not-a-uuid").status_code == 404
    assert the_match(anna, match_id)["id"] == match_id


def test_unknown_query_keys_are_refused(world: World) -> None:
    anna = world.professional("Anna Jansen")
    response = anna.get("/api/v1/matches?pagesize=5")
    assert response.status_code == 400
    assert [p["name"] for p in response.get_json()["invalidParams"]] == ["pagesize"]
    assert anna.get("/api/v1/signals?status=active&colour=red").status_code == 400
