"""Bring stored matches up to date around one changed signal, inside the caller's transaction.

Correctness under concurrency rests on locks per person (child or parent pseudonym): the
caller locks the changed signal's child and parents before calling; walking the family
here locks each further parent it reaches and then reads again, so every write to a match
happens while holding a lock that any other writer touching the same child or family
also needs. On SQLite the store's locks are no-ops: its writers are already serial.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Protocol

from verwijsindex.domain import MatchType
from verwijsindex.matching.rules import (
    MatchPlan,
    MatchState,
    SignalFacts,
    client_match_qualifies,
    family_components,
    family_match_qualifies,
    plan_matches,
)


class MatchStore(Protocol):
    """The indexed queries and writes that matching needs (implemented by the repository)."""

    def lock_persons(self, pseudonyms: Iterable[str]) -> None: ...

    def active_signals_on_child(self, child: str) -> list[SignalFacts]: ...

    def active_signals_with_any_parent(self, parents: Iterable[str]) -> list[SignalFacts]: ...

    def matches_of_signals(
        self, signal_ids: Iterable[uuid.UUID], match_type: MatchType
    ) -> list[MatchState]: ...

    def client_match_of_child(self, child: str) -> MatchState | None: ...

    def apply_plan(self, plan: MatchPlan, match_type: MatchType, child: str | None) -> None: ...


def family_of(store: MatchStore, parents: frozenset[str]) -> list[SignalFacts]:
    """All active signals connected to `parents`, locking every parent reached.

    Families are small, so each round reads the whole family again; the loop ends when a
    round reaches no parent that is not yet locked (then the read was done under all locks).
    """
    locked = set(parents)
    while True:
        signals = store.active_signals_with_any_parent(locked)
        reached = set().union(*(s.parents for s in signals)) if signals else set()
        new = reached - locked
        if not new:
            return signals
        store.lock_persons(sorted(new))
        locked |= new


def refresh_matches_around(
    store: MatchStore, signal_id: uuid.UUID, child: str, parents: frozenset[str]
) -> None:
    """Recompute the client match of `child` and the family matches reachable from `parents`.

    Call after inserting, archiving or erasing the signal `signal_id` (with its child and
    parents already locked). The family matches the signal was in are reconsidered even when
    it has left them, so that a family split or shrunk below two professionals follows.
    """
    on_child = store.active_signals_on_child(child)
    existing_client = store.client_match_of_child(child)
    store.apply_plan(
        plan_matches(
            [on_child], [existing_client] if existing_client else [], client_match_qualifies
        ),
        MatchType.CLIENT,
        child,
    )
    if not parents:
        return
    family = family_of(store, parents)
    existing_family = store.matches_of_signals(
        {s.id for s in family} | {signal_id}, MatchType.FAMILY
    )
    store.apply_plan(
        plan_matches(family_components(family), existing_family, family_match_qualifies),
        MatchType.FAMILY,
        None,
    )
