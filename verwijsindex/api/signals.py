"""`/signals`: register, list, read, update informatieplicht, close."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from flask import Response, request
from flask.views import MethodView

from verwijsindex.api import strict_json
from verwijsindex.api.blueprint import Blueprint
from verwijsindex.api.context import actor, core, cursor_key, next_url
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
from verwijsindex.services.registration import CREATED, Once, register_signal, register_signal_once
from verwijsindex.services.signals import InformatieplichtUpdate

blp = Blueprint("signals", __name__, url_prefix="/api/v1/signals", description="Signals")

_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")
IDEMPOTENCY_KEY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Makes retries safe: the same key and body within 24 hours return the "
    "original response instead of registering again.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}

SIGNAL_LOCATION = {
    "Location": {
        "description": "The new signal: `/api/v1/signals/{id}`",
        "schema": {"type": "string", "format": "uri-reference"},
    }
}


def signal_location(signal_id: uuid.UUID | str) -> str:
    return f"/api/v1/signals/{signal_id}"


@blp.route("")
class Signals(MethodView):
    @blp.arguments(SignalInSchema)
    @blp.response(201, SignalOutSchema, headers=SIGNAL_LOCATION)
    @blp.doc(parameters=[IDEMPOTENCY_KEY_PARAMETER])
    def post(self, new_signal: NewSignal) -> tuple[Signal, dict[str, str]] | Response:
        """Register a signal: "I am involved with this young person".

        Returns the signal with the matches it is in now (found in the same transaction).
        With an `Idempotency-Key`, a retry with the same key and body within 24 hours gets
        the original response again (header `Idempotent-Replayed: true`); the same key with
        another body is a 400.
        """
        key = request.headers.get("Idempotency-Key")
        if key is None:
            signal = register_signal(core(), actor(), new_signal)
            return signal, {"Location": signal_location(signal.id)}
        if not _IDEMPOTENCY_KEY.fullmatch(key):
            raise InvalidInput(
                [Problem("Idempotency-Key", "1 to 255 visible ASCII characters, please.")]
            )
        # Read as the parser read it (strict_json), so one body has one fingerprint.
        parsed = strict_json.loads(request.get_data(cache=True))
        canonical = json.dumps(parsed, sort_keys=True, separators=(",", ":"))
        answer = register_signal_once(
            core(),
            actor(),
            new_signal,
            Once(
                key=key,
                fingerprint=core().pseudonymiser.fingerprint(canonical.encode()),
                render=lambda signal: json.dumps(SignalOutSchema().dump(signal)),
            ),
        )
        headers = {"Idempotent-Replayed": "true" if answer.replayed else "false"}
        if answer.status == CREATED:
            headers["Location"] = signal_location(json.loads(answer.body)["id"])
        return Response(
            answer.body, status=answer.status, mimetype="application/json", headers=headers
        )

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
        `ownReference` sets the author's own reference (null or "" removes it).
        """
        signal: Signal | None = None
        if "informatieplicht" in body:
            duty = body["informatieplicht"]
            update = InformatieplichtUpdate(
                child_informed=duty.get("child_informed"),
                parents_informed=duty.get("parents_informed"),
                postponement=duty.get("postponement"),
                clear_postponement="postponement" in duty and duty["postponement"] is None,
            )
            signal = signal_service.update_informatieplicht(core(), actor(), signal_id, update)
        if "own_reference" in body:
            # Checked by the schema already, so this cannot fail after the update above.
            signal = signal_service.update_own_reference(
                core(), actor(), signal_id, body["own_reference"]
            )
        assert signal is not None  # the schema requires one of the two
        return signal

    @blp.arguments(CloseQuerySchema, location="query")
    @blp.response(204)
    def delete(self, query: dict[str, Any], signal_id: uuid.UUID) -> None:
        """Close: archived at once and out of every match; `reason=unjustified` erases it."""
        reason = CloseReason(query.get("reason", CloseReason.RISK_GONE.value))
        signal_service.close_signal(core(), actor(), signal_id, reason)
