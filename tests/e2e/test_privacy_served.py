"""Contract section 2 against the real server: whatever a client puts where (query string,
path, method, headers, JSON, form fields), no BSN and no unkeyed hash of one reaches
gunicorn's access log, its error log, the application's log or the database.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
from pathlib import Path
from urllib.parse import urlencode

from click.testing import CliRunner

from tests.conftest import CHILD_BSN, PARENT_BSN, SIBLING_BSN, World, signal_body
from tests.e2e.test_privacy import INVALID_BSN, database_contents, forbidden_forms
from tests.served import Served, serve
from verwijsindex.cli import main
from verwijsindex.config import Settings
from verwijsindex.services import Core

# Elfproef-valid, each sent in one place only, so a failure says which place leaked.
IN_QUERY = "835000011"
IN_API_PATH = "100000022"
IN_WEB_PATH = "100000034"
IN_METHOD = "100000046"
IN_REQUEST_ID = "100000058"
IN_USER_AGENT = "100000071"
IN_REFERER = "100000083"
IN_PROFESSIONAL_ID = "100000095"
IN_BASIC_AUTH = "100000101"
IN_FORM = "100000113"
IN_WEB_FORM = "100000125"
IN_HUGE_HEADER = "100000137"
HASHED_IN_REQUEST_ID = "100000149"
IN_COOKIE = "100000150"
ALL_BSNS = [
    CHILD_BSN,
    INVALID_BSN,
    SIBLING_BSN,
    PARENT_BSN,
    IN_QUERY,
    IN_API_PATH,
    IN_WEB_PATH,
    IN_METHOD,
    IN_REQUEST_ID,
    IN_USER_AGENT,
    IN_REFERER,
    IN_PROFESSIONAL_ID,
    IN_BASIC_AUTH,
    IN_FORM,
    IN_WEB_FORM,
    IN_HUGE_HEADER,
    HASHED_IN_REQUEST_ID,
    IN_COOKIE,
]


def _raw(served: Served, request: bytes) -> bytes:
    """Bytes no HTTP client library would send (a method that is a BSN, say)."""
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
        return answer


def send_bsns_everywhere(served: Served, token: str) -> list[int]:
    bearer = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    statuses = []

    def send(method: str, path: str, headers: dict[str, str], body: bytes | None = None) -> None:
        statuses.append(served.request(method, path, headers=headers, body=body).status)

    send("GET", f"/api/v1/signals?bsn={IN_QUERY}&status=active", bearer)
    send("GET", f"/?bsn={IN_QUERY}", {})
    send("GET", f"/api/v1/signals/{IN_API_PATH}", bearer)
    send("GET", f"/api/v1/signals/{IN_API_PATH}/history", bearer)
    send("GET", f"/uitnodiging/{IN_WEB_PATH}", {})
    send("GET", f"/{IN_WEB_PATH}", {})
    send("GET", "/api/v1/signals", {**bearer, "X-Request-Id": IN_REQUEST_ID})
    digest = hashlib.sha256(HASHED_IN_REQUEST_ID.encode()).digest()
    for hashed in (digest.hex(), base64.urlsafe_b64encode(digest).decode().rstrip("=")):
        send("GET", "/api/v1/signals", {**bearer, "X-Request-Id": hashed})
    send("GET", "/api/v1/matches", {**bearer, "User-Agent": f"school/{IN_USER_AGENT}"})
    send("GET", "/", {"Referer": f"http://school.example/leerling?bsn={IN_REFERER}"})
    send("GET", "/api/v1/matches", {**bearer, "X-Professional-Id": IN_PROFESSIONAL_ID})
    send("GET", "/", {"Cookie": f"session={IN_COOKIE}"})
    basic = base64.b64encode(f"{IN_BASIC_AUTH}:{IN_BASIC_AUTH}".encode()).decode()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    send(
        "POST",
        "/api/v1/oauth/token",
        {**form, "Authorization": f"Basic {basic}"},
        b"grant_type=client_credentials",
    )
    fields = {"grant_type": "client_credentials", "client_id": IN_FORM, "client_secret": IN_FORM}
    send("POST", "/api/v1/oauth/token", form, urlencode(fields).encode())
    for page in ("/inloggen", "/privacy/inzage", "/signalen/nieuw"):
        fields = {"email": IN_WEB_FORM, "bsn": IN_WEB_FORM, "password": IN_WEB_FORM}
        send("POST", page, form, urlencode(fields).encode())
    for body in (
        signal_body(CHILD_BSN, parents=[PARENT_BSN]),  # 201
        signal_body(CHILD_BSN, parents=[PARENT_BSN]),  # 409
        signal_body(INVALID_BSN, parents=[SIBLING_BSN]),  # fails the elfproef: 400
        {**signal_body(SIBLING_BSN), CHILD_BSN: "smuggled"},  # 400
    ):
        send("POST", "/api/v1/signals", bearer, json.dumps(body).encode())
    method_answer = _raw(served, f"{IN_METHOD} /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    huge = f"X-Note: {IN_HUGE_HEADER}{'0' * 10_000}"
    huge_answer = _raw(served, f"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n{huge}\r\n\r\n".encode())
    statuses += [int(method_answer.split()[1]), int(huge_answer.split()[1])]
    return statuses


def test_no_bsn_reaches_the_access_log_the_error_log_or_the_database_whatever_is_sent(
    world: World, core: Core, settings: Settings, backend: str, keys_dir: Path, tmp_path: Path
) -> None:
    anna = world.professional("Anna Jansen")
    environment = {
        "VERWIJSINDEX_DATABASE_URL": backend,
        "VERWIJSINDEX_KEYS_DIR": str(keys_dir),
        "VERWIJSINDEX_BASE_URL": settings.base_url,
    }
    # Issued by the command line, on the real clock (the `world` runs on a fake one).
    issued = CliRunner().invoke(
        main, ["token", "--professional", str(anna.professional_id)], env=environment
    )
    assert issued.exit_code == 0, issued.output
    with serve(tmp_path, environment) as served:
        statuses = send_bsns_everywhere(served, issued.stdout.strip().splitlines()[-1])
    access_log, error_log = served.access_log(), served.error_log()
    database = database_contents(core)

    for bsn in ALL_BSNS:
        for form in forbidden_forms(bsn):
            assert form not in access_log, f"a form of {bsn} is in the access log"
            assert form not in error_log, f"a form of {bsn} is in the error log"
            assert form not in database, f"a form of {bsn} is in the database"
    # Not vacuous: the requests were answered and logged, and the logs were captured.
    assert 201 in statuses and 409 in statuses and 431 in statuses, statuses
    assert 500 not in statuses, statuses
    assert access_log.count(b'"POST /api/v1/signals HTTP/1.1" 201') == 1, access_log
    assert b'"POST /api/v1/oauth/token HTTP/1.1" 401' in access_log, access_log
    assert b"Listening at" in error_log, error_log
