"""The follow-up rate (issue 13): the share of match participations followed up within 10
working days, per month (of joining, Dutch local time) and sector (of the participant).

About 40 % of match notices got no follow-up, and nobody saw it. A participation counts
once its outcome is known: followed up before the day it became overdue (the 10th working
day after joining, as for reminders and the monitoring), or not followed up by then.
Participations still within their 10 working days are not counted yet.

Computed when read, from the matches as they stand: a participation leaves the figures
when its signal is closed, archived or erased (the match it was in no longer holds it).
That keeps the rate about the help that is still going on; the counted statistics
(`services.statistics`) are the ones that outlive the signals.

Who reads it: the beheerder, for the whole index or one gemeente; a regievoerder, for the
matches in their gemeenten (or all, with none assigned), since checking follow-up is their
task (Jeugdwet 7.1.3.2). Small cells are hidden as in the other statistics.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from verwijsindex import domain, gemeenten
from verwijsindex.audit import AuditEntry
from verwijsindex.domain import Forbidden, InvalidInput, Problem, Role
from verwijsindex.services.core import Actor, Core
from verwijsindex.services.monitoring import scope_of
from verwijsindex.services.reminders import FOLLOW_UP_WORKING_DAYS
from verwijsindex.services.statistics import add_months, hide_small, statistics_window
from verwijsindex.services.unit_of_work import Transaction
from verwijsindex.working_days import add_working_days

READ = "statistics:follow-up-read"


@dataclass(frozen=True, slots=True)
class FollowUpRateRow:
    month: date
    sector: str
    due: int | None  # participations whose outcome is known; 1 to 4 hidden
    in_time: int | None  # of those, followed up within 10 working days; 1 to 4 hidden
    rate: float | None  # in_time / due, None when either is hidden or nothing is due


def overdue_from(joined: datetime) -> datetime:
    """The start of the day a participation that joined at `joined` becomes overdue."""
    deadline = add_working_days(domain.local_date(joined), FOLLOW_UP_WORKING_DAYS)
    return domain.start_of_local_day(deadline)


def tally(
    participations: list[tuple[datetime, str, datetime | None]], now: datetime
) -> list[FollowUpRateRow]:
    due: Counter[tuple[date, str]] = Counter()
    in_time: Counter[tuple[date, str]] = Counter()
    for joined, sector, followed_up_at in participations:
        late_from = overdue_from(joined)
        cell = (domain.local_date(joined).replace(day=1), sector)
        if followed_up_at is not None and followed_up_at < late_from:
            due[cell] += 1
            in_time[cell] += 1
        elif now >= late_from:
            due[cell] += 1
    rows = []
    for cell in sorted(due):
        shown_due, shown_in_time = hide_small(due[cell]), hide_small(in_time[cell])
        rate = None
        if shown_due is not None and shown_in_time is not None:
            rate = round(in_time[cell] / due[cell], 3)
        rows.append(FollowUpRateRow(cell[0], cell[1], shown_due, shown_in_time, rate))
    return rows


def _scope(tx: Transaction, actor: Actor, gemeente: str | None) -> frozenset[str] | None:
    """The gemeenten to count (None: all): the beheerder's choice, or the regievoerder's own
    gemeenten, narrowed to `gemeente` if it is one of them (else 403)."""
    if actor.professional.has_role(Role.BEHEERDER):
        return None if gemeente is None else frozenset({gemeente})
    scope = scope_of(tx, actor)
    if gemeente is None:
        return scope
    if scope is not None and gemeente not in scope:
        raise Forbidden("This gemeente is not one of yours.")
    return frozenset({gemeente})


def follow_up_rate(
    core: Core,
    actor: Actor,
    from_month: date | None = None,
    until_month: date | None = None,
    gemeente: str | None = None,
) -> list[FollowUpRateRow]:
    """Per month of joining and sector, oldest first; every read audited."""
    allowed = {Role.BEHEERDER, Role.REGIEVOERDER}
    if not any(actor.professional.has_role(r) for r in allowed):
        core.record_denied(actor, AuditEntry(READ, "statistics"))
        if actor.withheld & allowed:
            raise Forbidden("This role acts only in person, never through a system token.")
        raise Forbidden("This requires the role beheerder or regievoerder.")
    if gemeente is not None and gemeente not in gemeenten.current():
        raise InvalidInput([Problem("gemeente", domain.UNKNOWN_GEMEENTE)])
    first, last = statistics_window(
        core.local_date(core.now()).replace(day=1), from_month, until_month
    )
    with core.transaction(write=True, actor=actor) as tx:
        found = tx.regie.participations(
            domain.start_of_local_day(first),
            domain.start_of_local_day(add_months(last, 1)),
            _scope(tx, actor, gemeente),
        )
        tx.record(AuditEntry(READ, "statistics"))
        tx.commit()
        now = tx.now
    return tally(found, now)
