"""Queries and writes, returning domain objects: one repository per aggregate.

Each is a class of its own bound to the session of one unit of work; the service layer's
`Transaction` holds them (`tx.signals`, `tx.matches`, `tx.people`, ...) and builds each
one only when a use case first asks for it.
"""

from verwijsindex.repository.audit import AuditQueries
from verwijsindex.repository.coordination import CoordinationRepository, OrganisationSignal
from verwijsindex.repository.federation import FederationRepository
from verwijsindex.repository.feed import FeedEntry, FeedEvent, FeedRepository
from verwijsindex.repository.follow_up import FollowUpRepository, Participation
from verwijsindex.repository.lifecycle import LifecycleRepository
from verwijsindex.repository.match_views import MatchViews, StoredMatch
from verwijsindex.repository.matches import SqlMatchStore
from verwijsindex.repository.outbox import Delivery, DeliveryRecord, OutboxRepository, Outgoing
from verwijsindex.repository.people import (
    PeopleRepository,
    SystemClient,
    SystemClientSummary,
)
from verwijsindex.repository.records import RecordRepository, StoredResponse
from verwijsindex.repository.regie import Check, FollowUpState, RegieRepository, Regievoerder
from verwijsindex.repository.signals import SignalOwner, SignalRepository
from verwijsindex.repository.sync_runs import SyncRunRepository
from verwijsindex.repository.web import LoginRecord, WebRepository, WebSession
from verwijsindex.repository.webhooks import Subscriber, WebhookRepository, WebhookSubscription

__all__ = [
    "AuditQueries",
    "Check",
    "CoordinationRepository",
    "Delivery",
    "DeliveryRecord",
    "FederationRepository",
    "FeedEntry",
    "FeedEvent",
    "FeedRepository",
    "FollowUpRepository",
    "FollowUpState",
    "LifecycleRepository",
    "LoginRecord",
    "MatchViews",
    "OrganisationSignal",
    "OutboxRepository",
    "Outgoing",
    "Participation",
    "PeopleRepository",
    "RecordRepository",
    "RegieRepository",
    "Regievoerder",
    "SignalOwner",
    "SignalRepository",
    "SqlMatchStore",
    "StoredMatch",
    "StoredResponse",
    "Subscriber",
    "SyncRunRepository",
    "SystemClient",
    "SystemClientSummary",
    "WebRepository",
    "WebSession",
    "WebhookRepository",
    "WebhookSubscription",
]
