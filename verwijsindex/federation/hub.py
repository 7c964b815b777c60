"""The hub (docs/federation.md, "Hub"): pointers from federation pseudonyms to the regions
that hold signals on them, counterparts, tickets and notices.

Concurrency. Two regions publishing the same child (or children sharing a parent) at the
same moment must each learn of the other: the later one sees the earlier one's pointer in
its counterparts, and the earlier one gets a notice. Under READ COMMITTED that holds only
if the two publishes are serialised on what they share, so on PostgreSQL a publish first
takes transaction-scoped advisory locks on every pseudonym it touches (children, new and
old parents), in sorted order, before it reads counterparts; publishes about unrelated
children never wait for each other. SQLite serialises writers anyway (`BEGIN IMMEDIATE`,
see `db.py`). A rotation takes the one exclusive lock that publishes and sweeps take in
*shared* mode: they never wait for each other on it, only for a rotation in progress.

Every function takes the caller's session and leaves committing to it.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from verwijsindex.federation import members, oprf
from verwijsindex.federation.hub_messages import Holding
from verwijsindex.federation.identity import Identity, b64url, from_b64url
from verwijsindex.federation.problems import FederationProblem
from verwijsindex.models import (
    FederationMemberRow,
    FederationStateRow,
    HubHoldingParentRow,
    HubHoldingRow,
    HubNoticeRow,
)

KEY_VERSION_STATE = "hub_key_version"
NOTICE_PAGE = 1000
NOTICES_KEPT = timedelta(days=30)
SWEEP_BATCH = 500
REKEY_BATCH = 1000
# The rotation lock, in the two-key advisory space ("hu", 1): distinct from the one-key
# locks on pseudonyms below.
_ROTATION_LOCK = (0x6875, 1)
_LOCK_PSEUDONYMS = "SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(%(keys)b AS bigint[])) AS k"


@dataclass(frozen=True, slots=True)
class Counterpart:
    region: str
    url: str | None
    kind: str  # "client" | "family"
    child: str
    status: str
    via: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "url": self.url,
            "kind": self.kind,
            "child": self.child,
            "status": self.status,
            "via": list(self.via),
        }


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def lock_key(pseudonym: str) -> int:
    """A signed 64-bit advisory lock number for one federation pseudonym."""
    digest = hashlib.sha256(b"hub-lock:" + pseudonym.encode("ascii")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_pseudonyms(session: Session, pseudonyms: Iterable[str]) -> None:
    """Transaction-scoped advisory locks on these pseudonyms, in sorted order so that two
    publishes cannot deadlock; held until commit. No-op on SQLite (serial writers)."""
    keys = sorted({lock_key(p) for p in pseudonyms})
    if keys and _postgres(session):
        session.connection().exec_driver_sql(_LOCK_PSEUDONYMS, {"keys": keys})


def _share_rotation_lock(session: Session) -> None:
    if _postgres(session):
        session.execute(select(func.pg_advisory_xact_lock_shared(*_ROTATION_LOCK)))


def key_version(session: Session) -> int:
    value = session.execute(
        select(FederationStateRow.value).where(FederationStateRow.name == KEY_VERSION_STATE)
    ).scalar_one_or_none()
    return int(value) if value is not None else 1


def check_key_version(session: Session, version: int) -> None:
    current = key_version(session)
    if version != current:
        raise FederationProblem(
            409,
            f"The hub is at key version {current}; re-key your pseudonyms and publish again.",
            extra={"currentKeyVersion": current},
        )


# --- reading counterparts -------------------------------------------------------------------


def _own_parents(session: Session, region: str, children: Sequence[str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    if children:
        rows = session.execute(
            select(HubHoldingParentRow.child, HubHoldingParentRow.parent).where(
                HubHoldingParentRow.region == region, HubHoldingParentRow.child.in_(children)
            )
        )
        for child, parent in rows:
            found[child].add(parent)
    return found


def counterparts(
    session: Session, region: str, children: Sequence[str], now: datetime
) -> dict[str, list[Counterpart]]:
    """Per child of `region`: the same child held in other regions (`client`) and other
    regions' children sharing one of its parents (`family`), with the shared parents in
    `via`. Expired pointers and revoked regions are left out. Three indexed queries."""
    if not children:
        return {}
    parents = _own_parents(session, region, children)
    live = (
        HubHoldingRow.expires_at > now,
        HubHoldingRow.region != region,
        FederationMemberRow.revoked_at.is_(None),
    )
    found: dict[str, dict[tuple[str, str], Counterpart]] = {c: {} for c in children}
    clients = session.execute(
        select(
            HubHoldingRow.region, HubHoldingRow.child, HubHoldingRow.status, FederationMemberRow.url
        )
        .join(FederationMemberRow, FederationMemberRow.name == HubHoldingRow.region)
        .where(HubHoldingRow.child.in_(children), *live)
    )
    for other, child, status, url in clients:
        found[child][(other, child)] = Counterpart(other, url, "client", child, status, ())
    all_parents = sorted(set().union(*parents.values())) if parents else []
    if all_parents:
        shared: dict[tuple[str, str], set[str]] = defaultdict(set)
        details: dict[tuple[str, str], tuple[str, str | None]] = {}
        rows = session.execute(
            select(
                HubHoldingParentRow.region,
                HubHoldingParentRow.child,
                HubHoldingParentRow.parent,
                HubHoldingRow.status,
                FederationMemberRow.url,
            )
            .join(
                HubHoldingRow,
                (HubHoldingRow.region == HubHoldingParentRow.region)
                & (HubHoldingRow.child == HubHoldingParentRow.child),
            )
            .join(FederationMemberRow, FederationMemberRow.name == HubHoldingRow.region)
            .where(HubHoldingParentRow.parent.in_(all_parents), *live)
        )
        for other, other_child, parent, status, url in rows:
            shared[(other, other_child)].add(parent)
            details[(other, other_child)] = (status, url)
        for child in children:
            mine = parents.get(child, set())
            for (other, other_child), via_all in shared.items():
                via = tuple(sorted(via_all & mine))
                if not via:
                    continue
                status, url = details[(other, other_child)]
                kind = "client" if other_child == child else "family"
                found[child][(other, other_child)] = Counterpart(
                    other, url, kind, other_child, status, via
                )
    return {
        child: sorted(items.values(), key=lambda c: (c.region, c.kind, c.child))
        for child, items in found.items()
    }


def _result(
    identity: Identity,
    requester: str,
    requester_key: Ed25519PublicKey,
    child: str,
    found: list[Counterpart],
) -> dict[str, Any]:
    """A result as the wire has it: counterparts and one ticket per counterpart region,
    naming that region's children the requester may ask about."""
    by_region: dict[str, list[str]] = defaultdict(list)
    for counterpart in found:
        by_region[counterpart.region].append(counterpart.child)
    tickets = {
        target: identity.ticket(requester, requester_key, target, sorted(set(named)))
        for target, named in sorted(by_region.items())
    }
    return {"child": child, "counterparts": [c.as_json() for c in found], "tickets": tickets}


def _ticket_counts(results: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for result in results:
        for target in result["tickets"]:
            counts[target] += 1
    return dict(sorted(counts.items()))


# --- publishing -----------------------------------------------------------------------------


def publish(
    session: Session,
    identity: Identity,
    region: str,
    region_key: Ed25519PublicKey,
    version: int,
    holdings: Sequence[Holding],
    now: datetime,
) -> list[dict[str, Any]]:
    """Replace `region`'s statement on each child named; results in the same order.

    Locks first (see the module's docstring), then reads what was there, writes, reads the
    counterparts again, and leaves a notice for every other region whose pointer is linked
    to a child whose statement changed, before or after the change."""
    _share_rotation_lock(session)
    check_key_version(session, version)
    children = [h.child for h in holdings]
    old_parents = _own_parents(session, region, children)
    locked = set(children).union(*(h.parents for h in holdings), *old_parents.values())
    lock_pseudonyms(session, locked)
    # Read again under the locks: a publish of the same child may have committed meanwhile.
    old_parents = _own_parents(session, region, children)
    late = set().union(*old_parents.values()) - locked
    lock_pseudonyms(session, late)  # rare; a deadlock here is detected and retried
    old_status = dict(
        session.execute(
            select(HubHoldingRow.child, HubHoldingRow.status).where(
                HubHoldingRow.region == region, HubHoldingRow.child.in_(children)
            )
        ).all()
    )
    changed = [
        h.child
        for h in holdings
        if (None if h.status == "gone" else h.status) != old_status.get(h.child)
        or set(h.parents) != old_parents.get(h.child, set())
    ]
    before = counterparts(session, region, changed, now)
    _write(session, region, holdings, now)
    after = counterparts(session, region, children, now)
    linked = {
        (c.region, c.child)
        for child in changed
        for c in [*before.get(child, []), *after.get(child, [])]
    }
    if linked:
        session.execute(
            insert(HubNoticeRow),
            [{"region": r, "child": c, "at": now} for r, c in sorted(linked)],
        )
    results = [
        _result(identity, region, region_key, h.child, [] if h.status == "gone" else after[h.child])
        for h in holdings
    ]
    members.audit(
        session,
        region,
        "hub:publish",
        {
            "children": len(holdings),
            "changed": len(changed),
            "counterparts": sum(len(r["counterparts"]) for r in results),
            "notices": len(linked),
            "tickets": _ticket_counts(results),
        },
        now,
    )
    return results


def _write(session: Session, region: str, holdings: Sequence[Holding], now: datetime) -> None:
    children = [h.child for h in holdings]
    if not children:
        return
    session.execute(
        delete(HubHoldingParentRow).where(
            HubHoldingParentRow.region == region, HubHoldingParentRow.child.in_(children)
        )
    )
    session.execute(
        delete(HubHoldingRow).where(
            HubHoldingRow.region == region, HubHoldingRow.child.in_(children)
        )
    )
    kept = [h for h in holdings if h.status != "gone"]
    if kept:
        session.execute(
            insert(HubHoldingRow),
            [
                {
                    "region": region,
                    "child": h.child,
                    "status": h.status,
                    "expires_at": h.expires_at,
                    "updated_at": now,
                }
                for h in kept
            ],
        )
    links = [{"region": region, "child": h.child, "parent": p} for h in kept for p in h.parents]
    if links:
        session.execute(insert(HubHoldingParentRow), links)


def lookup(
    session: Session,
    identity: Identity,
    region: str,
    region_key: Ed25519PublicKey,
    version: int,
    children: Sequence[str],
    now: datetime,
) -> list[dict[str, Any]]:
    """The results `publish` would give, changing nothing, for the children `region` itself
    holds; others are left out of the answer."""
    check_key_version(session, version)
    held = (
        set(
            session.execute(
                select(HubHoldingRow.child).where(
                    HubHoldingRow.region == region,
                    HubHoldingRow.child.in_(children),
                    HubHoldingRow.expires_at > now,
                )
            ).scalars()
        )
        if children
        else set()
    )
    asked = [c for c in children if c in held]
    found = counterparts(session, region, asked, now)
    results = [_result(identity, region, region_key, c, found[c]) for c in asked]
    members.audit(
        session,
        region,
        "hub:lookup",
        {
            "children": len(children),
            "held": len(asked),
            "counterparts": sum(len(r["counterparts"]) for r in results),
            "tickets": _ticket_counts(results),
        },
        now,
    )
    return results


def notices(session: Session, region: str, after: int, now: datetime) -> dict[str, Any]:
    """The caller's notices after `after` (at most a page), discarding those up to it."""
    if after > 0:
        session.execute(
            delete(HubNoticeRow).where(HubNoticeRow.region == region, HubNoticeRow.seq <= after)
        )
    rows = session.execute(
        select(HubNoticeRow.seq, HubNoticeRow.child)
        .where(HubNoticeRow.region == region, HubNoticeRow.seq > after)
        .order_by(HubNoticeRow.seq)
        .limit(NOTICE_PAGE)
    ).all()
    items = [{"seq": int(seq), "child": child} for seq, child in rows]
    return {"notices": items, "last": items[-1]["seq"] if items else after}


# --- expiry, maintenance, rotation ------------------------------------------------------------


def sweep(session: Session, now: datetime, limit: int = SWEEP_BATCH) -> int:
    """Delete up to `limit` expired pointers (and their parent links), leaving a notice for
    every other region linked to them; returns how many. One query when none is due."""
    due = session.execute(
        select(HubHoldingRow.region, HubHoldingRow.child)
        .where(HubHoldingRow.expires_at <= now)
        .order_by(HubHoldingRow.expires_at)
        .limit(limit)
    ).all()
    if not due:
        return 0
    _share_rotation_lock(session)
    by_region: dict[str, list[str]] = defaultdict(list)
    for region, child in due:
        by_region[region].append(child)
    pseudonyms: set[str] = {child for _, child in due}
    for region, children in by_region.items():
        pseudonyms.update(*_own_parents(session, region, children).values())
    lock_pseudonyms(session, pseudonyms)
    swept = 0
    linked: set[tuple[str, str]] = set()
    for region, children in by_region.items():
        still = list(
            session.execute(
                select(HubHoldingRow.child).where(
                    HubHoldingRow.region == region,
                    HubHoldingRow.child.in_(children),
                    HubHoldingRow.expires_at <= now,
                )
            ).scalars()
        )
        if not still:
            continue
        for found in counterparts(session, region, still, now).values():
            linked.update((c.region, c.child) for c in found)
        _write(session, region, [Holding(c, (), "gone", None) for c in still], now)
        swept += len(still)
    if linked:
        session.execute(
            insert(HubNoticeRow), [{"region": r, "child": c, "at": now} for r, c in sorted(linked)]
        )
    if swept:
        members.audit(session, None, "hub:sweep", {"expired": swept, "notices": len(linked)}, now)
    return swept


def purge_notices(session: Session, now: datetime) -> int:
    """Notices nobody polled for a month: their region is gone or broken."""
    result = session.execute(delete(HubNoticeRow).where(HubNoticeRow.at < now - NOTICES_KEPT))
    return int(result.rowcount)  # type: ignore[attr-defined]


def set_key_version(session: Session, version: int) -> None:
    row = session.get(FederationStateRow, KEY_VERSION_STATE)
    if row is None:
        session.add(FederationStateRow(name=KEY_VERSION_STATE, value=str(version)))
    else:
        row.value = str(version)
    session.flush()


def rekey_all(session: Session, factor: bytes, old: int, now: datetime) -> int:
    """Multiply every stored pseudonym (pointers, parent links, notices) by `factor` and
    make `old + 1` the hub's key version, in this one transaction: publishes wait for it
    (the rotation lock) and then get 409 until their region has re-keyed. Returns the
    number of distinct pseudonyms re-keyed."""
    if _postgres(session):
        session.execute(select(func.pg_advisory_xact_lock(*_ROTATION_LOCK)))
    if key_version(session) != old:
        raise FederationProblem(409, "The hub is no longer at this key version.")
    values: set[str] = set(session.execute(select(HubHoldingRow.child)).scalars())
    values.update(session.execute(select(HubHoldingParentRow.parent)).scalars())
    values.update(session.execute(select(HubHoldingParentRow.child)).scalars())
    values.update(session.execute(select(HubNoticeRow.child)).scalars())
    mapping = {v: b64url(oprf.rekey(factor, from_b64url(v))) for v in sorted(values)}
    pairs = sorted(mapping.items())
    for start in range(0, len(pairs), REKEY_BATCH):
        batch = [{"old": o, "new": n} for o, n in pairs[start : start + REKEY_BATCH]]
        for table, column in (
            (HubHoldingRow, HubHoldingRow.child),
            (HubHoldingParentRow, HubHoldingParentRow.child),
            (HubHoldingParentRow, HubHoldingParentRow.parent),
            (HubNoticeRow, HubNoticeRow.child),
        ):
            session.execute(
                text(
                    f"UPDATE {table.__tablename__} SET {column.key} = :new "  # noqa: S608
                    f"WHERE {column.key} = :old"
                ),
                batch,
            )
    set_key_version(session, old + 1)
    members.audit(
        session, None, "hub:rotate", {"keyVersion": old + 1, "pseudonyms": len(pairs)}, now
    )
    return len(pairs)


def counts(session: Session, now: datetime) -> dict[str, int]:
    """For `hub status`: pointers, parent links, notices waiting, expired pointers."""
    return {
        "pointers": session.execute(select(func.count()).select_from(HubHoldingRow)).scalar_one(),
        "parentLinks": session.execute(
            select(func.count()).select_from(HubHoldingParentRow)
        ).scalar_one(),
        "notices": session.execute(select(func.count()).select_from(HubNoticeRow)).scalar_one(),
        "expired": session.execute(
            select(func.count()).select_from(HubHoldingRow).where(HubHoldingRow.expires_at <= now)
        ).scalar_one(),
    }
