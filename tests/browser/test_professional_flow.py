"""Two professionals in a real browser: each registers a signal on the same child, both see
the match with each other's contact details; one designates a regisseur; one withdraws.
No BSN ever appears in an address, a title or the browser history."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import People
from tests.browser.dates import fill_date
from tests.conftest import CHILD_BSN, PARENT_BSN

NewPage = Callable[..., Page]


def nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name=name).click()


def register(page: Page, bsn: str, birth_date: str = "2014-05-01") -> None:
    nav(page, "Signaal afgeven")
    expect(page.get_by_role("heading", name="Signaal afgeven")).to_be_visible()
    page.get_by_label("BSN van de jeugdige").fill(bsn)
    fill_date(page, "Geboortedatum", birth_date)
    page.get_by_label("BSN ouder 1").fill(PARENT_BSN)
    page.get_by_label("Ik heb de jeugdige geïnformeerd").check()
    page.get_by_label("Ik heb de ouders geïnformeerd").check()
    page.get_by_role("button", name="Signaal afgeven").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Signaal van")


def visited_urls(page: Page) -> list[str]:
    return [str(page.evaluate("location.href")), *page.evaluate("[document.title]")]


def test_two_professionals_see_their_match_designate_a_regisseur_and_withdraw(
    new_page: NewPage, people: People, screenshot: Callable[[Page, str], None]
) -> None:
    anna_login = people.create("Anna de Vries", "Basisschool De Linde", "onderwijs")
    bram_login = people.create("Bram Bakker", "Wijkteam Noord", "jeugdhulp")
    anna, bram = new_page(), new_page(width=390)  # Bram is on his phone
    people.log_in(anna, anna_login)
    people.log_in(bram, bram_login)
    screenshot(anna, "03-start")

    nav(anna, "Signaal afgeven")
    anna.get_by_label("BSN van de jeugdige").fill("123456789")  # fails the elfproef
    expect(anna.locator("#bsn-check")).to_have_text(re.compile("klopt niet.*elfproef"))
    screenshot(anna, "04-signaal-afgeven")  # a number that is no BSN, in a committed image
    anna.get_by_label("BSN van de jeugdige").fill(CHILD_BSN)
    expect(anna.locator("#bsn-check")).to_have_text("Dit BSN voldoet aan de elfproef.")
    register(anna, CHILD_BSN)
    register(bram, CHILD_BSN)
    expect(bram.get_by_text(re.compile("match", re.IGNORECASE)).first).to_be_visible()

    # Both see the match, with the other's contact details as links.
    for page, other, phone_link in ((anna, "Bram Bakker", True), (bram, "Anna de Vries", True)):
        nav(page, "Mijn matches")
        expect(page.get_by_role("heading", name="Mijn matches")).to_be_visible()
        page.get_by_role("link", name=re.compile("match", re.IGNORECASE)).last.click()
        expect(page.get_by_text(other).first).to_be_visible()
        mail = page.locator(f"a[href='mailto:{other.lower().replace(' ', '.')}@example.org']")
        expect(mail).to_be_visible()
        if phone_link:
            expect(page.locator("a[href^='tel:']").first).to_be_visible()
    screenshot(anna, "05-match")

    anna.get_by_role("button", name="Bram Bakker aanwijzen als procesregisseur").click()
    expect(anna.get_by_text("De procesregisseur is aangewezen")).to_be_visible()
    bram.reload()
    expect(bram.get_by_text(re.compile("procesregisseur", re.IGNORECASE)).first).to_be_visible()
    step_down = bram.get_by_role("button", name="Ik leg de rol van procesregisseur neer")
    expect(step_down).to_be_visible()

    # Anna withdraws: the risk is gone; the match is gone for Bram too.
    nav(anna, "Mijn signalen")
    anna.get_by_role("link", name=re.compile("^Jeugdige geboren")).first.click()
    anna.get_by_role("link", name="Signaal intrekken").click()
    anna.get_by_label("Het risico is weg").check()
    anna.get_by_role("button", name="Signaal intrekken").click()
    expect(anna.get_by_text("Het signaal is ingetrokken en gearchiveerd")).to_be_visible()
    nav(bram, "Mijn matches")
    expect(bram.get_by_text("U zit nu in geen enkele match.")).to_be_visible()

    for page in (anna, bram):
        history = page.evaluate("performance.getEntriesByType('navigation').map(e => e.name)")
        for seen in [*visited_urls(page), *history]:
            assert CHILD_BSN not in seen and PARENT_BSN not in seen
        assert CHILD_BSN not in page.content()
