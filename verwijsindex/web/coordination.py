"""The coordinator's pages (`/coordinatie`, Jeugdwet 7.1.3.3): the organisation's people and
their contact details, its signals (never anything about the child), moving a signal to a
colleague, and the task "move N signals" a deactivated colleague left behind.

Everything is for the coordinator's own organisation only: the pages take no organisation
id, they use the logged-in coordinator's. Like the other pages, every POST ends in a 303 to
a URL with ids only and at most a `?melding=` key naming a fixed notice.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers import Response

from verwijsindex import gemeenten
from verwijsindex.domain import Conflict, InvalidInput, NotFound, Professional, Role, SignalStatus
from verwijsindex.services import coordination, transfer
from verwijsindex.web import forms
from verwijsindex.web.context import actor, core, login_required
from verwijsindex.web.pages import errors_of, page
from verwijsindex.web.professional import (
    PAGE_SIZE,
    decode_cursor,
    encode_cursor,
    notice,
    template_helpers,
)

bp = Blueprint("web_coordination", __name__)
bp.context_processor(template_helpers)
bp.context_processor(lambda: {"gemeente_naam": gemeenten.current().name_of})

NOTICES = {
    "gewijzigd": "De contactgegevens zijn opgeslagen.",
    "overgedragen": "Het signaal is overgedragen. De betrokkenen bij de matches zien nu uw "
    "collega als contactpersoon.",
    "alles-overgedragen": "De signalen zijn overgedragen.",
    "deels-overgedragen": "Niet alle signalen konden worden overgedragen: de gekozen collega "
    "heeft op sommige jeugdigen al een eigen signaal. Kies voor de rest een andere collega.",
}
LABELS = {"name": "Naam", "email": "E-mailadres", "phone": "Telefoonnummer"}
_TRANSFER_REASONS_NL = {
    transfer.NOT_A_COLLEAGUE: "Kies een collega van uw organisatie.",
    transfer.DEACTIVATED: "Deze collega is gedeactiveerd. Kies een actieve collega.",
    transfer.NOT_A_PROFESSIONAL: "Deze collega heeft niet de rol professional en kan geen "
    "signalen houden.",
}
NO_COLLEAGUE = "Kies een collega."
ALREADY_THERE = (
    "Deze collega heeft al een actief signaal op dezelfde jeugdige. Kies een andere collega."
)
ARCHIVED = "Dit signaal is gearchiveerd en kan niet meer worden overgedragen."
EMAIL_IN_USE = "Dit e-mailadres is al in gebruik."


def _organisation_id() -> uuid.UUID:
    return actor().professional.organisation.id


def _receivers(people: list[Professional], but: uuid.UUID | None = None) -> list[Professional]:
    """Who can take a signal: active colleagues with the professional role."""
    return [p for p in people if p.active and p.has_role(Role.PROFESSIONAL) and p.id != but]


@bp.get("/coordinatie")
@login_required(Role.COORDINATOR)
def index() -> Response:
    organisation = _organisation_id()
    people = coordination.colleagues(core(), actor(), organisation)
    return page(
        "web/coordination/index.html",
        people=people,
        tasks=coordination.left_behind(core(), actor(), organisation),
        receivers=_receivers(people),
        notice=notice(NOTICES),
        error=None,
    )


def _person(professional_id: uuid.UUID) -> Professional:
    found = coordination.colleagues(core(), actor(), _organisation_id())
    person = next((p for p in found if p.id == professional_id), None)
    if person is None:
        raise NotFound("No such professional.")
    return person


def _edit_page(
    person: Professional,
    status: int = 200,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
) -> Response:
    return page(
        "web/coordination/professional.html",
        status,
        person=person,
        errors=errors or {},
        values=values or {"name": person.name, "email": person.email, "phone": person.phone},
        labels=LABELS,
    )


@bp.route("/coordinatie/professionals/<uuid:professional_id>", methods=["GET", "POST"])
@login_required(Role.COORDINATOR)
def edit(professional_id: uuid.UUID) -> Response:
    person = _person(professional_id)
    if request.method == "GET":
        return _edit_page(person)
    values = {name: request.form.get(name, "") for name in LABELS}
    try:
        coordination.change_contact(
            core(), actor(), professional_id, coordination.ContactChange(**values)
        )
    except InvalidInput as error:
        return _edit_page(person, 400, errors_of(error), values)
    except Conflict:
        return _edit_page(person, 409, {"email": EMAIL_IN_USE}, values)
    return redirect(url_for(".index", melding="gewijzigd"), 303)


def _signals_page(status: int = 200, errors: Mapping[str, str] | None = None) -> Response:
    organisation = _organisation_id()
    people = coordination.colleagues(core(), actor(), organisation)
    chosen = forms.parse_uuid(request.args.get("professional"))
    if chosen not in {p.id for p in people}:
        chosen = None
    shown_status = request.args.get("status", "active")
    if shown_status not in {"active", "archived", "all"}:
        shown_status = "active"
    found = coordination.organisation_signals(
        core(),
        actor(),
        organisation,
        professional_id=chosen,
        status=None if shown_status == "all" else SignalStatus(shown_status),
        after=decode_cursor(request.args.get("na")),
        page_size=PAGE_SIZE,
    )
    return page(
        "web/coordination/signals.html",
        status,
        people=people,
        receivers=_receivers(people),
        chosen=chosen,
        shown_status=shown_status,
        signals=found.items,
        authors=found.authors,
        next_cursor=encode_cursor(found.last_key),
        errors=errors or {},
        notice=notice(NOTICES),
    )


@bp.get("/coordinatie/signalen")
@login_required(Role.COORDINATOR)
def signals() -> Response:
    return _signals_page()


def _transfer_error(error: Exception) -> str:
    if isinstance(error, InvalidInput):
        reason = error.problems[0].reason if error.problems else ""
        return _TRANSFER_REASONS_NL.get(reason, NO_COLLEAGUE)
    if isinstance(error, Conflict):
        return ARCHIVED if "archived" in error.detail else ALREADY_THERE
    return NO_COLLEAGUE


@bp.post("/coordinatie/signalen/<uuid:signal_id>/overdragen")
@login_required(Role.COORDINATOR)
def transfer_one(signal_id: uuid.UUID) -> Response:
    colleague = forms.parse_uuid(request.form.get("professional_id"))
    try:
        if colleague is None:
            raise InvalidInput([])
        transfer.transfer_signal(core(), actor(), signal_id, colleague)
    except (InvalidInput, Conflict) as error:
        return _signals_page(400, {f"signal-{signal_id}": _transfer_error(error)})
    return redirect(url_for(".signals", melding="overgedragen"), 303)


@bp.post("/coordinatie/overdragen/<uuid:professional_id>")
@login_required(Role.COORDINATOR)
def transfer_all(professional_id: uuid.UUID) -> Response:
    """The task: every active signal of a deactivated colleague to one active colleague."""
    colleague = forms.parse_uuid(request.form.get("professional_id"))
    try:
        if colleague is None:
            raise InvalidInput([])
        result = transfer.transfer_all(core(), actor(), professional_id, colleague)
    except InvalidInput as error:
        return _task_error(professional_id, _transfer_error(error))
    melding = "deels-overgedragen" if result.refused else "alles-overgedragen"
    return redirect(url_for(".index", melding=melding), 303)


def _task_error(professional_id: uuid.UUID, message: str) -> Response:
    organisation = _organisation_id()
    people = coordination.colleagues(core(), actor(), organisation)
    context: dict[str, Any] = {
        "people": people,
        "tasks": coordination.left_behind(core(), actor(), organisation),
        "receivers": _receivers(people),
        "notice": None,
        "error": (professional_id, message),
    }
    return page("web/coordination/index.html", 400, **context)
