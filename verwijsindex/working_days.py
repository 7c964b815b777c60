"""Dutch working days: Monday to Friday, except the national public holidays.

"Within 10 working days" is how professionals count, so a match made just before
Christmas is not overdue on the first day back. The holidays come from the `holidays`
package (Nieuwjaarsdag, Pasen, Koningsdag, Hemelvaart, Pinksteren, Kerst, ...).
"""

from __future__ import annotations

import functools
from datetime import date, timedelta

import holidays


@functools.lru_cache(maxsize=64)
def _holidays_of(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("NL", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays_of(day.year)


def add_working_days(start: date, count: int) -> date:
    """The `count`-th working day after `start` (which itself does not count)."""
    day = start
    while count > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def latest_start_due(today: date, count: int) -> date:
    """The last `start` whose `count`-th working day after it is `today` or earlier."""
    start = today - timedelta(days=count)
    while add_working_days(start, count) > today:
        start -= timedelta(days=1)
    return start
