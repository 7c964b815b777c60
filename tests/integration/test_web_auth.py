"""Invitations and audit identity of the web's use cases, below the pages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import World
from verwijsindex.domain import NotFound, Professional
from verwijsindex.models import AuditEventRow
from verwijsindex.services import Actor, Core, directory, web_auth
from verwijsindex.services import admin as admin_service
from verwijsindex.services.audit_log import verify_audit_log
from verwijsindex.services.web_auth import LoginRefused

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
    first = web_auth.invite(core, bea, new.id)
    second = web_auth.invite(core, bea, new.id)

    with pytest.raises(LoginRefused):
        web_auth.accept_invitation(core, first, PASSWORD, PASSWORD)
    assert web_auth.accept_invitation(core, second, PASSWORD, PASSWORD)
    with pytest.raises(LoginRefused):  # and only once
        web_auth.accept_invitation(core, second, PASSWORD, PASSWORD)


def test_deactivation_cancels_open_invitations_and_nobody_inactive_is_invited(
    world: World, core: Core
) -> None:
    bea, new = invitee(world, core)
    token = web_auth.invite(core, bea, new.id)
    directory.deactivate_professional(core, bea, new.id)

    with pytest.raises(LoginRefused):
        web_auth.accept_invitation(core, token, PASSWORD, PASSWORD)
    with pytest.raises(NotFound):
        web_auth.invite(core, bea, new.id)


def test_a_beheerders_creations_and_a_chain_check_name_who_did_them(
    world: World, core: Core
) -> None:
    bea, new = invitee(world, core)
    verify_audit_log(core, bea)

    with core.transaction(write=False) as tx:
        rows = tx.uow.session.execute(
            select(AuditEventRow.action, AuditEventRow.actor_id).where(
                AuditEventRow.action.in_(["internal:professional:create", "internal:audit:verify"]),
                (AuditEventRow.object_id == new.id) | AuditEventRow.object_id.is_(None),
            )
        ).all()
    assert dict(rows) == {
        "internal:professional:create": bea.id,
        "internal:audit:verify": bea.id,
    }
