"""The start page: what this person can do here, by role."""

from __future__ import annotations

from flask import Blueprint
from werkzeug.wrappers import Response

from verwijsindex.web.context import actor, login_required
from verwijsindex.web.pages import page

bp = Blueprint("web_home", __name__)


@bp.get("/")
@login_required()
def home() -> Response:
    return page("web/home.html", me=actor().professional)
