"""Append-only, tamper-evident audit records, written in the caller's transaction.

Each record carries the NEN 7513 fields (what, when, outcome, who, on whose behalf, role,
which object, which data subject, request id, client address) and a MAC over its content
and its predecessor's MAC: HMAC-SHA256 chains keyed with `keys/audit.key`. A plain hash
chain would not do: whoever can edit the database could edit a record and recompute every
later hash. The kind of credential that acted (`Who.credential`) is covered too, when set.

The log is `CHAINS` independent chains rather than one, so that concurrent transactions
never wait on each other: a transaction locks the head row of one chain, appends its
records there and holds that row until it commits; another transaction picks a head that
nobody holds (PostgreSQL `FOR UPDATE SKIP LOCKED`), and waits only when all of them are
taken. SQLite writers are serial anyway. Within a chain, places (`chain_seq`) are
contiguous and the newest (place, MAC) is kept in the chain's MACed head row, so `verify`
notices an edited, inserted or deleted record, a chain's last one included. Every record
also has a place in the whole log (`seq`, ascending in append order, with gaps) for paging
and display; the MAC covers it too.

What the chains alone cannot notice is a chain (or the whole log) emptied, or rolled back
together with its head row to an earlier consistent state: signed checkpoints kept outside
the database, naming every chain's head, do (`audit_anchor.py`, `audit_verify.py`). A
deletion is therefore not detectable only in this window: records appended to a chain
after the newest checkpoint, removed together with the chain's head being set back (or
the chain removed whole, if it was empty at that checkpoint). Each checkpoint closes it.

Use cases buffer their entries and append them as the last step before commit, to keep
the head row held for as short as possible.
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

from sqlalchemy import (
    Connection,
    insert,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from verwijsindex.audit_statements import (
    APPEND_ON_POSTGRESQL,
    HEAD_OF_CHAIN,
    MOVE_HEAD,
    NEWEST_POSITION,
    RECORD_COLUMNS,
    TAKE_FREE_HEAD,
    WAIT_FOR_HEAD,
    TakenHead,
)
from verwijsindex.models import AuditEventRow, AuditHeadRow

if TYPE_CHECKING:
    from verwijsindex.audit_verify import Verification

GENESIS = "0" * 64
# How many chains records are spread over: at most this many transactions append at once
# without waiting. Heads are made on first use, so raising it needs no migration; lowering
# it would leave the records of the dropped chains unappended-to but still verified.
CHAINS = 16


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
    # The professional this one action was done for, when that is not the transaction's
    # `Who`: a bulk import or sync acts for each item's own professional while `Who` names
    # the system client (sync) or the service itself (CLI). Stored as the record's
    # `actor_id`, just as a system token with `X-Professional-Id` is (the client then in
    # `on_behalf_of`), so searching by actor finds it and the MAC covers it as it always
    # covered `actor_id`: nothing changes for records written before.
    on_behalf_of: uuid.UUID | None = None

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
        # here, and this runs on every request. Two round trips on PostgreSQL: take a free
        # head and number the records; write the records and move the head in one statement.
        connection = session.connection()
        head = self._take_head(connection, len(entries))
        context = request_context.get()
        rows = []
        seq, prev = head.seq, head.mac
        for position, entry in zip(head.positions, entries, strict=True):
            seq += 1
            rows.append(self._row(head.chain, seq, position, prev, entry, who, context, now))
            prev = str(rows[-1]["mac"])
        head_values = {
            "head_chain": head.chain,
            "head_seq": seq,
            "head_mac": prev,
            "head_head_mac": self._head_mac(head.chain, seq, prev),
        }
        if connection.dialect.name == "postgresql":
            columns = {name: [row[name] for row in rows] for name in RECORD_COLUMNS}
            connection.exec_driver_sql(APPEND_ON_POSTGRESQL, {**columns, **head_values})
        else:
            connection.execute(insert(AuditEventRow), rows)
            connection.execute(MOVE_HEAD, head_values)

    def _take_head(self, connection: Connection, count: int) -> TakenHead:
        """Lock the head of a chain no other open transaction holds, and `count` places in
        the whole log. The chain is tried from a random one on, so chains fill evenly."""
        start = secrets.randbelow(CHAINS)
        if connection.dialect.name != "postgresql":
            # SQLite: one writer at a time, so any chain is free and max + 1 is unique.
            head = connection.execute(HEAD_OF_CHAIN, {"chain": start}).first()
            if head is None:
                self._make_missing_heads(connection)
                head = connection.execute(HEAD_OF_CHAIN, {"chain": start}).first()
            assert head is not None
            top = int(connection.scalar(NEWEST_POSITION) or 0)
            return TakenHead(head.chain, head.seq, head.mac, range(top + 1, top + 1 + count))
        parameters = {"start": start, "count": count}
        taken = connection.execute(TAKE_FREE_HEAD, parameters).all()
        if not taken:
            # Either every head is held by an open transaction, or there are none yet (a
            # new or emptied log): make the missing ones, try once more, then wait.
            self._make_missing_heads(connection)
            taken = connection.execute(TAKE_FREE_HEAD, parameters).all()
            if not taken:
                taken = connection.execute(WAIT_FOR_HEAD, parameters).all()
        first = taken[0]
        return TakenHead(first.chain, first.seq, first.mac, sorted(r.position for r in taken))

    def _make_missing_heads(self, connection: Connection) -> None:
        """Every chain's head at its start (no record yet), unless it exists."""
        dialect: Any = postgresql if connection.dialect.name == "postgresql" else sqlite
        heads = [
            {"chain": c, "seq": 0, "mac": GENESIS, "head_mac": self._head_mac(c, 0, GENESIS)}
            for c in range(CHAINS)
        ]
        connection.execute(dialect.insert(AuditHeadRow).values(heads).on_conflict_do_nothing())

    def _row(
        self,
        chain: int,
        chain_seq: int,
        position: int,
        prev_mac: str,
        entry: AuditEntry,
        who: Who | None,
        context: RequestContext,
        now: datetime,
    ) -> dict[str, object]:
        salt = secrets.token_hex(16) if entry.subject else None
        values: dict[str, object] = {
            "seq": position,
            "chain": chain,
            "chain_seq": chain_seq,
            "occurred_at": now,
            "action": f"{context.source}:{entry.action}",
            "outcome": entry.outcome,
            "actor_id": entry.on_behalf_of or (who.professional_id if who else None),
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
        # `seq` in the MAC is the place in the chain. The chain and the place in the whole
        # log are covered when they differ from what a record written before revision 0007
        # has (chain 0, the same place in both): those keep their MAC, and the message
        # still differs for every (chain, place in chain, place in log).
        chain, chain_seq = int(str(values["chain"])), int(str(values["chain_seq"]))
        covered["seq"] = chain_seq
        if chain != 0:
            covered["chain"] = chain
        if int(str(values["seq"])) != chain_seq:
            covered["position"] = int(str(values["seq"]))
        if values.get("credential") is not None:
            # Only when set: records written before the column existed keep their MAC.
            covered["credential"] = _canonical(values["credential"])
        message = json.dumps(covered, sort_keys=True, separators=(",", ":")).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _head_mac(self, chain: int, seq: int, mac: str) -> str:
        # Chain 0 keeps the message of the single chain before revision 0007.
        message = f"head:{seq}:{mac}" if chain == 0 else f"head:{chain}:{seq}:{mac}"
        return hmac.new(self._key, message.encode(), hashlib.sha256).hexdigest()

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

    def head_mac(self, chain: int, seq: int, mac: str) -> str:
        """The MAC the head row of `chain` naming (seq, mac) must carry."""
        return self._head_mac(chain, seq, mac)


def commitment(salt: str, pseudonym: str) -> str:
    return hashlib.sha256(f"{salt}:{pseudonym}".encode()).hexdigest()


def _canonical(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value
