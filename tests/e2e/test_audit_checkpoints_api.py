"""GET /api/v1/audit-checkpoints: signed checkpoints for an external witness (a system
calling for itself) or a privacy officer; newest first, paginated, each signature checkable
with the public key file alone."""

from __future__ import annotations

import base64
import json

from flask.testing import FlaskClient

from tests.conftest import FakeClock, World
from tests.e2e.test_auth import bearer, system_token
from verwijsindex.crypto import CHECKPOINT_PUBLIC_KEY_FILE, load_checkpoint_public_key
from verwijsindex.services import Core
from verwijsindex.services.audit_chain import make_checkpoint

PATH = "/api/v1/audit-checkpoints"


def three_checkpoints(world: World, core: Core, clock: FakeClock) -> list[str]:
    anna = world.professional("Anna Jansen")
    made = []
    for _ in range(3):
        anna.get("/api/v1/signals")
        made.append(str(make_checkpoint(core).id))
        clock.advance(minutes=5)
    return made


def test_a_witness_system_pages_through_the_checkpoints_newest_first(
    world: World, core: Core, clock: FakeClock, client: FlaskClient
) -> None:
    made = three_checkpoints(world, core, clock)
    token = system_token(client, core, world.organisation("Toezicht"))
    seen, url = [], f"{PATH}?pageSize=2"
    while url:
        response = client.get(url, headers=bearer(token))
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        seen += page["items"]
        url = page["next"] and page["next"].removeprefix("http://localhost:8080")
    assert [c["id"] for c in seen] == list(reversed(made))
    seqs = [c["chains"][0]["seq"] for c in seen]
    assert seqs == sorted(seqs, reverse=True) and seen[0]["chains"][0]["chain"] == 0


def test_each_checkpoint_verifies_with_the_public_key_file_alone(
    world: World, core: Core, clock: FakeClock, client: FlaskClient
) -> None:
    three_checkpoints(world, core, clock)
    token = system_token(client, core, world.organisation("Toezicht"))
    public = load_checkpoint_public_key(core.settings.keys_dir / CHECKPOINT_PUBLIC_KEY_FILE)
    for item in client.get(PATH, headers=bearer(token)).get_json()["items"]:
        public.verify(base64.b64decode(item["signature"]), item["payload"].encode())
        assert json.loads(item["payload"])["chains"] == item["chains"]


def test_a_privacy_officer_may_read_them_and_a_professional_may_not(
    world: World, core: Core, clock: FakeClock
) -> None:
    three_checkpoints(world, core, clock)
    officer = world.professional("Petra Privacy", "Regio", "jeugdhulp", roles=("privacy_officer",))
    assert len(officer.get(PATH).get_json()["items"]) == 3
    refused = world.professional("Bert Bakker").get(PATH)
    assert refused.status_code == 403
    assert refused.mimetype == "application/problem+json"


def test_without_a_token_it_is_401_before_the_query_is_read(client: FlaskClient) -> None:
    response = client.get(f"{PATH}?pageSize=abc")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_a_bad_cursor_or_page_size_is_a_400(world: World, client: FlaskClient, core: Core) -> None:
    token = system_token(client, core, world.organisation("Toezicht"))
    bad = client.get(f"{PATH}?pageSize=1000&cursor=nonsense", headers=bearer(token))
    assert bad.status_code == 400
    assert {p["name"] for p in bad.get_json()["invalidParams"]} == {"pageSize"}
    assert client.get(f"{PATH}?cursor=nonsense", headers=bearer(token)).status_code == 400
