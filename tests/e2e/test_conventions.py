"""NL API Design Rules conventions that hold for every response (contract section 3).

Headers on every status, no trailing-slash redirects, 404/405/415/500 as problem+json, the
health check, and an OpenAPI document that is public, complete and consistent with the app.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine

from tests.conftest import CHILD_BSN, SIBLING_BSN, World, signal_body
from verwijsindex.api import docs as api_docs
from verwijsindex.services import Core

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
}
PROBLEM_JSON = "application/problem+json"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"

# Every endpoint implemented so far, with its methods (contract section 5).
IMPLEMENTED = {
    "/health": {"get"},
    "/oauth/token": {"post"},
    "/signals": {"get", "post"},
    "/signals/{signal_id}": {"get", "patch", "delete"},
    "/matches": {"get"},
    "/matches/{match_id}": {"get"},
    "/matches/{match_id}/regisseur": {"put", "delete"},
    "/signals/{signal_id}/history": {"get"},
    "/subject-access-requests": {"post"},
    "/erasure-requests": {"post"},
    "/audit-events": {"get"},
    "/statistics": {"get"},
    "/matches/{match_id}/follow-up": {"put", "delete"},
    "/webhook-subscriptions": {"get", "post"},
    "/webhook-subscriptions/{subscription_id}": {"get", "delete"},
    "/webhook-subscriptions/{subscription_id}/deliveries": {"get"},
    "/monitoring/matches": {"get"},
    "/monitoring/matches/{match_id}": {"get"},
    "/monitoring/matches/{match_id}/check": {"put"},
    "/statistics/follow-up": {"get"},
}


def openapi(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.get_json()
    return document


def assert_conventional_headers(response: Any, version: str) -> None:
    assert response.headers.get("API-Version") == version, response.status_code
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (response.status_code, name)


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_JSON
    body: dict[str, Any] = response.get_json()
    assert body["status"] == status
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str)
    text = response.get_data(as_text=True)
    assert "Traceback" not in text
    assert 'File "' not in text
    return body


# --- headers on every response --------------------------------------------------------------


def test_every_status_carries_api_version_and_the_security_headers(
    world: World, client: FlaskClient
) -> None:
    version = openapi(client)["info"]["version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    anna = world.professional("Anna Jansen")
    admin = world.professional("Bea Beheer", roles=("beheerder",))
    created = anna.post("/api/v1/signals", json=signal_body(CHILD_BSN))
    closable = anna.signal(SIBLING_BSN)["id"]
    responses = {
        200: anna.get("/api/v1/signals"),
        201: created,
        204: anna.delete(f"/api/v1/signals/{closable}"),
        400: anna.post("/api/v1/signals", data="{", content_type="application/json"),
        401: client.get("/api/v1/signals"),
        403: admin.post("/api/v1/signals", json=signal_body(CHILD_BSN)),
        404: anna.get(f"/api/v1/signals/{UNKNOWN_ID}"),
        405: anna.put("/api/v1/signals", json={}),
        409: anna.post("/api/v1/signals", json=signal_body(CHILD_BSN)),
        415: anna.post("/api/v1/signals", data="bsn=1", content_type="text/plain"),
    }
    for status, response in responses.items():
        assert response.status_code == status, (status, response.get_data(as_text=True))
        assert_conventional_headers(response, version)
    for path in ("/api/v1/health", "/api/v1/openapi.json", "/api/v1/nowhere"):
        assert_conventional_headers(client.get(path), version)
    # The web UI's pages carry the same headers, with a stricter policy that still
    # forbids framing.
    for path in ("/nowhere", "/", "/inloggen"):
        response = client.get(path)
        assert response.headers.get("API-Version") == version
        for name, value in SECURITY_HEADERS.items():
            if name == "Content-Security-Policy":
                assert value in response.headers[name], (path, response.headers[name])
            else:
                assert response.headers.get(name) == value, (path, name)


def test_the_header_api_version_is_the_openapi_info_version(client: FlaskClient) -> None:
    document = openapi(client)
    response = client.get("/api/v1/health")
    assert response.headers["API-Version"] == document["info"]["version"]
    assert document["openapi"].startswith("3.")


# --- routing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/signals/",
        "/api/v1/matches/",
        "/api/v1/health/",
        f"/api/v1/signals/{UNKNOWN_ID}/",
        f"/api/v1/matches/{UNKNOWN_ID}/regisseur/",
    ],
)
def test_a_trailing_slash_is_a_404_not_a_redirect(world: World, path: str) -> None:
    anna = world.professional("Anna Jansen")
    response = anna.get(path)
    assert "Location" not in response.headers
    assert_problem(response, 404)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/v1/signals", {"GET", "POST"}),
        ("DELETE", "/api/v1/matches", {"GET"}),
        ("POST", f"/api/v1/signals/{UNKNOWN_ID}", {"GET", "PATCH", "DELETE"}),
        ("GET", "/api/v1/oauth/token", {"POST"}),
        ("POST", "/api/v1/health", {"GET"}),
    ],
)
def test_an_unsupported_method_is_a_405_problem_with_allow(
    world: World, method: str, path: str, allowed: set[str]
) -> None:
    anna = world.professional("Anna Jansen")
    response = anna.request(method, path, json={})
    assert_problem(response, 405)
    listed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert allowed <= listed
    assert method not in listed


@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v2/signals", "/api/v1"])
def test_an_unknown_path_is_a_404_problem(client: FlaskClient, path: str) -> None:
    assert_problem(client.get(path), 404)


def test_an_unknown_page_outside_the_api_is_a_dutch_404_page(client: FlaskClient) -> None:
    response = client.get("/nergens")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Pagina niet gevonden" in response.get_data(as_text=True)


def test_a_malformed_id_in_the_path_is_a_404_problem(world: World) -> None:
    anna = world.professional("Anna Jansen")
    assert_problem(anna.get("/api/v1/signals/not-a-uuid"), 404)
    assert_problem(anna.get("/api/v1/matches/123"), 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/signals"),
        ("PATCH", f"/api/v1/signals/{UNKNOWN_ID}"),
        ("PUT", f"/api/v1/matches/{UNKNOWN_ID}/regisseur"),
    ],
)
def test_a_body_that_is_not_json_is_a_415_problem(world: World, method: str, path: str) -> None:
    anna = world.professional("Anna Jansen")
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
        response = anna.request(method, path, data="professionalId=x", content_type=content_type)
        assert_problem(response, 415)


# --- health ---------------------------------------------------------------------------------


def test_health_reports_the_service_and_the_database_ok_without_auth(client: FlaskClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_health_is_503_when_the_database_is_unreachable_and_says_so_as_documented(
    app: Flask, core: Core, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    unreachable = create_engine("sqlite:////nonexistent-directory/verwijsindex.db")
    monkeypatch.setattr(core.database, "engine", unreachable)
    response = client.get("/api/v1/health")
    body = assert_problem(response, 503)
    assert body.get("database") != "ok"
    assert int(response.headers["Retry-After"]) > 0, "clients and balancers should back off"
    documented = openapi(client)["paths"]["/health"]["get"]["responses"]["503"]["content"]
    assert response.mimetype in documented, (response.mimetype, list(documented))


# --- the OpenAPI document -------------------------------------------------------------------


def test_the_openapi_document_is_public_and_may_be_read_cross_origin(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    document = response.get_json()
    assert document["servers"][0]["url"].endswith("/api/v1")
    assert document["info"]["title"]


def test_the_openapi_document_lists_every_implemented_endpoint(client: FlaskClient) -> None:
    paths = openapi(client)["paths"]
    for path, methods in IMPLEMENTED.items():
        assert path in paths, path
        documented = {m for m in paths[path] if m != "parameters"}
        assert methods <= documented, (path, documented)


def test_the_openapi_document_matches_the_routes_the_app_serves(
    app: Flask, client: FlaskClient
) -> None:
    served: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule == "/api/v1/openapi.json":
            continue
        if rule.endpoint.startswith(f"{api_docs.bp.name}."):
            continue  # the page rendering the document, not an operation in it
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        methods = {m.lower() for m in rule.methods or set()} - {"head", "options"}
        served.setdefault(path, set()).update(methods)
    documented = {
        path: {m for m in item if m != "parameters"}
        for path, item in openapi(client)["paths"].items()
    }
    assert documented == served
    assert set(IMPLEMENTED) <= set(served)


def test_every_operation_documents_api_version_on_success_and_problems_on_errors(
    client: FlaskClient,
) -> None:
    document = openapi(client)
    assert "API-Version" in document["components"]["headers"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            responses = operation["responses"]
            assert any(code.startswith("2") for code in responses), (path, method)
            assert "default" not in responses
            for code, response in responses.items():
                where = (path, method, code)
                if code.startswith("2"):
                    assert "API-Version" in response.get("headers", {}), where
                elif code.startswith(("4", "5")):
                    assert set(response.get("content", {})) == {PROBLEM_JSON}, where
                    assert response["description"], where


def test_protected_operations_declare_bearer_auth_and_the_public_ones_do_not(
    client: FlaskClient,
) -> None:
    document = openapi(client)
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            needs_token = path not in ("/health", "/oauth/token")
            declared = any("bearerAuth" in s for s in operation.get("security", []))
            assert declared == needs_token, (path, method)
            if needs_token:
                assert "401" in operation["responses"], (path, method)


def test_the_openapi_document_has_no_personal_data_in_any_url(client: FlaskClient) -> None:
    for path, item in openapi(client)["paths"].items():
        assert "bsn" not in path.lower()
        for method, operation in item.items():
            if method == "parameters":
                continue
            for parameter in operation.get("parameters", []):
                if "in" in parameter and parameter["in"] in ("path", "query"):
                    assert "bsn" not in parameter["name"].lower(), (path, method)


# --- no stack traces, no 500 for bad input --------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b'{"bsn": ',
        b"\xff\xfe\x00",
        b"[]",
        b"null",
        b'"just a string"',
        b'{"bsn": NaN}',
        b"[" * 20_000,  # deep enough to exhaust the parser's recursion, under the size cap
    ],
    ids=["truncated", "half", "not-utf8", "array", "null", "string", "nan", "deeply-nested"],
)
def test_invalid_json_is_a_400_problem_without_a_stack_trace(world: World, raw: bytes) -> None:
    anna = world.professional("Anna Jansen")
    response = anna.post("/api/v1/signals", data=raw, content_type="application/json")
    body = assert_problem(response, 400)
    assert body["invalidParams"]
    assert anna.get("/api/v1/signals").get_json()["items"] == []


def test_a_body_far_larger_than_any_signal_is_refused_with_413(world: World) -> None:
    anna = world.professional("Anna Jansen")
    response = anna.post(
        "/api/v1/signals", data=b" " * (65 * 1024) + b"{}", content_type="application/json"
    )
    assert_problem(response, 413)


def test_an_unexpected_exception_is_a_bare_500_problem(app: Flask) -> None:
    def explode() -> Any:
        raise RuntimeError("database password is hunter2 for 111222333")

    app.add_url_rule("/api/v1/explode", "explode_for_test", explode)
    response = app.test_client().get("/api/v1/explode")
    body = assert_problem(response, 500)
    assert set(body) == {"type", "title", "status", "detail"}
    text = response.get_data(as_text=True)
    for leaked in ("hunter2", "111222333", "RuntimeError", "explode"):
        assert leaked not in text
    assert_conventional_headers(response, openapi(app.test_client())["info"]["version"])
