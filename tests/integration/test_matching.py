"""Matches as stable objects, at the service level: families merging and splitting.

Signals are registered and closed through `verwijsindex.services.signals`, matches read
through `verwijsindex.services.matches`, on SQLite and PostgreSQL (the `backend` fixture).
"""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.conftest import (
    CHILD_BSN,
    OTHER_CHILD_BSN,
    OTHER_PARENT_BSN,
    PARENT_BSN,
    SIBLING_BSN,
    FakeClock,
    World,
)
from verwijsindex.domain import (
    Bsn,
    CloseReason,
    Informatieplicht,
    InvalidInput,
    Match,
    MatchType,
    NewSignal,
    NotFound,
)
from verwijsindex.models import MatchRow, MatchSignalRow
from verwijsindex.pseudonym import parse_bsn
from verwijsindex.services import Actor, Core
from verwijsindex.services import matches as match_service
from verwijsindex.services.signals import close_signal, register_signal

FOURTH_CHILD_BSN = "444444440"
FIFTH_CHILD_BSN = "555555550"
LINKING_CHILD_BSN = "666666660"


def bsn(raw: str) -> Bsn:
    parsed = parse_bsn(raw)
    assert parsed is not None, "test BSNs must pass the elfproef"
    return parsed


def signal(core: Core, actor: Actor, child: str, *parents: str) -> uuid.UUID:
    """Register a signal on `child` with `parents`; its id."""
    created = register_signal(
        core,
        actor,
        NewSignal(
            child=bsn(child),
            birth_date=date(2015, 3, 14),
            parents=tuple(bsn(p) for p in parents),
            informatieplicht=Informatieplicht(child_informed=True, parents_informed=True),
        ),
    )
    return created.id


def family_matches(core: Core, actor: Actor) -> list[Match]:
    page = match_service.list_matches(core, actor, None, 100)
    assert page.last_key is None
    return [m for m in page.items if m.type is MatchType.FAMILY]


def only_family_match(core: Core, actor: Actor) -> Match:
    found = family_matches(core, actor)
    assert len(found) == 1, found
    return found[0]


def participants(match: Match) -> set[uuid.UUID]:
    return {p.professional.id for p in match.participants}


def match_exists(core: Core, match_id: uuid.UUID) -> bool:
    with core.database.engine.connect() as connection:
        rows = connection.scalar(
            select(func.count()).select_from(MatchRow).where(MatchRow.id == match_id)
        )
        links = connection.scalar(
            select(func.count())
            .select_from(MatchSignalRow)
            .where(MatchSignalRow.match_id == match_id)
        )
    assert (rows == 0) == (links == 0), "a match row without links, or links without a row"
    return bool(rows)


def stored_family_matches(core: Core) -> int:
    with core.database.engine.connect() as connection:
        found = connection.scalar(
            select(func.count())
            .select_from(MatchRow)
            .where(MatchRow.type == MatchType.FAMILY.value)
        )
    return int(found or 0)


class TwoFamilies:
    """Family one (parent P1) and family two (parent P2), each with its own family match.

    `big_first` decides which family is the older one: the three-signal family or the
    two-signal family. Every signal is by a different professional.
    """

    def __init__(self, world: World, clock: FakeClock, *, big_first: bool) -> None:
        self.core = world.core
        names = ["Anna", "Bert", "Carla", "Dirk", "Eva", "Victor"]
        self.actors = {
            n: world.actor(world.professional(f"{n} Test", f"Organisation {n}")) for n in names
        }
        big = [("Anna", CHILD_BSN), ("Bert", SIBLING_BSN), ("Carla", OTHER_CHILD_BSN)]
        small = [("Dirk", FOURTH_CHILD_BSN), ("Eva", FIFTH_CHILD_BSN)]
        self.big_names = [n for n, _ in big]
        self.small_names = [n for n, _ in small]
        self.signals: dict[str, uuid.UUID] = {}
        order = [(big, PARENT_BSN), (small, OTHER_PARENT_BSN)]
        if not big_first:
            order.reverse()
        for members, parent in order:
            for name, child in members:
                self.signals[name] = signal(self.core, self.actors[name], child, parent)
            clock.advance(minutes=5)
        self.big_id = only_family_match(self.core, self.actors["Anna"]).id
        self.small_id = only_family_match(self.core, self.actors["Dirk"]).id
        assert self.big_id != self.small_id
        self.older_id, self.younger_id = (
            (self.big_id, self.small_id) if big_first else (self.small_id, self.big_id)
        )

    def actor(self, name: str) -> Actor:
        return self.actors[name]

    def ids(self, *names: str) -> set[uuid.UUID]:
        return {self.actors[n].id for n in names}

    def link(self) -> uuid.UUID:
        """Victor signals a child with a parent from each family."""
        self.signals["Victor"] = signal(
            self.core, self.actors["Victor"], LINKING_CHILD_BSN, PARENT_BSN, OTHER_PARENT_BSN
        )
        return self.signals["Victor"]


@pytest.mark.parametrize("big_first", [True, False], ids=["big-older", "small-older"])
def test_a_linking_signal_merges_two_family_matches_into_the_older_one(
    world: World, clock: FakeClock, big_first: bool
) -> None:
    families = TwoFamilies(world, clock, big_first=big_first)
    families.link()

    everyone = families.ids(*families.actors)
    for name in families.actors:
        match = only_family_match(world.core, families.actor(name))
        assert match.id == families.older_id, name
        assert participants(match) == everyone
        assert match.my_signal_ids == (families.signals[name],)
    assert match_exists(world.core, families.older_id)
    assert not match_exists(world.core, families.younger_id)
    assert stored_family_matches(world.core) == 1
    with pytest.raises(NotFound):
        match_service.get_match(world.core, families.actor("Dirk"), families.younger_id)


@pytest.mark.parametrize("reason", [CloseReason.RISK_GONE, CloseReason.UNJUSTIFIED])
@pytest.mark.parametrize("big_first", [True, False], ids=["big-older", "small-older"])
def test_withdrawing_the_linking_signal_splits_and_the_larger_part_keeps_the_id(
    world: World, clock: FakeClock, big_first: bool, reason: CloseReason
) -> None:
    families = TwoFamilies(world, clock, big_first=big_first)
    victor = families.link()
    merged_id = families.older_id
    clock.advance(minutes=5)

    close_signal(world.core, families.actor("Victor"), victor, reason)

    big = {n: only_family_match(world.core, families.actor(n)) for n in families.big_names}
    small = {n: only_family_match(world.core, families.actor(n)) for n in families.small_names}
    assert {m.id for m in big.values()} == {merged_id}, "the larger part keeps the id"
    (small_id,) = {m.id for m in small.values()}
    assert small_id != merged_id
    assert small_id != families.small_id, "a match that was merged away does not come back"
    for match in big.values():
        assert participants(match) == families.ids(*families.big_names)
    for match in small.values():
        assert participants(match) == families.ids(*families.small_names)
    assert family_matches(world.core, families.actor("Victor")) == []
    assert stored_family_matches(world.core) == 2
    assert match_exists(world.core, merged_id) and match_exists(world.core, small_id)


def test_a_merge_keeps_the_regisseur_of_the_surviving_match(world: World, clock: FakeClock) -> None:
    families = TwoFamilies(world, clock, big_first=True)
    anna, dirk = families.actor("Anna"), families.actor("Dirk")
    match_service.designate_regisseur(world.core, anna, families.big_id, families.actor("Bert").id)
    match_service.designate_regisseur(world.core, dirk, families.small_id, dirk.id)
    families.link()
    merged = only_family_match(world.core, dirk)
    assert merged.id == families.big_id
    assert merged.regisseur is not None
    assert merged.regisseur.professional.id == families.actor("Bert").id
    assert [p.professional.id for p in merged.participants if p.is_regisseur] == [
        families.actor("Bert").id
    ]


def test_a_merge_inherits_the_regisseur_of_a_merged_match_when_the_survivor_has_none(
    world: World, clock: FakeClock
) -> None:
    families = TwoFamilies(world, clock, big_first=True)
    dirk = families.actor("Dirk")
    match_service.designate_regisseur(world.core, dirk, families.small_id, dirk.id)
    families.link()
    merged = only_family_match(world.core, families.actor("Anna"))
    assert merged.id == families.big_id
    assert merged.regisseur is not None
    assert merged.regisseur.professional.id == dirk.id


def test_after_a_split_the_regisseur_stays_only_with_the_part_they_belong_to(
    world: World, clock: FakeClock
) -> None:
    families = TwoFamilies(world, clock, big_first=True)
    carla = families.actor("Carla")
    victor = families.link()
    match_service.designate_regisseur(world.core, carla, families.big_id, carla.id)
    close_signal(world.core, families.actor("Victor"), victor, CloseReason.RISK_GONE)
    big = only_family_match(world.core, families.actor("Anna"))
    small = only_family_match(world.core, families.actor("Eva"))
    assert big.regisseur is not None and big.regisseur.professional.id == carla.id
    assert small.regisseur is None


def test_a_regisseur_in_the_smaller_part_of_a_split_is_not_carried_over(
    world: World, clock: FakeClock
) -> None:
    families = TwoFamilies(world, clock, big_first=True)
    eva = families.actor("Eva")
    victor = families.link()
    match_service.designate_regisseur(world.core, eva, families.big_id, eva.id)
    close_signal(world.core, families.actor("Victor"), victor, CloseReason.RISK_GONE)
    big = only_family_match(world.core, families.actor("Anna"))
    small = only_family_match(world.core, eva)
    assert big.id == families.big_id
    assert big.regisseur is None
    assert small.regisseur is None


def test_the_linking_professional_is_a_participant_of_the_merged_match_only(
    world: World, clock: FakeClock
) -> None:
    families = TwoFamilies(world, clock, big_first=True)
    victor_signal = families.link()
    victor = families.actor("Victor")
    match = only_family_match(world.core, victor)
    assert match.my_signal_ids == (victor_signal,)
    # Victor's own view never lists another professional's signal.
    others = {s for n, s in families.signals.items() if n != "Victor"}
    assert not others & set(match.my_signal_ids)


def test_designating_a_non_participant_is_invalid_input(world: World, clock: FakeClock) -> None:
    families = TwoFamilies(world, clock, big_first=True)
    anna = families.actor("Anna")
    with pytest.raises(InvalidInput) as raised:
        match_service.designate_regisseur(
            world.core, anna, families.big_id, families.actor("Dirk").id
        )
    assert [p.name for p in raised.value.problems] == ["professionalId"]
    with pytest.raises(NotFound):
        match_service.designate_regisseur(world.core, anna, families.small_id, anna.id)


def test_client_match_is_kept_per_child_while_the_family_merges(
    world: World, clock: FakeClock
) -> None:
    families = TwoFamilies(world, clock, big_first=True)
    # A second professional on Anna's child: a client match next to the family match.
    extra = world.actor(world.professional("Frank Test", "Organisation Frank"))
    signal(world.core, extra, CHILD_BSN, PARENT_BSN)
    page = match_service.list_matches(world.core, families.actor("Anna"), None, 100).items
    (client,) = [m for m in page if m.type is MatchType.CLIENT]
    assert participants(client) == {families.actor("Anna").id, extra.id}
    families.link()
    page = match_service.list_matches(world.core, extra, None, 100).items
    assert {m.type for m in page} == {MatchType.CLIENT, MatchType.FAMILY}
    assert [m.id for m in page if m.type is MatchType.CLIENT] == [client.id]
    family = next(m for m in page if m.type is MatchType.FAMILY)
    assert family.id == families.big_id
    assert extra.id in participants(family)
