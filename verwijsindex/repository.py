"""Queries and writes for organisations, people, system clients and signals.

Returns domain objects; decrypts contact data on the way out and encrypts it on the way in,
so no caller ever handles ciphertext. Matches live in `match_repository.py`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, exists, insert, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from verwijsindex.crypto import KeyRing
from verwijsindex.domain import (
    InformatieplichtView,
    MatchRef,
    MatchType,
    Organisation,
    PostponementReason,
    Professional,
    Role,
    Sector,
    Signal,
    SignalStatus,
)
from verwijsindex.models import (
    AuditEventRow,
    IdempotencyKeyRow,
    MatchRow,
    MatchSignalRow,
    OrganisationRow,
    ProfessionalRow,
    SignalParentRow,
    SignalRow,
    SystemClientRow,
)


@dataclass(frozen=True, slots=True)
class SystemClient:
    id: uuid.UUID
    organisation_id: uuid.UUID
    secret_hash: str
    revoked: bool


@dataclass(frozen=True, slots=True)
class StoredResponse:
    fingerprint: str
    status: int
    body: str
    signal_id: uuid.UUID | None


class Repository:
    def __init__(self, session: Session, keys: KeyRing) -> None:
        self.session = session
        self._cipher = keys.cipher

    # --- encryption helpers --------------------------------------------------------------

    def _seal(self, table: str, row_id: uuid.UUID | str, column: str, value: str) -> bytes:
        return self._cipher.encrypt(value, f"{table}:{row_id}:{column}")

    def _open(self, table: str, row_id: uuid.UUID | str, column: str, blob: bytes) -> str:
        return self._cipher.decrypt(blob, f"{table}:{row_id}:{column}")

    # --- organisations and professionals -------------------------------------------------

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

    # --- signals -------------------------------------------------------------------------

    def add_signal(self, row: SignalRow, parents: Sequence[str]) -> None:
        """Core inserts (the hot path): the ORM's unit-of-work bookkeeping is not needed for
        a row that is written once and returned."""
        connection = self.session.connection()
        values = {c.key: getattr(row, c.key) for c in SignalRow.__table__.columns}
        connection.execute(insert(SignalRow).values(values))
        if parents:
            connection.execute(
                insert(SignalParentRow),
                [{"signal_id": row.id, "parent_pseudonym": p} for p in parents],
            )

    def signal_row(self, signal_id: uuid.UUID, *, for_update: bool = False) -> SignalRow | None:
        statement = select(SignalRow).where(SignalRow.id == signal_id)
        if for_update:
            statement = statement.with_for_update()
        return self.session.execute(statement).scalar_one_or_none()

    def parents_of(self, signal_id: uuid.UUID) -> frozenset[str]:
        return frozenset(
            self.session.scalars(
                select(SignalParentRow.parent_pseudonym).where(
                    SignalParentRow.signal_id == signal_id
                )
            )
        )

    def any_signal_on(self, child: str) -> bool:
        return (
            self.session.scalar(
                select(SignalRow.id).where(SignalRow.child_pseudonym == child).limit(1)
            )
            is not None
        )

    def erase_signal(self, signal_id: uuid.UUID) -> None:
        """Remove the row, its parent pseudonyms, match links and any stored response that
        described it (idempotency): deletion leaves nothing about the signal behind."""
        self.session.execute(
            delete(IdempotencyKeyRow).where(IdempotencyKeyRow.signal_id == signal_id)
        )
        self.session.execute(delete(MatchSignalRow).where(MatchSignalRow.signal_id == signal_id))
        self.session.execute(delete(SignalParentRow).where(SignalParentRow.signal_id == signal_id))
        self.session.execute(delete(SignalRow).where(SignalRow.id == signal_id))

    def own_signal_rows(
        self,
        professional_id: uuid.UUID,
        status: SignalStatus | None,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[SignalRow]:
        """Newest first, keyset-paginated on (created_at, id)."""
        statement = select(SignalRow).where(SignalRow.professional_id == professional_id)
        if status is not None:
            statement = statement.where(SignalRow.status == status.value)
        if after is not None:
            created_at, last_id = after
            statement = statement.where(
                or_(
                    SignalRow.created_at < created_at,
                    and_(SignalRow.created_at == created_at, SignalRow.id < last_id),
                )
            )
        statement = statement.order_by(SignalRow.created_at.desc(), SignalRow.id.desc())
        return list(self.session.scalars(statement.limit(limit)))

    def audit_events(
        self,
        *,
        since: datetime | None,
        until: datetime | None,
        actor: uuid.UUID | None,
        object_id: uuid.UUID | None,
        before_seq: int | None,
        limit: int,
    ) -> list[AuditEventRow]:
        """Newest first; every filter uses an index (occurred_at, actor_id, object_id)."""
        statement = select(AuditEventRow)
        if since is not None:
            statement = statement.where(AuditEventRow.occurred_at >= since)
        if until is not None:
            statement = statement.where(AuditEventRow.occurred_at < until)
        if actor is not None:
            statement = statement.where(AuditEventRow.actor_id == actor)
        if object_id is not None:
            statement = statement.where(AuditEventRow.object_id == object_id)
        if before_seq is not None:
            statement = statement.where(AuditEventRow.seq < before_seq)
        return list(self.session.scalars(statement.order_by(AuditEventRow.seq.desc()).limit(limit)))

    def idempotent_response(
        self, professional_id: uuid.UUID, key: str, now: datetime
    ) -> StoredResponse | None:
        """The stored answer to an earlier request with this key; an expired one is removed."""
        row = self.session.get(IdempotencyKeyRow, (professional_id, key))
        if row is None:
            return None
        if row.expires_at <= now:
            self.session.delete(row)
            self.session.flush()
            return None
        body = self._open("idempotency_keys", row.professional_id, key, row.response_enc)
        return StoredResponse(row.fingerprint, row.status, body, row.signal_id)

    def purge_expired_idempotency_keys(self, now: datetime) -> int:
        result = self.session.execute(
            delete(IdempotencyKeyRow).where(IdempotencyKeyRow.expires_at <= now)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def store_idempotent_response(
        self,
        professional_id: uuid.UUID,
        key: str,
        response: StoredResponse,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        self.session.execute(
            insert(IdempotencyKeyRow).values(
                professional_id=professional_id,
                key=key,
                fingerprint=response.fingerprint,
                status=response.status,
                response_enc=self._seal("idempotency_keys", professional_id, key, response.body),
                signal_id=response.signal_id,
                created_at=now,
                expires_at=expires_at,
            )
        )

    def match_refs(self, signal_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[MatchRef]]:
        wanted = set(signal_ids)
        refs: dict[uuid.UUID, list[MatchRef]] = {i: [] for i in wanted}
        if not wanted:
            return refs
        rows = self.session.execute(
            select(MatchSignalRow.signal_id, MatchRow.id, MatchRow.type)
            .join(MatchRow, MatchRow.id == MatchSignalRow.match_id)
            .where(MatchSignalRow.signal_id.in_(wanted))
            .order_by(MatchRow.type, MatchRow.created_at)
        ).all()
        for signal_id, match_id, match_type in rows:
            refs[signal_id].append(MatchRef(match_id, MatchType(match_type)))
        return refs

    def with_history(self, rows: Iterable[SignalRow]) -> set[uuid.UUID]:
        """Ids of those signals whose child has another, archived signal (any author)."""
        ids = {r.id for r in rows}
        if not ids:
            return set()
        other = aliased(SignalRow)
        return set(
            self.session.scalars(
                select(SignalRow.id).where(
                    SignalRow.id.in_(ids),
                    exists().where(
                        other.child_pseudonym == SignalRow.child_pseudonym,
                        other.status == SignalStatus.ARCHIVED.value,
                        other.id != SignalRow.id,
                    ),
                )
            )
        )

    def to_signal(
        self,
        row: SignalRow,
        author: Professional,
        *,
        history_available: bool,
        matches: Sequence[MatchRef],
        show_justification: bool,
    ) -> Signal:
        justification = None
        if show_justification and row.postponement_justification_enc is not None:
            justification = self._open(
                "signals", row.id, "justification", row.postponement_justification_enc
            )
        return Signal(
            id=row.id,
            professional=author,
            status=SignalStatus(row.status),
            created_at=row.created_at,
            active_until=row.active_until,
            archived_until=row.archived_until,
            informatieplicht=InformatieplichtView(
                child_informed=row.child_informed,
                parents_informed=row.parents_informed,
                postponed=row.postponement_reason is not None,
                review_on=row.review_on,
                reason=(
                    PostponementReason(row.postponement_reason) if row.postponement_reason else None
                ),
                justification=justification,
            ),
            history_available=history_available,
            matches=tuple(matches),
        )

    def seal_justification(self, signal_id: uuid.UUID, justification: str) -> bytes:
        return self._seal("signals", signal_id, "justification", justification)

    # --- history and subject access (read-only) ------------------------------------------

    def archived_signals_on(
        self, child: str, *, excluding: uuid.UUID
    ) -> list[tuple[SignalRow, Organisation]]:
        """The child's archived signals (any author) but `excluding`, newest first, each with
        its author's organisation: the history of contract section 6. The same condition as
        `with_history`, so `historyAvailable` is true exactly when this list is not empty."""
        rows = self.session.execute(
            select(SignalRow, OrganisationRow)
            .join(ProfessionalRow, ProfessionalRow.id == SignalRow.professional_id)
            .join(OrganisationRow, OrganisationRow.id == ProfessionalRow.organisation_id)
            .where(
                SignalRow.child_pseudonym == child,
                SignalRow.status == SignalStatus.ARCHIVED.value,
                SignalRow.id != excluding,
            )
            .order_by(SignalRow.created_at.desc(), SignalRow.id.desc())
        ).all()
        return [(s, Organisation(o.id, o.name, Sector(o.sector))) for s, o in rows]

    def signals_about_person(self, pseudonym: str) -> list[tuple[SignalRow, Organisation]]:
        """Every signal, in any status, on this person as the child or naming them as a
        parent, newest first, each with its author's organisation (for subject access)."""
        naming = select(SignalParentRow.signal_id).where(
            SignalParentRow.parent_pseudonym == pseudonym
        )
        rows = self.session.execute(
            select(SignalRow, OrganisationRow)
            .join(ProfessionalRow, ProfessionalRow.id == SignalRow.professional_id)
            .join(OrganisationRow, OrganisationRow.id == ProfessionalRow.organisation_id)
            .where(or_(SignalRow.child_pseudonym == pseudonym, SignalRow.id.in_(naming)))
            .order_by(SignalRow.created_at.desc(), SignalRow.id.desc())
        ).all()
        return [(s, Organisation(o.id, o.name, Sector(o.sector))) for s, o in rows]

    def organisations_of(
        self, professional_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, Organisation]:
        """Each professional's organisation, without decrypting anyone's name or contacts."""
        wanted = set(professional_ids)
        if not wanted:
            return {}
        rows = self.session.execute(
            select(ProfessionalRow.id, OrganisationRow)
            .join(OrganisationRow, OrganisationRow.id == ProfessionalRow.organisation_id)
            .where(ProfessionalRow.id.in_(wanted))
        ).all()
        return {pid: Organisation(o.id, o.name, Sector(o.sector)) for pid, o in rows}

    # --- lifecycle sweeps ----------------------------------------------------------------

    def active_signals_due(self, now: datetime, limit: int) -> list[SignalRow]:
        """Active signals whose active period has ended, oldest first, row-locked."""
        return self._claim(
            and_(
                SignalRow.status == SignalStatus.ACTIVE.value,
                SignalRow.active_until <= now,
            ),
            SignalRow.active_until,
            limit,
        )

    def archived_signals_due(self, now: datetime, limit: int) -> list[SignalRow]:
        """Archived signals whose archive period has ended, oldest first, row-locked."""
        return self._claim(
            and_(
                SignalRow.status == SignalStatus.ARCHIVED.value,
                SignalRow.archived_until <= now,
            ),
            SignalRow.archived_until,
            limit,
        )

    def signals_of_children_born_by(self, last_birth_date: date, limit: int) -> list[SignalRow]:
        """Signals (any status) on children born on or before the day, row-locked."""
        return self._claim(
            SignalRow.child_birth_date <= last_birth_date, SignalRow.child_birth_date, limit
        )

    def _claim(
        self, due: ColumnElement[bool], order: InstrumentedAttribute[Any], limit: int
    ) -> list[SignalRow]:
        """Up to `limit` signals meeting `due`, in `order`, each locked for this transaction.

        PostgreSQL: `FOR NO KEY UPDATE SKIP LOCKED`, so concurrent sweeps take disjoint
        batches, and matching linking one of these signals meanwhile (a `KEY SHARE` lock on
        it) is not blocked. SQLite renders no lock clause: its writers are serial anyway.
        """
        return list(
            self.session.scalars(
                select(SignalRow)
                .where(due)
                .order_by(order, SignalRow.id)
                .limit(limit)
                .with_for_update(skip_locked=True, key_share=True)
            )
        )

    def parents_of_signals(
        self, signal_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, frozenset[str]]:
        wanted = set(signal_ids)
        found: dict[uuid.UUID, set[str]] = {i: set() for i in wanted}
        if wanted:
            rows = self.session.execute(
                select(SignalParentRow.signal_id, SignalParentRow.parent_pseudonym).where(
                    SignalParentRow.signal_id.in_(wanted)
                )
            ).all()
            for signal_id, parent in rows:
                found[signal_id].add(parent)
        return {i: frozenset(p) for i, p in found.items()}

    def signals_on(self, child: str, *, for_update: bool = False) -> list[SignalRow]:
        """Every signal on the child, any status."""
        statement = select(SignalRow).where(SignalRow.child_pseudonym == child)
        if for_update:
            # Locked rows are read afresh, not taken from what the session read before.
            statement = statement.with_for_update().execution_options(populate_existing=True)
        return list(self.session.scalars(statement.order_by(SignalRow.created_at, SignalRow.id)))

    def children_with_signals(self, children: Iterable[str]) -> set[str]:
        """Those of `children` that some signal (any status) is still about."""
        wanted = set(children)
        if not wanted:
            return set()
        return set(
            self.session.scalars(
                select(SignalRow.child_pseudonym)
                .where(SignalRow.child_pseudonym.in_(wanted))
                .distinct()
            )
        )
