"""Statistics for the beheerder: signals and matches per month and sector.

Counted, not computed: `count_statistics` runs before commit, in the transaction of the
event it counts, and adds aggregate counts (`models.statistics`): an insert, never an
update of a shared counter row, so transactions counting the same sector and month never
wait on each other. Signals and matches are deleted when the law says so; the counts are
not personal data and stay. `compact_statistics` (maintenance) folds the rows of past
months into one per cell.

What is counted, in the month (Dutch local time) of the event and the sector of the
professional's organisation:
- `signals`: a signal once, when registered (a replayed registration is not a new one); a
  signal a migration loads (`import --migration`) in the month of its original
  registration (`registeredOn`), which the event carries;
- `client_matches`, `family_matches`: a match once, when created, for *each* sector among
  its participants then. A match between a school and a youth-care team adds one to
  `onderwijs` and one to `jeugdhulp`, so the sum over sectors is not the number of matches.
  Growing, shrinking and dissolving count nothing; a match split off another one when a
  family falls apart is a new match and counts. Mirrored signals of other regions
  (federation) count nowhere here: only this region's sectors of a cross-region match.

Each count also carries a gemeente (CBS code): a signal its own (as registered, the
organisation's default included); a match the gemeente of the signal whose registration
created it, which is its newest signal. Counts without one (no gemeente named, a match
created otherwise, counted before gemeenten existed) have none, and are only in the totals.

Reading hides small cells: a count of 1 to 4 is shown as None, since in a small region
"one signal from justitie this month" can point at a person. Zero is shown: nobody is
behind it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from verwijsindex import gemeenten
from verwijsindex.audit import AuditEntry
from verwijsindex.domain import (
    Forbidden,
    InvalidInput,
    MatchType,
    Problem,
    Role,
    gemeente_problems,
    local_date,
)
from verwijsindex.events import SignalRegistered
from verwijsindex.models.statistics import CLIENT_MATCHES, FAMILY_MATCHES, SIGNALS
from verwijsindex.repository.statistics import add_counts_by_month, compact, counts_between

if TYPE_CHECKING:
    # services.core imports this module (for `count_statistics`): types only from there.
    from verwijsindex.services.core import Actor, Core, Transaction

SMALL_CELL_THRESHOLD = 5
DEFAULT_MONTHS = 12
MAX_MONTHS = 60

READ = "statistics:read"
_KIND_OF_MATCH = {MatchType.CLIENT: CLIENT_MATCHES, MatchType.FAMILY: FAMILY_MATCHES}


# --- counting, at commit ----------------------------------------------------------------------


def count_statistics(tx: Transaction) -> None:
    """Add this transaction's new signals and new matches to the counters.

    No statement at all when there is nothing to count (most transactions); otherwise one
    insert of the counts, after a lookup of the sectors involved unless the use case
    already noted them (`Transaction.signal_owners`).
    """
    # The gemeente and the moment come with the event: counting them needs no statement.
    events = {e.signal_id: e for e in tx.events if isinstance(e, SignalRegistered)}
    gemeente_of = {s: e.gemeente for s, e in events.items()}
    registered = list(events)
    created = [c for c in tx.matches.changes() if not c.before]
    if not registered and not created:
        return
    owners = tx.signal_owners([*registered, *(s for c in created for s in c.after)])
    # Another region's mirrored participants (federation) are counted by their own region.
    sector_of = {s: o.sector for s, o in owners.items() if o.region is None}
    this_month = _month_of(tx.now)
    counts: dict[date, Counter[tuple[str, str, str | None]]] = defaultdict(Counter)
    for event in events.values():
        if event.signal_id in sector_of:
            # A migrated signal in the month of its original registration.
            month = _month_of(event.registered_at) if event.registered_at else this_month
            counts[month][sector_of[event.signal_id], SIGNALS, event.gemeente] += 1
    for change in created:
        gemeente = next((gemeente_of[s] for s in change.after if s in gemeente_of), None)
        for sector in {sector_of[s] for s in change.after if s in sector_of}:
            counts[this_month][sector, _KIND_OF_MATCH[change.type], gemeente] += 1
    add_counts_by_month(tx.uow.session, counts)


def _month_of(moment: datetime) -> date:
    return local_date(moment).replace(day=1)


def compact_statistics(core: Core) -> int:
    """Fold the counts of the months before this one into one row per cell (maintenance);
    how many rows that removed. Reads answer the same before and after."""
    with core.transaction(write=True) as tx:
        removed = compact(tx.uow.session, _month_of(tx.now))
        tx.commit()
    return removed


# --- reading, for the beheerder ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatisticsRow:
    """One month and sector; a count of 1 to 4 is None (hidden), 0 is 0."""

    month: date  # the first day of the month
    sector: str
    signals: int | None
    client_matches: int | None
    family_matches: int | None


def add_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def months_from_to(first: date, last: date) -> int:
    """How many months `first` to `last` spans, both included."""
    return (last.year - first.year) * 12 + last.month - first.month + 1


def statistics_window(
    this_month: date, from_month: date | None, until_month: date | None
) -> tuple[date, date]:
    """The months to show: by default the last 12 including this one; `until` defaults to
    this month, `from` to 11 months before `until`. At most 60 months, in order."""
    last = (until_month or this_month).replace(day=1)
    first = from_month.replace(day=1) if from_month else add_months(last, 1 - DEFAULT_MONTHS)
    problems = []
    if first > last:
        problems.append(Problem("from", "Must not be after `until` (default: this month)."))
    elif months_from_to(first, last) > MAX_MONTHS:
        problems.append(Problem("until", f"At most {MAX_MONTHS} months from `from` to `until`."))
    if problems:
        raise InvalidInput(problems)
    return first, last


def hide_small(count: int) -> int | None:
    return None if 0 < count < SMALL_CELL_THRESHOLD else count


def statistics(
    core: Core,
    actor: Actor,
    from_month: date | None = None,
    until_month: date | None = None,
    gemeente: str | None = None,
) -> list[StatisticsRow]:
    """Counts per month and sector, oldest month first, sectors in alphabetical order; only
    (month, sector) pairs with anything counted. With `gemeente`, only what was counted
    under that gemeente. Beheerder only; every read is audited."""
    if not actor.professional.has_role(Role.BEHEERDER):
        # As `records_refusals` does (it cannot be imported here: see the imports).
        core.record_denied(actor, AuditEntry(READ, "statistics"))
        raise Forbidden(f"This requires the role {Role.BEHEERDER.value}.")
    problems = gemeente_problems(gemeente, gemeenten.current())
    if problems:
        raise InvalidInput(problems)
    first, last = statistics_window(
        core.local_date(core.now()).replace(day=1), from_month, until_month
    )
    with core.transaction(write=True, actor=actor) as tx:
        found = counts_between(tx.uow.session, first, last, gemeente)
        tx.record(AuditEntry(READ, "statistics"))
        tx.commit()
    cells: dict[tuple[date, str], dict[str, int]] = {}
    for month, sector, kind, count in found:
        cells.setdefault((month, sector), {})[kind] = count
    return [
        StatisticsRow(
            month,
            sector,
            hide_small(kinds.get(SIGNALS, 0)),
            hide_small(kinds.get(CLIENT_MATCHES, 0)),
            hide_small(kinds.get(FAMILY_MATCHES, 0)),
        )
        for (month, sector), kinds in sorted(cells.items())
    ]
