"""Deterministic, elfproef-valid BSNs for load generation.

The same scheme is implemented in ``bench/lua/post_signals.lua`` (wrk runs Lua, not Python);
this module is the reference the Lua code is checked against and what a bulk loader can use, so
that generated children and parents never collide with each other.

Layout of the 9-digit space (the first digit is never 0, so every number is non-zero):

* children: 8-digit prefixes ``10_000_000 .. 89_999_999`` plus a check digit;
* parents:  8-digit prefixes ``90_000_000 .. 99_999_999``, in windows of 16 prefixes per family,
  so two families never share a parent unless the slot counter wraps.
"""

from __future__ import annotations

from collections.abc import Iterator

CHILD_BASE = 10_000_000
CHILD_SPAN = 80_000_000
PARENT_BASE = 90_000_000
PARENT_WINDOW = 16
PARENT_SLOTS = 9_999_999 // PARENT_WINDOW


def check_digit(prefix: int) -> int | None:
    """Return the digit that makes ``prefix`` (8 digits) a valid BSN, or None when there is none.

    The 11-check: sum(digit[i] * (9 - i) for i in 0..7) - digit[8] must be divisible by 11, so
    the check digit is that sum mod 11; a remainder of 10 cannot be written as one digit.
    """
    total = sum(int(c) * (9 - i) for i, c in enumerate(f"{prefix:08d}"))
    digit = total % 11
    return None if digit == 10 else digit


def is_valid(bsn: str) -> bool:
    """Elfproef for a 9-digit string; used by the raw-SQL reference so it validates like ours."""
    if len(bsn) != 9 or not bsn.isdigit() or int(bsn) == 0:
        return False
    total = sum(int(c) * (9 - i) for i, c in enumerate(bsn[:8]))
    return (total - int(bsn[8])) % 11 == 0


def child_bsn(index: int) -> str:
    """The ``index``-th valid child BSN, counting from the start of the child range.

    Prefixes without a check digit are skipped, so indexes are not prefixes; callers that need
    many should use :func:`child_bsns`, which walks the range once.
    """
    for i, bsn in enumerate(child_bsns()):
        if i == index:
            return bsn
    raise IndexError(index)  # pragma: no cover - the generator is (practically) unbounded


def child_bsns(start_prefix_offset: int = 0) -> Iterator[str]:
    """Every valid child BSN from ``CHILD_BASE + start_prefix_offset`` upwards, wrapping once."""
    for step in range(CHILD_SPAN):
        prefix = CHILD_BASE + (start_prefix_offset + step) % CHILD_SPAN
        digit = check_digit(prefix)
        if digit is not None:
            yield f"{prefix:08d}{digit}"


def parent_pair(slot: int) -> tuple[str, str]:
    """Two distinct valid parent BSNs for family ``slot`` (the first two valid in its window)."""
    base = PARENT_BASE + (slot % PARENT_SLOTS) * PARENT_WINDOW
    found: list[str] = []
    for prefix in range(base, base + PARENT_WINDOW):
        digit = check_digit(prefix)
        if digit is not None:
            found.append(f"{prefix:08d}{digit}")
            if len(found) == 2:
                return found[0], found[1]
    raise AssertionError("a window of 16 prefixes always holds two valid BSNs")
