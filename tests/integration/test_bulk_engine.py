"""The bulk engine (`services.bulk`) under the CSV import and the API sync, on both databases:
what a batch creates, updates, leaves alone and closes, the matches and mails it causes, its
audit records, its cost in statements, and its behaviour next to ordinary registrations.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from tests.conftest import (
    CHILD_BSN,
    OTHER_CHILD_BSN,
    PARENT_BSN,
    SIBLING_BSN,
    ApiClient,
    FakeClock,
    World,
)
from tests.integration.test_concurrency import new_signal, race, valid_bsns
from tests.sql_statements import watch_statements
from verwijsindex import domain
from verwijsindex.audit import Who
from verwijsindex.domain import (
    Informatieplicht,
    InvalidInput,
    MatchType,
    Postponement,
    PostponementReason,
)
from verwijsindex.models import AuditEventRow, MatchRow, MatchSignalRow, OutboxRow, SignalRow
from verwijsindex.repository.statistics import counts_between
from verwijsindex.services import Core
from verwijsindex.services import admin as admin_service
from verwijsindex.services.audit_log import verify_audit_log
from verwijsindex.services.bulk import (
    BATCH_SIZE,
    BulkReport,
    DesiredSignal,
    Feed,
    apply_batch,
    close_absent,
    desired_signal,
    external_ref_digest,
    refresh_statistics,
    roster,
)
from verwijsindex.services.lifecycle import run_maintenance
from verwijsindex.services.signals import register_signal

INFORMED = Informatieplicht(child_informed=True, parents_informed=True)
CLI = Who(None)


def _sync_who(feed: Feed) -> Who:
    return Who(None, feed.client_id, ("system",), "system")


def item(
    core: Core,
    feed: Feed,
    professional: ApiClient | uuid.UUID,
    bsn: str,
    *,
    position: int = 1,
    parents: tuple[str, ...] = (),
    ref: str | None = None,
    duty: Informatieplicht = INFORMED,
    birth_date: date = date(2015, 3, 14),
    registered_on: date | None = None,
    migration: bool = False,
) -> DesiredSignal:
    return desired_signal(
        core,
        position=position,
        professional_id=(
            professional.professional_id if isinstance(professional, ApiClient) else professional
        ),
        bsn=bsn,
        birth_date=birth_date,
        parent_bsns=parents,
        informatieplicht=duty,
        external_ref=ref,
        feed=feed,
        registered_on=registered_on,
        migration=migration,
    )


def signals_of(core: Core, professional: ApiClient) -> list[Any]:
    return rows(
        core, select(SignalRow).where(SignalRow.professional_id == professional.professional_id)
    )


def rows(core: Core, statement: Any) -> list[Any]:
    with core.database.engine.connect() as connection:
        return list(connection.execute(statement).all())


def client_matches(core: Core) -> list[tuple[uuid.UUID, str]]:
    return [
        (m, t)
        for m, t in rows(core, select(MatchRow.id, MatchRow.type))
        if t == MatchType.CLIENT.value
    ]


def test_a_batch_creates_every_signal_and_running_it_again_changes_nothing(
    core: Core, world: World
) -> None:
    anna = world.professional("Anna Jansen")
    feed = Feed(anna.organisation_id)
    items = [
        item(core, feed, anna, bsn, position=n + 2)
        for n, bsn in enumerate(valid_bsns(5, 100_000_000))
    ]

    first = apply_batch(core, CLI, feed, items)
    again = apply_batch(core, CLI, feed, items)

    assert (first.created, first.unchanged, first.skipped) == (5, 0, [])
    assert (again.created, again.updated, again.unchanged, again.skipped) == (0, 0, 5, [])
    stored = rows(core, select(SignalRow.feed, SignalRow.status, SignalRow.feed_client_id))
    assert stored == [("import", "active", None)] * 5


def test_a_dry_run_reports_the_same_and_writes_nothing(core: Core, world: World) -> None:
    anna = world.professional("Anna Jansen")
    feed = Feed(anna.organisation_id)
    items = [item(core, feed, anna, bsn) for bsn in valid_bsns(3, 100_000_000)]
    seen: list[BulkReport] = []

    report = apply_batch(
        core, CLI, feed, items, dry_run=True, in_same_transaction=lambda tx, r: seen.append(r)
    )

    assert report.created == 3 and seen == [report]
    assert rows(core, select(SignalRow.id)) == []
    assert rows(core, select(AuditEventRow.seq).where(AuditEventRow.object_type == "signal")) == []


def test_a_changed_informatieplicht_updates_the_feeds_own_signal_like_a_patch(
    core: Core, world: World, clock: FakeClock
) -> None:
    anna = world.professional("Anna Jansen")
    feed = Feed(anna.organisation_id)
    teenager = date(2012, 1, 1)  # 14: child and parents must be informed, or a postponement
    postponed = Informatieplicht(
        child_informed=False,
        parents_informed=False,
        postponement=Postponement(
            PostponementReason.NOT_IN_INTEREST_OF_CHILD,
            "Veiligheid van het kind gaat voor.",
            domain.local_date(clock()) + timedelta(days=60),
        ),
    )
    apply_batch(core, CLI, feed, [item(core, feed, anna, CHILD_BSN, birth_date=teenager)])

    tried = apply_batch(
        core,
        CLI,
        feed,
        [item(core, feed, anna, CHILD_BSN, birth_date=teenager, duty=postponed)],
        dry_run=True,
    )
    assert tried.updated == 1 and signals_of(core, anna)[0].postponement_reason is None
    changed = apply_batch(
        core, CLI, feed, [item(core, feed, anna, CHILD_BSN, birth_date=teenager, duty=postponed)]
    )
    same = apply_batch(
        core, CLI, feed, [item(core, feed, anna, CHILD_BSN, birth_date=teenager, duty=postponed)]
    )

    assert (changed.updated, changed.created, same.unchanged, same.updated) == (1, 0, 1, 0)
    (row,) = signals_of(core, anna)
    assert (row.child_informed, row.postponement_reason) == (False, "not_in_interest_of_child")
    assert b"Veiligheid" not in row.postponement_justification_enc  # sealed, as a PATCH does
    signal = anna.get(f"/api/v1/signals/{row.id}").get_json()
    assert signal["informatieplicht"]["postponed"] is True
    actions = [a.split(":", 1)[1] for (a,) in rows(core, select(AuditEventRow.action))]
    assert actions.count("signal:update") == 1


def test_batch_items_form_client_and_family_matches_with_hand_registered_signals_and_mail_them(
    core: Core, world: World
) -> None:
    anna = world.professional("Anna Jansen", "School A", "onderwijs")
    bert = world.professional("Bert de Vries", "Team B", "jeugdhulp")
    carla = world.professional("Carla Smit", "Team B", "jeugdhulp")
    anna.signal(CHILD_BSN, parents=[PARENT_BSN])
    feed = Feed(bert.organisation_id)

    report = apply_batch(
        core,
        CLI,
        feed,
        [
            item(core, feed, bert, CHILD_BSN, position=2),
            item(core, feed, carla, SIBLING_BSN, position=3, parents=(PARENT_BSN,)),
        ],
    )

    assert report.created == 2
    kinds = sorted(m["type"] for m in anna.get("/api/v1/matches").get_json()["items"])
    assert kinds == ["client", "family"]
    (family,) = [m for m in carla.get("/api/v1/matches").get_json()["items"]]
    assert family["type"] == "family"
    mailed = rows(core, select(OutboxRow.professional_id).where(OutboxRow.channel == "email"))
    assert {p for (p,) in mailed} == {
        anna.professional_id,
        bert.professional_id,
        carla.professional_id,
    }


def test_a_migration_forms_matches_without_mail_and_keeps_the_registration_date(
    core: Core, world: World, clock: FakeClock
) -> None:
    anna = world.professional("Anna Jansen", "School A", "onderwijs")
    bert = world.professional("Bert de Vries", "Team B", "jeugdhulp")
    anna.signal(CHILD_BSN)
    feed = Feed(bert.organisation_id)
    registered_on = domain.local_date(clock()) - timedelta(days=400)
    system = admin_service.create_system_client(core, bert.organisation_id)
    with core.transaction(write=True) as tx:
        hook = "https://jeugdhulp.example/hooks"
        tx.webhooks.add_subscription(system.client_id, hook, ["match.created"], "s", tx.now)
        tx.commit()

    report = apply_batch(
        core,
        CLI,
        feed,
        [item(core, feed, bert, CHILD_BSN, registered_on=registered_on, migration=True)],
        migration=True,
    )

    assert report.created == 1
    (row,) = signals_of(core, bert)
    assert row.created_at == domain.start_of_local_day(registered_on)
    assert row.active_until == domain.add_years_dt(row.created_at, domain.ACTIVE_YEARS)
    assert len(client_matches(core)) == 1
    assert rows(core, select(OutboxRow.id).where(OutboxRow.channel == "email")) == []
    # Webhooks still go: a source system hears of the match as of any other change.
    hooks = rows(core, select(OutboxRow.topic).where(OutboxRow.channel == "webhook"))
    assert hooks == [("match.created",)]


@pytest.mark.parametrize(
    ("days_ago", "migration", "reason"),
    [
        (-1, True, "The registration date lies in the future."),
        (2 * 366, True, "no longer active"),
        (10, False, "Only a migration keeps an original registration date."),
    ],
)
def test_an_original_registration_date_is_refused_when_future_too_old_or_not_a_migration(
    core: Core, world: World, clock: FakeClock, days_ago: int, migration: bool, reason: str
) -> None:
    anna = world.professional("Anna Jansen")
    feed = Feed(anna.organisation_id)
    registered_on = domain.local_date(clock()) - timedelta(days=days_ago)

    with pytest.raises(InvalidInput) as refused:
        item(core, feed, anna, CHILD_BSN, registered_on=registered_on, migration=migration)

    (problem,) = refused.value.problems
    assert problem.name == "registeredOn" and reason in problem.reason


def test_bad_items_are_skipped_with_their_line_and_reasons_and_never_a_bsn(
    core: Core, world: World
) -> None:
    anna = world.professional("Anna Jansen", "School A")
    stranger = world.professional("Erik Vos", "Elders", "jeugdhulp")
    feed = Feed(anna.organisation_id)
    with pytest.raises(InvalidInput) as refused:
        item(core, feed, anna, "111222334", parents=(CHILD_BSN, "123456789"))
    names = sorted(p.name for p in refused.value.problems)
    assert names == ["bsn", "parentBsns[1]"]

    report = apply_batch(
        core,
        CLI,
        feed,
        [
            item(core, feed, anna, CHILD_BSN, position=2),
            item(core, feed, anna, CHILD_BSN, position=3),
            item(core, feed, stranger, OTHER_CHILD_BSN, position=4),
        ],
    )

    shown = report.as_json()
    assert shown["created"] == 1
    assert [s["line"] for s in shown["skipped"]] == [3, 4]
    assert shown["skipped"][0]["invalidParams"][0]["reason"] == (
        "The same professional and child as line 2."
    )
    assert shown["skipped"][1]["invalidParams"] == [
        {"name": "professional", "reason": "Not an active professional of this organisation."}
    ]
    text = json.dumps(shown) + repr(refused.value.problems)
    for bsn in (CHILD_BSN, OTHER_CHILD_BSN, "111222334", "123456789"):
        assert bsn not in text


def test_a_roster_finds_active_professionals_of_the_organisation_by_id_or_address(
    core: Core, world: World
) -> None:
    anna = world.professional("Anna Jansen", "School A")
    stranger = world.professional("Erik Vos", "Elders", "jeugdhulp")
    found = roster(core, anna.organisation_id)

    assert found.find(" Anna.Jansen@Example.org ") == anna.professional_id
    assert found.find(str(anna.professional_id)) == anna.professional_id
    assert found.find(str(stranger.professional_id)) is None
    assert found.find("erik.vos@example.org") is None
    assert anna.professional_id in found and stranger.professional_id not in found


def test_close_absent_closes_only_its_own_feeds_signals(core: Core, world: World) -> None:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert de Vries", "School A")
    ours = Feed(anna.organisation_id, uuid.uuid4())
    theirs = Feed(anna.organisation_id, uuid.uuid4())
    imported = Feed(anna.organisation_id)
    first, second, third, fourth = valid_bsns(4, 200_000_000)
    hand = anna.signal(fourth)
    apply_batch(
        core,
        _sync_who(ours),
        ours,
        [
            item(core, ours, anna, first, ref="L-1", position=0),
            item(core, ours, anna, second, ref="L-2", position=1),
        ],
    )
    apply_batch(core, _sync_who(theirs), theirs, [item(core, theirs, anna, third, ref="L-3")])
    apply_batch(core, CLI, imported, [item(core, imported, bert, first)])

    closed = close_absent(core, _sync_who(ours), ours, {external_ref_digest(core, ours, "L-1")})
    closed_imports = close_absent(core, CLI, imported, set())

    assert (closed, closed_imports) == (1, 1)
    status = {
        (p, r): (s, c)
        for p, r, s, c in rows(
            core,
            select(
                SignalRow.professional_id,
                SignalRow.external_ref,
                SignalRow.status,
                SignalRow.close_reason,
            ),
        )
    }
    assert status[anna.professional_id, external_ref_digest(core, ours, "L-2")] == (
        "archived",
        "risk_gone",
    )
    assert status[anna.professional_id, external_ref_digest(core, ours, "L-1")][0] == "active"
    assert status[anna.professional_id, external_ref_digest(core, theirs, "L-3")][0] == "active"
    assert status[bert.professional_id, None] == ("archived", "risk_gone")
    assert anna.get(f"/api/v1/signals/{hand['id']}").get_json()["status"] == "active"


def test_a_sync_never_adopts_a_hand_made_signal_and_moves_a_reference_to_another_child(
    core: Core, world: World
) -> None:
    anna = world.professional("Anna Jansen", "School A")
    feed = Feed(anna.organisation_id, uuid.uuid4())
    hand = anna.signal(CHILD_BSN)
    who = _sync_who(feed)

    adopted = apply_batch(core, who, feed, [item(core, feed, anna, CHILD_BSN, ref="L-1")])
    created = apply_batch(core, who, feed, [item(core, feed, anna, OTHER_CHILD_BSN, ref="L-2")])
    moved = apply_batch(core, who, feed, [item(core, feed, anna, SIBLING_BSN, ref="L-2")])
    close_absent(core, who, feed, set())

    assert (adopted.unchanged, adopted.created) == (1, 0)
    assert created.created == 1
    assert (moved.closed, moved.created) == (1, 1)
    assert anna.get(f"/api/v1/signals/{hand['id']}").get_json()["status"] == "active"
    statuses = sorted(s for (s,) in rows(core, select(SignalRow.status)))
    assert statuses == ["active", "archived", "archived"]


def test_each_item_has_its_own_audit_record_naming_its_professional_and_the_chain_verifies(
    core: Core, world: World
) -> None:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert de Vries", "School A")
    feed = Feed(anna.organisation_id, uuid.uuid4())
    first, second = valid_bsns(2, 300_000_000)

    apply_batch(
        core,
        _sync_who(feed),
        feed,
        [item(core, feed, anna, first, ref="a"), item(core, feed, bert, second, ref="b")],
    )
    close_absent(core, _sync_who(feed), feed, {external_ref_digest(core, feed, "a")})

    records = rows(
        core,
        select(
            AuditEventRow.action,
            AuditEventRow.actor_id,
            AuditEventRow.on_behalf_of,
            AuditEventRow.object_id,
            AuditEventRow.credential,
        ).where(AuditEventRow.object_type == "signal"),
    )
    by_object = {o: (a, actor, via, c) for a, actor, via, o, c in records}
    signal_ids = {s.id: s.professional_id for s in signals_of(core, anna) + signals_of(core, bert)}
    assert len(records) == 3 and set(by_object) == set(signal_ids)
    for signal_id, professional_id in signal_ids.items():
        action, actor, via, credential = by_object[signal_id]
        if professional_id == bert.professional_id:
            # created, then closed in a later transaction: the newest record wins here
            assert action.endswith(":signal:close")
        assert (actor, via, credential) == (professional_id, feed.client_id, "system")
    # The source in front of each action (cli, api, ...) is the request context's.
    assert sorted(a.split(":", 1)[1] for a, *_ in records) == [
        "signal:close",
        "signal:create",
        "signal:create",
    ]
    assert verify_audit_log(core).ok


def test_a_batch_of_new_unrelated_signals_costs_a_constant_number_of_statements(
    core: Core, world: World
) -> None:
    anna = world.professional("Anna Jansen")
    feed = Feed(anna.organisation_id)
    bsns = valid_bsns(440, 400_000_000)

    def unrelated(children: list[str], parents: list[str]) -> list[DesiredSignal]:
        return [
            item(core, feed, anna, c, parents=(p,)) for c, p in zip(children, parents, strict=True)
        ]

    small, large = unrelated(bsns[:20], bsns[20:40]), unrelated(bsns[40:240], bsns[240:])
    apply_batch(core, CLI, feed, [item(core, feed, anna, CHILD_BSN)])  # warm-up: audit heads

    with watch_statements(core.database.engine) as for_small:
        apply_batch(core, CLI, feed, small)
    with watch_statements(core.database.engine) as for_large:
        report = apply_batch(core, CLI, feed, large)

    assert report.created == 200
    # [PostgreSQL] whether the planner's statistics are stale (in a transaction of its own,
    # before the batch: `bulk.refresh_statistics`); [PostgreSQL] SET LOCAL
    # random_page_cost (`BulkRepository.prefer_index_probes`); professionals; [PostgreSQL]
    # locks; the existing signals; the surroundings; INSERT signals with parents [SQLite:
    # two]; statistics; audit 2 [SQLite: 4]. No matching: nobody else is in these families.
    # (10 on PostgreSQL; 8 before the statistics and the index probes were seen to.)
    assert for_large.count == for_small.count, for_large.describe()
    assert for_large.count <= 10, for_large.describe()


@pytest.mark.postgres_only
def test_a_batch_and_concurrent_registrations_on_the_same_children_form_exactly_one_match(
    core: Core, world: World
) -> None:
    children = valid_bsns(60, 600_000_000)
    posting = [world.professional(f"Poster {n}", f"Team {n}", "jeugdhulp") for n in range(3)]
    importer = world.professional("Ines Import", "School I")
    feed = Feed(importer.organisation_id)
    batch = [item(core, feed, importer, c, position=n) for n, c in enumerate(children)]
    actors = [world.actor(p) for p in posting]

    # One poster per child, each racing the batch: if either missed the other, that child
    # would have no match at all (a later writer cannot mend it).
    calls: list[Any] = [lambda: apply_batch(core, CLI, feed, batch)]
    for n, actor in enumerate(actors):
        share = children[n::3]
        calls.append(
            lambda actor=actor, share=share: [
                register_signal(core, actor, new_signal(c, [])) for c in share
            ]
        )
    race(calls)

    links = rows(
        core,
        select(MatchRow.child_pseudonym, MatchSignalRow.signal_id)
        .join(MatchSignalRow, MatchSignalRow.match_id == MatchRow.id)
        .where(MatchRow.type == MatchType.CLIENT.value),
    )
    per_child: dict[str, set[uuid.UUID]] = {}
    for child, signal_id in links:
        per_child.setdefault(child, set()).add(signal_id)
    assert len(per_child) == len(client_matches(core)) == len(children)
    assert all(len(signals) == 2 for signals in per_child.values())


@pytest.mark.postgres_only
def test_a_bulk_run_analyses_the_tables_it_grows_once_their_statistics_no_longer_describe_them(
    core: Core, world: World
) -> None:
    """A freshly migrated (or emptied) table has no statistics, and the planner takes it
    for ten rows whatever it holds; a bulk run analyses it before a batch once a batch's
    worth of rows changed since, and again only when the changes outnumber what the
    statistics counted."""
    anna = world.professional("Anna Jansen")
    feed = Feed(anna.organisation_id)
    bsns = valid_bsns(600, 700_000_000)
    apply_batch(core, CLI, feed, [item(core, feed, anna, c) for c in bsns[:300]])

    def statistics() -> tuple[float, int]:
        with core.database.engine.connect() as connection:
            found = connection.execute(
                text(
                    "SELECT c.reltuples, s.n_mod_since_analyze FROM pg_class c "
                    "JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.relname = 'signals'"
                )
            ).one()
        return float(found[0]), int(found[1])

    # A backend reports its counts about a second after its transaction, not at once.
    deadline = time.monotonic() + 15
    while statistics()[1] < 300 and time.monotonic() < deadline:
        time.sleep(0.1)
    counted, changed = statistics()
    # (The counts of changes outlive the emptying between tests: at least these 300.)
    assert counted < 300 <= changed  # never analysed since the table was emptied

    assert "signals" in refresh_statistics(core, at_least=BATCH_SIZE)
    assert statistics() == (300.0, 0)
    assert refresh_statistics(core, at_least=BATCH_SIZE) == []  # up to date: nothing to do


def test_a_migration_reminds_nobody_to_follow_up_the_matches_it_formed(
    core: Core, world: World, clock: FakeClock
) -> None:
    """A migration's matches are old news of which nobody was mailed: ten working days on,
    maintenance reminds none of their participants, the hand-registered one included; a
    match an ordinary import formed the same day is reminded as usual."""
    anna = world.professional("Anna Jansen", "School A", "onderwijs")
    bert = world.professional("Bert de Vries", "Team B", "jeugdhulp")
    anna.signal(CHILD_BSN)
    anna.signal(OTHER_CHILD_BSN)
    feed = Feed(bert.organisation_id)
    registered_on = domain.local_date(clock()) - timedelta(days=100)
    apply_batch(
        core,
        CLI,
        feed,
        [item(core, feed, bert, CHILD_BSN, registered_on=registered_on, migration=True)],
        migration=True,
    )
    apply_batch(core, CLI, feed, [item(core, feed, bert, OTHER_CHILD_BSN)])
    assert len(client_matches(core)) == 2

    clock.advance(days=21)
    # Only the ordinary import's match: Anna and Bert, one reminder each.
    assert run_maintenance(core).follow_up_reminders == 2
    clock.advance(days=60)
    assert run_maintenance(core).follow_up_reminders == 0


def test_a_migrated_signal_counts_in_the_month_of_its_original_registration(
    core: Core, world: World, clock: FakeClock
) -> None:
    anna = world.professional("Anna Jansen", "School A", "onderwijs")
    bert = world.professional("Bert de Vries", "Team B", "jeugdhulp")
    anna.signal(CHILD_BSN)
    feed = Feed(bert.organisation_id)
    today = domain.local_date(clock())
    registered_on = today - timedelta(days=400)
    apply_batch(
        core,
        CLI,
        feed,
        [item(core, feed, bert, CHILD_BSN, registered_on=registered_on, migration=True)],
        migration=True,
    )

    with core.transaction(write=False) as tx:
        counted = counts_between(tx.uow.session, date(2000, 1, 1), date(2100, 1, 1))
    this_month, then = today.replace(day=1), registered_on.replace(day=1)
    assert sorted(counted) == sorted(
        [
            (this_month, "onderwijs", "signals", 1),  # Anna's, registered by hand today
            (this_month, "onderwijs", "client_matches", 1),  # the match is formed today
            (this_month, "jeugdhulp", "client_matches", 1),
            (then, "jeugdhulp", "signals", 1),  # Bert's, as first registered
        ]
    )


def test_an_imported_signal_carries_its_organisations_default_gemeente_and_is_counted_there(
    core: Core, world: World, clock: FakeClock
) -> None:
    anna = world.professional("Anna Jansen", "School A", "onderwijs")
    admin_service.set_organisation_gemeente(core, anna.organisation_id, "GM0935")
    feed = Feed(anna.organisation_id)

    apply_batch(core, CLI, feed, [item(core, feed, anna, CHILD_BSN)])

    assert [s.gemeente for s in signals_of(core, anna)] == ["GM0935"]
    month = domain.local_date(clock()).replace(day=1)
    with core.transaction(write=False) as tx:
        in_maastricht = counts_between(tx.uow.session, month, month, "GM0935")
    assert in_maastricht == [(month, "onderwijs", "signals", 1)]


def test_an_organisation_without_a_default_imports_signals_without_a_gemeente(
    core: Core, world: World
) -> None:
    anna = world.professional("Anna Jansen")
    feed = Feed(anna.organisation_id)

    apply_batch(core, CLI, feed, [item(core, feed, anna, CHILD_BSN)])

    assert [s.gemeente for s in signals_of(core, anna)] == [None]
