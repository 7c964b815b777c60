"""Every page every role can open, at a desk (1280 px) and on a phone (390 px), checked by
axe-core: any violation of any impact fails (issue 14 item 10). The pages come from
tests/web/test_role_access_pages.py's PAGES, so a new page is walked as soon as it is declared
there. The pages are filled (a signal with a match, a system client, audit events,
statistics, a subject-access report) so that tables and charts are checked, not only empty
states. The pages whose reflow this test pins (WCAG 1.4.10) must also not scroll sideways at
320 px.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient
from playwright.sync_api import Page

from tests.browser.axe import assert_accessible, assert_no_sideways_scroll
from tests.browser.conftest import PASSWORD, People, Person
from tests.conftest import CHILD_BSN, PARENT_BSN, ApiClient, FakeClock
from tests.web.test_role_access_pages import PAGES
from verwijsindex.domain import Role
from verwijsindex.services import Core
from verwijsindex.services import admin as admin_service
from verwijsindex.services.auth import personal_token

NewPage = Callable[..., Page]
WIDTHS = (1280, 390)
GEMEENTE = "GM0228"
# Pages that must reflow at 320 px (issue 14 item 3); the professional's own pages are
# pinned by their own tests.
REFLOW = re.compile(r"^/(beheer|privacy)")
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


@dataclass
class Filled:
    """Ids of things that exist, to put into the pages' addresses."""

    ids: dict[str, uuid.UUID]
    logins: dict[Role, Person]


def _with_token(core: Core, client: FlaskClient, name: str, organisation: str) -> ApiClient:
    organisation_id = admin_service.create_organisation(core, organisation, "onderwijs").id
    created = admin_service.create_professional(
        core,
        organisation_id,
        name=name,
        email=name.lower().replace(" ", ".") + "@example.org",
        phone="+31 6 1234 5678",
        roles=("professional",),
        password=PASSWORD,
    )
    token = personal_token(core, created.professional.id)
    return ApiClient(client, created.professional.id, organisation_id, token)


@pytest.fixture
def filled(core: Core, client: FlaskClient, people: People, clock: FakeClock) -> Filled:
    anna = _with_token(core, client, "Anna Jansen", "Basisschool De Linde")
    signal = anna.signal(CHILD_BSN, parents=[PARENT_BSN], gemeente=GEMEENTE)
    clock.advance(minutes=1)
    bram = _with_token(core, client, "Bram Bakker", "Wijkteam Noord")
    match_id = bram.signal(CHILD_BSN, parents=[PARENT_BSN], gemeente=GEMEENTE)["matches"][0]["id"]
    system_client = admin_service.create_system_client(core, anna.organisation_id)
    logins = {
        Role.PROFESSIONAL: Person("anna.jansen@example.org", PASSWORD),
        Role.BEHEERDER: people.create("Bea Beheer", "Regio", roles=("beheerder",)),
        Role.PRIVACY_OFFICER: people.create("Olga Officier", "Regio", roles=("privacy_officer",)),
        Role.REGIEVOERDER: people.create(
            "Rik Regie", "Gemeente", roles=("regievoerder",), gemeenten=(GEMEENTE,)
        ),
        Role.COORDINATOR: people.create(
            "Cora Coordinator", "Basisschool De Linde", roles=("professional", "coordinator")
        ),
    }
    ids = {
        "signal_id": uuid.UUID(signal["id"]),
        "match_id": uuid.UUID(match_id),
        "professional_id": anna.professional_id,
        "client_id": system_client.client_id,
    }
    return Filled(ids, logins)


def _address(page: str, ids: dict[str, uuid.UUID]) -> str:
    return _CONVERTER.sub(lambda m: str(ids.get(m.group(1), uuid.uuid4())), page)


def _check(page: Page, where: str, failures: list[str]) -> None:
    """Every failure is collected, so one run lists all of them."""
    checks: list[tuple[int, Callable[[Page, str], None]]] = [
        (width, assert_accessible) for width in WIDTHS
    ]
    if REFLOW.match(where):
        checks.append((320, assert_no_sideways_scroll))
    for width, check in checks:
        page.set_viewport_size({"width": width, "height": 900})
        try:
            check(page, f"{where} at {width} px")
        except AssertionError as failure:
            failures.append(str(failure).split("\nassert")[0])
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})


def _after_forms(page: Page, role: Role, failures: list[str]) -> None:
    """The pages that are the answer to a form: the subject-access report, a search."""
    if role is Role.PRIVACY_OFFICER:
        page.goto("/privacy/inzage")
        page.get_by_label(re.compile("BSN")).fill(CHILD_BSN)
        page.get_by_role("button", name="Overzicht maken").click()
        page.wait_for_load_state()
        _check(page, "/privacy/inzage (rapport)", failures)
        page.goto("/privacy/auditlog?action=api%3Asignal%3Acreate")
        _check(page, "/privacy/auditlog (gezocht)", failures)


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
def test_every_page_of_every_role_passes_axe_at_both_widths(
    new_page: NewPage, people: People, filled: Filled, role: Role
) -> None:
    page = new_page(width=WIDTHS[0])
    people.log_in(page, filled.logins[role])
    failures: list[str] = []
    for path, allowed in sorted(PAGES.items()):
        if role not in allowed:
            continue
        page.goto(_address(path, filled.ids))
        _check(page, path, failures)
    _after_forms(page, role, failures)
    assert not failures, "\n".join(failures)


PUBLIC = ("/inloggen", "/uitnodiging", "/toegankelijkheid", "/privacyverklaring", "/contact")


def test_the_pages_before_logging_in_pass_axe_at_both_widths(
    new_page: NewPage, people: People
) -> None:
    """Logging in, the invitation (its code step and a spent link), the footer's pages and
    the second-factor set-up: the pages a newcomer meets first."""
    page = new_page(width=WIDTHS[0])
    failures: list[str] = []
    for path in PUBLIC:
        page.goto(path)
        _check(page, path, failures)
    page.goto("/uitnodiging#" + "x" * 43)  # unknown: says so before asking for a password
    page.wait_for_selector("h1:has-text('Deze uitnodiging werkt niet')")
    _check(page, "/uitnodiging (ongeldig)", failures)
    person = people.create("Nina Nieuw")
    page.goto("/inloggen")
    page.get_by_label("E-mailadres").fill(person.email)
    page.get_by_label("Wachtwoord").fill(person.password)
    page.get_by_role("button", name="Verder").click()
    page.wait_for_selector("h1:has-text('Tweede stap instellen')")
    page.get_by_text("Kunt u niet scannen?").click()
    _check(page, "/inloggen/instellen", failures)
    assert not failures, "\n".join(failures)
