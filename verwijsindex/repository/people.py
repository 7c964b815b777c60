"""Organisations, professionals (contact data sealed on the way in, opened on the way out)
and system clients."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

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
)
from verwijsindex.repository.base import RepositoryBase


@dataclass(frozen=True, slots=True)
class SystemClient:
    id: uuid.UUID
    organisation_id: uuid.UUID
    secret_hash: str
    revoked: bool


class PeopleQueries(RepositoryBase):
    def add_organisation(self, name: str, sector: Sector, now: datetime) -> Organisation:
        row = OrganisationRow(id=uuid.uuid4(), name=name, sector=sector.value, created_at=now)
        self.session.add(row)
        self.session.flush()
        return Organisation(row.id, row.name, Sector(row.sector))

    def organisation_named(self, name: str) -> Organisation | None:
        row = self.session.scalar(
            select(OrganisationRow).where(OrganisationRow.name == name).limit(1)
        )
        return Organisation(row.id, row.name, Sector(row.sector)) if row else None

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
        row = self.session.get(OrganisationRow, organisation_id)
        return Organisation(row.id, row.name, Sector(row.sector)) if row else None

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
        return {
            p.id: self._professional(p, Organisation(o.id, o.name, Sector(o.sector)))
            for p, o in rows
        }

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
