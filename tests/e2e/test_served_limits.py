"""What gunicorn refuses by itself (a huge header, a huge request line, too many headers,
a malformed request) is answered like the API answers: problem+json, no HTML, no trace."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from tests.served import Served, serve
from verwijsindex.version import API_VERSION


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("served-limits")
    environment = {
        "VERWIJSINDEX_DATABASE_URL": f"sqlite:///{directory / 'verwijsindex.db'}",
        "VERWIJSINDEX_KEYS_DIR": str(directory / "keys"),
    }
    with serve(directory, environment, workers=1) as running:
        yield running


def raw_exchange(served: Served, request: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def assert_problem(status: int, headers: dict[str, str], body: bytes, expected: int) -> None:
    assert status == expected, (status, body)
    assert headers["content-type"] == "application/problem+json", headers
    assert headers["api-version"] == API_VERSION
    assert headers["x-content-type-options"] == "nosniff"
    assert b"<html" not in body.lower() and b"Traceback" not in body
    problem = json.loads(body)
    assert problem["status"] == expected
    assert problem["type"] and problem["title"] and problem["detail"]


def test_a_10_kb_header_is_a_431_problem_not_an_html_page(served: Served) -> None:
    request = b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Note: " + b"a" * 10_240 + b"\r\n\r\n"
    assert_problem(*raw_exchange(served, request), expected=431)


def test_a_5_kb_request_line_is_a_414_problem(served: Served) -> None:
    request = b"GET /api/v1/health?" + b"a" * 5_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    assert_problem(*raw_exchange(served, request), expected=414)


def test_more_headers_than_the_limit_is_a_431_problem(served: Served) -> None:
    headers = b"".join(b"X-H%d: 1\r\n" % number for number in range(60))
    request = b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n"
    assert_problem(*raw_exchange(served, request), expected=431)


def test_a_malformed_request_line_is_a_400_problem(served: Served) -> None:
    assert_problem(*raw_exchange(served, b"GET\r\nHost: x\r\n\r\n"), expected=400)


def test_ordinary_requests_still_pass_the_limits(served: Served) -> None:
    token_sized = {"Authorization": "Bearer " + "a" * 2_000, "Cookie": "c=" + "b" * 2_000}
    answer = served.request("GET", "/api/v1/health", headers=token_sized)
    assert answer.status == 200
    assert json.loads(answer.body) == {"status": "ok", "database": "ok"}
