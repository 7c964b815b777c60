"""What an organisation's coordinator (Jeugdwet 7.1.3.3) reads and writes (`tx.coordination`):
its professionals' contact details, its signals *without anything about the child*, the
signals left behind by deactivated colleagues, and moving a signal to a colleague.

Nothing here selects a child's pseudonym or birth date for the coordinator: the signal list
reads only the columns it shows, so they cannot leak into a response by accident.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, literal, select, update

from verwijsindex.domain import Role, SignalStatus
from verwijsindex.models import MatchSignalRow, ProfessionalRow, SignalRow
from verwijsindex.repository.base import RepositoryBase
from verwijsindex.repository.signals import newest_first

ACTIVE = SignalStatus.ACTIVE.value


def holds_role(role: Role, table: type[ProfessionalRow] = ProfessionalRow) -> ColumnElement[bool]:
    """`professionals.roles` is space-separated: match a whole word, not a substring."""
    return (literal(" ") + table.roles + literal(" ")).like(f"% {role.value} %")


@dataclass(frozen=True, slots=True)
class OrganisationSignal:
    """A signal as its organisation's coordinator sees it: ids, dates, status, author,
    gemeente, how many matches. Deliberately no child pseudonym and no birth date."""

    id: uuid.UUID
    professional_id: uuid.UUID
    status: SignalStatus
    created_at: datetime
    active_until: datetime
    archived_at: datetime | None
    gemeente: str | None
    match_count: int


class CoordinationRepository(RepositoryBase):
    def set_contact(
        self,
        professional_id: uuid.UUID,
        *,
        name: str | None,
        email: str | None,
        phone: str | None,
    ) -> None:
        """Seal the given fields (and the e-mail's lookup hash) in place; None leaves a
        field as it is. Flushed, so a duplicate e-mail raises `IntegrityError` here."""
        values: dict[str, object] = {}
        if name is not None:
            values["name_enc"] = self._seal("professionals", professional_id, "name", name)
        if email is not None:
            values["email_enc"] = self._seal("professionals", professional_id, "email", email)
            values["email_lookup"] = self.email_lookup(email)
        if phone is not None:
            values["phone_enc"] = self._seal("professionals", professional_id, "phone", phone)
        if values:
            self.session.execute(
                update(ProfessionalRow)
                .where(ProfessionalRow.id == professional_id)
                .values(**values)
            )
            self.session.flush()

    def signals_of_organisation(
        self,
        organisation_id: uuid.UUID,
        *,
        professional_id: uuid.UUID | None,
        status: SignalStatus | None,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[OrganisationSignal]:
        """Newest first, keyset-paginated on (created_at, id), with each one's match count
        (a grouped outer join: one statement)."""
        statement = (
            select(
                SignalRow.id,
                SignalRow.professional_id,
                SignalRow.status,
                SignalRow.created_at,
                SignalRow.active_until,
                SignalRow.archived_at,
                SignalRow.gemeente,
                func.count(MatchSignalRow.match_id),
            )
            .join(ProfessionalRow, ProfessionalRow.id == SignalRow.professional_id)
            .outerjoin(MatchSignalRow, MatchSignalRow.signal_id == SignalRow.id)
            .where(ProfessionalRow.organisation_id == organisation_id)
            .group_by(
                SignalRow.id,
                SignalRow.professional_id,
                SignalRow.status,
                SignalRow.created_at,
                SignalRow.active_until,
                SignalRow.archived_at,
                SignalRow.gemeente,
            )
        )
        if professional_id is not None:
            statement = statement.where(SignalRow.professional_id == professional_id)
        statement = newest_first(statement, status, after)
        return [
            OrganisationSignal(i, p, SignalStatus(s), c, u, a, g, n)
            for i, p, s, c, u, a, g, n in self.session.execute(statement.limit(limit))
        ]

    def left_behind(self, organisation_id: uuid.UUID) -> dict[uuid.UUID, int]:
        """Deactivated professionals of the organisation who still have active signals,
        with how many: the coordinator's task "move N signals"."""
        rows = self.session.execute(
            select(SignalRow.professional_id, func.count(SignalRow.id))
            .join(ProfessionalRow, ProfessionalRow.id == SignalRow.professional_id)
            .where(
                ProfessionalRow.organisation_id == organisation_id,
                ProfessionalRow.active.is_(False),
                SignalRow.status == ACTIVE,
            )
            .group_by(SignalRow.professional_id)
        ).all()
        return {p: n for p, n in rows}

    def active_signal_count(self, professional_id: uuid.UUID) -> int:
        return int(
            self.session.scalar(
                select(func.count(SignalRow.id)).where(
                    SignalRow.professional_id == professional_id, SignalRow.status == ACTIVE
                )
            )
            or 0
        )

    def active_signal_ids(self, professional_id: uuid.UUID) -> list[uuid.UUID]:
        return list(
            self.session.scalars(
                select(SignalRow.id)
                .where(SignalRow.professional_id == professional_id, SignalRow.status == ACTIVE)
                .order_by(SignalRow.created_at, SignalRow.id)
            )
        )

    def coordinators_of(self, organisation_id: uuid.UUID) -> list[uuid.UUID]:
        """The organisation's active coordinators, oldest first."""
        return list(
            self.session.scalars(
                select(ProfessionalRow.id)
                .where(
                    ProfessionalRow.organisation_id == organisation_id,
                    ProfessionalRow.active.is_(True),
                    holds_role(Role.COORDINATOR),
                )
                .order_by(ProfessionalRow.created_at, ProfessionalRow.id)
            )
        )

    def has_active_signal_on(self, professional_id: uuid.UUID, child: str) -> bool:
        """Whether the professional already has an active signal on the child (there can
        be only one: `uq_signals_active_professional_child`)."""
        found = self.session.scalar(
            select(SignalRow.id)
            .where(
                SignalRow.professional_id == professional_id,
                SignalRow.child_pseudonym == child,
                SignalRow.status == ACTIVE,
            )
            .limit(1)
        )
        return found is not None

    def move_signal(self, signal_id: uuid.UUID, to_professional_id: uuid.UUID) -> None:
        """The signal is now the colleague's. No longer as its sync left it, either: the
        next sync must compare it again (`services.sync_unchanged`). The former author's own
        reference goes: it is shown only to the one who wrote it (issue 14)."""
        self.session.execute(
            update(SignalRow)
            .where(SignalRow.id == signal_id)
            .values(
                professional_id=to_professional_id, feed_fingerprint=None, own_reference_enc=None
            )
        )
        self.session.flush()
