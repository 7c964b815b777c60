"""The integrators' documentation page `/api/v1/docs` in a real browser (issue 12 item 5).

Headless Chromium with every request to another host refused and recorded: the page must
render the operations of our OpenAPI document from this service's own files alone, under its
Content-Security-Policy, without a console error, and "Try it out" must reach the API.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from playwright.sync_api import ConsoleMessage, Page, Route, expect

NewPage = Callable[..., Page]


class _Watch:
    """What the page did that it must not: requests to other hosts, console errors."""

    def __init__(self, page: Page, live_url: str) -> None:
        self.own_host = urlsplit(live_url).netloc
        self.foreign: list[str] = []
        self.errors: list[str] = []
        self.requested: list[str] = []
        page.route("**/*", self._only_own_host)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))

    def _only_own_host(self, route: Route) -> None:
        url = route.request.url
        if urlsplit(url).netloc == self.own_host:
            self.requested.append(urlsplit(url).path)
            route.continue_()
        else:
            self.foreign.append(url)
            route.abort()

    def _console(self, message: ConsoleMessage) -> None:
        # A Content-Security-Policy violation is reported as a console error too.
        if message.type in ("error", "warning"):
            self.errors.append(f"{message.type}: {message.text}")


def test_the_docs_page_renders_the_operations_offline_without_console_errors(
    new_page: NewPage, live_url: str
) -> None:
    page = new_page()
    watch = _Watch(page, live_url)

    page.goto("/api/v1/docs")

    expect(page.locator(".info .title")).to_contain_text("verwijsindex")
    register = page.locator(".opblock-post").filter(
        has=page.locator(".opblock-summary-path", has_text="/signals")
    )
    expect(register.first.locator(".opblock-summary-method")).to_have_text("POST")
    expect(register.first).to_contain_text("Register a signal")
    assert page.locator(".opblock").count() >= 15  # every operation, not a stub
    # Expanded, an operation shows its request body from the document's schemas.
    register.first.locator(".opblock-summary").click()
    expect(register.first.locator(".opblock-body")).to_contain_text("birthDate")
    expect(register.first.locator(".opblock-body")).to_contain_text("informatieplicht")

    assert "/api/v1/openapi.json" in watch.requested
    assert watch.foreign == []
    assert watch.errors == []


def test_try_it_out_calls_this_service(new_page: NewPage, live_url: str) -> None:
    """The document's relative server (`/api/v1`) resolves against this host, and the
    page's policy lets Swagger UI call it (`connect-src 'self'`)."""
    page = new_page()
    watch = _Watch(page, live_url)
    page.goto("/api/v1/docs")
    health = page.locator(".opblock-get").filter(
        has=page.locator(".opblock-summary-path", has_text="/health")
    )
    health.locator(".opblock-summary").click()
    health.get_by_role("button", name="Try it out").click()
    health.get_by_role("button", name="Execute").click()

    expect(health.locator(".live-responses-table tr.response .response-col_status")).to_have_text(
        "200"
    )
    expect(health.locator(".live-responses-table")).to_contain_text('"database": "ok"')
    assert "/api/v1/health" in watch.requested
    assert watch.foreign == []
    assert watch.errors == []
