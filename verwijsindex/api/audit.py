"""`/audit-events`: the audit log, for privacy officers, newest first."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from verwijsindex.api.blueprint import Blueprint
from verwijsindex.api.context import actor, bad_cursor, core, page_url
from verwijsindex.api.schemas import AuditEventPageSchema, AuditQuerySchema
from verwijsindex.audit import AuditEntry
from verwijsindex.domain import Forbidden, Role
from verwijsindex.services.audit_log import AuditQuery, search_audit_events

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit-events", description="Audit log")


@blp.route("")
class AuditEvents(MethodView):
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditEventPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Audit records (NEN 7513 fields), filtered by time, actor or object.

        Only for privacy officers; the search is itself recorded in the audit log.
        """
        before = None
        if "cursor" in query:
            try:
                before = int(query["cursor"])
            except ValueError:
                raise bad_cursor() from None
        try:
            actor().require(Role.PRIVACY_OFFICER)
        except Forbidden:
            # Refusals are on record like elsewhere: who tried to read the audit trail
            # (e.g. a system token naming a privacy officer) is itself worth knowing.
            core().record_denied(actor(), AuditEntry("audit:search", "audit_log"))
            raise
        page = search_audit_events(
            core(),
            actor(),
            AuditQuery(
                since=query.get("since"),
                until=query.get("until"),
                actor=query.get("actor"),
                object_id=query.get("object_id"),
                before_seq=before,
                page_size=query["page_size"],
            ),
        )
        next_link = None
        if page.last_seq is not None:
            next_link = page_url("/api/v1/audit-events", str(page.last_seq), **_echo(query))
        return {"items": page.items, "next": next_link}


def _echo(query: dict[str, Any]) -> dict[str, Any]:
    return {
        "since": query["since"].isoformat() if query.get("since") else None,
        "until": query["until"].isoformat() if query.get("until") else None,
        "actor": str(query["actor"]) if query.get("actor") else None,
        "objectId": str(query["object_id"]) if query.get("object_id") else None,
        "pageSize": query["page_size"],
    }
