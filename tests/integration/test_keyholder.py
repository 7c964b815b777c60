"""The key holder (docs/federation.md, "Key holder"): evaluation under the current key
version, its validation and rate limit, re-key factors, rotation, authentication and the
audit (counts only)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from tests.conftest import FakeClock, _empty_all_tables
from tests.integration.federation_support import (
    Member,
    assert_problem,
    audit_actions,
    enrol,
)
from verwijsindex.config import Settings
from verwijsindex.federation import keyholder, members, oprf
from verwijsindex.federation.identity import Identity, b64url, from_b64url
from verwijsindex.federation.server_app import create_federation_app, server_of
from verwijsindex.federation.settings import FederationSettings

RATE = 50


@pytest.fixture
def keyholder_app(settings: Settings, clock: FakeClock) -> Iterator[Flask]:
    _empty_all_tables(settings.database_url)
    federation = FederationSettings(keyholder_rate_per_minute=RATE)
    app = create_federation_app("keyholder", settings, federation, clock=clock)
    yield app
    server_of(app).database.dispose()


@pytest.fixture
def region(keyholder_app: Flask) -> Member:
    return enrol(keyholder_app, "regio-a")


def evaluate(member: Member, elements: list[str]) -> Any:
    return member.call("POST", "/federation/v1/evaluate", {"blindedElements": elements})


def pseudonym_via(member: Member, message: bytes) -> tuple[int, bytes]:
    """What a region does: blind, have it evaluated, unblind."""
    blinded = oprf.blind(message)
    answer = evaluate(member, [b64url(blinded.blinded_element)])
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    evaluated = from_b64url(body["evaluatedElements"][0])
    return body["keyVersion"], oprf.unblind(blinded.blind, evaluated)


def current_scalar(app: Flask) -> tuple[int, bytes]:
    server = server_of(app)
    return server.transaction(
        lambda s: keyholder.current_key(s, server.keys.cipher, datetime.now(UTC))
    )


def test_evaluation_is_blind_evaluate_under_the_current_key_made_on_first_use(
    keyholder_app: Flask, region: Member
) -> None:
    blinded = [oprf.blind(f"message {i}".encode()) for i in range(3)]
    answer = evaluate(region, [b64url(b.blinded_element) for b in blinded])
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["keyVersion"] == 1
    version, key = current_scalar(keyholder_app)
    assert version == 1
    assert body["evaluatedElements"] == [
        b64url(oprf.blind_evaluate(key, b.blinded_element)) for b in blinded
    ]
    # Two regions blinding differently arrive at the same pseudonym, k·H(message).
    other = enrol(keyholder_app, "regio-b")
    mine, theirs = pseudonym_via(region, b"same"), pseudonym_via(other, b"same")
    assert mine == theirs == (1, oprf.blind_evaluate(key, oprf.hash_to_group(b"same")))
    # The scalar is sealed at rest, not stored as it is.
    with server_of(keyholder_app).database.unit_of_work(write=False) as uow:
        from sqlalchemy import select

        from verwijsindex.models import KeyholderKeyRow

        sealed = uow.session.execute(select(KeyholderKeyRow.secret_enc)).scalar_one()
    assert key not in sealed and b64url(key).encode() not in sealed


def test_the_audit_has_counts_and_versions_never_elements(
    keyholder_app: Flask, region: Member
) -> None:
    elements = [b64url(oprf.blind(b"m").blinded_element) for _ in range(2)]
    assert evaluate(region, elements).status_code == 200
    entries = audit_actions(server_of(keyholder_app))
    assert entries == [("regio-a", "keyholder:evaluate", {"count": 2, "keyVersion": 1})]


@pytest.mark.parametrize(
    "elements",
    [
        [],
        "AAAA",
        [b64url(bytes(32))],  # the identity
        [b64url(b"\xff" * 32)],  # not a canonical encoding
        ["not base64 at all, no"],
        [17],
        [b64url(oprf.hash_to_group(b"x"))] * 1001,
    ],
    ids=["none", "not-a-list", "identity", "non-canonical", "garbage", "number", "too-many"],
)
def test_invalid_elements_are_400(region: Member, elements: object) -> None:
    answer = region.call("POST", "/federation/v1/evaluate", {"blindedElements": elements})
    assert_problem(answer, 400)


def test_bad_json_is_400(region: Member) -> None:
    answer = region.http.post("/federation/v1/evaluate", data="{", headers=region.headers())
    assert_problem(answer, 400)


def test_more_than_the_rate_in_a_minute_is_429_with_retry_after(
    keyholder_app: Flask, region: Member, clock: FakeClock
) -> None:
    element = b64url(oprf.hash_to_group(b"x"))
    assert evaluate(region, [element] * 30).status_code == 200
    assert evaluate(region, [element] * 20).status_code == 200
    refused = evaluate(region, [element])
    assert_problem(refused, 429)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # Another member has its own budget; the next minute, the region has a new one.
    assert evaluate(enrol(keyholder_app, "regio-b"), [element]).status_code == 200
    clock.advance(minutes=1)
    assert evaluate(region, [element] * RATE).status_code == 200
    refusals = [
        d for _, action, d in audit_actions(server_of(keyholder_app)) if action.endswith("refused")
    ]
    assert refusals == [{"route": "/federation/v1/evaluate", "status": 429}]


def test_the_rekey_factor_moves_a_pseudonym_to_the_next_key_version(
    keyholder_app: Flask, region: Member
) -> None:
    _, before = pseudonym_via(region, b"child")
    server = server_of(keyholder_app)
    assert (
        server.transaction(lambda s: keyholder.rotate(s, server.keys.cipher, datetime.now(UTC)))
        == 2
    )
    version, after = pseudonym_via(region, b"child")
    assert version == 2 and after != before
    answer = region.call("GET", "/federation/v1/rekey?from=1&to=2")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert (body["from"], body["to"]) == (1, 2)
    assert oprf.rekey(from_b64url(body["factor"]), before) == after
    assert_problem(region.call("GET", "/federation/v1/rekey?from=1&to=3"), 404)
    assert_problem(region.call("GET", "/federation/v1/rekey?from=one&to=2"), 400)
    assert ("regio-a", "keyholder:rekey", {"from": 1, "to": 2}) in audit_actions(server)


def test_unauthenticated_replayed_revoked_and_misaddressed_calls_are_401(
    keyholder_app: Flask, region: Member
) -> None:
    element = b64url(oprf.hash_to_group(b"x"))
    body = {"blindedElements": [element]}
    client = keyholder_app.test_client()
    assert_problem(client.post("/federation/v1/evaluate", json=body), 401)
    garbage = {"Authorization": "Bearer not-a-jwt"}
    assert_problem(client.post("/federation/v1/evaluate", json=body, headers=garbage), 401)
    wrong = {"Authorization": f"Bearer {region.identity.assertion('hub')}"}
    assert_problem(client.post("/federation/v1/evaluate", json=body, headers=wrong), 401)
    once = region.headers()
    assert client.post("/federation/v1/evaluate", json=body, headers=once).status_code == 200
    replay = client.post("/federation/v1/evaluate", json=body, headers=once)
    assert "used before" in assert_problem(replay, 401)["detail"]
    server = server_of(keyholder_app)
    server.transaction(lambda s: members.revoke(s, "regio-a", datetime.now(UTC)))
    assert_problem(evaluate(region, [element]), 401)
    assert_problem(region.call("GET", "/federation/v1/rekey?from=1&to=1"), 401)
    # A hub's routes are not the key holder's.
    assert_problem(
        Member(Identity("x", region.identity.key), client, "keyholder").call(
            "POST", "/federation/v1/holdings", {}
        ),
        404,
    )
