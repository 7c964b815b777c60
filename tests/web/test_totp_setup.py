"""The second-factor set-up on a phone (issue 14 item 6): the phone cannot scan its own
screen, so the page offers an otpauth:// link that opens the authenticator app, and the key
grouped in fours to type over, next to the ungrouped key to copy."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlparse

import pyotp
from flask import Flask

from tests.conftest import FakeClock
from tests.web.conftest import PASSWORD, csrf_of
from verwijsindex.services import Core
from verwijsindex.services import admin as admin_service
from verwijsindex.web.auth import group_in_fours

_SECRET = re.compile(r'<code class="secret">([A-Z2-7]+)</code>')
_GROUPED = re.compile(r'<p class="secret-grouped"><code>([A-Z2-7 ]+)</code></p>')
_OTPAUTH = re.compile(r'<a href="(otpauth://[^"]+)">Open in authenticator-app</a>')


def test_group_in_fours() -> None:
    assert group_in_fours("ABCDEFGHIJ") == "ABCD EFGH IJ"
    assert group_in_fours("ABCDEFGH") == "ABCD EFGH"
    assert group_in_fours("") == ""


def test_the_setup_page_links_to_the_app_and_groups_the_key(
    app: Flask, core: Core, clock: FakeClock
) -> None:
    organisation = admin_service.create_organisation(core, "Basisschool De Linde", "onderwijs")
    admin_service.create_professional(
        core,
        organisation.id,
        name="Anna de Vries",
        email="anna@example.org",
        phone="+31 6 1234 5678",
        roles=("professional",),
        password=PASSWORD,
    )
    http = app.test_client()
    form = http.get("/inloggen").get_data(as_text=True)
    http.post(
        "/inloggen",
        data={"csrf_token": csrf_of(form), "email": "anna@example.org", "password": PASSWORD},
    )
    setup = http.get("/inloggen/instellen").get_data(as_text=True)

    secret, grouped, link = _SECRET.search(setup), _GROUPED.search(setup), _OTPAUTH.search(setup)
    assert secret and grouped and link, setup
    assert grouped.group(1).replace(" ", "") == secret.group(1)
    assert all(len(group) == 4 for group in grouped.group(1).split(" ")[:-1])
    uri = urlparse(html.unescape(link.group(1)))
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    assert parse_qs(uri.query)["secret"] == [secret.group(1)]
    # The link's key is the one the login then accepts.
    code = pyotp.TOTP(secret.group(1)).at(clock.now)
    done = http.post("/inloggen/instellen", data={"csrf_token": csrf_of(setup), "code": code})
    assert done.status_code == 303
