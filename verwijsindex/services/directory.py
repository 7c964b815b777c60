"""The beheerder's use cases on people and systems: list organisations and professionals,
change roles, deactivate and reactivate people, list and revoke system clients.

All require the role beheerder (who acts for the whole region, whatever organisation they
belong to); a refusal is audited. Listing professionals opens their contact data, so it
is audited as a read of personal data; listing organisations or system clients is not
personal data and is not. Changes are audited.

Two rules keep the region administrable: nobody removes their own beheerder role or
deactivates themselves. Changes lock the rows of the actor and the person changed, and
check the actor's own roles as stored *now* (not as cached at authentication), so two
beheerders removing each other at the same moment cannot both succeed and leave nobody.
"""

from __future__ import annotations

import uuid
from collections.abc import Set
from dataclasses import replace

from verwijsindex import gemeenten
from verwijsindex.audit import AuditEntry
from verwijsindex.domain import (
    UNKNOWN_GEMEENTE,
    Forbidden,
    InvalidInput,
    NotFound,
    Organisation,
    Problem,
    Professional,
    Role,
)
from verwijsindex.repository import PeopleRepository, SystemClientSummary
from verwijsindex.repository.people import Standing
from verwijsindex.services.coordination import tell_coordinators
from verwijsindex.services.core import Actor, Core
from verwijsindex.services.refusals import Refusal, records_refusals

__all__ = [
    "ProfessionalSummary",
    "SystemClientSummary",
    "deactivate_professional",
    "list_organisations",
    "list_professionals",
    "list_system_clients",
    "reactivate_professional",
    "regievoerder_gemeenten",
    "revoke_system_client",
    "set_regievoerder_gemeenten",
    "set_roles",
]

# What the beheerder's list shows of a person: id, name, e-mail, phone, organisation,
# roles, active. `Professional` carries exactly that.
ProfessionalSummary = Professional


def _require_beheerder(actor: Actor, entry: AuditEntry) -> None:
    try:
        actor.require(Role.BEHEERDER)
    except Forbidden as refused:
        raise Refusal(refused, entry) from None


@records_refusals
def list_organisations(core: Core, actor: Actor) -> list[Organisation]:
    _require_beheerder(actor, AuditEntry("organisation:list"))
    with core.transaction(write=False) as tx:
        return tx.people.organisations()


@records_refusals
def list_professionals(
    core: Core, actor: Actor, organisation_id: uuid.UUID | None = None
) -> list[ProfessionalSummary]:
    """Everyone, or one organisation's people; by organisation name, then name."""
    entry = AuditEntry("professional:list", "organisation", organisation_id)
    _require_beheerder(actor, entry)
    with core.transaction(write=True, actor=actor) as tx:
        directory = tx.people
        if organisation_id is not None and directory.organisation(organisation_id) is None:
            raise Refusal(NotFound("No such organisation."), entry)
        found = directory.professionals_in(organisation_id)
        tx.record(
            AuditEntry(
                "professional:list", "organisation", organisation_id, None, [p.id for p in found]
            )
        )
        tx.commit()
    return found


@records_refusals
def set_roles(
    core: Core, actor: Actor, professional_id: uuid.UUID, roles: Set[Role]
) -> Professional:
    """Replace the person's roles; at least one, and never one's own beheerder role away."""
    entry = AuditEntry("professional:set-roles", "professional", professional_id)
    _require_beheerder(actor, entry)
    if not roles:
        raise InvalidInput([Problem("roles", "Give at least one role.")])
    if professional_id == actor.id and Role.BEHEERDER not in roles:
        raise InvalidInput(
            [
                Problem(
                    "roles",
                    "You cannot remove your own beheerder role: another beheerder can.",
                )
            ],
            "You cannot remove your own beheerder role.",
        )
    with core.transaction(write=True, actor=actor) as tx:
        directory = tx.people
        _check_and_lock(directory, actor, professional_id, entry)
        directory.set_roles(professional_id, roles)
        if Role.REGIEVOERDER not in roles:
            # Gemeenten belong to the appointment: given the role again, they start empty.
            tx.regie.replace_gemeenten(professional_id, ())
        changed = directory.professional(professional_id)
        assert changed is not None
        tx.record(
            AuditEntry(
                entry.action, "professional", professional_id, None, [changed.organisation.id]
            )
        )
        tx.commit()
    return changed


@records_refusals
def deactivate_professional(core: Core, actor: Actor, professional_id: uuid.UUID) -> Professional:
    """The person can no longer log in or act: their web sessions end at once, in the same
    transaction (so reactivating them later does not bring an old session back to life);
    a token handed out earlier stops working within `ACTOR_CACHE_SECONDS`. Their signals
    and matches stay as they are, and their organisation's coordinators are mailed to move
    the active ones (`services.coordination.tell_coordinators`)."""
    return _set_active(core, actor, professional_id, active=False)


@records_refusals
def reactivate_professional(core: Core, actor: Actor, professional_id: uuid.UUID) -> Professional:
    return _set_active(core, actor, professional_id, active=True)


def _set_active(
    core: Core, actor: Actor, professional_id: uuid.UUID, *, active: bool
) -> Professional:
    action = "professional:reactivate" if active else "professional:deactivate"
    entry = AuditEntry(action, "professional", professional_id)
    _require_beheerder(actor, entry)
    if not active and professional_id == actor.id:
        raise InvalidInput(
            [Problem("professional", "You cannot deactivate yourself: another beheerder can.")],
            "You cannot deactivate yourself.",
        )
    with core.transaction(write=True, actor=actor) as tx:
        directory = tx.people
        was_active = _check_and_lock(directory, actor, professional_id, entry).active
        directory.set_active(professional_id, active)
        if not active:
            tx.web.end_web_sessions_of(professional_id)
            tx.web.cancel_invitations_of(professional_id)
        changed = directory.professional(professional_id)
        assert changed is not None
        if was_active and not active:  # deactivating twice tells nobody twice
            tell_coordinators(tx, changed)
        tx.record(
            AuditEntry(action, "professional", professional_id, None, [changed.organisation.id])
        )
        tx.commit()
    return changed


def _check_and_lock(
    directory: PeopleRepository, actor: Actor, professional_id: uuid.UUID, entry: AuditEntry
) -> Standing:
    """Lock the actor's and the person's rows; refuse unless the actor is, as stored now,
    an active beheerder, and the person exists. Returns the person's standing before."""
    standing = directory.lock_standing({actor.id, professional_id})
    own = standing.get(actor.id)
    if own is None or not own.active or Role.BEHEERDER not in own.roles:
        raise Refusal(Forbidden(f"This requires the role {Role.BEHEERDER.value}."), entry)
    if professional_id not in standing:
        raise Refusal(NotFound("No such professional."), entry)
    return standing[professional_id]


@records_refusals
def list_system_clients(core: Core, actor: Actor) -> list[SystemClientSummary]:
    """By organisation name, then oldest first; revoked ones included (with `revoked_at`)."""
    _require_beheerder(actor, AuditEntry("client:list"))
    with core.transaction(write=False) as tx:
        return tx.people.system_clients()


@records_refusals
def revoke_system_client(core: Core, actor: Actor, client_id: uuid.UUID) -> SystemClientSummary:
    """For good: the client gets no more tokens, its tokens stop working on their next
    request (every use case confirms the caller's standing), and its webhook subscriptions
    are disabled, calls already queued included. A system needs a new client after this.
    Revoking twice keeps the first moment."""
    entry = AuditEntry("client:revoke", "system_client", client_id)
    _require_beheerder(actor, entry)
    with core.transaction(write=True, actor=actor) as tx:
        directory = tx.people
        _check_and_lock(directory, actor, actor.id, entry)
        if directory.system_client_summary(client_id) is None:
            raise Refusal(NotFound("No such system client."), entry)
        directory.revoke_system_client(client_id, tx.now)
        revoked = directory.system_client_summary(client_id)
        assert revoked is not None
        tx.record(
            AuditEntry(entry.action, "system_client", client_id, None, [revoked.organisation.id])
        )
        tx.commit()
    return revoked


# --- a regievoerder's gemeenten (Jeugdwet 7.1.3.2) ---------------------------------------------


@records_refusals
def regievoerder_gemeenten(core: Core, actor: Actor, professional_id: uuid.UUID) -> frozenset[str]:
    """The gemeenten assigned to a person (empty: the whole index, if a regievoerder)."""
    _require_beheerder(actor, AuditEntry("professional:read-gemeenten"))
    with core.transaction(write=False) as tx:
        return tx.regie.gemeenten_of(professional_id)


@records_refusals
def set_regievoerder_gemeenten(
    core: Core, actor: Actor, professional_id: uuid.UUID, codes: Set[str]
) -> frozenset[str]:
    """Replace a regievoerder's gemeenten (none: the whole index); each on the CBS list."""
    entry = AuditEntry("professional:set-gemeenten", "professional", professional_id)
    _require_beheerder(actor, entry)
    known = gemeenten.current()
    if any(code not in known for code in codes):
        raise InvalidInput([Problem("gemeente", UNKNOWN_GEMEENTE)])
    with core.transaction(write=True, actor=actor) as tx:
        _check_and_lock(tx.people, actor, professional_id, entry)
        person = tx.people.professional(professional_id)
        if person is None or not person.has_role(Role.REGIEVOERDER):
            raise InvalidInput([Problem("gemeente", "Only a regievoerder is assigned gemeenten.")])
        tx.regie.replace_gemeenten(professional_id, codes)
        tx.record(replace(entry, related_ids=[person.organisation.id]))
        tx.commit()
    return frozenset(codes)
