"""Invitations and audit identity of the web's use cases, below the pages."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from tests.conftest import World
from verwijsindex.domain import NotFound, Professional
from verwijsindex.models import AuditEventRow, ProfessionalRow
from verwijsindex.services import Actor, Core, directory, invitations
from verwijsindex.services import admin as admin_service
from verwijsindex.services.audit_log import verify_audit_log
from verwijsindex.services.web_auth import LoginRefused, backfill_email_lookups

PASSWORD = "a long enough password"


def invitee(world: World, core: Core) -> tuple[Actor, Professional]:
    bea = world.actor(world.professional("Bea Beheer", roles=("beheerder", "privacy_officer")))
    new = admin_service.create_professional(
        core,
        world.organisation("School A"),
        name="Nieuwe Collega",
        email="nieuw@example.org",
        phone="+31 6 1234 5678",
        roles=["professional"],
        password=None,
        actor=bea,
    ).professional
    return bea, new


def test_only_the_newest_invitation_works(world: World, core: Core) -> None:
    bea, new = invitee(world, core)
    first = invitations.invite(core, bea, new.id)
    second = invitations.invite(core, bea, new.id)

    with pytest.raises(LoginRefused):
        invitations.accept_invitation(core, first, PASSWORD, PASSWORD)
    assert invitations.accept_invitation(core, second, PASSWORD, PASSWORD)
    with pytest.raises(LoginRefused):  # and only once
        invitations.accept_invitation(core, second, PASSWORD, PASSWORD)


def test_deactivation_cancels_open_invitations_and_nobody_inactive_is_invited(
    world: World, core: Core
) -> None:
    bea, new = invitee(world, core)
    token = invitations.invite(core, bea, new.id)
    directory.deactivate_professional(core, bea, new.id)

    with pytest.raises(LoginRefused):
        invitations.accept_invitation(core, token, PASSWORD, PASSWORD)
    with pytest.raises(NotFound):
        invitations.invite(core, bea, new.id)


def test_a_beheerders_creations_and_a_chain_check_name_who_did_them(
    world: World, core: Core
) -> None:
    bea, new = invitee(world, core)
    verify_audit_log(core, bea)

    with core.transaction(write=False) as tx:
        rows = tx.uow.session.execute(
            select(AuditEventRow.action, AuditEventRow.actor_id).where(
                AuditEventRow.action.like("%:professional:create")
                | AuditEventRow.action.like("%:audit:verify"),
                (AuditEventRow.object_id == new.id) | AuditEventRow.object_id.is_(None),
            )
        ).all()
    # The source in front (internal, cli, ...) depends on what ran before in this thread.
    assert {action.split(":", 1)[1]: actor for action, actor in rows} == {
        "professional:create": bea.id,
        "audit:verify": bea.id,
    }


def test_people_from_before_login_by_email_get_their_lookup(world: World, core: Core) -> None:
    anna = world.professional("Anna Jansen")
    with core.transaction(write=True) as tx:  # as a row migrated from revision 0003 looks
        tx.uow.session.execute(update(ProfessionalRow).values(email_lookup=None))
        tx.commit()

    assert backfill_email_lookups(core) == 1
    with core.transaction(write=False) as tx:
        found = tx.web.login_record_by_email("ANNA.JANSEN@example.org")
    assert found is not None and found.professional_id == anna.professional_id
    assert backfill_email_lookups(core) == 0
