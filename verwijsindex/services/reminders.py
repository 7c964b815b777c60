"""Reminders that `maintenance` sends: overdue match follow-up, passed review dates.

About 40 % of today's match notices get no follow-up. A participant who has not marked a
match as followed up 10 working days after joining it gets one reminder; the author of
an informatieplicht postponement whose review date has passed gets one reminder per
review date. Both are claimed by conditional writes before their mail is queued, so two
runs at the same time never remind anyone twice; each batch is one short transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from verwijsindex import domain
from verwijsindex.db import with_retries
from verwijsindex.events import FollowUpOverdue, ReviewDatePassed
from verwijsindex.services.core import Core
from verwijsindex.working_days import latest_start_due

FOLLOW_UP_WORKING_DAYS = 10
BATCH_SIZE = 500


@dataclass(frozen=True, slots=True)
class RemindersSent:
    follow_up: int
    review: int


def send_reminders(core: Core, *, batch_size: int = BATCH_SIZE) -> RemindersSent:
    now = core.now()
    today = domain.local_date(now)
    # Everyone who joined before the start of the day after the latest due joining day.
    joined_before = domain.start_of_local_day(
        latest_start_due(today, FOLLOW_UP_WORKING_DAYS) + timedelta(days=1)
    )

    def follow_up_batch() -> tuple[int, int]:
        """(found, sent): a participation claimed by another run is found but not sent, and
        is not found again, so the loop ends when nothing is found."""
        sent = 0
        with core.transaction(write=True) as tx:
            found = tx.follow_ups.participations_without_follow_up(joined_before, batch_size)
            for due in found:
                if tx.follow_ups.claim_follow_up_reminder(
                    due.match_id, due.professional_id, tx.now
                ):
                    tx.emit(FollowUpOverdue(due.match_id, due.professional_id))
                    sent += 1
            tx.commit()
        return len(found), sent

    def review_batch() -> int:
        with core.transaction(write=True) as tx:
            due = tx.follow_ups.claim_review_reminders(today, batch_size)
            for signal_id, professional_id in due:
                tx.emit(ReviewDatePassed(signal_id, professional_id))
            tx.commit()
        return len(due)

    follow_up = review = 0
    while True:
        found, sent = with_retries(follow_up_batch)
        follow_up += sent
        if not found:
            break
    while sent := with_retries(review_batch):
        review += sent
    return RemindersSent(follow_up, review)
