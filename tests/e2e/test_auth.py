"""Authentication through the real app: client credentials, system and personal tokens.

Contract section 4: systems get an RS256 JWT from `POST /api/v1/oauth/token` and act for a
professional of their own organisation named in `X-Professional-Id`; personal tokens imply
that header; expired, malformed and foreign-signed tokens are a 401 problem.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask.testing import FlaskClient

from tests.conftest import CHILD_BSN, FakeClock, World, signal_body
from verwijsindex.services import Core
from verwijsindex.services.admin import create_system_client

TOKEN_URL = "/api/v1/oauth/token"
SIGNALS_URL = "/api/v1/signals"
PROBLEM_JSON = "application/problem+json"


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_JSON
    body: dict[str, Any] = response.get_json()
    assert body["status"] == status
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def new_client(core: Core, organisation_id: uuid.UUID) -> tuple[str, str]:
    created = create_system_client(core, organisation_id)
    return str(created.client_id), created.client_secret


def request_token(http: FlaskClient, client_id: str, client_secret: str) -> Any:
    return http.post(
        TOKEN_URL,
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        },
    )


def system_token(http: FlaskClient, core: Core, organisation_id: uuid.UUID) -> str:
    response = request_token(http, *new_client(core, organisation_id))
    assert response.status_code == 200, response.get_json()
    token: str = response.get_json()["access_token"]
    return token


def bearer(token: str, professional_id: object = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if professional_id is not None:
        headers["X-Professional-Id"] = str(professional_id)
    return headers


# --- the token endpoint ---------------------------------------------------------------------


def test_client_credentials_in_the_form_give_a_bearer_token_of_at_most_an_hour(
    world: World, core: Core, client: FlaskClient
) -> None:
    client_id, secret = new_client(core, world.organisation("School A"))
    response = request_token(client, client_id, secret)
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert isinstance(body["expires_in"], int)
    assert 0 < body["expires_in"] <= 3600
    assert secret not in response.get_data(as_text=True)


def test_the_access_token_is_an_rs256_jwt_with_kid_and_the_required_claims(
    world: World, core: Core, client: FlaskClient, clock: FakeClock
) -> None:
    client_id, secret = new_client(core, world.organisation("School A"))
    body = request_token(client, client_id, secret).get_json()
    token = body["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    assert header["kid"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert {"iss", "azp", "exp", "jti"} <= claims.keys()
    # Named after the signing key, not the address served (contract section 4).
    assert claims["iss"] == f"urn:verwijsindex:issuer:{header['kid']}"
    assert claims["azp"] == client_id
    assert 0 < claims["exp"] - clock.now.timestamp() <= 3600
    assert claims["exp"] - clock.now.timestamp() == pytest.approx(body["expires_in"], abs=1)
    uuid.UUID(claims["jti"])
    again = request_token(client, client_id, secret).get_json()["access_token"]
    assert jwt.decode(again, options={"verify_signature": False})["jti"] != claims["jti"]


def test_http_basic_client_authentication_works_too(
    world: World, core: Core, client: FlaskClient
) -> None:
    client_id, secret = new_client(core, world.organisation("School A"))
    raw = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    response = client.post(
        TOKEN_URL,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["token_type"] == "Bearer"


def test_failed_client_authentication_is_one_indistinguishable_401(
    world: World, core: Core, client: FlaskClient
) -> None:
    client_id, secret = new_client(core, world.organisation("School A"))
    wrong_secret = request_token(client, client_id, secret + "x")
    unknown_client = request_token(client, str(uuid.uuid4()), secret)
    malformed_id = request_token(client, "not-a-uuid", secret)
    bodies = [assert_problem(r, 401) for r in (wrong_secret, unknown_client, malformed_id)]
    assert bodies[0] == bodies[1] == bodies[2]
    for response in (wrong_secret, unknown_client, malformed_id):
        assert "access_token" not in response.get_data(as_text=True)
        assert response.headers.get("WWW-Authenticate")


def test_a_missing_client_secret_is_a_401_not_a_token(
    world: World, core: Core, client: FlaskClient
) -> None:
    client_id, _ = new_client(core, world.organisation("School A"))
    response = client.post(
        TOKEN_URL, data={"grant_type": "client_credentials", "client_id": client_id}
    )
    assert_problem(response, 401)


def test_another_grant_type_is_invalid_input(world: World, core: Core, client: FlaskClient) -> None:
    client_id, secret = new_client(core, world.organisation("School A"))
    response = client.post(
        TOKEN_URL,
        data={"grant_type": "password", "client_id": client_id, "client_secret": secret},
    )
    body = assert_problem(response, 400)
    assert [p["name"] for p in body["invalidParams"]] == ["grant_type"]


def test_a_json_token_request_is_unsupported_media_type(
    world: World, core: Core, client: FlaskClient
) -> None:
    client_id, secret = new_client(core, world.organisation("School A"))
    response = client.post(
        TOKEN_URL,
        json={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert_problem(response, 415)


# --- acting with a system token -------------------------------------------------------------


def test_a_system_token_acts_for_the_named_professional_of_its_own_organisation(
    world: World, core: Core, client: FlaskClient
) -> None:
    anna = world.professional("Anna Jansen", "School A")
    token = system_token(client, core, anna.organisation_id)
    response = client.post(
        SIGNALS_URL, json=signal_body(CHILD_BSN), headers=bearer(token, anna.professional_id)
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["professional"]["id"] == str(anna.professional_id)
    assert response.get_json()["professional"]["organisation"] == "School A"
    listed = anna.get(SIGNALS_URL).get_json()["items"]
    assert [s["id"] for s in listed] == [response.get_json()["id"]]


def test_a_system_token_without_x_professional_id_is_a_401_problem(
    world: World, core: Core, client: FlaskClient
) -> None:
    anna = world.professional("Anna Jansen", "School A")
    token = system_token(client, core, anna.organisation_id)
    response = client.post(SIGNALS_URL, json=signal_body(CHILD_BSN), headers=bearer(token))
    body = assert_problem(response, 401)
    assert "X-Professional-Id" in body["detail"]
    assert anna.get(SIGNALS_URL).get_json()["items"] == []


@pytest.mark.parametrize("who", ["other organisation", "random uuid", "garbage", "empty"])
def test_a_system_token_cannot_act_for_anyone_outside_its_organisation(
    world: World, core: Core, client: FlaskClient, who: str
) -> None:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    token = system_token(client, core, anna.organisation_id)
    named = {
        "other organisation": str(bert.professional_id),
        "random uuid": str(uuid.uuid4()),
        "garbage": "'; DROP TABLE signals; --",
        "empty": "",
    }[who]
    response = client.post(
        SIGNALS_URL,
        json=signal_body(CHILD_BSN),
        headers={**bearer(token), "X-Professional-Id": named},
    )
    assert_problem(response, 401)
    assert bert.get(SIGNALS_URL).get_json()["items"] == []
    assert anna.get(SIGNALS_URL).get_json()["items"] == []


def test_a_personal_token_needs_no_x_professional_id(world: World) -> None:
    anna = world.professional("Anna Jansen")
    response = anna.post(SIGNALS_URL, json=signal_body(CHILD_BSN))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["professional"]["id"] == str(anna.professional_id)


def test_a_personal_token_cannot_be_redirected_to_someone_else(world: World) -> None:
    anna = world.professional("Anna Jansen", "School A")
    carla = world.professional("Carla Claes", "School A")
    response = anna.post(
        SIGNALS_URL,
        json=signal_body(CHILD_BSN),
        headers={"X-Professional-Id": str(carla.professional_id)},
    )
    # The header is implied by the personal token; it must never let Anna act as Carla.
    if response.status_code == 201:
        assert response.get_json()["professional"]["id"] == str(anna.professional_id)
    else:
        assert_problem(response, 401)
    assert carla.get(SIGNALS_URL).get_json()["items"] == []


# --- bad tokens -----------------------------------------------------------------------------


def test_an_expired_system_token_is_a_401_problem(
    world: World, core: Core, client: FlaskClient, clock: FakeClock
) -> None:
    anna = world.professional("Anna Jansen", "School A")
    token = system_token(client, core, anna.organisation_id)
    headers = bearer(token, anna.professional_id)
    assert client.get(SIGNALS_URL, headers=headers).status_code == 200
    clock.advance(hours=2)
    response = client.get(SIGNALS_URL, headers=headers)
    assert_problem(response, 401)
    assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")


def test_an_expired_personal_token_is_a_401_problem(world: World, clock: FakeClock) -> None:
    anna = world.professional("Anna Jansen")
    assert anna.get(SIGNALS_URL).status_code == 200
    clock.advance(hours=2)
    assert_problem(anna.get(SIGNALS_URL), 401)


def _foreign_token(claims: dict[str, Any], kid: str) -> str:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return jwt.encode(claims, pem, algorithm="RS256", headers={"kid": kid})


@pytest.mark.parametrize("same_kid", [True, False], ids=["our-kid", "their-kid"])
def test_a_token_signed_with_another_rsa_key_is_a_401_problem(
    world: World, core: Core, client: FlaskClient, clock: FakeClock, same_kid: bool
) -> None:
    anna = world.professional("Anna Jansen")
    genuine = jwt.decode(anna.token, options={"verify_signature": False})
    kid = jwt.get_unverified_header(anna.token)["kid"] if same_kid else "someone-else"
    forged = _foreign_token({**genuine, "jti": str(uuid.uuid4())}, kid)
    response = client.get(SIGNALS_URL, headers=bearer(forged))
    assert_problem(response, 401)


def test_an_unsigned_token_is_a_401_problem(world: World, client: FlaskClient) -> None:
    anna = world.professional("Anna Jansen")
    claims = jwt.decode(anna.token, options={"verify_signature": False})
    kid = jwt.get_unverified_header(anna.token)["kid"]
    unsigned = jwt.encode(claims, "", algorithm="none", headers={"kid": kid})
    assert_problem(client.get(SIGNALS_URL, headers=bearer(unsigned)), 401)


def test_a_hs256_token_keyed_with_our_public_key_is_a_401_problem(
    world: World, core: Core, client: FlaskClient
) -> None:
    anna = world.professional("Anna Jansen")
    claims = jwt.decode(anna.token, options={"verify_signature": False})
    kid = jwt.get_unverified_header(anna.token)["kid"]

    # Algorithm confusion: pyjwt refuses a PEM as an HMAC key, so sign by hand.
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = b64(json.dumps(claims).encode())
    signature = hmac.new(
        core.keys.signing.public_pem, f"{head}.{payload}".encode(), hashlib.sha256
    ).digest()
    forged = f"{head}.{payload}.{b64(signature)}"
    assert_problem(client.get(SIGNALS_URL, headers=bearer(forged)), 401)


@pytest.mark.parametrize(
    "token", ["garbage", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30.", "Bearer x"], ids=repr
)
def test_a_malformed_token_is_a_401_problem(world: World, client: FlaskClient, token: str) -> None:
    world.professional("Anna Jansen")
    assert_problem(client.get(SIGNALS_URL, headers=bearer(token)), 401)


def test_a_token_with_another_issuer_is_a_401_problem(world: World, core: Core) -> None:
    anna = world.professional("Anna Jansen")
    claims = jwt.decode(anna.token, options={"verify_signature": False})
    kid = jwt.get_unverified_header(anna.token)["kid"]
    other_issuer = jwt.encode(
        {**claims, "iss": "https://evil.example"},
        core.keys.signing.private_pem,
        algorithm="RS256",
        headers={"kid": kid},
    )
    response = anna.http.get(SIGNALS_URL, headers=bearer(other_issuer))
    assert_problem(response, 401)


def test_a_token_that_is_not_valid_yet_is_a_401_problem(
    world: World, core: Core, clock: FakeClock
) -> None:
    anna = world.professional("Anna Jansen")
    future = clock.now + timedelta(hours=1)
    early = core.tokens.issue("personal", anna.professional_id, "verwijsindex-cli", future)
    assert_problem(anna.http.get(SIGNALS_URL, headers=bearer(early)), 401)


@pytest.mark.parametrize(
    "authorization", [None, "Basic YTpi", "Bearer", "Bearer ", "Token abc"], ids=repr
)
def test_no_bearer_token_on_signals_is_a_401_with_www_authenticate(
    world: World, client: FlaskClient, authorization: str | None
) -> None:
    world.professional("Anna Jansen")
    headers = {} if authorization is None else {"Authorization": authorization}
    for response in (
        client.get(SIGNALS_URL, headers=headers),
        client.post(SIGNALS_URL, json=signal_body(CHILD_BSN), headers=headers),
    ):
        assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_personal_token_for_an_unknown_professional_is_a_401_problem(
    world: World, core: Core
) -> None:
    anna = world.professional("Anna Jansen")
    stranger = core.tokens.issue("personal", uuid.uuid4(), "verwijsindex-cli", core.now())
    assert_problem(anna.http.get(SIGNALS_URL, headers=bearer(stranger)), 401)


def test_a_system_token_cannot_be_used_with_a_client_id_that_does_not_exist(
    world: World, core: Core
) -> None:
    anna = world.professional("Anna Jansen")
    fake_client = uuid.uuid4()
    token = core.tokens.issue("system", fake_client, str(fake_client), core.now())
    response = anna.http.get(SIGNALS_URL, headers=bearer(token, anna.professional_id))
    assert_problem(response, 401)


# --- roles ----------------------------------------------------------------------------------


def test_a_beheerder_without_the_professional_role_may_not_signal(world: World) -> None:
    admin = world.professional("Bea Beheer", roles=("beheerder",))
    response = admin.post(SIGNALS_URL, json=signal_body(CHILD_BSN))
    assert_problem(response, 403)
    both = world.professional("Piet Twee", roles=("professional", "beheerder"))
    assert both.post(SIGNALS_URL, json=signal_body(CHILD_BSN)).status_code == 201
