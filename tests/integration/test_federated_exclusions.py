"""Where mirrored signals of another region are left out (docs/federation.md, point 5): the
lifecycle sweeps and reminders (their home region runs those), the statistics and the
follow-up figures, and every list and action that manages this region's own organisations
and people."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from tests.conftest import CHILD_BSN, FakeClock, World
from tests.federation_rows import mirror_signal
from verwijsindex.domain import NotFound, Role
from verwijsindex.models import SignalRow, statistics_counts
from verwijsindex.services import Core, directory
from verwijsindex.services import admin as admin_service
from verwijsindex.services.invitations import invite
from verwijsindex.services.lifecycle import run_maintenance


def _signal(core: Core, signal_id: Any) -> SignalRow | None:
    with core.transaction(write=False) as tx:
        row = tx.uow.session.get(SignalRow, signal_id)
        if row is not None:
            tx.uow.session.expunge(row)
        return row


def test_the_lifecycle_sweeps_pass_mirrored_signals_by(
    world: World, core: Core, clock: FakeClock
) -> None:
    anna = world.professional("Anna Jansen")
    local = uuid.UUID(anna.signal(CHILD_BSN)["id"])
    active = mirror_signal(core, CHILD_BSN)
    archived = mirror_signal(core, CHILD_BSN, status="archived", name="Ria Remote")
    born_long_ago = mirror_signal(
        core, "100000009", birth_date=date(1990, 1, 1), name="Oma Remote", remote_ref="old"
    )
    with core.transaction(write=True) as tx:
        tx.uow.session.execute(
            update(SignalRow)
            .where(SignalRow.id == active.signal_id)
            .values(postponement_reason="danger_to_child", review_on=date(2026, 11, 1))
        )
        tx.uow.session.commit()
    clock.advance(days=8 * 365)  # past every active and archive period

    report = run_maintenance(core)

    assert _signal(core, local) is None  # archived, then deleted: its own region's lifecycle
    assert report.review_reminders == 0
    still = [_signal(core, m.signal_id) for m in (active, archived, born_long_ago)]
    assert [s.status if s else None for s in still] == ["active", "archived", "active"]


def test_statistics_count_this_regions_sectors_only(world: World, core: Core) -> None:
    anna = world.professional("Anna Jansen", "School A", "onderwijs")
    anna.signal(CHILD_BSN)
    mirror_signal(core, CHILD_BSN, sector="justitie")
    with core.transaction(write=False) as tx:
        rows = tx.uow.session.execute(
            select(
                statistics_counts.c.sector,
                statistics_counts.c.kind,
                func.sum(statistics_counts.c.count),
            ).group_by(statistics_counts.c.sector, statistics_counts.c.kind)
        ).all()
    assert {(s, k): int(n) for s, k, n in rows} == {
        ("onderwijs", "signals"): 1,
        ("onderwijs", "client_matches"): 1,
    }


def test_other_regions_organisations_and_people_are_not_listed_or_managed_here(
    world: World, core: Core
) -> None:
    beheerder = world.actor(world.professional("Bea Beheer", roles=("beheerder",)))
    mirrored = mirror_signal(core, CHILD_BSN, organisation="School A")
    assert [o.name for o in directory.list_organisations(core, beheerder)] == ["School A"]
    assert all(o.region is None for o in admin_service.list_organisations(core))
    people = directory.list_professionals(core, beheerder)
    assert [p.name for p in people] == ["Bea Beheer"]
    assert [p.name for p in admin_service.list_professionals(core)] == ["Bea Beheer"]
    with pytest.raises(NotFound):
        directory.list_professionals(core, beheerder, mirrored.organisation_id)
    with pytest.raises(NotFound):
        directory.set_roles(core, beheerder, mirrored.professional_id, {Role.PROFESSIONAL})
    with pytest.raises(NotFound):
        directory.deactivate_professional(core, beheerder, mirrored.professional_id)
    with pytest.raises(NotFound):
        invite(core, beheerder, mirrored.professional_id, mail=True)
    with pytest.raises(NotFound):
        admin_service.create_professional(
            core,
            mirrored.organisation_id,
            name="Indringer",
            email="in@example.org",
            phone="+31 6 1111 1111",
            roles=("professional",),
            password=None,
        )
    with pytest.raises(NotFound):
        admin_service.create_system_client(core, mirrored.organisation_id)
    # A name used by another region is still free here.
    assert admin_service.create_organisation(core, "Jeugdteam Regio B", "jeugdhulp").region is None


def test_the_follow_up_rate_counts_this_regions_participations_only(
    world: World, core: Core, clock: FakeClock
) -> None:
    anna = world.professional("Anna Jansen", "School A", "onderwijs")
    anna.signal(CHILD_BSN)
    mirror_signal(core, CHILD_BSN)
    with core.transaction(write=False) as tx:
        found = tx.regie.participations(
            clock.now - timedelta(days=1), clock.now + timedelta(days=1), None
        )
    assert [sector for _, sector, _ in found] == ["onderwijs"]
