"""Ages, lifetimes and the cross-field rules of a new signal (contract sections 5 and 6)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from verwijsindex.domain import (
    BSN_IN_JUSTIFICATION,
    Bsn,
    Informatieplicht,
    Postponement,
    PostponementReason,
    Problem,
    active_until,
    add_years,
    age_on,
    archived_until,
    mentions_bsn,
    new_signal_problems,
    postponement_problems,
    without_bsns,
)

TODAY = date(2026, 11, 23)
CHILD = Bsn("111222333")
PARENT = Bsn("111111110")
OTHER_PARENT = Bsn("222222220")
EVERYONE_INFORMED = Informatieplicht(child_informed=True, parents_informed=True)
NOBODY_INFORMED = Informatieplicht(child_informed=False, parents_informed=False)


def _birth_date_for_age(age: int, today: date = TODAY) -> date:
    """A birth date that makes the child exactly `age` today (birthday today)."""
    return today.replace(year=today.year - age)


def _postponement(
    justification: str = "Informing now would put the child at risk.",
    review_on: date = TODAY + timedelta(days=60),
) -> Postponement:
    return Postponement(PostponementReason.NOT_IN_INTEREST_OF_CHILD, justification, review_on)


def _problems(
    *,
    child: Bsn | None = CHILD,
    birth_date: date | None = date(2014, 5, 1),
    parents: list[Bsn] | None = None,
    informatieplicht: Informatieplicht | None = EVERYONE_INFORMED,
    today: date = TODAY,
) -> list[Problem]:
    return new_signal_problems(
        child=child,
        birth_date=birth_date,
        parents=[] if parents is None else parents,
        informatieplicht=informatieplicht,
        today=today,
    )


def _names(problems: list[Problem]) -> list[str]:
    return [p.name for p in problems]


# --- age_on ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "age"),
    [
        (date(2026, 4, 30), 11),  # the day before the 12th birthday
        (date(2026, 5, 1), 12),  # on the birthday
        (date(2026, 5, 2), 12),
        (date(2027, 4, 30), 12),
        (date(2014, 5, 1), 0),  # the day of birth
    ],
)
def test_age_counts_completed_years_and_turns_on_the_birthday(day: date, age: int) -> None:
    assert age_on(date(2014, 5, 1), day) == age


def test_age_compares_month_before_day() -> None:
    """Born 31 January: on 1 February the birthday has passed even though 1 < 31."""
    assert age_on(date(2010, 1, 31), date(2020, 2, 1)) == 10
    assert age_on(date(2010, 12, 1), date(2020, 11, 30)) == 9


@pytest.mark.parametrize(
    ("day", "age"),
    [
        (date(2024, 2, 28), 19),  # leap year: the birthday is the next day
        (date(2024, 2, 29), 20),
        (date(2025, 2, 27), 20),
        (date(2025, 2, 28), 21),  # common year: 28 February, as add_years reckons it
        (date(2025, 3, 1), 21),
    ],
)
def test_a_leap_day_child_has_its_birthday_on_28_february_in_common_years(
    day: date, age: int
) -> None:
    assert age_on(date(2004, 2, 29), day) == age


# --- add_years ------------------------------------------------------------------------------


def test_adding_years_keeps_month_and_day() -> None:
    assert add_years(date(2014, 5, 1), 23) == date(2037, 5, 1)
    assert add_years(date(2037, 5, 1), -23) == date(2014, 5, 1)


def test_29_february_plus_years_into_a_common_year_is_28_february() -> None:
    assert add_years(date(2004, 2, 29), 23) == date(2027, 2, 28)


def test_29_february_plus_years_into_a_leap_year_stays_29_february() -> None:
    assert add_years(date(2004, 2, 29), 4) == date(2008, 2, 29)


@pytest.mark.parametrize("birth_date", [date(2004, 2, 29), date(2014, 5, 1), date(2003, 12, 31)])
def test_a_child_is_23_exactly_from_the_day_its_23rd_birthday_is_reckoned(
    birth_date: date,
) -> None:
    """`add_years(birth, 23)` is the day a child's data is deleted (services/signals.py);
    `age_on` decides whether a signal is still allowed. The two must agree, or a leap-day child
    can be signalled on a day on which its signal already lies past its deletion date.
    """
    turns_23_on = add_years(birth_date, 23)
    assert age_on(birth_date, turns_23_on - timedelta(days=1)) == 22
    assert age_on(birth_date, turns_23_on) == 23


# --- new_signal_problems: birth date --------------------------------------------------------


def test_a_valid_signal_has_no_problems() -> None:
    assert _problems() == []


def test_a_birth_date_in_the_future_is_a_problem() -> None:
    problems = _problems(birth_date=TODAY + timedelta(days=1))
    assert _names(problems) == ["birthDate"]


def test_a_child_born_today_may_be_signalled() -> None:
    assert _problems(birth_date=TODAY, informatieplicht=Informatieplicht(False, True)) == []


def test_a_child_turning_23_today_is_too_old() -> None:
    assert _names(_problems(birth_date=_birth_date_for_age(23))) == ["birthDate"]


def test_a_child_turning_23_tomorrow_may_still_be_signalled() -> None:
    birth_date = _birth_date_for_age(23) + timedelta(days=1)
    assert age_on(birth_date, TODAY) == 22
    assert _problems(birth_date=birth_date) == []


def test_the_too_old_reason_names_the_age_limit() -> None:
    (problem,) = _problems(birth_date=date(1990, 1, 1))
    assert "23" in problem.reason


# --- new_signal_problems: informatieplicht --------------------------------------------------


def test_at_11_only_the_parents_need_to_be_informed() -> None:
    birth_date = _birth_date_for_age(12) + timedelta(days=1)
    assert _problems(birth_date=birth_date, informatieplicht=Informatieplicht(False, True)) == []
    assert _names(
        _problems(birth_date=birth_date, informatieplicht=Informatieplicht(True, False))
    ) == ["informatieplicht.parentsInformed"]


@pytest.mark.parametrize("age", [12, 13, 15])
def test_from_12_to_15_both_child_and_parents_must_be_informed(age: int) -> None:
    birth_date = _birth_date_for_age(age)
    assert _names(_problems(birth_date=birth_date, informatieplicht=NOBODY_INFORMED)) == [
        "informatieplicht.childInformed",
        "informatieplicht.parentsInformed",
    ]
    assert _names(
        _problems(birth_date=birth_date, informatieplicht=Informatieplicht(True, False))
    ) == ["informatieplicht.parentsInformed"]
    assert _names(
        _problems(birth_date=birth_date, informatieplicht=Informatieplicht(False, True))
    ) == ["informatieplicht.childInformed"]
    assert _problems(birth_date=birth_date, informatieplicht=EVERYONE_INFORMED) == []


def test_the_day_before_the_16th_birthday_parents_must_still_be_informed() -> None:
    birth_date = _birth_date_for_age(16) + timedelta(days=1)
    assert _names(
        _problems(birth_date=birth_date, informatieplicht=Informatieplicht(True, False))
    ) == ["informatieplicht.parentsInformed"]


@pytest.mark.parametrize("age", [16, 18, 22])
def test_from_16_only_the_child_must_be_informed(age: int) -> None:
    birth_date = _birth_date_for_age(age)
    assert _problems(birth_date=birth_date, informatieplicht=Informatieplicht(True, False)) == []
    assert _names(
        _problems(birth_date=birth_date, informatieplicht=Informatieplicht(False, True))
    ) == ["informatieplicht.childInformed"]


@pytest.mark.parametrize("age", [5, 14, 17])
def test_a_postponement_stands_in_for_informing_anyone(age: int) -> None:
    duty = Informatieplicht(False, False, _postponement())
    assert _problems(birth_date=_birth_date_for_age(age), informatieplicht=duty) == []


@pytest.mark.parametrize("justification", ["", "   ", "\n\t"])
def test_a_postponement_needs_a_non_blank_justification(justification: str) -> None:
    duty = Informatieplicht(False, False, _postponement(justification=justification))
    assert _names(_problems(informatieplicht=duty)) == [
        "informatieplicht.postponement.justification"
    ]


@pytest.mark.parametrize("review_on", [TODAY, TODAY - timedelta(days=1)])
def test_a_postponement_review_date_must_lie_ahead(review_on: date) -> None:
    duty = Informatieplicht(False, False, _postponement(review_on=review_on))
    assert _names(_problems(informatieplicht=duty)) == ["informatieplicht.postponement.reviewOn"]


def test_a_postponement_reviewed_tomorrow_is_accepted() -> None:
    duty = Informatieplicht(False, False, _postponement(review_on=TODAY + timedelta(days=1)))
    assert _problems(informatieplicht=duty) == []


def test_a_flawed_postponement_reports_both_flaws_at_once() -> None:
    duty = Informatieplicht(False, False, _postponement(justification=" ", review_on=TODAY))
    assert sorted(_names(_problems(informatieplicht=duty))) == [
        "informatieplicht.postponement.justification",
        "informatieplicht.postponement.reviewOn",
    ]


def test_everyone_informed_and_a_postponement_is_a_contradiction() -> None:
    duty = Informatieplicht(True, True, _postponement())
    problems = _problems(birth_date=_birth_date_for_age(14), informatieplicht=duty)
    assert _names(problems) == ["informatieplicht.postponement"]
    assert "nothing to postpone" in problems[0].reason


@pytest.mark.parametrize(("child", "parents"), [(True, False), (False, True), (False, False)])
def test_a_postponement_with_someone_still_uninformed_is_no_contradiction(
    child: bool, parents: bool
) -> None:
    duty = Informatieplicht(child, parents, _postponement())
    assert _problems(birth_date=_birth_date_for_age(14), informatieplicht=duty) == []


# --- new_signal_problems: parents -----------------------------------------------------------


def test_four_distinct_parents_are_accepted() -> None:
    parents = [Bsn(n) for n in ("111111110", "222222220", "333333330", "123456782")]
    assert _problems(parents=parents) == []


def test_more_than_four_parents_is_a_problem() -> None:
    parents = [Bsn(n) for n in ("111111110", "222222220", "333333330", "123456782", "100000009")]
    assert _names(_problems(parents=parents)) == ["parentBsns"]


def test_the_same_parent_twice_is_a_problem() -> None:
    assert _names(_problems(parents=[PARENT, Bsn(PARENT.reveal())])) == ["parentBsns"]


def test_a_parent_equal_to_the_child_is_a_problem() -> None:
    assert _names(_problems(parents=[PARENT, Bsn(CHILD.reveal())])) == ["parentBsns"]


def test_every_problem_is_reported_at_once() -> None:
    problems = _problems(
        birth_date=_birth_date_for_age(13),
        parents=[PARENT, PARENT, CHILD, OTHER_PARENT, Bsn("333333330")],
        informatieplicht=NOBODY_INFORMED,
    )
    assert sorted(_names(problems)) == [
        "informatieplicht.childInformed",
        "informatieplicht.parentsInformed",
        "parentBsns",
        "parentBsns",
        "parentBsns",
    ]


# --- new_signal_problems: missing fields ----------------------------------------------------


def test_without_a_birth_date_only_the_rules_that_need_none_are_checked() -> None:
    """Informing duties depend on age; a missing birth date must not invent problems."""
    problems = new_signal_problems(
        child=CHILD,
        birth_date=None,
        parents=[PARENT, PARENT],
        informatieplicht=Informatieplicht(False, False, _postponement(review_on=TODAY)),
        today=TODAY,
    )
    assert sorted(_names(problems)) == ["informatieplicht.postponement.reviewOn", "parentBsns"]


def test_without_an_informatieplicht_its_rules_are_skipped() -> None:
    problems = new_signal_problems(
        child=CHILD,
        birth_date=_birth_date_for_age(13),
        parents=[],
        informatieplicht=None,
        today=TODAY,
    )
    assert problems == []


def test_without_parents_the_parent_rules_are_skipped() -> None:
    problems = new_signal_problems(
        child=CHILD,
        birth_date=TODAY + timedelta(days=1),
        parents=None,
        informatieplicht=EVERYONE_INFORMED,
        today=TODAY,
    )
    assert _names(problems) == ["birthDate"]


def test_without_a_child_a_duplicate_parent_is_still_found() -> None:
    problems = new_signal_problems(
        child=None,
        birth_date=date(2014, 5, 1),
        parents=[PARENT, PARENT],
        informatieplicht=EVERYONE_INFORMED,
        today=TODAY,
    )
    assert _names(problems) == ["parentBsns"]


def test_with_a_future_birth_date_no_informing_duty_is_guessed() -> None:
    problems = _problems(birth_date=TODAY + timedelta(days=3), informatieplicht=NOBODY_INFORMED)
    assert _names(problems) == ["birthDate"]


def test_with_nothing_known_there_is_nothing_to_check() -> None:
    problems = new_signal_problems(
        child=None, birth_date=None, parents=None, informatieplicht=None, today=TODAY
    )
    assert problems == []


def test_problems_never_echo_a_bsn() -> None:
    problems = _problems(parents=[PARENT, PARENT, CHILD])
    for problem in problems:
        for bsn in (CHILD, PARENT):
            assert bsn.reveal() not in problem.reason


# --- lifetimes ------------------------------------------------------------------------------

CREATED = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def test_a_signal_is_active_for_two_years() -> None:
    far_future = datetime(2040, 1, 1, tzinfo=UTC)
    assert active_until(CREATED, far_future) == datetime(2028, 11, 23, 9, 30, tzinfo=UTC)


def test_activity_ends_at_the_23rd_birthday_if_that_comes_first() -> None:
    turns_23_at = datetime(2027, 6, 1, tzinfo=UTC)
    assert active_until(CREATED, turns_23_at) == turns_23_at


def test_an_archived_signal_is_kept_for_five_years() -> None:
    far_future = datetime(2040, 1, 1, tzinfo=UTC)
    assert archived_until(CREATED, far_future) == datetime(2031, 11, 23, 9, 30, tzinfo=UTC)


def test_an_archived_signal_is_deleted_at_the_23rd_birthday_if_that_comes_first() -> None:
    turns_23_at = datetime(2029, 3, 1, tzinfo=UTC)
    assert archived_until(CREATED, turns_23_at) == turns_23_at


def test_a_lifetime_starting_on_29_february_ends_on_28_february() -> None:
    leap_day = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)
    far_future = datetime(2040, 1, 1, tzinfo=UTC)
    assert active_until(leap_day, far_future) == datetime(2030, 2, 28, 12, 0, tzinfo=UTC)
    assert archived_until(leap_day, far_future) == datetime(2033, 2, 28, 12, 0, tzinfo=UTC)


# --- a BSN typed into a justification (issue 10 item 15) -------------------------------------


@pytest.mark.parametrize(
    "justification",
    [
        "Zie BSN 111222333.",
        "bsn: 1112 22 333",
        "111.222.333 is nog niet geïnformeerd",
        "nummer 111-222-333",
        "broer 123456782 en zus 111222333",
    ],
)
def test_a_justification_naming_an_elfproef_valid_number_is_refused(justification: str) -> None:
    problems = postponement_problems(_postponement(justification), TODAY)
    field = "informatieplicht.postponement.justification"
    assert problems == [Problem(field, BSN_IN_JUSTIFICATION)]
    assert all("111" not in p.reason and "123" not in p.reason for p in problems)


@pytest.mark.parametrize(
    "justification",
    [
        "Gesprek gepland op 12.03.2027 om 14.30.",
        "Vader bereikbaar op 020 555 0101 of +31 20 555 0101.",
        "Dossier 111222334 (geen elfproef).",
        "Leerlingnummer 1112223330.",
        "Moeder is in het buitenland.",
    ],
)
def test_dates_phone_numbers_and_other_numbers_in_a_justification_are_fine(
    justification: str,
) -> None:
    assert not mentions_bsn(justification)
    assert postponement_problems(_postponement(justification), TODAY) == []


def test_without_bsns_replaces_every_bsn_and_keeps_the_rest_of_the_text() -> None:
    text = "BSN 1112 22 333 en 123.456.782; bel 020 555 0101."
    assert without_bsns(text, "[weg]") == "BSN [weg] en [weg]; bel 020 555 0101."
