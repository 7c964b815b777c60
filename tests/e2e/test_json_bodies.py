"""Every request body that is not acceptable JSON is a 400 problem (issue 16 item 2).

Tried on every JSON-taking endpoint of the app's url_map, with credentials that pass, so
that the body really is read: a new endpoint is covered without a new test.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import CHILD_BSN, SIBLING_BSN, World, signal_body
from tests.e2e.test_auth import assert_problem, bearer, system_token
from verwijsindex.api.openapi import PREFIX, PUBLIC_PATHS, SYSTEM_PATH_PREFIX

_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")

UNACCEPTABLE = {
    # Python's int-string limit is 4,300 digits; past it json.loads raised ValueError (500).
    "4301-digit-integer": b'{"bsn": ' + b"7" * 4301 + b"}",
    "negative-4301-digits": b'{"bsn": -' + b"7" * 4301 + b"}",
    "duplicate-key": b'{"bsn": "111222333", "bsn": "123456782"}',
    "nested-duplicate-key": b'{"informatieplicht": {"childInformed": 1, "childInformed": 2}}',
    "nan": b'{"bsn": NaN}',
    "infinity": b'{"bsn": Infinity}',
    "minus-infinity": b'{"bsn": -Infinity}',
    "overflowing-float": b'{"bsn": 1e999}',
    "invalid-utf8": b'{"bsn": "\xff\xfe"}',
    "lone-surrogate": b'{"bsn": "\\ud800"}',
}


def _reads_json(app: Flask, endpoint: str, method: str) -> bool:
    """Whether the view parses a JSON body (flask-smorest `@arguments`, default location)."""
    view = app.view_functions[endpoint]
    handler = getattr(getattr(view, "view_class", None), method.lower(), view)
    arguments = getattr(handler, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    return any(a.get("location") in (None, "json") for a in arguments)


def _json_endpoints(app: Flask) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        short = rule.rule.removeprefix(PREFIX)
        if not rule.rule.startswith(f"{PREFIX}/") or short in PUBLIC_PATHS:
            continue
        path = _CONVERTER.sub(lambda m: str(uuid.uuid4()) if m[1] == "uuid" else "x", rule.rule)
        for method in sorted(rule.methods or ()):
            if method in ("POST", "PUT", "PATCH") and _reads_json(app, rule.endpoint, method):
                found.append((method, path))
    return found


@pytest.mark.parametrize("kind", sorted(UNACCEPTABLE))
def test_a_body_that_is_not_acceptable_json_is_a_400_problem_on_every_endpoint(
    app: Flask, world: World, client: FlaskClient, kind: str
) -> None:
    officer = world.professional("Olga Officier", roles=("professional", "privacy_officer"))
    system = bearer(system_token(client, world.core, officer.organisation_id))
    endpoints = _json_endpoints(app)
    assert len(endpoints) >= 5 and ("POST", "/api/v1/signals") in endpoints
    for method, path in endpoints:
        own = tuple(PREFIX + prefix for prefix in SYSTEM_PATH_PREFIX)
        headers = system if path.startswith(own) else officer.headers()
        response = client.open(
            path,
            method=method,
            data=UNACCEPTABLE[kind],
            content_type="application/json",
            headers=headers,
        )
        body = assert_problem(response, 400)
        assert [p["name"] for p in body["invalidParams"]] == ["body"], (method, path, body)
        text = response.get_data(as_text=True)
        assert "7777" not in text and "111222333" not in text


def test_a_repeated_key_registers_nothing_rather_than_the_last_value(world: World) -> None:
    anna = world.professional("Anna Jansen")
    body = signal_body(CHILD_BSN)
    # The sibling's BSN first, the child's last: last-one-wins would register the child.
    raw = '{"bsn": "' + SIBLING_BSN + '", ' + json.dumps(body)[1:]
    response = anna.post("/api/v1/signals", data=raw, content_type="application/json")
    problem = assert_problem(response, 400)
    assert "same key twice" in problem["invalidParams"][0]["reason"]
    assert anna.get("/api/v1/signals").get_json()["items"] == []
    ok = anna.post("/api/v1/signals", json=body)  # the same body without the repeat is fine
    assert ok.status_code == 201, ok.get_json()


def test_an_integer_short_enough_to_parse_is_still_judged_by_the_schema(world: World) -> None:
    anna = world.professional("Anna Jansen")
    response = anna.post(
        "/api/v1/signals", data=b'{"bsn": 111222333}', content_type="application/json"
    )
    problem = assert_problem(response, 400)
    assert "bsn" in [p["name"] for p in problem["invalidParams"]]
