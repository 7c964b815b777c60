"""RFC 9497 appendix A.1.1 (OPRF(ristretto255, SHA-512), mode 0) test vectors, and the
re-keying the federation's key rotation relies on."""

from __future__ import annotations

import pytest

from verwijsindex.federation import oprf

SEED = bytes.fromhex("a3" * 32)
KEY_INFO = bytes.fromhex("74657374206b6579")
SK = "5ebcea5ee37023ccb9fc2d2019f9d7737be85591ae8652ffa9ef0f4d37063b0e"
BLIND = bytes.fromhex("64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706")

VECTORS = [
    (
        "00",
        "609a0ae68c15a3cf6903766461307e5c8bb2f95e7e6550e1ffa2dc99e412803c",
        "7ec6578ae5120958eb2db1745758ff379e77cb64fe77b0b2d8cc917ea0869c7e",
        "527759c3d9366f277d8c6020418d96bb393ba2afb20ff90df23fb7708264e2f3"
        "ab9135e3bd69955851de4b1f9fe8a0973396719b7912ba9ee8aa7d0b5e24bcf6",
    ),
    (
        "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",
        "da27ef466870f5f15296299850aa088629945a17d1f5b7f5ff043f76b3c06418",
        "b4cbf5a4f1eeda5a63ce7b77c7d23f461db3fcab0dd28e4e17cecb5c90d02c25",
        "f4a74c9c592497375e796aa837e907b1a045d34306a749db9f34221f7e750cb4"
        "f2a6413a6bf6fa5e19ba6348eb673934a722a7ede2e7621306d18951e7cf2c73",
    ),
]


def test_derive_key_pair_gives_the_rfc_key() -> None:
    assert oprf.derive_key(SEED, KEY_INFO).hex() == SK


@pytest.mark.parametrize(("message", "blinded", "evaluated", "output"), VECTORS)
def test_the_rfc_vectors(message: str, blinded: str, evaluated: str, output: str) -> None:
    key = oprf.derive_key(SEED, KEY_INFO)
    sent = oprf.blind(bytes.fromhex(message), BLIND)
    assert sent.blinded_element.hex() == blinded
    answer = oprf.blind_evaluate(key, sent.blinded_element)
    assert answer.hex() == evaluated
    assert oprf.finalize(bytes.fromhex(message), BLIND, answer).hex() == output


def test_the_pseudonym_does_not_depend_on_the_blind() -> None:
    key = oprf.random_key()
    first, second = oprf.blind(b"123456782"), oprf.blind(b"123456782")
    assert first.blinded_element != second.blinded_element  # the key holder cannot link them
    assert oprf.unblind(first.blind, oprf.blind_evaluate(key, first.blinded_element)) == (
        oprf.unblind(second.blind, oprf.blind_evaluate(key, second.blinded_element))
    )


def test_rekeying_moves_a_pseudonym_to_the_new_key_without_the_message() -> None:
    old, new = oprf.random_key(), oprf.random_key()
    sent = oprf.blind(b"123456782")
    under_old = oprf.unblind(sent.blind, oprf.blind_evaluate(old, sent.blinded_element))
    under_new = oprf.unblind(sent.blind, oprf.blind_evaluate(new, sent.blinded_element))
    assert under_old != under_new
    assert oprf.rekey(oprf.rekey_factor(old, new), under_old) == under_new


@pytest.mark.parametrize("bad", [bytes(32), b"\xff" * 32, b"\x01" * 31])
def test_the_key_holder_refuses_the_identity_and_invalid_encodings(bad: bytes) -> None:
    with pytest.raises(oprf.OprfError):
        oprf.blind_evaluate(oprf.random_key(), bad)
