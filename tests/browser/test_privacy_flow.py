"""A privacy officer in a real browser: searches the audit log, checks the hash chain, and
makes a subject-access report on a child two professionals signalled, then prints it.
The BSN is typed into a POST form only: never in an address, a title, the history or the
page."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import People
from tests.conftest import CHILD_BSN, PARENT_BSN, FakeClock, World
from verwijsindex.services import Core
from verwijsindex.services.audit_chain import run_queued_verification

NewPage = Callable[..., Page]
INVALID_BSN = "111222334"


def nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name=name).click()


def open_task(page: Page, name: str) -> None:
    nav(page, "Privacy")
    page.get_by_role("main").get_by_role("link", name=re.compile(f"^{name}")).click()


def seen_by(page: Page) -> list[str]:
    """The address, the title and every address in the tab's history."""
    history = page.evaluate("performance.getEntriesByType('navigation').map(e => e.name)")
    return [page.url, page.title(), *history]


def test_a_privacy_officer_reports_on_a_child_and_prints_the_report(
    new_page: NewPage,
    people: People,
    world: World,
    clock: FakeClock,
    core: Core,
    screenshot: Callable[[Page, str], None],
) -> None:
    world.professional("Anna Jansen", "Basisschool De Linde", "onderwijs").signal(
        CHILD_BSN, parents=[PARENT_BSN]
    )
    clock.advance(minutes=1)
    world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp").signal(
        CHILD_BSN, parents=[PARENT_BSN]
    )
    olga_login = people.create(
        "Olga Officier", "Gemeente Utrecht", "jeugdhulp", roles=("privacy_officer",)
    )
    olga = new_page()
    people.log_in(olga, olga_login)

    open_task(olga, "Auditlog")
    expect(olga.get_by_role("heading", name="Auditlog")).to_be_visible()
    expect(olga.get_by_role("cell", name="api:signal:create").first).to_be_visible()
    olga.get_by_label("Vanaf").fill("2026-11-23")
    olga.get_by_role("button", name="Zoeken", exact=True).click()
    expect(olga.get_by_role("cell", name="web:session:login").first).to_be_visible()
    screenshot(olga, "09-auditlog")
    # By name, not only by id (issue 14 item 8): the name goes in a POST, the page's
    # address gets the id.
    olga.get_by_label(re.compile("naam of e-mailadres")).fill("Anna Jansen")
    olga.get_by_role("button", name="Professional zoeken").click()
    expect(olga.get_by_text("Anna Jansen (Basisschool De Linde)").first).to_be_visible()
    expect(olga.get_by_text("Signaal afgegeven (via de API)").first).to_be_visible()
    assert "Anna" not in olga.url and "actor=" in olga.url

    open_task(olga, "Controle van de keten")
    expect(olga.get_by_text("Nog niet gecontroleerd")).to_be_visible()
    olga.get_by_role("button", name="Controleer alle records").click()
    expect(olga.get_by_text(re.compile("^Er staat een controle klaar"))).to_be_visible()
    assert run_queued_verification(core) is not None  # what `verwijsindex worker` does
    olga.reload()
    expect(olga.get_by_text(re.compile(r"^Intact: \d+ records$"))).to_be_visible()

    open_task(olga, "Inzageverzoek")
    olga.get_by_label("BSN").fill(INVALID_BSN)
    olga.get_by_role("button", name="Overzicht maken").click()
    expect(olga.locator("#bsn-error")).to_contain_text("Dit is geen geldig BSN")
    expect(olga.get_by_label("BSN")).to_have_value("")
    olga.get_by_label("BSN").fill(CHILD_BSN)
    olga.get_by_role("button", name="Overzicht maken").click()

    report = olga.locator("article.report")
    expect(olga.get_by_role("heading", name="Inzageverzoek verwijsindex")).to_be_visible()
    expect(report.get_by_role("cell", name="Basisschool De Linde").first).to_be_visible()
    expect(report.get_by_role("cell", name="Wijkteam Noord").first).to_be_visible()
    expect(report.get_by_role("heading", name=re.compile("^Cliëntmatch sinds"))).to_be_visible()
    for seen in seen_by(olga):
        assert CHILD_BSN not in seen and INVALID_BSN not in seen and PARENT_BSN not in seen
    assert CHILD_BSN not in olga.content()
    assert olga.get_by_label("BSN").count() == 0

    # With JavaScript the button shows and opens the print dialogue; the Ctrl+P hint goes.
    button = olga.get_by_role("button", name="Afdrukken")
    expect(button).to_be_visible()
    expect(olga.get_by_text("Druk af met Ctrl+P")).to_be_hidden()
    screenshot(olga, "10-inzage")
    olga.evaluate("window.print = () => { window.printed = true; }")
    button.click()
    assert olga.evaluate("window.printed === true")

    olga.emulate_media(media="print")
    expect(olga.locator("header.site")).to_be_hidden()
    expect(olga.locator("footer.site")).to_be_hidden()
    expect(button).to_be_hidden()
    expect(olga.get_by_role("heading", name="Inzageverzoek verwijsindex")).to_be_visible()
    expect(report.get_by_role("cell", name="Wijkteam Noord").first).to_be_visible()
    olga.emulate_media(media="screen")
    expect(olga.locator("header.site")).to_be_visible()
