"""Web UI tests drive the real pages with the Flask test client, logged in the way a person
logs in: password, then the TOTP code from the secret shown at first login."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import FakeClock
from verwijsindex.services import Core
from verwijsindex.services import admin as admin_service

PASSWORD = "een lang genoeg wachtwoord"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_SECRET = re.compile(r'<code class="secret">([A-Z2-7]+)</code>')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


@dataclass
class Browser:
    """One logged-in person's browser: their own cookies, every response kept for checks."""

    http: FlaskClient
    professional_id: uuid.UUID
    name: str
    email: str
    phone: str
    totp_secret: str
    responses: list[TestResponse] = field(default_factory=list)
    visited: list[str] = field(default_factory=list)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        self.visited.append(path)
        response = self.http.get(path, **kwargs)
        self.responses.append(response)
        return response

    def post(
        self, path: str, data: dict[str, str] | None = None, *, csrf: bool = True
    ) -> TestResponse:
        form = dict(data or {})
        if csrf:
            form["csrf_token"] = self.csrf_token()
        response = self.http.post(path, data=form)
        self.responses.append(response)
        return response

    def csrf_token(self) -> str:
        return csrf_of(self.http.get("/").get_data(as_text=True))

    def log_in_again(self, clock: FakeClock) -> None:
        """After the clock moved past the session's lifetime."""
        log_in(self.http, self.email, clock, self.totp_secret)

    def follow(self, response: TestResponse) -> TestResponse:
        """Where a 303 sends the browser (and the browser's history with it)."""
        assert response.status_code == 303, response.get_data(as_text=True)[:2000]
        return self.get(response.headers["Location"])


def log_in(http: FlaskClient, email: str, clock: FakeClock, secret: str | None = None) -> str:
    """Password, then the code. At first login the secret is read from the set-up page, as a
    person would type it into their app; it is returned for logging in again later."""
    login = http.get("/inloggen")
    answer = http.post(
        "/inloggen",
        data={
            "csrf_token": csrf_of(login.get_data(as_text=True)),
            "email": email,
            "password": PASSWORD,
            "volgende": "/",
        },
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)
    second_step = answer.headers["Location"].split("?")[0]
    assert second_step == ("/inloggen/code" if secret else "/inloggen/instellen")
    html = http.get(answer.headers["Location"]).get_data(as_text=True)
    if secret is None:
        shown = _SECRET.search(html)
        assert shown, "no TOTP secret on the set-up page"
        secret = shown.group(1)
    done = http.post(
        second_step,
        data={
            "csrf_token": csrf_of(html),
            "code": pyotp.TOTP(secret).at(clock.now),
            "volgende": "/",
        },
    )
    assert done.status_code == 303, done.get_data(as_text=True)
    assert done.headers["Location"] == "/"
    return secret


Login = Callable[..., Browser]


@pytest.fixture
def login(app: Flask, core: Core, clock: FakeClock) -> Login:
    """`login("Anna de Vries", organisation="School A", sector="onderwijs")` → her browser."""
    organisations: dict[str, uuid.UUID] = {}

    def make(
        name: str,
        organisation: str = "School A",
        sector: str = "onderwijs",
        roles: tuple[str, ...] = ("professional",),
        phone: str = "+31 6 1234 5678",
        gemeenten: tuple[str, ...] = (),
    ) -> Browser:
        if organisation not in organisations:
            organisations[organisation] = admin_service.create_organisation(
                core, organisation, sector
            ).id
        email = f"{name.lower().replace(' ', '.')}@example.org"
        created = admin_service.create_professional(
            core,
            organisations[organisation],
            name=name,
            email=email,
            phone=phone,
            roles=roles,
            password=PASSWORD,
            gemeenten_assigned=gemeenten,
        )
        http = app.test_client()
        secret = log_in(http, email, clock)
        return Browser(http, created.professional.id, name, email, phone, secret)

    return make
