"""GET /api/v1/statistics: counts per month and sector, counted when it happens, kept after
the signals and matches are deleted, small cells hidden, for the beheerder only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

import pytest
from sqlalchemy import event, func, select

from tests.conftest import ApiClient, FakeClock, World, signal_body
from tests.integration.test_concurrency import new_signal, race, valid_bsns
from verwijsindex.events import SignalRegistered
from verwijsindex.models import statistics_counts
from verwijsindex.repository.statistics import counts_between
from verwijsindex.services import Core
from verwijsindex.services import admin as admin_service
from verwijsindex.services.auth import personal_token
from verwijsindex.services.lifecycle import run_maintenance
from verwijsindex.services.signals import register_signal
from verwijsindex.services.statistics import compact_statistics, count_statistics

PATH = "/api/v1/statistics"
NOVEMBER = date(2026, 11, 1)
CHILDREN = valid_bsns(12, 310_000_000)
PARENTS = valid_bsns(2, 320_000_000)


def beheerder(world: World) -> ApiClient:
    return world.professional("Bea Beheer", "Regio", "jeugdhulp", roles=("beheerder",))


def school(world: World, name: str = "Anna Jansen", organisation: str = "School A") -> ApiClient:
    return world.professional(name, organisation, "onderwijs")


def care(world: World, name: str = "Bert Bos", organisation: str = "Jeugdteam") -> ApiClient:
    return world.professional(name, organisation, "jeugdhulp")


def renew(core: Core, *apis: ApiClient) -> None:
    """New tokens after the clock moved past the old ones' lifetime."""
    for api in apis:
        api.token = personal_token(core, api.professional_id)


def stored(core: Core, first: date = NOVEMBER, last: date = NOVEMBER) -> dict[Any, int]:
    """The raw counters, small cells and all: {(month, sector, kind): count}."""
    with core.transaction(write=False) as tx:
        return {(m, s, k): c for m, s, k, c in counts_between(tx.uow.session, first, last)}


def items(api: ApiClient, query: str = "") -> list[dict[str, Any]]:
    response = api.get(f"{PATH}{query}")
    assert response.status_code == 200, response.get_json()
    found: list[dict[str, Any]] = response.get_json()["items"]
    return found


def test_signals_are_counted_per_month_and_sector_and_small_cells_are_null(
    world: World,
) -> None:
    bea, anna = beheerder(world), school(world)
    for child in CHILDREN[:4]:
        anna.signal(child)
    response = bea.get(PATH)
    assert response.status_code == 200
    assert response.get_json() == {
        "items": [
            {
                "month": "2026-11",
                "sector": "onderwijs",
                "signals": None,
                "clientMatches": 0,
                "familyMatches": 0,
            }
        ],
        "next": None,
        "smallCellThreshold": 5,
    }
    anna.signal(CHILDREN[4])
    assert items(bea)[0]["signals"] == 5
    assert stored(world.core) == {(NOVEMBER, "onderwijs", "signals"): 5}


def test_a_new_match_counts_once_in_each_sector_among_its_participants(
    world: World, core: Core
) -> None:
    anna, bert = school(world), care(world)
    carla = school(world, "Carla de Vries", "School B")
    child, other, sibling, brother = CHILDREN[:4]
    anna.signal(child)
    bert.signal(child)  # a cliëntmatch between a school and youth care
    carla.signal(child)  # it grows: no new match
    anna.signal(other)
    carla.signal(other)  # a cliëntmatch of two schools: one match in onderwijs
    anna.signal(sibling, parents=[PARENTS[0]])
    bert.signal(brother, parents=[PARENTS[0]])  # a gezinsmatch
    assert stored(core) == {
        (NOVEMBER, "onderwijs", "signals"): 5,
        (NOVEMBER, "jeugdhulp", "signals"): 2,
        (NOVEMBER, "onderwijs", "client_matches"): 2,
        (NOVEMBER, "jeugdhulp", "client_matches"): 1,
        (NOVEMBER, "onderwijs", "family_matches"): 1,
        (NOVEMBER, "jeugdhulp", "family_matches"): 1,
    }


def test_a_cell_of_five_matches_is_shown(world: World) -> None:
    bea, anna, bert = beheerder(world), school(world), care(world)
    for child in CHILDREN[:5]:
        anna.signal(child)
        bert.signal(child)
    assert items(bea) == [
        {
            "month": "2026-11",
            "sector": "jeugdhulp",
            "signals": 5,
            "clientMatches": 5,
            "familyMatches": 0,
        },
        {
            "month": "2026-11",
            "sector": "onderwijs",
            "signals": 5,
            "clientMatches": 5,
            "familyMatches": 0,
        },
    ]


def test_the_month_is_the_dutch_calendar_month(world: World, clock: FakeClock) -> None:
    anna = school(world)
    clock.now = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)  # 00:30 on 1 December in Amsterdam
    renew(world.core, anna)
    anna.signal(CHILDREN[0])
    assert stored(world.core, NOVEMBER, date(2026, 12, 1)) == {
        (date(2026, 12, 1), "onderwijs", "signals"): 1
    }


def test_counts_outlive_the_signals_and_matches_they_count(
    world: World, core: Core, clock: FakeClock
) -> None:
    bea, anna, bert = beheerder(world), school(world), care(world)
    for child in CHILDREN[:5]:
        anna.signal(child, birth_date="2003-12-01")  # turns 23 on 1 December 2026
        bert.signal(child, birth_date="2003-12-01")
    erased = anna.signal(CHILDREN[5])["id"]
    bert.signal(CHILDREN[5])
    before = stored(core)
    assert before[NOVEMBER, "onderwijs", "client_matches"] == 6
    assert anna.delete(f"/api/v1/signals/{erased}?reason=unjustified").status_code == 204
    clock.now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    assert run_maintenance(core).deleted_at_23 == 10
    renew(core, anna, bea)
    assert anna.get("/api/v1/signals").get_json()["items"] == []
    assert stored(core, NOVEMBER, date(2026, 12, 1)) == before
    shown = items(bea, "?from=2026-11&until=2026-12")
    assert [(i["month"], i["sector"], i["signals"], i["clientMatches"]) for i in shown] == [
        ("2026-11", "jeugdhulp", 6, 6),
        ("2026-11", "onderwijs", 6, 6),
    ]


def test_a_replayed_registration_is_not_counted_again(world: World, core: Core) -> None:
    anna = school(world)
    headers = {"Idempotency-Key": "import-17"}
    for _ in range(2):
        response = anna.post("/api/v1/signals", json=signal_body(CHILDREN[0]), headers=headers)
        assert response.status_code == 201
    assert stored(core) == {(NOVEMBER, "onderwijs", "signals"): 1}


def test_by_default_the_last_twelve_months_are_shown(world: World, clock: FakeClock) -> None:
    bea, anna = beheerder(world), school(world)
    anna.signal(CHILDREN[0])
    clock.now = datetime(2027, 10, 31, 12, 0, tzinfo=UTC)
    renew(world.core, bea)
    assert [i["month"] for i in items(bea)] == ["2026-11"]
    clock.now = datetime(2027, 11, 1, 12, 0, tzinfo=UTC)
    renew(world.core, bea)
    assert items(bea) == []
    assert [i["month"] for i in items(bea, "?from=2026-11")] == ["2026-11"]
    assert items(bea, "?until=2026-10") == []


def test_pages_follow_each_other(world: World, clock: FakeClock) -> None:
    bea, anna, bert = beheerder(world), school(world), care(world)
    anna.signal(CHILDREN[0])
    clock.now = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    renew(world.core, bea, anna, bert)
    bert.signal(CHILDREN[1])
    anna.signal(CHILDREN[2])
    seen = []
    page = bea.get(f"{PATH}?from=2026-11&pageSize=2").get_json()
    seen += page["items"]
    assert page["next"].startswith("http://localhost:8080/api/v1/statistics?")
    page = bea.get(page["next"].removeprefix("http://localhost:8080")).get_json()
    seen += page["items"]
    assert page["next"] is None
    assert [(i["month"], i["sector"]) for i in seen] == [
        ("2026-11", "onderwijs"),
        ("2026-12", "jeugdhulp"),
        ("2026-12", "onderwijs"),
    ]


def test_only_a_beheerder_may_read_statistics(world: World) -> None:
    anna = school(world)
    officer = world.professional("Petra Privacy", "Regio", "jeugdhulp", roles=("privacy_officer",))
    for caller in (anna, officer):
        refused = caller.get(PATH)
        assert refused.status_code == 403
        assert refused.mimetype == "application/problem+json"
    assert world.http.get(PATH).status_code == 401
    denied = officer.get(f"/api/v1/audit-events?actor={anna.professional_id}").get_json()
    assert [(i["action"], i["outcome"]) for i in denied["items"]] == [
        ("api:statistics:read", "denied")
    ]


def test_every_read_is_audited(world: World) -> None:
    bea = beheerder(world)
    officer = world.professional("Petra Privacy", "Regio", "jeugdhulp", roles=("privacy_officer",))
    items(bea)
    records = officer.get(f"/api/v1/audit-events?actor={bea.professional_id}").get_json()
    assert [(i["action"], i["outcome"], i["objectType"]) for i in records["items"]] == [
        ("api:statistics:read", "success", "statistics")
    ]


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("?from=2026-13&until=later&colour=red", {"from", "until", "colour"}),
        ("?from=2026-11&until=2026-10", {"from"}),
        ("?from=2021-12&until=2026-12", {"until"}),  # 61 months
        ("?until=2021-1", {"until"}),
        ("?pageSize=101", {"pageSize"}),
        ("?cursor=nonsense", {"cursor"}),
        ("?cursor=2026-13.onderwijs", {"cursor"}),
        ("?gemeente=GM9999", {"gemeente"}),
        ("?gemeente=Amsterdam&pageSize=0", {"gemeente", "pageSize"}),
    ],
)
def test_bad_queries_are_400_naming_every_problem(
    world: World, query: str, names: set[str]
) -> None:
    bea = beheerder(world)
    response = bea.get(f"{PATH}{query}")
    assert response.status_code == 400, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert {p["name"] for p in response.get_json()["invalidParams"]} == names


def test_counts_can_be_asked_per_gemeente_with_small_cells_still_null(world: World) -> None:
    bea, anna, bert = beheerder(world), school(world), care(world)
    for child in CHILDREN[:5]:
        anna.signal(child, gemeente="GM0363")
    anna.signal(CHILDREN[5], gemeente="GM0599")
    anna.signal(CHILDREN[6])  # no gemeente: only in the totals
    # A match is counted under the gemeente of the signal whose registration created it.
    bert.signal(CHILDREN[5], gemeente="GM0599")
    amsterdam = items(bea, "?gemeente=GM0363")
    assert amsterdam == [
        {
            "month": "2026-11",
            "sector": "onderwijs",
            "signals": 5,
            "clientMatches": 0,
            "familyMatches": 0,
        }
    ]
    rotterdam = {row["sector"]: row for row in items(bea, "?gemeente=GM0599")}
    assert rotterdam["onderwijs"]["signals"] is None  # 1: hidden
    assert rotterdam["onderwijs"]["clientMatches"] is None
    assert rotterdam["jeugdhulp"]["clientMatches"] is None
    assert items(bea, "?gemeente=GM0935") == []
    totals = {row["sector"]: row for row in items(bea)}
    assert totals["onderwijs"]["signals"] == 7


def test_a_signal_without_a_named_gemeente_is_counted_under_its_organisations_default(
    world: World, core: Core
) -> None:
    bea, anna = beheerder(world), school(world)
    admin_service.set_organisation_gemeente(core, anna.organisation_id, "GM0344")
    for child in CHILDREN[:5]:
        anna.signal(child)
    assert items(bea, "?gemeente=GM0344")[0]["signals"] == 5


def test_pages_of_one_gemeente_keep_the_gemeente_in_the_next_link(
    world: World, clock: FakeClock
) -> None:
    bea, anna = beheerder(world), school(world)
    anna.signal(CHILDREN[0], gemeente="GM0363")
    bert = care(world)
    bert.signal(CHILDREN[1], gemeente="GM0363")
    first = bea.get(f"{PATH}?gemeente=GM0363&pageSize=1").get_json()
    assert len(first["items"]) == 1
    assert "gemeente=GM0363" in first["next"]
    second = bea.get(first["next"]).get_json()
    assert [r["sector"] for r in first["items"] + second["items"]] == ["jeugdhulp", "onderwijs"]


def test_sixty_months_may_be_asked_for(world: World) -> None:
    assert beheerder(world).get(f"{PATH}?from=2022-01&until=2026-12").status_code == 200


def test_the_openapi_document_describes_statistics(world: World) -> None:
    document = world.http.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/statistics"]["get"]
    assert {p["name"] for p in operation["parameters"] if p.get("in") == "query"} == {
        "from",
        "until",
        "pageSize",
        "cursor",
        "gemeente",
    }
    assert {"200", "400", "401", "403"} <= set(operation["responses"])
    assert "once for *each* sector" in operation["description"]


@pytest.fixture
def statements(core: Core) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(args[2])

    event.listen(core.database.engine, "before_cursor_execute", note)
    yield seen
    event.remove(core.database.engine, "before_cursor_execute", note)


def test_counting_costs_nothing_when_nothing_is_counted_and_two_statements_otherwise(
    world: World, core: Core, statements: list[str]
) -> None:
    anna = school(world)
    signal_id = anna.signal(CHILDREN[0])["id"]
    with core.transaction(write=True) as tx:
        tx.uow.session.connection()  # begin the transaction before counting statements
        statements.clear()
        count_statistics(tx)
        assert statements == []
        tx.emit(SignalRegistered(uuid.UUID(signal_id), anna.professional_id))
        count_statistics(tx)
        assert len(statements) == 2
        assert stored(core) == {(NOVEMBER, "onderwijs", "signals"): 1}  # not committed


def test_signals_registered_at_the_same_instant_are_all_counted(world: World, core: Core) -> None:
    actors = [world.actor(school(world, f"Leraar {n}", f"School {n}")) for n in range(6)]
    race(
        [
            partial(register_signal, core, actor, new_signal(child, []))
            for actor, child in zip(actors, CHILDREN, strict=False)
        ]
    )
    assert stored(core) == {(NOVEMBER, "onderwijs", "signals"): 6}


def statistics_rows(core: Core) -> int:
    with core.database.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(statistics_counts)) or 0)


def test_compacting_past_months_folds_their_rows_and_every_answer_stays_the_same(
    world: World, core: Core, clock: FakeClock
) -> None:
    """Counting adds a row per counting transaction (it never updates one, so nothing
    waits); maintenance folds a past month's rows into one per cell."""
    bea, anna, bert = beheerder(world), school(world), care(world)
    for child in CHILDREN[:6]:
        anna.signal(child)
        bert.signal(child)
    shown = items(bea, "?from=2026-11&until=2026-12")
    before = stored(core, NOVEMBER, date(2026, 12, 1))
    assert statistics_rows(core) > len(before)  # one row per counting transaction
    assert compact_statistics(core) == 0  # November is this month: left alone
    clock.now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    renew(core, bea, anna)
    anna.signal(CHILDREN[6])  # a December row, beside November's
    removed = compact_statistics(core)
    assert removed > 0 and statistics_rows(core) == len(before) + 1
    assert stored(core, NOVEMBER, NOVEMBER) == before
    assert items(bea, "?from=2026-11&until=2026-11") == [
        i for i in shown if i["month"] == "2026-11"
    ]
    assert compact_statistics(core) == 0  # safe to run again


def test_compacting_keeps_the_gemeente_of_every_count(
    world: World, core: Core, clock: FakeClock
) -> None:
    bea, anna = beheerder(world), school(world)
    for child in CHILDREN[:5]:
        anna.signal(child, gemeente="GM0363")
    for child in CHILDREN[5:10]:
        anna.signal(child)
    clock.now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    renew(core, bea)
    assert compact_statistics(core) > 0
    assert statistics_rows(core) == 2  # one per cell: Amsterdam's and the one without
    november = "?from=2026-11&until=2026-11"
    assert items(bea, f"{november}&gemeente=GM0363")[0]["signals"] == 5
    assert items(bea, november)[0]["signals"] == 10


def test_maintenance_folds_the_counting_rows_of_past_months(
    world: World, core: Core, clock: FakeClock
) -> None:
    anna, bert = school(world), care(world)
    for child in CHILDREN[:3]:
        anna.signal(child)
        bert.signal(child)
    rows_before = statistics_rows(core)
    clock.now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    report = run_maintenance(core)
    assert report.statistics_rows_compacted > 0
    assert statistics_rows(core) == rows_before - report.statistics_rows_compacted
    assert run_maintenance(core).statistics_rows_compacted == 0
