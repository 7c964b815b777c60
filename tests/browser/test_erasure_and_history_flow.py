"""In a real browser on a phone (390 px): a privacy officer carries out an erasure request,
and a professional sees a child's earlier signals once, on the page after registering.
The BSN is typed into POST forms only: never in an address, a title, the history or a page.

(No axe-core check here: the suite has no copy of it, and adding one is a new dependency.
What is checked instead: nothing wider than the screen, every field labelled, errors tied
to their fields.)"""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import People
from tests.browser.dates import fill_date
from tests.conftest import CHILD_BSN, PARENT_BSN, FakeClock, World
from verwijsindex.services import Core

NewPage = Callable[..., Page]
INVALID_BSN = "111222334"
PHONE = 390


def seen_by(page: Page) -> list[str]:
    """The address, the title and every address in the tab's history."""
    history = page.evaluate("performance.getEntriesByType('navigation').map(e => e.name)")
    return [page.url, page.title(), *history]


def fits_the_screen(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE, f"{page.url} is {width} px wide"


def test_a_privacy_officer_on_a_phone_erases_every_signal_on_a_child(
    new_page: NewPage, people: People, world: World, clock: FakeClock, core: Core
) -> None:
    anna = world.professional("Anna Jansen", "Basisschool De Linde", "onderwijs")
    archived = anna.signal(CHILD_BSN, parents=[PARENT_BSN])["id"]
    assert anna.delete(f"/api/v1/signals/{archived}").status_code == 204
    clock.advance(minutes=1)
    world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp").signal(CHILD_BSN)
    olga_login = people.create(
        "Olga Officier", "Gemeente Utrecht", "jeugdhulp", roles=("privacy_officer",)
    )
    olga = new_page(width=PHONE)
    people.log_in(olga, olga_login)

    olga.goto("/privacy")
    olga.get_by_role("main").get_by_role(
        "link", name=re.compile("^Verzoek om verwijdering")
    ).click()
    expect(olga.get_by_role("heading", name="Verzoek om verwijdering")).to_be_visible()
    fits_the_screen(olga)
    olga.get_by_label("BSN van de jeugdige").fill(INVALID_BSN)
    olga.get_by_role("radio", name="Bezwaar").check()
    olga.get_by_role("button", name="Signalen definitief verwijderen").click()
    expect(olga.locator("#bsn-error")).to_contain_text("Dit is geen geldig BSN")
    expect(olga.locator("#confirm-error")).to_contain_text("Bevestig")
    expect(olga.get_by_label("BSN van de jeugdige")).to_have_value("")
    expect(olga.get_by_role("radio", name="Bezwaar")).to_be_checked()
    fits_the_screen(olga)

    olga.get_by_label("BSN van de jeugdige").fill(CHILD_BSN)
    olga.get_by_label(re.compile("^Ik begrijp dat alle signalen")).check()
    olga.get_by_role("button", name="Signalen definitief verwijderen").click()
    expect(olga.get_by_role("heading", name="Verzoek om verwijdering uitgevoerd")).to_be_visible()
    expect(olga.get_by_text("2 signalen zijn definitief verwijderd.")).to_be_visible()
    expect(olga.get_by_role("cell", name="Basisschool De Linde")).to_be_visible()
    expect(olga.get_by_role("cell", name="Wijkteam Noord")).to_be_visible()
    fits_the_screen(olga)
    for seen in seen_by(olga):
        assert CHILD_BSN not in seen and INVALID_BSN not in seen
    assert CHILD_BSN not in olga.content()


def test_a_professional_on_a_phone_sees_the_earlier_signals_once_after_registering(
    new_page: NewPage, people: People, world: World, clock: FakeClock
) -> None:
    anna = world.professional("Anna Jansen", "Basisschool De Linde", "onderwijs")
    archived = anna.signal(CHILD_BSN)["id"]
    assert anna.delete(f"/api/v1/signals/{archived}").status_code == 204
    bram_login = people.create("Bram Bakker", "Wijkteam Noord", "jeugdhulp")
    bram = new_page(width=PHONE)
    people.log_in(bram, bram_login)

    bram.goto("/signalen/nieuw")
    bram.get_by_label("BSN van de jeugdige").fill(CHILD_BSN)
    fill_date(bram, "Geboortedatum", "2015-03-14")
    bram.get_by_label("Ik heb de jeugdige geïnformeerd").check()
    bram.get_by_label("Ik heb de ouders geïnformeerd").check()
    bram.get_by_role("button", name="Signaal afgeven").click()
    expect(bram.get_by_text("U ziet dit eenmalig.")).to_be_visible()
    expect(bram.get_by_role("cell", name="Basisschool De Linde")).to_be_visible()
    fits_the_screen(bram)

    bram.reload()
    expect(bram.get_by_text(re.compile("Ze zijn u op .* getoond"))).to_be_visible()
    expect(bram.get_by_role("cell", name="Basisschool De Linde")).to_have_count(0)
    for seen in seen_by(bram):
        assert CHILD_BSN not in seen
