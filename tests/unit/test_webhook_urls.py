"""Which webhook URLs we accept, at subscription and at delivery (SSRF defence), and secrets."""

from __future__ import annotations

import base64
import socket
from datetime import UTC, datetime
from typing import Any

import pytest
from standardwebhooks import Webhook

from verwijsindex.notify.webhooks import (
    destination_problem,
    new_signing_secret,
    receiver_url_problem,
)

AddrInfo = list[tuple[Any, ...]]


@pytest.mark.parametrize(
    "url",
    [
        "https://receiver.example.nl/hooks/verwijsindex",
        "https://receiver.example.nl:8443/hooks?tenant=3",
        "https://93.184.216.34/hook",
        "https://[2606:2800:220:1:248:1893:25c8:1946]/hook",
    ],
)
def test_https_to_a_public_host_is_accepted_in_production(url: str) -> None:
    assert receiver_url_problem(url, allow_http_loopback=False) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8025/hook",
        "http://localhost/hook",
        "http://[::1]:9000/",
        "http://127.3.2.1/",
    ],
)
def test_http_to_this_machine_is_accepted_only_when_allowed(url: str) -> None:
    assert receiver_url_problem(url, allow_http_loopback=True) is None
    assert receiver_url_problem(url, allow_http_loopback=False) == "the URL must use https"


@pytest.mark.parametrize("allow", [True, False])
@pytest.mark.parametrize("url", ["http://receiver.example.nl/hook", "http://10.0.0.1/hook"])
def test_plain_http_elsewhere_is_refused(url: str, allow: bool) -> None:
    assert receiver_url_problem(url, allow_http_loopback=allow) == "the URL must use https"


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/hook",
        "https://192.168.1.20/hook",
        "https://172.16.0.1/hook",
        "https://127.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data",  # cloud metadata
        "https://0.0.0.0/",
        "https://224.0.0.1/",
        "https://240.0.0.1/",
        "https://100.64.0.1/",  # carrier-grade NAT
        "https://[::1]/hook",
        "https://[fe80::1]/hook",
        "https://[fd00::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://127.1/hook",  # shorthand the C resolver reads as 127.0.0.1
        "https://2130706433/hook",  # 127.0.0.1 as one number
        "https://0x7f.0.0.1/hook",
    ],
)
def test_https_to_an_internal_address_is_refused_in_production(url: str) -> None:
    problem = receiver_url_problem(url, allow_http_loopback=False)
    assert problem is not None
    assert "loopback, private, link-local" in problem
    assert receiver_url_problem(url, allow_http_loopback=True) is None


@pytest.mark.parametrize("url", ["https://localhost/hook", "https://api.localhost/hook"])
def test_localhost_by_name_is_refused_in_production(url: str) -> None:
    assert receiver_url_problem(url, allow_http_loopback=False) == (
        "the host must not be this machine (localhost)"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:secret@receiver.example.nl/hook", "user information"),
        ("https://user@receiver.example.nl/hook", "user information"),
        ("https://receiver.example.nl/hook#part", "fragment"),
        ("https://receiver.example.nl/hook#", "fragment"),
        ("/hooks/verwijsindex", "absolute"),
        ("receiver.example.nl/hook", "absolute"),
        ("https:///hook", "absolute"),
        ("https://receiver.example.nl:99999/hook", "port"),
        ("https://receiver.example.nl/" + "a" * 2000, "longer than 2000"),
        ("https://receiver.example.nl/a b", "spaces"),
        ("https://receiver.example.nl/\x00", "control"),
        ("https://bücher.example/hook", "punycode"),
        ("ftp://receiver.example.nl/hook", "https"),
        ("javascript://receiver.example.nl/%0aalert(1)", "https"),
    ],
)
def test_malformed_or_risky_urls_are_refused_with_a_reason(url: str, expected: str) -> None:
    for allow in (True, False):
        problem = receiver_url_problem(url, allow_http_loopback=allow)
        assert problem is not None and expected in problem


def test_the_reason_never_repeats_the_password_in_the_url() -> None:
    problem = receiver_url_problem(
        "https://u:hunter2@receiver.example.nl/", allow_http_loopback=False
    )
    assert problem is not None and "hunter2" not in problem


def _resolving_to(monkeypatch: pytest.MonkeyPatch, *addresses: str) -> None:
    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> AddrInfo:
        family = socket.AF_INET6 if ":" in addresses[0] else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port)) for address in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_at_delivery_a_name_that_now_resolves_inside_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "https://receiver.example.nl/hook"
    assert receiver_url_problem(url, allow_http_loopback=False) is None
    _resolving_to(monkeypatch, "93.184.216.34", "10.1.2.3")
    problem = destination_problem(url, allow_http_loopback=False)
    assert problem is not None and "resolves to a loopback, private" in problem


def test_at_delivery_a_name_resolving_to_public_addresses_is_accepted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _resolving_to(monkeypatch, "93.184.216.34")
    assert (
        destination_problem("https://receiver.example.nl/hook", allow_http_loopback=False) is None
    )


def test_at_delivery_a_name_that_does_not_resolve_is_left_to_the_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def getaddrinfo(*args: Any, **kwargs: Any) -> AddrInfo:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    assert destination_problem("https://gone.example.nl/hook", allow_http_loopback=False) is None


def test_at_delivery_the_subscription_rules_still_apply() -> None:
    problem = destination_problem("https://10.0.0.1/hook", allow_http_loopback=False)
    assert problem is not None and "private" in problem
    assert destination_problem("http://127.0.0.1:1/hook", allow_http_loopback=True) is None


def test_a_new_signing_secret_is_32_random_bytes_in_the_whsec_form() -> None:
    first, second = new_signing_secret(), new_signing_secret()
    assert first != second
    assert first.startswith("whsec_")
    assert len(base64.b64decode(first.removeprefix("whsec_"), validate=True)) == 32
    signature = Webhook(first).sign("msg_1", datetime.now(UTC), "{}")
    assert signature.startswith("v1,")
