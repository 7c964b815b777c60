"""`/webhook-subscriptions`: system clients subscribe to their organisation's events.

These act for the system itself, so they need a client-credentials token and no
`X-Professional-Id`. Deliveries follow Standard Webhooks and carry ids only.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import request
from flask.views import MethodView

from verwijsindex.api.blueprint import Blueprint
from verwijsindex.api.context import core, cursor_key, next_url
from verwijsindex.api.schemas import PageQuerySchema
from verwijsindex.api.webhook_schemas import (
    DeliveryPageSchema,
    DeliveryQuerySchema,
    NewSubscriptionOutSchema,
    SubscriptionInSchema,
    SubscriptionOutSchema,
    SubscriptionPageSchema,
)
from verwijsindex.domain import Unauthenticated
from verwijsindex.services import webhooks as webhook_service
from verwijsindex.services.auth import SystemCaller, authenticate_system
from verwijsindex.services.webhooks import WebhookSubscription

PATH = "/api/v1/webhook-subscriptions"

blp = Blueprint(
    "webhook-subscriptions", __name__, url_prefix=PATH, description="Webhook subscriptions"
)


def system_caller() -> SystemCaller:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("A bearer token is required (Authorization: Bearer ...).")
    return authenticate_system(core(), token.strip())


_LOCATION = {
    "Location": {
        "description": "The new subscription: `/api/v1/webhook-subscriptions/{id}`",
        "schema": {"type": "string", "format": "uri-reference"},
    }
}


@blp.route("")
class Subscriptions(MethodView):
    @blp.arguments(SubscriptionInSchema)
    @blp.response(201, NewSubscriptionOutSchema, headers=_LOCATION)
    def post(self, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """Subscribe to events about the matches and signals of the system's organisation.

        The answer holds the signing secret, once. Each delivery is a POST with the
        headers `webhook-id`, `webhook-timestamp` and `webhook-signature` (Standard
        Webhooks) and a body like `{"type": "match.created", "timestamp": "...",
        "data": {"matchId": "...", "matchType": "client", "professionalIds": ["..."]}}`:
        ids only, with the professionals of your own organisation involved (use one as
        `X-Professional-Id` to fetch the details). Failed deliveries are retried with
        backoff for at least 24 hours, then marked `failed`.
        """
        created = webhook_service.subscribe(core(), system_caller(), body["url"], body["events"])
        location = f"{PATH}/{created.subscription.id}"
        return {**_fields(created.subscription), "secret": created.secret}, {"Location": location}

    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, SubscriptionPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """The system's subscriptions, newest first."""
        page = webhook_service.list_subscriptions(
            core(), system_caller(), cursor_key(query), query["page_size"]
        )
        return {
            "items": [_fields(s) for s in page.items],
            "next": next_url(PATH, page.last_key, pageSize=query["page_size"]),
        }


@blp.route("/<uuid:subscription_id>")
class OneSubscription(MethodView):
    @blp.response(200, SubscriptionOutSchema)
    def get(self, subscription_id: uuid.UUID) -> dict[str, Any]:
        """One subscription (without its secret)."""
        return _fields(webhook_service.get_subscription(core(), system_caller(), subscription_id))

    @blp.response(204)
    def delete(self, subscription_id: uuid.UUID) -> None:
        """Unsubscribe; calls not yet delivered are dropped."""
        webhook_service.unsubscribe(core(), system_caller(), subscription_id)


@blp.route("/<uuid:subscription_id>/deliveries")
class Deliveries(MethodView):
    @blp.arguments(DeliveryQuerySchema, location="query")
    @blp.response(200, DeliveryPageSchema)
    def get(self, query: dict[str, Any], subscription_id: uuid.UUID) -> dict[str, Any]:
        """The subscription's deliveries, newest first; `status=failed` shows what was given
        up on."""
        page = webhook_service.deliveries(
            core(),
            system_caller(),
            subscription_id,
            query.get("status"),
            cursor_key(query),
            query["page_size"],
        )
        return {
            "items": page.items,
            "next": next_url(
                f"{PATH}/{subscription_id}/deliveries",
                page.last_key,
                pageSize=query["page_size"],
                status=query.get("status"),
            ),
        }


def _fields(subscription: WebhookSubscription) -> dict[str, Any]:
    return {
        "id": subscription.id,
        "url": subscription.url,
        "events": list(subscription.events),
        "created_at": subscription.created_at,
        "disabled_at": subscription.disabled_at,
    }
