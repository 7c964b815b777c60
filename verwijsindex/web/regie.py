"""`/regie`: the regievoerder's page (Jeugdwet 7.1.3.2). The matches in their gemeenten,
overdue ones first, with the participants' contact details and who has and has not
followed up; a button to record that contact was checked; a filter by gemeente by name.

`/regie` is the address the regievoerder's mails link to; keep it.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers import Response

from verwijsindex import gemeenten
from verwijsindex.domain import Role
from verwijsindex.services import monitoring
from verwijsindex.services.monitoring import FollowUpState
from verwijsindex.web.context import actor, core, login_required
from verwijsindex.web.pages import page
from verwijsindex.web.professional import notice, template_helpers

bp = Blueprint("web_regie", __name__)
bp.context_processor(template_helpers)

NOTICES = {"gecontroleerd": "U heeft vastgelegd dat het contact in deze match is gecontroleerd."}
# Overdue first: those are what the regievoerder is there for.
SECTIONS: tuple[tuple[FollowUpState, str], ...] = (
    ("overdue", "Niet op tijd opgevolgd"),
    ("open", "Nog niet door iedereen opgevolgd"),
    ("done", "Door iedereen opgevolgd"),
)
PER_SECTION = 50


@bp.get("/regie")
@login_required(Role.REGIEVOERDER)
def index() -> Response:
    known = gemeenten.current()
    chosen = request.args.get("gemeente") or None
    if chosen is not None and chosen not in known:
        chosen = None  # an unknown code in the address: show everything in scope
    sections = []
    scope: frozenset[str] | None = None
    for state, title in SECTIONS:
        found = monitoring.list_monitored(
            core(), actor(), follow_up=state, gemeente=chosen, after=None, page_size=PER_SECTION
        )
        scope = found.scope
        sections.append((state, title, found.items, found.last_key is not None))
    options = [g for g in known.by_name() if scope is None or g.code in scope]
    return page(
        "web/regie/index.html",
        sections=sections,
        options=options,
        chosen=chosen,
        chosen_name=known.name_of(chosen) if chosen else None,
        scope_names=None if scope is None else sorted(known.name_of(c) or c for c in scope),
        gemeente_naam=known.name_of,
        notice=notice(NOTICES),
    )


@bp.post("/regie/matches/<uuid:match_id>/gecontroleerd")
@login_required(Role.REGIEVOERDER)
def check(match_id: uuid.UUID) -> Response:
    monitoring.check_contact(core(), actor(), match_id)
    return redirect(url_for(".index", melding="gecontroleerd") + f"#match-{match_id}", 303)
