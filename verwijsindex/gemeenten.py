"""The Dutch municipalities (gemeenten) a signal may name, as bundled CBS data.

Kept as data, not code: a municipal merger is a new file `data/gemeenten-<year>.csv`
(`code;naam`, `#` comment lines saying where the list comes from), and the newest year
bundled is the one in force. Pure and without a database, so the domain rules, the API
and the web form all check against the same list, loaded once per process.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

CODE_FORMAT = re.compile(r"GM[0-9]{4}")
_FILE_NAME = re.compile(r"gemeenten-([0-9]{4})\.csv")


@dataclass(frozen=True, slots=True)
class Gemeente:
    code: str  # CBS code, e.g. GM0363
    naam: str  # official CBS name, e.g. Amsterdam


@dataclass(frozen=True, slots=True)
class Gemeenten:
    """The list in force: its year and the gemeenten by code, in the file's order."""

    year: int
    by_code: dict[str, Gemeente]

    def __contains__(self, code: object) -> bool:
        return code in self.by_code

    def __len__(self) -> int:
        return len(self.by_code)

    def name_of(self, code: str) -> str | None:
        found = self.by_code.get(code)
        return found.naam if found else None

    def by_name(self) -> list[Gemeente]:
        """Sorted as a person looks for them: by name, ignoring case and a leading 's-."""
        return sorted(self.by_code.values(), key=lambda g: _sort_key(g.naam))


def _sort_key(naam: str) -> str:
    return naam.removeprefix("'s-").casefold()


def parse(text: str, year: int) -> Gemeenten:
    """Read `code;naam` lines (after `#` comments and the header); a malformed or repeated
    code is a packaging error, so it raises instead of being skipped."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    by_code: dict[str, Gemeente] = {}
    for row in csv.DictReader(lines, delimiter=";"):
        code, naam = row["code"].strip(), row["naam"].strip()
        if not CODE_FORMAT.fullmatch(code) or not naam:
            raise ValueError(f"Malformed gemeente line: {code};{naam}")
        if code in by_code:
            raise ValueError(f"Gemeente {code} listed twice")
        by_code[code] = Gemeente(code, naam)
    return Gemeenten(year, by_code)


@cache
def current() -> Gemeenten:
    """The newest bundled list (read once per process)."""
    data = resources.files("verwijsindex") / "data"
    years = {
        int(found.group(1)): entry
        for entry in data.iterdir()
        if (found := _FILE_NAME.fullmatch(entry.name))
    }
    year = max(years)
    return parse(years[year].read_text(encoding="utf-8"), year)
