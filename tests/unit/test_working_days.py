"""Dutch working days: Monday to Friday minus the national public holidays, as professionals
count "within 10 working days"."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from verwijsindex.working_days import add_working_days, is_working_day, latest_start_due

ONE_DAY = timedelta(days=1)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def test_weekdays_are_working_days_and_weekends_are_not() -> None:
    week = days(date(2026, 11, 23), date(2026, 11, 29))  # Monday to Sunday, no holidays
    assert [is_working_day(d) for d in week] == [True] * 5 + [False] * 2


@pytest.mark.parametrize(
    "holiday",
    [
        date(2026, 12, 25),  # Eerste Kerstdag (a Friday)
        date(2027, 1, 1),  # Nieuwjaarsdag (a Friday)
        date(2027, 3, 29),  # Tweede Paasdag (a Monday)
        date(2027, 4, 27),  # Koningsdag (a Tuesday)
        date(2027, 5, 6),  # Hemelvaartsdag (a Thursday)
        date(2027, 5, 17),  # Tweede Pinksterdag (a Monday)
    ],
)
def test_dutch_public_holidays_on_weekdays_are_not_working_days(holiday: date) -> None:
    assert holiday.weekday() < 5
    assert not is_working_day(holiday)
    # The ordinary weekdays around them still are.
    around = [holiday - ONE_DAY, holiday + ONE_DAY]
    assert all(is_working_day(d) for d in around if d.weekday() < 5)


def test_christmas_eve_and_the_days_between_christmas_and_new_year_are_working_days() -> None:
    assert is_working_day(date(2026, 12, 24))
    assert all(is_working_day(d) for d in days(date(2026, 12, 28), date(2026, 12, 31)))


def test_the_start_itself_does_not_count() -> None:
    assert add_working_days(date(2026, 11, 23), 0) == date(2026, 11, 23)
    assert add_working_days(date(2026, 11, 23), 1) == date(2026, 11, 24)


def test_weekends_are_skipped() -> None:
    assert add_working_days(date(2026, 11, 23), 4) == date(2026, 11, 27)  # Monday → Friday
    assert add_working_days(date(2026, 11, 23), 5) == date(2026, 11, 30)  # → next Monday
    assert add_working_days(date(2026, 11, 23), 10) == date(2026, 12, 7)


def test_from_a_friday_the_first_working_day_is_the_monday() -> None:
    friday = date(2026, 11, 27)
    assert add_working_days(friday, 1) == date(2026, 11, 30)
    assert add_working_days(friday, 5) == date(2026, 12, 4)
    assert add_working_days(friday, 10) == date(2026, 12, 11)


def test_a_weekend_start_counts_from_the_monday() -> None:
    assert add_working_days(date(2026, 11, 28), 1) == date(2026, 11, 30)  # Saturday
    assert add_working_days(date(2026, 11, 29), 10) == date(2026, 12, 11)  # Sunday


def test_christmas_and_new_year_postpone_the_count() -> None:
    # Friday 18 December 2026: 21–24 Dec (4), Christmas on Friday 25 and Saturday 26,
    # 28–31 Dec (8), Nieuwjaarsdag on Friday 1 January, 4 Jan (9), 5 Jan (10).
    assert add_working_days(date(2026, 12, 18), 10) == date(2027, 1, 5)
    assert add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 28)
    assert add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)


def test_easter_monday_and_koningsdag_postpone_the_count() -> None:
    # Good Friday 26 March and Easter Monday 29 March 2027 are no working days.
    assert add_working_days(date(2027, 3, 25), 1) == date(2027, 3, 30)
    # Koningsdag, Tuesday 27 April 2027.
    assert add_working_days(date(2027, 4, 26), 1) == date(2027, 4, 28)
    assert add_working_days(date(2027, 4, 20), 10) == date(2027, 5, 5)


def test_latest_start_due_examples() -> None:
    assert latest_start_due(date(2026, 12, 7), 10) == date(2026, 11, 23)
    # Due on Friday 11 December: joined on Friday 27 November or the weekend after.
    assert latest_start_due(date(2026, 12, 11), 10) == date(2026, 11, 29)
    # Nothing joined after 18 December is due before 5 January.
    assert latest_start_due(date(2027, 1, 4), 10) == date(2026, 12, 17)
    assert latest_start_due(date(2027, 1, 5), 10) == date(2026, 12, 20)  # Fri 18 + weekend


@pytest.mark.parametrize("count", [1, 2, 5, 10, 15])
def test_latest_start_due_is_exactly_the_boundary_of_add_working_days(count: int) -> None:
    for today in days(date(2026, 10, 1), date(2028, 1, 31)):
        start = latest_start_due(today, count)
        assert add_working_days(start, count) <= today, (today, count)
        assert add_working_days(start + ONE_DAY, count) > today, (today, count)


@pytest.mark.parametrize("count", [1, 3, 10])
def test_add_working_days_lands_on_the_count_th_working_day(count: int) -> None:
    for start in days(date(2026, 11, 1), date(2027, 6, 30)):
        end = add_working_days(start, count)
        assert is_working_day(end)
        between = [d for d in days(start + ONE_DAY, end) if is_working_day(d)]
        assert len(between) == count, (start, count)
