"""A coordinator in a real browser, on a desk (1280 px) and on a phone (390 px): sees the task a
deactivated colleague left behind, corrects a colleague's contact details (errors summarised
and tied to their fields), filters the organisation's signals, and moves all of the departed
colleague's signals at once, after which the task is gone. No page is wider than the phone.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import People
from tests.conftest import CHILD_BSN, SIBLING_BSN, World
from tests.integration.test_concurrency import new_signal
from verwijsindex.domain import Professional
from verwijsindex.services import Actor, Core, directory
from verwijsindex.services import admin as admin_service
from verwijsindex.services.registration import register_signal

NewPage = Callable[..., Page]
DESK, PHONE = 1280, 390
SCHOOL = "Basisschool De Linde"


def fits(page: Page, width: int) -> None:
    scrolled = page.evaluate("document.documentElement.scrollWidth")
    assert scrolled <= width, f"{page.url} is {scrolled} px wide at {width}"


def colleague(core: Core, name: str) -> Professional:
    with core.transaction(write=False) as tx:
        school = tx.people.organisation_named(SCHOOL)
    assert school is not None
    return admin_service.create_professional(
        core,
        school.id,
        name=name,
        email=name.lower().replace(" ", ".") + "@example.org",
        phone="+31 6 1234 5678",
        roles=["professional"],
        password=None,
    ).professional


def test_a_coordinator_keeps_contact_details_and_moves_a_departed_colleagues_signals(
    new_page: NewPage,
    people: People,
    world: World,
    core: Core,
    screenshot: Callable[[Page, str], None],
) -> None:
    cora_login = people.create("Cora Coordinator", SCHOOL, roles=("professional", "coordinator"))
    anna = colleague(core, "Anna Jansen")
    bram = colleague(core, "Bram Bakker")
    for bsn in (CHILD_BSN, SIBLING_BSN):
        register_signal(core, Actor(anna), new_signal(bsn, []))
    world.professional("Wim Wijkteam", "Wijkteam Noord", "jeugdhulp").signal(CHILD_BSN)
    bea = world.actor(world.professional("Bea Beheer", "Regio", roles=("beheerder",)))
    directory.deactivate_professional(core, bea, anna.id)

    cora = new_page(width=DESK)
    people.log_in(cora, cora_login)
    cora.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Coördinatie").click()
    expect(cora.get_by_role("heading", name="Coördinatie", level=1)).to_be_visible()
    expect(cora.get_by_role("heading", name="2 signalen overdragen")).to_be_visible()
    expect(cora.get_by_text("Anna Jansen is gedeactiveerd en heeft nog 2 actieve")).to_be_visible()
    screenshot(cora, "13-coordinatie")

    cora.get_by_role("link", name="Contactgegevens wijzigen van Bram Bakker").click()
    cora.get_by_label("E-mailadres").fill("bram@")
    cora.get_by_role("button", name="Opslaan").click()
    summary = cora.get_by_role("alert").filter(has_text="Controleer het formulier")
    expect(summary).to_be_visible()
    expect(cora.get_by_label("E-mailadres")).to_have_attribute("aria-invalid", "true")
    summary.get_by_role("link").click()
    expect(cora.get_by_label("E-mailadres")).to_be_focused()
    cora.get_by_label("E-mailadres").fill("b.bakker@delinde.example")
    cora.get_by_role("button", name="Opslaan").click()
    expect(cora.get_by_text("De contactgegevens zijn opgeslagen.")).to_be_visible()
    expect(cora.get_by_role("link", name="b.bakker@delinde.example")).to_be_visible()

    cora.get_by_role("link", name="Signalen van de organisatie").click()
    cora.get_by_label("Professional").select_option(label="Anna Jansen (gedeactiveerd)")
    cora.get_by_role("button", name="Toon").click()
    expect(cora.locator("h2.card-title")).to_have_count(2)
    expect(cora.get_by_text(CHILD_BSN)).to_have_count(0)
    screenshot(cora, "14-coordinatie-signalen")

    for path in ("/coordinatie", f"/coordinatie/professionals/{bram.id}", "/coordinatie/signalen"):
        for width in (DESK, PHONE):
            cora.set_viewport_size({"width": width, "height": 800})
            cora.goto(path)
            fits(cora, width)

    # On the phone: the task, all at once.
    cora.goto("/coordinatie")
    cora.get_by_label("Alle 2 signalen van Anna Jansen overdragen aan").select_option(
        label="Bram Bakker"
    )
    cora.get_by_role("button", name=re.compile("^Alle 2 overdragen")).click()
    expect(cora.get_by_text("De signalen zijn overgedragen.")).to_be_visible()
    expect(cora.get_by_text("Er zijn geen signalen om over te dragen.")).to_be_visible()
    fits(cora, PHONE)
    cora.get_by_role("link", name="Signalen van Bram Bakker").click()
    expect(cora.locator("h2.card-title")).to_have_count(2)
