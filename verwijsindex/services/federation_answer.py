"""Answering another region's `POST /federation/v1/participants` (docs/federation.md,
"Region to region").

The caller brings a ticket from the hub (`Federation-Ticket`) and its own client assertion.
The ticket is checked with the hub's public key (`VERWIJSINDEX_FEDERATION_HUB_KEY`): issued
by the hub, addressed to this region, naming the children that may be asked about, and
bound to the requester's key (`cnf`). The assertion must be signed with exactly that key
(`kid` = `cnf.jkt`) by the region the ticket was issued to. Both `jti`s are remembered
until they expire (replay). Any failure is one 401, saying no more than which check failed.

The answer lists this region's **own** active and archived signals on those children (never
mirrored ones, never a birth date, gemeente, own reference, informatieplicht or local
pseudonym); each signal's `ref`, professional and organisation ids are keyed digests, stable
but opaque. The request is audited (`federation:answer`: which region, which signals).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from verwijsindex.audit import AuditEntry, Who
from verwijsindex.domain import InvalidInput, NotFound, Problem, Unauthenticated, local_date
from verwijsindex.federation.identity import (
    NotAuthenticated,
    key_from_jwk,
    load_public_pem,
    thumbprint,
    verify,
)
from verwijsindex.federation.members import jti_memory
from verwijsindex.repository.federation import open_contact
from verwijsindex.services.core import Core

MAX_CHILDREN = 1000
_ELEMENT = re.compile(r"^[A-Za-z0-9_-]{43}$")


def _hub_key(core: Core) -> Ed25519PublicKey:
    path = core.federation.hub_key_file
    if path is None:
        raise Unauthenticated("This region has no hub key configured to check tickets with.")
    try:
        return load_public_pem(path.read_text(encoding="ascii"))
    except (OSError, ValueError):
        raise Unauthenticated("This region cannot read the hub's key.") from None


def children_of(body: object) -> list[str]:
    """The request's children: 1 to 1000 federation pseudonyms. Raises InvalidInput."""
    children = body.get("children") if isinstance(body, dict) else None
    if (
        not isinstance(children, list)
        or not 1 <= len(children) <= MAX_CHILDREN
        or not all(isinstance(c, str) and _ELEMENT.match(c) for c in children)
    ):
        raise InvalidInput(
            [Problem("children", "1 to 1000 federation pseudonyms (base64url, 43 characters).")]
        )
    extra = set(body) - {"children"} if isinstance(body, dict) else set()
    if extra:
        raise InvalidInput([Problem("body", "Only `children` is allowed.")])
    return list(dict.fromkeys(children))


def answer_participants(
    core: Core, authorization: str | None, ticket: str | None, body: object
) -> dict[str, Any]:
    """Check the ticket and the assertion, then list the participants. Raises
    Unauthenticated (401), InvalidInput (400) or NotFound (federation off)."""
    settings = core.federation
    if not settings.region_enabled or settings.name is None:
        raise NotFound("This installation does not federate.")
    own_name = settings.name
    assertion = (authorization or "").removeprefix("Bearer ").strip()
    if not assertion or not authorization or not authorization.startswith("Bearer "):
        raise Unauthenticated("A client assertion (Authorization: Bearer) is required.")
    if not ticket:
        raise Unauthenticated("A Federation-Ticket from the hub is required.")
    hub_key = _hub_key(core)
    hub_kid = thumbprint(hub_key)
    with core.transaction(write=True) as tx:
        tx.federation = False
        seen = jti_memory(tx.uow.session, tx.now)
        try:
            checked = verify(
                ticket,
                own_name,
                lambda iss, kid: hub_key if iss == settings.hub_name and kid == hub_kid else None,
                seen,
            )
            claims = checked.claims
            requester, cnf = claims.get("sub"), claims.get("cnf")
            allowed = claims.get("children")
            if not isinstance(requester, str) or not isinstance(cnf, dict):
                raise NotAuthenticated("the ticket names no requester or key")
            if not isinstance(allowed, list):
                raise NotAuthenticated("the ticket names no children")
            try:
                key = key_from_jwk(cnf.get("jwk"))
            except ValueError:
                raise NotAuthenticated("the ticket's key is not an Ed25519 JWK") from None
            kid = thumbprint(key)
            if cnf.get("jkt") != kid:
                raise NotAuthenticated("the ticket's key does not match its thumbprint")
            asked = verify(
                assertion,
                own_name,
                lambda iss, k: key if iss == requester and k == kid else None,
                seen,
            )
            if asked.claims.get("sub", requester) != requester:
                raise NotAuthenticated("the assertion's subject is not its issuer")
            # The body is read only for a caller who proved who it is.
            children = children_of(body)
            if not set(children) <= {c for c in allowed if isinstance(c, str)}:
                raise NotAuthenticated("the ticket does not name every child asked about")
        except NotAuthenticated as refused:
            raise Unauthenticated(f"Federation: {refused}.") from None
        shown = tx.federation_store.shown(children)
        participants = [_participant(core, tx.federation_store, s) for s in shown]
        tx.who = Who(None, None, (f"region:{requester}",))
        tx.record(AuditEntry("federation:answer", related_ids=[s.id for s in shown]))
        tx.commit()
    return {"participants": participants}


def _opaque(core: Core, kind: str, value: object) -> str:
    """A stable, opaque id for another region: a keyed digest, never the id itself."""
    return core.keys.lookup(f"federation-{kind}", str(value))[:43]


def _participant(core: Core, store: Any, shown: Any) -> dict[str, Any]:
    name, email, phone = open_contact(store, shown)
    since = shown.archived_at if shown.status == "archived" and shown.archived_at else None
    return {
        "ref": _opaque(core, "ref", shown.id),
        "child": shown.element,
        "status": shown.status,
        "since": local_date(since or shown.created_at).isoformat(),
        "professional": {
            "id": _opaque(core, "professional", shown.professional_id),
            "name": name,
            "email": email,
            "phone": phone,
        },
        "organisation": {
            "id": _opaque(core, "organisation", shown.organisation_id),
            "name": shown.organisation_name,
            "sector": shown.sector,
        },
    }


__all__: Sequence[str] = ("answer_participants", "children_of")
