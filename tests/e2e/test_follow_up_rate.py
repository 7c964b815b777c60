"""The follow-up rate (issue 13): the share of match participations followed up within 10
working days, per month and sector; for the beheerder and, in their gemeenten, the
regievoerder."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from tests.conftest import ApiClient, FakeClock, World
from tests.e2e.test_auth import assert_problem
from tests.e2e.test_monitoring_api import regievoerder, renew
from tests.integration.test_concurrency import valid_bsns
from verwijsindex.services.follow_up_rate import FollowUpRateRow, tally

RATE = "/api/v1/statistics/follow-up"
JOINED = datetime(2026, 12, 21, 9, 0, tzinfo=UTC)  # a Monday; overdue from 6 January


def rows(api: ApiClient, query: str = "") -> list[dict[str, Any]]:
    response = api.get(f"{RATE}{query}")
    assert response.status_code == 200, response.get_json()
    found: list[dict[str, Any]] = response.get_json()["items"]
    return found


def five_matches(world: World, gemeente: str) -> tuple[ApiClient, ApiClient, list[str]]:
    """Five cliëntmatches between a school and a youth-care team: five participations per
    sector, enough to be shown (small cells are hidden)."""
    anna = world.professional("Anna Jansen", "School A", "onderwijs")
    bert = world.professional("Bert de Vries", "Team B", "jeugdhulp")
    match_ids = []
    for child in valid_bsns(5, 300_000_000):
        anna.signal(child, gemeente=gemeente)
        match_ids.append(bert.signal(child)["matches"][0]["id"])
    return anna, bert, match_ids


def test_the_rate_counts_follow_up_within_ten_working_days_per_month_and_sector(
    world: World, clock: FakeClock
) -> None:
    clock.now = JOINED
    anna, bert, match_ids = five_matches(world, "GM0228")
    beheerder = world.professional("Bea Beheer", roles=("beheerder",))
    for match_id in match_ids:
        assert anna.put(f"/api/v1/matches/{match_id}/follow-up").status_code == 200
    month = "?from=2026-12&until=2027-01"
    # Within the 10 working days only those who followed up have a known outcome.
    assert rows(beheerder, month) == [
        {"month": "2026-12", "sector": "onderwijs", "due": 5, "inTime": 5, "rate": 1.0}
    ]
    clock.now = datetime(2027, 1, 6, 8, 0, tzinfo=UTC)
    renew(world, anna, bert, beheerder)
    # Followed up late: still not in time.
    assert bert.put(f"/api/v1/matches/{match_ids[0]}/follow-up").status_code == 200
    assert rows(beheerder, month) == [
        {"month": "2026-12", "sector": "jeugdhulp", "due": 5, "inTime": 0, "rate": 0.0},
        {"month": "2026-12", "sector": "onderwijs", "due": 5, "inTime": 5, "rate": 1.0},
    ]
    assert rows(beheerder, f"{month}&gemeente=GM0363") == []


def test_a_regievoerder_reads_the_rate_of_their_gemeenten_only(
    world: World, clock: FakeClock
) -> None:
    clock.now = JOINED
    anna, _, match_ids = five_matches(world, "GM0228")
    for match_id in match_ids:
        assert anna.put(f"/api/v1/matches/{match_id}/follow-up").status_code == 200
    query = "?from=2026-12&until=2026-12"
    ede = regievoerder(world, "Rita Ede", ("GM0228",))
    amsterdam = regievoerder(world, "Ad Amsterdam", ("GM0363",))
    assert [r["sector"] for r in rows(ede, query)] == ["onderwijs"]
    assert rows(amsterdam, query) == []
    assert_problem(amsterdam.get(f"{RATE}{query}&gemeente=GM0228"), 403)
    assert_problem(anna.get(RATE), 403)  # a professional: no statistics at all


def test_small_cells_are_hidden_and_a_follow_up_on_the_overdue_day_is_late() -> None:
    joined = JOINED
    on_time = datetime(2027, 1, 5, 22, 0, tzinfo=UTC)  # 23:00 local on the 5th
    late = datetime(2027, 1, 5, 23, 0, tzinfo=UTC)  # midnight local: the 6th
    now = datetime(2027, 2, 1, tzinfo=UTC)
    participations = [(joined, "onderwijs", on_time)] * 6 + [(joined, "onderwijs", late)] * 2
    participations += [(joined, "jeugdhulp", None)] * 3
    assert tally(participations, now) == [
        FollowUpRateRow(date(2026, 12, 1), "jeugdhulp", None, 0, None),
        FollowUpRateRow(date(2026, 12, 1), "onderwijs", 8, 6, 0.75),
    ]
