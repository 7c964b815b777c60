"""The beheerder's administration of people and systems (services.directory): listing,
roles, (de)activation, system clients; beheerders only, refusals and reads on record."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import FakeClock, World
from verwijsindex.domain import (
    Forbidden,
    InvalidInput,
    NotFound,
    Professional,
    Role,
    Unauthenticated,
)
from verwijsindex.models import AuditEventRow, WebhookSubscriptionRow
from verwijsindex.services import Actor, Core, directory
from verwijsindex.services import admin as admin_service
from verwijsindex.services.auth import (
    InvalidClient,
    authenticate_system,
    personal_token,
    token_for_client,
)
from verwijsindex.services.webhooks import subscribe


def audit_trail(core: Core) -> list[AuditEventRow]:
    with core.transaction(write=False) as tx:
        rows = list(tx.uow.session.scalars(select(AuditEventRow).order_by(AuditEventRow.seq)))
        tx.uow.session.expunge_all()
    return rows


def last_record(core: Core) -> AuditEventRow:
    return audit_trail(core)[-1]


def action(record: AuditEventRow) -> str:
    """The action without its source (`internal`, `api`, ...: whatever ran before set it)."""
    return record.action.split(":", 1)[1]


def current(core: Core, professional_id: uuid.UUID) -> Professional:
    with core.transaction(write=False) as tx:
        found = tx.people.professional(professional_id)
    assert found is not None
    return found


def beheerder(world: World, name: str = "Bea Beheer") -> Actor:
    return world.actor(world.professional(name, "Regio", "jeugdhulp", roles=("beheerder",)))


def test_organisations_are_listed_by_name(world: World) -> None:
    world.organisation("Zonnebloem school", "onderwijs")
    world.organisation("Augustinus college", "onderwijs")
    bea = beheerder(world)
    found = directory.list_organisations(world.core, bea)
    assert [(o.name, o.sector.value) for o in found] == [
        ("Augustinus college", "onderwijs"),
        ("Regio", "jeugdhulp"),
        ("Zonnebloem school", "onderwijs"),
    ]


def test_professionals_are_listed_with_their_contact_data_and_the_read_is_audited(
    world: World, core: Core
) -> None:
    bea = beheerder(world)
    world.professional("Zoë Zwart", "School A")
    world.professional("anna Jansen", "School A")
    karel = world.professional("Karel de Groot", "Jeugdteam", "jeugdhulp")
    everyone = directory.list_professionals(core, bea, None)
    assert [(p.organisation.name, p.name) for p in everyone] == [
        ("Jeugdteam", "Karel de Groot"),
        ("Regio", "Bea Beheer"),
        ("School A", "anna Jansen"),
        ("School A", "Zoë Zwart"),
    ]
    first = everyone[0]
    assert (first.id, first.email, first.phone) == (
        karel.professional_id,
        "karel.de.groot@example.org",
        "+31 6 1234 5678",
    )
    assert first.roles == frozenset({Role.PROFESSIONAL}) and first.active
    record = last_record(core)
    assert (action(record), record.outcome, record.actor_id) == (
        "professional:list",
        "success",
        bea.id,
    )
    assert set(record.related_ids.split()) == {str(p.id) for p in everyone}

    school = directory.list_professionals(core, bea, world.organisation("School A"))
    assert [p.name for p in school] == ["anna Jansen", "Zoë Zwart"]
    assert last_record(core).object_id == world.organisation("School A")


def test_an_unknown_organisation_is_not_found_and_on_record(world: World, core: Core) -> None:
    bea = beheerder(world)
    unknown = uuid.uuid4()
    with pytest.raises(NotFound):
        directory.list_professionals(core, bea, unknown)
    record = last_record(core)
    assert (action(record), record.outcome, record.object_id) == (
        "professional:list",
        "denied",
        unknown,
    )


def test_a_beheerder_sets_roles(world: World, core: Core) -> None:
    bea = beheerder(world)
    anna = world.professional("Anna Jansen")
    changed = directory.set_roles(
        core, bea, anna.professional_id, {Role.PROFESSIONAL, Role.PRIVACY_OFFICER}
    )
    assert changed.roles == frozenset({Role.PROFESSIONAL, Role.PRIVACY_OFFICER})
    assert current(core, anna.professional_id).roles == changed.roles
    record = last_record(core)
    assert (action(record), record.object_id, record.related_ids) == (
        "professional:set-roles",
        anna.professional_id,
        str(anna.organisation_id),
    )


def test_roles_need_at_least_one_and_nobody_drops_their_own_beheerder_role(
    world: World, core: Core
) -> None:
    bea = beheerder(world)
    anna = world.professional("Anna Jansen")
    with pytest.raises(InvalidInput) as empty:
        directory.set_roles(core, bea, anna.professional_id, set())
    assert [p.name for p in empty.value.problems] == ["roles"]
    with pytest.raises(InvalidInput) as own:
        directory.set_roles(core, bea, bea.id, {Role.PROFESSIONAL})
    assert "own beheerder role" in own.value.problems[0].reason
    assert directory.set_roles(core, bea, bea.id, {Role.BEHEERDER, Role.PROFESSIONAL}).roles == {
        Role.BEHEERDER,
        Role.PROFESSIONAL,
    }


def test_a_deactivated_professional_cannot_log_in_until_reactivated(
    world: World, core: Core
) -> None:
    bea = beheerder(world)
    anna = world.professional("Anna Jansen")
    assert not directory.deactivate_professional(core, bea, anna.professional_id).active
    with pytest.raises(Unauthenticated):
        personal_token(core, anna.professional_id)
    assert action(last_record(core)) == "professional:deactivate"
    assert directory.reactivate_professional(core, bea, anna.professional_id).active
    assert personal_token(core, anna.professional_id)
    assert action(last_record(core)) == "professional:reactivate"


def test_a_beheerder_cannot_deactivate_themselves(world: World, core: Core) -> None:
    bea = beheerder(world)
    with pytest.raises(InvalidInput, match="yourself"):
        directory.deactivate_professional(core, bea, bea.id)
    assert current(core, bea.id).active


def test_an_unknown_professional_is_not_found_and_on_record(world: World, core: Core) -> None:
    bea = beheerder(world)
    unknown = uuid.uuid4()
    for change in (
        lambda: directory.set_roles(core, bea, unknown, {Role.PROFESSIONAL}),
        lambda: directory.deactivate_professional(core, bea, unknown),
        lambda: directory.reactivate_professional(core, bea, unknown),
    ):
        with pytest.raises(NotFound):
            change()
        assert (last_record(core).outcome, last_record(core).object_id) == ("denied", unknown)


def test_everything_here_is_for_beheerders_only_and_refusals_are_on_record(
    world: World, core: Core
) -> None:
    anna = world.professional("Anna Jansen")
    officer = world.actor(
        world.professional("Petra Privacy", "Regio", "jeugdhulp", roles=("privacy_officer",))
    )
    client = admin_service.create_system_client(core, anna.organisation_id).client_id
    target = anna.professional_id
    calls: list[tuple[str, Callable[[], object]]] = [
        ("organisation:list", lambda: directory.list_organisations(core, officer)),
        ("professional:list", lambda: directory.list_professionals(core, officer, None)),
        (
            "professional:set-roles",
            lambda: directory.set_roles(core, officer, target, {Role.BEHEERDER}),
        ),
        (
            "professional:deactivate",
            lambda: directory.deactivate_professional(core, officer, target),
        ),
        (
            "professional:reactivate",
            lambda: directory.reactivate_professional(core, officer, target),
        ),
        ("client:list", lambda: directory.list_system_clients(core, officer)),
        ("client:revoke", lambda: directory.revoke_system_client(core, officer, client)),
    ]
    for name, call in calls:
        with pytest.raises(Forbidden):
            call()
        record = last_record(core)
        assert (action(record), record.outcome, record.actor_id) == (
            name,
            "denied",
            officer.id,
        )
    assert current(core, target).active
    assert current(core, target).roles == {Role.PROFESSIONAL}


def test_a_beheerder_whose_role_was_just_taken_can_no_longer_change_anyone(
    world: World, core: Core
) -> None:
    bea, bob = beheerder(world), beheerder(world, "Bob Beheer")
    directory.set_roles(core, bea, bob.id, {Role.PROFESSIONAL})
    # `bob` is the Actor as authenticated before the change (cached for a few seconds).
    with pytest.raises(Forbidden):
        directory.set_roles(core, bob, bea.id, {Role.PROFESSIONAL})
    with pytest.raises(Forbidden):
        directory.deactivate_professional(core, bob, bea.id)
    assert current(core, bea.id).roles == {Role.BEHEERDER}
    assert current(core, bea.id).active


@pytest.mark.parametrize("round_", range(4))
def test_two_beheerders_deactivating_each_other_at_once_leave_one_active(
    world: World, core: Core, round_: int
) -> None:
    bea, bob = beheerder(world), beheerder(world, "Bob Beheer")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def deactivate(actor: Actor, other: Actor) -> None:
        barrier.wait()
        try:
            directory.deactivate_professional(core, actor, other.id)
            outcomes.append("done")
        except Forbidden:
            outcomes.append("refused")

    threads = [
        threading.Thread(target=deactivate, args=(bea, bob)),
        threading.Thread(target=deactivate, args=(bob, bea)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["done", "refused"]
    assert [current(core, bea.id).active, current(core, bob.id).active].count(True) == 1


def test_system_clients_are_listed_and_revoked_for_good(
    world: World, core: Core, clock: FakeClock
) -> None:
    bea = beheerder(world)
    school = world.organisation("School A")
    care = world.organisation("Jeugdteam", "jeugdhulp")
    first = admin_service.create_system_client(core, school)
    clock.advance(minutes=5)
    second = admin_service.create_system_client(core, school)
    other = admin_service.create_system_client(core, care)
    caller = authenticate_system(
        core, token_for_client(core, str(first.client_id), first.client_secret).access_token
    )
    subscribe(core, caller, "https://school.example.nl/hooks", ["match.created"])

    listed = directory.list_system_clients(core, bea)
    assert [(c.id, c.organisation.name) for c in listed] == [
        (other.client_id, "Jeugdteam"),
        (first.client_id, "School A"),
        (second.client_id, "School A"),
    ]
    assert listed[1].created_at + timedelta(minutes=5) == listed[2].created_at
    assert all(c.revoked_at is None for c in listed)

    clock.advance(minutes=1)
    revoked = directory.revoke_system_client(core, bea, first.client_id)
    assert revoked.revoked_at == clock.now
    with pytest.raises(InvalidClient):
        token_for_client(core, str(first.client_id), first.client_secret)
    with core.transaction(write=False) as tx:
        hooks = tx.uow.session.scalars(select(WebhookSubscriptionRow.disabled_at)).all()
    assert hooks == [clock.now]
    record = last_record(core)
    assert (action(record), record.object_id, record.related_ids) == (
        "client:revoke",
        first.client_id,
        str(school),
    )

    clock.advance(minutes=1)
    again = directory.revoke_system_client(core, bea, first.client_id)
    assert again.revoked_at == revoked.revoked_at
    assert [c.revoked_at is not None for c in directory.list_system_clients(core, bea)] == [
        False,
        True,
        False,
    ]
    with pytest.raises(NotFound):
        directory.revoke_system_client(core, bea, uuid.uuid4())
    assert last_record(core).outcome == "denied"
