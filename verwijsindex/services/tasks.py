"""What needs this person's action, counted for the start page (issue 14).

The counts reuse the reads behind the pages they link to, so a number on the start page and
the list behind its link cannot disagree on what counts:

- **new matches**: matches the professional joined in the last `NEW_MATCH_DAYS` days. There
  is no "seen" state: keeping one would add a write to every match read, whose statement
  counts are pinned (tests/integration/test_hot_path_statements.py); two weeks is the
  window in which a match is news;
- **overdue follow-up**: their own matches they joined more than ten working days ago and
  have not marked followed up (`monitoring.overdue_before`, the regievoerder's rule);
- **postponements to review**: their active signals whose review date has passed (the
  "Herbeoordeling verlopen" of /informatieplicht);
- coordinator: the signals of deactivated colleagues still to move (`/coordinatie`);
- regievoerder: the matches in their gemeenten with an overdue participant (`/regie`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from verwijsindex import domain
from verwijsindex.domain import Role, SignalStatus
from verwijsindex.services.coordination import is_coordinator_of
from verwijsindex.services.core import Actor, Core
from verwijsindex.services.monitoring import overdue_before, scope_of

NEW_MATCH_DAYS = 14
# Far above one professional's matches and signals; the counts say "at least" beyond it.
LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Tasks:
    """Counts for the start page; None where the role does not apply."""

    new_matches: int | None = None
    overdue_follow_ups: int | None = None
    reviews_due: int | None = None
    signals_to_transfer: int | None = None
    matches_without_follow_up: int | None = None


def tasks_of(core: Core, actor: Actor) -> Tasks:
    """Counts only: the start page shows no case, so it reads ids and dates and opens
    nothing. Hence no audit entry: a count names no child, parent or colleague, and the
    lists behind the links, which do, are audited when they are opened (`match:list`,
    `signal:list`, `organisation:tasks`, `monitoring:list`). Every page view of `/` would
    otherwise add one."""
    counts: dict[str, int | None] = {}
    with core.transaction(write=False, actor=actor) as tx:
        now = tx.now
        if actor.professional.has_role(Role.PROFESSIONAL):
            cut = overdue_before(now)
            since_new = now - timedelta(days=NEW_MATCH_DAYS)
            found = tx.match_views.details_of_professional(actor.id, None, LIMIT)
            joined = [
                (d, moment)
                for d in found
                for pid, moment in d.match.participants_since()
                if pid == actor.id
            ]
            counts["new_matches"] = sum(1 for _, moment in joined if moment >= since_new)
            counts["overdue_follow_ups"] = sum(
                1 for d, moment in joined if moment < cut and actor.id not in d.followed_up
            )
            today = domain.local_date(now)
            rows = tx.signals.own_signal_rows(actor.id, SignalStatus.ACTIVE, None, LIMIT)
            counts["reviews_due"] = sum(
                1
                for r in rows
                if r.postponement_reason is not None
                and r.review_on is not None
                and r.review_on < today
            )
        organisation = actor.professional.organisation.id
        if is_coordinator_of(actor, organisation):
            counts["signals_to_transfer"] = sum(tx.coordination.left_behind(organisation).values())
        if actor.professional.has_role(Role.REGIEVOERDER):
            ids = tx.regie.match_ids_in_scope(
                scope_of(tx, actor), "overdue", overdue_before(now), None, LIMIT
            )
            counts["matches_without_follow_up"] = len(ids)
    return Tasks(**counts)
