"""Who acts, with which credential, carrying which roles (contract section 4, issue 10.1)."""

from __future__ import annotations

import uuid

import pytest

from verwijsindex.domain import Forbidden, Organisation, Professional, Role, Sector
from verwijsindex.services import Actor

CLIENT = uuid.UUID("00000000-0000-4000-8000-000000000001")


def _person(*roles: Role) -> Professional:
    school = Organisation(uuid.uuid4(), "School A", Sector("onderwijs"))
    return Professional(uuid.uuid4(), school, "Olga", "o@example.org", "06", frozenset(roles))


def test_a_system_token_carries_only_the_professional_role_and_says_so_in_the_audit() -> None:
    actor = Actor.through_system(
        _person(Role.PROFESSIONAL, Role.PRIVACY_OFFICER, Role.BEHEERDER), CLIENT
    )
    assert actor.professional.roles == {Role.PROFESSIONAL}
    assert not actor.professional.has_role(Role.BEHEERDER)  # checks outside require() too
    assert actor.held_roles == {Role.PROFESSIONAL, Role.PRIVACY_OFFICER, Role.BEHEERDER}
    actor.require(Role.PROFESSIONAL)
    for role in (Role.PRIVACY_OFFICER, Role.BEHEERDER):
        with pytest.raises(Forbidden, match="system token"):
            actor.require(role)
    who = actor.who
    assert (who.credential, who.client_id, who.roles) == ("system", CLIENT, ("professional",))


def test_a_personal_token_carries_every_role_of_its_person() -> None:
    actor = Actor.through_personal_token(_person(Role.PRIVACY_OFFICER))
    actor.require(Role.PRIVACY_OFFICER)
    assert (actor.who.credential, actor.who.client_id) == ("personal", None)
    with pytest.raises(Forbidden, match="requires the role professional"):
        actor.require(Role.PROFESSIONAL)


def test_an_actor_cannot_be_built_to_carry_oversight_through_a_system_client() -> None:
    with pytest.raises(ValueError, match="oversight"):
        Actor(_person(Role.PRIVACY_OFFICER), CLIENT, "system")
    with pytest.raises(ValueError, match="system"):
        Actor(_person(Role.PROFESSIONAL), CLIENT)  # a client without saying `system`
    with pytest.raises(ValueError, match="system"):
        Actor(_person(Role.PROFESSIONAL), None, "system")
