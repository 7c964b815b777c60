"""The unit of work a use case runs in: one transaction, its repositories, what it recorded.

A `Transaction` holds one repository per aggregate, each bound to the transaction's
session and built the first time a use case asks for it (`tx.signals`, `tx.matches`,
`tx.people`, ...). It is rolled back unless `commit()` is called, and `commit()` first runs
the steps registered before commit (`services.pipeline.BEFORE_COMMIT`: follow-up cleanup,
statistics, outbox, audit) in their order, then commits, so an action, its counters, its
notifications and its audit records are stored together or not at all.

This module imports no use case and no pipeline step, so the steps can import it for the
type of their argument without an import cycle.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from verwijsindex.audit import AuditEntry, AuditLog, Who
from verwijsindex.crypto import KeyRing
from verwijsindex.db import UnitOfWork
from verwijsindex.events import Announcement, Event
from verwijsindex.federation.staged import StagedPseudonym
from verwijsindex.repository import (
    AuditQueries,
    CoordinationRepository,
    FederationRepository,
    FeedRepository,
    FollowUpRepository,
    LifecycleRepository,
    MatchViews,
    OutboxRepository,
    PeopleRepository,
    RecordRepository,
    RegieRepository,
    SignalOwner,
    SignalRepository,
    SqlMatchStore,
    SyncRunRepository,
    WebhookRepository,
    WebRepository,
)

PreCommitStep = Callable[["Transaction"], None]
"""A step run by `Transaction.commit` before the commit itself, in the transaction."""


@dataclass
class Transaction:
    """One unit of work with the repositories bound to its session.

    Audit entries recorded here (`record`) and events emitted here (`emit`), with the match
    changes the match store saw, are what the steps before commit turn into audit records,
    counters and outbox rows, in this same transaction.
    """

    uow: UnitOfWork
    keys: KeyRing
    now: datetime
    audit_log: AuditLog
    before_commit: Sequence[PreCommitStep]
    who: Who | None = None
    entries: list[AuditEntry] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    # The events as each organisation hears of them (webhooks, change feed), once staged.
    announcements: list[Announcement] = field(default_factory=list)
    # Signal owners looked up (or noted by the use case) in this transaction: counting
    # statistics and staging notifications both need them, and ask once.
    owners: dict[uuid.UUID, SignalOwner] = field(default_factory=dict)
    # False: stage no e-mails for this transaction (webhooks still go). A migration's import
    # forms matches that are old news to their participants (`services.bulk`).
    mail: bool = True
    # Federation on (docs/federation.md): the pre-commit step `stage_federation` stores the
    # blinded pseudonyms staged here and queues the children this transaction locked (their
    # state may have changed) for publishing. False: the step sends nothing.
    federation: bool = False
    staged_pseudonyms: list[StagedPseudonym] = field(default_factory=list)

    # --- repositories, one per aggregate ------------------------------------------------------

    @cached_property
    def signals(self) -> SignalRepository:
        return SignalRepository(self.uow.session, self.keys)

    @cached_property
    def matches(self) -> SqlMatchStore:
        return SqlMatchStore(self.uow.session, self.now)

    @cached_property
    def match_views(self) -> MatchViews:
        return MatchViews(self.uow.session)

    @cached_property
    def people(self) -> PeopleRepository:
        return PeopleRepository(self.uow.session, self.keys)

    @cached_property
    def follow_ups(self) -> FollowUpRepository:
        return FollowUpRepository(self.uow.session, self.keys)

    @cached_property
    def lifecycle(self) -> LifecycleRepository:
        return LifecycleRepository(self.uow.session, self.keys)

    @cached_property
    def records(self) -> RecordRepository:
        return RecordRepository(self.uow.session, self.keys)

    @cached_property
    def outbox(self) -> OutboxRepository:
        return OutboxRepository(self.uow.session, self.keys)

    @cached_property
    def webhooks(self) -> WebhookRepository:
        return WebhookRepository(self.uow.session, self.keys)

    @cached_property
    def feed(self) -> FeedRepository:
        return FeedRepository(self.uow.session, self.keys)

    @cached_property
    def web(self) -> WebRepository:
        return WebRepository(self.uow.session, self.keys)

    @cached_property
    def sync_runs(self) -> SyncRunRepository:
        return SyncRunRepository(self.uow.session, self.keys)

    @cached_property
    def regie(self) -> RegieRepository:
        return RegieRepository(self.uow.session, self.keys)

    @cached_property
    def audit(self) -> AuditQueries:
        return AuditQueries(self.uow.session, self.keys)

    @cached_property
    def federation_store(self) -> FederationRepository:
        return FederationRepository(self.uow.session, self.keys)

    @cached_property
    def coordination(self) -> CoordinationRepository:
        return CoordinationRepository(self.uow.session, self.keys)

    # --- what the use case did -----------------------------------------------------------------

    def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def signal_owners(self, signal_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, SignalOwner]:
        """Owner, organisation and sector of each signal (erased ones are absent)."""
        wanted = set(signal_ids)
        missing = wanted - self.owners.keys()
        if missing:
            self.owners.update(self.signals.owners(missing))
        return {s: self.owners[s] for s in wanted if s in self.owners}

    def commit(self) -> None:
        """Run the registered steps before commit, in order, then commit."""
        for step in self.before_commit:
            step(self)
        self.uow.commit()
