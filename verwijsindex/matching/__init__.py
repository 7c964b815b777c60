"""Who matches whom: pure rules (`rules`) and the reconciliation of stored matches (`reconcile`).

Nothing here knows SQL: the indexed queries are behind the `MatchStore` protocol, which the
repository implements, so the rules can be unit-tested with plain values.
"""

from verwijsindex.matching.reconcile import (
    MatchStore,
    Surroundings,
    family_of,
    refresh_matches_around,
)
from verwijsindex.matching.rules import (
    MatchState,
    SignalFacts,
    client_match_qualifies,
    family_components,
    family_match_qualifies,
    plan_matches,
)

__all__ = [
    "MatchState",
    "MatchStore",
    "SignalFacts",
    "Surroundings",
    "client_match_qualifies",
    "family_components",
    "family_match_qualifies",
    "family_of",
    "plan_matches",
    "refresh_matches_around",
]
