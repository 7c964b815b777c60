"""`/monitoring`: the regievoerder's view of the matches in their gemeenten (contract §10).

In person only (web session or personal token): a system token never carries this role.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from verwijsindex.api.blueprint import Blueprint
from verwijsindex.api.context import actor, core, cursor_key, next_url
from verwijsindex.api.monitoring_schemas import (
    MonitoredMatchPageSchema,
    MonitoredMatchSchema,
    MonitoringQuerySchema,
)
from verwijsindex.services import monitoring
from verwijsindex.services.monitoring import MonitoredMatch

PATH = "/api/v1/monitoring/matches"

blp = Blueprint("monitoring", __name__, url_prefix=PATH, description="Monitoring")


@blp.route("")
class MonitoredMatches(MethodView):
    @blp.arguments(MonitoringQuerySchema, location="query")
    @blp.response(200, MonitoredMatchPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Matches in the regievoerder's gemeenten, newest first, with follow-up.

        A match is in scope when any of its signals names one of the caller's gemeenten;
        a regievoerder with none assigned sees the whole index. Each participant carries
        contact details, `followedUpAt` and `overdue` (not followed up within 10 working
        days of joining, Dutch public holidays excluded). Every request is audited.
        """
        page = monitoring.list_monitored(
            core(),
            actor(),
            follow_up=query.get("follow_up"),
            gemeente=query.get("gemeente"),
            after=cursor_key(query),
            page_size=query["page_size"],
        )
        return {
            "items": page.items,
            "next": next_url(
                PATH,
                page.last_key,
                followUp=query.get("follow_up"),
                gemeente=query.get("gemeente"),
                pageSize=query["page_size"],
            ),
        }


@blp.route("/<uuid:match_id>")
class MonitoredMatchOne(MethodView):
    @blp.response(200, MonitoredMatchSchema)
    def get(self, match_id: uuid.UUID) -> MonitoredMatch:
        """One match in the regievoerder's gemeenten; outside them a 404."""
        return monitoring.get_monitored(core(), actor(), match_id)


@blp.route("/<uuid:match_id>/check")
class ContactChecked(MethodView):
    @blp.response(200, MonitoredMatchSchema)
    def put(self, match_id: uuid.UUID) -> MonitoredMatch:
        """Record that contact between the participants was checked (idempotent: the first
        check stands). A match outside the caller's gemeenten is a 404."""
        return monitoring.check_contact(core(), actor(), match_id)
