"""Who matches whom, and how stored matches follow when signals come and go."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from verwijsindex.domain import MatchType
from verwijsindex.matching.rules import (
    Create,
    Keep,
    MatchState,
    SignalFacts,
    client_match_qualifies,
    family_components,
    family_match_qualifies,
    plan_matches,
)

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
ANNA, BOB, CLARA, DIRK = (uuid.uuid4() for _ in range(4))


@dataclass
class Signals:
    """Makes signals in the order they were registered, one minute apart."""

    made: int = 0
    all: list[SignalFacts] = field(default_factory=list)

    def __call__(
        self, professional: uuid.UUID, child: str, parents: Iterable[str] = ()
    ) -> SignalFacts:
        self.made += 1
        signal = SignalFacts(
            id=uuid.uuid4(),
            professional_id=professional,
            child=child,
            parents=frozenset(parents),
            created_at=T0 + timedelta(minutes=self.made),
        )
        self.all.append(signal)
        return signal


def _match(
    *signals: SignalFacts,
    age_days: int,
    regisseur: uuid.UUID | None = None,
    match_type: MatchType = MatchType.CLIENT,
) -> MatchState:
    """A stored match created `age_days` before T0 (larger is older)."""
    return MatchState(
        id=uuid.uuid4(),
        type=match_type,
        created_at=T0 - timedelta(days=age_days),
        signal_ids=frozenset(s.id for s in signals),
        regisseur_id=regisseur,
    )


def _ids(*signals: SignalFacts) -> frozenset[uuid.UUID]:
    return frozenset(s.id for s in signals)


def _children_of(families: list[list[SignalFacts]]) -> list[set[str]]:
    return sorted(({s.child for s in family} for family in families), key=sorted)


# --- the rules ------------------------------------------------------------------------------


def test_two_professionals_on_one_child_form_a_client_match() -> None:
    signal = Signals()
    assert client_match_qualifies([signal(ANNA, "c1"), signal(BOB, "c1")])


def test_one_professional_alone_forms_no_client_match() -> None:
    signal = Signals()
    assert not client_match_qualifies([signal(ANNA, "c1")])
    assert not client_match_qualifies([])


def test_no_client_match_for_one_professional_even_with_several_signals() -> None:
    signal = Signals()
    assert not client_match_qualifies([signal(ANNA, "c1"), signal(ANNA, "c1")])


def test_siblings_followed_by_two_professionals_form_a_family_match() -> None:
    signal = Signals()
    assert family_match_qualifies([signal(ANNA, "c1", {"p1"}), signal(BOB, "c2", {"p1"})])


def test_one_professional_following_two_siblings_forms_no_family_match() -> None:
    signal = Signals()
    assert not family_match_qualifies([signal(ANNA, "c1", {"p1"}), signal(ANNA, "c2", {"p1"})])


def test_two_professionals_on_one_child_form_no_family_match() -> None:
    """That is a client match; a family match needs different children."""
    signal = Signals()
    assert not family_match_qualifies([signal(ANNA, "c1", {"p1"}), signal(BOB, "c1", {"p1"})])


# --- families -------------------------------------------------------------------------------


def test_siblings_sharing_one_of_two_parents_are_one_family() -> None:
    signal = Signals()
    first = signal(ANNA, "c1", {"mother", "father"})
    second = signal(BOB, "c2", {"mother", "stepfather"})
    (family,) = family_components([first, second])
    assert {s.id for s in family} == _ids(first, second)


def test_a_chain_of_half_siblings_through_different_parents_is_one_family() -> None:
    """A and B share p1, B and C share p2: A and C share no parent but are one family."""
    signal = Signals()
    a = signal(ANNA, "a", {"p1"})
    c = signal(CLARA, "c", {"p2"})
    b = signal(BOB, "b", {"p1", "p2"})  # last, so the link is made after both ends exist
    (family,) = family_components([a, c, b])
    assert {s.id for s in family} == _ids(a, b, c)


def test_a_long_chain_in_any_order_is_one_family() -> None:
    signal = Signals()
    links = [signal(ANNA, f"c{n}", {f"p{n}", f"p{n + 1}"}) for n in range(8)]
    for order in (links, links[::-1], links[::2] + links[1::2]):
        families = family_components(order)
        assert len(families) == 1
        assert {s.id for s in families[0]} == _ids(*links)


def test_a_child_without_known_parents_is_a_family_of_its_own() -> None:
    signal = Signals()
    orphan = signal(ANNA, "c1")
    sibling_a = signal(BOB, "c2", {"p1"})
    sibling_b = signal(CLARA, "c3", {"p1"})
    families = family_components([orphan, sibling_a, sibling_b])
    assert sorted(map(len, families)) == [1, 2]
    assert [orphan] in families
    assert not family_match_qualifies([orphan])


def test_a_signal_naming_no_parent_joins_the_family_its_child_is_known_in() -> None:
    """One signal on child c1 names the father, another names nobody: both are about c1,
    who shares the father with c2, so both belong to the family."""
    signal = Signals()
    silent = signal(ANNA, "c1")
    naming = signal(BOB, "c1", {"father"})
    sibling = signal(CLARA, "c2", {"father"})
    families = family_components([silent, naming, sibling])
    assert len(families) == 1
    assert {s.id for s in families[0]} == {silent.id, naming.id, sibling.id}


def test_unrelated_families_stay_apart() -> None:
    signal = Signals()
    smit = [signal(ANNA, "s1", {"smit-m"}), signal(BOB, "s2", {"smit-m", "smit-v"})]
    jansen = [signal(CLARA, "j1", {"jansen-m"}), signal(DIRK, "j2", {"jansen-m"})]
    families = family_components([smit[0], jansen[0], smit[1], jansen[1]])
    assert _children_of(families) == [{"j1", "j2"}, {"s1", "s2"}]


def test_every_signal_with_parents_lands_in_exactly_one_family() -> None:
    signal = Signals()
    signals = [
        signal(ANNA, "c1", {"p1"}),
        signal(BOB, "c1", {"p1", "p2"}),
        signal(CLARA, "c2", {"p2"}),
        signal(DIRK, "c3", {"p9"}),
    ]
    families = family_components(signals)
    seen = [s.id for family in families for s in family]
    assert sorted(seen) == sorted(s.id for s in signals)


# --- plan_matches ---------------------------------------------------------------------------


def test_a_qualifying_group_without_a_match_creates_one() -> None:
    signal = Signals()
    group = [signal(ANNA, "c1"), signal(BOB, "c1")]
    plan = plan_matches([group], [], client_match_qualifies)
    assert plan.create == [Create(_ids(*group))]
    assert plan.keep == []
    assert plan.delete == []


def test_a_group_below_the_rule_creates_nothing() -> None:
    signal = Signals()
    plan = plan_matches([[signal(ANNA, "c1")]], [], client_match_qualifies)
    assert (plan.create, plan.keep, plan.delete) == ([], [], [])


def test_a_joining_signal_grows_the_existing_match_under_the_same_id() -> None:
    signal = Signals()
    anna, bob = signal(ANNA, "c1"), signal(BOB, "c1")
    existing = _match(anna, bob, age_days=10, regisseur=ANNA)
    clara = signal(CLARA, "c1")
    plan = plan_matches([[anna, bob, clara]], [existing], client_match_qualifies)
    assert plan.keep == [Keep(existing.id, _ids(anna, bob, clara), ANNA)]
    assert plan.create == []
    assert plan.delete == []


def test_a_match_whose_group_falls_below_the_rule_is_deleted() -> None:
    signal = Signals()
    anna, bob = signal(ANNA, "c1"), signal(BOB, "c1")
    existing = _match(anna, bob, age_days=10)
    plan = plan_matches([[anna]], [existing], client_match_qualifies)
    assert plan.delete == [existing.id]
    assert (plan.keep, plan.create) == ([], [])


def test_a_match_whose_signals_are_all_gone_is_deleted() -> None:
    signal = Signals()
    existing = _match(signal(ANNA, "c1"), signal(BOB, "c1"), age_days=10)
    plan = plan_matches([], [existing], client_match_qualifies)
    assert plan.delete == [existing.id]


def test_a_family_match_of_one_professional_on_two_siblings_is_deleted() -> None:
    signal = Signals()
    anna_1, bob_2 = signal(ANNA, "c1", {"p"}), signal(BOB, "c2", {"p"})
    anna_2 = signal(ANNA, "c2", {"p"})
    existing = _match(anna_1, bob_2, age_days=3, match_type=MatchType.FAMILY)
    plan = plan_matches([[anna_1, anna_2]], [existing], family_match_qualifies)
    assert plan.delete == [existing.id]
    assert plan.create == []


def test_a_merge_keeps_the_oldest_match_and_deletes_the_other() -> None:
    signal = Signals()
    c1 = [signal(ANNA, "c1", {"p1"}), signal(BOB, "c2", {"p1"})]
    c2 = [signal(CLARA, "c3", {"p2"}), signal(DIRK, "c4", {"p2"})]
    young = _match(*c1, age_days=1, match_type=MatchType.FAMILY)
    old = _match(*c2, age_days=30, match_type=MatchType.FAMILY)
    bridge = signal(ANNA, "c5", {"p1", "p2"})
    merged = [*c1, *c2, bridge]
    plan = plan_matches([merged], [young, old], family_match_qualifies)
    assert [k.match_id for k in plan.keep] == [old.id]
    assert plan.keep[0].signal_ids == _ids(*merged)
    assert plan.delete == [young.id]
    assert plan.create == []


def test_a_merge_survivor_without_regisseur_inherits_the_others() -> None:
    signal = Signals()
    c1 = [signal(ANNA, "c1", {"p1"}), signal(BOB, "c2", {"p1"})]
    c2 = [signal(CLARA, "c3", {"p2"}), signal(DIRK, "c4", {"p2"})]
    old = _match(*c1, age_days=30, match_type=MatchType.FAMILY)
    young = _match(*c2, age_days=1, regisseur=CLARA, match_type=MatchType.FAMILY)
    merged = [*c1, *c2, signal(BOB, "c5", {"p1", "p2"})]
    plan = plan_matches([merged], [old, young], family_match_qualifies)
    assert plan.keep == [Keep(old.id, _ids(*merged), CLARA)]
    assert plan.delete == [young.id]


def test_a_merge_survivor_keeps_its_own_regisseur_over_the_others() -> None:
    signal = Signals()
    c1 = [signal(ANNA, "c1", {"p1"}), signal(BOB, "c2", {"p1"})]
    c2 = [signal(CLARA, "c3", {"p2"}), signal(DIRK, "c4", {"p2"})]
    old = _match(*c1, age_days=30, regisseur=BOB, match_type=MatchType.FAMILY)
    young = _match(*c2, age_days=1, regisseur=CLARA, match_type=MatchType.FAMILY)
    merged = [*c1, *c2, signal(BOB, "c5", {"p1", "p2"})]
    plan = plan_matches([merged], [young, old], family_match_qualifies)
    assert plan.keep == [Keep(old.id, _ids(*merged), BOB)]


def test_a_merge_does_not_inherit_a_regisseur_who_left() -> None:
    signal = Signals()
    anna, bob = signal(ANNA, "c1", {"p1"}), signal(BOB, "c2", {"p1"})
    clara, dirk = signal(CLARA, "c3", {"p2"}), signal(DIRK, "c4", {"p2"})
    old = _match(anna, bob, age_days=30, match_type=MatchType.FAMILY)
    young = _match(clara, dirk, age_days=1, regisseur=DIRK, match_type=MatchType.FAMILY)
    # Dirk's signal has ended; the family is joined by a bridge signal at the same time.
    merged = [anna, bob, clara, signal(ANNA, "c5", {"p1", "p2"})]
    plan = plan_matches([merged], [old, young], family_match_qualifies)
    assert plan.keep == [Keep(old.id, _ids(*merged), None)]
    assert plan.delete == [young.id]


def test_a_split_leaves_the_id_with_the_larger_part_and_creates_one_for_the_smaller() -> None:
    """The smaller part holds the oldest signals: size decides, not age."""
    signal = Signals()
    small = [signal(ANNA, "a1", {"pa"}), signal(BOB, "a2", {"pa"})]
    large = [signal(CLARA, "b1", {"pb"}), signal(DIRK, "b2", {"pb"}), signal(ANNA, "b3", {"pb"})]
    existing = _match(*small, *large, age_days=20, regisseur=CLARA, match_type=MatchType.FAMILY)
    plan = plan_matches([small, large], [existing], family_match_qualifies)
    assert plan.keep == [Keep(existing.id, _ids(*large), CLARA)]
    assert plan.create == [Create(_ids(*small))]
    assert plan.delete == []


def test_after_an_even_split_the_part_with_the_oldest_signal_keeps_the_id() -> None:
    signal = Signals()
    first = [signal(ANNA, "a1", {"pa"}), signal(BOB, "a2", {"pa"})]
    second = [signal(CLARA, "b1", {"pb"}), signal(DIRK, "b2", {"pb"})]
    existing = _match(*first, *second, age_days=20, match_type=MatchType.FAMILY)
    for groups in ([first, second], [second, first]):
        plan = plan_matches(groups, [existing], family_match_qualifies)
        assert [k.signal_ids for k in plan.keep] == [_ids(*first)]
        assert plan.create == [Create(_ids(*second))]


def test_a_split_where_the_smaller_part_falls_below_the_rule_only_shrinks() -> None:
    signal = Signals()
    alone = [signal(ANNA, "a1", {"pa"})]
    rest = [signal(BOB, "b1", {"pb"}), signal(CLARA, "b2", {"pb"})]
    existing = _match(*alone, *rest, age_days=5, match_type=MatchType.FAMILY)
    plan = plan_matches([alone, rest], [existing], family_match_qualifies)
    assert plan.keep == [Keep(existing.id, _ids(*rest), None)]
    assert (plan.create, plan.delete) == ([], [])


def test_a_regisseur_who_no_longer_participates_is_cleared() -> None:
    signal = Signals()
    anna, bob, clara = signal(ANNA, "c1"), signal(BOB, "c1"), signal(CLARA, "c1")
    existing = _match(anna, bob, clara, age_days=10, regisseur=CLARA)
    plan = plan_matches([[anna, bob]], [existing], client_match_qualifies)
    assert plan.keep == [Keep(existing.id, _ids(anna, bob), None)]


def test_a_regisseur_who_still_participates_stays() -> None:
    signal = Signals()
    anna, bob, clara = signal(ANNA, "c1"), signal(BOB, "c1"), signal(CLARA, "c1")
    existing = _match(anna, bob, clara, age_days=10, regisseur=BOB)
    plan = plan_matches([[anna, bob]], [existing], client_match_qualifies)
    assert plan.keep == [Keep(existing.id, _ids(anna, bob), BOB)]


def test_a_match_unrelated_to_any_group_is_deleted_and_not_claimed() -> None:
    signal = Signals()
    group = [signal(ANNA, "c1"), signal(BOB, "c1")]
    stale = _match(signal(CLARA, "c9"), signal(DIRK, "c9"), age_days=50)
    plan = plan_matches([group], [stale], client_match_qualifies)
    assert plan.create == [Create(_ids(*group))]
    assert plan.delete == [stale.id]
    assert plan.keep == []


def test_no_match_is_both_kept_and_deleted() -> None:
    signal = Signals()
    a = [signal(ANNA, "a1", {"p1"}), signal(BOB, "a2", {"p1"})]
    b = [signal(CLARA, "b1", {"p2"}), signal(DIRK, "b2", {"p2"})]
    c = [signal(ANNA, "x1", {"p3"}), signal(CLARA, "x2", {"p3"})]
    m_a = _match(*a, age_days=3, match_type=MatchType.FAMILY)
    m_b = _match(*b, age_days=2, match_type=MatchType.FAMILY)
    m_c = _match(*c, age_days=1, match_type=MatchType.FAMILY)
    merged = [*a, *b, signal(DIRK, "a3", {"p1", "p2"})]
    plan = plan_matches([merged, c], [m_a, m_b, m_c], family_match_qualifies)
    kept = [k.match_id for k in plan.keep]
    assert sorted(kept) == sorted([m_a.id, m_c.id])
    assert plan.delete == [m_b.id]
    assert not set(kept) & set(plan.delete)
