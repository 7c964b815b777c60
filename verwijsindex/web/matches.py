"""The matches a professional takes part in: who else is involved and how to reach them,
the procesregisseur, and whether each participant has followed the match up.

`/matches/<id>` is the address the match e-mails link to; keep it.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers import Response

from verwijsindex.domain import Conflict, InvalidInput, Match, Role
from verwijsindex.services import matches as match_service
from verwijsindex.services import signals as signal_service
from verwijsindex.web import forms
from verwijsindex.web.context import actor, core, login_required
from verwijsindex.web.pages import page
from verwijsindex.web.professional import (
    PAGE_SIZE,
    decode_cursor,
    encode_cursor,
    notice,
    template_helpers,
)

bp = Blueprint("web_matches", __name__)
bp.context_processor(template_helpers)

NOTICES = {
    "regisseur": "De procesregisseur is aangewezen. Alle betrokkenen krijgen daarvan bericht.",
    "neergelegd": "U bent geen procesregisseur meer van deze match.",
    "opgevolgd": "U heeft deze match als opgevolgd gemarkeerd.",
    "niet-opgevolgd": "De match staat weer als niet opgevolgd.",
}
NOT_A_PARTICIPANT = "Kies een van de betrokken professionals als procesregisseur."
# docs/federation.md, point 7: designation stays within a region.
OTHER_REGION_REGISSEUR = (
    "Een professional uit een andere regio kan hier geen procesregisseur zijn: elke regio "
    "wijst binnen de eigen regio aan. Spreek telefonisch af wie de regie neemt."
)
UNKNOWN_ACTION = "Deze handeling is niet bekend. Laad de pagina opnieuw en probeer het nog eens."


@bp.get("/matches")
@login_required(Role.PROFESSIONAL)
def index() -> Response:
    found = match_service.list_matches(
        core(), actor(), decode_cursor(request.args.get("na")), PAGE_SIZE
    )
    mine = [signal_id for match in found.items for signal_id in match.my_signal_ids]
    return page(
        "web/professional/match_list.html",
        matches=found.items,
        me=actor().id,
        next_cursor=encode_cursor(found.last_key),
        labels=signal_service.own_signal_labels(core(), actor(), mine),
    )


def _match_page(match: Match, status: int = 200, error: str | None = None) -> Response:
    me = actor().id
    return page(
        "web/professional/match.html",
        status,
        match=match,
        me=me,
        mine=next((p for p in match.participants if p.professional.id == me), None),
        notice=notice(NOTICES),
        error=error,
        labels=signal_service.own_signal_labels(core(), actor(), match.my_signal_ids),
    )


@bp.get("/matches/<uuid:match_id>")
@login_required(Role.PROFESSIONAL)
def show(match_id: uuid.UUID) -> Response:
    return _match_page(match_service.get_match(core(), actor(), match_id))


@bp.post("/matches/<uuid:match_id>/regisseur")
@login_required(Role.PROFESSIONAL)
def designate(match_id: uuid.UUID) -> Response:
    """Any participant may designate any participant, themselves included."""
    professional_id = forms.parse_uuid(request.form.get("professional_id"))
    try:
        if professional_id is None:
            raise InvalidInput([])
        match_service.designate_regisseur(core(), actor(), match_id, professional_id)
    except InvalidInput:
        match = match_service.get_match(core(), actor(), match_id)
        return _match_page(match, 400, NOT_A_PARTICIPANT)
    except Conflict:
        match = match_service.get_match(core(), actor(), match_id)
        return _match_page(match, 409, OTHER_REGION_REGISSEUR)
    return redirect(url_for(".show", match_id=match_id, melding="regisseur"), 303)


@bp.post("/matches/<uuid:match_id>/regisseur/neerleggen")
@login_required(Role.PROFESSIONAL)
def step_down(match_id: uuid.UUID) -> Response:
    """Only the regisseur can step down (anyone else gets the 403 page)."""
    match_service.step_down(core(), actor(), match_id)
    return redirect(url_for(".show", match_id=match_id, melding="neergelegd"), 303)


@bp.post("/matches/<uuid:match_id>/opvolging")
@login_required(Role.PROFESSIONAL)
def follow_up(match_id: uuid.UUID) -> Response:
    done = forms.parse_follow_up(request.form)
    if done is None:
        match = match_service.get_match(core(), actor(), match_id)
        return _match_page(match, 400, UNKNOWN_ACTION)
    match_service.set_follow_up(core(), actor(), match_id, done=done)
    melding = "opgevolgd" if done else "niet-opgevolgd"
    return redirect(url_for(".show", match_id=match_id, melding=melding), 303)
