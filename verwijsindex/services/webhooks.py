"""Webhook subscriptions: a system client asks to hear about its organisation's events.

The signing secret is generated here, shown once in the answer to its creation, and kept
encrypted. Another client's subscription answers 404, as everywhere.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from verwijsindex.audit import AuditEntry
from verwijsindex.domain import InvalidInput, NotFound, Problem
from verwijsindex.events import WebhookEvent
from verwijsindex.notify.webhooks import new_signing_secret, receiver_url_problem
from verwijsindex.repository import DeliveryRecord, WebhookSubscription
from verwijsindex.services.auth import SystemCaller
from verwijsindex.services.core import Core
from verwijsindex.services.refusals import Refusal, records_refusals
from verwijsindex.services.unit_of_work import Transaction

# DeliveryRecord and WebhookSubscription are what the API shows: re-exported, so that it
# needs no repository.
__all__ = [
    "DeliveryRecord",
    "NewSubscription",
    "Page",
    "WebhookSubscription",
    "deliveries",
    "get_subscription",
    "list_subscriptions",
    "subscribe",
    "unsubscribe",
]

T = TypeVar("T")

DELIVERY_STATUSES = ("pending", "delivered", "failed", "skipped")


@dataclass(frozen=True, slots=True)
class NewSubscription:
    subscription: WebhookSubscription
    secret: str


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    last_key: tuple[datetime, uuid.UUID] | None


def subscribe(core: Core, caller: SystemCaller, url: str, events: list[str]) -> NewSubscription:
    problems = []
    reason = receiver_url_problem(url, allow_http_loopback=core.settings.development)
    if reason is not None:
        problems.append(Problem("url", reason))
    if not events:
        problems.append(Problem("events", "Name at least one event type."))
    for index, event in enumerate(events):
        if event not in WebhookEvent.ALL:
            problems.append(
                Problem(f"events[{index}]", f"Must be one of: {', '.join(WebhookEvent.ALL)}.")
            )
    if problems:
        raise InvalidInput(problems)
    secret = new_signing_secret()
    with core.transaction(write=True, actor=caller) as tx:
        subscription = tx.webhooks.add_subscription(caller.client_id, url, events, secret, tx.now)
        tx.record(
            AuditEntry("webhook-subscription:create", "webhook-subscription", subscription.id)
        )
        tx.commit()
    return NewSubscription(subscription, secret)


def list_subscriptions(
    core: Core, caller: SystemCaller, after: tuple[datetime, uuid.UUID] | None, page_size: int
) -> Page[WebhookSubscription]:
    with core.transaction(write=False) as tx:
        found = tx.webhooks.subscriptions_of_client(caller.client_id, after, page_size + 1)
    more = len(found) > page_size
    found = found[:page_size]
    last = (found[-1].created_at, found[-1].id) if more and found else None
    return Page(found, last)


def _own(
    tx: Transaction, caller: SystemCaller, subscription_id: uuid.UUID, action: str
) -> WebhookSubscription:
    found = tx.webhooks.subscription(subscription_id)
    if found is None or found.client_id != caller.client_id:
        raise Refusal(
            NotFound("No such webhook subscription."),
            AuditEntry(action, "webhook-subscription", subscription_id),
        )
    return found


@records_refusals
def get_subscription(
    core: Core, caller: SystemCaller, subscription_id: uuid.UUID
) -> WebhookSubscription:
    with core.transaction(write=False) as tx:
        return _own(tx, caller, subscription_id, "webhook-subscription:read")


@records_refusals
def unsubscribe(core: Core, caller: SystemCaller, subscription_id: uuid.UUID) -> None:
    """Delete the subscription and the calls still waiting for it."""
    with core.transaction(write=True, actor=caller) as tx:
        _own(tx, caller, subscription_id, "webhook-subscription:delete")
        tx.webhooks.delete_subscription(subscription_id)
        tx.record(
            AuditEntry("webhook-subscription:delete", "webhook-subscription", subscription_id)
        )
        tx.commit()


@records_refusals
def deliveries(
    core: Core,
    caller: SystemCaller,
    subscription_id: uuid.UUID,
    status: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    page_size: int,
) -> Page[DeliveryRecord]:
    """The subscription's calls, newest first: pending, delivered, or failed for good."""
    with core.transaction(write=False) as tx:
        _own(tx, caller, subscription_id, "webhook-subscription:deliveries")
        found = tx.outbox.deliveries_of_subscription(subscription_id, status, after, page_size + 1)
    more = len(found) > page_size
    found = found[:page_size]
    last = (found[-1].queued_at, found[-1].id) if more and found else None
    return Page(found, last)
