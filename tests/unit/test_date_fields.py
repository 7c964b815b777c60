"""The three-field date (dag, maand, jaar): Dutch order, impossible dates, leap days."""

from __future__ import annotations

from datetime import date

import pytest

from verwijsindex.web import date_fields
from verwijsindex.web.date_fields import parse_parts, read_date


@pytest.mark.parametrize(
    ("day", "month", "year", "expected"),
    [
        ("15", "3", "2014", date(2014, 3, 15)),
        ("1", "5", "2014", date(2014, 5, 1)),  # Dutch order: 1 May, never 5 January
        ("01", "05", "2014", date(2014, 5, 1)),  # leading zeros are fine
        (" 7 ", " 12 ", " 2020 ", date(2020, 12, 7)),
        ("29", "2", "2016", date(2016, 2, 29)),  # a leap year
        ("29", "2", "2000", date(2000, 2, 29)),  # divisible by 400: a leap year
    ],
)
def test_three_parts_are_read_in_dutch_order(
    day: str, month: str, year: str, expected: date
) -> None:
    assert parse_parts(day, month, year) == expected


@pytest.mark.parametrize(
    ("day", "month", "year", "problem"),
    [
        ("31", "2", "2014", date_fields.NOT_A_DATE),
        ("29", "2", "2015", date_fields.NOT_A_DATE),  # not a leap year
        ("29", "2", "1900", date_fields.NOT_A_DATE),  # divisible by 100, not 400
        ("31", "4", "2014", date_fields.NOT_A_DATE),
        ("0", "1", "2014", date_fields.NOT_A_DATE),
        ("1", "13", "2014", date_fields.NOT_A_DATE),
        ("15", "3", "14", date_fields.SHORT_YEAR),  # 1914 or 2014? refused, not guessed
        ("15", "3", "014", date_fields.SHORT_YEAR),
        ("15", "mrt", "2014", date_fields.NOT_NUMBERS),
        ("15", "-3", "2014", date_fields.NOT_NUMBERS),
        ("15", "", "2014", date_fields.MISSING),
        ("", "", "2014", date_fields.MISSING),
    ],
)
def test_impossible_or_incomplete_dates_get_one_dutch_problem(
    day: str, month: str, year: str, problem: str
) -> None:
    assert parse_parts(day, month, year) == problem


def test_nothing_typed_is_empty_not_a_problem() -> None:
    typed = read_date({}, "birth_date")
    assert typed.empty
    assert parse_parts(" ", "", "") is None


def test_a_form_reads_its_parts_and_keeps_what_was_typed() -> None:
    form = {"birth_date_dag": "31", "birth_date_maand": "2", "birth_date_jaar": "2014"}
    typed = read_date(form, "birth_date")
    assert typed.value is None
    assert typed.problem == date_fields.NOT_A_DATE
    assert typed.parts == {"dag": "31", "maand": "2", "jaar": "2014"}


@pytest.mark.parametrize("single", ["2014-05-01", "01-05-2014"])
def test_an_older_single_field_form_is_still_read(single: str) -> None:
    typed = read_date({"birth_date": single}, "birth_date")
    assert typed.value == date(2014, 5, 1)
    assert typed.parts == {"dag": "1", "maand": "5", "jaar": "2014"}


def test_the_parts_win_over_a_single_value() -> None:
    form = {"birth_date": "2010-01-01", "birth_date_dag": "2", "birth_date_maand": "3"}
    assert read_date(form, "birth_date").problem == date_fields.MISSING
