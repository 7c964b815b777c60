"""Match follow-up (`tx.follow_ups`), and the scans behind the reminders that
`maintenance` sends.

Reminders are claimed by a conditional write (insert-if-absent, or update-if-unset), so
two maintenance runs at the same time never remind anyone twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from verwijsindex.domain import SignalStatus
from verwijsindex.models import FollowUpRow, MatchSignalRow, SignalRow
from verwijsindex.repository.base import RepositoryBase
from verwijsindex.repository.federated import local_signal


@dataclass(frozen=True, slots=True)
class Participation:
    """A professional in a match since `joined_at` (their first signal's link to it)."""

    match_id: uuid.UUID
    professional_id: uuid.UUID
    joined_at: datetime


class FollowUpRepository(RepositoryBase):
    def _insert(self) -> Any:
        dialect = self.session.get_bind().dialect.name
        return (postgresql if dialect == "postgresql" else sqlite).insert(FollowUpRow)

    def set_followed_up(
        self, match_id: uuid.UUID, professional_id: uuid.UUID, at: datetime | None
    ) -> None:
        """Mark (or with None, unmark) the professional's follow-up of the match."""
        statement = self._insert().values(
            match_id=match_id, professional_id=professional_id, followed_up_at=at
        )
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["match_id", "professional_id"], set_={"followed_up_at": at}
            )
        )

    def forget_follow_ups_of_leavers(self, match_ids: Iterable[uuid.UUID]) -> None:
        """Drop the follow-up state of professionals no longer in these matches, so that
        one who rejoins starts a fresh follow-up period (and may be reminded again)."""
        wanted = set(match_ids)
        if not wanted:
            return
        still_in = (
            select(MatchSignalRow.match_id)
            .join(SignalRow, SignalRow.id == MatchSignalRow.signal_id)
            .where(
                MatchSignalRow.match_id == FollowUpRow.match_id,
                SignalRow.professional_id == FollowUpRow.professional_id,
            )
        )
        self.session.execute(
            delete(FollowUpRow).where(FollowUpRow.match_id.in_(wanted), ~still_in.exists())
        )

    def followed_up(
        self, match_ids: Iterable[uuid.UUID]
    ) -> dict[tuple[uuid.UUID, uuid.UUID], datetime]:
        wanted = set(match_ids)
        if not wanted:
            return {}
        rows = self.session.execute(
            select(
                FollowUpRow.match_id, FollowUpRow.professional_id, FollowUpRow.followed_up_at
            ).where(FollowUpRow.match_id.in_(wanted), FollowUpRow.followed_up_at.is_not(None))
        ).all()
        return {(m, p): at for m, p, at in rows if at is not None}

    def participations_without_follow_up(
        self, joined_before: datetime, limit: int
    ) -> list[Participation]:
        """Participants who joined before `joined_before` and have neither followed up nor
        been reminded; oldest first."""
        joined = func.min(MatchSignalRow.linked_at)
        rows = self.session.execute(
            select(MatchSignalRow.match_id, SignalRow.professional_id, joined)
            .join(SignalRow, SignalRow.id == MatchSignalRow.signal_id)
            .outerjoin(
                FollowUpRow,
                and_(
                    FollowUpRow.match_id == MatchSignalRow.match_id,
                    FollowUpRow.professional_id == SignalRow.professional_id,
                ),
            )
            .where(
                # A mirrored participant is reminded by its home region, not from here.
                local_signal(),
                or_(
                    FollowUpRow.match_id.is_(None),
                    and_(FollowUpRow.followed_up_at.is_(None), FollowUpRow.reminded_at.is_(None)),
                ),
            )
            .group_by(MatchSignalRow.match_id, SignalRow.professional_id)
            .having(joined < joined_before)
            .order_by(joined)
            .limit(limit)
        ).all()
        return [Participation(m, p, at) for m, p, at in rows]

    def claim_follow_up_reminder(
        self, match_id: uuid.UUID, professional_id: uuid.UUID, now: datetime
    ) -> bool:
        """Note that a reminder goes out; False when it went out already or is not needed."""
        inserted = self.session.execute(
            self._insert()
            .values(match_id=match_id, professional_id=professional_id, reminded_at=now)
            .on_conflict_do_nothing(index_elements=["match_id", "professional_id"])
        )
        if getattr(inserted, "rowcount", 0):
            return True
        updated = self.session.execute(
            update(FollowUpRow)
            .where(
                FollowUpRow.match_id == match_id,
                FollowUpRow.professional_id == professional_id,
                FollowUpRow.followed_up_at.is_(None),
                FollowUpRow.reminded_at.is_(None),
            )
            .values(reminded_at=now)
        )
        return bool(getattr(updated, "rowcount", 0))

    def count_as_reminded(
        self, participations: Iterable[tuple[uuid.UUID, uuid.UUID]], now: datetime
    ) -> None:
        """Record these (match, professional) participations as reminded already, so that
        no follow-up reminder goes out for them; one that already has a follow-up state
        keeps it. For participations a migration formed: old news, of which nobody was
        mailed (`services.bulk`)."""
        rows = [
            {"match_id": m, "professional_id": p, "reminded_at": now}
            for m, p in sorted(set(participations))
        ]
        if rows:
            self.session.execute(
                self._insert().on_conflict_do_nothing(
                    index_elements=["match_id", "professional_id"]
                ),
                rows,
            )

    def claim_review_reminders(self, today: date, limit: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """Active signals with an open postponement whose review date has passed and whose
        author was not yet reminded of that date: marked reminded, returned as
        (signal id, professional id)."""
        rows = self.session.execute(
            select(SignalRow.id, SignalRow.professional_id, SignalRow.review_on)
            .where(
                SignalRow.review_on < today,
                SignalRow.status == SignalStatus.ACTIVE.value,
                local_signal(),
                SignalRow.postponement_reason.is_not(None),
                or_(
                    SignalRow.review_reminded_for.is_(None),
                    SignalRow.review_reminded_for != SignalRow.review_on,
                ),
            )
            .order_by(SignalRow.review_on, SignalRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for signal_id, _, review_on in rows:
            self.session.execute(
                update(SignalRow)
                .where(SignalRow.id == signal_id)
                .values(review_reminded_for=review_on)
            )
        return [(s, p) for s, p, _ in rows]
