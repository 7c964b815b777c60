"""Reading `PUT /sync/signals` items (`api.sync_items`): the one-go reading of a plain item
gives exactly what the field-by-field reading gives, and leaves everything else to it."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest

from verwijsindex.api.sync_items import _Item, _plain, _read

PROFESSIONAL = str(uuid.UUID(int=42))
PLAIN: dict[str, Any] = {
    "externalRef": "leerling-1",
    "professionalId": PROFESSIONAL,
    "bsn": "111222333",
    "birthDate": "2015-03-14",
    "parentBsns": ["111111110", "123456782"],
    "informatieplicht": {"childInformed": True, "parentsInformed": False},
}


def by_field(body: dict[str, Any]) -> tuple[Any, list[Any], list[Any]]:
    found = _Item(0)
    read = _read(found, body)
    return read, found.own, found.refused


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"parentBsns": []},
        {"informatieplicht": {}},
        {"informatieplicht": {"childInformed": False}},
        {"informatieplicht": {"parentsInformed": True, "postponement": None}},
        {"externalRef": "x" * 100},
        {"bsn": " 111222333 "},  # whitespace is the validation's business, later
        {"professionalId": PROFESSIONAL.upper()},
        {"professionalId": "{" + PROFESSIONAL + "}"},
    ],
)
def test_a_plain_item_is_read_in_one_go_as_field_by_field(change: dict[str, Any]) -> None:
    body = {**PLAIN, **change}

    plain = _plain(body)

    read, own, refused = by_field(body)
    assert (own, refused) == ([], [])
    assert plain is not None and plain == replace(read, problems=())


@pytest.mark.parametrize(
    "change",
    [
        {"pupilName": "Jan"},
        {"externalRef": ""},
        {"externalRef": "x" * 101},
        {"externalRef": 42},
        {"professionalId": "anna"},
        {"professionalId": 7},
        {"bsn": 111222333},
        {"bsn": None},
        {"birthDate": "2015-02-30"},
        {"birthDate": "2015-3-14"},
        {"birthDate": "14-03-2015"},
        {"birthDate": 20150314},
        {"parentBsns": None},
        {"parentBsns": "111111110"},
        {"parentBsns": [111111110]},
        {"parentBsns": ["1", "2", "3", "4", "5"]},
        {"informatieplicht": None},
        {"informatieplicht": {"childInformed": 1}},
        {"informatieplicht": {"parentsInformed": 0}},
        {"informatieplicht": {"childInformed": "ja"}},
        {"informatieplicht": {"childInformed": True, "note": "x"}},
        {
            "informatieplicht": {
                "postponement": {
                    "reason": "not_reasonably_possible",
                    "justification": "Op reis.",
                    "reviewOn": "2027-01-15",
                }
            }
        },
    ],
)
def test_anything_else_is_left_to_the_field_by_field_reading(change: dict[str, Any]) -> None:
    body = {**PLAIN, **change}

    assert _plain(body) is None


@pytest.mark.parametrize("missing", ["externalRef", "professionalId", "bsn", "birthDate"])
def test_an_item_missing_a_required_field_is_left_to_the_field_by_field_reading(
    missing: str,
) -> None:
    body = {k: v for k, v in PLAIN.items() if k != missing}

    assert _plain(body) is None
    assert by_field(body)[1] or by_field(body)[2]


def test_an_item_without_parents_or_informatieplicht_fields_reads_alike() -> None:
    without_parents = {k: v for k, v in PLAIN.items() if k != "parentBsns"}
    without_duty = {k: v for k, v in PLAIN.items() if k != "informatieplicht"}

    plain = _plain(without_parents)
    assert plain is not None and plain == replace(by_field(without_parents)[0], problems=())
    assert _plain(without_duty) is None and by_field(without_duty)[1]
