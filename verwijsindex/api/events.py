"""`/events`: the change feed, for systems that cannot receive webhooks (contract section 9).

A system client reads for itself: a client-credentials token, no `X-Professional-Id`
(personal tokens are refused with 403). What it reads and why it never misses an event:
`services.change_feed`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask.views import MethodView
from werkzeug.exceptions import Gone

from verwijsindex.api.blueprint import Blueprint
from verwijsindex.api.context import core, system_caller
from verwijsindex.api.event_schemas import EventPageSchema, FeedQuerySchema
from verwijsindex.services.change_feed import FeedCursorGone, FeedEvent, read_feed

PATH = "/api/v1/events"

blp = Blueprint("events", __name__, url_prefix=PATH, description="Change feed")


@blp.route("")
class Events(MethodView):
    @blp.arguments(FeedQuerySchema, location="query")
    @blp.response(200, EventPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """The events of your organisation's matches and signals, oldest first, ids only.

        The same events, with the same `data`, that webhook subscriptions of your
        organisation would be sent (`match.created`, `match.changed`,
        `regisseur.designated`, `signal.archived`), whether or not it has any; for systems
        behind a firewall. Poll: follow `next` while it is given, then read again later
        with `after` set to the id of the last event you processed. Reading that way never
        misses an event: one appears only once every transaction that could still place an
        event before it has finished. Events are kept 30 days; an `after` that is no longer
        kept (or not an event of yours) answers 410 Gone: read again without `after`, from
        the oldest event kept, and compare with GET /matches.
        """
        page_size = query["page_size"]
        try:
            page = read_feed(core(), system_caller(), query.get("after"), page_size)
        except FeedCursorGone as gone:
            raise Gone(gone.detail) from None
        return {
            "items": [_fields(event) for event in page.items],
            "next": _next(page.items[-1], page_size) if page.more else None,
        }


def _fields(event: FeedEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type,
        "occurred_at": event.occurred_at,
        "data": event.data,
    }


def _next(last: FeedEvent, page_size: int) -> str:
    query = urlencode({"after": str(last.id), "pageSize": page_size})
    return f"{core().settings.base_url.rstrip('/')}{PATH}?{query}"
