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
from dataclasses import dataclass
from typing import Protocol

from verwijsindex.domain import MatchRef, MatchType
from verwijsindex.matching.rules import (
    MatchPlan,
    MatchState,
    SignalFacts,
    client_match_qualifies,
    family_components,
    family_match_qualifies,
    plan_matches,
)


@dataclass(frozen=True, slots=True)
class Surroundings:
    """What the index holds around some persons: their active signals (with all parents)
    and which of the children also have archived signals (history)."""

    active: list[SignalFacts]
    children_with_history: frozenset[str]


class MatchStore(Protocol):
    """The indexed queries and writes that matching needs (implemented by the repository)."""

    def lock_persons(self, pseudonyms: Iterable[str]) -> None: ...

    def surroundings(self, children: Iterable[str], parents: Iterable[str]) -> Surroundings:
        """Active signals on any of `children` or naming any of `parents`, and which of the
        `children` have archived signals."""
        ...

    def matches_of_signals(self, signal_ids: Iterable[uuid.UUID]) -> list[MatchState]: ...

    def apply_plan(
        self, plan: MatchPlan, match_type: MatchType, child: str | None
    ) -> list[MatchState]:
        """Write the plan; returns the matches of this type that exist afterwards."""
        ...


def family_of(
    store: MatchStore, child: str, parents: frozenset[str], first: Surroundings | None = None
) -> list[SignalFacts]:
    """All active signals connected to `child` and `parents`, locking every person reached.

    Families are small, so each round reads the whole family again; the loop ends when a
    round reaches no person that is not yet locked, so the last read ran under all locks.
    `first` is a first round the caller already read (under the same locks).
    """
    children, known_parents = {child}, set(parents)
    signals = first.active if first is not None else None
    while True:
        if signals is None:
            signals = store.surroundings(children, known_parents).active
        new_children = {s.child for s in signals} - children
        new_parents = set().union(*(s.parents for s in signals)) - known_parents
        if not new_children and not new_parents:
            return signals
        store.lock_persons(sorted(new_children | new_parents))
        children |= new_children
        known_parents |= new_parents
        signals = None


def refresh_matches_around(
    store: MatchStore,
    signal_id: uuid.UUID,
    child: str,
    parents: frozenset[str],
    family: list[SignalFacts] | None = None,
) -> list[MatchRef]:
    """Recompute the client match of `child` and the family matches around it.

    Call after inserting, archiving or erasing the signal `signal_id`, with its child and
    parents already locked; pass `family` when it is already known (under those locks).
    The matches the signal was in are reconsidered even when it has left them, so that a
    match shrunk below two professionals, or a family split in two, follows. Returns the
    matches the signal is in afterwards.
    """
    if family is None:
        family = family_of(store, child, parents)
    if all(s.id == signal_id for s in family):
        # Alone on its child and in its family (a first signal): no match can exist or form.
        return []
    existing = store.matches_of_signals({s.id for s in family} | {signal_id})
    on_child = [s for s in family if s.child == child]
    # The family's signals also bring siblings' client matches along: leave those alone.
    child_signal_ids = {s.id for s in on_child} | {signal_id}
    after = store.apply_plan(
        plan_matches(
            [on_child],
            [m for m in existing if m.type is MatchType.CLIENT and m.signal_ids & child_signal_ids],
            client_match_qualifies,
        ),
        MatchType.CLIENT,
        child,
    )
    after += store.apply_plan(
        plan_matches(
            family_components(family),
            [m for m in existing if m.type is MatchType.FAMILY],
            family_match_qualifies,
        ),
        MatchType.FAMILY,
        None,
    )
    return [MatchRef(m.id, m.type) for m in after if signal_id in m.signal_ids]
