"""Organisations, professionals (contact data sealed on the way in, opened on the way out)
and system clients: `tx.people`.

Also the beheerder's view of them (every organisation, professionals sorted by their
opened names, standing locked for a change of roles), since it reads the same rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from verwijsindex.domain import (
    Organisation,
    Professional,
    Role,
    Sector,
)
from verwijsindex.models import (
    OrganisationRow,
    ProfessionalRow,
    SystemClientRow,
    WebhookSubscriptionRow,
)
from verwijsindex.repository.base import RepositoryBase
from verwijsindex.repository.federated import local_organisation


@dataclass(frozen=True, slots=True)
class SystemClient:
    id: uuid.UUID
    organisation_id: uuid.UUID
    secret_hash: str
    revoked: bool


@dataclass(frozen=True, slots=True)
class SystemClientSummary:
    id: uuid.UUID
    organisation: Organisation
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Standing:
    """A professional's roles and whether they are active, as stored right now."""

    roles: frozenset[Role]
    active: bool


def _organisation(row: OrganisationRow) -> Organisation:
    return Organisation(
        row.id, row.name, Sector(row.sector), row.default_gemeente, region=row.region
    )


class PeopleRepository(RepositoryBase):
    def add_organisation(
        self, name: str, sector: Sector, now: datetime, default_gemeente: str | None = None
    ) -> Organisation:
        row = OrganisationRow(
            id=uuid.uuid4(),
            name=name,
            sector=sector.value,
            created_at=now,
            default_gemeente=default_gemeente,
        )
        self.session.add(row)
        self.session.flush()
        return _organisation(row)

    def set_default_gemeente(
        self, organisation_id: uuid.UUID, gemeente: str | None
    ) -> Organisation | None:
        row = self.session.get(OrganisationRow, organisation_id)
        if row is None or row.region is not None:
            return None
        row.default_gemeente = gemeente
        self.session.flush()
        return _organisation(row)

    def organisation_named(self, name: str) -> Organisation | None:
        row = self.session.scalar(
            select(OrganisationRow)
            .where(OrganisationRow.name == name, local_organisation())
            .limit(1)
        )
        return _organisation(row) if row else None

    def professionals_of(self, organisation_id: uuid.UUID) -> list[Professional]:
        """Oldest first."""
        ids = list(
            self.session.scalars(
                select(ProfessionalRow.id)
                .where(ProfessionalRow.organisation_id == organisation_id)
                .order_by(ProfessionalRow.created_at, ProfessionalRow.id)
            )
        )
        found = self.professionals(ids)
        return [found[i] for i in ids]

    def organisation(self, organisation_id: uuid.UUID) -> Organisation | None:
        """One of this region's own organisations (another region's, mirrored by
        federation, is not managed here: no people, clients or settings are added to it)."""
        row = self.session.get(OrganisationRow, organisation_id)
        return _organisation(row) if row is not None and row.region is None else None

    def add_professional(
        self,
        organisation: Organisation,
        *,
        name: str,
        email: str,
        phone: str,
        roles: Iterable[Role],
        password_hash: str | None,
        totp_secret: str | None,
        now: datetime,
    ) -> Professional:
        new_id = uuid.uuid4()
        row = ProfessionalRow(
            id=new_id,
            organisation_id=organisation.id,
            name_enc=self._seal("professionals", new_id, "name", name),
            email_enc=self._seal("professionals", new_id, "email", email),
            phone_enc=self._seal("professionals", new_id, "phone", phone),
            email_lookup=self.email_lookup(email),
            roles=" ".join(sorted(role.value for role in roles)),
            password_hash=password_hash,
            totp_secret_enc=(
                self._seal("professionals", new_id, "totp", totp_secret) if totp_secret else None
            ),
            active=True,
            created_at=now,
        )
        self.session.add(row)
        self.session.flush()
        return self._professional(row, organisation)

    def professional(self, professional_id: uuid.UUID) -> Professional | None:
        found = self.professionals([professional_id])
        return found.get(professional_id)

    def professionals(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Professional]:
        wanted = set(ids)
        if not wanted:
            return {}
        rows = self.session.execute(
            select(ProfessionalRow, OrganisationRow)
            .join(OrganisationRow, OrganisationRow.id == ProfessionalRow.organisation_id)
            .where(ProfessionalRow.id.in_(wanted))
        ).all()
        return {p.id: self._professional(p, _organisation(o)) for p, o in rows}

    def opened(
        self, rows: Iterable[tuple[ProfessionalRow, OrganisationRow]]
    ) -> dict[uuid.UUID, Professional]:
        """Professionals from rows another query read (say, with the match they are in),
        each opened once."""
        found: dict[uuid.UUID, Professional] = {}
        for row, organisation in rows:
            if row.id not in found:
                found[row.id] = self._professional(row, _organisation(organisation))
        return found

    def _professional(self, row: ProfessionalRow, organisation: Organisation) -> Professional:
        return Professional(
            id=row.id,
            organisation=organisation,
            name=self._open("professionals", row.id, "name", row.name_enc),
            email=self._open("professionals", row.id, "email", row.email_enc),
            phone=self._open("professionals", row.id, "phone", row.phone_enc),
            roles=frozenset(Role(r) for r in row.roles.split()),
            active=row.active,
        )

    # --- system clients ------------------------------------------------------------------

    def add_system_client(
        self, organisation: Organisation, secret_hash: str, now: datetime
    ) -> uuid.UUID:
        row = SystemClientRow(
            id=uuid.uuid4(),
            organisation_id=organisation.id,
            secret_hash=secret_hash,
            created_at=now,
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def system_client(self, client_id: uuid.UUID) -> SystemClient | None:
        row = self.session.get(SystemClientRow, client_id)
        if row is None:
            return None
        return SystemClient(
            row.id, row.organisation_id, row.secret_hash, row.revoked_at is not None
        )

    def organisation_ids_of(
        self, professional_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, uuid.UUID]:
        wanted = set(professional_ids)
        if not wanted:
            return {}
        rows = self.session.execute(
            select(ProfessionalRow.id, ProfessionalRow.organisation_id).where(
                ProfessionalRow.id.in_(wanted)
            )
        ).all()
        return dict((p, o) for p, o in rows)

    # --- the beheerder's directory ------------------------------------------------------

    def organisations(self) -> list[Organisation]:
        """This region's own, by name (not those mirrored from other regions)."""
        rows = self.session.scalars(
            select(OrganisationRow)
            .where(local_organisation())
            .order_by(OrganisationRow.name, OrganisationRow.id)
        )
        return [_organisation(r) for r in rows]

    def professionals_in(self, organisation_id: uuid.UUID | None) -> list[Professional]:
        """Of one organisation, or of all; by organisation, then name. Names are stored
        encrypted, so they are sorted here, after opening them. This region's own people
        only: another region's, mirrored by federation, are not managed or listed here."""
        statement = (
            select(ProfessionalRow, OrganisationRow)
            .join(OrganisationRow, OrganisationRow.id == ProfessionalRow.organisation_id)
            .where(local_organisation())
        )
        if organisation_id is not None:
            statement = statement.where(ProfessionalRow.organisation_id == organisation_id)
        found = [
            self._professional(p, _organisation(o)) for p, o in self.session.execute(statement)
        ]
        return sorted(
            found,
            key=lambda p: (p.organisation.name, p.organisation.id, p.name.casefold(), p.id),
        )

    def lock_standing(self, professional_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Standing]:
        """Roles and active flag of these professionals, their rows locked (in id order)
        until commit, so two beheerders changing each other at once take turns."""
        wanted = sorted(set(professional_ids))
        rows = self.session.execute(
            select(ProfessionalRow.id, ProfessionalRow.roles, ProfessionalRow.active)
            # Another region's people (federation) get no roles here: as if absent.
            .where(
                ProfessionalRow.id.in_(wanted),
                ProfessionalRow.organisation_id.in_(
                    select(OrganisationRow.id).where(local_organisation())
                ),
            )
            .order_by(ProfessionalRow.id)
            .with_for_update()
        ).all()
        return {i: Standing(frozenset(Role(r) for r in roles.split()), a) for i, roles, a in rows}

    def set_roles(self, professional_id: uuid.UUID, roles: Iterable[Role]) -> None:
        self.session.execute(
            update(ProfessionalRow)
            .where(ProfessionalRow.id == professional_id)
            .values(roles=" ".join(sorted(r.value for r in roles)))
        )

    def set_active(self, professional_id: uuid.UUID, active: bool) -> None:
        self.session.execute(
            update(ProfessionalRow)
            .where(ProfessionalRow.id == professional_id)
            .values(active=active)
        )

    def system_clients(self) -> list[SystemClientSummary]:
        """By organisation name, then oldest first."""
        rows = self.session.execute(
            select(SystemClientRow, OrganisationRow)
            .join(OrganisationRow, OrganisationRow.id == SystemClientRow.organisation_id)
            .order_by(OrganisationRow.name, OrganisationRow.id, SystemClientRow.created_at)
        ).all()
        return [_client_summary(c, o) for c, o in rows]

    def system_client_summary(self, client_id: uuid.UUID) -> SystemClientSummary | None:
        row = self.session.execute(
            select(SystemClientRow, OrganisationRow)
            .join(OrganisationRow, OrganisationRow.id == SystemClientRow.organisation_id)
            .where(SystemClientRow.id == client_id)
        ).first()
        return None if row is None else _client_summary(*row)

    def revoke_system_client(self, client_id: uuid.UUID, now: datetime) -> None:
        """Revoke the client and disable its webhook subscriptions, so that calls already
        queued for it are skipped too. A second revocation keeps the first moment."""
        self.session.execute(
            update(SystemClientRow)
            .where(SystemClientRow.id == client_id, SystemClientRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        self.session.execute(
            update(WebhookSubscriptionRow)
            .where(
                WebhookSubscriptionRow.client_id == client_id,
                WebhookSubscriptionRow.disabled_at.is_(None),
            )
            .values(disabled_at=now)
        )


def _client_summary(client: SystemClientRow, organisation: OrganisationRow) -> SystemClientSummary:
    return SystemClientSummary(
        client.id, _organisation(organisation), client.created_at, client.revoked_at
    )
