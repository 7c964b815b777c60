"""A region's federation tables (docs/federation.md): staged and known federation
pseudonyms, the publish queue (outbox rows of channel `federation`), what was last
published, mirrored signals with their proxy organisations and professionals, and the
region's own signals as the participants answer shows them.

Nothing read or written here leaves the region by itself: the service decides what goes
out, and a local pseudonym is never part of it.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.dialects import sqlite

from verwijsindex.federation.staged import StagedPseudonym
from verwijsindex.models import (
    FederatedSignalRow,
    FederationPseudonymRow,
    FederationPublishedRow,
    FederationStateRow,
    OrganisationRow,
    OutboxRow,
    ProfessionalRow,
    SignalParentRow,
    SignalRow,
)
from verwijsindex.repository.arrays import among, insert_rows
from verwijsindex.repository.base import RepositoryBase

CHANNEL = "federation"
TOPIC = "publish"
PENDING = "pending"
DELIVERED = "delivered"
FED = "fed"

_STAGE_ON_POSTGRESQL = (
    "INSERT INTO federation_pseudonyms (local_pseudonym, blinded, blind_enc, created_at) "
    "SELECT * FROM unnest(CAST(%(local)s AS varchar[]), CAST(%(blinded)s AS varchar[]), "
    "CAST(%(blind_enc)s AS bytea[]), CAST(%(created_at)s AS timestamptz[])) "
    "ON CONFLICT (local_pseudonym) DO NOTHING"
)


@dataclass(frozen=True, slots=True)
class PendingBlind:
    local: str
    blinded: str
    blind_enc: bytes


@dataclass(frozen=True, slots=True)
class OwnSignal:
    """One of the region's own (not mirrored) signals on a child, for publishing."""

    id: uuid.UUID
    status: str
    created_at: datetime
    archived_at: datetime | None
    active_until: datetime
    archived_until: datetime
    birth_date: date
    parents: frozenset[str]


@dataclass(frozen=True, slots=True)
class Shown:
    """An own signal as a participants answer shows it (contact data still sealed)."""

    id: uuid.UUID
    element: str
    status: str
    created_at: datetime
    archived_at: datetime | None
    professional_id: uuid.UUID
    name_enc: bytes
    email_enc: bytes
    phone_enc: bytes
    organisation_id: uuid.UUID
    organisation_name: str
    sector: str


@dataclass(frozen=True, slots=True)
class Mirrored:
    signal_id: uuid.UUID
    region: str
    remote_child: str
    remote_ref: str
    child: str
    status: str
    professional_id: uuid.UUID
    parents: frozenset[str]


class FederationRepository(RepositoryBase):
    """`tx.federation_store`."""

    @property
    def _postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    # --- the request path: two statements at most ------------------------------------------

    def stage(self, staged: Sequence[StagedPseudonym], now: datetime) -> None:
        """Store blinded pseudonyms not stored yet (one statement; a known one is left)."""
        if not staged:
            return
        connection = self.session.connection()
        if self._postgres:
            connection.exec_driver_sql(
                _STAGE_ON_POSTGRESQL,
                {
                    "local": [s.local for s in staged],
                    "blinded": [s.blinded for s in staged],
                    "blind_enc": [s.blind_enc for s in staged],
                    "created_at": [now] * len(staged),
                },
            )
            return
        connection.execute(
            sqlite.insert(FederationPseudonymRow).on_conflict_do_nothing(),
            [
                {"local_pseudonym": s.local, "blinded": s.blinded, "blind_enc": s.blind_enc}
                | {"created_at": now}
                for s in staged
            ],
        )

    def queue(self, children: Iterable[str], now: datetime) -> None:
        """Queue these local pseudonyms for publishing (one statement). The payload is the
        local pseudonym: it never leaves the region, the worker looks its element up."""
        rows = [
            {
                "id": uuid.uuid4(),
                "channel": CHANNEL,
                "topic": TOPIC,
                "payload": child,
                "status": PENDING,
                "attempts": 0,
                "queued_at": now,
                "next_attempt_at": now,
            }
            for child in sorted(set(children))
        ]
        if rows:
            insert_rows(self.session.connection(), OutboxRow, rows)

    # --- evaluation -------------------------------------------------------------------------

    def pending_blinds(self, limit: int) -> list[PendingBlind]:
        rows = self.session.execute(
            select(
                FederationPseudonymRow.local_pseudonym,
                FederationPseudonymRow.blinded,
                FederationPseudonymRow.blind_enc,
            )
            .where(FederationPseudonymRow.blinded.is_not(None))
            .order_by(FederationPseudonymRow.created_at)
            .limit(limit)
        ).all()
        return [PendingBlind(r[0], r[1], r[2]) for r in rows if r[1] and r[2]]

    def store_element(self, local: str, blinded: str, element: str, key_version: int) -> None:
        """The evaluated pseudonym; the blinded element and the sealed blind are cleared."""
        self.session.execute(
            update(FederationPseudonymRow)
            .where(
                FederationPseudonymRow.local_pseudonym == local,
                FederationPseudonymRow.blinded == blinded,
            )
            .values(element=element, key_version=key_version, blinded=None, blind_enc=None)
        )

    def count_pending_blinds(self) -> int:
        return int(
            self.session.scalar(
                select(func.count()).where(FederationPseudonymRow.blinded.is_not(None))
            )
            or 0
        )

    def elements(self, locals_: Iterable[str]) -> dict[str, tuple[str, int]]:
        wanted = list(set(locals_))
        if not wanted:
            return {}
        rows = self.session.execute(
            select(
                FederationPseudonymRow.local_pseudonym,
                FederationPseudonymRow.element,
                FederationPseudonymRow.key_version,
            ).where(
                among(FederationPseudonymRow.local_pseudonym, wanted, on_postgresql=self._postgres),
                FederationPseudonymRow.element.is_not(None),
            )
        ).all()
        return {r[0]: (str(r[1]), int(r[2] or 0)) for r in rows}

    def locals_of(self, elements: Iterable[str]) -> dict[str, str]:
        wanted = list(set(elements))
        if not wanted:
            return {}
        rows = self.session.execute(
            select(FederationPseudonymRow.element, FederationPseudonymRow.local_pseudonym).where(
                among(FederationPseudonymRow.element, wanted, on_postgresql=self._postgres)
            )
        ).all()
        return {str(r[0]): r[1] for r in rows}

    def known_elements(self, after: str, limit: int, below: int) -> list[tuple[str, str, int]]:
        """(local, element, key version) of evaluated pseudonyms on a key version below
        `below`, in pages (re-keying)."""
        rows = self.session.execute(
            select(
                FederationPseudonymRow.local_pseudonym,
                FederationPseudonymRow.element,
                FederationPseudonymRow.key_version,
            )
            .where(
                FederationPseudonymRow.element.is_not(None),
                FederationPseudonymRow.key_version < below,
                FederationPseudonymRow.local_pseudonym > after,
            )
            .order_by(FederationPseudonymRow.local_pseudonym)
            .limit(limit)
        ).all()
        return [(r[0], str(r[1]), int(r[2] or 0)) for r in rows]

    def rekeyed(self, local: str, old: str, element: str, key_version: int) -> None:
        self.session.execute(
            update(FederationPseudonymRow)
            .where(
                FederationPseudonymRow.local_pseudonym == local,
                FederationPseudonymRow.element == old,
            )
            .values(element=element, key_version=key_version)
        )

    # --- the publish queue ------------------------------------------------------------------

    def claim_queued(self, now: datetime, lease_until: datetime, limit: int) -> dict[str, int]:
        """Lease the due queue rows (at most `limit` children): child → most attempts."""
        rows = self.session.execute(
            select(OutboxRow)
            .where(
                OutboxRow.status == PENDING,
                OutboxRow.channel == CHANNEL,
                OutboxRow.next_attempt_at <= now,
            )
            .order_by(OutboxRow.next_attempt_at)
            .limit(limit * 4)
            .with_for_update(skip_locked=True)
        ).scalars()
        claimed: dict[str, int] = {}
        for row in rows:
            if row.payload not in claimed and len(claimed) >= limit:
                continue
            row.next_attempt_at = lease_until
            row.attempts += 1
            row.last_attempt_at = now
            claimed[row.payload] = max(claimed.get(row.payload, 0), row.attempts)
        self.session.flush()
        return claimed

    def settle_queued(
        self, child: str, now: datetime, retry_at: datetime | None, error: str | None = None
    ) -> None:
        """Done (retry_at None) or due again at `retry_at`: every leased row of the child."""
        where = (
            OutboxRow.channel == CHANNEL,
            OutboxRow.payload == child,
            OutboxRow.status == PENDING,
            OutboxRow.next_attempt_at > now,
        )
        if retry_at is None:
            values: dict[str, object] = {"status": DELIVERED, "finished_at": now}
        else:
            values = {"next_attempt_at": retry_at, "last_error": (error or "")[:120]}
        self.session.execute(update(OutboxRow).where(*where).values(**values))

    def count_queued(self) -> int:
        return int(
            self.session.scalar(
                select(func.count(func.distinct(OutboxRow.payload))).where(
                    OutboxRow.channel == CHANNEL, OutboxRow.status == PENDING
                )
            )
            or 0
        )

    # --- the region's own signals ---------------------------------------------------------

    def own_signals(self, child: str) -> list[OwnSignal]:
        rows = self.session.execute(
            select(
                SignalRow.id,
                SignalRow.status,
                SignalRow.created_at,
                SignalRow.archived_at,
                SignalRow.active_until,
                SignalRow.archived_until,
                SignalRow.child_birth_date,
                SignalParentRow.parent_pseudonym,
            )
            .outerjoin(SignalParentRow, SignalParentRow.signal_id == SignalRow.id)
            .where(SignalRow.child_pseudonym == child, _own())
        ).all()
        parents: dict[uuid.UUID, set[str]] = defaultdict(set)
        first: dict[uuid.UUID, tuple[object, ...]] = {}
        for row in rows:
            first.setdefault(row[0], tuple(row))
            if row[7] is not None:
                parents[row[0]].add(row[7])
        return [
            OwnSignal(
                r[0],  # type: ignore[arg-type]
                r[1],  # type: ignore[arg-type]
                r[2],  # type: ignore[arg-type]
                r[3],  # type: ignore[arg-type]
                r[4],  # type: ignore[arg-type]
                r[5],  # type: ignore[arg-type]
                r[6],  # type: ignore[arg-type]
                frozenset(parents[r[0]]),  # type: ignore[index]
            )
            for r in first.values()
        ]

    def own_children(self) -> list[str]:
        """Every child with an own signal, and every child published before (reconcile)."""
        held = select(SignalRow.child_pseudonym).where(_own()).distinct()
        published = select(FederationPublishedRow.child_pseudonym)
        return sorted(set(self.session.scalars(held)) | set(self.session.scalars(published)))

    def published(self, child: str) -> str | None:
        row = self.session.get(FederationPublishedRow, child)
        return row.fingerprint if row is not None else None

    def set_published(self, child: str, fingerprint: str | None, now: datetime) -> None:
        """Remember what was published (None: `gone`, nothing to remember)."""
        row = self.session.get(FederationPublishedRow, child)
        if fingerprint is None:
            if row is not None:
                self.session.delete(row)
        elif row is None:
            self.session.add(
                FederationPublishedRow(
                    child_pseudonym=child, fingerprint=fingerprint, published_at=now
                )
            )
        else:
            row.fingerprint, row.published_at = fingerprint, now
        self.session.flush()

    def shown(self, elements: Iterable[str]) -> list[Shown]:
        """The own active and archived signals on the children with these pseudonyms, with
        their professionals and organisations (the participants answer)."""
        wanted = list(set(elements))
        if not wanted:
            return []
        rows = self.session.execute(
            select(
                SignalRow.id,
                FederationPseudonymRow.element,
                SignalRow.status,
                SignalRow.created_at,
                SignalRow.archived_at,
                ProfessionalRow.id,
                ProfessionalRow.name_enc,
                ProfessionalRow.email_enc,
                ProfessionalRow.phone_enc,
                OrganisationRow.id,
                OrganisationRow.name,
                OrganisationRow.sector,
            )
            .join(
                FederationPseudonymRow,
                FederationPseudonymRow.local_pseudonym == SignalRow.child_pseudonym,
            )
            .join(ProfessionalRow, ProfessionalRow.id == SignalRow.professional_id)
            .join(OrganisationRow, OrganisationRow.id == ProfessionalRow.organisation_id)
            .where(
                among(FederationPseudonymRow.element, wanted, on_postgresql=self._postgres),
                SignalRow.status.in_(("active", "archived")),
                _own(),
                OrganisationRow.region.is_(None),
            )
            .order_by(SignalRow.created_at, SignalRow.id)
        ).all()
        return [Shown(*row) for row in rows]  # type: ignore[arg-type,call-arg]

    # --- mirrored signals ---------------------------------------------------------------------

    def mirrored(
        self, *, children: Iterable[str] = (), parents: Iterable[str] = ()
    ) -> list[Mirrored]:
        """Mirrored signals on these local children or naming these local parents."""
        children, parents = list(set(children)), list(set(parents))
        ids: set[uuid.UUID] = set()
        if children:
            ids |= set(
                self.session.scalars(
                    select(SignalRow.id).where(
                        SignalRow.feed == FED,
                        among(SignalRow.child_pseudonym, children, on_postgresql=self._postgres),
                    )
                )
            )
        if parents:
            ids |= set(
                self.session.scalars(
                    select(SignalParentRow.signal_id)
                    .join(SignalRow, SignalRow.id == SignalParentRow.signal_id)
                    .where(
                        SignalRow.feed == FED,
                        among(
                            SignalParentRow.parent_pseudonym, parents, on_postgresql=self._postgres
                        ),
                    )
                )
            )
        return self.mirrored_by_id(ids)

    def mirrored_by_id(self, ids: Iterable[uuid.UUID]) -> list[Mirrored]:
        wanted = list(set(ids))
        if not wanted:
            return []
        rows = self.session.execute(
            select(
                SignalRow.id,
                FederatedSignalRow.region,
                FederatedSignalRow.remote_child,
                FederatedSignalRow.remote_ref,
                SignalRow.child_pseudonym,
                SignalRow.status,
                SignalRow.professional_id,
                SignalParentRow.parent_pseudonym,
            )
            .join(FederatedSignalRow, FederatedSignalRow.signal_id == SignalRow.id)
            .outerjoin(SignalParentRow, SignalParentRow.signal_id == SignalRow.id)
            .where(SignalRow.id.in_(wanted))
        ).all()
        parents: dict[uuid.UUID, set[str]] = defaultdict(set)
        base: dict[uuid.UUID, tuple[object, ...]] = {}
        for row in rows:
            base.setdefault(row[0], tuple(row))
            if row[7] is not None:
                parents[row[0]].add(row[7])
        return [
            Mirrored(*r[:7], frozenset(parents[r[0]]))  # type: ignore[arg-type,index,call-arg]
            for r in base.values()
        ]

    def unanchored_mirrors(self) -> list[uuid.UUID]:
        """Mirrored signals no own signal gives a reason to keep: not on a child this
        region holds, naming no parent its own signals name (left when a child was
        withdrawn or erased here). Kept, they could match only each other."""
        own = SignalRow.__table__.alias("own")
        own_parent = SignalParentRow.__table__.alias("own_parent")
        on_child = (
            select(own.c.id)
            .where(
                own.c.child_pseudonym == SignalRow.child_pseudonym,
                (own.c.feed.is_(None)) | (own.c.feed != FED),
            )
            .exists()
        )
        naming = (
            select(own_parent.c.signal_id)
            .join(own, own.c.id == own_parent.c.signal_id)
            .join(
                SignalParentRow.__table__,
                SignalParentRow.parent_pseudonym == own_parent.c.parent_pseudonym,
            )
            .where(
                SignalParentRow.signal_id == SignalRow.id,
                (own.c.feed.is_(None)) | (own.c.feed != FED),
            )
            .exists()
        )
        return list(
            self.session.scalars(
                select(SignalRow.id).where(SignalRow.feed == FED, ~on_child, ~naming)
            )
        )

    def mirrored_by_ref(self, region: str, ref: str) -> uuid.UUID | None:
        return self.session.scalar(
            select(FederatedSignalRow.signal_id).where(
                FederatedSignalRow.region == region, FederatedSignalRow.remote_ref == ref
            )
        )

    def note_mirror(self, signal_id: uuid.UUID, region: str, remote_child: str, ref: str) -> None:
        self.session.execute(
            insert(FederatedSignalRow).values(
                signal_id=signal_id, region=region, remote_child=remote_child, remote_ref=ref
            )
        )

    def forget_mirror(self, signal_id: uuid.UUID) -> None:
        self.session.execute(
            delete(FederatedSignalRow).where(FederatedSignalRow.signal_id == signal_id)
        )

    def set_parents(self, signal_id: uuid.UUID, parents: Iterable[str]) -> None:
        self.session.execute(delete(SignalParentRow).where(SignalParentRow.signal_id == signal_id))
        rows = [{"signal_id": signal_id, "parent_pseudonym": p} for p in sorted(set(parents))]
        if rows:
            self.session.execute(insert(SignalParentRow), rows)

    def ensure_proxy(
        self,
        organisation_id: uuid.UUID,
        organisation_name: str,
        sector: str,
        region: str,
        professional_id: uuid.UUID,
        contact: tuple[str, str, str],
        now: datetime,
    ) -> None:
        """The proxy organisation and professional of another region's participant, made
        or brought up to date: no password, no roles, contact data sealed as usual."""
        organisation = self.session.get(OrganisationRow, organisation_id)
        if organisation is None:
            self.session.add(
                OrganisationRow(
                    id=organisation_id,
                    name=organisation_name,
                    sector=sector,
                    created_at=now,
                    region=region,
                )
            )
        else:
            organisation.name, organisation.sector = organisation_name, sector
        name, email, phone = contact
        professional = self.session.get(ProfessionalRow, professional_id)
        if professional is None:
            professional = ProfessionalRow(
                id=professional_id,
                organisation_id=organisation_id,
                roles="",
                password_hash=None,
                created_at=now,
            )
            self.session.add(professional)
        professional.name_enc = self._seal("professionals", professional_id, "name", name)
        professional.email_enc = self._seal("professionals", professional_id, "email", email)
        professional.phone_enc = self._seal("professionals", professional_id, "phone", phone)
        self.session.flush()

    def own_birth_date(self, child: str) -> date | None:
        found: date | None = self.session.scalar(
            select(func.min(SignalRow.child_birth_date)).where(
                SignalRow.child_pseudonym == child, _own()
            )
        )
        return found

    def own_parents(self, child: str) -> set[str]:
        return set(
            self.session.scalars(
                select(SignalParentRow.parent_pseudonym)
                .join(SignalRow, SignalRow.id == SignalParentRow.signal_id)
                .where(SignalRow.child_pseudonym == child, _own())
            )
        )

    # --- small named values --------------------------------------------------------------

    def state(self, name: str) -> str | None:
        row = self.session.get(FederationStateRow, name)
        return row.value if row is not None else None

    def set_state(self, name: str, value: str) -> None:
        row = self.session.get(FederationStateRow, name)
        if row is None:
            self.session.add(FederationStateRow(name=name, value=value))
        else:
            row.value = value
        self.session.flush()


def _own() -> ColumnElement[bool]:
    """The region's own signals: not mirrored from another region."""
    return (SignalRow.feed.is_(None)) | (SignalRow.feed != FED)


def open_contact(repository: FederationRepository, shown: Shown) -> tuple[str, str, str]:
    """Name, e-mail and phone of a shown signal's professional, opened for the answer."""
    pid = shown.professional_id
    return (
        repository._open("professionals", pid, "name", shown.name_enc),
        repository._open("professionals", pid, "email", shown.email_enc),
        repository._open("professionals", pid, "phone", shown.phone_enc),
    )
