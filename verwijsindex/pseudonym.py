"""The only code that looks inside a BSN: the elfproef and the keyed pseudonym.

A pseudonym is `HMAC-SHA256(key, "bsn:" + digits)`, written as `<key id>:<base64url digest>`
so that every stored pseudonym names the key that made it (for a later key rotation). The
key lives in `keys/` and never in the database, so a copy of the database alone cannot be
turned back into BSNs by hashing the 10^9 candidates; an unkeyed hash could.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from stdnum.nl import bsn as stdnum_bsn

from verwijsindex.domain import Bsn

_NINE_DIGITS = re.compile(r"[0-9]{9}")
_DOMAIN_SEPARATOR = b"bsn:"


def parse_bsn(raw: str) -> Bsn | None:
    """A `Bsn` for exactly nine digits passing the elfproef, else None.

    Formatting characters that python-stdnum would tolerate (dots, spaces) are refused:
    integrators send the canonical form and a lenient parser hides their bugs.
    """
    if not _NINE_DIGITS.fullmatch(raw) or not stdnum_bsn.is_valid(raw):
        return None
    return Bsn(raw)


class Pseudonymiser:
    """Keyed pseudonyms for BSNs; one instance per key."""

    __slots__ = ("_key", "key_id")

    def __init__(self, key_id: str, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("a pseudonym key must have at least 256 bits")
        self.key_id = key_id
        self._key = key

    def pseudonymise(self, bsn: Bsn) -> str:
        digest = hmac.new(
            self._key, _DOMAIN_SEPARATOR + bsn.reveal().encode("ascii"), hashlib.sha256
        ).digest()
        return f"{self.key_id}:{base64.urlsafe_b64encode(digest).rstrip(b'=').decode('ascii')}"

    def fingerprint(self, data: bytes) -> str:
        """A keyed digest of a request body that may contain BSNs (for idempotency keys).

        An unkeyed hash of such a body would be an unkeyed hash of its BSNs.
        """
        return hmac.new(self._key, b"request:" + data, hashlib.sha256).hexdigest()

    def idempotency_key(self, key: str) -> str:
        """A keyed digest of an `Idempotency-Key` header, the only form in which it is stored.

        Integrators often derive the key from a BSN or pupil number; stored in clear, or
        as an unkeyed hash (10^9 candidates), it would be that number.
        """
        return hmac.new(self._key, b"idempotency-key:" + key.encode(), hashlib.sha256).hexdigest()


def federation_input(bsn: Bsn) -> bytes:
    """The OPRF input of a BSN for federation (docs/federation.md, "Pseudonyms"): its nine
    digits, which the region blinds at once (`federation/staged.py`) and never stores. Here,
    so that this module stays the only code that looks inside a BSN."""
    return bsn.reveal().encode("ascii")


def lock_id(pseudonym: str) -> int:
    """A signed 64-bit number for a PostgreSQL advisory lock on one person.

    The pseudonym is already a keyed digest, so its bytes are uniformly spread; no BSN is
    involved here.
    """
    digest = hashlib.sha256(pseudonym.encode("ascii")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
