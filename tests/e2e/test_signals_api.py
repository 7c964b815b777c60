"""POST/GET/PATCH/DELETE /api/v1/signals through the real app, happy and unhappy paths."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import (
    CHILD_BSN,
    OTHER_CHILD_BSN,
    PARENT_BSN,
    SIBLING_BSN,
    FakeClock,
    World,
    signal_body,
)


def names(response: Any) -> list[str]:
    body = response.get_json()
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    return [p["name"] for p in body["invalidParams"]]


def test_registering_a_signal_returns_it_with_lifecycle_dates(world: World) -> None:
    api = world.professional("Anna Jansen", "School A", "onderwijs")
    signal = api.signal(CHILD_BSN, parents=[PARENT_BSN])
    assert signal["status"] == "active"
    assert signal["createdAt"].startswith("2026-11-23T09:30")
    assert signal["activeUntil"].startswith("2028-11-23T09:30")
    assert signal["archivedUntil"].startswith("2033-11-23T09:30")
    assert signal["professional"] == {
        "id": str(api.professional_id),
        "name": "Anna Jansen",
        "organisation": "School A",
        "sector": "onderwijs",
    }
    assert signal["informatieplicht"]["childInformed"] is True
    assert signal["historyAvailable"] is False
    assert signal["matches"] == []
    assert CHILD_BSN not in str(signal)


def test_lifecycle_dates_stop_at_the_23rd_birthday(world: World) -> None:
    api = world.professional("Anna Jansen")
    signal = api.signal(CHILD_BSN, birth_date="2004-01-10", parents_informed=False)
    # 2004-01-10 + 23 years = 2027-01-10, midnight in Amsterdam = 23:00 UTC the day before.
    assert signal["activeUntil"].startswith("2027-01-09T23:00")
    assert signal["archivedUntil"].startswith("2027-01-09T23:00")


def test_every_problem_is_listed_at_once_without_echoing_a_bsn(world: World) -> None:
    api = world.professional("Anna Jansen")
    response = api.post(
        "/api/v1/signals",
        json={
            "bsn": "111222334",
            "birthDate": "not a date",
            "parentBsns": ["12345678"],
            "informatieplicht": {"childInformed": "yes"},
            "reason": "suspected neglect",
        },
    )
    found = names(response)
    assert {"bsn", "birthDate", "parentBsns[0]", "informatieplicht.childInformed", "reason"} <= set(
        found
    )
    assert "111222334" not in response.get_data(as_text=True)
    assert "12345678" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("birth_date", "child_informed", "parents_informed", "expected"),
    [
        ("2003-11-23", True, True, {"birthDate"}),  # 23 today
        ("2003-11-24", True, False, set()),  # 22, turns 23 tomorrow
        ("2030-01-01", True, True, {"birthDate"}),  # not born yet
        ("2014-11-23", False, True, {"informatieplicht.childInformed"}),  # 12 today
        ("2014-11-24", False, True, set()),  # 11
        ("2010-11-24", True, False, {"informatieplicht.parentsInformed"}),  # 15
        ("2010-11-23", True, False, set()),  # 16 today
        (
            "2012-01-01",
            False,
            False,
            {"informatieplicht.childInformed", "informatieplicht.parentsInformed"},
        ),
    ],
)
def test_age_rules_on_the_day_of_signalling(
    world: World, birth_date: str, child_informed: bool, parents_informed: bool, expected: set[str]
) -> None:
    api = world.professional("Anna Jansen")
    response = api.post(
        "/api/v1/signals",
        json=signal_body(
            birth_date=birth_date,
            child_informed=child_informed,
            parents_informed=parents_informed,
        ),
    )
    if expected:
        assert set(names(response)) == expected
    else:
        assert response.status_code == 201, response.get_json()


def test_a_postponement_replaces_informing_but_needs_a_justification_and_a_future_date(
    world: World,
) -> None:
    api = world.professional("Anna Jansen")
    postponement = {
        "reason": "not_in_interest_of_child",
        "justification": "Informing now would endanger the child.",
        "reviewOn": "2027-01-15",
    }
    ok = api.post(
        "/api/v1/signals",
        json={
            "bsn": CHILD_BSN,
            "birthDate": "2012-01-01",
            "informatieplicht": {"postponement": postponement},
        },
    )
    assert ok.status_code == 201, ok.get_json()
    shown = ok.get_json()["informatieplicht"]
    assert shown["postponed"] is True
    assert shown["reviewOn"] == "2027-01-15"
    assert shown["justification"] == postponement["justification"]

    bad = api.post(
        "/api/v1/signals",
        json={
            "bsn": SIBLING_BSN,
            "birthDate": "2012-01-01",
            "informatieplicht": {
                "postponement": {**postponement, "justification": "", "reviewOn": "2026-11-23"}
            },
        },
    )
    assert set(names(bad)) == {
        "informatieplicht.postponement.justification",
        "informatieplicht.postponement.reviewOn",
    }


def test_parents_must_be_distinct_and_not_the_child(world: World) -> None:
    api = world.professional("Anna Jansen")
    response = api.post(
        "/api/v1/signals", json=signal_body(parents=[PARENT_BSN, PARENT_BSN, CHILD_BSN])
    )
    reasons = [p["reason"] for p in response.get_json()["invalidParams"]]
    assert names(response) == ["parentBsns", "parentBsns"]
    assert any("distinct" in r for r in reasons) and any("child" in r for r in reasons)
    too_many = api.post(
        "/api/v1/signals",
        json=signal_body(parents=["111111110", "222222220", "333333330", "444444440", "555555550"]),
    )
    assert "parentBsns" in names(too_many)


def test_a_second_active_signal_on_the_same_child_is_a_conflict(world: World) -> None:
    api = world.professional("Anna Jansen")
    api.signal(CHILD_BSN)
    response = api.post("/api/v1/signals", json=signal_body(CHILD_BSN))
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"


def test_after_closing_a_new_signal_on_the_same_child_is_allowed_and_sees_history(
    world: World,
) -> None:
    api = world.professional("Anna Jansen")
    first = api.signal(CHILD_BSN)
    assert api.delete(f"/api/v1/signals/{first['id']}").status_code == 204
    second = api.signal(CHILD_BSN)
    assert second["historyAvailable"] is True


def test_wrong_content_type_is_415_and_bad_json_is_400(world: World) -> None:
    api = world.professional("Anna Jansen")
    assert api.post("/api/v1/signals", data="bsn=1", content_type="text/plain").status_code == 415
    response = api.post("/api/v1/signals", data="{", content_type="application/json")
    assert names(response) == ["body"]


def test_own_signals_are_listed_newest_first_with_cursor_pagination(
    world: World, clock: FakeClock
) -> None:
    api = world.professional("Anna Jansen")
    created = []
    for bsn in (CHILD_BSN, SIBLING_BSN, OTHER_CHILD_BSN):
        created.append(api.signal(bsn)["id"])
        clock.advance(minutes=1)
    page = api.get("/api/v1/signals?pageSize=2").get_json()
    assert [s["id"] for s in page["items"]] == created[::-1][:2]
    assert page["next"].startswith("http://localhost:8080/api/v1/signals?")
    rest = api.get(page["next"].removeprefix("http://localhost:8080")).get_json()
    assert [s["id"] for s in rest["items"]] == [created[0]]
    assert rest["next"] is None


def test_status_filter_and_bad_query_parameters(world: World) -> None:
    api = world.professional("Anna Jansen")
    kept = api.signal(CHILD_BSN)["id"]
    closed = api.signal(SIBLING_BSN)["id"]
    api.delete(f"/api/v1/signals/{closed}")
    active = api.get("/api/v1/signals?status=active").get_json()["items"]
    archived = api.get("/api/v1/signals?status=archived").get_json()["items"]
    assert [s["id"] for s in active] == [kept]
    assert [s["id"] for s in archived] == [closed]
    assert set(names(api.get("/api/v1/signals?status=gone&pageSize=500&cursor=x"))) == {
        "status",
        "pageSize",
    }
    assert names(api.get("/api/v1/signals?cursor=bm9wZQ")) == ["cursor"]


def test_another_professionals_signal_answers_404_like_a_missing_one(world: World) -> None:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    colleague = world.professional("Carla Claes", "School A")
    signal_id = anna.signal(CHILD_BSN)["id"]
    for other in (bert, colleague):
        for method in ("GET", "PATCH", "DELETE"):
            kwargs = {"json": {"informatieplicht": {}}} if method == "PATCH" else {}
            response = other.request(method, f"/api/v1/signals/{signal_id}", **kwargs)
            assert response.status_code == 404, (method, response.get_json())
    missing = anna.get("/api/v1/signals/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert (
        missing.get_json()["detail"]
        == other.get(f"/api/v1/signals/{signal_id}").get_json()["detail"]
    )


def test_patch_records_informing_after_a_postponement(world: World) -> None:
    api = world.professional("Anna Jansen")
    created = api.post(
        "/api/v1/signals",
        json={
            "bsn": CHILD_BSN,
            "birthDate": "2012-01-01",
            "informatieplicht": {
                "postponement": {
                    "reason": "not_reasonably_possible",
                    "justification": "Parents unreachable abroad.",
                    "reviewOn": "2027-01-15",
                }
            },
        },
    ).get_json()
    path = f"/api/v1/signals/{created['id']}"
    half = api.patch(path, json={"informatieplicht": {"childInformed": True, "postponement": None}})
    assert names(half) == ["informatieplicht.parentsInformed"]
    done = api.patch(
        path,
        json={
            "informatieplicht": {
                "childInformed": True,
                "parentsInformed": True,
                "postponement": None,
            }
        },
    )
    assert done.status_code == 200, done.get_json()
    shown = done.get_json()["informatieplicht"]
    assert shown == {
        "childInformed": True,
        "parentsInformed": True,
        "postponed": False,
        "reviewOn": None,
        "reason": None,
        "justification": None,
    }
    assert names(api.patch(path, json={"informatieplicht": {"diagnosis": "x"}})) == [
        "informatieplicht.diagnosis"
    ]


def test_closing_archives_at_once_and_closing_again_changes_nothing(world: World) -> None:
    api = world.professional("Anna Jansen")
    signal_id = api.signal(CHILD_BSN)["id"]
    assert api.delete(f"/api/v1/signals/{signal_id}").status_code == 204
    shown = api.get(f"/api/v1/signals/{signal_id}").get_json()
    assert shown["status"] == "archived"
    assert shown["archivedUntil"].startswith("2031-11-23")
    assert api.delete(f"/api/v1/signals/{signal_id}").status_code == 204
    assert names(api.delete(f"/api/v1/signals/{signal_id}?reason=because")) == ["reason"]


def test_closing_as_unjustified_erases_the_signal(world: World) -> None:
    api = world.professional("Anna Jansen")
    signal_id = api.signal(CHILD_BSN, parents=[PARENT_BSN])["id"]
    assert api.delete(f"/api/v1/signals/{signal_id}?reason=unjustified").status_code == 204
    assert api.get(f"/api/v1/signals/{signal_id}").status_code == 404
    assert api.get("/api/v1/signals").get_json()["items"] == []
