"""Privacy endpoints under /api/v1: a signal's history and subject access requests.

`POST /subject-access-requests` answers JSON, or with `Accept: text/html` a printable page
in Dutch for the privacy officer to hand to the person (no script, print-friendly CSS, no
BSN: the service has none to print).
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, render_template, request
from flask.views import MethodView
from werkzeug.exceptions import Gone

from verwijsindex.api.blueprint import Blueprint
from verwijsindex.api.context import actor, core
from verwijsindex.api.privacy_schemas import (
    SignalHistorySchema,
    SubjectAccessReportSchema,
    SubjectAccessRequestSchema,
)
from verwijsindex.domain import MatchType, SignalStatus
from verwijsindex.dutch import MATCH_TYPES, SECTORS, datum, tijdstip
from verwijsindex.services.history import HistoryShown, signal_history
from verwijsindex.services.subject_access import (
    SubjectAccessReport,
    SubjectRole,
    subject_access_report,
)

blp = Blueprint(
    "privacy",
    __name__,
    url_prefix="/api/v1",
    template_folder="templates",
    description="Signal history and subject access",
)

HTML = "text/html"
JSON = "application/json"
REPORT_DESCRIPTION = (
    "The report, as JSON; with `Accept: text/html` the same report as a printable page in "
    "Dutch (no BSN in either)"
)


@blp.route("/signals/<uuid:signal_id>/history")
class SignalHistory(MethodView):
    @blp.response(200, SignalHistorySchema)
    def get(self, signal_id: uuid.UUID) -> dict[str, Any]:
        """Earlier, archived signals on the child of one of your own signals.

        Who signalled and when: organisation, sector and dates, newest first; never a
        professional's name or contact details. Only the signal's author may ask (anyone
        else gets 404), and every request is audited. Non-empty exactly when the signal
        says `historyAvailable: true`.

        Shown once (art. 7.1.4.6 lid 2): after the first answer that lists something, every
        request answers 410 Gone (and is audited as refused).
        """
        try:
            return {"items": signal_history(core(), actor(), signal_id), "next": None}
        except HistoryShown as shown:
            raise Gone(shown.detail) from None


@blp.route("/subject-access-requests")
class SubjectAccessRequests(MethodView):
    @blp.arguments(SubjectAccessRequestSchema)
    @blp.response(200, SubjectAccessReportSchema, description=REPORT_DESCRIPTION)
    @blp.alt_response(
        200,
        schema={"type": "string"},
        content_type=HTML,
        description=REPORT_DESCRIPTION,
        success=True,
    )
    def post(self, body: dict[str, Any]) -> Any:
        """Everything the index holds on one person, as child and as parent (AVG art. 15).

        For privacy officers. Every signal (active and archived) with its organisation,
        sector, dates, status and the person's role in it; every match those signals are in,
        with the participating organisations and the regisseur's. Professionals' names and
        contact details and postponement justifications are not included. The request is
        audited under the person's pseudonym. Send `Accept: text/html` for a printable
        report in Dutch.
        """
        report = subject_access_report(core(), actor(), body["bsn"])
        vary = {"Vary": "Accept"}
        if request.accept_mimetypes.best_match([JSON, HTML]) == HTML:
            return Response(_printable(report), mimetype=HTML, headers=vary)
        return report, 200, vary


# --- the printable report -------------------------------------------------------------------

_STATUSES = {SignalStatus.ACTIVE: "actief", SignalStatus.ARCHIVED: "gearchiveerd"}
_ROLES = {SubjectRole.CHILD: "jeugdige", SubjectRole.PARENT: "ouder"}
_MATCH_TYPES = {MatchType.CLIENT: "Cliëntmatch", MatchType.FAMILY: "Gezinsmatch"}


def _printable(report: SubjectAccessReport) -> str:
    return render_template(
        "privacy/subject_access_report.html",
        report=report,
        datum=datum,
        tijdstip=tijdstip,
        sectors=SECTORS,
        statuses=_STATUSES,
        roles=_ROLES,
        match_types=MATCH_TYPES,
    )
