"""Access tokens: RS256 JWTs signed with the key in `keys/` (NL GOV OAuth profile).

Two kinds, told apart by the `kind` claim:

- `system`: issued to a school or care system by the client-credentials grant; it acts for
  one professional of its own organisation, named per request in `X-Professional-Id`;
- `personal`: printed by `verwijsindex token` for development and tests; it acts for the
  professional in `sub`, as if that header were given.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from verwijsindex.crypto import SigningKey

TokenKind = Literal["system", "personal"]
PERSONAL_AZP = "verwijsindex-cli"
LEEWAY_SECONDS = 30  # clock skew tolerated between issuer and verifier


def installation_issuer(signing: SigningKey) -> str:
    """The default `iss`: named after the signing key, so stable for an installation.

    Not the base URL: `serve` derives that from the host and port it listens on, and a token
    from `verwijsindex token` must be accepted by `serve` on any address with the same keys
    and database (contract section 4). Only this key can sign a token we accept anyway; a
    new key (and so a new issuer) ends every token signed with the old one.
    """
    return f"urn:verwijsindex:issuer:{signing.kid}"


class InvalidToken(Exception):
    """Expired, malformed or not signed by us. The message is safe to show."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    kind: TokenKind
    subject: uuid.UUID  # the client id (system) or the professional id (personal)
    authorized_party: str
    expires_at: datetime
    not_before: datetime


class TokenAuthority:
    def __init__(self, signing: SigningKey, issuer: str, lifetime: timedelta) -> None:
        self._signing = signing
        # Parse the public key once; verifying then costs one RSA public operation.
        self._public_key: Any = load_pem_public_key(signing.public_pem)
        self.issuer = issuer
        self.lifetime = lifetime

    def issue(self, kind: TokenKind, subject: uuid.UUID, azp: str, now: datetime) -> str:
        claims = {
            "iss": self.issuer,
            "sub": str(subject),
            "azp": azp,
            "kind": kind,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + self.lifetime).timestamp()),
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(
            claims, self._signing.private_pem, algorithm="RS256", headers={"kid": self._signing.kid}
        )

    def verify(self, token: str, now: datetime) -> TokenClaims:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("kid") != self._signing.kid:
                raise InvalidToken("The token was not signed by this service.")
            claims = jwt.decode(
                token,
                self._public_key,
                algorithms=["RS256"],
                issuer=self.issuer,
                # Times are checked below against the service's clock, which tests move.
                options={
                    "require": ["iss", "sub", "azp", "exp", "jti", "kind"],
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidTokenError:
            raise InvalidToken("The token is malformed or not signed by this service.") from None
        if not isinstance(claims["exp"], int) or not isinstance(claims.get("nbf", 0), int):
            raise InvalidToken("The token's times are malformed.")
        kind = claims["kind"]
        if kind not in ("system", "personal"):
            raise InvalidToken("The token is of an unknown kind.")
        try:
            subject = uuid.UUID(claims["sub"])
        except (ValueError, TypeError, AttributeError):
            raise InvalidToken("The token's subject is malformed.") from None
        verified = TokenClaims(
            kind=kind,
            subject=subject,
            authorized_party=str(claims["azp"]),
            expires_at=datetime.fromtimestamp(claims["exp"], tz=UTC),
            not_before=datetime.fromtimestamp(claims.get("nbf", 0), tz=UTC),
        )
        self.check_times(verified, now)
        return verified

    @staticmethod
    def check_times(claims: TokenClaims, now: datetime) -> None:
        """Against the service's clock (which tests move), with some skew allowed."""
        leeway = timedelta(seconds=LEEWAY_SECONDS)
        if now > claims.expires_at + leeway:
            raise InvalidToken("The token has expired.")
        if now + leeway < claims.not_before:
            raise InvalidToken("The token is not valid yet.")
