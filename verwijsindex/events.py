"""What happened in a use case that someone outside it should hear about.

Use cases collect these on their transaction; just before commit they become outbox rows
(e-mails, webhook calls) in the same transaction, so an event is never announced without
having happened, nor happens without being announced. Ids only: these travel.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from verwijsindex.domain import MatchType


@dataclass(frozen=True, slots=True)
class MatchChanged:
    """A match's signals before and after this transaction (empty before: it was created;
    empty after: it dissolved)."""

    match_id: uuid.UUID
    type: MatchType
    before: frozenset[uuid.UUID]
    after: frozenset[uuid.UUID]


@dataclass(frozen=True, slots=True)
class RegisseurDesignated:
    match_id: uuid.UUID
    regisseur_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class RegisseurSteppedDown:
    match_id: uuid.UUID
    professional_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class SignalRegistered:
    """A new signal was stored (not a replayed registration): counted in the statistics."""

    signal_id: uuid.UUID
    professional_id: uuid.UUID
    # Counted per gemeente too; carried here so counting needs no lookup.
    gemeente: str | None = None
    # When it was registered, if not at the transaction's moment: a signal a migration
    # loads keeps its original registration (contract section 9), and is counted in the
    # statistics in that month, not the month of the migration.
    registered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SignalArchived:
    signal_id: uuid.UUID
    professional_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class FollowUpOverdue:
    """A participant has not followed up a match within the period: remind them once."""

    match_id: uuid.UUID
    professional_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class ReviewDatePassed:
    """An informatieplicht postponement's review date has passed: remind its author."""

    signal_id: uuid.UUID
    professional_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class SignalTransferred:
    """A signal moved to a colleague of the same organisation (by its author or a
    coordinator): the matches it is in now name the colleague."""

    signal_id: uuid.UUID
    from_professional_id: uuid.UUID
    to_professional_id: uuid.UUID
    match_ids: tuple[uuid.UUID, ...]


@dataclass(frozen=True, slots=True)
class SignalsLeftBehind:
    """A professional was deactivated with active signals: the organisation's coordinators
    are told how many to move (a count, no ids of children)."""

    professional_id: uuid.UUID
    coordinator_ids: tuple[uuid.UUID, ...]
    count: int


@dataclass(frozen=True, slots=True)
class SignalMoved:
    """A child's new signal names another gemeente than the child's other active signals
    (Jeugdwet 7.1.2.3 g): the regievoerders of the new gemeente hear of it, ids only."""

    signal_id: uuid.UUID
    gemeente: str
    match_ids: tuple[uuid.UUID, ...]


Event = (
    MatchChanged
    | RegisseurDesignated
    | RegisseurSteppedDown
    | SignalRegistered
    | SignalArchived
    | FollowUpOverdue
    | ReviewDatePassed
    | SignalTransferred
    | SignalsLeftBehind
    | SignalMoved
)


@dataclass(frozen=True, slots=True)
class Announcement:
    """A section-7 event as one organisation hears of it: what its webhook subscribers are
    sent and what its change feed shows. `data` holds ids only, and among the professionals
    involved (`professionalIds`) only the organisation's own."""

    organisation_id: uuid.UUID
    type: str  # a WebhookEvent
    data: dict[str, object]


class WebhookEvent:
    """The event types a webhook subscription can ask for (contract section 7)."""

    MATCH_CREATED = "match.created"
    MATCH_CHANGED = "match.changed"
    REGISSEUR_DESIGNATED = "regisseur.designated"
    SIGNAL_ARCHIVED = "signal.archived"

    ALL = (MATCH_CREATED, MATCH_CHANGED, REGISSEUR_DESIGNATED, SIGNAL_ARCHIVED)
