"""RFC 9497 OPRF, mode 0 (base), suite ristretto255-SHA512, from libsodium's ristretto255
group (bundled by `rbcl`), checked against the RFC's test vectors in
`tests/unit/test_oprf.py`.

Why an OPRF: the federation needs one pseudonym per BSN that every region derives alike,
that the hub stores, and that nobody can compute by trying all ~10⁸ BSNs without a secret
the hub does not hold. The key holder holds that secret (the scalar `k`); a region blinds
the BSN (`Blind`), the key holder multiplies by `k` without seeing it (`BlindEvaluate`),
the region removes the blind. See docs/federation.md.

Our pseudonym is the unblinded *element* `k·H(bsn)`, not RFC 9497's `Finalize` hash of it:
an element can be re-keyed by a scalar (`rekey`, `k'·k⁻¹`), so a key rotation moves every
stored pseudonym to the new key without any BSN being entered again. `finalize` is here for
the test vectors, which prove the parts we do use.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import rbcl

IDENTIFIER = b"ristretto255-SHA512"
MODE_OPRF = 0
CONTEXT = b"OPRFV1-" + bytes([MODE_OPRF]) + b"-" + IDENTIFIER
ELEMENT_BYTES = 32
SCALAR_BYTES = 32
# The group order of ristretto255 (RFC 9496).
ORDER = 2**252 + 27742317777372353535851937790883648493


class OprfError(ValueError):
    """An input the protocol refuses (identity element, invalid encoding, zero scalar)."""


def expand_message_xmd(message: bytes, dst: bytes, length: int) -> bytes:
    """RFC 9380 section 5.3.1 with SHA-512 (b_in_bytes 64, s_in_bytes 128)."""
    if len(dst) > 255:
        raise OprfError("DST longer than 255 bytes")
    ell = -(-length // 64)
    if ell > 255 or length > 65535:
        raise OprfError("requested length too large")
    dst_prime = dst + bytes([len(dst)])
    message_prime = bytes(128) + message + length.to_bytes(2, "big") + b"\x00" + dst_prime
    b0 = hashlib.sha512(message_prime).digest()
    blocks = [hashlib.sha512(b0 + b"\x01" + dst_prime).digest()]
    for i in range(2, ell + 1):
        mixed = bytes(x ^ y for x, y in zip(b0, blocks[-1], strict=True))
        blocks.append(hashlib.sha512(mixed + bytes([i]) + dst_prime).digest())
    return b"".join(blocks)[:length]


def hash_to_group(message: bytes) -> bytes:
    """HashToGroup: hash_to_ristretto255 (RFC 9380 / 9496 one-way map) of 64 uniform bytes."""
    uniform = expand_message_xmd(message, b"HashToGroup-" + CONTEXT, 64)
    return bytes(rbcl.crypto_core_ristretto255_from_hash(uniform))


def hash_to_scalar(message: bytes, dst: bytes | None = None) -> bytes:
    uniform = expand_message_xmd(message, dst or b"HashToScalar-" + CONTEXT, 64)
    return bytes(rbcl.crypto_core_ristretto255_scalar_reduce(uniform))


def _scalar_is_zero(scalar: bytes) -> bool:
    return int.from_bytes(scalar, "little") % ORDER == 0


def _check_element(element: bytes) -> None:
    if len(element) != ELEMENT_BYTES or not rbcl.crypto_core_ristretto255_is_valid_point(element):
        raise OprfError("not a valid ristretto255 element")
    if element == bytes(ELEMENT_BYTES):
        raise OprfError("the identity element is refused")


def _multiply(scalar: bytes, element: bytes) -> bytes:
    _check_element(element)
    if _scalar_is_zero(scalar):
        raise OprfError("zero scalar")
    return bytes(rbcl.crypto_scalarmult_ristretto255(scalar, element))


def derive_key(seed: bytes, info: bytes) -> bytes:
    """DeriveKeyPair (section 3.2.1): the private scalar from a 32-byte seed and info."""
    derive_input = seed + len(info).to_bytes(2, "big") + info
    for counter in range(256):
        scalar = hash_to_scalar(derive_input + bytes([counter]), b"DeriveKeyPair" + CONTEXT)
        if not _scalar_is_zero(scalar):
            return scalar
    raise OprfError("DeriveKeyPairError")


def random_key() -> bytes:
    """A fresh private scalar for a new key version."""
    return derive_key(secrets.token_bytes(32), b"verwijsindex federation key")


@dataclass(frozen=True, slots=True)
class Blinded:
    """The blind (kept by the region until the answer comes) and what is sent."""

    blind: bytes
    blinded_element: bytes


def blind(message: bytes, blind_scalar: bytes | None = None) -> Blinded:
    """Blind (section 3.3.1). `blind_scalar` only for the test vectors."""
    scalar = blind_scalar or bytes(rbcl.crypto_core_ristretto255_scalar_random())
    element = hash_to_group(message)
    if element == bytes(ELEMENT_BYTES):
        raise OprfError("InvalidInputError")
    return Blinded(scalar, _multiply(scalar, element))


def blind_evaluate(key: bytes, blinded_element: bytes) -> bytes:
    """BlindEvaluate: what the key holder computes; it never sees the message."""
    return _multiply(key, blinded_element)


def unblind(blind_scalar: bytes, evaluated_element: bytes) -> bytes:
    """The unblinded element `k·H(message)`: our federation pseudonym."""
    inverse = bytes(rbcl.crypto_core_ristretto255_scalar_invert(blind_scalar))
    return _multiply(inverse, evaluated_element)


def finalize(message: bytes, blind_scalar: bytes, evaluated_element: bytes) -> bytes:
    """Finalize (section 3.3.1): RFC 9497's output, used by the test vectors only."""
    unblinded = unblind(blind_scalar, evaluated_element)
    hash_input = (
        len(message).to_bytes(2, "big")
        + message
        + len(unblinded).to_bytes(2, "big")
        + unblinded
        + b"Finalize"
    )
    return hashlib.sha512(hash_input).digest()


def rekey_factor(old_key: bytes, new_key: bytes) -> bytes:
    """`new · old⁻¹`: multiplying a pseudonym under `old_key` by it gives the pseudonym
    under `new_key`. It reveals neither key (a ratio of two unknown scalars)."""
    inverse = bytes(rbcl.crypto_core_ristretto255_scalar_invert(old_key))
    return bytes(rbcl.crypto_core_ristretto255_scalar_mul(new_key, inverse))


def rekey(factor: bytes, element: bytes) -> bytes:
    return _multiply(factor, element)
