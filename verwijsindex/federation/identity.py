"""How federation members prove who they are (docs/federation.md, "Messages").

Every member (region, hub, key holder) has an Ed25519 signing key in its keys folder
(`federation_signing.pem`, made on first use, mode 0600). A call carries a client assertion:
a JWT signed with that key (NL GOV OAuth's `private_key_jwt`, RFC 7523), short-lived and
single-use. The hub additionally signs tickets: "region X may ask region Y about these
children", bound to X's key. Both are checked here; the callers keep the seen `jti`s.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SIGNING_KEY_FILE = "federation_signing.pem"
ASSERTION_LIFETIME_SECONDS = 60
TICKET_LIFETIME_SECONDS = 120
CLOCK_SKEW_SECONDS = 5
ALGORITHM = "EdDSA"


class NotAuthenticated(Exception):
    """A missing, malformed, expired, replayed, revoked or wrongly addressed token. The
    message is safe to show (it never quotes the token)."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_public_pem(text: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise ValueError("not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def thumbprint(key: Ed25519PublicKey) -> str:
    """RFC 7638 JWK thumbprint (SHA-256) of an Ed25519 key: its `kid`."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": b64url(raw)}
    canonical = json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode("ascii")
    return b64url(hashlib.sha256(canonical).digest())


@dataclass(frozen=True)
class Identity:
    """This member's name and signing key."""

    name: str
    key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.key.public_key()

    @property
    def kid(self) -> str:
        return thumbprint(self.public_key)

    def sign(self, claims: dict[str, Any], lifetime: int) -> str:
        now = int(time.time())
        body = {**claims, "iat": now, "exp": now + lifetime, "jti": secrets.token_urlsafe(18)}
        return jwt.encode(body, self.key, algorithm=ALGORITHM, headers={"kid": self.kid})

    def assertion(self, audience: str) -> str:
        """A client assertion for one call to `audience` (a member name)."""
        return self.sign(
            {"iss": self.name, "sub": self.name, "aud": audience}, ASSERTION_LIFETIME_SECONDS
        )

    def ticket(
        self,
        requester: str,
        requester_key: Ed25519PublicKey,
        target: str,
        children: Sequence[str],
    ) -> str:
        """Hub only: `requester` may ask `target` about `children` (federation pseudonyms).
        Bound to the requester's key (`cnf`: its JWK and thumbprint), so the target checks
        the request's own assertion with it and a stolen ticket is useless alone."""
        return self.sign(
            {
                "iss": self.name,
                "sub": requester,
                "aud": target,
                "children": list(children),
                "cnf": {"jkt": thumbprint(requester_key), "jwk": jwk_of(requester_key)},
            },
            TICKET_LIFETIME_SECONDS,
        )


def jwk_of(key: Ed25519PublicKey) -> dict[str, str]:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw)}


def key_from_jwk(jwk: object) -> Ed25519PublicKey:
    """The Ed25519 key of an OKP JWK (a ticket's `cnf.jwk`); ValueError if it is not one."""
    if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise ValueError("not an Ed25519 JWK")
    x = jwk.get("x")
    if not isinstance(x, str):
        raise ValueError("not an Ed25519 JWK")
    try:
        return Ed25519PublicKey.from_public_bytes(from_b64url(x))
    except ValueError:
        raise ValueError("not an Ed25519 JWK") from None


def signing_key(keys_dir: Path) -> Ed25519PrivateKey:
    """This installation's federation signing key, made on first use (mode 0600)."""
    path = keys_dir / SIGNING_KEY_FILE
    if not path.exists():
        keys_dir.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


@dataclass(frozen=True, slots=True)
class Verified:
    """The checked claims of a token and the `kid` it was signed with."""

    claims: dict[str, Any]
    kid: str


def verify(
    token: str,
    audience: str,
    key_of: Callable[[str, str], Ed25519PublicKey | None],
    seen: Callable[[str, int], bool],
) -> Verified:
    """Check a token signed by a member: `key_of(iss, kid)` gives that member's enrolled,
    unrevoked key (None: unknown or revoked); `seen(jti, exp)` records the jti and says
    whether it was seen before (a replay). Raises NotAuthenticated."""
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise NotAuthenticated("the token is not a JWT") from None
    kid, issuer = header.get("kid"), unverified.get("iss")
    if header.get("alg") != ALGORITHM or not isinstance(kid, str) or not isinstance(issuer, str):
        raise NotAuthenticated("the token must be EdDSA-signed with a kid and an iss")
    key = key_of(issuer, kid)
    if key is None:
        raise NotAuthenticated("the signing key is unknown or revoked")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            leeway=CLOCK_SKEW_SECONDS,
            options={"require": ["iss", "aud", "iat", "exp", "jti"]},
        )
    except jwt.ExpiredSignatureError:
        raise NotAuthenticated("the token has expired") from None
    except jwt.InvalidAudienceError:
        raise NotAuthenticated("the token is addressed to another member") from None
    except jwt.PyJWTError:
        raise NotAuthenticated("the token's signature or claims are invalid") from None
    if int(claims["exp"]) - int(claims["iat"]) > TICKET_LIFETIME_SECONDS:
        raise NotAuthenticated("the token lives too long")
    if seen(str(claims["jti"]), int(claims["exp"])):
        raise NotAuthenticated("the token was used before")
    return Verified(claims, kid)
