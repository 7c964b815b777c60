"""The outbox's retry policy: backoff that grows, is capped, is jittered, and spans a day."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from verwijsindex.notify.retry import (
    FIRST_DELAY,
    MAX_DELAY,
    RETRY_WINDOW,
    backoff,
    next_attempt_at,
)

QUEUED = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def _delay(attempts: int, *, after: timedelta = timedelta(0), seed: int = 1) -> timedelta:
    now = QUEUED + after
    at = next_attempt_at(attempts, QUEUED, now, random.Random(seed))
    assert at is not None
    return at - now


def test_the_backoff_doubles_after_each_failure() -> None:
    assert [backoff(n) for n in (1, 2, 3, 4)] == [
        timedelta(seconds=30),
        timedelta(seconds=60),
        timedelta(seconds=120),
        timedelta(seconds=240),
    ]


def test_the_delay_grows_with_the_number_of_failures() -> None:
    # Equal jitter puts attempt n in [b(n)/2, b(n)] and b(n+2)/2 = 2·b(n) > b(n): strictly later.
    delays = [_delay(n) for n in range(1, 8, 2)]
    assert delays == sorted(delays)
    assert len(set(delays)) == len(delays)


@pytest.mark.parametrize("attempts", [8, 9, 50, 10_000, 10**18])
def test_the_delay_is_capped_at_an_hour_even_after_very_many_failures(attempts: int) -> None:
    assert backoff(attempts) == MAX_DELAY
    assert MAX_DELAY / 2 <= _delay(attempts) <= MAX_DELAY


def test_the_cap_is_reached_only_after_several_doublings() -> None:
    assert backoff(7) < MAX_DELAY
    assert backoff(8) == MAX_DELAY


@pytest.mark.parametrize("attempts", [1, 2, 5, 8, 100])
def test_the_delay_is_jittered_within_half_to_the_full_backoff(attempts: int) -> None:
    base = backoff(attempts)
    delays = {_delay(attempts, seed=seed) for seed in range(200)}
    assert all(base / 2 <= delay <= base for delay in delays)
    # Spread over the range, not stuck at one end: workers that failed together drift apart.
    assert len(delays) > 150
    assert min(delays) < base / 2 + base / 10
    assert max(delays) > base - base / 10


def test_two_workers_with_different_random_sources_retry_at_different_times() -> None:
    assert _delay(3, seed=1) != _delay(3, seed=2)
    assert _delay(3, seed=7) == _delay(3, seed=7)


def test_without_an_rng_the_delay_still_lies_within_the_bounds() -> None:
    now = QUEUED + timedelta(minutes=5)
    at = next_attempt_at(2, QUEUED, now)
    assert at is not None
    assert backoff(2) / 2 <= at - now <= backoff(2)


@pytest.mark.parametrize(
    "after",
    [
        timedelta(0),
        timedelta(hours=1),
        timedelta(hours=23, minutes=59, seconds=59, microseconds=999),
    ],
)
@pytest.mark.parametrize("attempts", [1, 10, 1000])
def test_it_never_gives_up_within_twenty_four_hours(after: timedelta, attempts: int) -> None:
    assert next_attempt_at(attempts, QUEUED, QUEUED + after, random.Random(0)) is not None


@pytest.mark.parametrize(
    "after", [RETRY_WINDOW, RETRY_WINDOW + timedelta(seconds=1), timedelta(days=30)]
)
def test_it_gives_up_once_twenty_four_hours_have_passed(after: timedelta) -> None:
    assert next_attempt_at(1, QUEUED, QUEUED + after, random.Random(0)) is None


def test_a_simulated_schedule_keeps_trying_for_at_least_a_day_and_then_stops() -> None:
    rng = random.Random(42)
    attempts_at = [QUEUED]  # the first attempt right after queueing
    while True:
        at = next_attempt_at(len(attempts_at), QUEUED, attempts_at[-1], rng)
        if at is None:
            break
        assert at > attempts_at[-1]
        attempts_at.append(at)
        assert len(attempts_at) < 1000, "the schedule never ends"
    assert attempts_at[-1] - QUEUED >= RETRY_WINDOW
    # The last attempt falls in the hour after the window, not days later.
    assert attempts_at[-1] - QUEUED < RETRY_WINDOW + MAX_DELAY
    # Backoff keeps the count modest: ~24 hourly tries plus the ramp-up, not thousands.
    assert 24 <= len(attempts_at) <= 60
    assert attempts_at[1] - attempts_at[0] <= FIRST_DELAY


def test_attempts_count_from_one() -> None:
    with pytest.raises(ValueError, match="starts at 1"):
        next_attempt_at(0, QUEUED, QUEUED)
