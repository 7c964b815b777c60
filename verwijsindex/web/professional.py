"""What the professional's pages share (`web/signals.py`, `web/matches.py`): Dutch labels and
dates for the templates, page cursors, and the notices shown after a redirect.

After every POST the browser is sent (303) to a URL that holds ids only, with at most a
`?melding=` key naming a fixed notice; nothing typed into a form ever ends up in a URL.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import request

from verwijsindex.domain import PostponementReason, SignalStatus
from verwijsindex.dutch import MATCH_TYPES, SECTORS, datum, tijdstip
from verwijsindex.web.labels import other_region_nl

SECTORS_NL = SECTORS
MATCH_TYPES_NL = MATCH_TYPES
STATUSES_NL = {SignalStatus.ACTIVE: "Actief", SignalStatus.ARCHIVED: "Gearchiveerd"}
REASONS_NL = {
    PostponementReason.NOT_REASONABLY_POSSIBLE: "Niet redelijkerwijs mogelijk",
    PostponementReason.NOT_IN_INTEREST_OF_CHILD: "Niet in het belang van de jeugdige",
}
PAGE_SIZE = 50


def tel_href(phone: str) -> str:
    """`tel:+31612345678`: digits and a leading plus only, as dialers expect."""
    return "tel:" + re.sub(r"[^0-9+]", "", phone)


def template_helpers() -> dict[str, Any]:
    """Given to every template of the professional's blueprints (a context processor)."""
    return {
        "datum": datum,
        "tijdstip": tijdstip,
        "tel_href": tel_href,
        "sector_nl": lambda sector: SECTORS_NL.get(sector, str(sector)),
        "match_type_nl": lambda kind: MATCH_TYPES_NL.get(kind, str(kind)),
        "status_nl": lambda status: STATUSES_NL.get(status, str(status)),
        "reason_label": lambda reason: REASONS_NL.get(reason, "") if reason else "",
        "andere_regio": other_region_nl,
    }


def notice(notices: dict[str, str]) -> str | None:
    """The fixed text a `?melding=` key names; anything else shows nothing."""
    return notices.get(request.args.get("melding", ""))


# --- cursors: `?na=<microseconds since 1970>.<id>` of the last item shown ----------------------

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def encode_cursor(key: tuple[datetime, uuid.UUID] | None) -> str | None:
    if key is None:
        return None
    moment, item_id = key
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"{(moment - EPOCH) // MICROSECOND}.{item_id}"


def decode_cursor(raw: str | None) -> tuple[datetime, uuid.UUID] | None:
    """A malformed cursor just starts at the first page."""
    if not raw or len(raw) > 80:
        return None
    micros, _, item_id = raw.partition(".")
    try:
        return EPOCH + int(micros) * MICROSECOND, uuid.UUID(item_id)
    except (ValueError, OverflowError, OSError):
        return None
