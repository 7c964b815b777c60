"""Professionals posting at the same instant still end up in exactly one match.

Real threads, each with its own database connection, are released together by a barrier
so their transactions overlap. On PostgreSQL this exercises the advisory locks per person
(without them both transactions see no other signal and no match is made at all); on
SQLite it exercises `BEGIN IMMEDIATE` and the busy timeout.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import date

from sqlalchemy import func, select

from tests.conftest import World
from verwijsindex.domain import Informatieplicht, MatchType, NewSignal
from verwijsindex.models import MatchRow, MatchSignalRow
from verwijsindex.pseudonym import parse_bsn
from verwijsindex.services import Actor, Core
from verwijsindex.services.signals import register_signal

ROUNDS = 8
PROFESSIONALS = 4


def valid_bsns(count: int, start: int) -> list[str]:
    """Distinct nine-digit numbers that pass the elfproef."""
    found: list[str] = []
    number = start
    while len(found) < count:
        candidate = f"{number:09d}"
        if parse_bsn(candidate) is not None:
            found.append(candidate)
        number += 1
    return found


def new_signal(child: str, parents: list[str]) -> NewSignal:
    child_bsn = parse_bsn(child)
    parent_bsns = tuple(parse_bsn(p) for p in parents)
    assert child_bsn is not None and all(parent_bsns)
    return NewSignal(
        child=child_bsn,
        birth_date=date(2015, 3, 14),
        parents=parent_bsns,  # type: ignore[arg-type]
        informatieplicht=Informatieplicht(child_informed=True, parents_informed=True),
    )


def race(calls: list[Callable[[], object]]) -> None:
    """Run the calls in threads released at the same instant; re-raise any failure."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            call()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


def matches_of_type(core: Core, match_type: MatchType) -> list[tuple[uuid.UUID, int]]:
    """(match id, number of signals in it) for every stored match of that type."""
    with core.database.engine.connect() as connection:
        rows = connection.execute(
            select(MatchRow.id, func.count(MatchSignalRow.signal_id))
            .join(MatchSignalRow, MatchSignalRow.match_id == MatchRow.id)
            .where(MatchRow.type == match_type.value)
            .group_by(MatchRow.id)
        ).all()
    return [(row[0], row[1]) for row in rows]


def actors(world: World) -> list[Actor]:
    return [
        world.actor(world.professional(f"Professional {n}", f"Organisation {n}"))
        for n in range(PROFESSIONALS)
    ]


def test_simultaneous_signals_on_one_child_form_exactly_one_client_match(
    world: World, core: Core
) -> None:
    people = actors(world)
    children = valid_bsns(ROUNDS, 200_000_000)
    for child in children:
        race(
            [
                lambda actor=actor, child=child: register_signal(core, actor, new_signal(child, []))
                for actor in people
            ]
        )
    found = matches_of_type(core, MatchType.CLIENT)
    assert len(found) == ROUNDS
    assert all(size == PROFESSIONALS for _, size in found)


def test_simultaneous_signals_on_siblings_form_exactly_one_family_match(
    world: World, core: Core
) -> None:
    people = actors(world)
    numbers = valid_bsns(ROUNDS * (PROFESSIONALS + 1), 300_000_000)
    for round_number in range(ROUNDS):
        chunk = numbers[
            round_number * (PROFESSIONALS + 1) : (round_number + 1) * (PROFESSIONALS + 1)
        ]
        parent, siblings = chunk[0], chunk[1:]
        race(
            [
                lambda actor=actor, child=child, parent=parent: register_signal(
                    core, actor, new_signal(child, [parent])
                )
                for actor, child in zip(people, siblings, strict=True)
            ]
        )
    found = matches_of_type(core, MatchType.FAMILY)
    assert len(found) == ROUNDS
    assert all(size == PROFESSIONALS for _, size in found)


def test_signals_joining_a_family_through_different_parents_at_once_form_one_match(
    world: World, core: Core
) -> None:
    """Child C has parents P1 and P2; at the same instant A arrives with P1 and B with P2.

    Each writer first locks only its own parents, so this needs the lock-as-you-walk step
    (and, on PostgreSQL, deadlock detection with a retry) to end in one family match.
    """
    people = actors(world)
    numbers = valid_bsns(ROUNDS * 5, 400_000_000)
    for round_number in range(ROUNDS):
        p1, p2, a, b, c = numbers[round_number * 5 : round_number * 5 + 5]
        register_signal(core, people[0], new_signal(c, [p1, p2]))
        race(
            [
                lambda: register_signal(core, people[1], new_signal(a, [p1])),  # noqa: B023
                lambda: register_signal(core, people[2], new_signal(b, [p2])),  # noqa: B023
            ]
        )
    found = matches_of_type(core, MatchType.FAMILY)
    assert len(found) == ROUNDS
    assert all(size == 3 for _, size in found)
