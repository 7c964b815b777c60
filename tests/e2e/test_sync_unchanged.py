"""A second identical `PUT /sync/signals` passes its unchanged items by
(`services.sync_unchanged`, issue 12's performance target), and nothing else changes: every
case that must still take the full path gives the report and the signals it gave before.
Through the real app, on SQLite and PostgreSQL.

Tests marked with the `shortcut` fixture run twice: with items passed by, and with the
comparison switched off (every item validated and applied by the worker, as before the
shortcut existed), and assert the same outcome both times.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import fields, replace
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.conftest import CHILD_BSN, PARENT_BSN, SIBLING_BSN, FakeClock, World
from tests.e2e.test_privacy import database_contents, forbidden_forms
from tests.e2e.test_sync_api import active_signals, item, report, source, valid_bsns
from verwijsindex.api.sync_items import read_items
from verwijsindex.domain import Informatieplicht, Postponement, PostponementReason, Role
from verwijsindex.models import AuditEventRow, SignalRow, SyncRunItemRow
from verwijsindex.repository.bulk import BulkRepository
from verwijsindex.services import Core, sync_unchanged
from verwijsindex.services import sync as sync_service
from verwijsindex.services.auth import SystemCaller
from verwijsindex.services.bulk import Feed
from verwijsindex.services.delivery import Worker
from verwijsindex.services.directory import deactivate_professional
from verwijsindex.services.sync import SyncItem

N = 6
_DAY = date(2027, 1, 1)


def pupils(world: World, count: int = N) -> tuple[Any, list[dict[str, Any]]]:
    anna = world.professional("Anna Jansen")
    return anna, [item(f"pupil-{i}", anna, bsn) for i, bsn in enumerate(valid_bsns(count))]


def run_items(core: Core, run_id: str) -> list[tuple[int, str, str | None]]:
    """(position, state, child pseudonym) of each item the run stored."""
    with core.transaction(write=False) as tx:
        rows = tx.uow.session.execute(
            select(SyncRunItemRow.position, SyncRunItemRow.state, SyncRunItemRow.child_pseudonym)
            .where(SyncRunItemRow.run_id == uuid.UUID(run_id))
            .order_by(SyncRunItemRow.position)
        ).all()
    return [(p, s, c) for p, s, c in rows]


def fingerprints(core: Core) -> list[str | None]:
    with core.transaction(write=False) as tx:
        return list(tx.uow.session.scalars(select(SignalRow.feed_fingerprint)))


@pytest.fixture(params=["passed by", "full path"])
def shortcut(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """With the comparison on, or off (`pass_by` passes nothing by)."""
    if request.param == "full path":
        monkeypatch.setattr(sync_service, "pass_by", lambda *_: sync_unchanged.NOTHING)
    return bool(request.param == "passed by")


# --- what the shortcut saves ---------------------------------------------------------------------


def test_a_second_identical_sync_is_done_at_once_with_no_items_stored(
    world: World, core: Core
) -> None:
    _, items = pupils(world)
    school = source(world, world.organisation("School A"))
    school.sync(items)

    accepted = school.put(items)

    assert accepted.status_code == 202, accepted.get_json()
    run = accepted.get_json()
    assert (run["status"], run["total"], run["processed"]) == ("done", N, N)
    assert report(run) == (0, 0, 0, N) and run["report"]["errors"] == []
    assert run_items(core, run["id"]) == []
    assert Worker(core).apply_sync_runs() == 0  # nothing was left for a worker
    assert school.run(accepted.headers["Location"]) == run
    with core.transaction(write=False) as tx:
        actions = set(
            tx.uow.session.scalars(
                select(AuditEventRow.action).where(AuditEventRow.object_id == uuid.UUID(run["id"]))
            )
        )
    assert actions >= {"api:sync-run:create", "api:sync-run:apply"}


def test_one_changed_item_is_the_only_one_validated_and_applied(world: World, core: Core) -> None:
    anna, items = pupils(world)
    school = source(world, anna.organisation_id)
    school.sync(items)
    changed = [*items]
    changed[2] = item("pupil-2", anna, items[2]["bsn"], parents=[PARENT_BSN])
    changed[4] = {**items[4], "informatieplicht": {"childInformed": False, "parentsInformed": True}}

    accepted = school.put(changed)

    assert accepted.get_json()["status"] == "queued"
    stored = run_items(core, accepted.get_json()["id"])
    # The changed items pseudonymised and pending; the rest only as their references.
    assert [(p, s) for p, s, c in stored if c is not None] == [(2, "pending"), (4, "pending")]
    assert {(p, s, c) for p, s, c in stored if p not in (2, 4)} == {
        (p, "applied", None) for p in (0, 1, 3, 5)
    }
    Worker(core).apply_sync_runs()
    run = school.run(accepted.headers["Location"])
    # New parents are not something a sync changes (as before): that item is unchanged too.
    assert report(run) == (0, 1, 0, N - 1)
    assert (run["status"], run["processed"]) == ("done", N)


def test_an_item_left_out_is_closed_and_the_rest_passed_by(
    world: World, core: Core, shortcut: bool
) -> None:
    anna, items = pupils(world)
    school = source(world, anna.organisation_id)
    school.sync(items)

    run = school.sync(items[1:])

    assert report(run) == (0, 0, 1, N - 1)
    assert len(active_signals(anna)) == N - 1
    assert school.sync(items[1:])["report"]["closed"] == 0


def test_a_body_that_is_identical_but_for_an_error_is_done_at_once_with_the_error(
    world: World, core: Core
) -> None:
    anna, items = pupils(world)
    school = source(world, anna.organisation_id)
    school.sync(items)

    accepted = school.put([*items, item("bad", anna, "111222334")])

    run = accepted.get_json()
    assert (run["status"], report(run)) == ("done", (0, 0, 0, N))
    assert [e["externalRef"] for e in run["report"]["errors"]] == ["bad"]
    assert school.run(accepted.headers["Location"])["report"] == run["report"]


# --- what must still take the full path ---------------------------------------------------------


def test_a_synced_signal_closed_by_hand_is_recreated_by_the_next_identical_sync(
    world: World, core: Core, shortcut: bool
) -> None:
    anna, items = pupils(world)
    school = source(world, anna.organisation_id)
    school.sync(items)
    closed = active_signals(anna)[0]["id"]
    assert anna.delete(f"/api/v1/signals/{closed}").status_code == 204

    run = school.sync(items)

    assert report(run) == (1, 0, 0, N - 1)
    assert len(active_signals(anna)) == N
    assert closed not in {s["id"] for s in active_signals(anna)}


def test_a_synced_signal_erased_by_hand_is_recreated_by_the_next_identical_sync(
    world: World, core: Core, shortcut: bool
) -> None:
    anna, items = pupils(world)
    school = source(world, anna.organisation_id)
    school.sync(items)
    erased = active_signals(anna)[0]["id"]
    assert anna.delete(f"/api/v1/signals/{erased}?reason=unjustified").status_code == 204

    run = school.sync(items)

    assert report(run) == (1, 0, 0, N - 1)
    assert len(active_signals(anna)) == N


def test_a_synced_signal_patched_by_hand_gets_its_sources_informatieplicht_back(
    world: World, core: Core, shortcut: bool
) -> None:
    anna, items = pupils(world)
    school = source(world, anna.organisation_id)
    school.sync(items)
    signal = active_signals(anna)[0]
    patched = anna.patch(
        f"/api/v1/signals/{signal['id']}", json={"informatieplicht": {"childInformed": False}}
    )
    assert patched.status_code == 200, patched.get_json()

    run = school.sync(items)

    assert report(run) == (0, 1, 0, N - 1)
    back = anna.get(f"/api/v1/signals/{signal['id']}").get_json()
    assert back["informatieplicht"]["childInformed"] is True
    # Applied again, it has its fingerprint again: the next identical sync passes it by.
    assert school.put(items).get_json()["status"] == ("done" if shortcut else "queued")


def test_a_justification_patched_by_hand_gets_its_sources_back(
    world: World, core: Core, shortcut: bool
) -> None:
    """Only the cleared fingerprint can tell: the reason and review date stay the same, and
    the justification is not compared (it is sealed)."""
    anna, items = pupils(world, 2)
    postponement = {
        "reason": "not_in_interest_of_child",
        "justification": "Informeren brengt het kind nu in gevaar.",
        "reviewOn": "2027-06-01",
    }
    duty = {"childInformed": False, "parentsInformed": False, "postponement": postponement}
    items[0] = {**items[0], "informatieplicht": duty}
    school = source(world, anna.organisation_id)
    school.sync(items)
    [signal] = [s for s in active_signals(anna) if s["informatieplicht"]["postponed"]]
    rewritten = {**postponement, "justification": "Anders verwoord."}
    patched = anna.patch(
        f"/api/v1/signals/{signal['id']}",
        json={"informatieplicht": {"postponement": rewritten}},
    )
    assert patched.status_code == 200, patched.get_json()

    run = school.sync(items)

    assert report(run) == (0, 1, 0, 1)
    with core.transaction(write=False) as tx:
        row = tx.signals.signal_row(uuid.UUID(signal["id"]))
        assert row is not None
        opened = BulkRepository(tx.uow.session, tx.keys).justification(row)
    assert opened == postponement["justification"]


def test_a_signal_moved_to_a_colleague_behind_the_fingerprints_back_is_noticed(
    world: World, core: Core, shortcut: bool
) -> None:
    """As a transfer would (contract 10) if it forgot to clear the fingerprint: the signal's
    professional is compared too, and the sync does what it always did with a reference
    that names another professional: close that signal, create the source's."""
    anna, items = pupils(world)
    bart = world.professional("Bart de Vries")
    school = source(world, anna.organisation_id)
    school.sync(items)
    moved = active_signals(anna)[0]["id"]
    with core.transaction(write=True) as tx:
        tx.uow.session.execute(
            update(SignalRow)
            .where(SignalRow.id == uuid.UUID(moved))
            .values(professional_id=bart.professional_id)
        )
        tx.commit()

    run = school.sync(items)

    assert report(run) == (1, 0, 1, N - 1)
    assert len(active_signals(anna)) == N and active_signals(bart) == []


def test_a_put_while_an_earlier_run_is_queued_takes_the_full_path_in_order(
    world: World, core: Core
) -> None:
    anna, items = pupils(world)
    school = source(world, anna.organisation_id)
    school.sync(items)
    told = {"childInformed": False, "parentsInformed": True}
    changing = school.put([{**items[0], "informatieplicht": told}, *items[1:]])
    assert changing.get_json()["status"] == "queued"

    # Identical to what the index holds now, but not to what the queued run will make of it.
    restoring = school.put(items)

    assert restoring.get_json()["status"] == "queued"
    stored = run_items(core, restoring.get_json()["id"])
    assert [s for _, s, _ in stored] == ["pending"] * N and all(c for _, _, c in stored)
    Worker(core).apply_sync_runs()
    assert report(school.run(changing.headers["Location"])) == (0, 1, 0, N - 1)
    assert report(school.run(restoring.headers["Location"])) == (0, 1, 0, N - 1)
    first = [s for s in active_signals(anna) if s["informatieplicht"]["childInformed"] is False]
    assert first == []  # the later run's state won: the source's current one


def test_a_run_accepted_while_the_body_was_compared_sends_the_body_the_full_path(
    world: World, core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    anna, items = pupils(world)
    school = source(world, anna.organisation_id)
    school.sync(items)
    caller = SystemCaller(uuid.UUID(school.client_id), anna.organisation_id)
    told = {"childInformed": False, "parentsInformed": True}
    changing = [{**items[0], "informatieplicht": told}, *items[1:]]
    compare = sync_unchanged.pass_by
    between: list[sync_service.RunView] = []
    inner = False

    def another_run_meanwhile(*args: Any) -> sync_unchanged.Passed:
        nonlocal inner
        passed = compare(*args)
        if not inner:  # the other request, accepted after this one's comparison
            inner = True
            between.append(
                sync_service.accept_sync(core, caller, read_items(changing), dry_run=False)
            )
        return passed

    monkeypatch.setattr(sync_service, "pass_by", another_run_meanwhile)
    accepted = school.put(items)

    assert between[0].status == "queued"
    assert accepted.get_json()["status"] == "queued"
    assert [s for _, s, _ in run_items(core, accepted.get_json()["id"])] == ["pending"] * N
    Worker(core).apply_sync_runs()
    assert report(school.run(accepted.headers["Location"])) == (0, 1, 0, N - 1)
    assert all(s["informatieplicht"]["childInformed"] for s in active_signals(anna))


def test_an_item_whose_review_date_passed_is_reported_as_before(
    world: World, core: Core, clock: FakeClock, shortcut: bool
) -> None:
    anna, items = pupils(world, 2)
    postponed = {
        "childInformed": False,
        "parentsInformed": False,
        "postponement": {
            "reason": "not_in_interest_of_child",
            "justification": "Niet nu.",
            "reviewOn": "2026-12-01",
        },
    }
    items[0] = {**items[0], "informatieplicht": postponed}
    school = source(world, anna.organisation_id)
    assert report(school.sync(items)) == (2, 0, 0, 0)
    clock.advance(days=10)  # past the review date: the same item is no longer valid
    school.refresh()

    run = school.sync(items)

    assert report(run) == (0, 0, 0, 1)
    [error] = run["report"]["errors"]
    assert error["externalRef"] == "pupil-0"
    assert [p["name"] for p in error["invalidParams"]] == ["informatieplicht.postponement.reviewOn"]
    with core.transaction(write=False) as tx:  # (Anna's personal token has expired)
        statuses = list(tx.uow.session.scalars(select(SignalRow.status)))
    assert statuses == ["active", "active"]  # an item in error keeps its signal


def test_an_item_of_a_deactivated_professional_is_reported_as_before(
    world: World, core: Core, shortcut: bool
) -> None:
    anna, items = pupils(world, 2)
    bart = world.professional("Bart de Vries")
    items[1] = item("pupil-1", bart, items[1]["bsn"])
    school = source(world, anna.organisation_id)
    school.sync(items)
    beheerder = world.actor(world.professional("Bea Beheer", roles=(Role.BEHEERDER.value,)))
    deactivate_professional(core, beheerder, bart.professional_id)

    run = school.sync(items)

    assert report(run) == (0, 0, 0, 1)
    assert [(e["externalRef"], [p["name"] for p in e["invalidParams"]]) for e in _errors(run)] == [
        ("pupil-1", ["professionalId"])
    ]


def test_two_items_on_one_professional_and_child_are_both_applied_as_before(
    world: World, core: Core, shortcut: bool
) -> None:
    anna, items = pupils(world, 2)
    school = source(world, anna.organisation_id)
    school.sync(items)

    run = school.sync([*items, item("pupil-0-again", anna, items[0]["bsn"])])

    assert report(run) == (0, 0, 0, 2)
    assert [e["externalRef"] for e in _errors(run)] == ["pupil-0-again"]


def test_signals_without_a_fingerprint_get_one_from_the_next_sync(world: World, core: Core) -> None:
    """As after the upgrade that brought fingerprints: signals synced before carry none."""
    _, items = pupils(world)
    school = source(world, world.organisation("School A"))
    school.sync(items)
    with core.transaction(write=True) as tx:
        tx.uow.session.execute(update(SignalRow).values(feed_fingerprint=None))
        tx.commit()

    first = school.put(items)
    assert first.get_json()["status"] == "queued"
    Worker(core).apply_sync_runs()

    assert report(school.run(first.headers["Location"])) == (0, 0, 0, N)
    assert None not in fingerprints(core)
    assert school.put(items).get_json()["status"] == "done"


def test_a_dry_run_passes_unchanged_items_by_and_reports_as_before(
    world: World, core: Core, shortcut: bool
) -> None:
    anna, items = pupils(world)
    school = source(world, anna.organisation_id)
    school.sync(items)

    identical = school.sync(items, dry_run=True)
    changed = school.sync([*items[1:], item("new", anna, CHILD_BSN)], dry_run=True)

    assert (identical["dryRun"], report(identical)) == (True, (0, 0, 0, N))
    assert (changed["dryRun"], report(changed)) == (True, (1, 0, 1, N - 1))
    assert len(active_signals(anna)) == N


# --- the fingerprint ----------------------------------------------------------------------------


def test_the_fingerprint_covers_every_field_of_an_item(world: World, core: Core) -> None:
    """A field the fingerprint left out would let a change to it pass as unchanged: a new
    field of `SyncItem` fails here until it is in the fingerprint (and given a value below)."""
    anna = world.professional("Anna Jansen")
    feed = Feed(anna.organisation_id, uuid.uuid4())
    postponed = Informatieplicht(
        False, False, Postponement(PostponementReason.NOT_IN_INTEREST_OF_CHILD, "Nu niet.", _DAY)
    )
    base = SyncItem("pupil-1", anna.professional_id, CHILD_BSN, _DAY, [PARENT_BSN], postponed)
    other = {
        "external_ref": "pupil-2",
        "professional_id": uuid.uuid4(),
        "bsn": SIBLING_BSN,
        "birth_date": _DAY.replace(day=2),
        "parent_bsns": [PARENT_BSN, SIBLING_BSN],
        "informatieplicht": replace(postponed, child_informed=True),
    }
    duty = [
        replace(postponed, parents_informed=True),
        Informatieplicht(False, False, None),
        replace(postponed, postponement=replace(postponed.postponement, justification="Later.")),
        replace(
            postponed, postponement=replace(postponed.postponement, review_on=_DAY.replace(month=2))
        ),
        replace(
            postponed,
            postponement=replace(
                postponed.postponement, reason=PostponementReason.NOT_REASONABLY_POSSIBLE
            ),
        ),
    ]
    named = {f.name for f in fields(SyncItem)} - {"problems"}
    assert named == set(other), "a new SyncItem field: put it in the fingerprint, and here"

    mark = sync_unchanged.fingerprint(core, feed, base)
    variants = [replace(base, **{name: value}) for name, value in other.items()]
    variants += [replace(base, informatieplicht=d) for d in duty]
    variants.append(replace(base, external_ref="pupil-1", parent_bsns=[PARENT_BSN]))  # same
    marks = [sync_unchanged.fingerprint(core, feed, v) for v in variants]

    assert mark is not None and None not in marks
    assert marks[:-1].count(mark) == 0 and marks[-1] == mark
    assert len(set(marks[:-1])) == len(marks) - 1
    other_client = sync_unchanged.fingerprint(core, Feed(anna.organisation_id, uuid.uuid4()), base)
    assert other_client != mark
    parents_reordered = replace(base, parent_bsns=[SIBLING_BSN, PARENT_BSN])
    assert sync_unchanged.fingerprint(core, feed, parents_reordered) == sync_unchanged.fingerprint(
        core, feed, replace(base, parent_bsns=[PARENT_BSN, SIBLING_BSN])
    )


# --- privacy ------------------------------------------------------------------------------------


def test_the_fingerprint_is_keyed_not_a_plain_hash_of_a_bsn_or_of_the_item(
    world: World, core: Core
) -> None:
    anna = world.professional("Anna Jansen")
    school = source(world, anna.organisation_id)
    sent = item("pupil-1", anna, CHILD_BSN, parents=[PARENT_BSN, SIBLING_BSN])
    school.sync([sent])

    [stored] = fingerprints(core)

    assert stored is not None and len(stored) == 64
    texts = [CHILD_BSN, PARENT_BSN, SIBLING_BSN, *_json_forms(sent)]
    plain = {
        getattr(hashlib, name)(t.encode()).hexdigest()
        for t in texts
        for name in ("sha256", "sha1", "md5", "sha512", "blake2b")
    }
    assert stored.lower() not in plain and stored.upper() not in {p.upper() for p in plain}
    contents = database_contents(core)
    for bsn in (CHILD_BSN, PARENT_BSN, SIBLING_BSN):
        for form in forbidden_forms(bsn):
            assert form not in contents, bsn


# --- helpers --------------------------------------------------------------------------------------


def _errors(run: dict[str, Any]) -> Sequence[dict[str, Any]]:
    errors: list[dict[str, Any]] = run["report"]["errors"]
    return errors


def _json_forms(sent: dict[str, Any]) -> list[str]:
    """The item as JSON the ways a hand-rolled fingerprint would write it."""
    return [
        json.dumps(sent),
        json.dumps(sent, sort_keys=True),
        json.dumps(sent, separators=(",", ":")),
        json.dumps(sent, sort_keys=True, separators=(",", ":")),
        json.dumps({"signals": [sent]}),
    ]
