"""The one JSON reader for API request bodies: RFC 8259 as written, nothing more lenient.

Python's `json` accepts what a careful API should not, and fails on some input in ways a
request parser does not expect:

- an integer of more than 4,300 digits raises `ValueError` (the int-string conversion
  limit), not `JSONDecodeError`, which surfaced as a 500 with a traceback;
- a key repeated in one object silently keeps the last value, so `{"bsn": A, "bsn": B}`
  could mean A to one reader (a proxy, a log) and B to us;
- `NaN`, `Infinity` and numbers that overflow to infinity are not JSON at all.

Every such body is refused with a reason that names no value from it (it may hold a BSN).
"""

from __future__ import annotations

import json
import math
from typing import Any

# Far above any number a request of ours holds, far below where parsing gets slow.
MAX_NUMBER_DIGITS = 100


class UnacceptableJson(ValueError):
    """The body is not JSON we accept; the message is safe to show (it quotes nothing)."""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise UnacceptableJson("An object in the body has the same key twice.")
    return result


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise UnacceptableJson(f"A number in the body has more than {MAX_NUMBER_DIGITS} digits.")
    return int(text)


def _real(text: str) -> float:
    if len(text) > MAX_NUMBER_DIGITS + 10:
        raise UnacceptableJson(f"A number in the body has more than {MAX_NUMBER_DIGITS} digits.")
    value = float(text)
    if not math.isfinite(value):
        raise UnacceptableJson("A number in the body is too large.")
    return value


def _constant(name: str) -> Any:
    raise UnacceptableJson("NaN and Infinity are not JSON.")


def loads(raw: bytes) -> Any:
    """The body as JSON. `json.JSONDecodeError` (with an empty document when the body is
    empty, which webargs reads as "no body") for malformed input, `UnacceptableJson` for
    well-formed input we refuse."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UnacceptableJson("The body is not valid UTF-8.") from None
    try:
        parsed = json.loads(
            text,
            object_pairs_hook=_object,
            parse_int=_integer,
            parse_float=_real,
            parse_constant=_constant,
        )
        # `"\ud800"` decodes to a lone surrogate, which no UTF-8 text (and so no database
        # column or log line) can hold: refuse it here rather than fail later. Only a `\u`
        # escape can make one (the text itself was valid UTF-8), so a body without any is
        # not written out again to find out (a sync body is megabytes).
        if "\\u" in text:
            json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except RecursionError:
        raise UnacceptableJson("The body is nested too deeply.") from None
    except UnicodeEncodeError:
        raise UnacceptableJson("The body holds a lone surrogate (\\uD800 to \\uDFFF).") from None
    return parsed
