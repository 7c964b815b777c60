"""`admin create-professional --role regievoerder --gemeente GM0935` (contract §10): the
gemeenten a regievoerder is appointed for, checked against the bundled CBS list."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.test_cli import assert_clean_failure, json_of, organisation, run
from verwijsindex.services import Core

BASE = ["admin", "create-professional", "--name", "Rita Regie", "--phone", "+31 6 1234 5678"]


def create(env: dict[str, str], organisation_id: str, *extra: str) -> list[str]:
    return [*BASE, "--organisation", organisation_id, "--email", "rita@example.org", *extra]


def test_a_regievoerder_is_created_with_their_gemeenten(env: dict[str, str], core: Core) -> None:
    organisation_id = organisation(env, "Gemeente Ede", "maatschappelijke_ondersteuning")
    args = create(env, organisation_id, "--role", "regievoerder", "--gemeente", "GM0228")
    data = json_of(run(env, *args, "--gemeente", "gm0935", "--json"))
    assert data["roles"] == ["regievoerder"]
    assert data["gemeenten"] == ["GM0228", "GM0935"]
    with core.transaction(write=False) as tx:
        assert tx.regie.gemeenten_of(uuid.UUID(data["id"])) == {"GM0228", "GM0935"}
        (found,) = tx.regie.regievoerders()
    assert found.gemeenten == {"GM0228", "GM0935"}


def test_a_regievoerder_without_gemeenten_covers_the_whole_index(
    env: dict[str, str], core: Core
) -> None:
    organisation_id = organisation(env, "Regio", "maatschappelijke_ondersteuning")
    data = json_of(run(env, *create(env, organisation_id, "--role", "regievoerder", "--json")))
    assert data["gemeenten"] == []
    with core.transaction(write=False) as tx:
        (found,) = tx.regie.regievoerders()
    assert found.professional_id == uuid.UUID(data["id"]) and found.covers([None])


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (("--gemeente", "GM0228"), "Only a regievoerder"),
        (("--role", "professional", "--gemeente", "GM0228"), "Only a regievoerder"),
        (("--role", "regievoerder", "--gemeente", "GM9999"), "Unknown CBS gemeente"),
    ],
)
def test_a_gemeente_without_the_role_or_unknown_is_exit_2(
    env: dict[str, str], core: Core, extra: tuple[str, ...], reason: str
) -> None:
    organisation_id = organisation(env)
    message = assert_clean_failure(run(env, *create(env, organisation_id, *extra)), 2)
    assert "gemeente" in message and reason in message
    with core.transaction(write=False) as tx:
        assert tx.people.professionals_of(uuid.UUID(organisation_id)) == []
