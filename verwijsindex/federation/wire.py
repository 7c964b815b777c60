"""Decoding what arrives on the wire at the hub and the key holder: group elements in
base64url, bounded lists. Everything refused here is a 400 (`FederationProblem`)."""

from __future__ import annotations

import re

import rbcl

from verwijsindex.federation import oprf
from verwijsindex.federation.identity import b64url, from_b64url
from verwijsindex.federation.problems import invalid

# 32 bytes in base64url without padding: 43 characters, the last one carrying 4 bits.
_ELEMENT_TEXT = re.compile(r"^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$")
_IDENTITY = bytes(oprf.ELEMENT_BYTES)


def decode_element(value: object, name: str) -> bytes:
    """A canonical, non-identity ristretto255 element, or a 400 naming the field (never
    quoting the value)."""
    if not isinstance(value, str) or not _ELEMENT_TEXT.match(value):
        raise invalid(f"{name} must be a group element in base64url (43 characters)")
    raw = from_b64url(value)
    if b64url(raw) != value or not rbcl.crypto_core_ristretto255_is_valid_point(raw):
        raise invalid(f"{name} is not a canonical ristretto255 element")
    if raw == _IDENTITY:
        raise invalid(f"{name} is the identity element")
    return raw


def check_element(value: object, name: str) -> str:
    """As `decode_element`, returning the (canonical) text itself: pseudonyms are stored
    and compared as text."""
    decode_element(value, name)
    assert isinstance(value, str)
    return value


def bounded_list(value: object, name: str, low: int, high: int) -> list[object]:
    if not isinstance(value, list):
        raise invalid(f"{name} must be a list")
    if not low <= len(value) <= high:
        raise invalid(f"{name} must hold {low} to {high} items")
    return value
