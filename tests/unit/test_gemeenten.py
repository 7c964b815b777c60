"""The bundled CBS list of gemeenten: the codes the signal form and API accept."""

from __future__ import annotations

import pytest

from verwijsindex import gemeenten
from verwijsindex.gemeenten import CODE_FORMAT, parse


@pytest.mark.parametrize(
    ("code", "naam"),
    [
        ("GM0363", "Amsterdam"),
        ("GM0599", "Rotterdam"),
        ("GM0518", "'s-Gravenhage"),
        ("GM0344", "Utrecht"),
        ("GM0935", "Maastricht"),
        ("GM1992", "Voorne aan Zee"),
    ],
)
def test_the_big_cities_and_the_newest_merger_are_listed_by_their_cbs_code(
    code: str, naam: str
) -> None:
    assert gemeenten.current().name_of(code) == naam


def test_the_bundled_list_holds_the_342_current_gemeenten() -> None:
    current = gemeenten.current()
    assert current.year >= 2025
    assert len(current) == 342


def test_gemeenten_that_merged_away_are_not_accepted() -> None:
    current = gemeenten.current()
    # Weesp went into Amsterdam (2022), Hellevoetsluis into Voorne aan Zee (2023).
    assert "GM0457" not in current
    assert "GM0530" not in current


def test_every_code_has_the_cbs_format_and_every_name_is_unique() -> None:
    listed = gemeenten.current().by_code.values()
    assert all(CODE_FORMAT.fullmatch(g.code) for g in listed)
    assert len({g.naam for g in listed}) == len(listed)


def test_by_name_sorts_as_a_person_looks_for_them() -> None:
    names = [g.naam for g in gemeenten.current().by_name()]
    assert names[0] == "Aa en Hunze"
    assert (
        names.index("Gouda")
        < names.index("'s-Gravenhage")
        < names.index("Groningen")
        < names.index("Haarlem")
    )


def test_a_repeated_or_malformed_code_is_a_packaging_error() -> None:
    with pytest.raises(ValueError, match="twice"):
        parse("code;naam\nGM0001;A\nGM0001;B\n", 2025)
    with pytest.raises(ValueError, match="Malformed"):
        parse("# comment\ncode;naam\n0363;Amsterdam\n", 2025)
