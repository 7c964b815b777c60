"""The start page: what this person can do here, by role, and what needs their action."""

from __future__ import annotations

from flask import Blueprint
from werkzeug.wrappers import Response

from verwijsindex.services.tasks import NEW_MATCH_DAYS, tasks_of
from verwijsindex.web.context import actor, core, login_required
from verwijsindex.web.pages import page

bp = Blueprint("web_home", __name__)


@bp.get("/")
@login_required()
def home() -> Response:
    return page(
        "web/home.html",
        me=actor().professional,
        tasks=tasks_of(core(), actor()),
        new_match_days=NEW_MATCH_DAYS,
    )
