"""Issue 14 in a real browser, at 1280 and 390 px: the signal form with three-field dates and
sections opened on request, the signal list with its search, the start page's counts, and
the match pages, none of them wider than the screen.

(No axe-core check here yet: the suite has no copy of it; U2 is vendoring it. Until then,
each page is checked for horizontal scroll and the labelled controls are found by role.)
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import People
from tests.browser.dates import fill_date
from tests.conftest import CHILD_BSN, PARENT_BSN, SIBLING_BSN, World

NewPage = Callable[..., Page]


def fits_the_screen(page: Page) -> None:
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"{page.url} is {scroll} px wide on a {inner} px screen"


@pytest.mark.parametrize("width", [1280, 390])
def test_a_professional_registers_finds_and_recognises_their_cases(
    new_page: NewPage, people: People, world: World, width: int
) -> None:
    bram = world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp")
    bram.signal(CHILD_BSN, birth_date="2014-05-01", ownReference="Bram zijn kenmerk")
    anna_login = people.create("Anna de Vries", "Basisschool De Linde", "onderwijs")
    anna = new_page(width=width)
    people.log_in(anna, anna_login)
    fits_the_screen(anna)

    # The form: closed sections, a date typed in Dutch order, guidance for that age.
    anna.goto("/signalen/nieuw")
    expect(anna.get_by_label("BSN ouder 2")).to_be_hidden()
    expect(anna.get_by_label("Onderbouwing")).to_be_hidden()
    fits_the_screen(anna)
    anna.get_by_label("BSN van de jeugdige").fill(CHILD_BSN)
    fill_date(anna, "Geboortedatum", "2014-05-01")  # 1 May: 12 years old
    expect(anna.locator("[data-guidance-live]")).to_contain_text("De jeugdige is 12 jaar")
    anna.get_by_label("Uw eigen kenmerk (niet verplicht)").fill("Dossier Zonnebloem")
    anna.get_by_label("BSN ouder 1").fill(PARENT_BSN)
    anna.get_by_text("Nog een ouder toevoegen").click()
    expect(anna.get_by_label("BSN ouder 2")).to_be_visible()
    anna.get_by_label("Ik heb de jeugdige geïnformeerd").check()
    anna.get_by_text("Informeren uitstellen").click()
    anna.get_by_label("Niet redelijkerwijs mogelijk").check()
    anna.get_by_label("Onderbouwing").fill("Moeder is in het buitenland")
    fill_date(anna, "Datum herbeoordeling", "2027-02-30")  # no such day
    anna.get_by_role("button", name="Signaal afgeven").click()

    # The error is on the group, its section open, the typed values kept.
    expect(anna.locator("#postponement_review_on-error")).to_contain_text("bestaat niet")
    expect(anna.get_by_label("Onderbouwing")).to_be_visible()
    expect(anna.get_by_label("Onderbouwing")).to_have_value("Moeder is in het buitenland")
    fits_the_screen(anna)
    anna.get_by_label("BSN van de jeugdige").fill(CHILD_BSN)
    fill_date(anna, "Datum herbeoordeling", "2027-02-28")
    anna.get_by_role("button", name="Signaal afgeven").click()
    expect(anna.get_by_role("heading", level=1)).to_contain_text("Signaal van")
    expect(anna.get_by_text("Jeugdige geboren 1 mei 2014 · Dossier Zonnebloem")).to_be_visible()
    fits_the_screen(anna)

    # A second case, then the list, its search and the archived tab.
    anna.goto("/signalen/nieuw")
    anna.get_by_label("BSN van de jeugdige").fill(SIBLING_BSN)
    fill_date(anna, "Geboortedatum", "2016-02-29")
    anna.get_by_label("Ik heb de ouders geïnformeerd").check()
    anna.get_by_role("button", name="Signaal afgeven").click()
    expect(anna.get_by_role("heading", level=1)).to_contain_text("Signaal van")
    anna.goto("/signalen")
    expect(anna.get_by_text("Jeugdige geboren 29 februari 2016")).to_be_visible()
    fits_the_screen(anna)
    anna.get_by_label("Zoek op uw eigen kenmerk").fill("zonnebloem")
    anna.get_by_role("button", name="Zoeken").click()
    expect(anna.get_by_text("1 signaal gevonden.")).to_be_visible()
    expect(anna.get_by_text("29 februari 2016")).to_have_count(0)
    fits_the_screen(anna)
    anna.goto("/signalen?status=archived")
    fits_the_screen(anna)

    # The start page and the match pages: her own label, never Bram's.
    anna.goto("/")
    expect(anna.get_by_role("link", name="1 nieuwe match (de afgelopen 14 dagen)")).to_be_visible()
    fits_the_screen(anna)
    anna.goto("/matches")
    own_label = "jeugdige geboren 1 mei 2014 · Dossier Zonnebloem"
    expect(anna.get_by_text(f"Uw signaal: {own_label}")).to_be_visible()
    expect(anna.get_by_text("Bram zijn kenmerk")).to_have_count(0)
    fits_the_screen(anna)
    anna.get_by_role("link", name="Cliëntmatch").first.click()
    expect(anna.get_by_role("link", name=own_label)).to_be_visible()
    fits_the_screen(anna)
