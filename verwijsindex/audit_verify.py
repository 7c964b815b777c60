"""Verification of the audit chain: in full, or incrementally from a verified checkpoint,
and against the newest external anchor.

The chain alone (see `audit.py`) catches an edited, inserted or deleted record, but not a
log emptied as a whole, nor one rolled back to an earlier consistent state together with
its head row: both look like a shorter, intact chain. A signed checkpoint kept outside the
database (`audit_anchor.py`) says "the chain reached seq N with MAC M"; a log that ends
before N, or whose record N carries another MAC, was truncated or rolled back.

The walk reads the head first and then only the records up to it, so records committed
during a long walk (PostgreSQL, READ COMMITTED) are neither half-seen nor reported missing.
Records are read in batches and expunged, so memory does not grow with the log.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from verwijsindex.audit import GENESIS, HEAD_ID, AuditLog, commitment
from verwijsindex.models import AuditEventRow, AuditHeadRow

VERIFY_BATCH = 5000
MAIN_CHAIN = 0  # today the log is one chain; checkpoints already list chains by number


@dataclass(frozen=True, slots=True)
class ChainPoint:
    """A position in a chain as a checkpoint names it: "chain `chain` reached `seq` with
    MAC `mac`". `source` says where the claim comes from, for the reasons given."""

    seq: int
    mac: str
    source: str = "the starting point"
    chain: int = MAIN_CHAIN


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None
    from_seq: int = 1  # the first record walked (1: a full walk)
    to_seq: int = 0  # the head the walk ended at
    to_mac: str = GENESIS
    anchored_seq: int | None = None  # the newest anchor the log was compared with


def verify_chain(
    log: AuditLog,
    session: Session,
    *,
    start: ChainPoint | None = None,
    anchor: ChainPoint | None = None,
    progress: Callable[[int], None] | None = None,
) -> Verification:
    """Check the records after `start` (all of them when None) up to the head, and the log
    against `anchor`, the newest checkpoint known to be signed by this service.

    An incremental walk (with `start`) trusts what came before its starting point: an edit
    there is found only by a full walk.
    """
    begin = start or ChainPoint(0, GENESIS)
    anchored = anchor.seq if anchor else None

    def broken(checked: int, bad: int | None, reason: str) -> Verification:
        return Verification(False, checked, bad, reason, begin.seq + 1, anchored_seq=anchored)

    head = session.execute(
        select(AuditHeadRow.seq, AuditHeadRow.mac, AuditHeadRow.head_mac).where(
            AuditHeadRow.id == HEAD_ID
        )
    ).first()
    if head is None:
        if session.scalar(select(AuditEventRow.seq).limit(1)) is not None:
            return broken(0, None, "the chain's head record is missing")
        head_seq, head_mac = 0, GENESIS
    else:
        if not hmac.compare_digest(head.head_mac, log.head_mac(head.seq, head.mac)):
            return broken(0, head.seq, "the chain's head record was altered")
        head_seq, head_mac = head.seq, head.mac
    for point in (p for p in (anchor, start) if p is not None):
        if point.seq > head_seq:
            return broken(0, head_seq + 1, _truncated(head_seq, point))
    if start is not None and start.seq > 0 and _mac_at(session, start.seq) != start.mac:
        return broken(0, start.seq, _rolled_back(start))

    expected_seq, prev, checked = begin.seq + 1, begin.mac, 0
    for row in _rows_in_order(session, begin.seq, head_seq, progress):
        problem = _check(log, row, expected_seq, prev)
        if problem:
            return broken(checked, row.seq, problem)
        checked += 1
        expected_seq, prev = row.seq + 1, row.mac
    if expected_seq - 1 != head_seq or prev != head_mac:
        return broken(
            checked,
            expected_seq,
            f"records after seq {expected_seq - 1} are missing (the head says {head_seq})",
        )
    if anchor is not None and anchor.seq > 0 and _mac_at(session, anchor.seq) != anchor.mac:
        return broken(checked, anchor.seq, _rolled_back(anchor))
    return Verification(True, checked, None, None, begin.seq + 1, head_seq, head_mac, anchored)


def _truncated(head_seq: int, point: ChainPoint) -> str:
    return (
        f"the log ends at seq {head_seq} but {point.source} vouches for seq {point.seq}: "
        "records were removed (truncated or rolled back)"
    )


def _rolled_back(point: ChainPoint) -> str:
    return (
        f"record {point.seq} is missing or differs from {point.source}: "
        "the log was rolled back or rewritten"
    )


def _mac_at(session: Session, seq: int) -> str | None:
    return session.scalar(select(AuditEventRow.mac).where(AuditEventRow.seq == seq))


def _check(log: AuditLog, row: AuditEventRow, expected_seq: int, prev: str) -> str | None:
    if row.seq != expected_seq:
        return f"seq {expected_seq} is missing" if row.seq > expected_seq else "seq out of order"
    if row.prev_mac != prev:
        return "does not follow its predecessor (a record was removed or inserted)"
    values = {c.key: getattr(row, c.key) for c in AuditEventRow.__table__.columns}
    if not hmac.compare_digest(row.mac, log.record_mac(values)):
        return "its content was altered, or it was not written by this service"
    if row.subject_pseudonym is not None and (
        row.subject_salt is None
        or commitment(row.subject_salt, row.subject_pseudonym) != row.subject_commitment
    ):
        return "its data subject was altered"
    return None


def _rows_in_order(
    session: Session, after: int, until: int, progress: Callable[[int], None] | None
) -> Iterator[AuditEventRow]:
    last, seen = after, 0
    while last < until:
        batch = list(
            session.scalars(
                select(AuditEventRow)
                .where(AuditEventRow.seq > last, AuditEventRow.seq <= until)
                .order_by(AuditEventRow.seq)
                .limit(VERIFY_BATCH)
            )
        )
        if not batch:
            return
        yield from batch
        last = batch[-1].seq
        seen += len(batch)
        session.expunge_all()
        if progress is not None:
            progress(seen)
