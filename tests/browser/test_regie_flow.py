"""A regievoerder in a real browser, at a desk (1280 px) and on a phone (390 px): the
matches of their gemeente with the overdue one first, the participants' contact details,
who has followed up, and "Contact gecontroleerd". Nothing of the child, no BSN."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import People
from tests.browser.test_erasure_and_history_flow import seen_by
from tests.conftest import CHILD_BSN, OTHER_CHILD_BSN, FakeClock, World

NewPage = Callable[..., Page]


def fits(page: Page, width: int) -> None:
    scrolled = page.evaluate("document.documentElement.scrollWidth")
    assert scrolled <= width, f"{page.url} is {scrolled} px wide"


@pytest.mark.parametrize("width", [1280, 390, 320])
def test_a_regievoerder_sees_overdue_matches_first_and_records_the_check(
    new_page: NewPage,
    people: People,
    world: World,
    clock: FakeClock,
    screenshot: Callable[[Page, str], None],
    width: int,
) -> None:
    anna = world.professional("Anna de Vries", "Basisschool De Linde", "onderwijs")
    bram = world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp")
    anna.signal(CHILD_BSN, gemeente="GM0228")
    late = bram.signal(CHILD_BSN, gemeente="GM0228")["matches"][0]["id"]
    assert anna.put(f"/api/v1/matches/{late}/follow-up").status_code == 200
    clock.advance(days=20)  # past 10 working days: Bram is overdue
    carla = world.professional("Carla Claes", "GGD Gelderland", "jeugdgezondheidszorg")
    dirk = world.professional("Dirk Dekker", "Wijkteam Zuid", "jeugdhulp")
    carla.signal(OTHER_CHILD_BSN, gemeente="GM0228")
    fresh = dirk.signal(OTHER_CHILD_BSN, gemeente="GM0228")["matches"][0]["id"]

    rita_login = people.create(
        "Rita Regie",
        "Gemeente Ede",
        "maatschappelijke_ondersteuning",
        roles=("regievoerder",),
        gemeenten=("GM0228",),
    )
    page = new_page(width=width)
    people.log_in(page, rita_login)
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Regie").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Regie op matches")
    expect(page.get_by_text("Gemeente: Ede")).to_be_visible()

    cards = page.locator("li.regie-match")
    expect(cards).to_have_count(2)
    expect(cards.nth(0)).to_have_attribute("id", f"match-{late}")
    expect(cards.nth(1)).to_have_attribute("id", f"match-{fresh}")
    overdue = cards.nth(0)
    expect(overdue.get_by_text("te laat").first).to_be_visible()
    expect(overdue.locator("a[href='mailto:bram.bakker@example.org']")).to_be_visible()
    expect(overdue.locator("a[href^='tel:']").first).to_be_visible()
    expect(overdue.get_by_text("niet opgevolgd, te laat")).to_be_visible()
    fits(page, width)
    if width != 320:
        screenshot(page, "11-regie" if width > 400 else "12-regie-telefoon")

    overdue.get_by_role("button", name="Contact gecontroleerd").click()
    expect(page.get_by_text("U heeft vastgelegd dat het contact")).to_be_visible()
    expect(page.locator(f"#match-{late}").get_by_text("door Rita Regie")).to_be_visible()
    fits(page, width)

    page.get_by_label("Gemeente").select_option(label="Ede")
    page.get_by_role("button", name="Toon").click()
    expect(page.locator("li.regie-match")).to_have_count(2)
    for seen in seen_by(page):
        assert CHILD_BSN not in seen and OTHER_CHILD_BSN not in seen
    content = page.content()
    assert CHILD_BSN not in content and OTHER_CHILD_BSN not in content
