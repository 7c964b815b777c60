"""Dutch words and dates for people: sectors, match types, `14 maart 2015`.

One place for both the API's printable subject-access report and the web UI, so they say
the same thing in the same words.
"""

from __future__ import annotations

from datetime import date, datetime

from verwijsindex.domain import LOCAL_TIME, MatchType, Sector

MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)
SECTORS = {
    Sector.JEUGDHULP: "Jeugdhulp",
    Sector.JEUGDGEZONDHEIDSZORG: "Jeugdgezondheidszorg",
    Sector.GEZONDHEIDSZORG: "Gezondheidszorg",
    Sector.ONDERWIJS: "Onderwijs",
    Sector.MAATSCHAPPELIJKE_ONDERSTEUNING: "Maatschappelijke ondersteuning",
    Sector.WERK_EN_INKOMEN: "Werk en inkomen",
    Sector.JUSTITIE: "Justitie",
}
MATCH_TYPES = {MatchType.CLIENT: "Cliëntmatch", MatchType.FAMILY: "Gezinsmatch"}


def local_day(day: date | datetime) -> date:
    """A moment is shown on its Dutch calendar day (dates are already Dutch days)."""
    return day.astimezone(LOCAL_TIME).date() if isinstance(day, datetime) else day


def datum(day: date | datetime | None) -> str:
    """`14 maart 2015`."""
    if day is None:
        return "—"
    day = local_day(day)
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def tijdstip(moment: datetime | None) -> str:
    """`24 november 2026 om 10:15` (Dutch time)."""
    if moment is None:
        return "—"
    return f"{datum(moment)} om {moment.astimezone(LOCAL_TIME):%H:%M}"
