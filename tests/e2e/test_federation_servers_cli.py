"""`verwijsindex keyholder …` and `verwijsindex hub …` as an operator runs them: real
gunicorn processes on loopback with their own PostgreSQL databases, enrolment from a
region's `federation public-key`, a signed call, a key rotation through both, revocation."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import _postgres_url
from tests.federation_processes import Process, postgres_databases
from tests.servers import free_port
from verwijsindex.federation import oprf
from verwijsindex.federation.identity import Identity, b64url, from_b64url, signing_key


@dataclass
class Servers:
    keyholder: Process
    hub: Process
    region: Identity
    region_pem: Path
    folder: Path


def _process(name: str, mode: str, folder: Path, url: str, extra: dict[str, str]) -> Process:
    port = free_port()
    folder.mkdir(parents=True)
    return Process(
        name,
        [
            sys.executable,
            "-m",
            "verwijsindex",
            mode,
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        {
            "VERWIJSINDEX_DATABASE_URL": url,
            "VERWIJSINDEX_KEYS_DIR": str(folder / "keys"),
            "VERWIJSINDEX_ENVIRONMENT": "development",
            **extra,
        },
        folder,
        url,
        port,
        "/federation/v1/health",
    )


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    folder = tmp_path_factory.mktemp("federation-servers")
    with postgres_databases(_postgres_url(), 2) as urls:
        keyholder = _process("keyholder", "keyholder", folder / "keyholder", urls[0], {})
        hub = _process(
            "hub",
            "hub",
            folder / "hub",
            urls[1],
            {"VERWIJSINDEX_FEDERATION_KEYHOLDER_URL": keyholder.url},
        )
        keyholder.start()
        try:
            hub.start()
            try:
                region_keys = folder / "regio-a-keys"
                region = Identity("regio-a", signing_key(region_keys))
                region_pem = folder / "regio-a.pem"
                done = subprocess.run(
                    [sys.executable, "-m", "verwijsindex", "federation", "public-key"],
                    env={**keyholder.env(), "VERWIJSINDEX_KEYS_DIR": str(region_keys)},
                    capture_output=True,
                    check=True,
                )
                region_pem.write_bytes(done.stdout)
                hub_pem = folder / "hub.pem"
                hub_pem.write_text(hub.cli("federation", "public-key"))
                keyholder.cli("keyholder", "enrol", "hub", "--public-key", str(hub_pem))
                yield Servers(keyholder, hub, region, region_pem, folder)
            finally:
                hub.stop()
        finally:
            keyholder.stop()


def _run(process: Process, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "verwijsindex", *args],
        cwd=process.folder,
        env=process.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _bearer(identity: Identity, audience: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {identity.assertion(audience)}"}


def test_an_enrolled_region_has_elements_evaluated_and_a_revoked_one_is_refused(
    servers: Servers,
) -> None:
    keyholder, region = servers.keyholder, servers.region
    unknown = keyholder.request(
        "POST",
        "/federation/v1/evaluate",
        body={"blindedElements": [b64url(oprf.hash_to_group(b"x"))]},
        headers=_bearer(region, "keyholder"),
    )
    assert unknown.status == 401
    assert unknown.headers["content-type"].startswith("application/problem+json")

    out = keyholder.cli("keyholder", "enrol", "regio-a", "--public-key", str(servers.region_pem))
    assert out.startswith("enrolled regio-a (key ")
    blinded = oprf.blind(b"a message")
    answer = keyholder.request(
        "POST",
        "/federation/v1/evaluate",
        body={"blindedElements": [b64url(blinded.blinded_element)]},
        headers=_bearer(region, "keyholder"),
    )
    assert answer.status == 200, answer.body
    body = answer.json()
    assert body["keyVersion"] == 1
    assert len(oprf.unblind(blinded.blind, from_b64url(body["evaluatedElements"][0]))) == 32

    status = keyholder.cli("keyholder", "status")
    assert "key version 1" in status and "regio-a" in status and "active" in status

    assert keyholder.cli("keyholder", "revoke", "regio-a").strip() == "revoked regio-a"
    refused = keyholder.request(
        "POST",
        "/federation/v1/evaluate",
        body={"blindedElements": [b64url(blinded.blinded_element)]},
        headers=_bearer(region, "keyholder"),
    )
    assert refused.status == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert b"Traceback" not in refused.body


def test_hub_enrol_lookup_rotation_through_the_key_holder_and_revoke(servers: Servers) -> None:
    hub, region = servers.hub, servers.region
    out = hub.cli(
        "hub",
        "enrol",
        "regio-a",
        "--public-key",
        str(servers.region_pem),
        "--url",
        "http://127.0.0.1:9/",
    )
    assert "enrolled regio-a" in out and "http://127.0.0.1:9" in out
    child = b64url(oprf.hash_to_group(b"child"))
    published = hub.request(
        "POST",
        "/federation/v1/holdings",
        body={
            "keyVersion": 1,
            "holdings": [
                {
                    "child": child,
                    "parents": [],
                    "status": "active",
                    "expiresAt": "2099-01-01T00:00:00Z",
                }
            ],
        },
        headers=_bearer(region, "hub"),
    )
    assert published.status == 200, published.body
    assert published.json() == {"results": [{"child": child, "counterparts": [], "tickets": {}}]}

    # Rotation: the key holder first, then the hub fetches the factor over HTTP as `hub`.
    assert "key version 2 is current" in servers.keyholder.cli("keyholder", "rotate")
    rotated = hub.cli("hub", "rotate", "--json")
    assert '"from": 1' in rotated and '"to": 2' in rotated and '"pseudonyms": 1' in rotated
    old = hub.request(
        "POST",
        "/federation/v1/lookup",
        body={"keyVersion": 1, "children": [child]},
        headers=_bearer(region, "hub"),
    )
    assert old.status == 409 and old.json()["currentKeyVersion"] == 2
    assert "key version 2" in hub.cli("hub", "status")
    assert "0 expired pointers" in hub.cli("hub", "maintenance")

    assert hub.cli("hub", "revoke", "regio-a").strip() == "revoked regio-a"
    refused = hub.request(
        "POST",
        "/federation/v1/lookup",
        body={"keyVersion": 2, "children": []},
        headers=_bearer(region, "hub"),
    )
    assert refused.status == 401
    assert refused.headers["content-type"].startswith("application/problem+json")


def test_operator_mistakes_are_sentences_with_exit_codes(servers: Servers) -> None:
    missing = _run(
        servers.hub,
        "hub",
        "enrol",
        "regio-x",
        "--public-key",
        "/nonexistent.pem",
        "--url",
        "http://x.example",
    )
    assert missing.returncode == 2 and "cannot read /nonexistent.pem" in missing.stderr
    bad_name = _run(
        servers.keyholder, "keyholder", "enrol", "Regio X", "--public-key", str(servers.region_pem)
    )
    assert bad_name.returncode == 2 and "lower-case" in bad_name.stderr
    not_pem = servers.folder / "not.pem"
    not_pem.write_text("hello")
    invalid = _run(servers.keyholder, "keyholder", "enrol", "regio-x", "--public-key", str(not_pem))
    assert invalid.returncode == 2 and "not a PEM public key" in invalid.stderr
    assert _run(servers.hub, "hub", "revoke", "nobody").returncode == 1
    busy = _run(servers.hub, "hub", "serve", "--port", str(servers.hub.port))
    assert busy.returncode == 2 and "in use" in busy.stderr
    for text in (missing.stderr, bad_name.stderr, invalid.stderr):
        assert "Traceback" not in text
