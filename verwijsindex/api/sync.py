"""`/sync`: a system client keeps the index in step with its own records (contract 9).

`PUT /sync/signals` states the complete set of signals the client holds; the answer is a
202 with the run that will apply it, `GET /sync/runs/{id}` its progress and report. These
act for the system itself: a client-credentials token, no `X-Professional-Id` (each item
names its professional); a personal token is a 403.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import request
from flask.views import MethodView
from werkzeug.exceptions import RequestEntityTooLarge

from verwijsindex.api.blueprint import Blueprint
from verwijsindex.api.context import core, system_caller
from verwijsindex.api.sync_items import read_items
from verwijsindex.api.sync_schemas import SyncBodySchema, SyncQuerySchema, SyncRunSchema
from verwijsindex.services import sync as sync_service
from verwijsindex.services.sync import MAX_ITEMS, RunView

PATH = "/api/v1/sync"
# 10,000 items of a few hundred bytes, or up to ~1.5 kB with a long justification each. The
# rest of the API keeps the app's far smaller limit (MAX_CONTENT_LENGTH).
MAX_BODY_BYTES = 16 * 1024 * 1024

blp = Blueprint(
    "sync",
    __name__,
    url_prefix=PATH,
    description="Sync: a source system's complete set of signals, applied as a run",
)


@blp.before_request
def allow_a_large_body() -> None:
    request.max_content_length = MAX_BODY_BYTES


_LOCATION = {
    "Location": {
        "description": "Where to follow the run: `/api/v1/sync/runs/{id}`",
        "schema": {"type": "string", "format": "uri-reference"},
    }
}


@blp.route("/signals")
class SyncSignals(MethodView):
    @blp.arguments(SyncQuerySchema, location="query")
    @blp.arguments(SyncBodySchema)
    @blp.response(202, SyncRunSchema, headers=_LOCATION)
    def put(self, query: dict[str, Any], body: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        """Replace this client's signals by the set it holds now (desired state).

        Missing signals are created, a changed informatieplicht is updated, and signals
        this client sent earlier but leaves out now are closed (archived, "risk gone").
        Signals registered any other way are never touched. Sending the same body twice
        has the effect of once. Items are identified by `externalRef`.

        Every item is validated (like `POST /signals`) and pseudonymised before the answer:
        an invalid item is skipped and reported in `report.errors` with its index and
        `externalRef`; the rest is applied. The run is applied in the background, a
        client's runs one at a time in the order they were accepted: follow it at
        `Location`. `dryRun=true` reports what would happen and changes nothing.

        Items unchanged since this client's last sync are `unchanged` at once. When nothing
        else is left to do (no item changed, none of this client's signals left out, no
        earlier run still queued or running), the run is `done` in this answer already,
        with its report: no need to follow it.

        The whole body is refused (400) for an unknown field, or an `externalRef` that is
        missing, not 1 to 100 characters, or used twice; with more than 10,000 signals,
        or over 16 MiB, it is a 413.
        """
        raw = body["signals"]
        if len(raw) > MAX_ITEMS:
            raise RequestEntityTooLarge(
                f"At most {MAX_ITEMS:,} signals per request; this one has {len(raw):,}. "
                "Contact us if your organisation holds more."
            )
        run = sync_service.accept_sync(
            core(), system_caller(), read_items(raw), dry_run=query["dry_run"]
        )
        return _fields(run), {"Location": f"{PATH}/runs/{run.id}"}


@blp.route("/runs/<uuid:run_id>")
class OneRun(MethodView):
    @blp.response(200, SyncRunSchema)
    def get(self, run_id: uuid.UUID) -> dict[str, Any]:
        """A run of this client: its status, progress and report (another's is a 404)."""
        return _fields(sync_service.get_run(core(), system_caller(), run_id))


def _fields(run: RunView) -> dict[str, Any]:
    return {
        "id": run.id,
        "status": run.status,
        "dry_run": run.dry_run,
        "total": run.total,
        "processed": run.processed,
        "report": {
            "created": run.created,
            "updated": run.updated,
            "closed": run.closed,
            "unchanged": run.unchanged,
            "errors": run.errors,
        },
        "accepted_at": run.accepted_at,
        "finished_at": run.finished_at,
        "failure": run.failure,
    }
