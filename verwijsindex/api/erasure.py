"""`POST /api/v1/erasure-requests`: remove every signal on a child at the person's request
(Jeugdwet art. 7.1.4.6 lid 1, 7.1.5; AVG art. 16, 17, 21; contract section 10)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from verwijsindex.api.blueprint import Blueprint
from verwijsindex.api.context import actor, core
from verwijsindex.api.erasure_schemas import ErasureReportSchema, ErasureRequestSchema
from verwijsindex.services.erasure import ErasureReport, erase_on_request

blp = Blueprint(
    "erasure",
    __name__,
    url_prefix="/api/v1",
    description="Erasure on request",
)


@blp.route("/erasure-requests")
class ErasureRequests(MethodView):
    @blp.arguments(ErasureRequestSchema)
    @blp.response(200, ErasureReportSchema)
    def post(self, body: dict[str, Any]) -> ErasureReport:
        """Remove every signal on one child, active and archived, at once and for good.

        For privacy officers, in person only (the web UI with its second factor, or a
        personal token; a system token gets 403). Removed signals are not archived: they are
        erased, row and pseudonyms; the matches they were in shrink or dissolve, and their
        participants are told as for any removal. Signals naming the person as a parent are
        not touched: the request is about the child. The answer lists what was removed (an
        empty list when nothing was held); it never holds the BSN. Audited without the BSN.
        """
        return erase_on_request(core(), actor(), body["bsn"], body["reason"])
