"""Mirrored signals as the federation worker writes them (docs/federation.md, "What a region
does", point 2), for tests of how they show and where they are left out.

The agreed row shape: a proxy organisation (`organisations.region` set), a proxy
professional in it (contact data sealed as the services seal it; no password, no e-mail
lookup, no roles: nobody logs in as them), and a signal with `feed = 'fed'` on a local
pseudonym with its `federated_signals` row. Then the existing matching runs, in the same
transaction, so the match forms (or grows) as it does for a registration, with the usual
events staged at commit.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from verwijsindex.matching import family_of, refresh_matches_around
from verwijsindex.models import (
    FederatedSignalRow,
    OrganisationRow,
    ProfessionalRow,
    SignalParentRow,
    SignalRow,
)
from verwijsindex.pseudonym import parse_bsn
from verwijsindex.services import Core

FEDERATED_FEED = "fed"


@dataclass(frozen=True, slots=True)
class Mirrored:
    """What `mirror_signal` wrote."""

    organisation_id: uuid.UUID
    professional_id: uuid.UUID
    signal_id: uuid.UUID
    child: str  # the local pseudonym
    match_ids: tuple[uuid.UUID, ...]


def pseudonym_of(core: Core, bsn: str) -> str:
    """The local pseudonym of a BSN (what the worker finds through `federation_pseudonyms`)."""
    parsed = parse_bsn(bsn)
    assert parsed is not None, bsn
    return core.pseudonymiser.pseudonymise(parsed)


def remote_child_of(child: str) -> str:
    """A stand-in federation pseudonym: 43 characters of base64url, as the element is."""
    digest = hashlib.sha256(b"remote:" + child.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def mirror_signal(
    core: Core,
    bsn: str,
    *,
    region: str = "regio-b",
    organisation: str = "Jeugdteam Regio B",
    sector: str = "jeugdhulp",
    name: str = "Rob Remote",
    email: str = "rob.remote@regio-b.example.org",
    phone: str = "+31 6 9876 5432",
    status: str = "active",
    parents: tuple[str, ...] = (),
    birth_date: date = date(2015, 3, 14),
    remote_ref: str | None = None,
    organisation_id: uuid.UUID | None = None,
) -> Mirrored:
    """Mirror one signal of `region` on the child with this BSN, then match as usual.

    `organisation_id` reuses a proxy organisation made before (a second professional of
    the same remote organisation)."""
    child = pseudonym_of(core, bsn)
    parent_pseudonyms = frozenset(pseudonym_of(core, p) for p in parents)
    cipher = core.keys.cipher
    with core.transaction(write=True) as tx:
        now = tx.now
        session = tx.uow.session
        if organisation_id is None:
            organisation_id = uuid.uuid4()
            session.add(
                OrganisationRow(
                    id=organisation_id,
                    name=organisation,
                    sector=sector,
                    created_at=now,
                    region=region,
                )
            )
            session.flush()
        professional_id = uuid.uuid4()

        def seal(column: str, value: str) -> bytes:
            return cipher.encrypt(value, f"professionals:{professional_id}:{column}")

        session.add(
            ProfessionalRow(
                id=professional_id,
                organisation_id=organisation_id,
                name_enc=seal("name", name),
                email_enc=seal("email", email),
                phone_enc=seal("phone", phone),
                email_lookup=None,
                roles="",
                password_hash=None,
                totp_secret_enc=None,
                active=True,
                created_at=now,
            )
        )
        session.flush()
        tx.matches.lock_persons([child, *parent_pseudonyms])
        signal_id = uuid.uuid4()
        archived = status == "archived"
        session.add(
            SignalRow(
                id=signal_id,
                professional_id=professional_id,
                child_pseudonym=child,
                status=status,
                created_at=now,
                active_until=now + timedelta(days=700),
                archived_at=now if archived else None,
                archived_until=now + timedelta(days=1800),
                child_birth_date=birth_date,
                child_informed=True,
                parents_informed=True,
                feed=FEDERATED_FEED,
            )
        )
        session.flush()
        session.add_all(
            [SignalParentRow(signal_id=signal_id, parent_pseudonym=p) for p in parent_pseudonyms]
        )
        session.add(
            FederatedSignalRow(
                signal_id=signal_id,
                region=region,
                remote_child=remote_child_of(child),
                remote_ref=remote_ref or uuid.uuid4().hex,
            )
        )
        session.flush()
        match_ids: tuple[uuid.UUID, ...] = ()
        if not archived:
            family = family_of(tx.matches, child, parent_pseudonyms)
            refs = refresh_matches_around(
                tx.matches, signal_id, child, parent_pseudonyms, family=family
            )
            tx.owners.update(tx.matches.owners_seen())
            match_ids = tuple(m.id for m in refs)
        tx.commit()
    return Mirrored(organisation_id, professional_id, signal_id, child, match_ids)
