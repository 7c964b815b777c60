"""Matches as the API and the web show them (`tx.match_views`): who is in a match through
which active signals. A read model, apart from the store that matching writes through.

Every lookup is by an indexed key (match id, professional id), never a scan.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from verwijsindex.domain import MatchType
from verwijsindex.models import MatchRow, MatchSignalRow, SignalRow


@dataclass(frozen=True, slots=True)
class StoredMatch:
    """A match as read for display: who is in it through which active signals."""

    id: uuid.UUID
    type: MatchType
    created_at: datetime
    regisseur_id: uuid.UUID | None
    # (signal id, professional id, signal created_at) of every active signal in the match
    members: tuple[tuple[uuid.UUID, uuid.UUID, datetime], ...]

    def participants_since(self) -> list[tuple[uuid.UUID, datetime]]:
        """Each participating professional once, since their first signal in the match
        (in a family match one may follow several siblings), earliest first."""
        since: dict[uuid.UUID, datetime] = {}
        for _, professional_id, created_at in self.members:
            since[professional_id] = min(created_at, since.get(professional_id, created_at))
        return sorted(since.items(), key=lambda item: item[1])


class MatchViews:
    def __init__(self, session: Session) -> None:
        self.session = session

    def matches_of_professional(
        self, professional_id: uuid.UUID, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[StoredMatch]:
        """Matches the professional takes part in, newest first (keyset on created_at, id)."""
        mine = (
            select(MatchSignalRow.match_id)
            .join(SignalRow, SignalRow.id == MatchSignalRow.signal_id)
            .where(SignalRow.professional_id == professional_id)
        )
        statement = select(MatchRow.id).where(MatchRow.id.in_(mine))
        if after is not None:
            created_at, last_id = after
            statement = statement.where(
                (MatchRow.created_at < created_at)
                | ((MatchRow.created_at == created_at) & (MatchRow.id < last_id))
            )
        ids = list(
            self.session.scalars(
                statement.order_by(MatchRow.created_at.desc(), MatchRow.id.desc()).limit(limit)
            )
        )
        found = {m.id: m for m in self.stored_matches(ids)}
        return [found[i] for i in ids if i in found]

    def stored_matches(self, match_ids: Iterable[uuid.UUID]) -> list[StoredMatch]:
        wanted = list(set(match_ids))
        if not wanted:
            return []
        rows = self.session.execute(
            select(
                MatchRow.id,
                MatchRow.type,
                MatchRow.created_at,
                MatchRow.regisseur_id,
                SignalRow.id,
                SignalRow.professional_id,
                SignalRow.created_at,
            )
            .join(MatchSignalRow, MatchSignalRow.match_id == MatchRow.id)
            .join(SignalRow, SignalRow.id == MatchSignalRow.signal_id)
            .where(MatchRow.id.in_(wanted))
        ).all()
        heads: dict[uuid.UUID, tuple[str, datetime, uuid.UUID | None]] = {}
        members: dict[uuid.UUID, list[tuple[uuid.UUID, uuid.UUID, datetime]]] = defaultdict(list)
        for match_id, kind, created_at, regisseur_id, signal_id, professional_id, since in rows:
            heads[match_id] = (kind, created_at, regisseur_id)
            members[match_id].append((signal_id, professional_id, since))
        return [
            StoredMatch(i, MatchType(k), c, r, tuple(sorted(members[i], key=lambda m: m[2])))
            for i, (k, c, r) in heads.items()
        ]
