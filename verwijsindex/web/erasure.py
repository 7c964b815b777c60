"""The privacy officer's page for erasure on request (`/privacy/verwijderverzoek`; Jeugdwet
art. 7.1.4.6 lid 1, 7.1.5; AVG art. 16, 17, 21).

As on the subject-access page, the BSN travels only in the body of the POST, and the result
is the answer to that POST; after an error the field is empty. There is no separate
"are you sure? N signals" page: it would have to carry the BSN from one request to the next
(in the page, or kept on the server), so the confirmation is a tick on the one form, and
the result lists what was removed.
"""

from __future__ import annotations

import re

from flask import Blueprint, request
from werkzeug.wrappers import Response

from verwijsindex.domain import Role
from verwijsindex.pseudonym import parse_bsn
from verwijsindex.services.erasure import ErasureReason, erase_on_request
from verwijsindex.web import forms
from verwijsindex.web.context import actor, core, login_required
from verwijsindex.web.pages import page
from verwijsindex.web.professional import template_helpers

bp = Blueprint("web_erasure", __name__)
bp.context_processor(template_helpers)

TEMPLATE = "web/privacy/erasure.html"
BSN_MISSING = "Vul het BSN van de jeugdige in."
NO_REASON = "Kies waarom de signalen worden verwijderd."
NOT_CONFIRMED = "Bevestig dat alle signalen op deze jeugdige definitief worden verwijderd."
REASONS = [
    (
        ErasureReason.OBJECTION.value,
        "Bezwaar",
        "De jeugdige of een ouder maakt bezwaar (artikel 21 AVG).",
    ),
    (
        ErasureReason.RECTIFICATION.value,
        "Correctie",
        "De signalen horen er niet te staan zoals ze staan (artikel 16 AVG).",
    ),
    (
        ErasureReason.UNLAWFUL.value,
        "Onrechtmatig",
        "De gegevens zijn onrechtmatig verwerkt (artikel 17 AVG).",
    ),
]
REASONS_NL = {value: label for value, label, _ in REASONS}


def _form(status: int = 200, errors: dict[str, str] | None = None, reason: str = "") -> Response:
    return page(TEMPLATE, status, errors=errors or {}, reasons=REASONS, reason=reason)


@bp.route("/privacy/verwijderverzoek", methods=["GET", "POST"])
@login_required(Role.PRIVACY_OFFICER)
def erasure_request() -> Response:
    if request.method == "GET":
        return _form()
    raw = request.form.get("bsn", "")
    # Spaces and dots are forgiven, as on the other forms: people copy them from letters.
    bsn = parse_bsn(re.sub(r"[\s.]", "", raw))
    chosen = request.form.get("reason", "")
    reason = ErasureReason(chosen) if chosen in REASONS_NL else None
    errors: dict[str, str] = {}
    if bsn is None:
        errors["bsn"] = BSN_MISSING if not raw.strip() else forms.BSN_INVALID
    if reason is None:
        errors["reason"] = NO_REASON
    if request.form.get("confirm") != "ja":
        errors["confirm"] = NOT_CONFIRMED
    if bsn is None or reason is None or errors:
        return _form(400, errors, reason.value if reason else "")
    report = erase_on_request(core(), actor(), bsn, reason)
    return page(
        "web/privacy/erasure_result.html", report=report, reason_nl=REASONS_NL[reason.value]
    )
