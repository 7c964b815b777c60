"""Pure match rules: which active signals form a match, and how stored matches follow suit.

A match is a *stable object*: when signals arrive or leave, the existing match grows or
shrinks rather than being replaced, so a designated regisseur and the colleagues'
bookmarks survive. Only when fewer than two professionals remain does it disappear.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from verwijsindex.domain import MatchType


@dataclass(frozen=True, slots=True)
class SignalFacts:
    """What matching needs to know of one active signal, and nothing more."""

    id: uuid.UUID
    professional_id: uuid.UUID
    child: str
    parents: frozenset[str]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class MatchState:
    id: uuid.UUID
    type: MatchType
    created_at: datetime
    signal_ids: frozenset[uuid.UUID]
    regisseur_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class Keep:
    """Keep match `match_id`, now made of exactly `signal_ids`, with this regisseur."""

    match_id: uuid.UUID
    signal_ids: frozenset[uuid.UUID]
    regisseur_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class Create:
    signal_ids: frozenset[uuid.UUID]


@dataclass(frozen=True, slots=True)
class MatchPlan:
    keep: list[Keep] = field(default_factory=list)
    create: list[Create] = field(default_factory=list)
    delete: list[uuid.UUID] = field(default_factory=list)


def client_match_qualifies(signals: Sequence[SignalFacts]) -> bool:
    """Cliëntmatch: active signals on one child by two or more professionals."""
    return len({s.professional_id for s in signals}) >= 2


def family_match_qualifies(signals: Sequence[SignalFacts]) -> bool:
    """Gezinsmatch: two or more children and two or more professionals in one family.

    In a connected family this is the same as "two signals by different professionals on
    different children" (if every cross pair shared a child or a professional, all signals
    would have one of the two in common); a professional who alone follows two siblings
    already knows and is not told so.
    """
    return len({s.child for s in signals}) >= 2 and len({s.professional_id for s in signals}) >= 2


def family_components(signals: Iterable[SignalFacts]) -> list[list[SignalFacts]]:
    """Group signals into families: children linked, directly or through siblings, by parents.

    Union-find over persons. A signal joins its child to each parent it names; signals on
    the same child belong together even when only one of them names a parent, because a
    parent is a fact about the child, not about the signal that happened to record it.
    """
    root_of: dict[str, str] = {}

    def root(node: str) -> str:
        root_of.setdefault(node, node)
        while root_of[node] != node:
            root_of[node] = root_of[root_of[node]]
            node = root_of[node]
        return node

    signals = list(signals)
    for signal in signals:
        child = root(f"c:{signal.child}")
        for parent in signal.parents:
            root_of[root(f"p:{parent}")] = child
    groups: dict[str, list[SignalFacts]] = {}
    for signal in signals:
        groups.setdefault(root(f"c:{signal.child}"), []).append(signal)
    return list(groups.values())


def plan_matches(
    groups: Sequence[Sequence[SignalFacts]],
    existing: Sequence[MatchState],
    qualifies: Callable[[Sequence[SignalFacts]], bool],
) -> MatchPlan:
    """Reconcile the stored matches of one type with the groups as they are now.

    Larger groups choose first, each taking the oldest unclaimed match it shares a signal
    with (after a merge the oldest match lives on; after a split the larger part keeps it).
    Matches no group claimed are deleted. A regisseur stays only while still a participant;
    on a merge the surviving match inherits one from a merged match if it has none.
    """
    plan = MatchPlan()
    claimed: set[uuid.UUID] = set()
    oldest_first = sorted(existing, key=lambda m: (m.created_at, m.id))
    age = {m.id: n for n, m in enumerate(oldest_first)}
    # The matches each signal is in: a group's candidates are found through its own signals
    # (a bulk batch plans hundreds of groups against hundreds of matches).
    matches_of: dict[uuid.UUID, list[MatchState]] = {}
    for match in oldest_first:
        for signal_id in match.signal_ids:
            matches_of.setdefault(signal_id, []).append(match)
    by_size = sorted(
        (g for g in groups if qualifies(g)),
        key=lambda g: (-len(g), min((s.created_at, s.id) for s in g)),
    )
    for group in by_size:
        signal_ids = frozenset(s.id for s in group)
        participants = {s.professional_id for s in group}
        sharing = {m.id: m for s in signal_ids for m in matches_of.get(s, ())}
        candidates = sorted(
            (m for m in sharing.values() if m.id not in claimed), key=lambda m: age[m.id]
        )
        if not candidates:
            plan.create.append(Create(signal_ids))
            continue
        survivor = candidates[0]
        claimed.update(m.id for m in candidates)
        regisseur = next(
            (m.regisseur_id for m in candidates if m.regisseur_id in participants), None
        )
        if survivor.regisseur_id in participants:
            regisseur = survivor.regisseur_id
        plan.keep.append(Keep(survivor.id, signal_ids, regisseur))
        plan.delete.extend(m.id for m in candidates[1:])
    plan.delete.extend(m.id for m in oldest_first if m.id not in claimed)
    return plan
