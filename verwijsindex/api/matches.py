"""`/matches`: the matches the acting professional takes part in, and the regisseur."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from verwijsindex.api.blueprint import Blueprint
from verwijsindex.api.context import actor, core, cursor_key, next_url
from verwijsindex.api.schemas import (
    MatchOutSchema,
    MatchPageSchema,
    PageQuerySchema,
    RegisseurInSchema,
)
from verwijsindex.domain import Match
from verwijsindex.services import matches as match_service

blp = Blueprint("matches", __name__, url_prefix="/api/v1/matches", description="Matches")


@blp.route("")
class Matches(MethodView):
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, MatchPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Matches the acting professional takes part in, newest first."""
        page = match_service.list_matches(core(), actor(), cursor_key(query), query["page_size"])
        return {
            "items": page.items,
            "next": next_url("/api/v1/matches", page.last_key, pageSize=query["page_size"]),
        }


@blp.route("/<uuid:match_id>")
class OneMatch(MethodView):
    @blp.response(200, MatchOutSchema)
    def get(self, match_id: uuid.UUID) -> Match:
        """One match with its participants' contact details; non-participants get 404."""
        return match_service.get_match(core(), actor(), match_id)


@blp.route("/<uuid:match_id>/regisseur")
class Regisseur(MethodView):
    @blp.arguments(RegisseurInSchema)
    @blp.response(200, MatchOutSchema)
    def put(self, body: dict[str, Any], match_id: uuid.UUID) -> Match:
        """Designate a participant as procesregisseur (first point of contact)."""
        return match_service.designate_regisseur(core(), actor(), match_id, body["professional_id"])

    @blp.response(204)
    def delete(self, match_id: uuid.UUID) -> None:
        """The regisseur steps down."""
        match_service.step_down(core(), actor(), match_id)


@blp.route("/<uuid:match_id>/follow-up")
class FollowUp(MethodView):
    @blp.response(200, MatchOutSchema)
    def put(self, match_id: uuid.UUID) -> Match:
        """Mark the match as followed up by the acting participant (idempotent).

        Participants who have not done so within 10 working days get one reminder by
        e-mail; every participant sees each other's `followedUpAt`.
        """
        return match_service.set_follow_up(core(), actor(), match_id, done=True)

    @blp.response(204)
    def delete(self, match_id: uuid.UUID) -> None:
        """Undo marking the match as followed up."""
        match_service.set_follow_up(core(), actor(), match_id, done=False)
