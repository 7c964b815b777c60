"""Enrolled members, their keys, seen token ids and the federation audit, for every mode.

The hub and the key holder enrol the members that may call them (`enrol`, `revoke`); a
region uses `remember_jti` for the assertions and tickets it accepts. All functions take
the caller's SQLAlchemy session and leave committing to it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from verwijsindex.federation.identity import load_public_pem, public_pem, thumbprint
from verwijsindex.models import (
    FederationAuditRow,
    FederationMemberKeyRow,
    FederationMemberRow,
    FederationSeenTokenRow,
)

MEMBER_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"


def enrol(session: Session, name: str, public_key_pem: str, url: str | None, now: datetime) -> str:
    """Enrol `name` (or add a key to it, for a key rotation); returns the key's kid.
    Re-enrolling a revoked member makes it active again with this key."""
    key = load_public_pem(public_key_pem)
    member = session.get(FederationMemberRow, name)
    if member is None:
        session.add(FederationMemberRow(name=name, url=url, created_at=now, revoked_at=None))
    else:
        member.revoked_at = None
        if url is not None:
            member.url = url
    kid = thumbprint(key)
    existing = session.get(FederationMemberKeyRow, kid)
    if existing is None:
        session.add(
            FederationMemberKeyRow(
                kid=kid, member=name, public_key=public_pem(key), created_at=now, revoked_at=None
            )
        )
    elif existing.member != name:
        raise ValueError("this key is enrolled for another member")
    else:
        existing.revoked_at = None
    session.flush()
    return kid


def revoke(session: Session, name: str, now: datetime, kid: str | None = None) -> bool:
    """Revoke one key of a member, or (no kid) the member and all its keys; False when
    there is no such member or key."""
    if kid is not None:
        result = session.execute(
            update(FederationMemberKeyRow)
            .where(FederationMemberKeyRow.member == name, FederationMemberKeyRow.kid == kid)
            .values(revoked_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
    member = session.get(FederationMemberRow, name)
    if member is None:
        return False
    member.revoked_at = now
    session.execute(
        update(FederationMemberKeyRow)
        .where(FederationMemberKeyRow.member == name, FederationMemberKeyRow.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return True


def key_lookup(session: Session) -> Callable[[str, str], Ed25519PublicKey | None]:
    """`key_of(member, kid)` for `identity.verify`: the key if member and key are active."""

    def key_of(member: str, kid: str) -> Ed25519PublicKey | None:
        row = session.execute(
            select(FederationMemberKeyRow.public_key)
            .join(FederationMemberRow, FederationMemberRow.name == FederationMemberKeyRow.member)
            .where(
                FederationMemberKeyRow.kid == kid,
                FederationMemberKeyRow.member == member,
                FederationMemberKeyRow.revoked_at.is_(None),
                FederationMemberRow.revoked_at.is_(None),
            )
        ).scalar_one_or_none()
        return load_public_pem(row) if row is not None else None

    return key_of


def member_url(session: Session, name: str) -> str | None:
    member = session.get(FederationMemberRow, name)
    return member.url if member is not None and member.revoked_at is None else None


def jti_memory(session: Session, now: datetime) -> Callable[[str, int], bool]:
    """`seen(jti, exp)` for `identity.verify`: records the jti; True if it was there."""

    def seen(jti: str, expires: int) -> bool:
        return not remember_jti(session, jti, datetime.fromtimestamp(expires, UTC), now)

    return seen


def remember_jti(session: Session, jti: str, expires_at: datetime, now: datetime) -> bool:
    """Record a token id until it expires; False if it was recorded before (a replay).
    Expired ids are swept on the way, so the table stays small."""
    session.execute(delete(FederationSeenTokenRow).where(FederationSeenTokenRow.expires_at < now))
    try:
        with session.begin_nested():
            session.add(FederationSeenTokenRow(jti=jti[:100], expires_at=expires_at))
    except IntegrityError:
        return False
    return True


def audit(
    session: Session, member: str | None, action: str, detail: dict[str, object], now: datetime
) -> None:
    """An entry in the hub's or key holder's audit (counts and names, never pseudonyms)."""
    session.add(
        FederationAuditRow(
            at=now, member=member, action=action, detail=json.dumps(detail, sort_keys=True)
        )
    )
