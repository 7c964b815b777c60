"""JSON shapes of `/webhook-subscriptions` and their deliveries."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from verwijsindex.api.schemas import StrictSchema
from verwijsindex.events import WebhookEvent
from verwijsindex.services.webhooks import DELIVERY_STATUSES

_EVENTS_DOC = ", ".join(f"`{e}`" for e in WebhookEvent.ALL)


class SubscriptionInSchema(StrictSchema):
    url = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2000),
        metadata={
            "description": "Receiver URL: https (http only to localhost in development).",
            "example": "https://school.example.nl/hooks/verwijsindex",
        },
    )
    events = fields.List(
        fields.String(validate=validate.Length(max=40)),
        required=True,
        validate=validate.Length(max=len(WebhookEvent.ALL)),
        metadata={"description": f"Event types to receive: {_EVENTS_DOC}."},
    )


class SubscriptionOutSchema(Schema):
    id = fields.UUID()
    url = fields.String()
    events = fields.List(fields.String())
    created_at = fields.DateTime(data_key="createdAt")
    disabled_at = fields.DateTime(
        data_key="disabledAt",
        allow_none=True,
        metadata={"description": "Set when the receiver answered 410 Gone: nothing is sent."},
    )


class NewSubscriptionOutSchema(SubscriptionOutSchema):
    secret = fields.String(
        metadata={
            "description": "Standard Webhooks signing secret (`whsec_...`). Shown only now: "
            "store it to verify the `webhook-signature` header."
        }
    )


class SubscriptionPageSchema(Schema):
    items = fields.List(fields.Nested(SubscriptionOutSchema))
    next = fields.String(allow_none=True)


class DeliveryQuerySchema(StrictSchema):
    status = fields.String(validate=validate.OneOf(DELIVERY_STATUSES))
    page_size = fields.Integer(
        load_default=20, data_key="pageSize", validate=validate.Range(min=1, max=100)
    )
    cursor = fields.String(validate=validate.Length(max=200))


class DeliveryOutSchema(Schema):
    id = fields.UUID(metadata={"description": "Also the `webhook-id` header of every attempt."})
    event_type = fields.String(attribute="topic", data_key="eventType")
    status = fields.String(
        metadata={
            "description": "`pending` (retried with backoff), `delivered`, `failed` "
            "(gave up after at least 24 hours), or `skipped`."
        }
    )
    attempts = fields.Integer()
    queued_at = fields.DateTime(data_key="queuedAt")
    next_attempt_at = fields.DateTime(data_key="nextAttemptAt", allow_none=True)
    last_attempt_at = fields.DateTime(data_key="lastAttemptAt", allow_none=True)
    finished_at = fields.DateTime(data_key="finishedAt", allow_none=True)
    last_error = fields.String(
        data_key="lastError",
        allow_none=True,
        metadata={"description": "Why the last attempt failed, e.g. `HTTP 500` or `timeout`."},
    )


class DeliveryPageSchema(Schema):
    items = fields.List(fields.Nested(DeliveryOutSchema))
    next = fields.String(allow_none=True)
