"""Blinding on the request path (docs/federation.md, "Pseudonyms" and "What a region does" 1).

Where a BSN becomes a local pseudonym for a signal, a federating region also blinds it:
`B = r·H(bsn)` with a fresh scalar `r`, local and about 0.06 ms, no network. The blinded
element and the blind wait in `federation_pseudonyms` until the worker has the key holder
evaluate them. Together they give `H(bsn)`, an unkeyed hash of the BSN, so the blind is
sealed with the field key as contact data is, bound to its row, and both are cleared once
the federation pseudonym is known.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from verwijsindex.crypto import FieldCipher
from verwijsindex.domain import Bsn
from verwijsindex.federation import oprf
from verwijsindex.federation.identity import b64url
from verwijsindex.pseudonym import federation_input

TABLE = "federation_pseudonyms"


@dataclass(frozen=True, slots=True)
class StagedPseudonym:
    """A local pseudonym with its blinded element (b64url) and its sealed blind."""

    local: str
    blinded: str
    blind_enc: bytes


def blind_context(local: str) -> str:
    """The associated data of a sealed blind: its table, row and column."""
    return f"{TABLE}:{local}:blind"


def stage(cipher: FieldCipher, people: Iterable[tuple[str, Bsn]]) -> tuple[StagedPseudonym, ...]:
    """Blind each (local pseudonym, BSN) once; the BSN is used for nothing else."""
    staged: dict[str, StagedPseudonym] = {}
    for local, bsn in people:
        if local in staged:
            continue
        blinded = oprf.blind(federation_input(bsn))
        staged[local] = StagedPseudonym(
            local,
            b64url(blinded.blinded_element),
            cipher.encrypt(b64url(blinded.blind), blind_context(local)),
        )
    return tuple(staged.values())


def open_blind(cipher: FieldCipher, local: str, blind_enc: bytes) -> bytes:
    """The blind scalar of a staged pseudonym, for unblinding the key holder's answer."""
    from verwijsindex.federation.identity import from_b64url

    return from_b64url(cipher.decrypt(blind_enc, blind_context(local)))
