"""Lock-out and enumeration at the login form, through the real app on both databases.

Attempts are released together by a barrier, as an attacker with many connections would
send them; what is counted is how many guesses were actually *evaluated* (reached argon2
with the account's hash, or had their TOTP code checked), not what the pages said.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.conftest import FakeClock
from tests.web.conftest import PASSWORD, csrf_of, log_in
from verwijsindex import ratelimit
from verwijsindex.models import AuditEventRow
from verwijsindex.services import Core, web_auth
from verwijsindex.services import admin as admin_service

PARALLEL = 10


class CountingHasher:
    """The real argon2 hasher, noting which hashes it was asked to verify against."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.verified: list[str] = []

    def verify(self, password_hash: str, password: str) -> bool:
        self.verified.append(password_hash)
        result: bool = self.real.verify(password_hash, password)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher(web_auth.password_hasher)
    monkeypatch.setattr(web_auth, "password_hasher", counting)
    return counting


@pytest.fixture
def unthrottled(app: Flask) -> None:
    """These tests are about the per-account lock, not the per-address throttle."""
    app.config[ratelimit.LIMITS_CONFIG] = {"login": "1000/minute", "second-factor": "1000/minute"}


def person(core: Core, email: str = "anna.de.vries@example.org") -> uuid.UUID:
    organisation = admin_service.create_organisation(core, f"School {uuid.uuid4()}", "onderwijs")
    return admin_service.create_professional(
        core,
        organisation.id,
        name="Anna de Vries",
        email=email,
        phone="+31 6 1234 5678",
        roles=("professional",),
        password=PASSWORD,
    ).professional.id


def password_hash_of(core: Core, professional_id: uuid.UUID) -> str:
    with core.transaction(write=False) as tx:
        record = tx.web.login_record(professional_id)
    assert record is not None and record.password_hash is not None
    return record.password_hash


def login_form(http: FlaskClient) -> str:
    return csrf_of(http.get("/inloggen").get_data(as_text=True))


def post_password(
    http: FlaskClient, csrf: str, email: str = "anna.de.vries@example.org", password: str = PASSWORD
) -> TestResponse:
    return http.post(
        "/inloggen",
        data={"csrf_token": csrf, "email": email, "password": password, "volgende": "/"},
    )


# Headers that differ on every request by design, whoever asks.
PER_REQUEST = {"X-Request-Id"}


def comparable(answer: TestResponse) -> list[tuple[str, str]]:
    return sorted((k, v) for k, v in answer.headers.items() if k not in PER_REQUEST)


def all_at_once(calls: list[Callable[[], TestResponse]]) -> list[TestResponse]:
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], TestResponse]) -> TestResponse:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_parallel_wrong_passwords_get_no_more_guesses_than_the_lock_out_allows(
    app: Flask, core: Core, hasher: CountingHasher, unthrottled: None
) -> None:
    anna = person(core)
    real_hash = password_hash_of(core, anna)
    browsers = [app.test_client() for _ in range(PARALLEL)]
    forms = [login_form(http) for http in browsers]

    answers = all_at_once(
        [
            lambda http=http, csrf=csrf: post_password(
                http, csrf, "anna.de.vries@example.org", "geraden"
            )
            for http, csrf in zip(browsers, forms, strict=True)
        ]
    )

    assert [a.status_code for a in answers] == [401] * PARALLEL
    assert hasher.verified.count(real_hash) <= web_auth.LOCK_AFTER
    # And the account is locked now: the right password is refused too, without evaluation.
    evaluated = hasher.verified.count(real_hash)
    right = post_password(browsers[0], forms[0], "anna.de.vries@example.org", PASSWORD)
    assert right.status_code == 401
    assert hasher.verified.count(real_hash) == evaluated


def test_parallel_wrong_codes_get_no_more_guesses_than_the_lock_out_allows(
    app: Flask, core: Core, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, unthrottled: None
) -> None:
    person(core)
    secret = log_in(app.test_client(), "anna.de.vries@example.org", clock)  # TOTP set up
    clock.advance(seconds=30)
    browsers = [app.test_client() for _ in range(PARALLEL)]
    for http in browsers:  # each at the code step, the password right
        answer = post_password(http, login_form(http), "anna.de.vries@example.org", PASSWORD)
        assert answer.headers["Location"].startswith("/inloggen/code")
    forms = [csrf_of(http.get("/inloggen/code").get_data(as_text=True)) for http in browsers]
    right_code = pyotp.TOTP(secret).at(clock.now)
    wrong_code = "000000" if right_code != "000000" else "111111"
    checked: list[str] = []
    real_check = web_auth._check_code

    def counting_check(record: Any, code: str, now: datetime) -> int | None:
        checked.append(code)
        return real_check(record, code, now)

    monkeypatch.setattr(web_auth, "_check_code", counting_check)

    answers = all_at_once(
        [
            lambda http=http, csrf=csrf: http.post(
                "/inloggen/code", data={"csrf_token": csrf, "code": wrong_code, "volgende": "/"}
            )
            for http, csrf in zip(browsers, forms, strict=True)
        ]
    )

    assert [a.status_code for a in answers] == [401] * PARALLEL
    assert len(checked) <= web_auth.LOCK_AFTER
    # Locked: a new login with the right password and the right code does not get in.
    http = app.test_client()
    post_password(http, login_form(http), "anna.de.vries@example.org", PASSWORD)
    assert http.get("/").status_code == 302


def test_a_locked_account_and_an_unknown_address_get_the_same_answer_after_the_same_work(
    app: Flask, core: Core, hasher: CountingHasher, unthrottled: None
) -> None:
    """No timing needed: the answers are compared byte for byte, the work by counting argon2
    verifications. The two addresses have the same length, so Content-Length may match."""
    known, unknown = "anna.de.vries@example.org", "anna.de.vriez@example.org"
    person(core, known)
    http = app.test_client()
    csrf = login_form(http)

    def attempt(email: str, password: str) -> tuple[TestResponse, int]:
        before = len(hasher.verified)
        answer = post_password(http, csrf, email, password)
        return answer, len(hasher.verified) - before

    answers = {"wrong password": attempt(known, "geraden")}
    for _ in range(web_auth.LOCK_AFTER - 1):
        attempt(known, "geraden")
    answers["locked, right password"] = attempt(known, PASSWORD)
    answers["locked, wrong password"] = attempt(known, "geraden")
    stranger, stranger_work = attempt(unknown, PASSWORD)

    expected_body = stranger.get_data(as_text=True).replace(unknown, "ADDRESS")
    assert stranger.status_code == 401 and stranger_work == 1
    for case, (answer, work) in answers.items():
        assert answer.status_code == stranger.status_code, case
        assert answer.get_data(as_text=True).replace(known, "ADDRESS") == expected_body, case
        assert comparable(answer) == comparable(stranger), case
        assert work == stranger_work, case


def test_logging_in_and_acting_on_the_web_are_audited_as_the_web_credential(
    app: Flask, core: Core, clock: FakeClock
) -> None:
    anna = person(core)
    http = app.test_client()
    log_in(http, "anna.de.vries@example.org", clock)
    assert http.get("/signalen").status_code == 200  # a read of her own signals, audited
    with core.transaction(write=False) as tx:
        rows = tx.uow.session.execute(
            select(AuditEventRow.action, AuditEventRow.credential).where(
                AuditEventRow.actor_id == anna
            )
        ).all()
    credentials = {action: credential for action, credential in rows}
    assert {"web:session:login-password", "web:session:login"} <= credentials.keys()
    assert any(a.startswith("web:signal") for a in credentials), credentials
    assert set(credentials.values()) == {"web"}, credentials
