"""Webhook delivery against a real HTTP receiver on loopback, verified the way receivers verify."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from standardwebhooks import Webhook

from verwijsindex.notify.errors import DeliveryError
from verwijsindex.notify.webhooks import WebhookSender, new_signing_secret

PAYLOAD = json.dumps({"type": "match.created", "data": {"matchId": "m_1"}}).encode()
MESSAGE_ID = "msg_2b7e4f0a"


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP server in a thread that records requests and answers `status`."""

    server: ThreadingHTTPServer
    requests: list[Request] = field(default_factory=list)
    status: int = 204
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


def _start_receiver() -> Receiver:
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receiver.requests.append(Request(self.path, dict(self.headers.items()), body))
            self.send_response(receiver.status)
            for name, value in receiver.headers.items():
                self.send_header(name, value)
            reply = b"nope: j.jansen@wijkteam.example.nl " * 4000  # larger than we read
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(server)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return receiver


@pytest.fixture
def receivers() -> Iterator[Any]:
    started: list[Receiver] = []

    def start() -> Receiver:
        started.append(_start_receiver())
        return started[-1]

    yield start
    for receiver in started:
        receiver.server.shutdown()
        receiver.server.server_close()


@pytest.fixture
def receiver(receivers: Any) -> Receiver:
    started: Receiver = receivers()
    return started


@pytest.fixture
def secret() -> str:
    return new_signing_secret()


def _sender(**options: Any) -> WebhookSender:
    options.setdefault("allow_http_loopback", True)
    return WebhookSender(**options)


def _failure(sender: WebhookSender, url: str, secret: str) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        sender.send(url, secret, MESSAGE_ID, PAYLOAD)
    assert "j.jansen" not in caught.value.reason
    return caught.value


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# --- delivery --------------------------------------------------------------------------------


def test_a_delivery_arrives_signed_and_verifies_at_the_receiver(
    receiver: Receiver, secret: str
) -> None:
    _sender().send(f"{receiver.url}/hooks/vi?tenant=3", secret, MESSAGE_ID, PAYLOAD)
    [request] = receiver.requests
    assert request.path == "/hooks/vi?tenant=3"
    assert request.body == PAYLOAD
    assert Webhook(secret).verify(request.body, request.headers) == json.loads(PAYLOAD)
    assert request.headers["webhook-id"] == MESSAGE_ID
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "verwijsindex-webhooks/1"
    sent_at = int(request.headers["webhook-timestamp"])
    assert abs(sent_at - datetime.now(UTC).timestamp()) < 5


def test_a_signature_made_with_another_secret_does_not_verify(
    receiver: Receiver, secret: str
) -> None:
    _sender().send(receiver.url, secret, MESSAGE_ID, PAYLOAD)
    [request] = receiver.requests
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(new_signing_secret()).verify(request.body, request.headers)


@pytest.mark.parametrize("status", [200, 202, 204, 299])
def test_any_2xx_counts_as_delivered(receiver: Receiver, secret: str, status: int) -> None:
    receiver.status = status
    _sender().send(receiver.url, secret, MESSAGE_ID, PAYLOAD)
    assert len(receiver.requests) == 1


def test_the_timestamp_comes_from_the_wall_clock_in_utc_whatever_its_zone(
    receiver: Receiver, secret: str
) -> None:
    # Amsterdam wall time: the library's sign() would misread it without conversion to UTC.
    moment = datetime.now(ZoneInfo("Europe/Amsterdam")).replace(microsecond=654321)
    _sender(wall_clock=lambda: moment).send(receiver.url, secret, MESSAGE_ID, PAYLOAD)
    [request] = receiver.requests
    assert request.headers["webhook-timestamp"] == str(int(moment.timestamp()))
    Webhook(secret).verify(request.body, request.headers)


def test_a_wall_clock_far_off_gives_a_timestamp_receivers_reject(
    receiver: Receiver, secret: str
) -> None:
    stale = datetime.now(UTC) - timedelta(minutes=10)
    _sender(wall_clock=lambda: stale).send(receiver.url, secret, MESSAGE_ID, PAYLOAD)
    with pytest.raises(Exception, match="too old"):
        Webhook(secret).verify(receiver.requests[0].body, receiver.requests[0].headers)


# --- failures --------------------------------------------------------------------------------


def test_a_server_error_is_temporary(receiver: Receiver, secret: str) -> None:
    receiver.status = 500
    error = _failure(_sender(), receiver.url, secret)
    assert (error.reason, error.permanent) == ("HTTP 500", False)


def test_gone_is_permanent(receiver: Receiver, secret: str) -> None:
    receiver.status = 410
    error = _failure(_sender(), receiver.url, secret)
    assert (error.reason, error.permanent) == ("HTTP 410", True)


def test_a_redirect_is_not_followed(receivers: Any, secret: str) -> None:
    redirecting: Receiver = receivers()
    target: Receiver = receivers()
    redirecting.status = 302
    redirecting.headers = {"Location": f"{target.url}/elsewhere"}
    error = _failure(_sender(), redirecting.url, secret)
    assert (error.reason, error.permanent) == ("HTTP 302 redirect not followed", False)
    assert len(redirecting.requests) == 1
    assert target.requests == []


def test_a_receiver_that_is_down_is_connection_refused(secret: str) -> None:
    error = _failure(_sender(), f"http://127.0.0.1:{_free_port()}/hook", secret)
    assert (error.reason, error.permanent) == ("connection refused", False)


def test_a_receiver_that_never_answers_times_out(secret: str) -> None:
    with socket.socket() as silent:  # the kernel accepts the connection; nobody reads
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/hook"
        error = _failure(_sender(timeout=0.5), url, secret)
    assert (error.reason, error.permanent) == ("timeout", False)


def test_an_invalid_signing_secret_is_a_permanent_failure(receiver: Receiver) -> None:
    error = _failure(_sender(), receiver.url, "whsec_")
    assert error.permanent
    assert receiver.requests == []


# --- production mode refuses internal destinations before connecting ------------------------


@pytest.mark.parametrize("path", ["", "/hook"])
def test_production_refuses_a_loopback_receiver_without_connecting(
    receiver: Receiver, secret: str, path: str
) -> None:
    for url in (receiver.url + path, receiver.url.replace("http:", "https:") + path):
        error = _failure(WebhookSender(), url, secret)
        assert error.permanent
    assert receiver.requests == []


def test_production_refuses_a_name_that_resolves_to_loopback(
    receiver: Receiver, secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = receiver.server.server_address[1]

    def getaddrinfo(host: str, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    error = _failure(WebhookSender(), f"https://receiver.example.nl:{port}/hook", secret)
    assert error.permanent
    assert "resolves to a loopback" in error.reason
    assert receiver.requests == []


def test_production_connects_to_the_address_it_checked_not_a_later_dns_answer(
    receiver: Receiver, secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the first answer is public, any later one points inside."""
    answers = iter(["93.184.216.34"])
    connected_to: list[tuple[str, int]] = []

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        address = next(answers, "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        connected_to.append(address)
        raise ConnectionRefusedError  # stand-in for the public host, which we never reach

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    port = receiver.server.server_address[1]
    error = _failure(WebhookSender(), f"https://receiver.example.nl:{port}/hook", secret)
    assert error.reason == "connection refused"
    assert connected_to == [("93.184.216.34", port)]
    assert receiver.requests == []
