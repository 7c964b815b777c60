"""The elfproef, the keyed pseudonym and the redaction of `Bsn` (contract 2.1, 2.6)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from verwijsindex.domain import Bsn
from verwijsindex.pseudonym import Pseudonymiser, lock_id, parse_bsn

VALID_BSN = "111222333"
OTHER_VALID_BSN = "123456782"
KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


def _pseudonymiser(key: bytes = KEY, key_id: str = "k1") -> Pseudonymiser:
    return Pseudonymiser(key_id, key)


# --- elfproef -------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [VALID_BSN, OTHER_VALID_BSN, "100000009", "111111110"])
def test_nine_digits_passing_the_elfproef_are_accepted(raw: str) -> None:
    parsed = parse_bsn(raw)
    assert parsed is not None
    assert parsed.reveal() == raw


def test_the_elfproef_weighs_the_last_digit_minus_one() -> None:
    """The first eight digits of 11122233x weigh 9·1+8·1+7·1+6·2+5·2+4·2+3·3+2·3 = 69.

    With weight −1 the check digit 3 gives 66 = 6·11; a check digit 8 would give 77 = 7·11
    only under the ordinary +1 weight, so that number must be refused.
    """
    assert parse_bsn("111222333") is not None
    assert parse_bsn("111222338") is None


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("111222334", id="check digit off by one"),
        pytest.param("000000000", id="all zeros"),
        pytest.param("11122233", id="8 digits"),
        pytest.param("1112223330", id="10 digits"),
        pytest.param("1112.22.333", id="dots that python-stdnum would strip"),
        pytest.param("111 222 333", id="spaces"),
        pytest.param(" 111222333", id="leading space"),
        pytest.param("111222333\n", id="trailing newline"),
        pytest.param("11122233a", id="letter"),
        pytest.param("-11222333", id="sign"),
        pytest.param("١١١٢٢٢٣٣٣", id="non-ASCII digits"),
        pytest.param("", id="empty"),
    ],
)
def test_anything_but_nine_ascii_digits_passing_the_elfproef_is_refused(raw: str) -> None:
    assert parse_bsn(raw) is None


# --- keyed pseudonym ------------------------------------------------------------------------


def test_a_pseudonym_is_stable_for_one_key() -> None:
    bsn = Bsn(VALID_BSN)
    first = _pseudonymiser().pseudonymise(bsn)
    assert _pseudonymiser().pseudonymise(Bsn(VALID_BSN)) == first


def test_different_bsns_get_different_pseudonyms() -> None:
    pseudonymiser = _pseudonymiser()
    assert pseudonymiser.pseudonymise(Bsn(VALID_BSN)) != pseudonymiser.pseudonymise(
        Bsn(OTHER_VALID_BSN)
    )


def test_a_pseudonym_differs_between_keys() -> None:
    bsn = Bsn(VALID_BSN)
    one = _pseudonymiser(KEY, "k1").pseudonymise(bsn)
    other = _pseudonymiser(OTHER_KEY, "k1").pseudonymise(bsn)
    assert one != other


def test_a_pseudonym_names_the_key_that_made_it() -> None:
    pseudonym = _pseudonymiser(key_id="3fa9c01e").pseudonymise(Bsn(VALID_BSN))
    key_id, _, digest = pseudonym.partition(":")
    assert key_id == "3fa9c01e"
    # What follows the key id is a full 256-bit digest, base64url without padding.
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", digest)


def test_a_pseudonym_is_the_hmac_of_the_bsn_under_the_key() -> None:
    """Pins the documented construction, so stored pseudonyms stay comparable across versions."""
    expected = hmac.new(KEY, b"bsn:" + VALID_BSN.encode(), hashlib.sha256).digest()
    pseudonym = _pseudonymiser().pseudonymise(Bsn(VALID_BSN))
    digest = pseudonym.split(":", 1)[1]
    assert base64.urlsafe_b64decode(digest + "=") == expected


def _unkeyed_hash_spellings(bsn: str) -> set[str]:
    spellings: set[str] = set()
    for message in (bsn.encode(), b"bsn:" + bsn.encode()):
        digest = hashlib.sha256(message).digest()
        spellings.add(digest.hex())
        spellings.add(digest.hex().upper())
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(digest).decode()
            spellings.add(encoded)
            spellings.add(encoded.rstrip("="))
    return spellings


@pytest.mark.parametrize("bsn", [VALID_BSN, OTHER_VALID_BSN])
def test_a_pseudonym_is_not_an_unkeyed_hash_of_the_bsn(bsn: str) -> None:
    """An unkeyed hash of the 10^9 possible BSNs can be inverted by brute force."""
    pseudonym = _pseudonymiser().pseudonymise(Bsn(bsn))
    digest = pseudonym.split(":", 1)[1]
    for spelling in _unkeyed_hash_spellings(bsn):
        assert spelling not in pseudonym
        assert digest not in spelling


@pytest.mark.parametrize("bsn", [VALID_BSN, OTHER_VALID_BSN, "100000009"])
def test_a_pseudonym_contains_no_run_of_the_bsn_digits(bsn: str) -> None:
    pseudonym = _pseudonymiser().pseudonymise(Bsn(bsn))
    assert bsn not in pseudonym
    # Nor a recognisable part of it (any five consecutive digits of the BSN).
    for start in range(len(bsn) - 4):
        assert bsn[start : start + 5] not in pseudonym


@pytest.mark.parametrize("length", [0, 16, 31])
def test_a_key_shorter_than_256_bits_is_refused(length: int) -> None:
    with pytest.raises(ValueError, match="256 bits"):
        Pseudonymiser("k1", bytes(length))


def test_a_key_of_exactly_256_bits_is_accepted() -> None:
    assert Pseudonymiser("k1", bytes(32)).key_id == "k1"


def test_the_key_is_not_reachable_as_a_public_attribute() -> None:
    pseudonymiser = _pseudonymiser()
    public = {name: getattr(pseudonymiser, name) for name in dir(pseudonymiser)}
    assert KEY not in [value for name, value in public.items() if not name.startswith("_")]


# --- Bsn redaction --------------------------------------------------------------------------


def test_a_bsn_is_redacted_in_every_string_form() -> None:
    bsn = Bsn(VALID_BSN)
    renderings = [
        str(bsn),
        repr(bsn),
        f"{bsn}",
        f"{bsn!r}",
        format(bsn, ""),
        "%s" % bsn,  # noqa: UP031 - the old style is what logging uses
        "{}".format(bsn),  # noqa: UP032
        str([bsn]),
        str({"child": bsn}),
        str((bsn,)),
        str(ValueError(bsn)),
    ]
    for rendering in renderings:
        assert VALID_BSN not in rendering, rendering
        assert "redacted" in rendering


def test_a_bsn_is_redacted_in_a_log_record(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger("verwijsindex.test").info("signal on %s", Bsn(VALID_BSN))
    assert caplog.records
    assert VALID_BSN not in caplog.text


def test_a_bsn_has_no_instance_dict_to_dump() -> None:
    assert not hasattr(Bsn(VALID_BSN), "__dict__")


def test_bsns_with_the_same_digits_are_equal_and_hash_alike() -> None:
    assert Bsn(VALID_BSN) == Bsn(VALID_BSN)
    assert hash(Bsn(VALID_BSN)) == hash(Bsn(VALID_BSN))
    assert len({Bsn(VALID_BSN), Bsn(VALID_BSN), Bsn(OTHER_VALID_BSN)}) == 2


def test_bsns_with_other_digits_are_unequal() -> None:
    assert Bsn(VALID_BSN) != Bsn(OTHER_VALID_BSN)


def test_a_bsn_does_not_equal_its_plain_digits() -> None:
    """Comparing with a bare string would quietly succeed where a `Bsn` was meant."""
    assert Bsn(VALID_BSN) != VALID_BSN


# --- advisory lock ids ----------------------------------------------------------------------


@pytest.mark.parametrize("bsn", [VALID_BSN, OTHER_VALID_BSN, "100000009", "111111110"])
def test_a_lock_id_fits_a_signed_64_bit_integer(bsn: str) -> None:
    value = lock_id(_pseudonymiser().pseudonymise(Bsn(bsn)))
    assert isinstance(value, int)
    assert -(2**63) <= value < 2**63


def test_a_lock_id_is_the_same_in_every_process() -> None:
    """Workers lock the same person from different processes: Python's salted `hash()` won't do."""
    pseudonym = _pseudonymiser().pseudonymise(Bsn(VALID_BSN))
    script = f"from verwijsindex.pseudonym import lock_id; print(lock_id({pseudonym!r}))"
    seen = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert seen == {str(lock_id(pseudonym))}


def test_lock_ids_use_the_full_signed_range() -> None:
    """PostgreSQL's bigint is signed: a digest read as unsigned would overflow half the time."""
    values = [lock_id(f"k1:{n}") for n in range(64)]
    assert any(v < 0 for v in values)
    assert any(v > 0 for v in values)


def test_different_persons_get_different_lock_ids() -> None:
    pseudonymiser = _pseudonymiser()
    assert lock_id(pseudonymiser.pseudonymise(Bsn(VALID_BSN))) != lock_id(
        pseudonymiser.pseudonymise(Bsn(OTHER_VALID_BSN))
    )


def test_only_pseudonym_py_looks_inside_a_bsn() -> None:
    """README and `domain.Bsn` promise that `pseudonym.py` is the only code that reads a
    BSN's digits (`reveal()`); federation's blinding once did it elsewhere."""
    package = Path(__file__).resolve().parents[2] / "verwijsindex"
    callers = sorted(
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if ".reveal()" in path.read_text(encoding="utf-8")
    )
    assert callers == ["pseudonym.py"]
