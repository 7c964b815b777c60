"""Access tokens: RS256 JWTs signed with the key in `keys/` (contract section 4)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest

from verwijsindex.crypto import SigningKey, ensure_keys, load_keys
from verwijsindex.tokens import LEEWAY_SECONDS, InvalidToken, TokenAuthority

ISSUER = "https://verwijsindex.example.org"
LIFETIME = timedelta(hours=1)
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
SUBJECT = uuid.UUID("6f1c1a8e-8f3e-4d2c-9d7e-1b2a3c4d5e6f")


def _signing_key(directory: Path) -> SigningKey:
    ensure_keys(directory)
    return load_keys(directory).signing


@pytest.fixture(scope="module")
def signing(tmp_path_factory: pytest.TempPathFactory) -> SigningKey:
    return _signing_key(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def foreign_signing(tmp_path_factory: pytest.TempPathFactory) -> SigningKey:
    return _signing_key(tmp_path_factory.mktemp("foreign-keys"))


@pytest.fixture
def authority(signing: SigningKey) -> TokenAuthority:
    return TokenAuthority(signing, ISSUER, LIFETIME)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unsigned_parts(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


def _claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": str(SUBJECT),
        "azp": "school-system",
        "kind": "system",
        "iat": int(NOW.timestamp()),
        "nbf": int(NOW.timestamp()),
        "exp": int((NOW + LIFETIME).timestamp()),
        "jti": str(uuid.uuid4()),
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _signed_by(signing: SigningKey, claims: dict[str, Any], kid: str | None = None) -> str:
    """A well-formed RS256 token with any claims, signed with `signing`'s private key."""
    return jwt.encode(
        claims, signing.private_pem, algorithm="RS256", headers={"kid": kid or signing.kid}
    )


# --- round trip -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "azp"), [("system", "school-system"), ("personal", "verwijsindex-cli")]
)
def test_an_issued_token_verifies_to_what_was_issued(
    authority: TokenAuthority, kind: Any, azp: str
) -> None:
    token = authority.issue(kind, SUBJECT, azp, NOW)
    claims = authority.verify(token, NOW)
    assert claims.kind == kind
    assert claims.subject == SUBJECT
    assert claims.authorized_party == azp
    assert claims.expires_at == NOW + LIFETIME


def test_an_issued_token_carries_the_profile_claims_and_kid(
    authority: TokenAuthority, signing: SigningKey
) -> None:
    token = authority.issue("system", SUBJECT, "school-system", NOW)
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header["alg"] == "RS256"
    assert header["kid"] == signing.kid
    assert {"iss", "azp", "exp", "jti"} <= claims.keys()
    assert claims["exp"] - claims["iat"] <= 3600


def test_every_token_has_its_own_jti(authority: TokenAuthority) -> None:
    tokens = [authority.issue("system", SUBJECT, "s", NOW) for _ in range(3)]
    jtis = {jwt.decode(t, options={"verify_signature": False})["jti"] for t in tokens}
    assert len(jtis) == 3


def test_a_token_verifies_with_another_authority_on_the_same_key(signing: SigningKey) -> None:
    """Every gunicorn worker builds its own authority from the same key file."""
    token = TokenAuthority(signing, ISSUER, LIFETIME).issue("personal", SUBJECT, "cli", NOW)
    assert TokenAuthority(signing, ISSUER, LIFETIME).verify(token, NOW).subject == SUBJECT


# --- time -----------------------------------------------------------------------------------


def test_a_token_is_valid_up_to_its_expiry_plus_the_leeway(authority: TokenAuthority) -> None:
    token = authority.issue("system", SUBJECT, "s", NOW)
    authority.verify(token, NOW + LIFETIME + timedelta(seconds=LEEWAY_SECONDS))


@pytest.mark.parametrize("after_expiry", [timedelta(seconds=LEEWAY_SECONDS + 1), timedelta(days=1)])
def test_an_expired_token_is_refused(authority: TokenAuthority, after_expiry: timedelta) -> None:
    token = authority.issue("system", SUBJECT, "s", NOW)
    with pytest.raises(InvalidToken, match="expired"):
        authority.verify(token, NOW + LIFETIME + after_expiry)


def test_a_token_from_a_clock_slightly_ahead_is_accepted(authority: TokenAuthority) -> None:
    token = authority.issue("system", SUBJECT, "s", NOW)
    authority.verify(token, NOW - timedelta(seconds=LEEWAY_SECONDS))


def test_a_token_not_yet_valid_is_refused(authority: TokenAuthority) -> None:
    token = authority.issue("system", SUBJECT, "s", NOW)
    with pytest.raises(InvalidToken, match="not valid yet"):
        authority.verify(token, NOW - timedelta(seconds=LEEWAY_SECONDS + 1))


def test_a_token_without_an_integer_expiry_is_refused(
    authority: TokenAuthority, signing: SigningKey
) -> None:
    token = _signed_by(signing, _claims(exp="2099-01-01"))
    with pytest.raises(InvalidToken):
        authority.verify(token, NOW)


# --- who signed it --------------------------------------------------------------------------


def test_a_token_signed_by_another_key_is_refused(
    authority: TokenAuthority, foreign_signing: SigningKey
) -> None:
    foreign = TokenAuthority(foreign_signing, ISSUER, LIFETIME)
    token = foreign.issue("system", SUBJECT, "s", NOW)
    with pytest.raises(InvalidToken):
        authority.verify(token, NOW)


def test_a_token_signed_by_another_key_under_our_kid_is_refused(
    authority: TokenAuthority, signing: SigningKey, foreign_signing: SigningKey
) -> None:
    impostor = TokenAuthority(replace(foreign_signing, kid=signing.kid), ISSUER, LIFETIME)
    token = impostor.issue("system", SUBJECT, "s", NOW)
    assert jwt.get_unverified_header(token)["kid"] == signing.kid
    with pytest.raises(InvalidToken):
        authority.verify(token, NOW)


def test_a_token_with_an_edited_payload_is_refused(authority: TokenAuthority) -> None:
    header, _, signature = authority.issue("system", SUBJECT, "s", NOW).split(".")
    other_payload = _b64(json.dumps(_claims(sub=str(uuid.uuid4()))).encode())
    with pytest.raises(InvalidToken):
        authority.verify(f"{header}.{other_payload}.{signature}", NOW)


def test_a_token_without_kid_is_refused(authority: TokenAuthority, signing: SigningKey) -> None:
    token = jwt.encode(_claims(), signing.private_pem, algorithm="RS256")
    with pytest.raises(InvalidToken):
        authority.verify(token, NOW)


def test_an_unsigned_alg_none_token_is_refused(
    authority: TokenAuthority, signing: SigningKey
) -> None:
    token = _unsigned_parts({"alg": "none", "typ": "JWT", "kid": signing.kid}, _claims()) + "."
    with pytest.raises(InvalidToken):
        authority.verify(token, NOW)


def test_an_hs256_token_keyed_with_our_public_key_is_refused(
    authority: TokenAuthority, signing: SigningKey
) -> None:
    """Algorithm confusion: the public key is public, so an HMAC keyed with it is forgeable."""
    unsigned = _unsigned_parts({"alg": "HS256", "typ": "JWT", "kid": signing.kid}, _claims())
    mac = hmac.new(signing.public_pem, unsigned.encode(), hashlib.sha256).digest()
    with pytest.raises(InvalidToken):
        authority.verify(f"{unsigned}.{_b64(mac)}", NOW)


def test_a_token_signed_with_our_key_but_another_rsa_algorithm_is_refused(
    authority: TokenAuthority, signing: SigningKey
) -> None:
    token = jwt.encode(
        _claims(), signing.private_pem, algorithm="RS512", headers={"kid": signing.kid}
    )
    with pytest.raises(InvalidToken):
        authority.verify(token, NOW)


# --- what it says ---------------------------------------------------------------------------


def test_a_token_from_another_issuer_is_refused(signing: SigningKey) -> None:
    other = TokenAuthority(signing, "https://elsewhere.example.org", LIFETIME)
    token = other.issue("system", SUBJECT, "s", NOW)
    with pytest.raises(InvalidToken):
        TokenAuthority(signing, ISSUER, LIFETIME).verify(token, NOW)


@pytest.mark.parametrize("missing", ["iss", "sub", "azp", "exp", "jti", "kind"])
def test_a_token_missing_a_required_claim_is_refused(
    authority: TokenAuthority, signing: SigningKey, missing: str
) -> None:
    token = _signed_by(signing, _claims(**{missing: None}))
    with pytest.raises(InvalidToken):
        authority.verify(token, NOW)


def test_a_token_of_an_unknown_kind_is_refused(
    authority: TokenAuthority, signing: SigningKey
) -> None:
    with pytest.raises(InvalidToken, match="kind"):
        authority.verify(_signed_by(signing, _claims(kind="admin")), NOW)


def test_a_token_whose_subject_is_not_a_uuid_is_refused(
    authority: TokenAuthority, signing: SigningKey
) -> None:
    with pytest.raises(InvalidToken):
        authority.verify(_signed_by(signing, _claims(sub="professional-1")), NOW)


@pytest.mark.parametrize(
    "garbage",
    ["", "garbage", "a.b.c", "Bearer x.y.z", "....", "eyJhbGciOiJSUzI1NiJ9", "é.é.é"],
)
def test_a_garbage_token_is_refused(authority: TokenAuthority, garbage: str) -> None:
    with pytest.raises(InvalidToken):
        authority.verify(garbage, NOW)


def test_a_token_whose_header_is_not_an_object_is_refused(authority: TokenAuthority) -> None:
    token = f"{_b64(b'[1, 2]')}.{_b64(json.dumps(_claims()).encode())}.c2ln"
    with pytest.raises(InvalidToken):
        authority.verify(token, NOW)
