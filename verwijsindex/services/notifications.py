"""Turn a use case's events into outbox rows, inside its transaction (the transactional outbox).

A step before commit (`services.pipeline`), just before the audit records and the commit
itself: the e-mails and webhook calls are stored if and only if what they announce is. Delivery is
the worker's job (`services.delivery`), so no mail server or receiver is ever on the path
of a request.

Who hears what:
- a match created: each participant gets a mail; a match grown by a new participant: the
  newcomer gets "new match", the others "a colleague joined"; a match only shrinking or
  dissolving mails nobody (contract: new or grown);
- a regisseur designated: every participant gets a mail;
- a postponement's review date passed, a follow-up overdue: the one professional;
- a signal transferred to a colleague: the colleague gets "new match" for each match it is
  in, and every organisation involved hears `match.changed`;
- a professional deactivated with active signals: the organisation's coordinators get a
  mail with the count (`signals_left_behind`), nothing else;
- each organisation with a professional involved hears of the event once, as an
  `Announcement` telling it only ids: which match or signal, and which of *its own*
  professionals. Its webhook subscriptions are sent exactly that, and `stage_notifications`
  returns the announcements for its change feed (`services.change_feed`), so the feed and
  the webhooks can never disagree about who hears what;
- the regievoerders whose gemeenten a new or grown match touches, and those of the new
  gemeente of a child that moved, get a mail (`services.regie_notices`);
- a transaction with `tx.mail` False (a migration's bulk import) stages no e-mails at all,
  only the webhooks;
- federation (docs/federation.md, point 5): a mirrored participant of another region
  (`SignalOwner.region`) gets no mail and its organisation no announcement here (their own
  region tells them); a local participant's mail about a match with one names that region.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from verwijsindex.events import (
    Announcement,
    Event,
    FollowUpOverdue,
    MatchChanged,
    RegisseurDesignated,
    RegisseurSteppedDown,
    ReviewDatePassed,
    SignalArchived,
    SignalsLeftBehind,
    SignalTransferred,
    WebhookEvent,
)
from verwijsindex.notify.mails import MailKind
from verwijsindex.repository import Outgoing, SignalOwner
from verwijsindex.services.regie_notices import regie_mails
from verwijsindex.services.unit_of_work import Transaction

EMAIL = "email"
WEBHOOK = "webhook"


@dataclass(frozen=True, slots=True)
class _Hook:
    event_type: str
    involved: frozenset[uuid.UUID]  # professionals whose organisations may hear of it
    data: dict[str, object]


@dataclass(slots=True)
class _Notices:
    mails: list[tuple[MailKind, uuid.UUID, dict[str, str]]] = field(default_factory=list)
    hooks: list[_Hook] = field(default_factory=list)

    def mail(self, kind: MailKind, to: Iterable[uuid.UUID], **ids: uuid.UUID | int) -> None:
        payload = {k: str(v) for k, v in ids.items()}
        self.mails.extend((kind, p, payload) for p in sorted(to))

    def hook(self, event_type: str, involved: Iterable[uuid.UUID], **data: object) -> None:
        self.hooks.append(_Hook(event_type, frozenset(involved), data))


def stage_notifications(tx: Transaction) -> list[Announcement]:
    """Queue the mails and webhook calls of the transaction's events; returns the events as
    each organisation involved hears of them, subscribed to webhooks or not."""
    events: list[Event] = [*tx.matches.changes(), *tx.events]
    if not events:
        return []
    notices = _Notices()
    known = tx.signal_owners(
        s for e in events if isinstance(e, MatchChanged) for s in e.before | e.after
    )
    owners = {s: o.professional_id for s, o in known.items()}
    designated = [
        e.match_id for e in events if isinstance(e, RegisseurDesignated | RegisseurSteppedDown)
    ] + [m for e in events if isinstance(e, SignalTransferred) for m in e.match_ids]
    stored = tx.match_views.stored_matches(designated)
    participants = {m.id: frozenset(pid for _, pid, _ in m.members) for m in stored}
    if any(o.region for o in known.values()) or stored:
        # Only where federation mirrored someone in, or a regisseur event names a match's
        # people: a registration's own statements stay as they are.
        known = {**known, **tx.signal_owners(s for m in stored for s, _, _ in m.members)}
    remote = {o.professional_id: o.region for o in known.values() if o.region is not None}
    for event in events:
        _notices_of(event, notices, owners, participants)
    notices.mails += regie_mails(tx, events, known)
    # `tx.mail` False (a migration's import): the matches are formed, nobody is mailed;
    # webhooks still go, so a source system hears of them as of any other change.
    outgoing = [
        Outgoing(EMAIL, kind.value, _json(payload), professional_id=professional_id)
        for kind, professional_id, payload in _naming_regions(notices.mails, events, known)
        if tx.mail and professional_id not in remote
    ]
    remote_organisations = {o.organisation_id for o in known.values() if o.region is not None}
    announcements = [
        a
        for a in _announcements(tx, notices.hooks)
        if a.organisation_id not in remote_organisations
    ]
    outgoing += _webhook_calls(tx, announcements, tx.now)
    tx.outbox.queue(outgoing, tx.now)
    return announcements


def _notices_of(
    event: Event,
    notices: _Notices,
    owners: dict[uuid.UUID, uuid.UUID],
    participants: dict[uuid.UUID, frozenset[uuid.UUID]],
) -> None:
    match event:
        case MatchChanged(match_id=match_id, type=match_type, before=before, after=after):
            was = {owners[s] for s in before if s in owners}
            now = {owners[s] for s in after if s in owners}
            kind = {"matchType": match_type.value}
            if not before:
                notices.mail(MailKind.MATCH_CREATED, now, matchId=match_id)
                notices.hook(WebhookEvent.MATCH_CREATED, now, matchId=match_id, **kind)
                return
            joined = now - was
            if joined:
                notices.mail(MailKind.MATCH_CREATED, joined, matchId=match_id)
                notices.mail(MailKind.MATCH_GROWN, now - joined, matchId=match_id)
            notices.hook(
                WebhookEvent.MATCH_CHANGED, was | now, matchId=match_id, dissolved=not after, **kind
            )
        case RegisseurDesignated(match_id=match_id, regisseur_id=regisseur_id):
            everyone = participants.get(match_id, frozenset())
            notices.mail(MailKind.REGISSEUR_DESIGNATED, everyone, matchId=match_id)
            notices.hook(
                WebhookEvent.REGISSEUR_DESIGNATED,
                everyone,
                matchId=match_id,
                regisseurId=regisseur_id,
            )
        case RegisseurSteppedDown(match_id=match_id, professional_id=professional_id):
            everyone = participants.get(match_id, frozenset()) | {professional_id}
            notices.hook(WebhookEvent.MATCH_CHANGED, everyone, matchId=match_id, dissolved=False)
        case SignalArchived(signal_id=signal_id, professional_id=professional_id):
            notices.hook(WebhookEvent.SIGNAL_ARCHIVED, {professional_id}, signalId=signal_id)
        case FollowUpOverdue(match_id=match_id, professional_id=professional_id):
            notices.mail(MailKind.FOLLOW_UP_REMINDER, {professional_id}, matchId=match_id)
        case ReviewDatePassed(signal_id=signal_id, professional_id=professional_id):
            notices.mail(MailKind.INFORMATIEPLICHT_REVIEW, {professional_id}, signalId=signal_id)
        case SignalTransferred(
            from_professional_id=old, to_professional_id=new, match_ids=match_ids
        ):
            for match_id in match_ids:
                everyone = participants.get(match_id, frozenset()) | {old}
                notices.mail(MailKind.MATCH_CREATED, {new}, matchId=match_id)
                notices.hook(
                    WebhookEvent.MATCH_CHANGED, everyone, matchId=match_id, dissolved=False
                )
        case SignalsLeftBehind(professional_id=left, coordinator_ids=coordinators, count=count):
            notices.mail(
                MailKind.SIGNALS_LEFT_BEHIND, coordinators, professionalId=left, count=count
            )


def _naming_regions(
    mails: list[tuple[MailKind, uuid.UUID, dict[str, str]]],
    events: list[Event],
    known: dict[uuid.UUID, SignalOwner],
) -> list[tuple[MailKind, uuid.UUID, dict[str, str]]]:
    """A mail about a new or grown match with participants of other regions names those
    regions (`regions`, comma-separated): the reader knows to look for a colleague elsewhere.
    A region's name says nothing about the child or anyone involved."""
    regions: dict[str, str] = {}
    for event in events:
        if isinstance(event, MatchChanged):
            named = sorted({r for s in event.after if (r := _region_of(known, s)) is not None})
            if named:
                regions[str(event.match_id)] = ",".join(named)
    if not regions:
        return mails
    return [
        (kind, to, {**payload, "regions": regions[payload["matchId"]]})
        if kind in _MATCH_MAILS and payload.get("matchId") in regions
        else (kind, to, payload)
        for kind, to, payload in mails
    ]


_MATCH_MAILS = frozenset({MailKind.MATCH_CREATED, MailKind.MATCH_GROWN})


def _region_of(known: dict[uuid.UUID, SignalOwner], signal_id: uuid.UUID) -> str | None:
    owner = known.get(signal_id)
    return owner.region if owner is not None else None


def _announcements(tx: Transaction, hooks: list[_Hook]) -> list[Announcement]:
    """Each hook once per organisation with a professional involved, naming only its own."""
    if not hooks:
        return []
    # The owners of the match's signals are known already; look up only the others.
    organisation_of = {o.professional_id: o.organisation_id for o in tx.owners.values()}
    organisation_of.update(
        tx.people.organisation_ids_of(
            p for h in hooks for p in h.involved if p not in organisation_of
        )
    )
    announcements = []
    for hook in hooks:
        by_organisation: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
        for professional_id in hook.involved:
            if professional_id in organisation_of:
                by_organisation[organisation_of[professional_id]].append(professional_id)
        announcements += [
            Announcement(
                organisation_id,
                hook.event_type,
                {**hook.data, "professionalIds": sorted(professionals)},
            )
            for organisation_id, professionals in by_organisation.items()
        ]
    return announcements


def _webhook_calls(
    tx: Transaction, announcements: list[Announcement], now: datetime
) -> list[Outgoing]:
    if not announcements:
        return []
    subscribers = defaultdict(list)
    for subscriber in tx.webhooks.subscribers({a.organisation_id for a in announcements}):
        subscribers[subscriber.organisation_id].append(subscriber)
    return [
        Outgoing(
            WEBHOOK,
            announcement.type,
            _json(
                {"type": announcement.type, "timestamp": _rfc3339(now), "data": announcement.data}
            ),
            subscription_id=subscriber.subscription_id,
        )
        for announcement in announcements
        for subscriber in subscribers[announcement.organisation_id]
        if announcement.type in subscriber.events
    ]


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _json(value: object) -> str:
    return json.dumps(value, default=str, separators=(",", ":"), sort_keys=True)
