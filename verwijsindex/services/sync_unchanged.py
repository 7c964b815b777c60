"""Passing unchanged items by: why a second identical `PUT /sync/signals` costs a small
part of the first (issue 12, performance: under 10 %).

A nightly sync mostly restates what the index already holds. Validating, pseudonymising,
sealing and queueing every item again, for the worker to find each one `unchanged`, made an
identical second sync cost over a third of the first. So each item gets a **fingerprint**:
a keyed hash (HMAC, key in `keys/`; `KeyRing.lookup`) of its complete content as the
client sent it (client, `externalRef`, `professionalId`, `bsn`, `birthDate`, sorted
`parentBsns`, the whole informatieplicht with its postponement). Keyed, because the content
holds BSNs: an unkeyed hash of it could be recomputed from them (contract 2.1). The bulk
engine keeps the fingerprint of the item it last applied on the signal
(`signals.feed_fingerprint`), and `PUT` compares: an item whose fingerprint equals the one
its reference's active signal carries is `unchanged` without further work.

When that equality is enough, and when it is not: the worker would find such an item
`unchanged` if nothing has moved since the signal took its fingerprint, which holds because

- only an **active** signal of this client is compared: one closed, archived, erased or
  expired since is not there, and the item takes the full path (recreated, as before);
- changing a signal by hand (`PATCH` of its informatieplicht) clears its fingerprint, so the
  next sync puts the source's state back, as before; and the signal's professional and
  informatieplicht are compared with the item's too, so a hand that changed them without
  clearing it (a transfer to a colleague) is noticed all the same;
- what makes an item valid may change with time or elsewhere although the item did not: the
  child's age (12, 16, 23), a review date that has passed, the professional deactivated. Those
  rules are checked again here (cheap: no elfproef, no pseudonym, no database); an item that
  fails them takes the full path and ends in the report's errors, as before;
- an item repeating another item's professional and child takes the full path, with the
  other, so the engine skips the repeat as before;
- the client's runs stay in order: nothing is passed by while an earlier run of the client
  is queued or running (it may be about to change what the comparison saw), and the run is
  stored only if no other run of the client was accepted since the comparison
  (`Passed.latest_run`, checked under the client's lock); otherwise the body takes the full
  path.

What the run then holds: the changed items as before; the unchanged ones only as their
reference digests (so closing the absent signals still passes them by), or nothing at all
when nothing is pending and no signal of the client is absent from the body: then the run
is recorded `done` at once, with its report, and no worker is needed.

The comparison reads the client's active signals' (reference digest, fingerprint) pairs and
looks each item's fingerprint up among them: the fingerprint covers the client and the
reference, so an equal one names the same reference, and an item passed by needs no second
keyed hash for its reference digest: it is the one read.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from verwijsindex import domain
from verwijsindex.domain import Informatieplicht
from verwijsindex.repository.sync_runs import FedSignal
from verwijsindex.services.bulk import Feed, Roster
from verwijsindex.services.core import Core

if TYPE_CHECKING:
    from verwijsindex.services.sync import SyncItem

# Part of the keyed hash's input, so a fingerprint never equals another lookup's digest.
PURPOSE = "sync-item"


def fingerprint(core: Core, feed: Feed, item: SyncItem) -> str | None:
    """The item's keyed fingerprint; None for an item with a problem of its own (it is
    reported, never passed by). It covers every field of `SyncItem` (a unit test holds a
    new field to that): a field left out would let a change to it pass as unchanged."""
    return fingerprints(core, feed, [item])[0]


def fingerprints(core: Core, feed: Feed, items: Sequence[SyncItem]) -> list[str | None]:
    """`fingerprint` of each item."""
    client, lookup = str(feed.client_id), core.keys.lookup
    return [
        lookup(PURPOSE, content) if (content := _content(client, item)) is not None else None
        for item in items
    ]


def _content(client: str, item: SyncItem) -> str | None:
    duty = item.informatieplicht
    if (
        item.problems
        or item.professional_id is None
        or item.bsn is None
        or item.birth_date is None
        or item.parent_bsns is None
        or duty is None
    ):
        return None
    postponement = duty.postponement
    # repr of a tuple of strings, booleans and None: unambiguous (strings quoted and escaped)
    # and a quarter of the cost of json.dumps, which counts at 10,000 items. Should it ever
    # read differently, every item merely takes the full path once and is fingerprinted anew.
    return repr(
        (
            client,
            item.external_ref,
            str(item.professional_id),
            item.bsn,
            item.birth_date.isoformat(),
            tuple(sorted(item.parent_bsns)),
            duty.child_informed,
            duty.parents_informed,
            (
                postponement.reason.value,
                postponement.justification,
                postponement.review_on.isoformat(),
            )
            if postponement
            else None,
        )
    )


@dataclass(frozen=True, slots=True)
class Passed:
    """Which items of a body are passed by as unchanged, and what that decision rests on."""

    # Position in the body → the reference digest of its signal, as read with the
    # fingerprint (which covers the reference: equal fingerprints, equal references), so
    # no item passed by needs its reference digested.
    refs: Mapping[int, str]
    # The reference digests of every active signal of the client, when compared.
    active: frozenset[str] = frozenset()
    # The number of the client's latest run when the signals were compared; None when
    # nothing was compared (an earlier run is still open): there is nothing to check.
    latest_run: int | None = None

    @property
    def compared(self) -> bool:
        return self.latest_run is not None

    def absent(self, digests: Iterable[str]) -> int:
        """How many of the client's active signals a body with these references leaves
        out (to be closed)."""
        return len(self.active.difference(digests))


NOTHING = Passed({})


def pass_by(
    core: Core,
    client_id: uuid.UUID,
    staff: Roster,
    items: Sequence[SyncItem],
    prints: Sequence[str | None],
) -> Passed:
    """Compare the items with the client's active signals (one statement) and say which
    are unchanged; see the module's doc for every condition."""
    with core.transaction(write=False) as tx:
        latest_run, open_runs = tx.sync_runs.queue_state(client_id)
        if open_runs:
            return NOTHING
        stored = tx.sync_runs.feed_signals(client_id)
    by_print = {s.fingerprint: s for s in stored if s.fingerprint is not None}
    valid = _Validity(domain.local_date(core.now()))
    refs = {
        index: signal.external_ref
        for index, (item, mark) in enumerate(zip(items, prints, strict=True))
        if mark is not None
        and (signal := by_print.get(mark)) is not None
        and _as_stated(signal, item)
        and item.professional_id in staff.ids
        and valid(item)
    }
    # An item repeating another's professional and child goes to the engine with it, which
    # skips the repeat. Two items passed by never repeat each other (each has its own active
    # signal, and one professional has one on a child), so only the others need looking at:
    # usually none or a few, so they are indexed by child, and each item passed by costs a
    # string lookup.
    others: dict[str, set[uuid.UUID | None]] = {}
    for index, item in enumerate(items):
        if index not in refs and item.bsn is not None and not item.problems:
            others.setdefault(item.bsn.strip(), set()).add(item.professional_id)
    if others:
        refs = {index: ref for index, ref in refs.items() if not _repeats(items[index], others)}
    return Passed(refs, frozenset(s.external_ref for s in stored), latest_run)


def _repeats(item: SyncItem, others: dict[str, set[uuid.UUID | None]]) -> bool:
    """Whether another item names the same professional and child (as the engine tells
    repeats apart: the BSN stripped, which the pseudonym is made of)."""
    professionals = others.get((item.bsn or "").strip())
    return professionals is not None and item.professional_id in professionals


def _as_stated(signal: FedSignal, item: SyncItem) -> bool:
    """Whether the signal still has the professional and informatieplicht the item states:
    a hand that changed them without clearing the fingerprint (a transfer to a colleague, a
    future tool) must not make the item look unchanged. The rest (child, parents, birth
    date, justification) no hand changes; comparing it would cost a pseudonym or a
    decryption per item."""
    duty = item.informatieplicht
    if duty is None:
        return False
    postponement = duty.postponement
    return (
        signal.professional_id == item.professional_id
        and signal.child_informed == duty.child_informed
        and signal.parents_informed == duty.parents_informed
        and signal.postponement_reason == (postponement.reason.value if postponement else None)
        and signal.review_on == (postponement.review_on if postponement else None)
    )


class _Validity:
    """The rules that may fail today for an item that passed them when it was applied: its
    child's age and its postponement's review date. The rest of `POST /signals`'s rules
    (elfproef, parents) depend on the content alone, which has not changed. They depend only
    on the birth date and the informatieplicht, which many items share: asked once each."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.known: dict[tuple[date | None, Informatieplicht | None], bool] = {}

    def __call__(self, item: SyncItem) -> bool:
        key = (item.birth_date, item.informatieplicht)
        found = self.known.get(key)
        if found is None:
            found = self.known[key] = not domain.new_signal_problems(
                child=None,
                birth_date=item.birth_date,
                parents=None,
                informatieplicht=item.informatieplicht,
                today=self.today,
            )
        return found
