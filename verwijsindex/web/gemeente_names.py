"""Gemeenten as a beheerder types them: names (or CBS codes), separated by commas."""

from __future__ import annotations

import re
from collections.abc import Iterable

from verwijsindex import gemeenten

_SEPARATORS = re.compile(r"[,;\n]+")


def gemeente_names(codes: Iterable[str]) -> str:
    """`Ede, Wageningen`: the names of these codes, alphabetically."""
    known = gemeenten.current()
    return ", ".join(sorted((known.name_of(c) or c for c in codes), key=str.casefold))


def gemeente_codes(typed: str) -> tuple[set[str], list[str]]:
    """The CBS codes of what was typed, and what was not recognised (as typed)."""
    known = gemeenten.current()
    by_name = {g.naam.casefold(): g.code for g in known.by_code.values()}
    codes: set[str] = set()
    unknown: list[str] = []
    for part in _SEPARATORS.split(typed):
        word = part.strip()
        if not word:
            continue
        code = word.upper() if word.upper() in known else by_name.get(word.casefold())
        if code is None:
            unknown.append(word)
        else:
            codes.add(code)
    return codes, unknown
