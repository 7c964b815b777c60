"""Webhook subscriptions of system clients (`tx.webhooks`); the signing secret is stored
encrypted."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update

from verwijsindex.models import SystemClientRow, WebhookSubscriptionRow
from verwijsindex.repository.base import RepositoryBase

TABLE = "webhook_subscriptions"


@dataclass(frozen=True, slots=True)
class WebhookSubscription:
    id: uuid.UUID
    client_id: uuid.UUID
    url: str
    events: tuple[str, ...]
    created_at: datetime
    disabled_at: datetime | None


@dataclass(frozen=True, slots=True)
class Subscriber:
    """An active subscription, with the organisation whose events it may hear."""

    subscription_id: uuid.UUID
    organisation_id: uuid.UUID
    events: frozenset[str]


class WebhookRepository(RepositoryBase):
    def add_subscription(
        self, client_id: uuid.UUID, url: str, events: Iterable[str], secret: str, now: datetime
    ) -> WebhookSubscription:
        new_id = uuid.uuid4()
        row = WebhookSubscriptionRow(
            id=new_id,
            client_id=client_id,
            url=url,
            events=" ".join(sorted(set(events))),
            secret_enc=self._seal(TABLE, new_id, "secret", secret),
            created_at=now,
            disabled_at=None,
        )
        self.session.add(row)
        self.session.flush()
        return _subscription(row)

    def subscription(self, subscription_id: uuid.UUID) -> WebhookSubscription | None:
        row = self.session.get(WebhookSubscriptionRow, subscription_id)
        return _subscription(row) if row is not None else None

    def subscription_secret(self, subscription_id: uuid.UUID) -> str | None:
        row = self.session.get(WebhookSubscriptionRow, subscription_id)
        if row is None:
            return None
        return self._open(TABLE, row.id, "secret", row.secret_enc)

    def subscriptions_of_client(
        self, client_id: uuid.UUID, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[WebhookSubscription]:
        """Newest first, keyset-paginated on (created_at, id)."""
        statement = select(WebhookSubscriptionRow).where(
            WebhookSubscriptionRow.client_id == client_id
        )
        if after is not None:
            created_at, last_id = after
            statement = statement.where(
                (WebhookSubscriptionRow.created_at < created_at)
                | (
                    (WebhookSubscriptionRow.created_at == created_at)
                    & (WebhookSubscriptionRow.id < last_id)
                )
            )
        rows = self.session.scalars(
            statement.order_by(
                WebhookSubscriptionRow.created_at.desc(), WebhookSubscriptionRow.id.desc()
            ).limit(limit)
        )
        return [_subscription(r) for r in rows]

    def delete_subscription(self, subscription_id: uuid.UUID) -> None:
        """Its undelivered calls go with it (cascade): nobody is left to receive them."""
        self.session.execute(
            delete(WebhookSubscriptionRow).where(WebhookSubscriptionRow.id == subscription_id)
        )

    def disable_subscription(self, subscription_id: uuid.UUID, now: datetime) -> None:
        self.session.execute(
            update(WebhookSubscriptionRow)
            .where(WebhookSubscriptionRow.id == subscription_id)
            .values(disabled_at=now)
        )

    def subscribers(self, organisation_ids: Iterable[uuid.UUID]) -> list[Subscriber]:
        """Active subscriptions of these organisations' unrevoked clients."""
        wanted = set(organisation_ids)
        if not wanted:
            return []
        rows = self.session.execute(
            select(
                WebhookSubscriptionRow.id,
                SystemClientRow.organisation_id,
                WebhookSubscriptionRow.events,
            )
            .join(SystemClientRow, SystemClientRow.id == WebhookSubscriptionRow.client_id)
            .where(
                SystemClientRow.organisation_id.in_(wanted),
                SystemClientRow.revoked_at.is_(None),
                WebhookSubscriptionRow.disabled_at.is_(None),
            )
        ).all()
        return [Subscriber(i, o, frozenset(e.split())) for i, o, e in rows]


def _subscription(row: WebhookSubscriptionRow) -> WebhookSubscription:
    return WebhookSubscription(
        row.id, row.client_id, row.url, tuple(row.events.split()), row.created_at, row.disabled_at
    )
