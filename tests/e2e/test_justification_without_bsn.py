"""An informatieplicht justification must not hold a BSN (issue 10 item 15).

It is free text, stored encrypted and shown back to its author and to privacy officers:
a BSN typed into it would escape the pseudonymisation. Refused with a 400 that names the
field and never repeats the number, on POST and on PATCH.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import CHILD_BSN, SIBLING_BSN, World
from verwijsindex.models import SignalRow
from verwijsindex.services import Core

JUSTIFICATION = "informatieplicht.postponement.justification"


def postponed(justification: str) -> dict[str, Any]:
    return {
        "reason": "not_reasonably_possible",
        "justification": justification,
        "reviewOn": "2027-01-15",
    }


def assert_refused_without_echo(response: Any, *numbers: str) -> None:
    assert response.status_code == 400, response.get_json()
    assert response.mimetype == "application/problem+json"
    problems = response.get_json()["invalidParams"]
    assert [p["name"] for p in problems] == [JUSTIFICATION]
    assert "BSN" in problems[0]["reason"]
    body = response.get_data(as_text=True)
    for number in numbers:
        assert number not in body
        assert number.replace(" ", "") not in body.replace(" ", "")


@pytest.mark.parametrize(
    "justification", ["Het gaat om 111222333.", "bsn 1112 22 333", "zie 111.222.333"]
)
def test_a_new_signal_with_a_bsn_in_its_justification_is_a_400_naming_the_field(
    world: World, core: Core, justification: str
) -> None:
    api = world.professional("Anna Jansen")
    response = api.post(
        "/api/v1/signals",
        json={
            "bsn": SIBLING_BSN,
            "birthDate": "2012-01-01",
            "informatieplicht": {"postponement": postponed(justification)},
        },
    )
    assert_refused_without_echo(response, CHILD_BSN, justification)
    with core.database.engine.connect() as connection:
        assert connection.execute(select(SignalRow.id)).all() == []


def test_patching_a_bsn_into_the_justification_is_a_400_and_keeps_the_old_one(
    world: World,
) -> None:
    api = world.professional("Anna Jansen")
    created = api.post(
        "/api/v1/signals",
        json={
            "bsn": SIBLING_BSN,
            "birthDate": "2012-01-01",
            "informatieplicht": {"postponement": postponed("Ouders in het buitenland.")},
        },
    )
    assert created.status_code == 201, created.get_json()
    path = f"/api/v1/signals/{created.get_json()['id']}"
    response = api.patch(
        path, json={"informatieplicht": {"postponement": postponed("broer: 111.222.333")}}
    )
    assert_refused_without_echo(response, "111.222.333", CHILD_BSN)
    shown = api.get(path).get_json()["informatieplicht"]
    assert shown["justification"] == "Ouders in het buitenland."


def test_other_numbers_in_a_justification_are_accepted(world: World) -> None:
    api = world.professional("Anna Jansen")
    response = api.post(
        "/api/v1/signals",
        json={
            "bsn": SIBLING_BSN,
            "birthDate": "2012-01-01",
            "informatieplicht": {
                "postponement": postponed("Gesprek 12.03.2027 om 14.30; vader: 020 555 0101.")
            },
        },
    )
    assert response.status_code == 201, response.get_json()
