"""GET /api/v1/audit-events: for privacy officers only, filtered, paginated, itself audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.conftest import CHILD_BSN, SIBLING_BSN, FakeClock, World
from verwijsindex.models import AuditEventRow


def officer_and_flow(world: World, clock: FakeClock) -> tuple[Any, Any, str]:
    officer = world.professional("Petra Privacy", "Regio", "jeugdhulp", roles=("privacy_officer",))
    anna = world.professional("Anna Jansen", "School A")
    signal_id = anna.signal(CHILD_BSN)["id"]
    clock.advance(hours=1)
    anna.get(f"/api/v1/signals/{signal_id}")
    anna.signal(SIBLING_BSN)
    return officer, anna, signal_id


def test_a_privacy_officer_sees_the_newest_records_first(world: World, clock: FakeClock) -> None:
    officer, anna, signal_id = officer_and_flow(world, clock)
    response = officer.get("/api/v1/audit-events?pageSize=3")
    assert response.status_code == 200, response.get_json()
    items = response.get_json()["items"]
    assert [i["action"] for i in items] == [
        "api:signal:create",
        "api:signal:read",
        "api:signal:create",
    ]
    assert items[1]["objectId"] == signal_id
    assert items[1]["actorId"] == str(anna.professional_id)
    assert items[1]["roles"] == "professional"
    assert items[0]["seq"] > items[1]["seq"] > items[2]["seq"]
    assert CHILD_BSN not in response.get_data(as_text=True)


def test_filters_by_object_actor_and_time(world: World, clock: FakeClock) -> None:
    officer, anna, signal_id = officer_and_flow(world, clock)
    by_object = officer.get(f"/api/v1/audit-events?objectId={signal_id}").get_json()["items"]
    assert {i["action"] for i in by_object} == {"api:signal:create", "api:signal:read"}
    by_actor = officer.get(f"/api/v1/audit-events?actor={anna.professional_id}").get_json()
    assert len(by_actor["items"]) == 3
    later = officer.get("/api/v1/audit-events?since=2026-11-23T10:00:00Z").get_json()["items"]
    assert {i["action"] for i in later} >= {"api:signal:read"}
    assert "api:professional:create" not in {i["action"] for i in later}
    earlier = officer.get("/api/v1/audit-events?until=2026-11-23T10:00:00Z").get_json()["items"]
    assert all(i["occurredAt"] < "2026-11-23T10:00" for i in earlier)


def test_pages_follow_each_other_without_gaps(world: World, clock: FakeClock) -> None:
    officer, _, _ = officer_and_flow(world, clock)
    seen: list[int] = []
    page = officer.get("/api/v1/audit-events?pageSize=2").get_json()
    seen += [i["seq"] for i in page["items"]]
    while page["next"]:
        page = officer.get(page["next"].removeprefix("http://localhost:8080")).get_json()
        seen += [i["seq"] for i in page["items"]]
    assert seen == sorted(set(seen), reverse=True)  # newest first, none twice
    with world.core.database.engine.connect() as connection:
        stored = set(connection.scalars(select(AuditEventRow.seq)))
    # Every record up to the first page's newest is on some page (the reads themselves add
    # records after it). `seq` has gaps only where a transaction rolled back.
    assert set(seen) == {seq for seq in stored if seq <= seen[0]}


def test_reading_the_audit_log_is_itself_recorded(world: World, clock: FakeClock) -> None:
    officer, _, _ = officer_and_flow(world, clock)
    officer.get("/api/v1/audit-events")
    newest = officer.get("/api/v1/audit-events?pageSize=1").get_json()["items"][0]
    assert newest["action"] == "api:audit:search"
    assert newest["actorId"] == str(officer.professional_id)


def test_others_may_not_read_the_audit_log_and_bad_filters_are_400(
    world: World, clock: FakeClock
) -> None:
    officer, anna, _ = officer_and_flow(world, clock)
    refused = anna.get("/api/v1/audit-events")
    assert refused.status_code == 403
    assert refused.mimetype == "application/problem+json"
    bad = officer.get("/api/v1/audit-events?since=yesterday&actor=nobody&colour=red")
    assert bad.status_code == 400
    assert {p["name"] for p in bad.get_json()["invalidParams"]} == {"since", "actor", "colour"}
    assert officer.get("/api/v1/audit-events?cursor=abc").status_code == 400
