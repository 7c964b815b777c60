"""When the outbox tries a failed delivery again, and when it gives up.

Exponential backoff keeps a dead receiver from being hammered; the cap keeps a receiver that
comes back after an outage from waiting hours for its next try; jitter keeps several workers
that failed together from retrying in lockstep. Giving up depends only on how long ago the
notification was queued, so a mail server that is down for a night still gets its mail in the
morning, however many attempts failed in between.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

RETRY_WINDOW = timedelta(hours=24)
"""Keep retrying at least this long after the notification was queued."""
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)

# FIRST_DELAY * 2**_MAX_EXPONENT is far beyond MAX_DELAY; clamping the exponent keeps a
# delivery that failed thousands of times from computing a huge power (or overflowing timedelta).
_MAX_EXPONENT = 20
_system_random = random.SystemRandom()


def backoff(attempts: int) -> timedelta:
    """The delay before jitter after the `attempts`-th failure (1-based): doubling, capped."""
    if attempts < 1:
        raise ValueError("attempts counts failed attempts and starts at 1")
    exponent = min(attempts - 1, _MAX_EXPONENT)
    return min(FIRST_DELAY * (1 << exponent), MAX_DELAY)


def next_attempt_at(
    attempts: int,
    queued_at: datetime,
    now: datetime,
    rng: random.Random | None = None,
) -> datetime | None:
    """When to try again after the `attempts`-th failed attempt (1-based), or None to give up.

    Gives up only once `now - queued_at >= RETRY_WINDOW`; before that a next attempt is always
    returned, so the attempts of one notification span at least RETRY_WINDOW. The delay is
    "equal jitter": half of the backoff fixed, the other half random, so it lies in
    [backoff/2, backoff]. Pass `rng` for reproducible tests; the default draws from the OS.
    """
    base = backoff(attempts)
    if now - queued_at >= RETRY_WINDOW:
        return None
    half = base / 2
    jitter = (rng or _system_random).uniform(0.0, half.total_seconds())
    return now + half + timedelta(seconds=jitter)
