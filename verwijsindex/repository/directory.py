"""The beheerder's view of the people and systems of the region: organisations,
professionals (contact data opened on the way out), system clients.

A class over the session and keys, like the repository's mixins, so the services can use
it on their transaction's session (`DirectoryQueries(tx.uow.session, core.keys)`) without
it being part of `Repository`; it could join it as one more mixin.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from verwijsindex.domain import Organisation, Professional, Role, Sector
from verwijsindex.models import (
    OrganisationRow,
    ProfessionalRow,
    SystemClientRow,
    WebhookSubscriptionRow,
)
from verwijsindex.repository.people import PeopleQueries


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
    return Organisation(row.id, row.name, Sector(row.sector))


class DirectoryQueries(PeopleQueries):
    def organisations(self) -> list[Organisation]:
        """By name."""
        rows = self.session.scalars(
            select(OrganisationRow).order_by(OrganisationRow.name, OrganisationRow.id)
        )
        return [_organisation(r) for r in rows]

    def professionals_in(self, organisation_id: uuid.UUID | None) -> list[Professional]:
        """Of one organisation, or of all; by organisation, then name. Names are stored
        encrypted, so they are sorted here, after opening them."""
        statement = select(ProfessionalRow, OrganisationRow).join(
            OrganisationRow, OrganisationRow.id == ProfessionalRow.organisation_id
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
            .where(ProfessionalRow.id.in_(wanted))
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
