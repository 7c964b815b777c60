"""JSON shapes of `/events`, the change feed."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from verwijsindex.api.schemas import StrictSchema
from verwijsindex.events import WebhookEvent
from verwijsindex.services.change_feed import FEED_KEPT, MAX_PAGE_SIZE

_TYPES = ", ".join(f"`{e}`" for e in WebhookEvent.ALL)


class FeedQuerySchema(StrictSchema):
    after = fields.UUID(
        metadata={
            "description": "The id of the last event you have processed: the answer starts "
            "with the event after it. Without it, the feed starts at the oldest event kept "
            f"(events are kept {FEED_KEPT.days} days). An id no longer kept answers 410."
        }
    )
    page_size = fields.Integer(
        load_default=MAX_PAGE_SIZE,
        data_key="pageSize",
        validate=validate.Range(min=1, max=MAX_PAGE_SIZE),
    )


class EventDataSchema(Schema):
    """The webhook body's `data`: ids only; which fields depends on the type. Dumped from
    the stored JSON as it is, hence `attribute` = the JSON key."""

    match_id = fields.UUID(
        data_key="matchId", attribute="matchId", metadata={"description": "match.*, regisseur.*"}
    )
    match_type = fields.String(
        data_key="matchType",
        attribute="matchType",
        metadata={"description": "`client` or `family` (match.created, match.changed)"},
    )
    dissolved = fields.Boolean(
        attribute="dissolved",
        metadata={"description": "match.changed: true when the match no longer exists"},
    )
    regisseur_id = fields.UUID(
        data_key="regisseurId",
        attribute="regisseurId",
        metadata={"description": "regisseur.designated"},
    )
    signal_id = fields.UUID(
        data_key="signalId", attribute="signalId", metadata={"description": "signal.archived"}
    )
    professional_ids = fields.List(
        fields.UUID(),
        data_key="professionalIds",
        attribute="professionalIds",
        metadata={
            "description": "The professionals of your own organisation involved: use one as "
            "`X-Professional-Id` to fetch the details (e.g. GET /matches/{id})."
        },
    )


class EventSchema(Schema):
    id = fields.UUID(metadata={"description": "The event's id: pass it as `after`."})
    type = fields.String(metadata={"description": f"One of {_TYPES}."})
    occurred_at = fields.DateTime(data_key="occurredAt")
    data = fields.Nested(EventDataSchema)


class EventPageSchema(Schema):
    items = fields.List(fields.Nested(EventSchema))
    next = fields.String(
        allow_none=True,
        metadata={
            "description": "The next page when more events are waiting; null at the end, "
            "where you read again later with `after` the last item's id."
        },
    )
