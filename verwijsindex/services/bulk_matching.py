"""The matches a bulk batch forms: its new signals' families walked and their matches
reconciled for the whole batch at once (`services.bulk_apply` calls these in the batch's
transaction, with the batch's children and parents locked), and a migration's
participations exempted from follow-up reminders.
"""

from __future__ import annotations

import uuid
from collections import defaultdict

from verwijsindex.domain import MatchRef, MatchType
from verwijsindex.matching import (
    MatchState,
    SignalFacts,
    client_match_qualifies,
    family_components,
    family_match_qualifies,
    plan_matches,
)
from verwijsindex.matching.rules import MatchPlan
from verwijsindex.services.unit_of_work import Transaction


def walk_families(tx: Transaction, children: set[str], parents: set[str]) -> list[SignalFacts]:
    """Every active signal connected to these persons (the batch's children and parents,
    locked by the caller), locking each further person reached, as `matching.family_of`
    does for one signal but for the whole batch at once.

    Each round reads only the persons the previous one reached, once they are locked:
    a signal on a locked child or naming a locked parent cannot appear or go while the lock
    is held (whoever registers or closes it must take that lock too), so what an earlier
    round read still holds, and the rounds together are what one read of every person
    under every lock would give. (`family_of` reads the whole family again each round;
    a batch's families are hundreds of signals.)"""
    found: dict[uuid.UUID, SignalFacts] = {}
    reading_children, reading_parents = set(children), set(parents)
    while reading_children or reading_parents:
        for signal in tx.matches.surroundings(reading_children, reading_parents).active:
            found[signal.id] = signal
        reached_children = {s.child for s in found.values()} - children
        reached_parents = {p for s in found.values() for p in s.parents} - parents
        if reached_children or reached_parents:
            tx.matches.lock_persons(reached_children | reached_parents)
        children |= reached_children
        parents |= reached_parents
        reading_children, reading_parents = reached_children, reached_parents
    return list(found.values())


def reconcile(
    tx: Transaction, family: list[SignalFacts], joined: list[SignalFacts]
) -> dict[uuid.UUID, list[MatchRef]]:
    """Bring the stored matches up to date for every family a new signal joined, as
    `matching.refresh_matches_around` does for one signal; returns the matches each new
    signal is in. A new signal alone in its family costs no statement."""
    new_ids = {s.id for s in joined}
    touched = [
        group
        for group in family_components([*family, *joined])
        if len(group) > 1 and any(s.id in new_ids for s in group)
    ]
    if not touched:
        return {}
    existing = tx.matches.matches_of_signals({s.id for g in touched for s in g})
    on_child: dict[str, list[SignalFacts]] = defaultdict(list)
    for signal in (s for g in touched for s in g):
        on_child[signal.child].append(signal)
    clients_of: dict[uuid.UUID, list[MatchState]] = defaultdict(list)
    for match in (m for m in existing if m.type is MatchType.CLIENT):
        for signal_id in match.signal_ids:
            clients_of[signal_id].append(match)
    plans: list[tuple[MatchPlan, MatchType, str | None]] = []
    for child in sorted({s.child for s in joined}):
        if len(on_child[child]) < 2:
            continue
        clients = {m.id: m for s in on_child[child] for m in clients_of[s.id]}
        plan = plan_matches([on_child[child]], list(clients.values()), client_match_qualifies)
        plans.append((plan, MatchType.CLIENT, child))
    families = [m for m in existing if m.type is MatchType.FAMILY]
    plans.append((plan_matches(touched, families, family_match_qualifies), MatchType.FAMILY, None))
    matches_of: dict[uuid.UUID, list[MatchRef]] = defaultdict(list)
    for match in tx.matches.apply_plans(plans):
        for signal_id in match.signal_ids & new_ids:
            matches_of[signal_id].append(MatchRef(match.id, match.type))
    return matches_of


def count_as_reminded(tx: Transaction) -> None:
    """A migration's participations count as reminded already: whoever joined a match in
    this batch (a new match's participants, a grown match's newcomers) gets no "not followed
    up" reminder ten working days later. The match is old news, and nobody was mailed of it
    (contract section 9); a reminder of a match one was never told of would be the first
    anyone heard of it. Who had a follow-up state already keeps it."""
    joined: set[tuple[uuid.UUID, uuid.UUID]] = set()
    changes = tx.matches.changes()
    owners = tx.signal_owners({s for c in changes for s in c.before | c.after})
    for change in changes:
        before = {owners[s].professional_id for s in change.before if s in owners}
        after = {owners[s].professional_id for s in change.after if s in owners}
        joined |= {(change.match_id, p) for p in after - before}
    tx.follow_ups.count_as_reminded(joined, tx.now)
