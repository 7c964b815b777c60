"""The earlier signals on a child, shown to a signal's author once (art. 7.1.4.6 lid 2:
"uitsluitend en eenmalig"; contract section 10).

The page that follows a registration shows them at once when there are any, and that
showing is the one time. A signal registered elsewhere (through the API) offers a button
instead, so that opening the signal page never uses up the one showing unasked. After that,
every page says when they were shown and shows them no more.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint
from werkzeug.wrappers import Response

from verwijsindex.domain import Role, Signal
from verwijsindex.services import signals as signal_service
from verwijsindex.services.history import HistoryShown, history_shown_at, signal_history
from verwijsindex.web.context import actor, core, login_required
from verwijsindex.web.pages import page
from verwijsindex.web.professional import template_helpers

bp = Blueprint("web_history", __name__)
bp.context_processor(template_helpers)


def earlier_signals(signal: Signal, *, registered: bool) -> dict[str, Any]:
    """The signal page's context for its "Eerdere signalen" section.

    `history`: the list, when this page is the one that follows the registration (the
    showing is recorded, in the same transaction); `history_shown_at`: when it was shown
    before. Neither when the signal has no history.
    """
    if not signal.history_available:
        return {}
    if registered:
        try:
            return {"history": signal_history(core(), actor(), signal.id)}
        except HistoryShown as shown:
            return {"history_shown_at": shown.shown_at}
    return {"history_shown_at": history_shown_at(core(), actor(), signal.id)}


@bp.post("/signalen/<uuid:signal_id>/eerdere-signalen")
@login_required(Role.PROFESSIONAL)
def show(signal_id: uuid.UUID) -> Response:
    """Show the history once, on the author's request (a POST: it uses the one showing up)."""
    signal = signal_service.get_signal(core(), actor(), signal_id)
    try:
        history = signal_history(core(), actor(), signal_id)
    except HistoryShown as shown:
        return page("web/professional/history.html", signal=signal, history_shown_at=shown.shown_at)
    return page("web/professional/history.html", signal=signal, history=history)
