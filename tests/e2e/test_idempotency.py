"""Idempotency-Key on POST /api/v1/signals (contract section 3): retries are safe."""

from __future__ import annotations

import base64
import hashlib
import json

from sqlalchemy import select

from tests.conftest import CHILD_BSN, SIBLING_BSN, FakeClock, World, signal_body
from verwijsindex.models import Base, IdempotencyKeyRow, SignalRow
from verwijsindex.services import Core
from verwijsindex.services.auth import personal_token
from verwijsindex.services.lifecycle import run_maintenance


def count_signals(core: Core) -> int:
    with core.database.engine.connect() as connection:
        return len(connection.execute(select(SignalRow.id)).all())


def test_a_retry_with_the_same_key_and_body_returns_the_original_response(
    world: World, core: Core
) -> None:
    anna = world.professional("Anna Jansen")
    headers = {"Idempotency-Key": "school-7f3a"}
    first = anna.post("/api/v1/signals", json=signal_body(CHILD_BSN), headers=headers)
    assert first.status_code == 201
    assert first.headers["Idempotent-Replayed"] == "false"
    retry = anna.post("/api/v1/signals", json=signal_body(CHILD_BSN), headers=headers)
    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_data() == first.get_data()
    assert count_signals(core) == 1


def everything_stored(core: Core) -> str:
    """Every value in every table as text (bytes both as Latin-1 and as hex), to search in."""
    parts: list[str] = []
    with core.database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                for value in row:
                    if isinstance(value, bytes):
                        parts += [value.decode("latin-1"), value.hex()]
                    else:
                        parts.append(str(value))
    return "\n".join(parts)


def test_the_key_is_stored_only_as_a_keyed_digest_and_still_replays(
    world: World, core: Core
) -> None:
    """Integrators derive keys from a BSN or pupil number: neither the key nor its unkeyed
    SHA-256 (which 10^9 guesses would reverse) may be in the database."""
    anna = world.professional("Anna Jansen")
    key = f"leerling-{CHILD_BSN}"
    headers = {"Idempotency-Key": key}
    first = anna.post("/api/v1/signals", json=signal_body(CHILD_BSN), headers=headers)
    assert first.status_code == 201

    stored = everything_stored(core)
    unkeyed = hashlib.sha256(key.encode()).digest()
    assert key not in stored
    assert CHILD_BSN not in stored
    assert unkeyed.hex() not in stored
    assert base64.urlsafe_b64encode(unkeyed).rstrip(b"=").decode() not in stored
    assert base64.b64encode(unkeyed).decode() not in stored

    retry = anna.post("/api/v1/signals", json=signal_body(CHILD_BSN), headers=headers)
    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_data() == first.get_data()
    other = anna.post("/api/v1/signals", json=signal_body(SIBLING_BSN), headers=headers)
    assert other.status_code == 400
    assert [p["name"] for p in other.get_json()["invalidParams"]] == ["Idempotency-Key"]
    assert count_signals(core) == 1


def test_key_order_and_spacing_of_the_body_do_not_make_it_another_request(world: World) -> None:
    anna = world.professional("Anna Jansen")
    headers = {"Idempotency-Key": "k1", "Content-Type": "application/json"}
    body = signal_body(CHILD_BSN)
    first = anna.post("/api/v1/signals", json=body, headers=headers)
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2)
    retry = anna.post("/api/v1/signals", data=reordered, headers=headers)
    assert retry.status_code == 201
    assert retry.get_data() == first.get_data()


def test_the_same_key_with_another_body_is_a_400(world: World, core: Core) -> None:
    anna = world.professional("Anna Jansen")
    headers = {"Idempotency-Key": "k1"}
    anna.post("/api/v1/signals", json=signal_body(CHILD_BSN), headers=headers)
    other = anna.post("/api/v1/signals", json=signal_body(SIBLING_BSN), headers=headers)
    assert other.status_code == 400
    assert [p["name"] for p in other.get_json()["invalidParams"]] == ["Idempotency-Key"]
    assert SIBLING_BSN not in other.get_data(as_text=True)
    assert count_signals(core) == 1


def test_keys_belong_to_one_professional(world: World, core: Core) -> None:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    headers = {"Idempotency-Key": "shared-key"}
    anna.post("/api/v1/signals", json=signal_body(CHILD_BSN), headers=headers)
    own = bert.post("/api/v1/signals", json=signal_body(CHILD_BSN), headers=headers)
    assert own.status_code == 201
    assert own.headers["Idempotent-Replayed"] == "false"
    assert own.get_json()["professional"]["name"] == "Bert Bakker"
    assert count_signals(core) == 2


def test_a_key_expires_after_24_hours(world: World, core: Core, clock: FakeClock) -> None:
    """Within the window the retry replays; after it, the same key registers anew."""
    anna = world.professional("Anna Jansen")
    headers = {"Idempotency-Key": "k1"}
    first = anna.post("/api/v1/signals", json=signal_body(CHILD_BSN), headers=headers)
    anna.delete(f"/api/v1/signals/{first.get_json()['id']}")
    clock.advance(hours=23)
    anna.token = personal_token(core, anna.professional_id)
    within = anna.post("/api/v1/signals", json=signal_body(CHILD_BSN), headers=headers)
    assert within.headers["Idempotent-Replayed"] == "true"
    clock.advance(hours=1, seconds=1)
    anna.token = personal_token(core, anna.professional_id)
    after = anna.post("/api/v1/signals", json=signal_body(CHILD_BSN), headers=headers)
    assert after.status_code == 201
    assert after.headers["Idempotent-Replayed"] == "false"
    assert after.get_json()["id"] != first.get_json()["id"]
    assert count_signals(core) == 2


def test_a_bad_key_is_a_400_and_the_stored_response_is_encrypted(world: World, core: Core) -> None:
    anna = world.professional("Anna Jansen")
    bad = anna.post(
        "/api/v1/signals", json=signal_body(CHILD_BSN), headers={"Idempotency-Key": "x" * 256}
    )
    assert bad.status_code == 400
    anna.post("/api/v1/signals", json=signal_body(CHILD_BSN), headers={"Idempotency-Key": "k"})
    with core.database.engine.connect() as connection:
        row = connection.execute(select(IdempotencyKeyRow)).one()
    assert b"Anna Jansen" not in row.response_enc
    assert b"signal" not in row.response_enc
    assert CHILD_BSN not in row.fingerprint


def test_erasing_a_signal_removes_its_stored_response_and_maintenance_purges_old_keys(
    world: World, core: Core, clock: FakeClock
) -> None:
    anna = world.professional("Anna Jansen")
    erased = anna.post(
        "/api/v1/signals", json=signal_body(CHILD_BSN), headers={"Idempotency-Key": "k1"}
    ).get_json()["id"]
    anna.post("/api/v1/signals", json=signal_body(SIBLING_BSN), headers={"Idempotency-Key": "k2"})
    anna.delete(f"/api/v1/signals/{erased}?reason=unjustified")
    with core.database.engine.connect() as connection:
        kept = [r.key for r in connection.execute(select(IdempotencyKeyRow))]
    assert kept == [core.pseudonymiser.idempotency_key("k2")]
    clock.advance(hours=25)
    assert run_maintenance(core).idempotency_keys_purged == 1
    with core.database.engine.connect() as connection:
        assert connection.execute(select(IdempotencyKeyRow)).all() == []
