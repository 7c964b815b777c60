"""`PUT /sync/signals` and `GET /sync/runs/{id}` (contract section 9, issue 12 item 2),
end to end: through the real app, applied by the worker's own function, read back through
the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select
from stdnum.nl import bsn as stdnum_bsn

from tests.conftest import (
    CHILD_BSN,
    OTHER_CHILD_BSN,
    PARENT_BSN,
    SIBLING_BSN,
    ApiClient,
    FakeClock,
    World,
)
from tests.e2e.test_auth import assert_problem, bearer, new_client, request_token
from tests.e2e.test_privacy import database_contents, forbidden_forms
from verwijsindex.api.schemas import InformatieplichtInSchema, PostponementSchema
from verwijsindex.api.sync_items import DUTY_FIELDS, FIELDS, POSTPONEMENT_FIELDS
from verwijsindex.api.sync_schemas import SyncItemSchema
from verwijsindex.cli import main
from verwijsindex.models import AuditEventRow, SignalRow
from verwijsindex.services import Core
from verwijsindex.services.delivery import Worker

SYNC_URL = "/api/v1/sync/signals"
INVALID_BSN = "111222334"  # fails the elfproef
PUPIL_NUMBER = "leerling-20261123-0042"  # an externalRef that must never be stored in clear


def valid_bsns(count: int, start: int = 200_000_000) -> Iterator[str]:
    """Generated numbers passing the elfproef (no real person's), apart from conftest's."""
    number = start
    while count:
        candidate = str(number)
        number += 1
        if stdnum_bsn.is_valid(candidate):
            count -= 1
            yield candidate


def item(
    ref: str,
    professional: ApiClient | uuid.UUID,
    bsn: str = CHILD_BSN,
    *,
    birth_date: str = "2015-03-14",
    parents: list[str] | None = None,
    child_informed: bool = True,
    parents_informed: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    professional_id = (
        professional if isinstance(professional, uuid.UUID) else (professional.professional_id)
    )
    body: dict[str, Any] = {
        "externalRef": ref,
        "professionalId": str(professional_id),
        "bsn": bsn,
        "birthDate": birth_date,
        "parentBsns": parents or [],
        "informatieplicht": {"childInformed": child_informed, "parentsInformed": parents_informed},
    }
    body.update(extra)
    return body


@dataclass
class Source:
    """A school system: its client credentials' token, talking to the real app."""

    http: FlaskClient
    core: Core
    client_id: str
    secret: str
    token: str = ""

    def __post_init__(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        """A new token (tests that move the clock hours on outlive the first)."""
        answer = request_token(self.http, self.client_id, self.secret)
        assert answer.status_code == 200, answer.get_json()
        self.token = answer.get_json()["access_token"]

    def put(self, items: list[dict[str, Any]], *, dry_run: bool = False) -> Any:
        url = SYNC_URL + ("?dryRun=true" if dry_run else "")
        return self.http.put(url, json={"signals": items}, headers=bearer(self.token))

    def sync(self, items: list[dict[str, Any]], *, dry_run: bool = False) -> dict[str, Any]:
        """Send, let the worker apply everything due, and return the finished run."""
        response = self.put(items, dry_run=dry_run)
        assert response.status_code == 202, response.get_json()
        Worker(self.core).apply_sync_runs()
        return self.run(response.headers["Location"])

    def run(self, location: str) -> dict[str, Any]:
        response = self.http.get(location, headers=bearer(self.token))
        assert response.status_code == 200, response.get_json()
        found: dict[str, Any] = response.get_json()
        return found


def source(world: World, organisation_id: uuid.UUID) -> Source:
    client_id, secret = new_client(world.core, organisation_id)
    return Source(world.http, world.core, client_id, secret)


def active_signals(api: ApiClient) -> list[dict[str, Any]]:
    answer = api.get("/api/v1/signals?status=active")
    assert answer.status_code == 200
    items: list[dict[str, Any]] = answer.get_json()["items"]
    return items


def report(run: dict[str, Any]) -> tuple[int, int, int, int]:
    r = run["report"]
    return r["created"], r["updated"], r["closed"], r["unchanged"]


# --- accepting and applying ---------------------------------------------------------------------


def test_a_sync_is_accepted_with_202_and_its_location_then_applied_by_the_worker(
    world: World,
) -> None:
    anna = world.professional("Anna Jansen")
    bart = world.professional("Bart de Vries")
    school = source(world, anna.organisation_id)
    items = [
        item("pupil-1/anna", anna, CHILD_BSN),
        item("pupil-2/anna", anna, OTHER_CHILD_BSN),
        item("pupil-1/bart", bart, CHILD_BSN),
    ]

    accepted = school.put(items)

    assert accepted.status_code == 202, accepted.get_json()
    run = accepted.get_json()
    assert accepted.headers["Location"] == f"/api/v1/sync/runs/{run['id']}"
    assert run["status"] == "queued" and run["dryRun"] is False
    assert (run["total"], run["processed"], run["report"]["errors"]) == (3, 0, [])
    assert active_signals(anna) == []  # nothing is applied before the worker runs

    assert Worker(world.core).apply_sync_runs() == 1
    done = school.run(accepted.headers["Location"])
    assert (done["status"], done["total"], done["processed"]) == ("done", 3, 3)
    assert report(done) == (3, 0, 0, 0) and done["report"]["errors"] == []
    assert len(active_signals(anna)) == 2
    assert len(active_signals(bart)) == 1
    # Anna and Bart are both involved with the child: the sync formed their client match.
    matches = anna.get("/api/v1/matches").get_json()["items"]
    assert [m["type"] for m in matches] == ["client"]


def test_synced_signals_match_hand_registered_ones_as_client_and_family(world: World) -> None:
    anna = world.professional("Anna Jansen")
    carla = world.professional("Carla Zorg", organisation="Jeugdteam", sector="jeugdhulp")
    carla.signal(CHILD_BSN)
    carla.signal(OTHER_CHILD_BSN, parents=[PARENT_BSN])
    school = source(world, anna.organisation_id)

    school.sync(
        [
            item("pupil-1", anna, CHILD_BSN),
            item("pupil-2", anna, SIBLING_BSN, parents=[PARENT_BSN]),
        ]
    )

    types = sorted(m["type"] for m in carla.get("/api/v1/matches").get_json()["items"])
    assert types == ["client", "family"]
    mine = sorted(m["type"] for m in anna.get("/api/v1/matches").get_json()["items"])
    assert mine == ["client", "family"]


def test_sending_the_same_body_twice_has_the_effect_of_once(world: World) -> None:
    anna = world.professional("Anna Jansen")
    school = source(world, anna.organisation_id)
    items = [item(f"pupil-{i}", anna, bsn) for i, bsn in enumerate(valid_bsns(5))]

    first = school.sync(items)
    second = school.sync(items)

    assert report(first) == (5, 0, 0, 0)
    assert report(second) == (0, 0, 0, 5)
    assert len(active_signals(anna)) == 5


def test_a_changed_informatieplicht_is_updated(world: World, core: Core) -> None:
    anna = world.professional("Anna Jansen")
    school = source(world, anna.organisation_id)
    adult = "2005-01-01"  # 21: the parents need not have been informed
    school.sync([item("pupil-1", anna, CHILD_BSN, birth_date=adult, parents_informed=False)])

    again = school.sync([item("pupil-1", anna, CHILD_BSN, birth_date=adult, parents_informed=True)])

    assert report(again) == (0, 1, 0, 0)
    [signal] = active_signals(anna)
    assert signal["informatieplicht"]["parentsInformed"] is True


def test_an_item_left_out_is_closed_but_a_hand_made_signal_never(world: World) -> None:
    anna = world.professional("Anna Jansen")
    by_hand = anna.signal(SIBLING_BSN)
    school = source(world, anna.organisation_id)
    school.sync([item("pupil-1", anna, CHILD_BSN), item("pupil-2", anna, OTHER_CHILD_BSN)])

    later = school.sync([item("pupil-1", anna, CHILD_BSN)])
    empty = school.sync([])

    assert report(later) == (0, 0, 1, 1)
    assert report(empty) == (0, 0, 1, 0)
    assert [s["id"] for s in active_signals(anna)] == [by_hand["id"]]
    archived = anna.get("/api/v1/signals?status=archived").get_json()["items"]
    assert len(archived) == 2


def test_a_sync_closes_only_its_own_clients_signals(world: World) -> None:
    anna = world.professional("Anna Jansen")
    school, other_system = source(world, anna.organisation_id), source(world, anna.organisation_id)
    other_system.sync([item("theirs", anna, SIBLING_BSN)])
    school.sync([item("ours", anna, CHILD_BSN)])

    emptied = school.sync([])

    assert report(emptied) == (0, 0, 1, 0)
    assert len(active_signals(anna)) == 1  # the other system's signal stays


def test_an_item_naming_a_child_its_professional_already_signalled_by_hand_is_unchanged(
    world: World,
) -> None:
    anna = world.professional("Anna Jansen")
    anna.signal(CHILD_BSN)
    school = source(world, anna.organisation_id)

    first = school.sync([item("pupil-1", anna, CHILD_BSN)])
    emptied = school.sync([])

    assert report(first) == (0, 0, 0, 1)
    assert report(emptied) == (0, 0, 0, 0)  # the hand-made signal was never the sync's
    assert len(active_signals(anna)) == 1


# --- invalid items ----------------------------------------------------------------------------


def test_invalid_items_are_reported_with_index_and_external_ref_and_the_rest_applied(
    world: World,
) -> None:
    anna = world.professional("Anna Jansen")
    stranger = world.professional("Sara Vreemd", organisation="Elders", sector="justitie")
    school = source(world, anna.organisation_id)
    items = [
        item("ok-1", anna, CHILD_BSN),
        item("bad-bsn", anna, INVALID_BSN),
        item("other-org", stranger, SIBLING_BSN),
        item("too-old", anna, OTHER_CHILD_BSN, birth_date="1990-01-01"),
        item("no-duty", anna, PARENT_BSN, birth_date="2010-01-01", child_informed=False),
        item("no-such-professional", uuid.uuid4(), PARENT_BSN),
        {**item("bad-date", anna, PARENT_BSN), "birthDate": "14-03-2015"},
        item("ok-2", anna, SIBLING_BSN),
    ]

    accepted = school.put(items)
    assert accepted.status_code == 202, accepted.get_json()
    errors = {e["externalRef"]: e for e in accepted.get_json()["report"]["errors"]}
    assert accepted.get_json()["processed"] == 6  # the errors are settled at once

    Worker(world.core).apply_sync_runs()
    run = school.run(accepted.headers["Location"])
    assert (run["status"], report(run)) == ("done", (2, 0, 0, 0))
    assert run["report"]["errors"] == accepted.get_json()["report"]["errors"]
    assert len(active_signals(anna)) == 2
    assert sorted(errors) == sorted(
        ["bad-bsn", "other-org", "too-old", "no-duty", "no-such-professional", "bad-date"]
    )
    assert {e["index"] for e in errors.values()} == {1, 2, 3, 4, 5, 6}
    names = {ref: [p["name"] for p in e["invalidParams"]] for ref, e in errors.items()}
    assert names["bad-bsn"] == ["bsn"]
    assert names["other-org"] == ["professionalId"]
    assert names["no-such-professional"] == ["professionalId"]
    assert names["too-old"] == ["birthDate"]
    assert names["no-duty"] == ["informatieplicht.childInformed"]
    assert names["bad-date"] == ["birthDate"]
    for e in errors.values():
        assert all(p["reason"] for p in e["invalidParams"])
    text = accepted.get_data(as_text=True)
    assert INVALID_BSN not in text and CHILD_BSN not in text and SIBLING_BSN not in text


def test_an_item_with_everyone_informed_and_a_postponement_is_reported_as_contradictory(
    world: World,
) -> None:
    anna = world.professional("Anna Jansen")
    school = source(world, anna.organisation_id)
    postponement = {
        "reason": "not_in_interest_of_child",
        "justification": "Informing now would endanger the child.",
        "reviewOn": "2027-01-15",
    }
    contradictory = item("both", anna, CHILD_BSN)
    contradictory["informatieplicht"]["postponement"] = postponement
    accepted = school.put([contradictory, item("ok", anna, SIBLING_BSN)])
    assert accepted.status_code == 202, accepted.get_json()
    (error,) = accepted.get_json()["report"]["errors"]
    assert (error["index"], error["externalRef"]) == (0, "both")
    assert [p["name"] for p in error["invalidParams"]] == ["informatieplicht.postponement"]
    Worker(world.core).apply_sync_runs()
    assert len(active_signals(anna)) == 1


def test_the_finished_run_reports_the_errors_and_applies_the_rest(world: World) -> None:
    anna = world.professional("Anna Jansen")
    school = source(world, anna.organisation_id)

    run = school.sync([item("ok", anna, CHILD_BSN), item("bad", anna, INVALID_BSN)])

    assert (run["status"], run["total"], run["processed"]) == ("done", 2, 2)
    assert report(run) == (1, 0, 0, 0)
    assert run["report"]["errors"] == [
        {
            "index": 1,
            "externalRef": "bad",
            "invalidParams": [
                {"name": "bsn", "reason": "Not a valid BSN (nine digits passing the elfproef)."}
            ],
        }
    ]
    assert len(active_signals(anna)) == 1


def test_an_invalid_item_keeps_the_signal_it_already_has(world: World) -> None:
    anna = world.professional("Anna Jansen")
    school = source(world, anna.organisation_id)
    school.sync([item("pupil-1", anna, CHILD_BSN)])

    # The same reference, now with a birth date that is no date: still the source's signal.
    again = school.sync([{**item("pupil-1", anna, CHILD_BSN), "birthDate": "gisteren"}])

    assert report(again) == (0, 0, 0, 0)
    assert [e["externalRef"] for e in again["report"]["errors"]] == ["pupil-1"]
    assert len(active_signals(anna)) == 1


# --- dry run ------------------------------------------------------------------------------------


def test_a_dry_run_reports_what_would_happen_and_changes_nothing(world: World) -> None:
    anna = world.professional("Anna Jansen")
    carla = world.professional("Carla Zorg", organisation="Jeugdteam", sector="jeugdhulp")
    carla.signal(CHILD_BSN)
    school = source(world, anna.organisation_id)
    school.sync([item("kept", anna, SIBLING_BSN), item("dropped", anna, OTHER_CHILD_BSN)])
    before = sorted(s["id"] for s in active_signals(anna))

    dry = school.sync([item("kept", anna, SIBLING_BSN), item("new", anna, CHILD_BSN)], dry_run=True)

    assert dry["dryRun"] is True and dry["status"] == "done"
    assert report(dry) == (1, 0, 1, 1)
    assert sorted(s["id"] for s in active_signals(anna)) == before
    assert carla.get("/api/v1/matches").get_json()["items"] == []


# --- the body as a whole ------------------------------------------------------------------------


def test_a_duplicate_external_ref_is_a_400_naming_both_indexes(world: World) -> None:
    anna = world.professional("Anna Jansen")
    school = source(world, anna.organisation_id)

    response = school.put(
        [item("same", anna, CHILD_BSN), item("other", anna), item("same", anna, SIBLING_BSN)]
    )

    problem = assert_problem(response, 400)
    [param] = problem["invalidParams"]
    assert param["name"] == "signals[2].externalRef" and "signals[0]" in param["reason"]
    assert Worker(world.core).apply_sync_runs() == 0  # nothing was queued


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"pupilName": "Jan"}, "signals[0].pupilName"),
        ({"externalRef": ""}, "signals[0].externalRef"),
        ({"externalRef": "x" * 101}, "signals[0].externalRef"),
        ({"externalRef": 42}, "signals[0].externalRef"),
        (
            {"informatieplicht": {"childInformed": True, "parentsInformed": True, "note": "x"}},
            "signals[0].informatieplicht.note",
        ),
    ],
)
def test_unknown_fields_and_unusable_external_refs_refuse_the_whole_body(
    world: World, change: dict[str, Any], name: str
) -> None:
    anna = world.professional("Anna Jansen")
    school = source(world, anna.organisation_id)

    response = school.put([{**item("pupil-1", anna), **change}])

    problem = assert_problem(response, 400)
    assert [p["name"] for p in problem["invalidParams"]] == [name]


def test_a_missing_external_ref_refuses_the_whole_body(world: World) -> None:
    anna = world.professional("Anna Jansen")
    school = source(world, anna.organisation_id)
    without = item("x", anna)
    del without["externalRef"]

    problem = assert_problem(school.put([item("fine", anna, SIBLING_BSN), without]), 400)

    assert [p["name"] for p in problem["invalidParams"]] == ["signals[1].externalRef"]


def test_more_than_10000_items_is_a_413_problem(world: World) -> None:
    anna = world.professional("Anna Jansen")
    school = source(world, anna.organisation_id)
    one = item("r", anna)

    response = school.put([{**one, "externalRef": f"r{i}"} for i in range(10_001)])

    problem = assert_problem(response, 413)
    assert "10,000" in problem["detail"]


def test_a_body_over_16_mib_is_a_413_problem(world: World) -> None:
    anna = world.professional("Anna Jansen")
    school = source(world, anna.organisation_id)
    huge = b'{"signals": [' + b'{"externalRef": "' + b"x" * (17 * 1024 * 1024) + b'"}]}'

    response = world.http.put(
        SYNC_URL, data=huge, content_type="application/json", headers=bearer(school.token)
    )

    assert_problem(response, 413)


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        (b"signals", "application/json", 400),
        (b'{"signals": {"externalRef": "x"}}', "application/json", 400),
        (b'{"signals": ["x"]}', "application/json", 400),
        (b"{}", "application/json", 400),
        (b'{"signals": []}', "text/csv", 415),
    ],
)
def test_a_body_that_is_not_a_sync_body_is_a_problem(
    world: World, data: bytes, content_type: str, status: int
) -> None:
    anna = world.professional("Anna Jansen")
    school = source(world, anna.organisation_id)

    response = world.http.put(
        SYNC_URL, data=data, content_type=content_type, headers=bearer(school.token)
    )

    assert_problem(response, status)


# --- who may -----------------------------------------------------------------------------------


def test_another_clients_run_is_a_404(world: World) -> None:
    anna = world.professional("Anna Jansen")
    sara = world.professional("Sara Vreemd", organisation="Elders", sector="justitie")
    school = source(world, anna.organisation_id)
    accepted = school.put([item("pupil-1", anna)])
    location = accepted.headers["Location"]

    for other in (source(world, anna.organisation_id), source(world, sara.organisation_id)):
        response = world.http.get(location, headers=bearer(other.token))
        assert_problem(response, 404)
    unknown = world.http.get(f"/api/v1/sync/runs/{uuid.uuid4()}", headers=bearer(school.token))
    assert_problem(unknown, 404)


def test_a_personal_token_is_a_403_and_no_token_a_401(world: World) -> None:
    anna = world.professional("Anna Jansen")
    body = {"signals": [item("pupil-1", anna)]}

    assert_problem(anna.put(SYNC_URL, json=body), 403)
    assert_problem(anna.get(f"/api/v1/sync/runs/{uuid.uuid4()}"), 403)
    assert_problem(world.http.put(SYNC_URL, json=body), 401)
    # Without credentials even a body that is not JSON is a 401: nothing is read first.
    assert_problem(world.http.put(SYNC_URL, data=b"{", content_type="application/json"), 401)
    assert_problem(world.http.get(f"/api/v1/sync/runs/{uuid.uuid4()}"), 401)


# --- audit and privacy ----------------------------------------------------------------------------


def _audit(core: Core) -> list[tuple[str, str, uuid.UUID | None, uuid.UUID | None]]:
    with core.transaction(write=False) as tx:
        rows = tx.uow.session.execute(
            select(
                AuditEventRow.action,
                AuditEventRow.outcome,
                AuditEventRow.object_id,
                AuditEventRow.actor_id,
            ).order_by(AuditEventRow.seq)
        ).all()
    return [(a, o, obj, actor) for a, o, obj, actor in rows]


def test_accepting_reading_and_applying_are_audited_each_item_once(
    world: World, core: Core
) -> None:
    anna = world.professional("Anna Jansen")
    school = source(world, anna.organisation_id)
    accepted = school.put([item("pupil-1", anna, CHILD_BSN), item("pupil-2", anna, SIBLING_BSN)])
    run_id = uuid.UUID(accepted.get_json()["id"])
    Worker(core).apply_sync_runs()
    school.run(accepted.headers["Location"])
    foreign = source(world, anna.organisation_id)
    world.http.get(accepted.headers["Location"], headers=bearer(foreign.token))

    records = _audit(core)
    assert ("api:sync-run:create", "success", run_id, None) in records
    assert ("api:sync-run:read", "success", run_id, None) in records
    assert ("api:sync-run:read", "denied", run_id, None) in records
    assert ("worker:sync-run:apply", "success", run_id, None) in records
    with core.transaction(write=False) as tx:
        signal_ids = set(tx.uow.session.scalars(select(SignalRow.id)))
    created = [r for r in records if r[0] == "worker:signal:create"]
    assert sorted(r[2] for r in created if r[2]) == sorted(signal_ids)  # one each
    assert {r[3] for r in created} == {anna.professional_id}  # on behalf of the professional


def test_no_bsn_nor_its_unkeyed_hash_nor_the_external_ref_is_stored_or_logged(
    world: World, core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    anna = world.professional("Anna Jansen")
    school = source(world, anna.organisation_id)
    justification = "Informeren brengt het kind nu in gevaar."
    postponed = {
        "childInformed": False,
        "parentsInformed": False,
        "postponement": {
            "reason": "not_in_interest_of_child",
            "justification": justification,
            "reviewOn": "2027-06-01",
        },
    }
    items = [
        item(PUPIL_NUMBER, anna, CHILD_BSN, parents=[PARENT_BSN], informatieplicht=postponed),
        item("pupil-2", anna, INVALID_BSN),
        item(f"bsn-{SIBLING_BSN}", anna, SIBLING_BSN),
    ]
    accepted = school.put(items)
    mid_run = database_contents(core)  # the queued run, before the worker touched it
    run = school.sync([*items, item("pupil-4", anna, OTHER_CHILD_BSN)])
    assert report(run) == (1, 0, 0, 2)

    stored = mid_run + database_contents(core)
    logs = "\n".join(r.getMessage() for r in caplog.records).encode()
    answers = accepted.get_data() + str(run).encode()
    for bsn in (CHILD_BSN, PARENT_BSN, SIBLING_BSN, OTHER_CHILD_BSN, INVALID_BSN):
        for form in forbidden_forms(bsn):
            assert form not in stored, bsn
            assert form not in logs, bsn
            assert form not in answers, bsn
    assert PUPIL_NUMBER.encode() not in stored and PUPIL_NUMBER.encode() not in logs
    assert justification.encode() not in stored


# --- reading items ------------------------------------------------------------------------------


def test_the_item_reader_knows_exactly_the_fields_the_document_shows() -> None:
    def keys(schema: Any) -> set[str]:
        return {f.data_key or name for name, f in schema().fields.items()}

    assert set(FIELDS) == keys(SyncItemSchema)
    assert set(DUTY_FIELDS) == keys(InformatieplichtInSchema)
    assert set(POSTPONEMENT_FIELDS) == keys(PostponementSchema)


POSTPONEMENT = {
    "reason": "not_reasonably_possible",
    "justification": "Op reis.",
    "reviewOn": "2027-01-15",
}


@pytest.mark.parametrize(
    ("change", "names"),
    [
        ({"bsn": 111222333}, ["bsn"]),
        ({"bsn": None}, ["bsn"]),
        ({"professionalId": "anna"}, ["professionalId"]),
        ({"professionalId": 7}, ["professionalId"]),
        ({"birthDate": "2015-02-30"}, ["birthDate"]),
        ({"birthDate": 20150314}, ["birthDate"]),
        ({"parentBsns": "111111110"}, ["parentBsns"]),
        ({"parentBsns": [111111110]}, ["parentBsns[0]"]),
        ({"parentBsns": [PARENT_BSN, INVALID_BSN]}, ["parentBsns[1]"]),
        ({"parentBsns": [PARENT_BSN, PARENT_BSN]}, ["parentBsns"]),
        ({"parentBsns": list(valid_bsns(5, start=600_000_000))}, ["parentBsns"]),
        ({"informatieplicht": None}, ["informatieplicht"]),
        ({"informatieplicht": {"childInformed": "ja"}}, ["informatieplicht.childInformed"]),
        (
            {"informatieplicht": {"postponement": {**POSTPONEMENT, "reason": "busy"}}},
            ["informatieplicht.postponement.reason"],
        ),
        (
            {"informatieplicht": {"postponement": {**POSTPONEMENT, "justification": ""}}},
            ["informatieplicht.postponement.justification"],
        ),
        (
            {"informatieplicht": {"postponement": {**POSTPONEMENT, "reviewOn": "2026-01-01"}}},
            ["informatieplicht.postponement.reviewOn"],
        ),
        (
            {"informatieplicht": {"postponement": {"reason": "not_reasonably_possible"}}},
            [
                "informatieplicht.postponement.justification",
                "informatieplicht.postponement.reviewOn",
            ],
        ),
        (
            {
                "informatieplicht": {
                    "postponement": {**POSTPONEMENT, "justification": f"BSN {CHILD_BSN}"}
                }
            },
            ["informatieplicht.postponement.justification"],
        ),
    ],
)
def test_malformed_content_is_that_items_error_and_never_echoed(
    world: World, change: dict[str, Any], names: list[str]
) -> None:
    anna = world.professional("Anna Jansen")
    school = source(world, anna.organisation_id)
    bad = {**item("bad", anna, SIBLING_BSN), **change}

    accepted = school.put([item("fine", anna, CHILD_BSN), bad])

    assert accepted.status_code == 202, accepted.get_json()
    [error] = accepted.get_json()["report"]["errors"]
    assert (error["index"], error["externalRef"]) == (1, "bad")
    assert sorted(p["name"] for p in error["invalidParams"]) == sorted(names)
    text = accepted.get_data(as_text=True)
    assert CHILD_BSN not in text and INVALID_BSN not in text and "111222333" not in text


def test_worker_once_applies_the_queued_runs_before_delivering(
    world: World, env: dict[str, str], clock: FakeClock
) -> None:
    clock.now = datetime.now(UTC)  # the CLI uses the wall clock
    anna = world.professional("Anna Jansen")
    school = source(world, anna.organisation_id)
    accepted = school.put([item("pupil-1", anna, CHILD_BSN)])

    result = CliRunner().invoke(main, ["worker", "--once", "--json"], env=env)

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["syncRunsApplied"] == 1
    assert school.run(accepted.headers["Location"])["status"] == "done"
    assert len(active_signals(anna)) == 1
