"""Accessibility as a test: axe-core injected into a page, any violation fails (issue 14).

axe-core is vendored in tests/browser/vendor/axe-core (MPL-2.0; see its README for the
version and how to refresh it). Every impact level counts: a "minor" violation is still one a
screen-reader user meets. The failure message lists each rule, its impact, its help text and
the elements it found, so a failure can be fixed without re-running the test.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"


@cache
def _source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe's violations on the page as it is now (WCAG 2.x A/AA and best practices)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the app's CSP (script-src 'self') rightly
        # refuses an injected <script>, and the test must not weaken it.
        page.evaluate(_source() + "\n;undefined")
    result: dict[str, Any] = page.evaluate(
        "async () => await window.axe.run(document, {resultTypes: ['violations']})"
    )
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['html'][:160]}")
    return "\n".join(lines)


def assert_accessible(page: Page, where: str = "") -> None:
    """Fail listing every axe violation (all impact levels) on the page as it is now."""
    violations = axe_violations(page)
    assert not violations, f"axe on {where or page.url}:\n{describe(violations)}"


def assert_no_sideways_scroll(page: Page, where: str = "") -> None:
    """WCAG 1.4.10 reflow: the page is no wider than the viewport."""
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{where or page.url} scrolls sideways: {widths}"
