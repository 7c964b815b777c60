"""Browser tests: the real app served on loopback, driven in Debian's headless Chromium.

The app runs in a thread of the test process (werkzeug's threaded server), so the tests
share its fake clock: TOTP codes are computed for `clock.now`. Each test gets a fresh
browser context (no cookies). Screenshots of the main pages go to build/screenshots/
(ignored by git, so `make test` leaves the checkout as it was), or to the folder in
VERWIJSINDEX_SCREENSHOT_DIR: `make screenshots` points it at docs/screenshots/ to refresh
the README's. Taken on the SQLite run only (the pages are the same on both databases).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright
from werkzeug.serving import make_server

from tests.conftest import FakeClock
from verwijsindex.services import Core
from verwijsindex.services import admin as admin_service

CHROMIUM = "/usr/bin/chromium"
# Without the networking flags Chromium tries to reach Google's hosts, which this machine
# refuses; --no-sandbox because the tests may run as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPOSITORY = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(
    os.environ.get("VERWIJSINDEX_SCREENSHOT_DIR") or REPOSITORY / "build" / "screenshots"
)
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def new_page(browser: Browser, live_url: str) -> Iterator[object]:
    """A factory of pages, each in a context of its own (another person, other cookies)."""
    contexts = []

    def make(width: int = 1100) -> Page:
        context = browser.new_context(
            base_url=live_url, viewport={"width": width, "height": 900}, locale="nl-NL"
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@dataclass
class Person:
    email: str
    password: str
    secret: str | None = None  # learnt at first login, from the set-up page


@dataclass
class People:
    core: Core
    clock: FakeClock

    def create(
        self,
        name: str,
        organisation: str = "Basisschool De Linde",
        sector: str = "onderwijs",
        roles: tuple[str, ...] = ("professional",),
        gemeenten: tuple[str, ...] = (),
    ) -> Person:
        found = admin_service.create_organisation(self.core, organisation, sector)
        email = name.lower().replace(" ", ".") + "@example.org"
        admin_service.create_professional(
            self.core,
            found.id,
            name=name,
            email=email,
            phone="+31 6 1234 5678",
            roles=roles,
            password=PASSWORD,
            gemeenten_assigned=gemeenten,
        )
        return Person(email, PASSWORD)

    def code(self, person: Person) -> str:
        assert person.secret is not None
        return pyotp.TOTP(person.secret).at(self.clock.now)

    def log_in(self, page: Page, person: Person) -> None:
        """Through the real pages: password, then the QR set-up (first time) or a code."""
        page.goto("/inloggen")
        page.get_by_label("E-mailadres").fill(person.email)
        page.get_by_label("Wachtwoord").fill(person.password)
        page.get_by_role("button", name="Verder").click()
        if person.secret is None:
            expect(page.get_by_role("heading", name="Tweede stap instellen")).to_be_visible()
            page.get_by_text("Kunt u niet scannen?").click()
            person.secret = page.locator("code.secret").inner_text().strip()
        page.get_by_label("Code uit uw authenticator-app").fill(self.code(person))
        page.get_by_role("button", name=re.compile("inloggen", re.IGNORECASE)).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Welkom")
        # Codes are single-use: move on a step so the next login gets a fresh one.
        self.clock.advance(seconds=30)


@pytest.fixture
def people(core: Core, clock: FakeClock) -> People:
    return People(core, clock)


@pytest.fixture
def screenshot(backend: str) -> object:
    """Save a screenshot of a main page for the README (SQLite run only)."""

    def take(page: Page, name: str) -> None:
        if not backend.startswith("sqlite"):
            return
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take
