"""The beheerder's pages (`/beheer`): the index, and system clients ("koppelingen").

People and organisations live in `beheer_people`, statistics in `beheer_stats`; both are
blueprints nested in this one, so the app registers `web_beheer` alone.

A new client's secret is shown once, on the page that answers the POST (the service keeps
only its hash); every other POST ends in a 303 to a URL with ids only.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers import Response

from verwijsindex.domain import NotFound, Role
from verwijsindex.services import admin, directory
from verwijsindex.services.directory import SystemClientSummary
from verwijsindex.web import beheer_people, beheer_stats, forms
from verwijsindex.web.context import actor, core, login_required
from verwijsindex.web.pages import page
from verwijsindex.web.professional import notice, template_helpers

bp = Blueprint("web_beheer", __name__)
bp.context_processor(template_helpers)
bp.register_blueprint(beheer_people.bp)
bp.register_blueprint(beheer_stats.bp)

NOTICES = {"ingetrokken": "De koppeling is ingetrokken. Het systeem kan er niet meer mee inloggen."}


@bp.get("/beheer")
@login_required(Role.BEHEERDER)
def index() -> Response:
    return page("web/beheer/index.html")


@bp.get("/beheer/koppelingen")
@login_required(Role.BEHEERDER)
def clients() -> Response:
    return page(
        "web/beheer/clients.html",
        clients=directory.list_system_clients(core(), actor()),
        notice=notice(NOTICES),
    )


@bp.route("/beheer/koppelingen/nieuw", methods=["GET", "POST"])
@login_required(Role.BEHEERDER)
def new_client() -> Response:
    """Choose the organisation; the answer shows the client id and, once, its secret."""
    organisations = directory.list_organisations(core(), actor())
    if request.method == "GET":
        chosen = forms.parse_uuid(request.args.get("organisatie"))
        return page("web/beheer/client_new.html", organisations=organisations, chosen=chosen)
    chosen = forms.parse_uuid(request.form.get("organisation"))
    organisation = next((o for o in organisations if o.id == chosen), None)
    if organisation is None:
        return page(
            "web/beheer/client_new.html",
            400,
            organisations=organisations,
            chosen=None,
            errors={"organisation": beheer_people.NO_ORGANISATION},
        )
    created = admin.create_system_client(core(), organisation.id, actor())
    return page(
        "web/beheer/client_created.html",
        organisation=organisation,
        client=created,
        token_url=f"{core().settings.base_url.rstrip('/')}/api/v1/oauth/token",
    )


def _client(client_id: uuid.UUID) -> SystemClientSummary:
    clients = directory.list_system_clients(core(), actor())
    found = next((c for c in clients if c.id == client_id), None)
    if found is None:
        raise NotFound("No such system client.")
    return found


@bp.route("/beheer/koppelingen/<uuid:client_id>/intrekken", methods=["GET", "POST"])
@login_required(Role.BEHEERDER)
def revoke_client(client_id: uuid.UUID) -> Response:
    """A confirmation page first: revoking is for good."""
    if request.method == "GET":
        return page("web/beheer/client_revoke.html", client=_client(client_id))
    directory.revoke_system_client(core(), actor(), client_id)
    return redirect(url_for(".clients", melding="ingetrokken"), 303)
