"""The professional's signals: register one, see them, keep the informatieplicht up to date,
withdraw them.

BSNs arrive only in the body of `POST /signalen/nieuw` and are never sent back: not in a
redirect, not in a page (after an error the BSN fields are empty), not in a title.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers import Response

from verwijsindex import domain, gemeenten
from verwijsindex.domain import CloseReason, Conflict, InvalidInput, Role, Signal, SignalStatus
from verwijsindex.services import signals as signal_service
from verwijsindex.services.registration import register_signal
from verwijsindex.services.signals import InformatieplichtUpdate
from verwijsindex.web import forms
from verwijsindex.web.context import actor, core, login_required
from verwijsindex.web.history import earlier_signals
from verwijsindex.web.pages import page
from verwijsindex.web.professional import (
    PAGE_SIZE,
    decode_cursor,
    encode_cursor,
    notice,
    template_helpers,
)
from verwijsindex.web.signal_search import parse_signal_search

bp = Blueprint("web_signals", __name__)
bp.context_processor(template_helpers)

CONFLICT = (
    "U heeft al een actief signaal op deze jeugdige. Er is niets nieuws geregistreerd. "
    "U vindt het bestaande signaal bij Mijn signalen."
)
NOTICES = {
    "bijgewerkt": "De informatieplicht is bijgewerkt.",
    "uitstel-beeindigd": "De informatieplicht is bijgewerkt. Iedereen die u moest informeren, "
    "is geïnformeerd: het uitstel is beëindigd.",
    "gearchiveerd": "Het signaal is ingetrokken en gearchiveerd. Het doet niet meer mee in "
    "matches.",
    "verwijderd": "Het signaal is definitief verwijderd.",
    "kenmerk": "Uw eigen kenmerk is opgeslagen.",
}
NOTHING_TICKED = "Vink aan wie u heeft geïnformeerd."
NO_REASON = "Kies waarom u het signaal intrekt."
_DUTIES = {forms.CHILD_INFORMED, forms.PARENTS_INFORMED}


def _today() -> date:
    return core().local_date(core().now())


def _new_page(
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    conflict: str | None = None,
) -> Response:
    return page(
        "web/professional/signal_new.html",
        status,
        errors=errors or {},
        values=values or {},
        conflict=conflict,
        today=_today(),
        tomorrow=_today() + timedelta(days=1),
        parent_fields=forms.PARENT_FIELDS,
        gemeenten=gemeenten.current().by_name(),
        default_gemeente=actor().professional.organisation.default_gemeente,
    )


@bp.route("/signalen/nieuw", methods=["GET", "POST"])
@login_required(Role.PROFESSIONAL)
def new() -> Response:
    if request.method == "GET":
        return _new_page()
    form = forms.parse_signal_form(request.form, _today())
    if form.signal is None:
        return _new_page(400, form.errors, form.values)
    try:
        signal = register_signal(core(), actor(), form.signal)
    except InvalidInput as error:
        # The day may have turned between reading the form and registering.
        errors = forms.errors_of_problems(error.problems, form.parent_fields)
        return _new_page(400, errors, form.values)
    except Conflict:
        return _new_page(409, {}, form.values, conflict=CONFLICT)
    return redirect(url_for(".show", signal_id=signal.id, melding="geregistreerd"), 303)


@bp.get("/signalen")
@login_required(Role.PROFESSIONAL)
def index() -> Response:
    """Own signals by tab (active, archived), a page at a time; with a search (own
    reference, birth date) every matching signal of that tab at once (see
    `signal_service.search_own_signals` for why that is fine)."""
    archived = request.args.get("status") == SignalStatus.ARCHIVED.value
    status = SignalStatus.ARCHIVED if archived else SignalStatus.ACTIVE
    search = parse_signal_search(request.args)
    context: dict[str, Any] = {
        "shown_status": status.value,
        "notice": notice(NOTICES),
        "search": search,
        "next_cursor": None,
    }
    if search.error is not None:
        return page("web/professional/signal_list.html", 400, signals=[], **context)
    if search.active:
        found = signal_service.search_own_signals(
            core(), actor(), status, search.text, search.birth_date
        )
        return page("web/professional/signal_list.html", signals=found, **context)
    listed = signal_service.list_signals(
        core(), actor(), status, decode_cursor(request.args.get("na")), PAGE_SIZE
    )
    context["next_cursor"] = encode_cursor(listed.last_key)
    return page("web/professional/signal_list.html", signals=listed.items, **context)


def _signal_page(signal: Signal, status: int = 200, **context: Any) -> Response:
    return page(
        "web/professional/signal.html",
        status,
        signal=signal,
        registered=request.args.get("melding") == "geregistreerd",
        notice=notice(NOTICES),
        today=_today(),
        gemeente_naam=gemeenten.current().name_of(signal.gemeente) if signal.gemeente else None,
        **context,
    )


@bp.get("/signalen/<uuid:signal_id>")
@login_required(Role.PROFESSIONAL)
def show(signal_id: uuid.UUID) -> Response:
    signal = signal_service.get_signal(core(), actor(), signal_id)
    registered = request.args.get("melding") == "geregistreerd"
    return _signal_page(signal, **earlier_signals(signal, registered=registered))


@bp.post("/signalen/<uuid:signal_id>/informatieplicht")
@login_required(Role.PROFESSIONAL)
def informatieplicht(signal_id: uuid.UUID) -> Response:
    """Mark the child and/or parents informed; the postponement ends once nobody is left.

    Who must be informed depends on the child's age today, which only the service knows:
    so the update is first tried as "and the postponement is over", which the service
    refuses while a duty is still open; then the marks alone are saved.
    """
    update = forms.parse_informatieplicht_update(request.form, clear_postponement=True)
    if update is None:
        signal = signal_service.get_signal(core(), actor(), signal_id)
        return _signal_page(signal, 400, errors={"informed": NOTHING_TICKED})
    try:
        signal = signal_service.update_informatieplicht(core(), actor(), signal_id, update)
    except InvalidInput as error:
        if {forms.field_of(p.name) for p in error.problems} - _DUTIES:
            raise
        try:
            signal = signal_service.update_informatieplicht(
                core(), actor(), signal_id, _keeping_postponement(update)
            )
        except InvalidInput as again:
            signal = signal_service.get_signal(core(), actor(), signal_id)
            return _signal_page(signal, 400, errors=forms.errors_of_problems(again.problems))
    done = "bijgewerkt" if signal.informatieplicht.postponed else "uitstel-beeindigd"
    return redirect(url_for(".show", signal_id=signal_id, melding=done), 303)


@bp.post("/signalen/<uuid:signal_id>/kenmerk")
@login_required(Role.PROFESSIONAL)
def own_reference(signal_id: uuid.UUID) -> Response:
    """Set or clear the author's own reference (sealed; shown only to them)."""
    reference, problem = forms.parse_own_reference(request.form)
    if problem is not None:
        signal = signal_service.get_signal(core(), actor(), signal_id)
        typed = domain.without_bsns(request.form.get(forms.OWN_REFERENCE, ""), forms.BSN_LEFT_OUT)
        return _signal_page(signal, 400, reference_error=problem, reference_value=typed)
    signal_service.update_own_reference(core(), actor(), signal_id, reference)
    return redirect(url_for(".show", signal_id=signal_id, melding="kenmerk"), 303)


def _keeping_postponement(update: InformatieplichtUpdate) -> InformatieplichtUpdate:
    return InformatieplichtUpdate(
        child_informed=update.child_informed, parents_informed=update.parents_informed
    )


@bp.route("/signalen/<uuid:signal_id>/intrekken", methods=["GET", "POST"])
@login_required(Role.PROFESSIONAL)
def withdraw(signal_id: uuid.UUID) -> Response:
    """A confirmation page first: archiving and erasing are very different things."""
    if request.method == "GET":
        signal = signal_service.get_signal(core(), actor(), signal_id)
        return page("web/professional/signal_withdraw.html", signal=signal, errors={})
    reason = forms.parse_close_reason(request.form)
    if reason is None:
        signal = signal_service.get_signal(core(), actor(), signal_id)
        return page(
            "web/professional/signal_withdraw.html",
            400,
            signal=signal,
            errors={"reason": NO_REASON},
        )
    signal_service.close_signal(core(), actor(), signal_id, reason)
    if reason is CloseReason.UNJUSTIFIED:
        return redirect(url_for(".index", melding="verwijderd"), 303)
    return redirect(url_for(".show", signal_id=signal_id, melding="gearchiveerd"), 303)


@bp.get("/informatieplicht")
@login_required(Role.PROFESSIONAL)
def follow_ups() -> Response:
    """Active signals whose informatieplicht is postponed, the earliest review date first."""
    postponed: list[Signal] = []
    after = None
    while True:
        found = signal_service.list_signals(
            core(), actor(), SignalStatus.ACTIVE, after, signal_service.MAX_PAGE_SIZE
        )
        postponed += [s for s in found.items if s.informatieplicht.postponed]
        if found.last_key is None:
            break
        after = found.last_key
    postponed.sort(key=lambda s: (s.informatieplicht.review_on or date.max, s.created_at))
    return page("web/professional/informatieplicht.html", signals=postponed, today=_today())
