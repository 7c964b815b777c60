"""Append-only, tamper-evident audit records, written in the caller's transaction.

Each record carries the NEN 7513 fields (what, when, outcome, who, on whose behalf, role,
which object, which data subject, request id, client address) and a MAC over its content
and its predecessor's MAC: an HMAC-SHA256 chain keyed with `keys/audit.key`. A plain hash
chain would not do: whoever can edit the database could edit a record and recompute every
later hash. Sequence numbers are contiguous and the newest (seq, MAC) is kept in a MACed
head row, so `verify` notices an edited, inserted or deleted record, the last one included.
The kind of credential that acted (`Who.credential`) is covered too, when set.

What the chain alone cannot notice is the whole log emptied, or rolled back together with
its head row to an earlier consistent state: signed checkpoints kept outside the database
do (`audit_anchor.py`, `audit_verify.py`).

Appends are serialised (a PostgreSQL advisory lock held until commit; SQLite writers are
serial anyway), so concurrent writers still produce one unbroken chain. Use cases buffer
their entries and append them as the last step before commit, to keep that lock short.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from verwijsindex.models import AuditEventRow, AuditHeadRow

if TYPE_CHECKING:
    from verwijsindex.audit_verify import Verification

GENESIS = "0" * 64
HEAD_ID = 1
# A fixed advisory-lock number for the chain; person locks are spread over all 2^64 values.
AUDIT_LOCK_ID = 0x7665727769_6A73  # "verwijs"


class Outcome:
    SUCCESS = "success"
    DENIED = "denied"  # refused: not found for this caller, or not allowed


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Where the current action comes from; set per request by the API, per run by the CLI."""

    source: str = "internal"  # api | web | cli | maintenance | internal
    request_id: str | None = None
    client_address: str | None = None


request_context: ContextVar[RequestContext] = ContextVar(
    "verwijsindex_request_context",
    default=RequestContext(),  # noqa: B039 - frozen, so sharing the default is safe
)


@dataclass(frozen=True, slots=True)
class Who:
    """The actor as the audit log records it: ids and roles, never names."""

    professional_id: uuid.UUID | None
    client_id: uuid.UUID | None = None
    roles: tuple[str, ...] = ()
    # Which kind of credential acted: `system` (client-credentials token), `personal`
    # (a token from `verwijsindex token`), `web` (password + TOTP session), or None for
    # the service itself (CLI, maintenance, worker).
    credential: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One thing a use case did, as it asks for it to be recorded.

    `action` is `subject:verb` (e.g. `signal:create`); the source from the request context
    is put in front, giving warehouse-style tags like `api:signal:create`.
    """

    action: str
    object_type: str | None = None
    object_id: uuid.UUID | None = None
    subject: str | None = None  # the data subject's pseudonym
    related_ids: Sequence[uuid.UUID] = field(default_factory=tuple)
    outcome: str = Outcome.SUCCESS

    def denied(self) -> AuditEntry:
        """The same entry, recording that it was refused."""
        return replace(self, outcome=Outcome.DENIED)


class AuditLog:
    def __init__(self, key: bytes) -> None:
        self._key = key

    # --- writing ------------------------------------------------------------------------

    def append(
        self, session: Session, entries: Sequence[AuditEntry], who: Who | None, now: datetime
    ) -> None:
        if not entries:
            return
        # Core statements on the session's connection: the ORM's bookkeeping buys nothing
        # here, and this runs on every request. Two round trips on PostgreSQL: lock and read
        # the head row; write the records and the new head in one statement.
        connection = session.connection()
        postgres = connection.dialect.name == "postgresql"
        head = connection.execute(_HEAD_FOR_UPDATE).first()
        if head is None:
            # The very first append: there is no row to lock yet, so take a lock by number
            # and look again (another writer may have just created the head).
            if postgres:
                connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": AUDIT_LOCK_ID})
            head = connection.execute(_HEAD_FOR_UPDATE).first()
        seq, prev = (head.seq, head.mac) if head else (0, GENESIS)
        context = request_context.get()
        rows = []
        for entry in entries:
            seq += 1
            rows.append(self._row(seq, prev, entry, who, context, now))
            prev = str(rows[-1]["mac"])
        head_values = {"seq": seq, "mac": prev, "head_mac": self._head_mac(seq, prev)}
        records = insert(AuditEventRow).values(rows)
        if head is None:
            connection.execute(records)
            connection.execute(insert(AuditHeadRow).values(id=HEAD_ID, **head_values))
            return
        move_head = update(AuditHeadRow).where(AuditHeadRow.id == HEAD_ID).values(**head_values)
        if postgres:
            connection.execute(move_head.add_cte(records.cte("new_records")))
        else:
            connection.execute(records)
            connection.execute(move_head)

    def _row(
        self,
        seq: int,
        prev_mac: str,
        entry: AuditEntry,
        who: Who | None,
        context: RequestContext,
        now: datetime,
    ) -> dict[str, object]:
        salt = secrets.token_hex(16) if entry.subject else None
        values: dict[str, object] = {
            "seq": seq,
            "occurred_at": now,
            "action": f"{context.source}:{entry.action}",
            "outcome": entry.outcome,
            "actor_id": who.professional_id if who else None,
            "on_behalf_of": who.client_id if who else None,
            "roles": " ".join(sorted(who.roles)) if who and who.roles else None,
            "object_type": entry.object_type,
            "object_id": entry.object_id,
            "related_ids": " ".join(str(i) for i in entry.related_ids),
            "subject_pseudonym": entry.subject,
            "subject_salt": salt,
            "subject_commitment": commitment(salt, entry.subject)
            if entry.subject and salt
            else None,
            "request_id": context.request_id,
            "client_address": context.client_address,
            "credential": who.credential if who else None,
            "prev_mac": prev_mac,
        }
        values["mac"] = self._mac(values)
        return values

    def _mac(self, values: dict[str, object]) -> str:
        covered = {
            name: _canonical(values[name])
            for name in (
                "seq",
                "occurred_at",
                "action",
                "outcome",
                "actor_id",
                "on_behalf_of",
                "roles",
                "object_type",
                "object_id",
                "related_ids",
                "subject_commitment",
                "request_id",
                "client_address",
                "prev_mac",
            )
        }
        if values.get("credential") is not None:
            # Only when set: records written before the column existed keep their MAC.
            covered["credential"] = _canonical(values["credential"])
        message = json.dumps(covered, sort_keys=True, separators=(",", ":")).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _head_mac(self, seq: int, mac: str) -> str:
        return hmac.new(self._key, f"head:{seq}:{mac}".encode(), hashlib.sha256).hexdigest()

    # --- erasure --------------------------------------------------------------------------

    @staticmethod
    def forget_subject(session: Session, pseudonym: str) -> None:
        """Blank a data subject's pseudonym in every record (after their data is deleted).

        The chain stays verifiable: it covers the salted commitment, which cannot be linked
        back to the person without the pseudonym.
        """
        session.execute(
            update(AuditEventRow)
            .where(AuditEventRow.subject_pseudonym == pseudonym)
            .values(subject_pseudonym=None)
        )

    # --- verification ---------------------------------------------------------------------

    def verify(self, session: Session, **options: Any) -> Verification:
        """Walk the chain (see `audit_verify.verify_chain` for the options)."""
        from verwijsindex.audit_verify import verify_chain

        return verify_chain(self, session, **options)

    def record_mac(self, values: dict[str, object]) -> str:
        """The MAC a record with these column values must carry."""
        return self._mac(values)

    def head_mac(self, seq: int, mac: str) -> str:
        """The MAC the head row naming (seq, mac) must carry."""
        return self._head_mac(seq, mac)


_HEAD_FOR_UPDATE = (
    select(AuditHeadRow.seq, AuditHeadRow.mac).where(AuditHeadRow.id == HEAD_ID).with_for_update()
)


def commitment(salt: str, pseudonym: str) -> str:
    return hashlib.sha256(f"{salt}:{pseudonym}".encode()).hexdigest()


def _canonical(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value
