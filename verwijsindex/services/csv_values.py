"""The values of one import row (contract section 9): columns, dates, booleans, BSNs.

Pure parsing, no database and no keys. What a school's spreadsheet really holds decides the
rules: dates as Excel shows them (`1-5-2014`), booleans as a Dutch Excel writes them
(`WAAR`), a BSN whose leading zero Excel dropped. What is wrong is reported per column,
by the column's name, and never repeats a value (it may be a BSN); the engine validates the
rest exactly like `POST /signals`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from verwijsindex.domain import (
    BSN_IN_JUSTIFICATION,
    JUSTIFICATION_MAX_LENGTH,
    Informatieplicht,
    Postponement,
    PostponementReason,
    Problem,
    mentions_bsn,
)

REQUIRED = ("professional", "bsn", "birthDate")
OPTIONAL = (
    "parentBsns",
    "childInformed",
    "parentsInformed",
    "postponementReason",
    "justification",
    "reviewOn",
    "externalRef",
)
MIGRATION_ONLY = ("registeredOn",)
COLUMNS = REQUIRED + OPTIONAL + MIGRATION_ONLY
EXTERNAL_REF_MAX_LENGTH = 100

_TRUE = {"true", "ja", "1", "waar"}  # WAAR/ONWAAR: how a Dutch Excel writes booleans
_FALSE = {"false", "nee", "0", "onwaar", ""}
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DUTCH_DATE = re.compile(r"(\d{1,2})-(\d{1,2})-(\d{4})")
_PARENT_SEPARATORS = re.compile(r"[\s|]+")
_EIGHT_DIGITS = re.compile(r"\d{8}")


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One data row as parsed; BSNs still in clear, so kept out of `repr`."""

    line: int
    professional: str
    bsn: str | None = field(repr=False)
    birth_date: date | None
    parent_bsns: tuple[str, ...] = field(repr=False)
    informatieplicht: Informatieplicht | None = field(repr=False)
    external_ref: str | None = field(repr=False)
    registered_on: date | None
    problems: tuple[Problem, ...]


def parse_date(raw: str) -> date | None:
    """`YYYY-MM-DD` or `DD-MM-YYYY`, leading zeros optional (as Excel shows `1-5-2014`)."""
    iso, dutch = _ISO_DATE.fullmatch(raw), _DUTCH_DATE.fullmatch(raw)
    try:
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        if dutch:
            return date(int(dutch[3]), int(dutch[2]), int(dutch[1]))
    except ValueError:
        return None
    return None


def parse_boolean(raw: str) -> bool | None:
    folded = raw.strip().casefold()
    return True if folded in _TRUE else False if folded in _FALSE else None


def canonical_bsn(raw: str) -> str:
    """An eight-digit number gets its leading zero back: a spreadsheet that took the BSN
    column for numbers dropped it (python-stdnum's `bsn.compact` does the same). The
    elfproef is unchanged by the zero, so nothing invalid becomes valid."""
    return raw.zfill(9) if _EIGHT_DIGITS.fullmatch(raw) else raw


def _postponement(
    values: dict[str, str], problems: list[Problem]
) -> tuple[bool, Postponement | None]:
    """(whether a postponement was meant, the postponement if it is complete)."""
    raw_reason, justification, raw_review = (
        values.get(n, "") for n in ("postponementReason", "justification", "reviewOn")
    )
    if not (raw_reason or justification or raw_review):
        return False, None
    found = len(problems)
    reasons = {r.value: r for r in PostponementReason}
    reason = reasons.get(raw_reason.casefold())
    if reason is None:
        problems.append(
            Problem("postponementReason", "Must be one of: " + ", ".join(reasons) + ".")
        )
    if not justification:
        problems.append(
            Problem("justification", "A justification is required with a postponement.")
        )
    elif mentions_bsn(justification):
        problems.append(Problem("justification", BSN_IN_JUSTIFICATION))
    elif len(justification) > JUSTIFICATION_MAX_LENGTH:
        problems.append(Problem("justification", f"At most {JUSTIFICATION_MAX_LENGTH} characters."))
    review_on = parse_date(raw_review)
    if review_on is None:
        problems.append(
            Problem("reviewOn", "A review date (YYYY-MM-DD or DD-MM-YYYY) is required.")
        )
    if len(problems) > found or reason is None or review_on is None:
        return True, None
    return True, Postponement(reason, justification, review_on)


def parse_row(line: int, values: dict[str, str]) -> CsvRow:
    """One row by column name (values stripped, absent columns empty) into a `CsvRow`."""
    problems: list[Problem] = []

    def a_date(name: str) -> date | None:
        raw = values.get(name, "")
        parsed = parse_date(raw) if raw else None
        if raw and parsed is None:
            problems.append(Problem(name, "Not a date: write YYYY-MM-DD or DD-MM-YYYY."))
        return parsed

    def a_boolean(name: str) -> bool:
        parsed = parse_boolean(values.get(name, ""))
        if parsed is None:
            problems.append(Problem(name, "Write true/false, ja/nee or 1/0 (empty is false)."))
        return bool(parsed)

    professional = values.get("professional", "")
    if not professional:
        problems.append(
            Problem("professional", "Required: the id or e-mail address of a professional.")
        )
    birth_date = a_date("birthDate")
    child_informed, parents_informed = a_boolean("childInformed"), a_boolean("parentsInformed")
    meant, postponement = _postponement(values, problems)
    external_ref = values.get("externalRef") or None
    if external_ref is not None and len(external_ref) > EXTERNAL_REF_MAX_LENGTH:
        problems.append(Problem("externalRef", f"At most {EXTERNAL_REF_MAX_LENGTH} characters."))
    return CsvRow(
        line=line,
        professional=professional,
        bsn=canonical_bsn(values["bsn"]) if values.get("bsn") else None,
        birth_date=birth_date,
        parent_bsns=tuple(
            canonical_bsn(p) for p in _PARENT_SEPARATORS.split(values.get("parentBsns", "")) if p
        ),
        # A postponement that is meant but incomplete: the engine is given none, so that it
        # does not also report "must be informed" for what the postponement was to cover.
        informatieplicht=None
        if meant and postponement is None
        else Informatieplicht(child_informed, parents_informed, postponement),
        external_ref=external_ref,
        registered_on=a_date("registeredOn"),
        problems=tuple(problems),
    )
