"""The beheerder's statistics: signals and matches per sector and month, as a bar chart and
as a table, small cells hidden.

The chart is an SVG drawn on the server (no script, no chart library): its geometry is
computed here and the template only writes it out. A hidden cell (1 to 4) is drawn as a
hatched bar up to 4, outlined in its sector's colour, so that nobody reads a number into it;
the table says "<5". The table is the chart's text alternative and holds every number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, request
from werkzeug.wrappers import Response

from verwijsindex.domain import InvalidInput, Problem, Role, Sector
from verwijsindex.dutch import MONTHS
from verwijsindex.services import statistics as statistics_service
from verwijsindex.services.statistics import (
    SMALL_CELL_THRESHOLD,
    StatisticsRow,
    add_months,
    months_from_to,
    statistics_window,
)
from verwijsindex.web.context import actor, core, login_required
from verwijsindex.web.pages import page
from verwijsindex.web.professional import SECTORS_NL

bp = Blueprint("stats", __name__)

MEASURES = {
    "signals": ("Signalen", "signalen"),
    "client_matches": ("Cliëntmatches", "cliëntmatches"),
    "family_matches": ("Gezinsmatches", "gezinsmatches"),
}
DEFAULT_MEASURE = "signals"
# Okabe–Ito: told apart with the common kinds of colour blindness; one fixed colour per
# sector, so a sector keeps its colour whatever the filter.
COLOURS = {
    Sector.JEUGDHULP: "#0072B2",
    Sector.JEUGDGEZONDHEIDSZORG: "#E69F00",
    Sector.GEZONDHEIDSZORG: "#009E73",
    Sector.ONDERWIJS: "#CC79A7",
    Sector.MAATSCHAPPELIJKE_ONDERSTEUNING: "#56B4E9",
    Sector.WERK_EN_INKOMEN: "#D55E00",
    Sector.JUSTITIE: "#000000",
}
MONTH_INVALID = "Vul een maand in, zoals 2026-01."
_SERVICE_MESSAGES = {
    "from": "De beginmaand ligt na de eindmaand.",
    "until": f"Kies hoogstens {statistics_service.MAX_MONTHS} maanden.",
}
_MONTH = re.compile(r"(\d{4})-(\d{1,2})|(\d{1,2})-(\d{4})")

# The drawing, in SVG user units (the picture scales to the page).
WIDTH, HEIGHT = 960, 360
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 16, 48
HIDDEN_HEIGHT = SMALL_CELL_THRESHOLD - 1  # a hidden cell is drawn up to 4, hatched


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    hidden: bool
    title: str


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True, slots=True)
class MonthLabel:
    x: float
    month: str
    year: str  # only where the year starts, and on the first label


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    baseline: float
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    months: tuple[MonthLabel, ...]
    legend: tuple[tuple[str, str], ...]  # (sector label, colour)


def month_name(month: date) -> str:
    return f"{MONTHS[month.month - 1]} {month.year}"


def sector_label(value: str) -> str:
    known = {s.value: s for s in Sector}
    return SECTORS_NL[known[value]] if value in known else value


def parse_month(raw: str) -> date | None:
    """`2026-01` (what a month field sends) or `01-2026` (what people type)."""
    found = _MONTH.fullmatch(raw.strip())
    if not found:
        return None
    year, month = (found.group(1), found.group(2)) if found.group(1) else found.group(4, 3)
    try:
        return date(int(year), int(month), 1)
    except ValueError:
        return None


def nice_step(top: int) -> int:
    """A round step (1, 2, 5, 10, 20, 50, ...) giving at most five gridlines up to `top`."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if top <= 5 * step * factor:
                return step * factor
        step *= 10


def build_chart(rows: list[StatisticsRow], first: date, last: date, measure: str) -> Chart:
    """Grouped bars: one group per month, in it one bar per sector that has any count."""
    months = [add_months(first, n) for n in range(months_from_to(first, last))]
    values = {(row.month, row.sector): getattr(row, measure) for row in rows}
    sectors = [s for s in Sector if any(sector == s.value for _, sector in values)]
    top_value = max([v or 0 for v in values.values()] + [HIDDEN_HEIGHT])
    step = nice_step(top_value)
    top = -(-top_value // step) * step
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_height
    group = plot_width / len(months)
    bar_width = group * 0.8 / max(len(sectors), 1)
    label_every = -(-len(months) // 12)
    noun = MEASURES[measure][1]

    def height_of(value: float) -> float:
        return plot_height * value / top

    bars = []
    for m, month in enumerate(months):
        for s, sector in enumerate(sectors):
            value = values.get((month, sector.value), 0)
            if value == 0:
                continue
            shown = HIDDEN_HEIGHT if value is None else value
            count = "minder dan 5" if value is None else str(value)
            bars.append(
                Bar(
                    x=round(LEFT + m * group + group * 0.1 + s * bar_width, 2),
                    y=round(baseline - height_of(shown), 2),
                    width=round(bar_width, 2),
                    height=round(height_of(shown), 2),
                    colour=COLOURS[sector],
                    hidden=value is None,
                    title=f"{SECTORS_NL[sector]}, {month_name(month)}: {count} {noun}",
                )
            )
    labels = tuple(
        MonthLabel(
            x=round(LEFT + m * group + group / 2, 2),
            month=MONTHS[month.month - 1][:3],
            year=str(month.year) if m == 0 or month.month <= label_every else "",
        )
        for m, month in enumerate(months)
        if m % label_every == 0
    )
    ticks = tuple(Tick(round(baseline - height_of(v), 2), v) for v in range(0, top + 1, step))
    legend = tuple((SECTORS_NL[s], COLOURS[s]) for s in sectors)
    return Chart(WIDTH, HEIGHT, LEFT, WIDTH - RIGHT, baseline, tuple(bars), ticks, labels, legend)


def _form_window() -> tuple[dict[str, str], dict[str, str], date | None, date | None]:
    """(typed values, errors, from, until) of the filter form."""
    values = {name: request.args.get(name, "").strip() for name in ("van", "tot")}
    errors: dict[str, str] = {}
    parsed: dict[str, date | None] = {}
    for name, raw in values.items():
        parsed[name] = parse_month(raw) if raw else None
        if raw and parsed[name] is None:
            errors[name] = MONTH_INVALID
    return values, errors, parsed["van"], parsed["tot"]


def _field_of(problem: Problem) -> str:
    return {"from": "van", "until": "tot"}.get(problem.name, problem.name)


@bp.get("/beheer/statistieken")
@login_required(Role.BEHEERDER)
def statistics() -> Response:
    values, errors, from_month, until_month = _form_window()
    measure = request.args.get("tonen", DEFAULT_MEASURE)
    if measure not in MEASURES:
        measure = DEFAULT_MEASURE
    context: dict[str, Any] = {"values": values, "measure": measure, "measures": MEASURES}
    this_month = core().local_date(core().now()).replace(day=1)
    if not errors:
        try:
            first, last = statistics_window(this_month, from_month, until_month)
        except InvalidInput as error:
            errors = {_field_of(p): _SERVICE_MESSAGES.get(p.name, p.reason) for p in error.problems}
    if errors:
        return page("web/beheer/statistics.html", 400, errors=errors, rows=None, **context)
    rows = statistics_service.statistics(core(), actor(), first, last)
    context["values"] = {"van": f"{first:%Y-%m}", "tot": f"{last:%Y-%m}"}
    return page(
        "web/beheer/statistics.html",
        errors={},
        rows=rows,
        first=first,
        last=last,
        chart=build_chart(rows, first, last, measure) if rows else None,
        month_name=month_name,
        sector_label=sector_label,
        **context,
    )
