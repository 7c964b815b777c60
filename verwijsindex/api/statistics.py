"""`/statistics`: counts of signals and matches per month and sector, for the beheerder."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from flask.views import MethodView

from verwijsindex.api.blueprint import Blueprint
from verwijsindex.api.context import actor, bad_cursor, core, page_url
from verwijsindex.api.statistics_schemas import (
    FollowUpRatePageSchema,
    StatisticsPageSchema,
    StatisticsQuerySchema,
)
from verwijsindex.services.follow_up_rate import FollowUpRateRow, follow_up_rate
from verwijsindex.services.statistics import SMALL_CELL_THRESHOLD, StatisticsRow, statistics

PATH = "/api/v1/statistics"
_CURSOR = re.compile(r"([1-9][0-9]{3})-([0-9]{2})\.([a-z_]{1,40})")

blp = Blueprint("statistics", __name__, url_prefix=PATH, description="Statistics")


@blp.route("")
class Statistics(MethodView):
    @blp.arguments(StatisticsQuerySchema, location="query")
    @blp.response(200, StatisticsPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Counts of signals and matches per month and sector, for the beheerder.

        One item per month and sector in which anything was counted, oldest month first,
        then by sector; by default the last 12 months, the current one included. Months
        are Dutch local time.

        Counted when it happens and kept when the signals and matches themselves are
        deleted (the counts are not personal data): a signal in the month it was
        registered, in its professional's sector; a match in the month it was created,
        once for *each* sector among its participants then. A match between a school and
        a youth-care team counts once in `onderwijs` and once in `jeugdhulp`, so adding up
        the sectors does not give the number of matches. Growing, shrinking or ending
        changes no count.

        Small cells are hidden: a count from 1 to 4 is `null`, so that in a small region a
        count cannot point at a person; 0 is shown as 0. Every request is audited.

        `gemeente` (a CBS code) narrows the counts to one municipality: signals that named
        it (or got it as their organisation's default) and matches created by registering
        such a signal.
        """
        after = _cursor_key(query["cursor"]) if "cursor" in query else None
        rows = statistics(
            core(),
            actor(),
            query.get("from_month"),
            query.get("until_month"),
            query.get("gemeente"),
        )
        return _page(PATH, rows, after, query)


@blp.route("/follow-up")
class FollowUpRate(MethodView):
    @blp.arguments(StatisticsQuerySchema, location="query")
    @blp.response(200, FollowUpRatePageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """The follow-up rate: the share of match participations followed up within 10
        working days, per month of joining and sector (beheerder; regievoerder).

        A participation is counted once its outcome is known: followed up before the 10th
        working day after joining (Dutch public holidays excluded), or not followed up by
        then; one still within its 10 working days is not counted yet. Computed from the
        matches as they stand: a participation whose signal was closed, archived or erased
        is no longer counted.

        The beheerder sees the whole index, or one `gemeente`. A regievoerder sees the
        matches in their gemeenten (with none assigned, the whole index); a `gemeente`
        outside them is a 403. Small cells are hidden as in `/statistics`. Every request
        is audited.
        """
        after = _cursor_key(query["cursor"]) if "cursor" in query else None
        rows = follow_up_rate(
            core(),
            actor(),
            query.get("from_month"),
            query.get("until_month"),
            query.get("gemeente"),
        )
        return _page(f"{PATH}/follow-up", rows, after, query)


def _page(
    path: str,
    rows: Sequence[StatisticsRow | FollowUpRateRow],
    after: tuple[date, str] | None,
    query: dict[str, Any],
) -> dict[str, Any]:
    """One page of (month, sector) rows after the cursor, with the `next` link that
    repeats the query's filters."""
    if after is not None:
        rows = [r for r in rows if (r.month, r.sector) > after]
    page_size = query["page_size"]
    page, more = rows[:page_size], len(rows) > page_size
    next_link = None
    if more:
        next_link = page_url(
            path,
            _cursor(page[-1]),
            **{
                "from": _month_text(query.get("from_month")),
                "until": _month_text(query.get("until_month")),
                "gemeente": query.get("gemeente"),
                "pageSize": page_size,
            },
        )
    return {"items": page, "next": next_link, "small_cell_threshold": SMALL_CELL_THRESHOLD}


def _cursor(row: StatisticsRow | FollowUpRateRow) -> str:
    return f"{row.month:%Y-%m}.{row.sector}"


def _cursor_key(cursor: str) -> tuple[date, str]:
    found = _CURSOR.fullmatch(cursor)
    if found is None or not 1 <= int(found[2]) <= 12:
        raise bad_cursor()
    return date(int(found[1]), int(found[2]), 1), found[3]


def _month_text(month: date | None) -> str | None:
    return None if month is None else f"{month:%Y-%m}"
