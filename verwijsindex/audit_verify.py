"""Verification of the audit chains: in full, or incrementally from a verified checkpoint,
and against the newest external anchors.

The chains alone (see `audit.py`) catch an edited, inserted or deleted record, but not a
chain (or the whole log) emptied, nor one rolled back to an earlier consistent state
together with its head row: both look like a shorter, intact chain. A signed checkpoint
kept outside the database (`audit_anchor.py`) says "chain c reached place N with MAC M",
for every chain; a chain that ends before N, or whose record N carries another MAC, was
truncated or rolled back.

The walk reads every head first (one statement: one snapshot) and then only the records up
to them, so records committed during a long walk (PostgreSQL, READ COMMITTED) are neither
half-seen nor reported missing. Each chain is read in batches of `VERIFY_BATCH` and the
batch expunged, so memory does not grow with the log.

Numbers in a `Verification`: `first_bad_seq` is the bad record's place in the whole log
(`audit_events.seq`, what the audit-log pages and the API show), or None when what is bad
is a missing record or head; `from_seq`, `to_seq` and `anchored_seq` count records over all
chains (`to_seq`: how many the walk reached).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from verwijsindex.audit import CHAINS, GENESIS, AuditLog, commitment
from verwijsindex.models import AuditEventRow, AuditHeadRow

VERIFY_BATCH = 5000
MAIN_CHAIN = 0  # the chain records written before there were several are in


@dataclass(frozen=True, slots=True)
class ChainPoint:
    """A position in a chain as a head or checkpoint names it: "chain `chain` reached place
    `seq` with MAC `mac`". `source` says where the claim comes from, for the reasons given."""

    seq: int
    mac: str
    source: str = "the starting point"
    chain: int = MAIN_CHAIN


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    checked: int
    first_bad_seq: int | None = None  # the bad record's place in the whole log
    reason: str | None = None
    from_seq: int = 1  # records before the walk's start over all chains, plus one (1: full)
    to_seq: int = 0  # records up to the heads the walk ended at, over all chains
    heads: tuple[ChainPoint, ...] = ()  # the head of every chain the walk ended at
    anchored_seq: int | None = None  # records the newest anchors vouch for, over all chains
    first_bad_chain: int | None = None


class _Broken(Exception):
    def __init__(self, checked: int, chain: int, reason: str, bad_seq: int | None = None):
        super().__init__(reason)
        self.checked, self.chain, self.reason, self.bad_seq = checked, chain, reason, bad_seq


def verify_chain(
    log: AuditLog,
    session: Session,
    *,
    start: Sequence[ChainPoint] | None = None,
    anchor: Sequence[ChainPoint] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Verification:
    """Check every chain's records after its point in `start` (all of them when absent) up
    to its head, and each chain against its point in `anchor`, the newest checkpoints known
    to be signed by this service.

    An incremental walk (with `start`) trusts what came before its starting points: an edit
    there is found only by a full walk.
    """
    starts = {p.chain: p for p in start or ()}
    anchors = {p.chain: p for p in anchor or ()}
    from_seq = sum(p.seq for p in starts.values()) + 1
    anchored = sum(p.seq for p in anchors.values()) if anchor is not None else None
    walk = _Walk(log, session, progress)
    try:
        heads = walk.heads()
        for chain in sorted(set(heads) | set(anchors) | set(starts)):
            head = heads.get(chain, ChainPoint(0, GENESIS, "the head", chain))
            for point in (anchors.get(chain), starts.get(chain)):
                if point is not None and point.seq > head.seq:
                    raise _Broken(0, chain, _truncated(head, point))
            begin = starts.get(chain)
            if begin is not None and begin.seq > 0 and walk.mac_at(begin) != begin.mac:
                raise _Broken(0, chain, _rolled_back(begin))
        for chain in sorted(heads):
            walk.chain(starts.get(chain, ChainPoint(0, GENESIS, chain=chain)), heads[chain])
        for point in anchors.values():
            if point.seq > 0 and walk.mac_at(point) != point.mac:
                raise _Broken(walk.checked, point.chain, _rolled_back(point))
    except _Broken as broken:
        return Verification(
            False,
            broken.checked,
            broken.bad_seq,
            broken.reason,
            from_seq,
            anchored_seq=anchored,
            first_bad_chain=broken.chain,
        )
    ends = tuple(heads[c] for c in sorted(heads))
    to_seq = sum(p.seq for p in ends)
    return Verification(True, walk.checked, None, None, from_seq, to_seq, ends, anchored)


class _Walk:
    def __init__(
        self, log: AuditLog, session: Session, progress: Callable[[int], None] | None
    ) -> None:
        self.log, self.session, self.progress = log, session, progress
        self.checked = 0

    def heads(self) -> dict[int, ChainPoint]:
        """Every chain's head, its MAC checked; a chain with records but no head is broken."""
        rows = self.session.execute(
            select(AuditHeadRow.chain, AuditHeadRow.seq, AuditHeadRow.mac, AuditHeadRow.head_mac)
        ).all()
        heads: dict[int, ChainPoint] = {}
        for chain, seq, mac, head_mac in sorted(rows):
            if not hmac.compare_digest(head_mac, self.log.head_mac(chain, seq, mac)):
                raise _Broken(0, chain, f"the chain's head record was altered (chain {chain})")
            heads[chain] = ChainPoint(seq, mac, "the head", chain)
        known = set(range(CHAINS)) | set(heads)
        headless: list[int | None] = [
            self.session.scalar(
                select(AuditEventRow.chain).where(AuditEventRow.chain == chain).limit(1)
            )
            for chain in sorted(known - set(heads))
        ]
        headless.append(
            self.session.scalar(
                select(AuditEventRow.chain)
                .where(or_(AuditEventRow.chain < 0, AuditEventRow.chain > max(known)))
                .limit(1)
            )
        )
        for orphaned in headless:
            if orphaned is not None:
                raise _Broken(0, orphaned, f"the chain's head record is missing (chain {orphaned})")
        return heads

    def chain(self, begin: ChainPoint, head: ChainPoint) -> None:
        chain = head.chain
        expected, prev = begin.seq + 1, begin.mac
        for row in self._rows_in_order(chain, begin.seq, head.seq):
            problem = _check(self.log, row, expected, prev)
            if problem:
                raise _Broken(self.checked, chain, f"{problem} (chain {chain})", row.seq)
            self.checked += 1
            expected, prev = row.chain_seq + 1, row.mac
        if expected - 1 != head.seq or prev != head.mac:
            raise _Broken(
                self.checked,
                chain,
                f"records after seq {expected - 1} are missing (the head says {head.seq}) "
                f"(chain {chain})",
            )

    def mac_at(self, point: ChainPoint) -> str | None:
        return self.session.scalar(
            select(AuditEventRow.mac).where(
                AuditEventRow.chain == point.chain, AuditEventRow.chain_seq == point.seq
            )
        )

    def _rows_in_order(self, chain: int, after: int, until: int) -> Iterator[AuditEventRow]:
        last = after
        while last < until:
            batch = list(
                self.session.scalars(
                    select(AuditEventRow)
                    .where(
                        AuditEventRow.chain == chain,
                        AuditEventRow.chain_seq > last,
                        AuditEventRow.chain_seq <= until,
                    )
                    .order_by(AuditEventRow.chain_seq)
                    .limit(VERIFY_BATCH)
                )
            )
            if not batch:
                return
            yield from batch
            last = batch[-1].chain_seq
            self.session.expunge_all()
            if self.progress is not None:
                self.progress(self.checked)


def _truncated(head: ChainPoint, point: ChainPoint) -> str:
    return (
        f"the log ends at seq {head.seq} but {point.source} vouches for seq {point.seq}: "
        f"records were removed (truncated or rolled back) (chain {head.chain})"
    )


def _rolled_back(point: ChainPoint) -> str:
    return (
        f"record {point.seq} is missing or differs from {point.source}: "
        f"the log was rolled back or rewritten (chain {point.chain})"
    )


def _check(log: AuditLog, row: AuditEventRow, expected: int, prev: str) -> str | None:
    if row.chain_seq != expected:
        return f"seq {expected} is missing" if row.chain_seq > expected else "seq out of order"
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
