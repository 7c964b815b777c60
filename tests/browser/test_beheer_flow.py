"""A beheerder in a real browser: adds an organisation, invites a professional and copies
the invitation link; the new professional opens it elsewhere, chooses a password, sets up
the second factor and lands on the start page; the beheerder then reads the statistics
chart, small cells hatched."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORD, People, Person
from tests.conftest import START, FakeClock, World
from tests.integration.test_concurrency import new_signal, valid_bsns
from verwijsindex.services import Core
from verwijsindex.services.registration import register_signal

NewPage = Callable[..., Page]
ONCE = "Kopieer deze link nu, hij wordt niet nog eens getoond."


def nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name=name).click()


def counted_months(world: World, core: Core, clock: FakeClock) -> None:
    """Signals over three months, registered at their time: some sectors above the
    small-cell threshold, one below it."""
    school = world.actor(world.professional("Anna Jansen", "School A", "onderwijs"))
    care = world.actor(world.professional("Bert Bos", "Jeugdteam", "jeugdhulp"))
    police = world.actor(world.professional("Dirk Dekker", "Politie", "justitie"))
    children = iter(valid_bsns(60, 310_000_000))
    for month, (at_school, in_care, with_police) in {
        9: (6, 5, 2),
        10: (9, 7, 0),
        11: (12, 5, 3),
    }.items():
        clock.now = datetime(2026, month, 10, 9, 0, tzinfo=UTC)
        for actor, count in ((school, at_school), (care, in_care), (police, with_police)):
            for _ in range(count):
                register_signal(core, actor, new_signal(next(children), []))
    clock.now = START  # before anyone logs in: TOTP codes never go back in time


def test_a_beheerder_invites_a_professional_who_sets_up_their_account(
    new_page: NewPage,
    people: People,
    world: World,
    core: Core,
    clock: FakeClock,
    screenshot: Callable[[Page, str], None],
) -> None:
    counted_months(world, core, clock)
    bea_login = people.create("Bea Beheer", "Regio Utrecht", "jeugdhulp", roles=("beheerder",))
    bea = new_page()
    people.log_in(bea, bea_login)

    nav(bea, "Beheer")
    expect(bea.get_by_role("heading", name="Beheer", exact=True)).to_be_visible()
    bea.get_by_role("link", name=re.compile("^Organisaties")).click()
    bea.get_by_role("link", name="Organisatie toevoegen").click()
    bea.get_by_label("Naam").fill("Wijkteam Oost")
    bea.get_by_label("Sector").select_option(label="Maatschappelijke ondersteuning")
    bea.get_by_role("button", name="Organisatie toevoegen").click()
    expect(bea.get_by_text("De organisatie is aangemaakt.")).to_be_visible()
    expect(bea.get_by_role("cell", name="Maatschappelijke ondersteuning")).to_be_visible()

    bea.get_by_role("link", name="Uitnodigen bij Wijkteam Oost").click()
    expect(bea.get_by_label("Organisatie")).to_have_value(re.compile(r"[0-9a-f-]{36}"))
    expect(bea.get_by_label("Professional", exact=True)).to_be_checked()
    bea.get_by_label("Naam").fill("Chris Claassen")
    bea.get_by_label("E-mailadres").fill("chris.claassen@example.org")
    bea.get_by_label("Telefoonnummer").fill("06 1234 5678")
    bea.get_by_role("button", name="Uitnodiging maken").click()
    expect(bea.get_by_text(ONCE)).to_be_visible()
    link = bea.get_by_label("Uitnodigingslink").input_value()
    # The code is in the #-part, which the browser never sends: it reaches no access log.
    assert re.fullmatch(r"https?://[^/]+/uitnodiging#[A-Za-z0-9_-]{20,}", link)
    assert "/uitnodiging" not in bea.url  # the link was in the answer to a POST only
    screenshot(bea, "07-uitnodiging")

    # Chris opens the link on his phone: the configured base URL is not this test server,
    # so the link's path is opened here.
    chris = new_page(width=390)
    code = urlsplit(link).fragment
    requested: list[str] = []
    chris.on("request", lambda request: requested.append(request.url))
    chris.goto(f"{urlsplit(link).path}#{code}")
    expect(chris.get_by_role("heading", name="Welkom bij de verwijsindex")).to_be_visible()
    # The script took the code from the #-part into the form, hid the field and dropped the
    # #-part from the address bar; no request the browser made carried it.
    expect(chris.get_by_label("Code uit uw uitnodigingslink")).to_be_hidden()
    assert chris.locator("input[name=uitnodiging]").input_value() == code
    assert "#" not in chris.url
    chris.get_by_label("Nieuw wachtwoord").fill(PASSWORD)
    chris.get_by_label("Herhaal het wachtwoord").fill(PASSWORD)
    chris.get_by_role("button", name="Wachtwoord instellen").click()
    expect(chris.get_by_role("heading", name="Tweede stap instellen")).to_be_visible()
    chris.get_by_text("Kunt u niet scannen?").click()
    person = Person("chris.claassen@example.org", PASSWORD)
    person.secret = chris.locator("code.secret").inner_text().strip()
    chris.get_by_label("Code uit uw authenticator-app").fill(people.code(person))
    chris.get_by_role("button", name=re.compile("inloggen", re.IGNORECASE)).click()
    expect(chris.get_by_role("heading", level=1)).to_have_text("Welkom, Chris Claassen")
    expect(chris.get_by_text("Wijkteam Oost")).to_be_visible()
    assert not [url for url in requested if code in url]
    # The link worked once.
    clock.advance(seconds=30)
    other = new_page()
    other.goto(f"{urlsplit(link).path}#{code}")
    # It says so before asking for a password (issue 14 item 7).
    expect(other.get_by_text("Deze uitnodiging is niet (meer) geldig.")).to_be_visible()
    expect(other.get_by_label("Nieuw wachtwoord")).to_have_count(0)

    nav(bea, "Beheer")
    bea.get_by_role("link", name=re.compile("^Professionals")).click()
    expect(bea.get_by_role("link", name="Chris Claassen")).to_be_visible()
    screenshot(bea, "06-beheer-professionals")

    nav(bea, "Beheer")
    bea.get_by_role("link", name=re.compile("^Statistieken")).click()
    bea.get_by_label("Van maand").fill("2026-09")
    bea.get_by_label("Tot en met maand").fill("2026-11")
    bea.get_by_role("button", name="Toon").click()
    chart = bea.get_by_role("img", name=re.compile("Staafdiagram"))
    expect(chart).to_be_visible()
    assert chart.locator("rect[fill='url(#hidden-cell)']").count() == 2  # justitie, sep + nov
    assert chart.locator("rect[fill='#CC79A7']").count() == 3  # onderwijs, every month
    expect(bea.get_by_role("cell", name="<5").first).to_be_visible()
    expect(bea.locator("#kleine-aantallen")).to_contain_text("1 tot en met 4")
    screenshot(bea, "08-statistieken")

    # On a phone the chart fits the screen, every month in view (issue 14 item 3, WCAG
    # 1.4.10): nothing scrolls sideways.
    bea.set_viewport_size({"width": 390, "height": 800})
    box = chart.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert bea.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
