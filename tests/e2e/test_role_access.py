"""Role by role, every API endpoint: who reaches it and who is turned away (issue 13 item 7,
Jeugdwet 7.1.3.2 and 7.1.3.3: "access for that purpose only").

`ACCESS` names, for every (method, path) the API serves, the roles whose personal token gets
past the role check; every other role must get 403 problem+json. Each request carries a body
that passes validation (flask-smorest parses it before the use case checks the role), and
path ids nobody holds: a role that may act gets past the role check and answers 404 there,
one that may not is refused before anything is looked up. Endpoints a system client uses for
itself (`SYSTEM_ONLY`) refuse every personal token.

A new endpoint fails `test_every_api_endpoint_has_a_declared_access_rule` until it is added
here, so deciding who may reach it is part of adding it.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from flask import Flask

from tests.conftest import CHILD_BSN, ApiClient, World, signal_body
from verwijsindex.domain import Role

PREFIX = "/api/v1"
PROFESSIONAL, BEHEERDER, PRIVACY, REGIE, COORDINATOR = (
    Role.PROFESSIONAL,
    Role.BEHEERDER,
    Role.PRIVACY_OFFICER,
    Role.REGIEVOERDER,
    Role.COORDINATOR,
)
ROLES = (PROFESSIONAL, BEHEERDER, PRIVACY, REGIE, COORDINATOR)

PUBLIC = {
    ("GET", "/health"),
    ("POST", "/oauth/token"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/<asset>"),
    ("GET", "/docs/verwijsindex-docs.js"),
}
SYSTEM_ONLY = {
    ("GET", "/events"),
    ("PUT", "/sync/signals"),
    ("GET", "/sync/runs/<uuid:run_id>"),
    ("GET", "/webhook-subscriptions"),
    ("POST", "/webhook-subscriptions"),
    ("GET", "/webhook-subscriptions/<uuid:subscription_id>"),
    ("DELETE", "/webhook-subscriptions/<uuid:subscription_id>"),
    ("GET", "/webhook-subscriptions/<uuid:subscription_id>/deliveries"),
}

_DUTY = {"childInformed": True, "parentsInformed": True}

# (method, path) -> (the roles that get past the role check, the body or query it is sent).
ACCESS: dict[tuple[str, str], tuple[frozenset[Role], dict[str, Any]]] = {
    ("GET", "/signals"): (frozenset({PROFESSIONAL}), {}),
    ("POST", "/signals"): (frozenset({PROFESSIONAL}), {"json": signal_body(CHILD_BSN)}),
    ("GET", "/signals/<uuid:signal_id>"): (frozenset({PROFESSIONAL}), {}),
    ("PATCH", "/signals/<uuid:signal_id>"): (
        frozenset({PROFESSIONAL}),
        {"json": {"informatieplicht": _DUTY}},
    ),
    ("DELETE", "/signals/<uuid:signal_id>"): (frozenset({PROFESSIONAL}), {}),
    ("GET", "/signals/<uuid:signal_id>/history"): (frozenset({PROFESSIONAL}), {}),
    ("GET", "/matches"): (frozenset({PROFESSIONAL}), {}),
    ("GET", "/matches/<uuid:match_id>"): (frozenset({PROFESSIONAL}), {}),
    ("PUT", "/matches/<uuid:match_id>/follow-up"): (frozenset({PROFESSIONAL}), {}),
    ("DELETE", "/matches/<uuid:match_id>/follow-up"): (frozenset({PROFESSIONAL}), {}),
    ("PUT", "/matches/<uuid:match_id>/regisseur"): (
        frozenset({PROFESSIONAL}),
        {"json": {"professionalId": str(uuid.uuid4())}},
    ),
    ("DELETE", "/matches/<uuid:match_id>/regisseur"): (frozenset({PROFESSIONAL}), {}),
    ("POST", "/signals/<uuid:signal_id>/transfer"): (
        frozenset({PROFESSIONAL, COORDINATOR}),
        {"json": {"professionalId": str(uuid.uuid4())}},
    ),
    ("PATCH", "/professionals/<uuid:professional_id>"): (
        frozenset({COORDINATOR, BEHEERDER}),
        {"json": {"phone": "+31 6 1234 5678"}},
    ),
    ("GET", "/organisations/<uuid:organisation_id>/signals"): (frozenset({COORDINATOR}), {}),
    ("GET", "/statistics"): (frozenset({BEHEERDER}), {}),
    ("GET", "/statistics/follow-up"): (frozenset({BEHEERDER, REGIE}), {}),
    ("GET", "/monitoring/matches"): (frozenset({REGIE}), {}),
    ("GET", "/monitoring/matches/<uuid:match_id>"): (frozenset({REGIE}), {}),
    ("PUT", "/monitoring/matches/<uuid:match_id>/check"): (frozenset({REGIE}), {}),
    ("GET", "/audit-events"): (frozenset({PRIVACY}), {}),
    ("GET", "/audit-checkpoints"): (frozenset({PRIVACY}), {}),
    ("POST", "/subject-access-requests"): (frozenset({PRIVACY}), {"json": {"bsn": CHILD_BSN}}),
    ("POST", "/erasure-requests"): (
        frozenset({PRIVACY}),
        {"json": {"bsn": CHILD_BSN, "reason": "objection"}},
    ),
}

_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _served(app: Flask) -> set[tuple[str, str]]:
    """Every (method, path) under the API, paths as the url map writes them."""
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(f"{PREFIX}/"):
            continue
        path = rule.rule.removeprefix(PREFIX)
        found |= {(m, path) for m in rule.methods or () if m not in {"HEAD", "OPTIONS"}}
    return found


def _concrete(path: str) -> str:
    return PREFIX + _CONVERTER.sub(lambda m: str(uuid.uuid4()), path)


@pytest.fixture
def people(world: World) -> dict[Role, ApiClient]:
    """One person per role, holding that role alone, each in an organisation of their own."""
    return {
        role: world.professional(f"Alleen {role.value}", f"Organisatie {role.value}", roles=(role,))
        for role in ROLES
    }


def test_every_api_endpoint_has_a_declared_access_rule(app: Flask) -> None:
    undeclared = _served(app) - set(ACCESS) - PUBLIC - SYSTEM_ONLY
    assert not undeclared, f"declare who may reach these in ACCESS: {sorted(undeclared)}"
    gone = (set(ACCESS) | PUBLIC | SYSTEM_ONLY) - _served(app)
    assert not gone, f"no longer served: {sorted(gone)}"


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_each_role_reaches_its_own_endpoints_and_is_refused_everywhere_else(
    app: Flask, people: dict[Role, ApiClient], role: Role
) -> None:
    person = people[role]
    wrong: list[str] = []
    for (method, path), (allowed, sent) in sorted(ACCESS.items()):
        response = person.request(method, _concrete(path), **sent)
        status = response.status_code
        if role in allowed:
            ok = status not in {401, 403} and status < 500
        else:
            ok = status == 403 and response.content_type == "application/problem+json"
        if not ok:
            wrong.append(f"{method} {path}: {status} {response.get_data(as_text=True)[:200]}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_no_personal_token_reaches_what_a_system_client_does_for_itself(
    people: dict[Role, ApiClient], role: Role
) -> None:
    person = people[role]
    bodies = {"PUT": {"json": {"signals": []}}, "POST": {"json": {"url": "https://x.test/"}}}
    for method, path in sorted(SYSTEM_ONLY):
        response = person.request(method, _concrete(path), **bodies.get(method, {}))
        assert response.status_code in {401, 403}, (method, path, response.status_code)
        assert response.content_type == "application/problem+json", (method, path)
