"""Dates typed as three labelled fields (dag, maand, jaar), the GOV.UK / NL Design System
date pattern.

Why not `<input type="date">`: its picker follows the browser's language, so an English
browser read `01052014` as 5 January. Three numeric fields in Dutch order cannot be misread.
A date is one group: every problem with it is one message for the whole group, and the
typed parts are shown again after an error (a date is not personal data of the kind a BSN is).

A form that still posts a single `name=2015-03-14` or `name=14-03-2015` value (an older page
in an open tab, a script) is read as before.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

PARTS = ("dag", "maand", "jaar")
HINT = "Bijvoorbeeld 15 3 2014"

MISSING = "Vul een dag, maand en jaar in."
NOT_NUMBERS = "Vul de datum in met cijfers, bijvoorbeeld 15 3 2014."
SHORT_YEAR = "Vul het jaar in met 4 cijfers, bijvoorbeeld 2014."
NOT_A_DATE = "Deze datum bestaat niet. Controleer de dag en de maand."

_DIGITS = re.compile(r"\d{1,4}")


@dataclass(frozen=True, slots=True)
class DateInput:
    """What was typed for one date: its parts (to show again), the date, or the problem.

    `empty` is true when nothing at all was typed, so the caller can say what is missing
    in its own words ("Vul de geboortedatum in").
    """

    parts: dict[str, str]
    value: date | None
    problem: str | None

    @property
    def empty(self) -> bool:
        return self.value is None and self.problem is None


def part_name(name: str, part: str) -> str:
    """The form field of one part: `birth_date_dag`, `birth_date_maand`, `birth_date_jaar`."""
    return f"{name}_{part}"


def parse_parts(day: str, month: str, year: str) -> date | str | None:
    """The date of three typed parts in Dutch order, or a Dutch problem, or None if empty.

    Leading zeros are fine (`01 05 2014`); a two-digit year is refused rather than guessed
    (is `14` 1914 or 2014?); an impossible day (`31 2`, `29 2 2015`) is refused.
    """
    typed = [p.strip() for p in (day, month, year)]
    if not any(typed):
        return None
    if not all(typed):
        return MISSING
    if not all(_DIGITS.fullmatch(p) for p in typed):
        return NOT_NUMBERS
    if len(typed[2]) != 4:
        return SHORT_YEAR
    try:
        return date(int(typed[2]), int(typed[1]), int(typed[0]))
    except ValueError:
        return NOT_A_DATE


def _single(raw: str) -> date | None:
    for pattern in ("%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(raw, pattern).date()
        except ValueError:
            continue
    return None


def read_date(form: Mapping[str, str], name: str) -> DateInput:
    """The date a form sent for `name`, from its three parts or (older forms) one value."""
    parts = {part: form.get(part_name(name, part), "").strip() for part in PARTS}
    if not any(parts.values()):
        single = form.get(name, "").strip()
        if single:
            value = _single(single)
            if value is None:
                return DateInput(parts, None, NOT_A_DATE)
            return DateInput(_parts_of(value), value, None)
    outcome = parse_parts(parts["dag"], parts["maand"], parts["jaar"])
    if isinstance(outcome, date):
        return DateInput(parts, outcome, None)
    return DateInput(parts, None, outcome)


def _parts_of(value: date) -> dict[str, str]:
    return {"dag": str(value.day), "maand": str(value.month), "jaar": str(value.year)}
