"""Federation end to end (issue 15, contract section 11): a key holder, a hub and two regions
as real processes on loopback, each with its own PostgreSQL database, enrolled as the README
shows. The tests run in file order on one federation (starting four servers is the slow part).
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import _postgres_url
from tests.federation_processes import Federation, Region, eventually, federation, valid_bsn
from verwijsindex.federation import oprf
from verwijsindex.federation.identity import Identity, signing_key

BIRTH = "2014-05-01"
USED_BSNS: list[str] = []


def bsn(number: int) -> str:
    value = valid_bsn(number)
    USED_BSNS.append(value)
    return value


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    with federation(tmp_path_factory.mktemp("federation"), _postgres_url()) as running:
        a, b = running.a, running.b
        a.professional("OBS De Linde", "onderwijs", "Anna Akkerman", "anna@linde.example")
        a.professional("Wijkteam Noord", "jeugdhulp", "Bert Bos", "bert@wijkteam.example")
        b.professional("GGD Zuid", "jeugdgezondheidszorg", "Carla Claes", "carla@ggd.example")
        b.professional("Jeugdzorg Zuid", "jeugdhulp", "Dirk Dekker", "dirk@jz.example")
        yield running


def matches_of(region: Region, index: int = 0) -> list[dict[str, Any]]:
    answer = region.api(region.professionals[index], "GET", "/api/v1/matches")
    assert answer.status == 200, answer.body
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def match_with(region: Region, kind: str, other: str, index: int = 0) -> dict[str, Any] | None:
    """The caller's match of `kind` in which a professional named `other` takes part."""
    for match in matches_of(region, index):
        if match["type"] == kind and any(p["name"] == other for p in match["participants"]):
            return match
    return None


def participant(match: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in match["participants"] if p["name"] == name)


def test_one_child_in_two_regions_is_a_match_in_both_with_each_others_contact_details(
    fed: Federation,
) -> None:
    child = bsn(1)
    created = fed.a.signal(fed.a.professionals[0], child, BIRTH)
    assert created.status == 201, created.body
    assert fed.b.signal(fed.b.professionals[0], child, BIRTH).status == 201

    in_a = eventually(
        lambda: match_with(fed.a, "client", "Carla Claes"), what="regio-a sees regio-b's Carla"
    )
    in_b = eventually(
        lambda: match_with(fed.b, "client", "Anna Akkerman"), what="regio-b sees regio-a's Anna"
    )
    carla = participant(in_a, "Carla Claes")
    assert carla["email"] == "carla@ggd.example"
    assert carla["organisation"] == "GGD Zuid"
    assert carla["sector"] == "jeugdgezondheidszorg"
    assert carla["region"] == "regio-b"
    assert participant(in_a, "Anna Akkerman")["region"] is None
    anna = participant(in_b, "Anna Akkerman")
    assert (anna["email"], anna["region"]) == ("anna@linde.example", "regio-a")


def test_siblings_in_two_regions_sharing_a_parent_are_a_family_match(fed: Federation) -> None:
    parent, first, second = bsn(10), bsn(11), bsn(12)
    assert fed.a.signal(fed.a.professionals[1], first, "2012-01-01", [parent]).status == 201
    assert fed.b.signal(fed.b.professionals[1], second, "2016-01-01", [parent]).status == 201

    in_a = eventually(
        lambda: match_with(fed.a, "family", "Dirk Dekker", 1), what="family match in regio-a"
    )
    in_b = eventually(
        lambda: match_with(fed.b, "family", "Bert Bos", 1), what="family match in regio-b"
    )
    assert participant(in_a, "Dirk Dekker")["region"] == "regio-b"
    assert participant(in_b, "Bert Bos")["region"] == "regio-a"


def test_withdrawal_in_a_dissolves_the_match_in_b_and_leaves_history(fed: Federation) -> None:
    child = bsn(20)
    mine = fed.a.signal(fed.a.professionals[0], child, BIRTH)
    assert mine.status == 201
    assert fed.b.signal(fed.b.professionals[1], child, BIRTH).status == 201
    eventually(lambda: match_with(fed.b, "client", "Anna Akkerman", 1), what="match in regio-b")

    signal_id = mine.json()["id"]
    closed = fed.a.api(fed.a.professionals[0], "DELETE", f"/api/v1/signals/{signal_id}")
    assert closed.status == 204, closed.body
    eventually(
        lambda: match_with(fed.b, "client", "Anna Akkerman", 1) is None,
        what="the match dissolved in regio-b",
    )
    # Regio-a's archived signal is history for a new signal in regio-b (section 10).
    later = fed.b.signal(fed.b.professionals[0], child, BIRTH)
    assert later.status == 201

    def history() -> bool:
        answer = fed.b.api(fed.b.professionals[0], "GET", f"/api/v1/signals/{later.json()['id']}")
        return bool(answer.json()["historyAvailable"])

    eventually(history, what="historyAvailable in regio-b")


def test_registration_goes_on_while_the_hub_is_down_and_federation_catches_up(
    fed: Federation,
) -> None:
    child = bsn(30)
    fed.hub.stop()
    try:
        started = time.monotonic()
        assert fed.a.signal(fed.a.professionals[1], child, BIRTH).status == 201
        assert fed.b.signal(fed.b.professionals[0], child, BIRTH).status == 201
        assert time.monotonic() - started < 10  # nobody waited for the hub
        assert match_with(fed.a, "client", "Carla Claes", 1) is None
    finally:
        fed.hub.start()
    eventually(
        lambda: match_with(fed.a, "client", "Carla Claes", 1),
        seconds=120,
        what="the cross-region match after the hub returned",
    )


def test_a_revoked_region_is_refused(fed: Federation) -> None:
    fed.hub.cli("hub", "revoke", "regio-b")
    me = Identity("regio-b", signing_key(Path(fed.b.process.environment["VERWIJSINDEX_KEYS_DIR"])))
    refused = fed.hub.request(
        "POST",
        "/federation/v1/lookup",
        body={"keyVersion": 1, "children": []},
        headers={"Authorization": f"Bearer {me.assertion('hub')}"},
    )
    assert refused.status == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    # Regio-b's new signal no longer reaches regio-a.
    child = bsn(40)
    assert fed.a.signal(fed.a.professionals[0], child, BIRTH).status == 201
    assert fed.b.signal(fed.b.professionals[1], child, BIRTH).status == 201
    time.sleep(5)
    assert match_with(fed.a, "client", "Dirk Dekker") is None


def forbidden(bsn_value: str) -> list[bytes]:
    """The BSN, unkeyed hashes of it, and the OPRF's unkeyed HashToGroup element of it."""
    digest = hashlib.sha256(bsn_value.encode()).digest()
    element = oprf.hash_to_group(bsn_value.encode())
    return [
        bsn_value.encode(),
        digest.hex().encode(),
        base64.b64encode(digest).rstrip(b"="),
        base64.urlsafe_b64encode(digest).rstrip(b"="),
        element.hex().encode(),
        base64.urlsafe_b64encode(element).rstrip(b"="),
    ]


def test_no_bsn_hash_or_local_pseudonym_leaves_its_region(fed: Federation) -> None:
    """Every database and log of all four processes: no BSN nor unkeyed hash of one, and
    neither region's local pseudonyms outside that region."""
    everything = {p.name: p.dump() + b"\n" + p.logs() for p in fed.processes}
    for value in USED_BSNS:
        for form in forbidden(value):
            for name, contents in everything.items():
                assert form not in contents, f"{name} holds a BSN or an unkeyed hash of one"
    for region in (fed.a, fed.b):
        own = region.process.scalars(
            "SELECT child_pseudonym FROM signals WHERE feed IS NULL OR feed <> 'fed' "
            "UNION SELECT parent_pseudonym FROM signal_parents p JOIN signals s "
            "ON s.id = p.signal_id WHERE s.feed IS NULL OR s.feed <> 'fed'"
        )
        assert own, "the scenario registered signals"
        for name, contents in everything.items():
            if name == region.name:
                continue
            for pseudonym in own:
                digest_part = pseudonym.split(":", 1)[-1].encode()
                assert digest_part not in contents, f"{region.name}'s pseudonym in {name}"
