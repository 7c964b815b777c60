"""Throttling per client address: the login form, the code step, the invitation form and
`POST /api/v1/oauth/token`, with the real Flask-Limiter storages (memory, and Redis on
127.0.0.1:6379 as shared by gunicorn workers)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.web.conftest import csrf_of
from verwijsindex import create_app, ratelimit
from verwijsindex.config import Settings

REDIS_URL = "redis://127.0.0.1:6379"
SOMEWHERE_ELSE = {"REMOTE_ADDR": "192.0.2.7"}


def wrong_login(http: FlaskClient) -> TestResponse:
    csrf = csrf_of(http.get("/inloggen").get_data(as_text=True))
    return http.post(
        "/inloggen",
        data={"csrf_token": csrf, "email": "iemand@example.org", "password": "geraden"},
    )


def wrong_token(http: FlaskClient) -> TestResponse:
    return http.post(
        "/api/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": str(uuid.uuid4()),
            "client_secret": "geraden",
        },
    )


def test_the_login_form_turns_an_address_away_after_ten_attempts_a_minute(app: Flask) -> None:
    http = app.test_client()
    answers = [wrong_login(http) for _ in range(10)]
    assert [a.status_code for a in answers] == [401] * 10

    refused = wrong_login(http)

    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert "Te veel pogingen" in page and "Wacht 1 minuut" in page
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["Content-Type"].startswith("text/html")
    assert "Content-Security-Policy" in refused.headers
    # Another address has its own budget: one noisy neighbour does not lock the door.
    elsewhere = app.test_client()
    elsewhere.environ_base.update(SOMEWHERE_ELSE)
    assert wrong_login(elsewhere).status_code == 401


def test_the_code_step_and_the_invitation_form_are_throttled_too(app: Flask) -> None:
    app.config[ratelimit.LIMITS_CONFIG] = {"second-factor": "2/minute", "invitation": "2/minute"}
    http = app.test_client()
    csrf = csrf_of(http.get("/inloggen").get_data(as_text=True))
    for path, field in (("/inloggen/code", "code"), ("/uitnodiging", "uitnodiging")):
        answers = [
            http.post(path, data={"csrf_token": csrf, field: "123456"}).status_code
            for _ in range(3)
        ]
        assert answers[-1] == 429, path
        assert 429 not in answers[:-1], path
    # Viewing the invitation page is not counted, only sending it.
    assert http.get("/uitnodiging").status_code == 200


@pytest.fixture
def redis_namespace() -> Iterator[str]:
    """Counters of this test only; removed afterwards."""
    namespace = f"test-{uuid.uuid4().hex}"
    yield namespace
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"*{namespace}*"):
        client.delete(key)
    client.close()


def worker(settings: Settings, namespace: str) -> Flask:
    """An app as one gunicorn worker builds it, counting in Redis."""
    app = create_app(
        Settings(
            database_url=settings.database_url,
            keys_dir=Path(settings.keys_dir),
            ratelimit_storage_url=REDIS_URL,
        )
    )
    app.config[ratelimit.NAMESPACE_CONFIG] = namespace
    app.config[ratelimit.LIMITS_CONFIG] = {"token": "4/minute"}
    return app


def test_workers_counting_in_redis_share_one_budget_per_address(
    app: Flask, settings: Settings, redis_namespace: str
) -> None:
    first, second = worker(settings, redis_namespace), worker(settings, redis_namespace)
    clients = [first.test_client(), second.test_client()]

    answers = [wrong_token(clients[i % 2]) for i in range(4)]
    assert [a.status_code for a in answers] == [401] * 4  # two on each worker

    for http in clients:  # each worker alone has seen only two: the count is shared
        refused = wrong_token(http)
        assert refused.status_code == 429
        assert refused.headers["Content-Type"] == "application/problem+json"
        body = refused.get_json()
        assert body == {
            "type": "urn:verwijsindex:problem:429",
            "title": "Too Many Requests",
            "status": 429,
            "detail": body["detail"],
        }
        assert "Retry-After" in body["detail"]
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.headers["Cache-Control"] == "no-store"
    for application in (first, second):
        application.extensions["verwijsindex"].database.dispose()


def test_logins_go_on_when_redis_is_unreachable(app: Flask, settings: Settings) -> None:
    """Counting falls back to memory per worker rather than failing every login (500)."""
    unreachable = create_app(
        Settings(
            database_url=settings.database_url,
            keys_dir=Path(settings.keys_dir),
            ratelimit_storage_url="redis://127.0.0.1:1",
        )
    )
    http = unreachable.test_client()
    answers = [wrong_login(http).status_code for _ in range(11)]
    assert answers == [401] * 10 + [429]  # and still throttled, in this worker's memory
    unreachable.extensions["verwijsindex"].database.dispose()
