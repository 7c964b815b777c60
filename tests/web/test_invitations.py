"""Invitations at the web UI: the code travels in the link's #-part and a POST body only,
old path-shaped links are refused in Dutch, and accepting an invitation always starts a new
second-factor enrolment."""

from __future__ import annotations

import re

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import FakeClock
from tests.web.conftest import PASSWORD, Browser, Login, csrf_of
from verwijsindex.services import Actor, Core, invitations

_SECRET = re.compile(r'<code class="secret">([A-Z2-7]+)</code>')


def invite(core: Core, login: Login, anna: Browser) -> str:
    """The code a beheerder's new invitation for Anna carries (as on the beheer page)."""
    bea = login("Bea Beheer", roles=("beheerder",))
    with core.transaction(write=False) as tx:
        beheerder = tx.people.professional(bea.professional_id)
    assert beheerder is not None
    return invitations.invite(core, Actor(beheerder, credential="web"), anna.professional_id)


def accept(app: Flask, code: str) -> tuple[TestResponse, FlaskClient]:
    http = app.test_client()
    form = http.get("/uitnodiging")
    answer = http.post(
        "/uitnodiging",
        data={
            "csrf_token": csrf_of(form.get_data(as_text=True)),
            "uitnodiging": code,
            "password": PASSWORD,
            "repeated": PASSWORD,
        },
    )
    return answer, http


def test_a_new_invitation_makes_the_person_enrol_a_new_second_factor(
    app: Flask, core: Core, login: Login, clock: FakeClock
) -> None:
    anna = login("Anna de Vries")
    code = invite(core, login, anna)
    clock.advance(seconds=30)

    accepted, http = accept(app, code)

    assert accepted.status_code == 303 and accepted.headers["Location"] == "/inloggen/instellen"
    setup = http.get("/inloggen/instellen").get_data(as_text=True)
    shown = _SECRET.search(setup)
    assert shown and shown.group(1) != anna.totp_secret  # a new secret, a new QR code
    # The old authenticator no longer logs anyone in: its code is refused at the set-up.
    old = http.post(
        "/inloggen/instellen",
        data={"csrf_token": csrf_of(setup), "code": pyotp.TOTP(anna.totp_secret).at(clock.now)},
    )
    assert old.status_code == 401
    # Anna's earlier session ended with the acceptance.
    assert anna.get("/").status_code == 302
    # Walking away from the set-up does not help: the next login asks for it again.
    fresh = app.test_client()
    login_page = fresh.get("/inloggen").get_data(as_text=True)
    again = fresh.post(
        "/inloggen",
        data={"csrf_token": csrf_of(login_page), "email": anna.email, "password": PASSWORD},
    )
    assert again.headers["Location"].startswith("/inloggen/instellen")


def test_the_invitation_page_takes_the_code_from_the_form_never_from_the_url(
    app: Flask, core: Core, login: Login
) -> None:
    anna = login("Anna de Vries")
    code = invite(core, login, anna)
    http = app.test_client()

    page = http.get("/uitnodiging").get_data(as_text=True)
    assert 'src="/static/invitation.js"' in page  # fills the field from the #-part
    assert 'name="uitnodiging"' in page  # and without JavaScript, the code is pasted here
    missing = http.post(
        "/uitnodiging",
        data={"csrf_token": csrf_of(page), "password": PASSWORD, "repeated": PASSWORD},
    )
    assert missing.status_code == 400
    assert "Vul de code uit uw uitnodigingslink in." in missing.get_data(as_text=True)
    # A problem with the password keeps the code in the form, so it need not be found again.
    short = http.post(
        "/uitnodiging",
        data={
            "csrf_token": csrf_of(page),
            "uitnodiging": code,
            "password": "kort",
            "repeated": "kort",
        },
    )
    assert short.status_code == 400 and f'value="{code}"' in short.get_data(as_text=True)
    assert accept(app, code)[0].status_code == 303


def test_an_old_invitation_link_with_the_code_in_its_path_is_refused_in_dutch(
    app: Flask, core: Core, login: Login
) -> None:
    anna = login("Anna de Vries")
    code = invite(core, login, anna)
    http = app.test_client()

    old = http.get(f"/uitnodiging/{code}")

    assert old.status_code == 410
    assert "Vraag uw beheerder om een nieuwe uitnodiging" in old.get_data(as_text=True)
    assert code not in old.get_data(as_text=True)


def _check(app: Flask, code: str) -> TestResponse:
    http = app.test_client()
    form = http.get("/uitnodiging")
    return http.post(
        "/uitnodiging",
        data={
            "csrf_token": csrf_of(form.get_data(as_text=True)),
            "stap": "controleren",
            "uitnodiging": code,
        },
    )


def test_a_used_or_unknown_invitation_says_so_before_asking_for_a_password(
    app: Flask, core: Core, login: Login, clock: FakeClock
) -> None:
    """Issue 14 item 7: the code is checked on its own first; only a usable one leads to
    the password fields (with the code in a hidden field), and checking uses nothing up."""
    anna = login("Anna de Vries")
    code = invite(core, login, anna)

    first = _check(app, code)
    second = _check(app, code)
    for usable in (first, second):
        page = usable.get_data(as_text=True)
        assert usable.status_code == 200
        assert (
            'name="password"' in page and f'type="hidden" name="uitnodiging" value="{code}"' in page
        )
    assert accept(app, code)[0].status_code == 303

    for spent in (_check(app, code), _check(app, "onbekende-code-" + "x" * 30)):
        page = spent.get_data(as_text=True)
        assert spent.status_code == 400
        assert "Deze uitnodiging is niet (meer) geldig." in page
        assert 'name="password"' not in page

    renewed = invite_again(core, anna)
    assert _check(app, renewed).status_code == 200
    clock.advance(days=8)  # past its week
    assert _check(app, renewed).status_code == 400


def invite_again(core: Core, person: Browser) -> str:
    """A second invitation, by the beheerder `invite` made."""
    with core.transaction(write=False) as tx:
        record = tx.web.login_record_by_email("bea.beheer@example.org")
        assert record is not None
        beheerder = tx.people.professional(record.professional_id)
    assert beheerder is not None
    return invitations.invite(core, Actor(beheerder, credential="web"), person.professional_id)
