"""Authentication hardening (issue 10 items 1, 5, 8; issue 16 item 2), through the real app.

- A system token carries only the `professional` powers of the person it names: oversight
  roles act only in person (contract section 4).
- Deactivation, revocation and a withdrawn role bite on the very next request, although
  tokens and callers are cached between requests.
- A request without valid credentials is a 401 whatever its body: every body-taking
  endpoint in the app's url_map is tried, so a new endpoint is covered without a new test.
- `X-Professional-Id` is a UUID in its one canonical spelling.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import CHILD_BSN, SIBLING_BSN, ApiClient, FakeClock, World, signal_body
from tests.e2e.test_auth import assert_problem, bearer, new_client, request_token, system_token
from verwijsindex.api.openapi import PREFIX, PUBLIC_PATHS
from verwijsindex.domain import Role
from verwijsindex.models import AuditEventRow
from verwijsindex.services import Actor, Core, directory

AUDIT_URL = "/api/v1/audit-events"
ACCESS_URL = "/api/v1/subject-access-requests"
STATISTICS_URL = "/api/v1/statistics"
SIGNALS_URL = "/api/v1/signals"
INVALID_BSN = "123456789"  # fails the elfproef


def _system_headers(
    world: World, core: Core, client: FlaskClient, person: ApiClient
) -> dict[str, str]:
    token = system_token(client, core, person.organisation_id)
    return bearer(token, person.professional_id)


def _denied(core: Core, action: str) -> list[AuditEventRow]:
    with core.transaction(write=False) as tx:
        rows = tx.uow.session.scalars(
            select(AuditEventRow).where(
                AuditEventRow.action == action, AuditEventRow.outcome == "denied"
            )
        ).all()
        tx.uow.session.expunge_all()
    return list(rows)


# --- 10.1: a system token never carries oversight powers ------------------------------------


def test_a_system_token_naming_a_privacy_officer_may_not_read_the_audit_log(
    world: World, core: Core, client: FlaskClient
) -> None:
    officer = world.professional("Olga Officier", roles=("professional", "privacy_officer"))
    assert officer.get(AUDIT_URL).status_code == 200  # in person (personal token): allowed
    response = client.get(AUDIT_URL, headers=_system_headers(world, core, client, officer))
    body = assert_problem(response, 403)
    assert "system token" in body["detail"]
    refused = _denied(core, "api:audit:search")
    assert [(r.actor_id, r.credential) for r in refused] == [(officer.professional_id, "system")]


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_a_system_token_naming_a_privacy_officer_may_not_run_subject_access(
    world: World, core: Core, client: FlaskClient, accept: str
) -> None:
    officer = world.professional("Olga Officier", roles=("professional", "privacy_officer"))
    anna = world.professional("Anna Jansen")
    anna.signal(CHILD_BSN)
    headers = {**_system_headers(world, core, client, officer), "Accept": accept}
    response = client.post(ACCESS_URL, json={"bsn": CHILD_BSN}, headers=headers)
    assert_problem(response, 403)
    assert CHILD_BSN not in response.get_data(as_text=True)
    assert (
        anna.http.post(
            ACCESS_URL, json={"bsn": CHILD_BSN}, headers=officer.headers({"Accept": accept})
        ).status_code
        == 200
    )  # the same person in person
    refused = _denied(core, "api:subject-access:report")
    assert [(r.actor_id, r.credential) for r in refused] == [(officer.professional_id, "system")]
    assert refused[0].on_behalf_of is not None  # the system client that tried


def test_a_system_token_naming_a_beheerder_may_not_read_statistics(
    world: World, core: Core, client: FlaskClient
) -> None:
    bea = world.professional("Bea Beheer", roles=("professional", "beheerder"))
    assert bea.get(STATISTICS_URL).status_code == 200
    response = client.get(STATISTICS_URL, headers=_system_headers(world, core, client, bea))
    assert_problem(response, 403)
    assert [r.actor_id for r in _denied(core, "api:statistics:read")] == [bea.professional_id]


def test_a_system_token_keeps_the_professional_powers_of_an_oversight_role_holder(
    world: World, core: Core, client: FlaskClient
) -> None:
    officer = world.professional("Olga Officier", roles=("professional", "privacy_officer"))
    headers = _system_headers(world, core, client, officer)
    response = client.post(SIGNALS_URL, json=signal_body(CHILD_BSN), headers=headers)
    assert response.status_code == 201, response.get_json()
    assert client.get(SIGNALS_URL, headers=headers).status_code == 200


def test_the_audit_record_names_the_kind_of_credential_that_acted(
    world: World, core: Core, client: FlaskClient
) -> None:
    anna = world.professional("Anna Jansen")
    anna.signal(CHILD_BSN)
    headers = _system_headers(world, core, client, anna)
    response = client.post(SIGNALS_URL, json=signal_body(SIBLING_BSN), headers=headers)
    assert response.status_code == 201, response.get_json()
    with core.transaction(write=False) as tx:
        rows = tx.uow.session.execute(
            select(AuditEventRow.credential, AuditEventRow.on_behalf_of)
            .where(AuditEventRow.action == "api:signal:create")
            .order_by(AuditEventRow.seq)
        ).all()
    assert [c for c, _ in rows] == ["personal", "system"]
    assert rows[0][1] is None and rows[1][1] is not None


# --- 10.5: deactivation, revocation and withdrawn roles bite on the next request ------------


def _beheerder(world: World) -> Actor:
    return world.actor(world.professional("Bea Beheer", roles=("beheerder",)))


def test_a_deactivated_professional_is_refused_on_the_next_request_with_either_token(
    world: World, core: Core, client: FlaskClient
) -> None:
    anna = world.professional("Anna Jansen")
    system = _system_headers(world, core, client, anna)
    assert anna.get(SIGNALS_URL).status_code == 200  # both callers are now cached
    assert client.get(SIGNALS_URL, headers=system).status_code == 200
    directory.deactivate_professional(core, _beheerder(world), anna.professional_id)
    assert_problem(anna.get(SIGNALS_URL), 401)
    assert_problem(client.get(SIGNALS_URL, headers=system), 401)
    assert_problem(anna.post(SIGNALS_URL, json=signal_body(CHILD_BSN)), 401)
    with core.transaction(write=False) as tx:
        created = tx.uow.session.scalars(
            select(AuditEventRow.seq).where(AuditEventRow.action == "api:signal:create")
        ).all()
    assert created == []


def test_a_revoked_system_client_is_refused_on_the_next_request(
    world: World, core: Core, client: FlaskClient
) -> None:
    anna = world.professional("Anna Jansen")
    client_id, secret = new_client(core, anna.organisation_id)
    token = request_token(client, client_id, secret).get_json()["access_token"]
    headers = bearer(token, anna.professional_id)
    assert client.get(SIGNALS_URL, headers=headers).status_code == 200
    directory.revoke_system_client(core, _beheerder(world), uuid.UUID(client_id))
    assert_problem(client.get(SIGNALS_URL, headers=headers), 401)
    assert_problem(client.post(SIGNALS_URL, json=signal_body(CHILD_BSN), headers=headers), 401)


def test_a_withdrawn_role_bites_on_the_next_request(world: World, core: Core) -> None:
    officer = world.professional("Olga Officier", roles=("professional", "privacy_officer"))
    assert officer.get(AUDIT_URL).status_code == 200
    directory.set_roles(core, _beheerder(world), officer.professional_id, {Role.PROFESSIONAL})
    assert officer.get(AUDIT_URL).status_code in (401, 403)
    assert_problem(officer.get(AUDIT_URL), 403)  # once told, the token acts as it now may
    assert officer.get(SIGNALS_URL).status_code == 200


def test_a_granted_role_needs_no_new_token_and_no_wait(world: World, core: Core) -> None:
    anna = world.professional("Anna Jansen")
    assert_problem(anna.get(AUDIT_URL), 403)
    directory.set_roles(
        core, _beheerder(world), anna.professional_id, {Role.PROFESSIONAL, Role.PRIVACY_OFFICER}
    )
    assert anna.get(SIGNALS_URL).status_code == 200  # acts as before, and refreshes
    assert anna.get(AUDIT_URL).status_code == 200


def test_a_cached_caller_costs_one_statement_to_confirm(
    world: World, core: Core, client: FlaskClient, clock: FakeClock
) -> None:
    """The price of biting at once: one primary-key statement in the use case's own
    transaction, and no transaction of its own."""
    from sqlalchemy import event

    anna = world.professional("Anna Jansen")
    assert anna.get(SIGNALS_URL).status_code == 200
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(core.database.engine, "before_cursor_execute", note)
    try:
        assert anna.get(SIGNALS_URL).status_code == 200
    finally:
        event.remove(core.database.engine, "before_cursor_execute", note)
    standing = [s for s in seen if re.search(r"FROM professionals\s+WHERE", s)]
    assert len(standing) == 1, seen


# --- 10.8: authentication before the body ---------------------------------------------------

BODY_METHODS = ("POST", "PUT", "PATCH")
_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _body_taking_endpoints(app: Flask) -> list[tuple[str, str]]:
    """Every (method, path) under the API that takes a body and is not public."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(f"{PREFIX}/"):
            continue
        if rule.rule.removeprefix(PREFIX) in PUBLIC_PATHS:
            continue
        path = _CONVERTER.sub(lambda m: str(uuid.uuid4()) if m[1] == "uuid" else "x", rule.rule)
        found.extend(
            (method, path) for method in sorted(rule.methods or ()) if method in BODY_METHODS
        )
    return found


def test_the_url_map_walk_finds_the_known_body_taking_endpoints(app: Flask) -> None:
    shapes = {(m, re.sub(r"[0-9a-f-]{36}", "{}", p)) for m, p in _body_taking_endpoints(app)}
    for known in [
        ("POST", "/api/v1/signals"),
        ("PATCH", "/api/v1/signals/{}"),
        ("PUT", "/api/v1/matches/{}/regisseur"),
        ("POST", "/api/v1/subject-access-requests"),
        ("POST", "/api/v1/webhook-subscriptions"),
    ]:
        assert known in shapes, shapes


_TEMPTING_BODIES = {
    "invalid-bsn": {"bsn": INVALID_BSN, "birthDate": "2015-03-14", "professionalId": "x"},
    "not-json": b"{",
    "huge-number": b'{"bsn": ' + b"9" * 5000 + b"}",
}


@pytest.mark.parametrize("body", sorted(_TEMPTING_BODIES))
@pytest.mark.parametrize("credentials", ["none", "malformed", "expired"])
def test_every_body_taking_endpoint_answers_401_before_reading_the_body(
    app: Flask, world: World, clock: FakeClock, body: str, credentials: str
) -> None:
    anna = world.professional("Anna Jansen")
    headers = {
        "none": {},
        "malformed": {"Authorization": "Bearer not.a.token"},
        "expired": {"Authorization": f"Bearer {anna.token}"},
    }[credentials]
    if credentials == "expired":
        clock.advance(hours=2)
    sent = _TEMPTING_BODIES[body]
    http = app.test_client()
    for method, path in _body_taking_endpoints(app):
        if isinstance(sent, bytes):
            response = http.open(
                path, method=method, data=sent, content_type="application/json", headers=headers
            )
        else:
            response = http.open(path, method=method, json=sent, headers=headers)
        problem = assert_problem(response, 401)
        assert "invalidParams" not in problem, (method, path)
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), (method, path)
        assert INVALID_BSN not in response.get_data(as_text=True)


def test_a_body_in_the_wrong_content_type_without_credentials_is_401_not_415(app: Flask) -> None:
    http = app.test_client()
    for method, path in _body_taking_endpoints(app):
        response = http.open(
            path, method=method, data=f"bsn={INVALID_BSN}", content_type="text/plain"
        )
        assert_problem(response, 401)


def test_a_system_token_without_x_professional_id_is_401_before_the_body(
    world: World, core: Core, client: FlaskClient
) -> None:
    anna = world.professional("Anna Jansen")
    token = system_token(client, core, anna.organisation_id)
    response = client.post(SIGNALS_URL, json={"bsn": INVALID_BSN}, headers=bearer(token))
    assert_problem(response, 401)


# --- 16.2: X-Professional-Id in its canonical spelling only ---------------------------------


@pytest.mark.parametrize(
    "spelling",
    ["braces", "urn", "no-hyphens", "lowercase", "uppercase"],
)
def test_x_professional_id_is_accepted_only_in_the_canonical_uuid_form(
    world: World, core: Core, client: FlaskClient, spelling: str
) -> None:
    anna = world.professional("Anna Jansen")
    token = system_token(client, core, anna.organisation_id)
    pid = anna.professional_id
    header = {
        "braces": f"{{{pid}}}",
        "urn": pid.urn,
        "no-hyphens": pid.hex,
        "lowercase": str(pid),
        "uppercase": str(pid).upper(),
    }[spelling]
    response = client.get(SIGNALS_URL, headers={**bearer(token), "X-Professional-Id": header})
    if spelling in ("lowercase", "uppercase"):
        assert response.status_code == 200, response.get_json()
    else:
        assert_problem(response, 401)
