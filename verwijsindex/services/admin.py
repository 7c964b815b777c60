"""Use cases of the functional administrator: organisations, professionals, system clients.

They run from the command line (and later the beheerder's web pages); input is validated
here so every entrance gets the same rules.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import pyotp
from argon2 import PasswordHasher
from sqlalchemy.exc import IntegrityError

from verwijsindex import gemeenten
from verwijsindex.audit import AuditEntry
from verwijsindex.domain import (
    Conflict,
    InvalidInput,
    NotFound,
    Organisation,
    Problem,
    Professional,
    Role,
    Sector,
    gemeente_problems,
)
from verwijsindex.services.core import Actor, Core

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9][0-9 ()-]{5,19}")
MIN_PASSWORD_LENGTH = 12
TOTP_ISSUER = "verwijsindex"
password_hasher = PasswordHasher()


def _text_problem(name: str, value: str, limit: int) -> list[Problem]:
    if not value.strip():
        return [Problem(name, "Must not be empty.")]
    if len(value) > limit:
        return [Problem(name, f"At most {limit} characters.")]
    return []


def contact_problems(
    *, name: str | None = None, email: str | None = None, phone: str | None = None
) -> list[Problem]:
    """A professional's contact details as every entrance checks them (creation here, a
    coordinator's or beheerder's change in `services.coordination`); None: not given."""
    problems = [] if name is None else _text_problem("name", name, 200)
    if email is not None and (not _EMAIL.fullmatch(email) or len(email) > 254):
        problems.append(Problem("email", "Not a valid e-mail address."))
    if phone is not None and not _PHONE.fullmatch(phone):
        problems.append(Problem("phone", "Not a valid phone number."))
    return problems


def _on_behalf(actor: Actor | None) -> None:
    """From the web a beheerder acts (and is named in the audit record); the command line
    acts for the operator who holds the keys and passes no actor."""
    if actor is not None:
        actor.require(Role.BEHEERDER)


def create_organisation(
    core: Core,
    name: str,
    sector: str,
    actor: Actor | None = None,
    default_gemeente: str | None = None,
    *,
    allow_duplicate: bool = True,
) -> Organisation:
    """`default_gemeente` (a CBS code) is what its professionals' signals carry when they
    name no gemeente themselves.

    Without `allow_duplicate`, a name already in use (ignoring case and outer spaces) is a
    `DuplicateOrganisation`: two "OBS De Linde" in one list let a beheerder invite people
    into the wrong one. Two schools may really share a name, hence the choice.
    """
    problems = _text_problem("name", name, 200)
    if sector not in {s.value for s in Sector}:
        problems.append(Problem("sector", "Must be one of: " + ", ".join(s.value for s in Sector)))
    problems.extend(_default_gemeente_problems(default_gemeente))
    if problems:
        raise InvalidInput(problems)
    _on_behalf(actor)
    with core.transaction(write=True, actor=actor) as tx:
        if not allow_duplicate:
            wanted = name.strip().casefold()
            for existing in tx.people.organisations():
                if existing.name.casefold() == wanted:
                    raise DuplicateOrganisation(existing)
        organisation = tx.people.add_organisation(
            name.strip(), Sector(sector), tx.now, default_gemeente
        )
        tx.record(AuditEntry("organisation:create", "organisation", organisation.id))
        tx.commit()
    return organisation


class DuplicateOrganisation(Conflict):
    """An organisation with this name exists already (`existing`)."""

    def __init__(self, existing: Organisation) -> None:
        super().__init__(f"an organisation named {existing.name!r} exists already ({existing.id})")
        self.existing = existing


def list_organisations(core: Core) -> list[Organisation]:
    """Every organisation, by name (for the operator at the command line; not personal
    data, so not audited, as on the beheerder's page)."""
    with core.transaction(write=False) as tx:
        return tx.people.organisations()


def list_professionals(core: Core, organisation_id: uuid.UUID | None = None) -> list[Professional]:
    """Everyone, or one organisation's people, by organisation then name, for the operator
    at the command line. Names and contact details are opened, so the read is audited
    (with the ids listed), as the beheerder's page does."""
    with core.transaction(write=True) as tx:
        if organisation_id is not None and tx.people.organisation(organisation_id) is None:
            raise NotFound("No such organisation.")
        found = tx.people.professionals_in(organisation_id)
        tx.record(
            AuditEntry(
                "professional:list", "organisation", organisation_id, None, [p.id for p in found]
            )
        )
        tx.commit()
    return found


def _default_gemeente_problems(gemeente: str | None) -> list[Problem]:
    return [
        Problem("defaultGemeente", p.reason)
        for p in gemeente_problems(gemeente, gemeenten.current())
    ]


def set_organisation_gemeente(
    core: Core, organisation_id: uuid.UUID, gemeente: str | None, actor: Actor | None = None
) -> Organisation:
    """Set (or with None clear) an organisation's default gemeente. Signals already
    registered keep the gemeente they were stored with. The default travels with the
    cached actor (no statement on the hot path), so this process forgets its professionals'
    cached actors; other processes pick the change up when theirs expire (minutes)."""
    problems = _default_gemeente_problems(gemeente)
    if problems:
        raise InvalidInput(problems)
    _on_behalf(actor)
    with core.transaction(write=True, actor=actor) as tx:
        organisation = tx.people.set_default_gemeente(organisation_id, gemeente)
        if organisation is None:
            raise NotFound("No such organisation.")
        tx.record(AuditEntry("organisation:set-gemeente", "organisation", organisation.id))
        members = [p.id for p in tx.people.professionals_of(organisation_id)]
        tx.commit()
    for member in members:
        core.auth_cache.forget(member)
    return organisation


@dataclass(frozen=True, slots=True)
class NewProfessional:
    professional: Professional
    totp_uri: str


def create_professional(
    core: Core,
    organisation_id: uuid.UUID,
    *,
    name: str,
    email: str,
    phone: str,
    roles: Iterable[str],
    password: str | None,
    actor: Actor | None = None,
    gemeenten_assigned: Iterable[str] = (),
) -> NewProfessional:
    """Create a person; the TOTP secret is made now and shown once as a provisioning URI.

    `gemeenten_assigned` bounds a regievoerder's view (Jeugdwet 7.1.3.2: appointed by a
    municipality); none means the whole index. Only a regievoerder has gemeenten.
    """
    role_names = list(roles) or [Role.PROFESSIONAL.value]
    assigned = sorted({g.strip().upper() for g in gemeenten_assigned})
    problems = contact_problems(name=name, email=email, phone=phone)
    unknown = [r for r in role_names if r not in {role.value for role in Role}]
    if unknown:
        problems.append(Problem("role", "Must be one of: " + ", ".join(r.value for r in Role)))
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        problems.append(Problem("password", f"At least {MIN_PASSWORD_LENGTH} characters."))
    problems += gemeenten_problems(assigned, role_names)
    if problems:
        raise InvalidInput(problems)
    _on_behalf(actor)
    totp_secret = pyotp.random_base32()
    with core.transaction(write=True, actor=actor) as tx:
        organisation = tx.people.organisation(organisation_id)
        if organisation is None:
            raise NotFound("No such organisation.")
        try:
            professional = tx.people.add_professional(
                organisation,
                name=name.strip(),
                email=email.strip(),
                phone=phone.strip(),
                roles={Role(r) for r in role_names},
                password_hash=password_hasher.hash(password) if password else None,
                totp_secret=totp_secret,
                now=tx.now,
            )
        except IntegrityError:
            # The e-mail address is how a person logs in, so it names one person only.
            raise InvalidInput(
                [Problem("email", "This e-mail address is already in use.")]
            ) from None
        tx.record(
            AuditEntry(
                "professional:create", "professional", professional.id, None, [organisation.id]
            )
        )
        if assigned:
            tx.regie.assign_gemeenten(professional.id, assigned)
        tx.commit()
    uri = pyotp.TOTP(totp_secret).provisioning_uri(name=professional.email, issuer_name=TOTP_ISSUER)
    return NewProfessional(professional, uri)


def gemeenten_problems(assigned: Iterable[str], role_names: Iterable[str]) -> list[Problem]:
    """Each assigned gemeente on the CBS list, and gemeenten only for a regievoerder."""
    codes = list(assigned)
    known = gemeenten.current()
    problems = [p for code in codes for p in gemeente_problems(code, known)][:1]
    if codes and Role.REGIEVOERDER.value not in set(role_names):
        problems.append(Problem("gemeente", "Only a regievoerder is assigned gemeenten."))
    return problems


@dataclass(frozen=True, slots=True)
class NewSystemClient:
    client_id: uuid.UUID
    client_secret: str


def hash_client_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_system_client(
    core: Core, organisation_id: uuid.UUID, actor: Actor | None = None
) -> NewSystemClient:
    """The secret is returned once and stored only as a hash."""
    _on_behalf(actor)
    secret = secrets.token_urlsafe(32)
    with core.transaction(write=True, actor=actor) as tx:
        organisation = tx.people.organisation(organisation_id)
        if organisation is None:
            raise NotFound("No such organisation.")
        client_id = tx.people.add_system_client(organisation, hash_client_secret(secret), tx.now)
        tx.record(AuditEntry("client:create", "system_client", client_id, None, [organisation.id]))
        tx.commit()
    return NewSystemClient(client_id, secret)
