"""What a source system states, item by item: validated like `POST /signals` and
pseudonymised before anything is stored (`desired_signal`), for the bulk engine
(`services.bulk`). From here on no BSN exists, only keyed pseudonyms and keyed digests.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from verwijsindex import domain
from verwijsindex.domain import Bsn, Informatieplicht, InvalidInput, Problem
from verwijsindex.federation.staged import StagedPseudonym
from verwijsindex.pseudonym import parse_bsn
from verwijsindex.repository.bulk import BulkRepository

if TYPE_CHECKING:
    from verwijsindex.services.core import Core

MAX_EXTERNAL_REF_LENGTH = 100

IMPORT = "import"
SYNC = "sync"


@dataclass(frozen=True, slots=True)
class Feed:
    """Who keeps this desired state: an organisation's CSV imports, or one system client's sync."""

    organisation_id: uuid.UUID
    client_id: uuid.UUID | None = None  # None: CSV import; else the sync's system client

    @property
    def kind(self) -> str:
        """The value of `signals.feed` for this feed's signals."""
        return IMPORT if self.client_id is None else SYNC

    @property
    def professional_field(self) -> str:
        """How the input names an item's professional: a CSV column or a JSON field."""
        return "professional" if self.client_id is None else "professionalId"


@dataclass(frozen=True, slots=True)
class DesiredSignal:
    """One validated, pseudonymised item: no BSN left, only keyed pseudonyms."""

    position: int  # CSV line number, or 0-based index in the sync body
    professional_id: uuid.UUID
    child: str  # keyed pseudonym, never a BSN
    parents: frozenset[str]  # keyed pseudonyms
    birth_date: date
    informatieplicht: Informatieplicht
    external_ref: str | None = None  # keyed digest from external_ref_digest()
    registered_on: date | None = None  # --migration only
    fingerprint: str | None = None  # sync only: the keyed fingerprint of the item as sent
    # Federation on: the child and parents blinded for the key holder (no BSN, sealed).
    staged: tuple[StagedPseudonym, ...] = ()


# --- validation and pseudonymisation, before any transaction -------------------------------


def desired_signal(
    core: Core,
    *,
    position: int,
    professional_id: uuid.UUID,
    bsn: str | None,
    birth_date: date | None,
    parent_bsns: Sequence[str],
    informatieplicht: Informatieplicht | None,
    external_ref: str | None,
    feed: Feed,
    registered_on: date | None = None,
    migration: bool = False,
) -> DesiredSignal:
    """Validate one item exactly like `POST /signals` and pseudonymise it.

    The rules are the domain's (`domain.new_signal_problems`), BSNs are parsed with the
    elfproef by `pseudonym.parse_bsn`, and `registered_on` is allowed only with `migration`,
    not in the future, not over two years ago, not before the birth date. `bsn`,
    `birth_date` and `informatieplicht` may be None when the caller found that field
    missing or malformed (and has its own problem for it), so every problem is reported at
    once. `external_ref` is the source's own reference, as received: it is digested here
    (`external_ref_digest`) and only the digest is kept.

    Whether the professional belongs to the organisation is checked by `apply_batch` (or
    earlier by the caller, with a `Roster`). Raises `InvalidInput` listing every problem;
    no reason ever echoes a BSN.
    """
    today = domain.local_date(core.now())
    problems: list[Problem] = []
    child: Bsn | None = None
    if bsn is None or not bsn.strip():
        problems.append(Problem("bsn", "A BSN is required."))
    else:
        child = parse_bsn(bsn.strip())
        if child is None:
            problems.append(Problem("bsn", "Not a valid BSN (nine digits passing the elfproef)."))
    parents: list[Bsn] = []
    for index, raw in enumerate(parent_bsns):
        parent = parse_bsn(raw.strip())
        if parent is None:
            problems.append(
                Problem(
                    f"parentBsns[{index}]", "Not a valid BSN (nine digits passing the elfproef)."
                )
            )
        else:
            parents.append(parent)
    if birth_date is None:
        problems.append(Problem("birthDate", "A birth date is required."))
    if informatieplicht is None:
        problems.append(Problem("informatieplicht", "The informatieplicht is required."))
    problems += domain.new_signal_problems(
        child=child,
        birth_date=birth_date,
        parents=parents if len(parents) == len(parent_bsns) else None,
        informatieplicht=informatieplicht,
        today=today,
    )
    problems += _registered_on_problems(registered_on, birth_date, today, migration)
    if external_ref is not None and not 1 <= len(external_ref) <= MAX_EXTERNAL_REF_LENGTH:
        problems.append(
            Problem("externalRef", f"Between 1 and {MAX_EXTERNAL_REF_LENGTH} characters.")
        )
    if problems or child is None or birth_date is None or informatieplicht is None:
        raise InvalidInput(problems)
    pseudonymise = core.pseudonymiser.pseudonymise
    people = [(pseudonymise(p), p) for p in (child, *parents)]
    return DesiredSignal(
        position=position,
        professional_id=professional_id,
        child=people[0][0],
        parents=frozenset(pseudonym for pseudonym, _ in people[1:]),
        birth_date=birth_date,
        informatieplicht=informatieplicht,
        external_ref=external_ref_digest(core, feed, external_ref) if external_ref else None,
        registered_on=registered_on,
        staged=core.federation_blinds(people),
    )


def _registered_on_problems(
    registered_on: date | None, birth_date: date | None, today: date, migration: bool
) -> list[Problem]:
    if registered_on is None:
        return []
    if not migration:
        return [Problem("registeredOn", "Only a migration keeps an original registration date.")]
    if registered_on > today:
        return [Problem("registeredOn", "The registration date lies in the future.")]
    if registered_on < domain.add_years(today, -domain.ACTIVE_YEARS):
        return [
            Problem(
                "registeredOn",
                f"The registration date lies over {domain.ACTIVE_YEARS} years ago: "
                "such a signal is no longer active.",
            )
        ]
    if birth_date is not None and registered_on < birth_date:
        return [Problem("registeredOn", "The registration date lies before the birth date.")]
    return []


def external_ref_digest(core: Core, feed: Feed, external_ref: str) -> str:
    """The only form in which a source's own reference is stored: a keyed hash (the key in
    `keys/`), scoped by the system client (sync) or the organisation (import), so that the
    same pupil number from two sources never names the same signal. The reference may be a
    pupil number or a BSN: stored in clear, or hashed without a key, it would be that number.
    """
    scope = f"client:{feed.client_id}" if feed.client_id else f"organisation:{feed.organisation_id}"
    return core.keys.lookup("external-ref", f"{scope}:{external_ref}")


# --- the organisation's professionals ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Roster:
    """An organisation's active professionals (role `professional`), for resolving the CSV's
    `professional` column: by id, or by e-mail address through the keyed `email_lookup`
    (addresses are stored encrypted)."""

    ids: frozenset[uuid.UUID]
    by_email_lookup: dict[str, uuid.UUID]
    lookup: Callable[[str], str]

    def find(self, id_or_email: str) -> uuid.UUID | None:
        """The professional named by id or e-mail address; None if not an active
        professional of this organisation."""
        text = id_or_email.strip()
        try:
            wanted = uuid.UUID(text)
        except ValueError:
            return self.by_email_lookup.get(self.lookup(text))
        return wanted if wanted in self.ids else None

    def __contains__(self, professional_id: object) -> bool:
        return professional_id in self.ids


def roster(core: Core, organisation_id: uuid.UUID) -> Roster:
    """One query: the organisation's active professionals who may register signals."""
    with core.transaction(write=False) as tx:
        found = BulkRepository(tx.uow.session, tx.keys).professionals_of(organisation_id)
    return Roster(
        ids=frozenset(found),
        by_email_lookup={lookup: pid for pid, lookup in found.items() if lookup},
        lookup=lambda email: core.keys.lookup("email", email.strip().lower()),
    )
