"""The hub (docs/federation.md, "Hub"): publish, lookup, notices, tickets, expiry, key
version and rotation, authentication; and the regression test for two regions publishing
the same child, or siblings, at the same moment (they must never miss each other)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import jwt
import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import FakeClock, _empty_all_tables
from tests.integration.federation_support import (
    Member,
    assert_problem,
    audit_actions,
    element,
    enrol,
)
from verwijsindex.config import Settings
from verwijsindex.federation import hub, oprf
from verwijsindex.federation.hub_messages import Holding
from verwijsindex.federation.identity import b64url, from_b64url, thumbprint
from verwijsindex.federation.problems import FederationProblem
from verwijsindex.federation.server_app import Server, create_federation_app, server_of
from verwijsindex.federation.settings import FederationSettings
from verwijsindex.models import HubHoldingParentRow, HubHoldingRow, HubNoticeRow


@pytest.fixture
def hub_app(settings: Settings, clock: FakeClock) -> Iterator[Flask]:
    _empty_all_tables(settings.database_url)
    app = create_federation_app("hub", settings, FederationSettings(), clock=clock)
    yield app
    server_of(app).database.dispose()


@pytest.fixture
def a(hub_app: Flask) -> Member:
    return enrol(hub_app, "regio-a", "http://a.example")


@pytest.fixture
def b(hub_app: Flask) -> Member:
    return enrol(hub_app, "regio-b", "http://b.example")


def until(clock: FakeClock, days: int = 365) -> str:
    return (clock.now + timedelta(days=days)).isoformat().replace("+00:00", "Z")


def holding(
    clock: FakeClock, child: str, parents: list[str] | None = None, status: str = "active"
) -> dict[str, Any]:
    return {"child": child, "parents": parents or [], "status": status, "expiresAt": until(clock)}


def publish(member: Member, *holdings: dict[str, Any], version: int = 1) -> list[dict[str, Any]]:
    answer = member.call(
        "POST", "/federation/v1/holdings", {"keyVersion": version, "holdings": list(holdings)}
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.headers["Content-Type"] == "application/json"
    results: list[dict[str, Any]] = answer.get_json()["results"]
    return results


def lookup(member: Member, *children: str) -> list[dict[str, Any]]:
    answer = member.call(
        "POST", "/federation/v1/lookup", {"keyVersion": 1, "children": list(children)}
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    results: list[dict[str, Any]] = answer.get_json()["results"]
    return results


def notices(member: Member, after: int = 0) -> dict[str, Any]:
    answer = member.call("GET", f"/federation/v1/notices?after={after}")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    found: dict[str, Any] = answer.get_json()
    return found


def noticed_children(member: Member) -> list[str]:
    return [n["child"] for n in notices(member)["notices"]]


# --- the race (regression) --------------------------------------------------------------------


def _race(server: Server, pairs: list[tuple[str, list[Holding]]], rounds: int) -> list[bool]:
    """Each round, the regions in `pairs` publish at the same moment (a barrier), each in
    its own transaction and connection; returns per publish whether it saw a counterpart."""
    identity_key = server.identity.public_key
    saw: list[bool] = []
    lock = threading.Lock()

    def run(region: str, holdings: list[Holding], barrier: threading.Barrier) -> bool:
        barrier.wait()
        results = server.transaction(
            lambda s: hub.publish(
                s, server.identity, region, identity_key, 1, holdings, server.clock()
            )
        )
        return any(c["region"] != region for r in results for c in r["counterparts"])

    with ThreadPoolExecutor(len(pairs)) as pool:
        for index in range(rounds):
            barrier = threading.Barrier(len(pairs))
            futures = [
                pool.submit(run, region, [holdings[index]], barrier) for region, holdings in pairs
            ]
            with lock:
                saw.extend(f.result() for f in futures)
    return saw


def _notices(server: Server) -> set[tuple[str, str]]:
    with server.database.unit_of_work(write=False) as uow:
        rows = uow.session.execute(select(HubNoticeRow.region, HubNoticeRow.child))
        return {(region, child) for region, child in rows}


ROUNDS = 40


@pytest.mark.postgres_only
def test_two_regions_publishing_the_same_child_at_once_never_miss_each_other(
    hub_app: Flask, a: Member, b: Member, clock: FakeClock
) -> None:
    server = server_of(hub_app)
    expiry = clock.now + timedelta(days=365)
    children = [element(f"race-{i}") for i in range(ROUNDS)]
    holdings = [Holding(c, (), "active", expiry) for c in children]
    saw = _race(server, [("regio-a", holdings), ("regio-b", holdings)], ROUNDS)
    noticed = _notices(server)
    for index, child in enumerate(children):
        for offset, region in enumerate(("regio-a", "regio-b")):
            assert saw[2 * index + offset] or (region, child) in noticed, (
                f"round {index}: {region} neither saw the other region nor got a notice"
            )


@pytest.mark.postgres_only
def test_two_regions_publishing_siblings_at_once_never_miss_each_other(
    hub_app: Flask, a: Member, b: Member, clock: FakeClock
) -> None:
    server = server_of(hub_app)
    expiry = clock.now + timedelta(days=365)
    parents = [element(f"parent-{i}") for i in range(ROUNDS)]
    in_a = [Holding(element(f"first-{i}"), (p,), "active", expiry) for i, p in enumerate(parents)]
    in_b = [Holding(element(f"second-{i}"), (p,), "active", expiry) for i, p in enumerate(parents)]
    saw = _race(server, [("regio-a", in_a), ("regio-b", in_b)], ROUNDS)
    noticed = _notices(server)
    for index in range(ROUNDS):
        for offset, (region, own) in enumerate((("regio-a", in_a), ("regio-b", in_b))):
            assert saw[2 * index + offset] or (region, own[index].child) in noticed, (
                f"round {index}: {region} neither saw its sibling nor got a notice"
            )


# --- publish, counterparts, tickets, notices --------------------------------------------------


def test_the_same_child_in_two_regions_is_a_client_counterpart_with_a_ticket(
    hub_app: Flask, a: Member, b: Member, clock: FakeClock
) -> None:
    child = element("child")
    first = publish(a, holding(clock, child))
    assert first == [{"child": child, "counterparts": [], "tickets": {}}]

    second = publish(b, holding(clock, child))
    assert second[0]["counterparts"] == [
        {
            "region": "regio-a",
            "url": "http://a.example",
            "kind": "client",
            "child": child,
            "status": "active",
            "via": [],
        }
    ]
    hub_identity = server_of(hub_app).identity
    claims = jwt.decode(
        second[0]["tickets"]["regio-a"],
        hub_identity.public_key,
        algorithms=["EdDSA"],
        audience="regio-a",
    )
    assert (claims["iss"], claims["sub"], claims["children"]) == ("hub", "regio-b", [child])
    assert claims["cnf"]["jkt"] == thumbprint(b.identity.public_key)
    assert claims["exp"] - claims["iat"] == 120
    # Regio-a learns of it by a notice on its own child; regio-b, who caused it, does not.
    assert noticed_children(a) == [child]
    assert noticed_children(b) == []
    # Publishing the same statement again changes nothing: no new notice (no ping-pong).
    publish(b, holding(clock, child))
    assert len(noticed_children(a)) == 1


def test_siblings_sharing_a_parent_are_family_counterparts_via_that_parent(
    hub_app: Flask, a: Member, b: Member, clock: FakeClock
) -> None:
    parent, other_parent = element("parent"), element("other-parent")
    first, second = element("first"), element("second")
    publish(a, holding(clock, first, [parent]))
    result = publish(b, holding(clock, second, [parent, other_parent], status="archived"))[0]
    assert result["counterparts"] == [
        {
            "region": "regio-a",
            "url": "http://a.example",
            "kind": "family",
            "child": first,
            "status": "active",
            "via": [parent],
        }
    ]
    assert set(result["tickets"]) == {"regio-a"}
    assert noticed_children(a) == [first]
    seen_by_a = lookup(a, first)[0]["counterparts"]
    assert [(c["kind"], c["child"], c["status"], c["via"]) for c in seen_by_a] == [
        ("family", second, "archived", [parent])
    ]


def test_gone_deletes_the_pointer_and_its_parent_links_and_tells_the_others(
    hub_app: Flask, a: Member, b: Member, clock: FakeClock
) -> None:
    child, parent = element("child"), element("parent")
    publish(a, holding(clock, child, [parent]))
    publish(b, holding(clock, child))
    seq = notices(a)["last"]
    gone = publish(b, {"child": child, "status": "gone"})
    assert gone == [{"child": child, "counterparts": [], "tickets": {}}]
    assert lookup(a, child)[0]["counterparts"] == []
    assert [n["child"] for n in notices(a, seq)["notices"]] == [child]
    server = server_of(hub_app)
    with server.database.unit_of_work(write=False) as uow:
        held = uow.session.execute(select(HubHoldingRow.region)).scalars().all()
        links = uow.session.execute(select(HubHoldingParentRow.region)).scalars().all()
    assert held == ["regio-a"] and links == ["regio-a"]


def test_lookup_answers_only_for_children_the_caller_holds_and_changes_nothing(
    hub_app: Flask, a: Member, b: Member, clock: FakeClock
) -> None:
    mine, theirs = element("mine"), element("theirs")
    publish(a, holding(clock, mine), holding(clock, theirs))
    publish(b, holding(clock, mine))
    before = notices(a)
    results = lookup(b, theirs, mine)
    assert [r["child"] for r in results] == [mine]
    assert results[0]["counterparts"][0]["region"] == "regio-a"
    assert notices(a) == before
    actions = [(m, action, d) for m, action, d in audit_actions(server_of(hub_app))]
    assert (
        "regio-b",
        "hub:lookup",
        {"children": 2, "held": 1, "counterparts": 1, "tickets": {"regio-a": 1}},
    ) in actions


def test_notices_after_a_sequence_number_are_discarded_up_to_it(
    hub_app: Flask, a: Member, b: Member, clock: FakeClock
) -> None:
    children = [element(f"c{i}") for i in range(3)]
    publish(a, *(holding(clock, c) for c in children))
    publish(b, holding(clock, children[0]))
    publish(b, holding(clock, children[1]), holding(clock, children[2]))
    first = notices(a)
    assert sorted(n["child"] for n in first["notices"]) == sorted(children)
    cut = first["notices"][0]["seq"]
    rest = notices(a, cut)
    assert [n["seq"] for n in rest["notices"]] == [n["seq"] for n in first["notices"][1:]]
    assert rest["last"] == first["last"]
    assert notices(a, first["last"]) == {"notices": [], "last": first["last"]}
    assert notices(a) == {"notices": [], "last": 0}  # discarded, not merely skipped


def test_expired_pointers_are_swept_on_publish_and_tell_the_others(
    hub_app: Flask, a: Member, b: Member, clock: FakeClock
) -> None:
    child = element("child")
    soon = (clock.now + timedelta(hours=1)).isoformat()
    publish(a, {"child": child, "parents": [], "status": "archived", "expiresAt": soon})
    publish(b, holding(clock, child))
    b_seen = notices(b)["last"]
    clock.advance(hours=2)
    assert lookup(b, child)[0]["counterparts"] == []  # expired: no longer a counterpart
    publish(b, holding(clock, element("unrelated")))
    assert [n["child"] for n in notices(b, b_seen)["notices"]] == [child]
    with server_of(hub_app).database.unit_of_work(write=False) as uow:
        regions = uow.session.execute(select(HubHoldingRow.region)).scalars().all()
    assert sorted(regions) == ["regio-b", "regio-b"]


def test_a_revoked_regions_pointers_are_no_counterparts(
    hub_app: Flask, a: Member, b: Member, clock: FakeClock
) -> None:
    from datetime import UTC, datetime

    from verwijsindex.federation import members

    child = element("child")
    publish(a, holding(clock, child))
    server = server_of(hub_app)
    server.transaction(lambda s: members.revoke(s, "regio-a", datetime.now(UTC)))
    assert publish(b, holding(clock, child))[0]["counterparts"] == []
    assert_problem(a.call("GET", "/federation/v1/notices"), 401)


# --- key version and rotation ----------------------------------------------------------------


def test_another_key_version_is_a_409_with_the_current_one(
    hub_app: Flask, a: Member, clock: FakeClock
) -> None:
    answer = a.call(
        "POST",
        "/federation/v1/holdings",
        {"keyVersion": 2, "holdings": [holding(clock, element("x"))]},
    )
    assert assert_problem(answer, 409)["currentKeyVersion"] == 1
    answer = a.call("POST", "/federation/v1/lookup", {"keyVersion": 3, "children": []})
    assert assert_problem(answer, 409)["currentKeyVersion"] == 1


def test_rotation_rekeys_every_pointer_and_keeps_the_matches(
    hub_app: Flask, a: Member, b: Member, clock: FakeClock
) -> None:
    old_key, new_key = oprf.random_key(), oprf.random_key()

    def pseudonym(key: bytes, label: str) -> str:
        return b64url(oprf.blind_evaluate(key, oprf.hash_to_group(label.encode())))

    child, parent, sibling = "child", "parent", "sibling"
    publish(a, holding(clock, pseudonym(old_key, child), [pseudonym(old_key, parent)]))
    publish(b, holding(clock, pseudonym(old_key, child)))
    publish(b, holding(clock, pseudonym(old_key, sibling), [pseudonym(old_key, parent)]))
    server = server_of(hub_app)
    factor = oprf.rekey_factor(old_key, new_key)
    count = server.transaction(lambda s: hub.rekey_all(s, factor, 1, clock.now))
    assert count == 3

    refused = a.call("POST", "/federation/v1/lookup", {"keyVersion": 1, "children": []})
    assert assert_problem(refused, 409)["currentKeyVersion"] == 2
    answer = b.call(
        "POST",
        "/federation/v1/lookup",
        {"keyVersion": 2, "children": [pseudonym(new_key, child), pseudonym(new_key, sibling)]},
    )
    assert answer.status_code == 200, answer.get_json()
    found = {
        (r["child"], c["kind"], c["child"], tuple(c["via"]))
        for r in answer.get_json()["results"]
        for c in r["counterparts"]
    }
    new_child, new_parent = pseudonym(new_key, child), pseudonym(new_key, parent)
    assert found == {
        (new_child, "client", new_child, ()),
        (pseudonym(new_key, sibling), "family", new_child, (new_parent,)),
    }
    assert from_b64url(new_child) == oprf.rekey(factor, from_b64url(pseudonym(old_key, child)))
    with pytest.raises(FederationProblem):
        server.transaction(lambda s: hub.rekey_all(s, factor, 1, clock.now))


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        [],
        {"holdings": []},
        {"keyVersion": "1", "holdings": []},
        {"keyVersion": 1},
        {"keyVersion": 1, "holdings": [{"child": "x", "status": "active"}]},
        {"keyVersion": 1, "holdings": [{"child": b64url(bytes(32)), "status": "gone"}]},
        {"keyVersion": 1, "holdings": [{"child": element("c"), "status": "lost"}]},
        {"keyVersion": 1, "holdings": [{"child": element("c"), "status": "active"}]},
        {
            "keyVersion": 1,
            "holdings": [
                {"child": element("c"), "status": "active", "expiresAt": "2030-01-01T00:00:00"}
            ],
        },
        {
            "keyVersion": 1,
            "holdings": [{"child": element("c"), "status": "gone"}] * 2,
        },
        {
            "keyVersion": 1,
            "holdings": [
                {
                    "child": element("c"),
                    "parents": [element("c")],
                    "status": "active",
                    "expiresAt": "2030-01-01T00:00:00Z",
                }
            ],
        },
    ],
)
def test_bad_bodies_are_400_problems_that_quote_no_value(
    hub_app: Flask, a: Member, body: object
) -> None:
    raw = body if isinstance(body, str) else None
    if raw is not None:
        answer = a.http.post("/federation/v1/holdings", data=raw, headers=a.headers())
    else:
        answer = a.call("POST", "/federation/v1/holdings", body)
    problem = assert_problem(answer, 400)
    assert element("c") not in problem["detail"]


def test_unknown_paths_and_methods_are_problems(hub_app: Flask, a: Member) -> None:
    assert_problem(a.call("GET", "/federation/v1/evaluate"), 404)
    answer = a.call("GET", "/federation/v1/holdings")
    assert assert_problem(answer, 405) and "POST" in answer.headers["Allow"]
    assert_problem(a.call("GET", "/federation/v1/notices?after=-1"), 400)


def test_health_needs_no_credentials(hub_app: Flask) -> None:
    answer = hub_app.test_client().get("/federation/v1/health")
    assert answer.status_code == 200
    assert answer.get_json()["mode"] == "hub"


def test_calls_without_a_valid_assertion_are_401_and_audited(
    hub_app: Flask, a: Member, b: Member
) -> None:
    client = hub_app.test_client()
    body = {"keyVersion": 1, "children": []}
    assert_problem(client.post("/federation/v1/lookup", json=body), 401)
    # Addressed to another member.
    wrong = {"Authorization": f"Bearer {a.identity.assertion('keyholder')}"}
    assert_problem(client.post("/federation/v1/lookup", json=body, headers=wrong), 401)
    # Replayed.
    once = a.headers()
    assert client.post("/federation/v1/lookup", json=body, headers=once).status_code == 200
    assert_problem(client.post("/federation/v1/lookup", json=body, headers=once), 401)
    # Signed by a key nobody enrolled, under an enrolled name.
    stranger = enrol(hub_app, "regio-c").identity
    from verwijsindex.federation.identity import Identity

    forged = Identity("regio-a", stranger.key)
    headers = {"Authorization": f"Bearer {forged.assertion('hub')}"}
    assert_problem(client.post("/federation/v1/lookup", json=body, headers=headers), 401)
    refused = [d for _, action, d in audit_actions(server_of(hub_app)) if action == "hub:refused"]
    assert len(refused) == 4 and all(d["status"] == 401 for d in refused)
