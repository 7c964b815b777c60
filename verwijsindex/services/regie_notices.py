"""Who of the regievoerders hears of what (Jeugdwet 7.1.2.3 c-e and g), for
`services.notifications`.

- a match created or grown (the notices its participants get): every regievoerder whose
  scope covers it, that is, one of whose gemeenten any of its signals names, or one with
  none assigned (the whole index);
- a child's move (`SignalMoved`): the regievoerders of the new gemeente (and those of the
  whole index).

The regievoerders are read in one statement, and only when there is something to tell:
a registration forming no match and moving nobody costs nothing. Mails only, ids only:
the regievoerder's organisation is not involved, so no webhook or change-feed entry.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from verwijsindex.events import Event, MatchChanged, SignalMoved
from verwijsindex.notify.mails import MailKind
from verwijsindex.repository import SignalOwner
from verwijsindex.services.unit_of_work import Transaction

Mail = tuple[MailKind, uuid.UUID, dict[str, str]]


def _told_of_match(event: MatchChanged, owners: Mapping[uuid.UUID, SignalOwner]) -> bool:
    """Created, or grown by a new participant: what participants are mailed about too."""
    if not event.after:
        return False
    if not event.before:
        return True
    was = {owners[s].professional_id for s in event.before if s in owners}
    return any(owners[s].professional_id not in was for s in event.after if s in owners)


def regie_mails(
    tx: Transaction, events: Sequence[Event], owners: Mapping[uuid.UUID, SignalOwner]
) -> list[Mail]:
    wanted: list[tuple[MailKind, set[str | None], dict[str, str]]] = []
    for event in events:
        if isinstance(event, MatchChanged) and _told_of_match(event, owners):
            places = {owners[s].gemeente for s in event.after if s in owners}
            wanted.append((MailKind.REGIE_MATCH, places, {"matchId": str(event.match_id)}))
        elif isinstance(event, SignalMoved):
            wanted.append(
                (MailKind.REGIE_MOVE, {event.gemeente}, {"signalId": str(event.signal_id)})
            )
    if not wanted:
        return []
    regievoerders = tx.regie.regievoerders()
    return [
        (kind, r.professional_id, payload)
        for kind, places, payload in wanted
        for r in regievoerders
        if r.covers(places)
    ]
