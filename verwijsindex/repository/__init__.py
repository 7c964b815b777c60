"""Queries and writes, returning domain objects; one session per unit of work.

Split by subject into mixins over one base (session, field encryption), so every use
case keeps a single `tx.repo`.
"""

from verwijsindex.repository.audit import AuditQueries
from verwijsindex.repository.follow_up import FollowUpQueries, Participation
from verwijsindex.repository.lifecycle import LifecycleQueries
from verwijsindex.repository.outbox import (
    Delivery,
    DeliveryRecord,
    FanOutQueries,
    OutboxQueries,
    Outgoing,
    SignalOwner,
)
from verwijsindex.repository.people import PeopleQueries, SystemClient
from verwijsindex.repository.records import RecordQueries, StoredResponse
from verwijsindex.repository.signals import SignalQueries
from verwijsindex.repository.web import LoginRecord, WebQueries, WebSession
from verwijsindex.repository.webhooks import Subscriber, WebhookQueries, WebhookSubscription

__all__ = [
    "Delivery",
    "DeliveryRecord",
    "LoginRecord",
    "Outgoing",
    "Participation",
    "Repository",
    "SignalOwner",
    "StoredResponse",
    "Subscriber",
    "SystemClient",
    "WebSession",
    "WebhookSubscription",
]


class Repository(
    PeopleQueries,
    SignalQueries,
    RecordQueries,
    LifecycleQueries,
    OutboxQueries,
    FanOutQueries,
    WebhookQueries,
    FollowUpQueries,
    WebQueries,
    AuditQueries,
):
    """Everything a use case reads or writes, bound to its session."""
