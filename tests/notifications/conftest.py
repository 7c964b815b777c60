"""Notification tests share a development-mode app (webhook receivers on http://127.0.0.1),
a real mail server, a worker, and system clients that subscribe to webhooks."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from flask.testing import FlaskClient
from standardwebhooks import Webhook

from tests.conftest import (
    CHILD_BSN,
    OTHER_CHILD_BSN,
    OTHER_PARENT_BSN,
    PARENT_BSN,
    SIBLING_BSN,
    THIRD_PARENT_BSN,
)
from tests.servers import HttpReceiver, SmtpInbox, http_receiver, smtp_server
from verwijsindex.config import Settings
from verwijsindex.notify.smtp import MailSender, parse_smtp_url
from verwijsindex.notify.webhooks import WebhookSender
from verwijsindex.services import Core
from verwijsindex.services import admin as admin_service
from verwijsindex.services.delivery import Worker

BASE_URL = "https://verwijsindex.example.nl"
ALL_BSNS = (CHILD_BSN, SIBLING_BSN, OTHER_CHILD_BSN, PARENT_BSN, OTHER_PARENT_BSN, THIRD_PARENT_BSN)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Development mode (webhook receivers on http://127.0.0.1) and a public base URL."""
    return replace(settings, environment="development", base_url=BASE_URL)


@pytest.fixture
def inbox() -> Iterator[SmtpInbox]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with http_receiver() as running:
        yield running


def make_worker(core: Core, inbox: SmtpInbox | None = None) -> Worker:
    return Worker(
        core,
        mail=MailSender(parse_smtp_url(inbox.url)) if inbox else None,
        webhooks=WebhookSender(timeout=2.0, allow_http_loopback=True),
    )


@pytest.fixture
def worker(core: Core, inbox: SmtpInbox) -> Worker:
    return make_worker(core, inbox)


@dataclass
class System:
    """A school or care system: client credentials, and its token."""

    http: FlaskClient
    client_id: uuid.UUID
    token: str

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def subscribe(self, url: str, events: list[str]) -> dict[str, Any]:
        response = self.http.post(
            "/api/v1/webhook-subscriptions",
            json={"url": url, "events": events},
            headers=self.headers(),
        )
        assert response.status_code == 201, response.get_json()
        created: dict[str, Any] = response.get_json()
        return created


def system_of(http: FlaskClient, core: Core, organisation_id: uuid.UUID) -> System:
    created = admin_service.create_system_client(core, organisation_id)
    response = http.post(
        "/api/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": str(created.client_id),
            "client_secret": created.client_secret,
        },
    )
    assert response.status_code == 200, response.get_json()
    return System(http, created.client_id, response.get_json()["access_token"])


def verified_events(receiver: HttpReceiver, secret: str) -> list[dict[str, Any]]:
    """Every body the receiver got, each checked with the public Standard Webhooks library
    (which raises on a bad signature)."""
    return [Webhook(secret).verify(r.body, r.headers) for r in receiver.requests]


def forbidden_strings(*, names: list[str], birth_dates: list[str]) -> list[str]:
    """BSNs, their unkeyed SHA-256, names, and birth dates in the usual notations."""
    found = [*ALL_BSNS, *(hashlib.sha256(b.encode()).hexdigest() for b in ALL_BSNS), *names]
    for iso in birth_dates:
        year, month, day = iso.split("-")
        found += [iso, f"{day}-{month}-{year}", f"{day}/{month}/{year}", f"{year}{month}{day}"]
    return found


def assert_none_in(texts: list[str], forbidden: list[str]) -> None:
    assert texts, "nothing was scanned"
    for text in texts:
        for needle in forbidden:
            assert needle not in text, f"{needle!r} leaked"
