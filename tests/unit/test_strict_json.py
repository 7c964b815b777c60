"""The API's JSON reader: RFC 8259 as written, refusals that quote nothing (issue 16.2)."""

from __future__ import annotations

import json

import pytest

from verwijsindex.api.strict_json import MAX_NUMBER_DIGITS, UnacceptableJson, loads


def test_ordinary_json_reads_as_the_standard_library_reads_it() -> None:
    raw = b'{"a": [1, -2, 3.5, true, null, "\\u00e9"], "b": {"c": ""}}'
    assert loads(raw) == json.loads(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"n": ' + b"9" * 4301 + b"}",
        b"[" + b"1" * (MAX_NUMBER_DIGITS + 1) + b"]",
        b'{"x": 1, "x": 1}',
        b'[{"a": {"b": 1, "b": 2}}]',
        b"[NaN]",
        b"[Infinity]",
        b"[-Infinity]",
        b"[1e400]",
        b'["\xff"]',
        b'["\\udfff"]',
        b'{"\\ud800": 1}',
        b'[{"a": ["ok", "\\ud83d"]}]',
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=[
        "int-past-python-limit",
        "int-past-our-limit",
        "duplicate-key",
        "nested-duplicate-key",
        "nan",
        "infinity",
        "minus-infinity",
        "float-overflow",
        "invalid-utf8",
        "lone-surrogate",
        "lone-surrogate-in-a-key",
        "lone-surrogate-nested",
        "deep",
    ],
)
def test_unacceptable_json_is_refused_with_a_reason_that_quotes_nothing(raw: bytes) -> None:
    with pytest.raises(UnacceptableJson) as refused:
        loads(raw)
    assert "9999" not in str(refused.value) and '"x"' not in str(refused.value)


def test_escaped_and_unescaped_text_beyond_ascii_reads_as_written() -> None:
    raw = '["\\ud83d\\ude00", "\\u00e9", "é", "\\\\u not an escape"]'.encode()
    assert loads(raw) == json.loads(raw) == ["\U0001f600", "é", "é", "\\u not an escape"]


def test_a_number_of_exactly_the_allowed_length_is_fine() -> None:
    assert loads(b"[" + b"1" * MAX_NUMBER_DIGITS + b"]") == [int("1" * MAX_NUMBER_DIGITS)]


@pytest.mark.parametrize("raw", [b"", b"{", b'{"a" 1}'])
def test_malformed_json_is_a_decode_error_as_webargs_expects(raw: bytes) -> None:
    with pytest.raises(json.JSONDecodeError):
        loads(raw)
