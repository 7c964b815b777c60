"""The search box on `/signalen`: a piece of the professional's own reference and/or the
child's birth date (three fields, like the signal form)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from verwijsindex import domain
from verwijsindex.web.date_fields import read_date

SEARCH_TEXT = "zoek"
SEARCH_BORN = "geboren"


@dataclass(frozen=True, slots=True)
class SignalSearch:
    """The search on `/signalen`: a piece of the own reference and/or a birth date."""

    text: str
    birth_date: date | None
    parts: dict[str, str]  # the typed birth date, to show again
    error: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.text) or self.birth_date is not None


def parse_signal_search(args: Mapping[str, str]) -> SignalSearch:
    text = args.get(SEARCH_TEXT, "").strip()[: domain.OWN_REFERENCE_MAX_LENGTH]
    born = read_date(args, SEARCH_BORN)
    return SignalSearch(text, born.value, born.parts, born.problem)
