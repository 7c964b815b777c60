"""The organisation's coordinator (contract section 10, Jeugdwet 7.1.3.3): contact details
of its professionals, its signals, and moving a signal to a colleague.

In person only: a system token gets 403 (contract section 4). Another organisation's
professional or signals answer 404, like ones that do not exist.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from verwijsindex.api.blueprint import Blueprint
from verwijsindex.api.context import actor, core, cursor_key, next_url
from verwijsindex.api.coordination_schemas import (
    ContactPatchSchema,
    OrganisationSignalPageSchema,
    OrganisationSignalQuerySchema,
    OrganisationSignalSchema,
    ProfessionalOutSchema,
    TransferInSchema,
)
from verwijsindex.domain import Professional, SignalStatus
from verwijsindex.services import coordination, transfer
from verwijsindex.services.coordination import ContactChange, OrganisationSignal

blp = Blueprint("coordination", __name__, url_prefix="/api/v1", description="Coordination")


def _signal_out(signal: OrganisationSignal, author: Professional | None) -> dict[str, Any]:
    """Only the fields the coordinator may see, named one by one."""
    return {
        "id": signal.id,
        "status": signal.status,
        "created_at": signal.created_at,
        "active_until": signal.active_until,
        "archived_at": signal.archived_at,
        "gemeente": signal.gemeente,
        "match_count": signal.match_count,
        "professional": {
            "id": signal.professional_id,
            "name": author.name if author else None,
            "active": author.active if author else False,
        },
    }


@blp.route("/professionals/<uuid:professional_id>")
class OneProfessional(MethodView):
    @blp.arguments(ContactPatchSchema)
    @blp.response(200, ProfessionalOutSchema)
    def patch(self, body: dict[str, Any], professional_id: uuid.UUID) -> Professional:
        """Change a professional's name, e-mail address or phone number (merge patch).

        For a coordinator of the professional's organisation, or a beheerder; in person
        only. Another organisation's professional answers 404. An e-mail address another
        person uses is a 409. Stored encrypted; audited.
        """
        change = ContactChange(body.get("name"), body.get("email"), body.get("phone"))
        return coordination.change_contact(core(), actor(), professional_id, change)


@blp.route("/organisations/<uuid:organisation_id>/signals")
class OrganisationSignals(MethodView):
    @blp.arguments(OrganisationSignalQuerySchema, location="query")
    @blp.response(200, OrganisationSignalPageSchema)
    def get(self, query: dict[str, Any], organisation_id: uuid.UUID) -> dict[str, Any]:
        """The organisation's signals, newest first, for its coordinator: ids, dates,
        status, author, gemeente and match count; never anything about the child."""
        status = SignalStatus(query["status"]) if "status" in query else None
        page = coordination.organisation_signals(
            core(),
            actor(),
            organisation_id,
            professional_id=query.get("professional_id"),
            status=status,
            after=cursor_key(query),
            page_size=query["page_size"],
        )
        return {
            "items": [_signal_out(s, page.authors.get(s.professional_id)) for s in page.items],
            "next": next_url(
                f"/api/v1/organisations/{organisation_id}/signals",
                page.last_key,
                professionalId=query.get("professional_id"),
                status=query.get("status"),
                pageSize=query["page_size"],
            ),
        }


@blp.route("/signals/<uuid:signal_id>/transfer")
class Transfer(MethodView):
    @blp.arguments(TransferInSchema)
    @blp.response(200, OrganisationSignalSchema)
    def post(self, body: dict[str, Any], signal_id: uuid.UUID) -> dict[str, Any]:
        """Move an active signal to an active colleague of the same organisation.

        For its author, or a coordinator of its organisation (in person). The matches it is
        in name the colleague from now on; they are told as of a new match, and systems
        hear `match.changed`. Moving it to whoever holds it already changes nothing.
        """
        moved = transfer.transfer_signal(core(), actor(), signal_id, body["professional_id"])
        return _signal_out(moved.signal, moved.professional)
