"""The organisation's coordinator (Jeugdwet 7.1.3.3, contract section 10): keeps its
professionals' contact details, sees its signals without anything about the child, and
is told to move the signals a deactivated colleague left behind. Moving itself lives in
`services.transfer`.

Who may do what:
- a coordinator acts for their *own* organisation only; another organisation's
  professional or signal list answers 404, exactly like one that does not exist (contract
  2.5: ids cannot be probed);
- someone without the role gets 403, and so does a system token, which never carries the
  coordinator role (`services.standing`);
- a beheerder may change anyone's contact details too (they administer the region's
  directory), but does not see an organisation's signals: that is the coordinator's task.
Every access and every refusal is audited.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from verwijsindex.audit import AuditEntry
from verwijsindex.domain import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Professional,
    Role,
    SignalStatus,
)
from verwijsindex.events import SignalsLeftBehind
from verwijsindex.repository import OrganisationSignal
from verwijsindex.services.admin import contact_problems
from verwijsindex.services.core import Actor, Core
from verwijsindex.services.refusals import Refusal, records_refusals
from verwijsindex.services.unit_of_work import Transaction

__all__ = [
    "ContactChange",
    "LeftBehind",
    "OrganisationSignal",
    "SignalPage",
    "change_contact",
    "colleagues",
    "left_behind",
    "organisation_signals",
    "tell_coordinators",
]


def require_coordinator_of(actor: Actor, organisation_id: uuid.UUID, entry: AuditEntry) -> None:
    """403 without the role (or through a system token); 404 for another organisation."""
    try:
        actor.require(Role.COORDINATOR)
    except Forbidden as refused:
        raise Refusal(refused, entry) from None
    if actor.professional.organisation.id != organisation_id:
        raise Refusal(NotFound("No such organisation."), entry)


def is_coordinator_of(actor: Actor, organisation_id: uuid.UUID) -> bool:
    return (
        actor.professional.has_role(Role.COORDINATOR)
        and actor.professional.organisation.id == organisation_id
    )


@dataclass(frozen=True, slots=True)
class ContactChange:
    """Fields left None stay as they are (a JSON merge patch)."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None


@records_refusals
def change_contact(
    core: Core, actor: Actor, professional_id: uuid.UUID, change: ContactChange
) -> Professional:
    """Change a professional's name, e-mail address or phone number.

    Checked like `admin create-professional`; stored encrypted, with the e-mail's lookup
    hash (the login name) renewed; an address another person uses is a 409. This process
    forgets the person's cached actor at once, so their own next request carries the new
    details; other processes within `ACTOR_CACHE_SECONDS`.
    """
    entry = AuditEntry("professional:update-contact", "professional", professional_id)
    if not actor.professional.has_role(Role.BEHEERDER):
        try:
            actor.require(Role.COORDINATOR)
        except Forbidden as refused:
            raise Refusal(refused, entry) from None
    name, email, phone = (
        None if v is None else v.strip() for v in (change.name, change.email, change.phone)
    )
    problems = contact_problems(name=name, email=email, phone=phone)
    if problems:
        raise InvalidInput(problems)
    with core.transaction(write=True, actor=actor) as tx:
        person = tx.people.professional(professional_id)
        if person is None or not (
            actor.professional.has_role(Role.BEHEERDER)
            or is_coordinator_of(actor, person.organisation.id)
        ):
            raise Refusal(NotFound("No such professional."), entry)
        try:
            tx.coordination.set_contact(professional_id, name=name, email=email, phone=phone)
        except IntegrityError:
            raise Conflict("This e-mail address is already in use by another person.") from None
        changed = tx.people.professional(professional_id)
        assert changed is not None
        tx.record(
            AuditEntry(
                entry.action, "professional", professional_id, None, [person.organisation.id]
            )
        )
        tx.commit()
    core.auth_cache.forget(professional_id)
    return changed


@records_refusals
def colleagues(core: Core, actor: Actor, organisation_id: uuid.UUID) -> list[Professional]:
    """The organisation's professionals with their contact details, by name; audited as a
    read of personal data."""
    entry = AuditEntry("professional:list", "organisation", organisation_id)
    require_coordinator_of(actor, organisation_id, entry)
    with core.transaction(write=True, actor=actor) as tx:
        found = tx.people.professionals_in(organisation_id)
        tx.record(
            AuditEntry(entry.action, "organisation", organisation_id, None, [p.id for p in found])
        )
        tx.commit()
    return found


@dataclass(frozen=True, slots=True)
class SignalPage:
    items: list[OrganisationSignal]
    authors: dict[uuid.UUID, Professional]
    last_key: tuple[datetime, uuid.UUID] | None


@records_refusals
def organisation_signals(
    core: Core,
    actor: Actor,
    organisation_id: uuid.UUID,
    *,
    professional_id: uuid.UUID | None = None,
    status: SignalStatus | None = None,
    after: tuple[datetime, uuid.UUID] | None = None,
    page_size: int = 20,
) -> SignalPage:
    """The organisation's signals, newest first: ids, dates, status, author, gemeente and
    match count. Never the child's pseudonym or birth date (the repository does not read
    them). Audited with the ids of the signals shown, not their children."""
    entry = AuditEntry("organisation:signal-list", "organisation", organisation_id)
    require_coordinator_of(actor, organisation_id, entry)
    with core.transaction(write=True, actor=actor) as tx:
        rows = tx.coordination.signals_of_organisation(
            organisation_id,
            professional_id=professional_id,
            status=status,
            after=after,
            limit=page_size + 1,
        )
        more = len(rows) > page_size
        rows = rows[:page_size]
        authors = tx.people.professionals({r.professional_id for r in rows})
        tx.record(
            AuditEntry(entry.action, "organisation", organisation_id, None, [r.id for r in rows])
        )
        tx.commit()
    last = (rows[-1].created_at, rows[-1].id) if more and rows else None
    return SignalPage(rows, authors, last)


@dataclass(frozen=True, slots=True)
class LeftBehind:
    """A deactivated colleague with active signals still to move: the coordinator's task."""

    professional: Professional
    count: int


@records_refusals
def left_behind(core: Core, actor: Actor, organisation_id: uuid.UUID) -> list[LeftBehind]:
    """The task "move N signals", per deactivated colleague; empty when all are moved."""
    entry = AuditEntry("organisation:tasks", "organisation", organisation_id)
    require_coordinator_of(actor, organisation_id, entry)
    with core.transaction(write=True, actor=actor) as tx:
        counts = tx.coordination.left_behind(organisation_id)
        people = tx.people.professionals(counts)
        tx.record(AuditEntry(entry.action, "organisation", organisation_id, None, list(counts)))
        tx.commit()
    return sorted(
        (LeftBehind(people[p], n) for p, n in counts.items() if p in people),
        key=lambda t: (t.professional.name.casefold(), t.professional.id),
    )


def tell_coordinators(tx: Transaction, professional: Professional) -> None:
    """Called in the transaction that deactivates `professional`: their active signals stay
    (the risk has not gone with them), and the organisation's coordinators are mailed how
    many to move. Nothing is sent when there is nothing to move or nobody to tell."""
    count = tx.coordination.active_signal_count(professional.id)
    coordinators = tuple(
        c
        for c in tx.coordination.coordinators_of(professional.organisation.id)
        if c != professional.id
    )
    if count and coordinators:
        tx.emit(SignalsLeftBehind(professional.id, coordinators, count))
