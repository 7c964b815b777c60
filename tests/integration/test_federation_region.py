"""The region side of federation (docs/federation.md) against stand-ins that speak the
protocol as real HTTP servers on loopback (`tests/federation_standins.py`): staging on the
request path, evaluation, publishing, mirroring with the usual matching, outages, re-keying,
and the participants endpoint's checks and content."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.conftest import (
    CHILD_BSN,
    OTHER_CHILD_BSN,
    PARENT_BSN,
    SIBLING_BSN,
    ApiClient,
    FakeClock,
    World,
)
from tests.federation_processes import valid_bsn
from tests.federation_standins import Standins, standins
from tests.sql_statements import watch_statements
from verwijsindex.federation import oprf
from verwijsindex.federation.identity import Identity, b64url, public_pem, signing_key
from verwijsindex.federation.settings import FederationSettings
from verwijsindex.pseudonym import parse_bsn
from verwijsindex.services.core import Core
from verwijsindex.services.federation_sync import FederationSync, reconcile
from verwijsindex.services.lifecycle import report_death


@dataclass
class Fed:
    core: Core
    world: World
    s: Standins
    sync: FederationSync
    anna: ApiClient
    bert: ApiClient
    clock: FakeClock

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.core.database.engine.connect() as connection:
            return list(connection.execute(text(sql), params).all())

    def element(self, bsn: str) -> str:
        return self.s.keyholder.element(bsn)

    def local(self, bsn: str) -> str:
        parsed = parse_bsn(bsn)
        assert parsed is not None
        return self.core.pseudonymiser.pseudonymise(parsed)

    def matches(self, who: ApiClient) -> list[dict[str, Any]]:
        answer = who.get("/api/v1/matches")
        assert answer.status_code == 200, answer.get_json()
        items: list[dict[str, Any]] = answer.get_json()["items"]
        return items


@pytest.fixture
def fed(world: World, core: Core, clock: FakeClock, tmp_path: Path) -> Iterator[Fed]:
    key = signing_key(core.settings.keys_dir)
    with standins("regio-a", key.public_key(), "http://127.0.0.1:9/") as running:
        hub_key = tmp_path / "hub.pem"
        hub_key.write_text(public_pem(running.hub.identity.public_key))
        core.federation = FederationSettings(
            name="regio-a",
            hub_url=running.hub.url,
            hub_key_file=hub_key,
            keyholder_url=running.keyholder.url,
            poll_seconds=0.05,
        )
        anna = world.professional("Anna Akkerman", "OBS De Linde", "onderwijs")
        bert = world.professional("Bert Bos", "Wijkteam Noord", "jeugdhulp")
        try:
            yield Fed(core, world, running, FederationSync(core), anna, bert, clock)
        finally:
            core.federation = FederationSettings()


# --- staging on the request path ---------------------------------------------------------------


def test_registration_stages_blinded_pseudonyms_and_queues_the_child_without_a_bsn(
    fed: Fed,
) -> None:
    fed.anna.signal(CHILD_BSN, parents=[PARENT_BSN])
    rows = fed.rows("SELECT * FROM federation_pseudonyms")
    assert {r.local_pseudonym for r in rows} == {fed.local(CHILD_BSN), fed.local(PARENT_BSN)}
    for row in rows:
        assert row.element is None and row.key_version is None
        assert row.blinded and row.blind_enc
        everything = repr(tuple(row)).encode() + bytes(row.blind_enc)
        for bsn in (CHILD_BSN, PARENT_BSN):
            unkeyed = b64url(oprf.hash_to_group(bsn.encode()))
            assert bsn.encode() not in everything
            assert unkeyed.encode() not in everything
            assert row.blinded != fed.element(bsn)
    queued = fed.rows("SELECT payload FROM outbox WHERE channel = 'federation'")
    assert fed.local(CHILD_BSN) in {r.payload for r in queued}
    # Nothing went over the network on the request path.
    assert fed.s.keyholder.requests == [] and fed.s.hub.requests == []


def test_a_second_registration_on_the_same_child_keeps_the_first_staging(fed: Fed) -> None:
    fed.anna.signal(CHILD_BSN)
    first = fed.rows("SELECT blinded FROM federation_pseudonyms")
    fed.bert.signal(CHILD_BSN)
    assert fed.rows("SELECT blinded FROM federation_pseudonyms") == first


# --- evaluation and publishing --------------------------------------------------------------------


def test_the_worker_has_the_key_holder_evaluate_and_clears_the_blinds(fed: Fed) -> None:
    fed.anna.signal(CHILD_BSN, parents=[PARENT_BSN])
    fed.sync.run_until_idle()
    rows = {r.local_pseudonym: r for r in fed.rows("SELECT * FROM federation_pseudonyms")}
    for bsn in (CHILD_BSN, PARENT_BSN):
        row = rows[fed.local(bsn)]
        assert row.element == fed.element(bsn)
        assert row.key_version == 1
        assert row.blinded is None and row.blind_enc is None
    sent = fed.s.keyholder.bodies("/federation/v1/evaluate")
    assert sent and all(fed.element(b) not in sent[0]["blindedElements"] for b in (CHILD_BSN,))


def test_evaluating_a_new_registration_does_not_walk_every_stored_pseudonym(fed: Fed) -> None:
    """Regression (bench.federation, 1 M signals: 5.6 s until a cross-region match showed):
    after each evaluation the worker re-read every stored pseudonym to look for ones on an
    older key version. Only a newer key version is a reason to."""
    for number in range(3):
        fed.anna.signal(valid_bsn(number))
    fed.sync.run_until_idle()
    fed.bert.signal(CHILD_BSN)
    with watch_statements(fed.core.database.engine) as log:
        fed.sync.run_round(notices=False)
    walks = [s for s in log.statements if "local_pseudonym >" in " ".join(s.sql.split())]
    assert walks == [], log.describe()
    assert fed.rows("SELECT element FROM federation_pseudonyms WHERE element IS NULL") == []


def test_publish_names_the_child_its_parents_and_state_and_gone_after_erasure(fed: Fed) -> None:
    created = fed.anna.signal(CHILD_BSN, parents=[PARENT_BSN])
    fed.sync.run_until_idle()
    published = fed.s.hub.bodies("/federation/v1/holdings")
    assert published[-1]["keyVersion"] == 1
    (holding,) = published[-1]["holdings"]
    assert holding["child"] == fed.element(CHILD_BSN)
    assert holding["parents"] == [fed.element(PARENT_BSN)]
    assert holding["status"] == "active"
    assert holding["expiresAt"].endswith("Z")
    # Local pseudonyms never leave: not in any body sent anywhere.
    for party in fed.s.parties:
        assert fed.local(CHILD_BSN).split(":")[1] not in repr(party.requests)

    assert fed.anna.delete(f"/api/v1/signals/{created['id']}").status_code == 204
    fed.sync.run_until_idle()
    assert fed.s.hub.bodies("/federation/v1/holdings")[-1]["holdings"][0]["status"] == "archived"

    parsed = parse_bsn(CHILD_BSN)
    assert parsed is not None
    report_death(fed.core, parsed)
    fed.sync.run_until_idle()
    last = fed.s.hub.bodies("/federation/v1/holdings")[-1]["holdings"][0]
    assert (last["status"], last["parents"]) == ("gone", [])
    assert ("regio-a", fed.element(CHILD_BSN)) not in fed.s.hub.holdings
    assert fed.rows("SELECT * FROM federation_published") == []


def test_an_unchanged_child_is_not_published_again(fed: Fed) -> None:
    fed.anna.signal(CHILD_BSN)
    fed.sync.run_until_idle()
    count = len(fed.s.hub.bodies("/federation/v1/holdings"))
    assert reconcile(fed.core) == 0
    fed.anna.get("/api/v1/matches")
    fed.sync.run_until_idle()
    assert len(fed.s.hub.bodies("/federation/v1/holdings")) == count


# --- mirroring and matching -----------------------------------------------------------------------


def test_a_child_held_in_another_region_forms_a_client_match_with_its_contacts(fed: Fed) -> None:
    child = fed.element(CHILD_BSN)
    fed.s.hub.hold("regio-b", child, "active", [])
    fed.s.b.signal(child, "ref-carla", "Carla Claes", "GGD Zuid", "jeugdgezondheidszorg")
    fed.anna.signal(CHILD_BSN)
    fed.sync.run_until_idle()

    (match,) = fed.matches(fed.anna)
    assert match["type"] == "client"
    names = {p["name"] for p in match["participants"]}
    assert names == {"Anna Akkerman", "Carla Claes"}
    carla = next(p for p in match["participants"] if p["name"] == "Carla Claes")
    assert carla["email"] == "carla@regio-b.example"
    mirrored = fed.rows(
        "SELECT s.feed, s.child_pseudonym, f.region, f.remote_child FROM signals s "
        "JOIN federated_signals f ON f.signal_id = s.id"
    )
    assert [tuple(m) for m in mirrored] == [("fed", fed.local(CHILD_BSN), "regio-b", child)]
    # The proxy organisation names its region; contact data is sealed as usual.
    (organisation,) = fed.rows("SELECT name, region FROM organisations WHERE region IS NOT NULL")
    assert tuple(organisation) == ("GGD Zuid", "regio-b")
    (proxy,) = fed.rows(
        "SELECT p.* FROM professionals p JOIN organisations o ON o.id = p.organisation_id "
        "WHERE o.region = 'regio-b'"
    )
    assert proxy.password_hash is None and proxy.roles == ""
    assert b"carla@regio-b.example" not in bytes(proxy.email_enc)
    # The usual match event: a mail to the local participant.
    topics = fed.rows("SELECT topic FROM outbox WHERE channel = 'email'")
    assert topics, "the match was announced like any other"
    # Regio-b was asked with the hub's ticket, for that child only.
    (asked,) = fed.s.b.bodies("/federation/v1/participants")
    assert asked == {"children": [child]}
    actions = {r.action for r in fed.rows("SELECT action FROM audit_events")}
    assert {"worker:federation:publish", "worker:federation:ask"} <= actions


def test_a_sibling_in_another_region_sharing_a_parent_forms_a_family_match(fed: Fed) -> None:
    sibling, parent = fed.element(SIBLING_BSN), fed.element(PARENT_BSN)
    fed.s.hub.hold("regio-b", sibling, "active", [parent])
    fed.s.b.signal(sibling, "ref-dirk", "Dirk Dekker", "Jeugdzorg Zuid", "jeugdhulp")
    fed.bert.signal(CHILD_BSN, parents=[PARENT_BSN])
    fed.sync.run_until_idle()

    (match,) = fed.matches(fed.bert)
    assert match["type"] == "family"
    assert {p["name"] for p in match["participants"]} == {"Bert Bos", "Dirk Dekker"}
    # The sibling is known here only by its federation pseudonym: a stand-in, never its
    # local pseudonym (which this region cannot know) nor the federation pseudonym itself.
    (stand_in,) = fed.rows("SELECT child_pseudonym FROM signals WHERE feed = 'fed'")
    assert stand_in.child_pseudonym != fed.local(SIBLING_BSN)
    assert stand_in.child_pseudonym.split(":")[0] == fed.local(CHILD_BSN).split(":")[0]
    assert sibling not in stand_in.child_pseudonym


def test_the_other_region_withdrawing_dissolves_the_match_through_a_notice(fed: Fed) -> None:
    child = fed.element(CHILD_BSN)
    fed.s.hub.hold("regio-b", child, "active", [])
    fed.s.b.signal(child, "ref-carla", "Carla Claes", "GGD Zuid", "jeugdgezondheidszorg")
    fed.anna.signal(CHILD_BSN)
    fed.sync.run_until_idle()
    assert len(fed.matches(fed.anna)) == 1

    # Regio-b archives its signal: mirrored as archived, the match dissolves, history stays.
    fed.s.b.people[child][0]["status"] = "archived"
    fed.s.hub.hold("regio-b", child, "archived", [])
    fed.sync.run_until_idle()
    assert fed.matches(fed.anna) == []
    assert [r.status for r in fed.rows("SELECT status FROM signals WHERE feed = 'fed'")] == [
        "archived"
    ]
    later = fed.bert.signal(CHILD_BSN)
    assert later["historyAvailable"] is True

    # Regio-b deletes it: the mirrored signal goes too.
    fed.s.b.people[child] = []
    fed.s.hub.hold("regio-b", child, "gone", [])
    fed.sync.run_until_idle()
    assert fed.rows("SELECT id FROM signals WHERE feed = 'fed'") == []
    assert fed.rows("SELECT * FROM federated_signals") == []


# --- outages and key rotation -------------------------------------------------------------------


def test_registration_works_while_the_hub_is_down_and_federation_catches_up(fed: Fed) -> None:
    child = fed.element(CHILD_BSN)
    fed.s.hub.hold("regio-b", child, "active", [])
    fed.s.b.signal(child, "ref-carla", "Carla Claes", "GGD Zuid", "jeugdgezondheidszorg")
    fed.s.hub.stop()
    fed.anna.signal(CHILD_BSN)
    report = fed.sync.run_round(notices=False)
    assert report.evaluated == 2 or report.evaluated == 1
    assert report.errors and "unreachable" in report.errors[0]
    assert fed.matches(fed.anna) == []
    pending = fed.rows(
        "SELECT status, last_error FROM outbox WHERE channel = 'federation' AND status = 'pending'"
    )
    assert pending and all(r.last_error for r in pending)

    fed.s.hub.start()
    assert fed.sync.run_round(notices=False).published == 0  # backing off: not due yet
    fed.clock.advance(seconds=120)
    fed.sync.run_until_idle()
    assert len(fed.matches(fed.anna)) == 1


def test_a_hub_on_a_new_key_version_makes_the_region_rekey_and_publish_again(fed: Fed) -> None:
    created = fed.anna.signal(CHILD_BSN, parents=[PARENT_BSN])
    fed.sync.run_until_idle()
    fed.s.keyholder.rotate()
    fed.s.hub.key_version = 2
    # A change to publish, with no new pseudonym to evaluate: the hub's 409 tells.
    assert fed.anna.delete(f"/api/v1/signals/{created['id']}").status_code == 204
    fed.sync.run_until_idle()
    conflicts = [b for b in fed.s.hub.bodies("/federation/v1/holdings") if b["keyVersion"] == 1]
    assert len(conflicts) == 2  # the first publish, and the one answered 409
    rows = {r.local_pseudonym: r for r in fed.rows("SELECT * FROM federation_pseudonyms")}
    assert rows[fed.local(CHILD_BSN)].element == fed.s.keyholder.element(CHILD_BSN, 2)
    assert rows[fed.local(PARENT_BSN)].key_version == 2
    last = fed.s.hub.bodies("/federation/v1/holdings")[-1]
    assert last["keyVersion"] == 2
    assert last["holdings"][0]["child"] == fed.s.keyholder.element(CHILD_BSN, 2)
    assert last["holdings"][0]["status"] == "archived"
    assert fed.s.keyholder.bodies("/federation/v1/rekey") == [None]


# --- answering participants -----------------------------------------------------------------------


class Asker:
    """Regio-b asking regio-a, with tickets from the stand-in hub."""

    def __init__(self, fed: Fed) -> None:
        self.fed = fed
        self.me = fed.s.b.identity

    def ticket(self, children: list[str], **change: Any) -> str:
        hub = self.fed.s.hub.identity
        claims = {
            "iss": "hub",
            "sub": change.pop("sub", "regio-b"),
            "aud": change.pop("aud", "regio-a"),
            "children": children,
            "cnf": change.pop("cnf", None),
        }
        if claims["cnf"] is None:
            ticket = hub.ticket(claims["sub"], self.me.public_key, claims["aud"], children)
            return ticket
        return hub.sign(claims, 120)

    def ask(
        self,
        children: list[str],
        ticket: str | None,
        assertion: str | None = None,
    ) -> Any:
        headers = {"Authorization": f"Bearer {assertion or self.me.assertion('regio-a')}"}
        if ticket is not None:
            headers["Federation-Ticket"] = ticket
        return self.fed.world.http.post(
            "/federation/v1/participants", json={"children": children}, headers=headers
        )


def _registered_and_evaluated(fed: Fed) -> tuple[str, str]:
    fed.anna.signal(CHILD_BSN, birth_date="2015-03-14", parents=[PARENT_BSN], ownReference="K-7")
    fed.bert.signal(OTHER_CHILD_BSN)
    fed.sync.run_until_idle()
    return fed.element(CHILD_BSN), fed.element(OTHER_CHILD_BSN)


def test_participants_lists_own_signals_on_the_named_children_only(fed: Fed) -> None:
    child, _ = _registered_and_evaluated(fed)
    # A mirrored signal on the same child is never passed on.
    fed.s.hub.hold("regio-c", child, "active", [])
    asker = Asker(fed)
    answer = asker.ask([child], asker.ticket([child]))
    assert answer.status_code == 200, answer.get_json()
    (participant,) = answer.get_json()["participants"]
    assert participant["child"] == child
    assert participant["status"] == "active"
    assert participant["professional"]["name"] == "Anna Akkerman"
    assert participant["professional"]["email"] == "anna.akkerman@example.org"
    assert participant["organisation"] == {
        "id": participant["organisation"]["id"],
        "name": "OBS De Linde",
        "sector": "onderwijs",
    }
    text_of = repr(answer.get_json())
    for secret in ("2015-03-14", "K-7", fed.local(CHILD_BSN).split(":")[1], "informed"):
        assert secret not in text_of
    signal_ids = {str(r.id) for r in fed.rows("SELECT id FROM signals")}
    assert participant["ref"] not in signal_ids
    assert participant["professional"]["id"] != str(fed.anna.professional_id)
    # Stable refs.
    again = asker.ask([child], asker.ticket([child])).get_json()["participants"][0]["ref"]
    assert again == participant["ref"]
    audit = fed.rows("SELECT action, roles FROM audit_events WHERE action LIKE '%answer'")
    assert [(a.action, a.roles) for a in audit][-1][1] == "region:regio-b"


def test_participants_excludes_mirrored_signals(fed: Fed) -> None:
    child = fed.element(CHILD_BSN)
    fed.s.hub.hold("regio-b", child, "active", [])
    fed.s.b.signal(child, "ref-carla", "Carla Claes", "GGD Zuid", "jeugdgezondheidszorg")
    fed.anna.signal(CHILD_BSN)
    fed.sync.run_until_idle()
    assert fed.rows("SELECT id FROM signals WHERE feed = 'fed'")
    asker = Asker(fed)
    names = [
        p["professional"]["name"]
        for p in asker.ask([child], asker.ticket([child])).get_json()["participants"]
    ]
    assert names == ["Anna Akkerman"]


@pytest.mark.parametrize(
    "case",
    ["no ticket", "wrong aud", "other children", "replay", "bad cnf", "other key", "no bearer"],
)
def test_participants_refuses_every_bad_ticket_or_assertion_with_401(fed: Fed, case: str) -> None:
    child, other = _registered_and_evaluated(fed)
    asker = Asker(fed)
    thief = Identity("regio-b", signing_key(fed.core.settings.keys_dir / "thief"))
    if case == "no ticket":
        answer = asker.ask([child], None)
    elif case == "wrong aud":
        answer = asker.ask([child], asker.ticket([child], aud="regio-c"))
    elif case == "other children":
        answer = asker.ask([child, other], asker.ticket([child]))
    elif case == "replay":
        assertion = asker.me.assertion("regio-a")
        first = asker.ask([child], asker.ticket([child]), assertion)
        assert first.status_code == 200
        answer = asker.ask([child], asker.ticket([child]), assertion)
    elif case == "bad cnf":
        cnf = {"jkt": "x" * 43, "jwk": {"kty": "OKP", "crv": "Ed25519", "x": b64url(bytes(32))}}
        answer = asker.ask([child], asker.ticket([child], cnf=cnf))
    elif case == "other key":
        answer = asker.ask([child], asker.ticket([child]), thief.assertion("regio-a"))
    else:
        answer = fed.world.http.post(
            "/federation/v1/participants",
            json={"children": [child]},
            headers={"Federation-Ticket": asker.ticket([child])},
        )
    assert answer.status_code == 401, answer.get_json()
    assert answer.headers["Content-Type"].startswith("application/problem+json")


def test_participants_refuses_a_bad_body_with_400(fed: Fed) -> None:
    asker = Asker(fed)
    for body in ({"children": []}, {"children": ["short"]}, {"kids": []}, [1, 2]):
        answer = fed.world.http.post(
            "/federation/v1/participants",
            json=body,
            headers={
                "Authorization": f"Bearer {asker.me.assertion('regio-a')}",
                "Federation-Ticket": asker.ticket(["a" * 43]),
            },
        )
        assert answer.status_code == 400, body
        assert answer.headers["Content-Type"].startswith("application/problem+json")


# --- the CLI --------------------------------------------------------------------------------------


def _cli(fed: Fed, *args: str) -> Any:
    from click.testing import CliRunner

    from verwijsindex.cli import main

    settings = fed.core.federation
    env = {
        "VERWIJSINDEX_DATABASE_URL": fed.core.settings.database_url,
        "VERWIJSINDEX_KEYS_DIR": str(fed.core.settings.keys_dir),
        "VERWIJSINDEX_FEDERATION_NAME": "regio-a",
        "VERWIJSINDEX_FEDERATION_HUB_URL": str(settings.hub_url),
        "VERWIJSINDEX_FEDERATION_KEYHOLDER_URL": str(settings.keyholder_url),
        "VERWIJSINDEX_FEDERATION_HUB_KEY": str(settings.hub_key_file),
    }
    return CliRunner().invoke(main, list(args), env=env)


def test_federation_status_and_reconcile_on_the_command_line(fed: Fed) -> None:
    import json

    fed.anna.signal(CHILD_BSN, parents=[PARENT_BSN])
    status = _cli(fed, "federation", "status", "--json")
    assert status.exit_code == 0, status.output
    before = json.loads(status.output)
    assert before["pendingEvaluations"] == 2
    assert before["queuedPublishes"] >= 1
    assert before["lastPublish"] is None

    fed.sync.run_until_idle()
    after = json.loads(_cli(fed, "federation", "status", "--json").output)
    assert (after["pendingEvaluations"], after["queuedPublishes"]) == (0, 0)
    assert after["lastPublish"] is not None

    # A change that locked nobody (here: forgotten by hand) is found by reconcile.
    with fed.core.database.engine.begin() as connection:
        connection.execute(text("UPDATE federation_published SET fingerprint = 'stale'"))
    reconciled = _cli(fed, "federation", "reconcile", "--json")
    assert reconciled.exit_code == 0, reconciled.output
    assert json.loads(reconciled.output) == {"queued": 1}
    fed.clock.now = datetime.now(UTC)  # the command queued it at the real time
    fed.sync.run_until_idle()
    assert json.loads(_cli(fed, "federation", "reconcile", "--json").output) == {"queued": 0}


# --- the other ways in: CSV import and the sync API -----------------------------------------------


def _staged_and_queued(fed: Fed, *bsns: str) -> None:
    rows = {r.local_pseudonym: r for r in fed.rows("SELECT * FROM federation_pseudonyms")}
    for bsn in bsns:
        row = rows[fed.local(bsn)]
        assert row.blinded and row.blind_enc and row.element is None
    queued = {r.payload for r in fed.rows("SELECT payload FROM outbox WHERE channel='federation'")}
    assert fed.local(bsns[0]) in queued


def test_a_csv_import_stages_and_queues_like_a_registration(fed: Fed) -> None:
    from verwijsindex.services.csv_import import import_rows
    from verwijsindex.services.csv_values import parse_row

    row = parse_row(
        2,
        {
            "professional": str(fed.anna.professional_id),
            "bsn": CHILD_BSN,
            "birthDate": "2015-03-14",
            "parentBsns": PARENT_BSN,
            "childInformed": "ja",
            "parentsInformed": "ja",
        },
    )
    assert import_rows(fed.core, [row], fed.anna.organisation_id).report.created == 1
    _staged_and_queued(fed, CHILD_BSN, PARENT_BSN)
    fed.sync.run_until_idle()
    (holding,) = fed.s.hub.bodies("/federation/v1/holdings")[-1]["holdings"]
    assert holding["parents"] == [fed.element(PARENT_BSN)]


def test_a_sync_run_stages_when_accepted_and_queues_when_applied(fed: Fed) -> None:
    from tests.e2e.test_sync_api import item, source
    from verwijsindex.services.sync_runs import apply_due_runs

    school = source(fed.world, fed.anna.organisation_id)
    accepted = school.put([item("leerling-1", fed.anna, CHILD_BSN, parents=[PARENT_BSN])])
    assert accepted.status_code == 202, accepted.get_json()
    staged = fed.rows("SELECT local_pseudonym FROM federation_pseudonyms")
    assert {r.local_pseudonym for r in staged} == {fed.local(CHILD_BSN), fed.local(PARENT_BSN)}
    apply_due_runs(fed.core)
    _staged_and_queued(fed, CHILD_BSN, PARENT_BSN)
    fed.sync.run_until_idle()
    assert fed.s.hub.bodies("/federation/v1/holdings")[-1]["holdings"][0]["status"] == "active"


def test_erasing_the_local_child_removes_the_mirrored_family_it_anchored(fed: Fed) -> None:
    sibling, other_sibling, parent = (
        fed.element(SIBLING_BSN),
        fed.element(OTHER_CHILD_BSN),
        fed.element(PARENT_BSN),
    )
    for child, ref, name in ((sibling, "r1", "Dirk Dekker"), (other_sibling, "r2", "Eva Eek")):
        fed.s.hub.hold("regio-b", child, "active", [parent])
        fed.s.b.signal(child, ref, name, "Jeugdzorg Zuid", "jeugdhulp")
    fed.bert.signal(CHILD_BSN, parents=[PARENT_BSN])
    fed.sync.run_until_idle()
    assert len(fed.rows("SELECT id FROM signals WHERE feed = 'fed'")) == 2
    assert [m["type"] for m in fed.matches(fed.bert)] == ["family"]

    parsed = parse_bsn(CHILD_BSN)
    assert parsed is not None
    report_death(fed.core, parsed)
    fed.sync.run_until_idle()
    # Nothing here anchors regio-b's two siblings any more: no match of theirs stays behind.
    assert fed.rows("SELECT id FROM signals WHERE feed = 'fed'") == []
    assert fed.rows("SELECT id FROM matches") == []


def test_an_unauthenticated_bad_body_is_401_not_400(fed: Fed) -> None:
    answer = fed.world.http.post("/federation/v1/participants", json={"kids": 1})
    assert answer.status_code == 401
    assert answer.headers["Content-Type"].startswith("application/problem+json")


def test_with_federation_off_there_is_no_participants_endpoint(fed: Fed) -> None:
    fed.core.federation = FederationSettings()
    answer = fed.world.http.post("/federation/v1/participants", json={"children": ["a" * 43]})
    assert answer.status_code == 404
    assert answer.headers["Content-Type"].startswith("application/problem+json")


def test_the_lifecycle_sweep_queues_the_child_and_maintenance_reconciles(fed: Fed) -> None:
    import json

    from verwijsindex.services.lifecycle import run_maintenance

    fed.anna.signal(CHILD_BSN)
    fed.sync.run_until_idle()
    fed.clock.advance(days=2 * 366 + 1)  # past the active period: archived by the sweep
    assert run_maintenance(fed.core).archived == 1
    fed.sync.run_until_idle()
    assert fed.s.hub.bodies("/federation/v1/holdings")[-1]["holdings"][0]["status"] == "archived"

    done = _cli(fed, "maintenance", "--json")
    assert done.exit_code == 0, done.output
    # The last line is the report (a checkpoint line may come first, from the audit anchor).
    assert json.loads(done.output.splitlines()[-1])["federationRequeued"] == 0
