"""`/signals`: register, list, read, update informatieplicht, close."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from verwijsindex.api.blueprint import Blueprint
from verwijsindex.api.context import BadCursor, actor, core, decode_cursor, next_url
from verwijsindex.api.schemas import (
    CloseQuerySchema,
    SignalInSchema,
    SignalListQuerySchema,
    SignalOutSchema,
    SignalPageSchema,
    SignalPatchSchema,
)
from verwijsindex.domain import CloseReason, InvalidInput, NewSignal, Problem, Signal, SignalStatus
from verwijsindex.services import signals as signal_service
from verwijsindex.services.signals import InformatieplichtUpdate

blp = Blueprint("signals", __name__, url_prefix="/api/v1/signals", description="Signals")


def cursor_key(query: dict[str, Any]) -> Any:
    if "cursor" not in query:
        return None
    try:
        return decode_cursor(query["cursor"])
    except BadCursor:
        raise InvalidInput([Problem("cursor", "Not a cursor this service gave out.")]) from None


@blp.route("")
class Signals(MethodView):
    @blp.arguments(SignalInSchema)
    @blp.response(201, SignalOutSchema)
    def post(self, request: NewSignal) -> Signal:
        """Register a signal: "I am involved with this young person".

        Returns the signal with the matches it is in now (found in the same transaction).
        """
        return signal_service.register_signal(core(), actor(), request)

    @blp.arguments(SignalListQuerySchema, location="query")
    @blp.response(200, SignalPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """The acting professional's own signals, newest first."""
        status = SignalStatus(query["status"]) if "status" in query else None
        page = signal_service.list_signals(
            core(), actor(), status, cursor_key(query), query["page_size"]
        )
        return {
            "items": page.items,
            "next": next_url(
                "/api/v1/signals",
                page.last_key,
                status=query.get("status"),
                pageSize=query["page_size"],
            ),
        }


@blp.route("/<uuid:signal_id>")
class OneSignal(MethodView):
    @blp.response(200, SignalOutSchema)
    def get(self, signal_id: uuid.UUID) -> Signal:
        """One own signal; another's answers 404."""
        return signal_service.get_signal(core(), actor(), signal_id)

    @blp.arguments(SignalPatchSchema)
    @blp.response(200, SignalOutSchema)
    def patch(self, body: dict[str, Any], signal_id: uuid.UUID) -> Signal:
        """Update the informatieplicht, e.g. the parents were informed after a postponement.

        Omitted fields stay as they are; `postponement: null` removes a recorded postponement.
        """
        duty = body["informatieplicht"]
        update = InformatieplichtUpdate(
            child_informed=duty.get("child_informed"),
            parents_informed=duty.get("parents_informed"),
            postponement=duty.get("postponement"),
            clear_postponement="postponement" in duty and duty["postponement"] is None,
        )
        return signal_service.update_informatieplicht(core(), actor(), signal_id, update)

    @blp.arguments(CloseQuerySchema, location="query")
    @blp.response(204)
    def delete(self, query: dict[str, Any], signal_id: uuid.UUID) -> None:
        """Close: archived at once and out of every match; `reason=unjustified` erases it."""
        reason = CloseReason(query.get("reason", CloseReason.RISK_GONE.value))
        signal_service.close_signal(core(), actor(), signal_id, reason)
