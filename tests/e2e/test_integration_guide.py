"""docs/integration-guide.md stays true: the operations it names are the API's, and its
webhook signature check accepts what the service really sends and nothing else.

The guide is what a vendor copies from; a renamed path or a wrong signature example would
only be found by their support desk otherwise.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import pytest
from flask.testing import FlaskClient
from werkzeug.datastructures import Headers

from tests.servers import Received, http_receiver
from verwijsindex.notify.webhooks import WebhookSender, new_signing_secret

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "integration-guide.md"
_OPERATION = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE) (/[A-Za-z0-9/{}_.-]+)")
_PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


class Verify(Protocol):
    def __call__(self, secret: str, headers: Any, body: bytes) -> bool: ...


def _template(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def test_every_operation_the_guide_names_is_in_the_openapi_document(
    client: FlaskClient,
) -> None:
    named = {
        (m.lower(), p.removeprefix("/api/v1")) for m, p in _OPERATION.findall(GUIDE.read_text())
    }
    # The pattern still finds the guide's operations: at least the ones it is about.
    assert {
        ("post", "/oauth/token"),
        ("post", "/signals"),
        ("put", "/sync/signals"),
        ("get", "/events"),
        ("post", "/webhook-subscriptions"),
    } <= named, named
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    documented = {(method, _template(path)) for path, item in paths.items() for method in item}
    # The document and its rendering are pages of the API, not operations in the document.
    documented |= {("get", "/openapi.json"), ("get", "/docs")}
    missing = {(m, p) for m, p in named if (m, _template(p)) not in documented}
    assert not missing, missing


def _verify_webhook() -> Verify:
    """The guide's own `verify_webhook`, run as a reader would paste it."""
    [code] = [b for b in _PYTHON_BLOCK.findall(GUIDE.read_text()) if "def verify_webhook" in b]
    namespace: dict[str, Any] = {}
    exec(compile(code, str(GUIDE), "exec"), namespace)  # noqa: S102 - our own document
    verify: Verify = namespace["verify_webhook"]
    return verify


def _delivered(secret: str, body: bytes, sent_at: datetime | None = None) -> Received:
    """One delivery by the service's own sender, as a receiver gets it."""
    sender = WebhookSender(
        timeout=2.0,
        allow_http_loopback=True,
        wall_clock=(lambda: sent_at) if sent_at else (lambda: datetime.now(UTC)),
    )
    with http_receiver() as receiver:
        sender.send(receiver.url, secret, "8a41c0de-5f7e-4c3a-9d1b-2e6f0a7b9c11", body)
    [received] = receiver.requests
    return received


BODY = b'{"type": "match.created", "data": {"matchId": "c2f70000-0000-4000-8000-000000000001"}}'


def test_the_guides_signature_check_accepts_a_real_delivery() -> None:
    secret = new_signing_secret()
    received = _delivered(secret, BODY)
    assert received.body == BODY
    assert _verify_webhook()(secret, Headers(received.headers), received.body)


@pytest.mark.parametrize("tampering", ["body", "secret", "stale", "future", "no-signature"])
def test_the_guides_signature_check_refuses_what_was_not_signed_now_with_this_secret(
    tampering: str,
) -> None:
    secret = new_signing_secret()
    sent_at = {
        "stale": datetime.now(UTC) - timedelta(minutes=6),
        "future": datetime.now(UTC) + timedelta(minutes=6),
    }.get(tampering)
    received = _delivered(secret, BODY, sent_at)
    headers = Headers(received.headers)
    body = received.body
    if tampering == "body":
        body = body.replace(b"c2f7", b"c2f8")
    elif tampering == "secret":
        secret = new_signing_secret()
    elif tampering == "no-signature":
        del headers["webhook-signature"]
    assert not _verify_webhook()(secret, headers, body)
