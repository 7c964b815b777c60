"""Role by role, every web page: who sees it and who gets the 403 page (issue 13 item 7).

`PAGES` names, for every page a logged-in person can open (GET), the roles that may; every
other role must get 403. Path ids are ones nobody holds, so a role that may open the page
reaches the lookup (404 page) and one that may not is refused first. The forms behind the
pages (POST) are refused by the same `login_required` their page is.

A new page fails `test_every_page_has_a_declared_access_rule` until it is added here.
"""

from __future__ import annotations

import re
import uuid

import pytest
from flask import Flask

from tests.web.conftest import Browser, Login
from verwijsindex.domain import Role

PROFESSIONAL, BEHEERDER, PRIVACY, REGIE, COORDINATOR = (
    Role.PROFESSIONAL,
    Role.BEHEERDER,
    Role.PRIVACY_OFFICER,
    Role.REGIEVOERDER,
    Role.COORDINATOR,
)
ROLES = (PROFESSIONAL, BEHEERDER, PRIVACY, REGIE, COORDINATOR)
EVERYONE = frozenset(ROLES)

# Pages anyone may open, logged in or not (logging in, invitations, the footer's pages), and
# the API's own.
NOT_PAGES = re.compile(
    r"^/(api/|static/|inloggen|uitnodiging|uitloggen|toegankelijkheid$|privacyverklaring$|contact$)"
)

PAGES: dict[str, frozenset[Role]] = {
    "/": EVERYONE,
    "/signalen": frozenset({PROFESSIONAL}),
    "/signalen/nieuw": frozenset({PROFESSIONAL}),
    "/signalen/<uuid:signal_id>": frozenset({PROFESSIONAL}),
    "/signalen/<uuid:signal_id>/intrekken": frozenset({PROFESSIONAL}),
    "/informatieplicht": frozenset({PROFESSIONAL}),
    "/matches": frozenset({PROFESSIONAL}),
    "/matches/<uuid:match_id>": frozenset({PROFESSIONAL}),
    "/beheer": frozenset({BEHEERDER}),
    "/beheer/organisaties": frozenset({BEHEERDER}),
    "/beheer/organisaties/nieuw": frozenset({BEHEERDER}),
    "/beheer/professionals": frozenset({BEHEERDER}),
    "/beheer/professionals/nieuw": frozenset({BEHEERDER}),
    "/beheer/professionals/<uuid:professional_id>": frozenset({BEHEERDER}),
    "/beheer/professionals/<uuid:professional_id>/deactiveren": frozenset({BEHEERDER}),
    "/beheer/professionals/<uuid:professional_id>/heractiveren": frozenset({BEHEERDER}),
    "/beheer/koppelingen": frozenset({BEHEERDER}),
    "/beheer/koppelingen/nieuw": frozenset({BEHEERDER}),
    "/beheer/koppelingen/<uuid:client_id>/intrekken": frozenset({BEHEERDER}),
    "/beheer/statistieken": frozenset({BEHEERDER}),
    "/coordinatie": frozenset({COORDINATOR}),
    "/coordinatie/signalen": frozenset({COORDINATOR}),
    "/coordinatie/professionals/<uuid:professional_id>": frozenset({COORDINATOR}),
    "/regie": frozenset({REGIE}),
    "/privacy": frozenset({PRIVACY}),
    "/privacy/auditlog": frozenset({PRIVACY}),
    "/privacy/inzage": frozenset({PRIVACY}),
    "/privacy/keten": frozenset({PRIVACY}),
    "/privacy/verwijderverzoek": frozenset({PRIVACY}),
}

_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _pages(app: Flask) -> set[str]:
    return {
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ()) and not NOT_PAGES.match(rule.rule)
    }


@pytest.fixture
def browsers(login: Login) -> dict[Role, Browser]:
    return {
        role: login(f"Alleen {role.value}", f"Organisatie {role.value}", roles=(role,))
        for role in ROLES
    }


def test_every_page_has_a_declared_access_rule(app: Flask) -> None:
    undeclared = _pages(app) - set(PAGES)
    assert not undeclared, f"declare who may open these in PAGES: {sorted(undeclared)}"
    assert not set(PAGES) - _pages(app), "PAGES names pages no longer served"


def test_each_role_opens_its_own_pages_and_gets_403_everywhere_else(
    browsers: dict[Role, Browser],
) -> None:
    wrong = []
    for role, browser in browsers.items():
        for page, allowed in sorted(PAGES.items()):
            path = _CONVERTER.sub(lambda m: str(uuid.uuid4()), page)
            status = browser.get(path).status_code
            expected_ok = status in {200, 404} if role in allowed else status == 403
            if not expected_ok:
                wrong.append(f"{role.value} {page}: {status}")
    assert not wrong, "\n".join(wrong)
