"""What a credential may carry, and whether a cached caller still stands as cached.

Two rules from contract section 4 live here, so that every use case gets them without
remembering them:

- a **system** token (client credentials) carries only the `professional` powers of the
  person it names: every other role (beheerder, privacy officer, and whatever oversight
  role comes next) acts only in person, through the web UI with its second factor or a
  personal token;
- deactivating a professional, revoking a system client or withdrawing a role takes effect
  on the very next request, although tokens are verified and callers resolved once and then
  cached: the use case's own transaction confirms the caller's standing with one indexed
  statement (`standing_of`).
"""

from __future__ import annotations

import enum
import uuid
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from verwijsindex.domain import Role
from verwijsindex.models import ProfessionalRow, SystemClientRow

# `system`: a client-credentials token; `personal`: a token from `verwijsindex token`;
# `web`: a password + TOTP session in the web UI.
Credential = Literal["system", "personal", "web"]

# Credentials resolved once and then cached between requests: their standing is confirmed
# again in every use case's transaction. (A web session is looked up on every request.)
CACHED_CREDENTIALS: frozenset[Credential] = frozenset({"system", "personal"})

# Everything a system token may act as. Listed by what is allowed, not by what is not, so
# that a new oversight role is withheld from system tokens without anyone remembering to.
SYSTEM_TOKEN_ROLES = frozenset({Role.PROFESSIONAL})


def withheld_from(credential: Credential | None, roles: frozenset[Role]) -> frozenset[Role]:
    """The roles a person holds that this credential may not act with."""
    return roles - SYSTEM_TOKEN_ROLES if credential == "system" else frozenset()


class Standing(enum.Enum):
    UNCHANGED = "unchanged"
    GAINED = "gained"  # a role was added since the caller was cached: harmless, refresh
    LOST = "lost"  # deactivated, revoked, moved, or a role withdrawn: refuse now


def standing_of(
    session: Session,
    professional_id: uuid.UUID,
    organisation_id: uuid.UUID,
    roles: frozenset[Role],
    client_id: uuid.UUID | None,
) -> Standing:
    """Compare a cached caller with the database, in one statement on primary keys.

    `roles` are all the roles the person held when cached (withheld ones included), so that
    a withdrawn beheerder role bites at once for a personal token too.
    """
    query = select(
        ProfessionalRow.active, ProfessionalRow.roles, ProfessionalRow.organisation_id
    ).where(ProfessionalRow.id == professional_id)
    if client_id is not None:
        # The client's row joins on its own key: still one statement, one row or none.
        query = query.join(
            SystemClientRow,
            (SystemClientRow.id == client_id)
            & SystemClientRow.revoked_at.is_(None)
            & (SystemClientRow.organisation_id == organisation_id),
        )
    row = session.execute(query).first()
    if row is None or not row.active or row.organisation_id != organisation_id:
        return Standing.LOST
    now_held = frozenset(Role(r) for r in row.roles.split())
    if not roles <= now_held:
        return Standing.LOST
    return Standing.UNCHANGED if roles == now_held else Standing.GAINED
