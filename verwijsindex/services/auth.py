"""Who is calling: client-credentials tokens, personal tokens, and the acting professional."""

from __future__ import annotations

import hmac
import re
import uuid
from dataclasses import dataclass, replace

from verwijsindex.audit import AuditEntry, Who
from verwijsindex.domain import Forbidden, Unauthenticated
from verwijsindex.services.admin import hash_client_secret
from verwijsindex.services.core import Actor, Core
from verwijsindex.services.standing import SYSTEM_TOKEN_ROLES
from verwijsindex.tokens import PERSONAL_AZP, InvalidToken, TokenClaims


class InvalidClient(Exception):
    """Unknown client, wrong secret or revoked: deliberately indistinguishable."""


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int


def token_for_client(core: Core, client_id: str, client_secret: str) -> IssuedToken:
    try:
        parsed = uuid.UUID(client_id)
    except ValueError:
        raise InvalidClient from None
    with core.transaction(write=False) as tx:
        client = tx.people.system_client(parsed)
    expected = client.secret_hash if client else hash_client_secret("")
    matches = hmac.compare_digest(expected, hash_client_secret(client_secret))
    if client is None or client.revoked or not matches:
        raise InvalidClient
    token = core.tokens.issue("system", client.id, str(client.id), core.now())
    return IssuedToken(token, core.settings.token_lifetime_seconds)


def personal_token(core: Core, professional_id: uuid.UUID) -> str:
    """A personal token, unaudited and unrestricted: for tests and the demo's own people.
    Whatever hands a token to a person uses `issue_personal_token`."""
    with core.transaction(write=False) as tx:
        professional = tx.people.professional(professional_id)
    if professional is None or not professional.active or professional.organisation.is_remote:
        raise Unauthenticated("No active professional with that id.")
    return core.tokens.issue("personal", professional.id, PERSONAL_AZP, core.now())


TOKEN_ISSUE = AuditEntry("token:issue", "professional")


def issue_personal_token(
    core: Core, professional_id: uuid.UUID, *, allow_oversight: bool = False
) -> str:
    """`verwijsindex token`: a personal token, on the audit record (`cli:token:issue`).

    A personal token skips the web UI's second factor, so for a person holding an oversight
    role (beheerder, privacy officer, ...) it is refused unless `allow_oversight` says the
    operator means it; the refusal is on record too.
    """
    entry = replace(TOKEN_ISSUE, object_id=professional_id)
    with core.transaction(write=True) as tx:
        professional = tx.people.professional(professional_id)
        # A mirrored professional of another region (federation) logs in there, not here.
        if professional is None or not professional.active or professional.organisation.is_remote:
            raise Unauthenticated("No active professional with that id.")
        oversight = professional.roles - SYSTEM_TOKEN_ROLES
        if oversight and not allow_oversight:
            refused = Forbidden(
                "This professional holds the role(s) "
                + ", ".join(sorted(r.value for r in oversight))
                + ", which a personal token would carry without a second factor; "
                "pass --allow-oversight if that is what you mean."
            )
        else:
            token = core.tokens.issue("personal", professional.id, PERSONAL_AZP, core.now())
            tx.record(entry)
            tx.commit()
            return token
    core.record_denied(None, entry)
    raise refused


_NO_ACTOR = "X-Professional-Id must name an active professional of this system's organisation."


# The canonical hyphenated form only: uuid.UUID() would also take braces, `urn:uuid:` and
# no hyphens, and an id should have one spelling (in caches, logs and audit records alike).
_CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def authenticate(core: Core, bearer: str, professional_header: str | None) -> Actor:
    """The actor for a bearer token; every failure is a 401 with a safe message.

    The actor is cached per token and header; `Core.transaction` confirms its standing in
    every use case, so the cache never outlives a deactivation or revocation.
    """
    try:
        claims = core.auth_cache.claims(core.tokens, bearer, core.now())
    except InvalidToken as error:
        raise Unauthenticated(str(error)) from None
    header = professional_header if claims.kind == "system" else None
    if header and not _CANONICAL_UUID.fullmatch(header):
        raise Unauthenticated(_NO_ACTOR)
    key = (f"{claims.kind}:{claims.subject}", header)
    actor = core.auth_cache.actor(key)
    if actor is None:
        actor = _resolve(core, claims, header)
        core.auth_cache.remember(key, actor)
    return actor


def _resolve(core: Core, claims: TokenClaims, professional_header: str | None) -> Actor:
    with core.transaction(write=False) as tx:
        if claims.kind == "personal":
            professional = tx.people.professional(claims.subject)
            if professional is None or not professional.active:
                raise Unauthenticated("The token's professional is no longer active.")
            return Actor.through_personal_token(professional)
        client = tx.people.system_client(claims.subject)
        if client is None or client.revoked:
            raise Unauthenticated("The system client has been revoked.")
        if not professional_header:
            raise Unauthenticated("A system token needs the header X-Professional-Id.")
        try:
            professional_id = uuid.UUID(professional_header)
        except ValueError:
            raise Unauthenticated(_NO_ACTOR) from None
        professional = tx.people.professional(professional_id)
        if (
            professional is None
            or not professional.active
            or professional.organisation.id != client.organisation_id
        ):
            raise Unauthenticated(_NO_ACTOR)
        return Actor.through_system(professional, client.id)


@dataclass(frozen=True, slots=True)
class SystemCaller:
    """A system client acting for itself, not for a professional (e.g. its webhooks)."""

    client_id: uuid.UUID
    organisation_id: uuid.UUID

    @property
    def who(self) -> Who:
        return Who(None, self.client_id, ("system",), "system")


def authenticate_system(core: Core, bearer: str) -> SystemCaller:
    """The system client behind a client-credentials token; personal tokens are refused."""
    try:
        claims = core.auth_cache.claims(core.tokens, bearer, core.now())
    except InvalidToken as error:
        raise Unauthenticated(str(error)) from None
    if claims.kind != "system":
        raise Forbidden("Only a system client (client-credentials token) can do this.")
    with core.transaction(write=False) as tx:
        client = tx.people.system_client(claims.subject)
    if client is None or client.revoked:
        raise Unauthenticated("The system client has been revoked.")
    return SystemCaller(client.id, client.organisation_id)
