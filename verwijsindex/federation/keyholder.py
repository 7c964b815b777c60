"""The key holder (docs/federation.md, "Key holder"): OPRF key versions, evaluation of
blinded elements for enrolled members, rate-limited and audited, and re-key factors.

The secret scalars live in `keyholder_keys`, sealed with this installation's field key
(`aead.key`), so a copy of the database alone gives nobody `k_v`. Version 1 is made on
first use; `rotate` adds the next and makes it current. Every function takes the caller's
session and leaves committing to it; the audit records counts and versions, never an
element.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import rbcl
from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from verwijsindex.crypto import FieldCipher
from verwijsindex.federation import members, oprf
from verwijsindex.federation.identity import b64url, from_b64url
from verwijsindex.federation.problems import FederationProblem
from verwijsindex.federation.wire import bounded_list, decode_element
from verwijsindex.models import KeyholderKeyRow, KeyholderUsageRow

MAX_ELEMENTS = 1000
# Usage rows older than this are of no use to the rate limit; swept per member on the way.
USAGE_KEPT = timedelta(hours=1)


def _context(version: int) -> str:
    """Associated data of a sealed scalar: a sealed key copied to another version fails."""
    return f"keyholder_keys.secret_enc:{version}"


def _seal(cipher: FieldCipher, version: int, scalar: bytes) -> bytes:
    return cipher.encrypt(b64url(scalar), _context(version))


def _unseal(cipher: FieldCipher, row: KeyholderKeyRow) -> bytes:
    return from_b64url(cipher.decrypt(row.secret_enc, _context(row.version)))


def _add_version(session: Session, cipher: FieldCipher, version: int, now: datetime) -> bool:
    """Insert key `version`; False if another process made it first (several workers
    starting at once all try to make version 1)."""
    try:
        with session.begin_nested():
            session.add(
                KeyholderKeyRow(
                    version=version,
                    secret_enc=_seal(cipher, version, oprf.random_key()),
                    created_at=now,
                )
            )
    except IntegrityError:
        return False
    return True


def current_key(session: Session, cipher: FieldCipher, now: datetime) -> tuple[int, bytes]:
    """The current (highest) key version and its scalar; version 1 is made on first use."""
    row = session.execute(
        select(KeyholderKeyRow).order_by(KeyholderKeyRow.version.desc()).limit(1)
    ).scalar_one_or_none()
    if row is None:
        _add_version(session, cipher, 1, now)
        row = session.get(KeyholderKeyRow, 1)
        assert row is not None
    return row.version, _unseal(cipher, row)


def key_of_version(session: Session, cipher: FieldCipher, version: int) -> bytes | None:
    row = session.get(KeyholderKeyRow, version)
    return _unseal(cipher, row) if row is not None else None


def versions(session: Session) -> list[tuple[int, datetime]]:
    rows = session.execute(
        select(KeyholderKeyRow.version, KeyholderKeyRow.created_at).order_by(
            KeyholderKeyRow.version
        )
    )
    return [(version, created) for version, created in rows]


def _count_usage(session: Session, member: str, minute: datetime, count: int) -> int:
    """Add `count` to the member's elements of this minute, atomically (several workers
    answer at once); returns the new total."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(KeyholderUsageRow).values(member=member, minute=minute, count=count)
    upsert = statement.on_conflict_do_update(
        index_elements=[KeyholderUsageRow.member, KeyholderUsageRow.minute],
        set_={"count": KeyholderUsageRow.count + statement.excluded.count},
    ).returning(KeyholderUsageRow.count)
    total: int = session.execute(upsert).scalar_one()
    return total


def _check_rate(
    session: Session, member: str, count: int, rate_per_minute: int, now: datetime
) -> None:
    minute = now.replace(second=0, microsecond=0)
    session.execute(
        delete(KeyholderUsageRow).where(
            KeyholderUsageRow.member == member, KeyholderUsageRow.minute < minute - USAGE_KEPT
        )
    )
    if _count_usage(session, member, minute, count) > rate_per_minute:
        wait = max(1, 60 - now.second)
        raise FederationProblem(
            429,
            f"More than {rate_per_minute} elements in a minute; try again later.",
            headers={"Retry-After": str(wait)},
        )


@dataclass(frozen=True, slots=True)
class Evaluation:
    key_version: int
    evaluated: list[str]


def parse_blinded(body: object) -> list[bytes]:
    """`{"blindedElements": [...]}`: 1 to 1000 canonical, non-identity elements."""
    if not isinstance(body, dict):
        raise FederationProblem(400, "The body must be a JSON object.")
    items = bounded_list(body.get("blindedElements"), "blindedElements", 1, MAX_ELEMENTS)
    return [decode_element(item, f"blindedElements[{i}]") for i, item in enumerate(items)]


def evaluate(
    session: Session,
    cipher: FieldCipher,
    member: str,
    blinded: list[bytes],
    rate_per_minute: int,
    now: datetime,
) -> Evaluation:
    """`k_v · B` for each blinded element under the current key version, after counting
    them against the member's rate. Raises FederationProblem (429) over the rate; the
    caller rolls back and audits the refusal."""
    _check_rate(session, member, len(blinded), rate_per_minute, now)
    version, key = current_key(session, cipher, now)
    evaluated = [b64url(oprf.blind_evaluate(key, element)) for element in blinded]
    members.audit(
        session, member, "keyholder:evaluate", {"count": len(blinded), "keyVersion": version}, now
    )
    return Evaluation(version, evaluated)


def rekey_factor(
    session: Session, cipher: FieldCipher, member: str, old: int, new: int, now: datetime
) -> str:
    """`k_new · k_old⁻¹` (base64url scalar) for a member re-keying its pseudonyms; 404 when
    either version does not exist."""
    current_key(session, cipher, now)  # version 1 exists once anyone asks
    old_key, new_key = key_of_version(session, cipher, old), key_of_version(session, cipher, new)
    if old_key is None or new_key is None:
        raise FederationProblem(404, "There is no such key version.")
    factor = oprf.rekey_factor(old_key, new_key)
    members.audit(session, member, "keyholder:rekey", {"from": old, "to": new}, now)
    return b64url(factor)


def rotate(session: Session, cipher: FieldCipher, now: datetime) -> int:
    """Make key version v+1 and current; returns it. Regions and the hub then re-key."""
    current, _ = current_key(session, cipher, now)
    if not _add_version(session, cipher, current + 1, now):
        raise FederationProblem(409, "Another rotation made this version at the same time.")
    members.audit(session, None, "keyholder:rotate", {"keyVersion": current + 1}, now)
    return current + 1


def usage_this_minute(session: Session, now: datetime) -> dict[str, int]:
    minute = now.replace(second=0, microsecond=0)
    rows = session.execute(
        select(KeyholderUsageRow.member, func.sum(KeyholderUsageRow.count))
        .where(KeyholderUsageRow.minute == minute)
        .group_by(KeyholderUsageRow.member)
    )
    return {member: int(total) for member, total in rows}


def check_scalar(text: str) -> bytes:
    """A factor received from the key holder: 32 bytes, reduced, not zero."""
    raw = from_b64url(text)
    if len(raw) != oprf.SCALAR_BYTES or int.from_bytes(raw, "little") >= oprf.ORDER:
        raise ValueError("not a ristretto255 scalar")
    if int.from_bytes(raw, "little") == 0:
        raise ValueError("zero scalar")
    return bytes(rbcl.crypto_core_ristretto255_scalar_reduce(raw + bytes(32)))
