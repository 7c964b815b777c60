"""The pure half of the bulk loader: which signals to write, as COPY text, with their matches.

Nothing here touches a database, so it can be unit-tested and re-run to find a loaded child's
BSN again (see :func:`child_bsn`).

**BSNs.** Every signal has a global index ``s`` (0 for the first signal ever loaded into the
database, counting on across calls). Index ``s`` owns six 8-digit prefixes of the child range of
``bench.bsn`` (``CHILD_BASE + 6 s`` to ``+ 5``): the first pair for a child, the next two pairs
for up to two parents. Of two consecutive prefixes at least one has a check digit (adding 1 to
a prefix changes the elfproef sum by 2, 7, 3 or 1 mod 11, never by 0), so each pair yields one
valid BSN. A unit of k signals (one household, below) starting at ``s0`` takes its children from
the pairs of ``s0 .. s0 + k - 1`` and its parents from those of ``s0``, so units, and therefore
calls that continue at the next index, never share a person. 13 million signals fit.

**Shape.** Signals come in units, each a child or a set of siblings:

* one signal, no parents (``solo``), or naming one or two parents (``solo_parents``);
* ``client``: one child, two signals by different professionals (a client match); either signal
  may name parents;
* ``siblings``: two children sharing a parent, signalled by different professionals (a family
  match); ``siblings3`` adds a second professional on the first child (client + family match);
  ``siblings_same``: one professional signals both (no match: one professional already knows).

With the weights below about 28 % of children have a second signal, about 42 % of signals name
parents, and there are about 0.28 matches per signal.

**Professionals.** The measured (bench) professionals have a fixed caseload whatever the size:
only in units that start below ``bench_until`` (the baseline, ``BENCH_SIGNALS``) do they take
slot 0 (the first) and slot 1 of a unit's professionals, each with probability ``BENCH_SHARE``;
that gives the first about 130 matches in 10 000 signals, and adding signals beyond
``bench_until`` never adds to them. Everyone else is a filler professional, picked uniformly
from ``n_filler`` of them; the loader makes their number grow with the size
(:func:`filler_count`: one per ``SIGNALS_PER_FILLER`` signals, at least ``MIN_FILLERS``), so the
growth is carried by more professionals with realistic caseloads, not by ever larger ones.

**Matches** are computed per batch with the service's own rules
(``verwijsindex.matching.rules``): units never straddle a batch, so every family is complete.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import hmac
import os
import random
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from bench.bsn import CHILD_BASE, CHILD_SPAN
from verwijsindex import domain
from verwijsindex.domain import LOCAL_TIME
from verwijsindex.matching.rules import (
    SignalFacts,
    client_match_qualifies,
    family_components,
    family_match_qualifies,
)

STRIDE = 6  # prefixes owned by one signal index: a child pair and two parent pairs
MAX_SIGNALS = CHILD_SPAN // STRIDE
DEFAULT_SEED = 20261123
BENCH_SHARE = 0.05  # chance that a bench professional takes a unit's slot 0 (and, apart, slot 1)
BENCH_SIGNALS = 10_000  # bench professionals only in units starting below this global index
MIN_FILLERS = 1000
SIGNALS_PER_FILLER = 200
SPREAD = timedelta(days=548)  # created_at spread over the last ~18 months
BIRTH_FIRST = date(2006, 1, 1)
BIRTH_LAST = date(2022, 12, 31)

# (kind, weight): weights in percent of units.
UNIT_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("solo", 45),
    ("solo_parents", 17),
    ("client", 28),
    ("siblings", 5),
    ("siblings3", 3),
    ("siblings_same", 2),
)
UNIT_SIGNALS = {
    "solo": 1,
    "solo_parents": 1,
    "client": 2,
    "siblings": 2,
    "siblings3": 3,
    "siblings_same": 2,
}
_KINDS = [k for k, _ in UNIT_WEIGHTS]
_CUM_WEIGHTS = [sum(w for _, w in UNIT_WEIGHTS[: i + 1]) for i in range(len(UNIT_WEIGHTS))]


def _weighted(digits: int, first_weight: int) -> int:
    """Elfproef sum of a 4-digit group whose last digit has weight ``first_weight``."""
    total = 0
    for weight in range(first_weight, first_weight + 4):
        digits, last = divmod(digits, 10)
        total += last * weight
    return total


# The elfproef sum of an 8-digit prefix: its low four digits weigh 2..5, its high four 6..9.
_LOW = [_weighted(d, 2) for d in range(10_000)]
_HIGH = [_weighted(d, 6) for d in range(10_000)]


def _check_digit(prefix: int) -> int:
    """``bench.bsn.check_digit`` by table (a unit test compares them); 10 means there is none."""
    high, low = divmod(prefix, 10_000)
    return (_HIGH[high] + _LOW[low]) % 11


def _bsn_of_pair(prefix: int) -> str:
    """The valid BSN of ``prefix`` or, when it has no check digit, of ``prefix + 1``."""
    digit = _check_digit(prefix)
    if digit == 10:
        prefix += 1
        digit = _check_digit(prefix)
        assert digit != 10  # two consecutive prefixes never both lack one (module doc)
    return f"{prefix:08d}{digit}"


def child_bsn(index: int) -> str:
    """BSN of the child whose first signal has global index ``index``."""
    if not 0 <= index < MAX_SIGNALS:
        raise ValueError(f"signal index {index} outside 0..{MAX_SIGNALS - 1}")
    return _bsn_of_pair(CHILD_BASE + STRIDE * index)


def parent_bsn(index: int, which: int) -> str:
    """BSN of parent ``which`` (0 or 1) of the unit starting at global index ``index``."""
    if which not in (0, 1) or not 0 <= index < MAX_SIGNALS:
        raise ValueError(f"no parent {which} for signal index {index}")
    return _bsn_of_pair(CHILD_BASE + STRIDE * index + 2 + 2 * which)


class FastPseudonymiser:
    """``verwijsindex.pseudonym.Pseudonymiser`` on plain digit strings, with one-shot HMAC.

    Same output (a unit test checks it); skips the ``Bsn`` wrapper, which only exists to keep
    BSNs out of the service's logs.
    """

    __slots__ = ("_key", "_prefix")

    def __init__(self, key_id: str, key: bytes) -> None:
        self._key = key
        self._prefix = f"{key_id}:"

    def __call__(self, digits: str) -> str:
        digest = hmac.digest(self._key, b"bsn:" + digits.encode("ascii"), hashlib.sha256)
        return self._prefix + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class PlannedSignal(NamedTuple):
    """One signal to write, before pseudonymisation: persons are global indexes."""

    child: int  # signal index whose child pair holds the child's BSN
    professional: int  # index into the loader's professional list (bench ones first)
    created_at: datetime
    birth_date: date
    parents: tuple[tuple[int, int], ...]  # (unit start index, 0 or 1)


@dataclass
class Unit:
    kind: str
    signals: list[PlannedSignal] = field(default_factory=list)


def filler_count(total_signals: int) -> int:
    """Filler professionals for a database of ``total_signals``: one per ``SIGNALS_PER_FILLER``
    (so a filler's caseload stays about the same whatever the size), at least ``MIN_FILLERS``."""
    return max(MIN_FILLERS, -(-total_signals // SIGNALS_PER_FILLER))


def _pick_professionals(
    rng: random.Random, count: int, n_bench: int, n_filler: int, with_bench: bool
) -> list[int]:
    """``count`` distinct professionals (fillers are ``n_bench ..``); with ``with_bench``, slot
    i is bench professional i with probability BENCH_SHARE, without it fillers only."""
    chosen: list[int] = []
    while len(chosen) < count:
        pick = n_bench + int(rng.random() * n_filler)
        if pick not in chosen:
            chosen.append(pick)
    if with_bench:
        for i in range(min(count, n_bench)):
            if rng.random() < BENCH_SHARE:
                chosen[i] = i
    return chosen


def plan_batches(first: int, n: int, batch_signals: int) -> list[tuple[int, int]]:
    """(first index, signals) of each batch: a batch is planned on its own (``plan_units``), so
    batches can be made in any order and in parallel, and no household straddles two."""
    if batch_signals < 1:
        raise ValueError("batch_signals must be positive")
    return [(b, min(batch_signals, first + n - b)) for b in range(first, first + n, batch_signals)]


def plan_units(
    start: int,
    n: int,
    *,
    n_bench: int,
    n_filler: int,
    now: datetime,
    seed: int = DEFAULT_SEED,
    bench_until: int = BENCH_SIGNALS,
) -> Iterator[Unit]:
    """Units with exactly ``n`` signals in all, on global indexes ``start .. start + n - 1``.

    Deterministic for given arguments. The last unit shrinks to a ``solo`` when a larger one
    would not fit. Professionals ``0 .. n_bench - 1`` appear only in units that start below
    ``bench_until``; the rest are ``n_filler`` fillers (indexes ``n_bench ..``).
    """
    if start < 0 or n < 0 or start + n > MAX_SIGNALS:
        raise ValueError(f"signal indexes {start}..{start + n} outside 0..{MAX_SIGNALS}")
    if n_filler < 3:
        raise ValueError("need at least three filler professionals")
    rng = random.Random(f"{seed}:{start}")
    spread_us = int(SPREAD / timedelta(microseconds=1))
    birth_days = (BIRTH_LAST - BIRTH_FIRST).days
    s, end = start, start + n
    while s < end:
        kind = _KINDS[bisect.bisect(_CUM_WEIGHTS, rng.random() * _CUM_WEIGHTS[-1])]
        if s + UNIT_SIGNALS[kind] > end:
            kind = "solo"
        k = UNIT_SIGNALS[kind]
        bench = s < bench_until
        times = sorted(
            now - timedelta(microseconds=60_000_000 + int(rng.random() * spread_us))
            for _ in range(k)
        )

        def born() -> date:
            return BIRTH_FIRST + timedelta(days=int(rng.random() * (birth_days + 1)))

        both = ((s, 0), (s, 1))
        family: tuple[tuple[int, int], ...] = both if rng.random() < 0.5 else both[:1]
        named: tuple[tuple[int, int], ...]
        unit = Unit(kind)
        add = unit.signals.append
        if kind in ("solo", "solo_parents"):
            (p,) = _pick_professionals(rng, 1, n_bench, n_filler, bench)
            add(PlannedSignal(s, p, times[0], born(), family if kind == "solo_parents" else ()))
        elif kind == "client":
            p, q = _pick_professionals(rng, 2, n_bench, n_filler, bench)
            b = born()
            for who, at in ((p, times[0]), (q, times[1])):
                named = family if rng.random() < 0.35 else ()
                add(PlannedSignal(s, who, at, b, named))
        else:
            same = kind == "siblings_same"
            pros = _pick_professionals(
                rng, 1 if same else 2 + (kind == "siblings3"), n_bench, n_filler, bench
            )
            b1, b2 = born(), born()
            # Every signal but the first child's extra one (siblings3) names at least the shared
            # first parent, so the siblings are linked; that extra one may name none.
            order = [(s, b1, pros[0], False), (s + 1, b2, pros[0] if same else pros[1], False)]
            if kind == "siblings3":
                order.append((s, b1, pros[2], True))
            rng.shuffle(order)
            for i, (child, b, who, optional) in enumerate(order):
                if optional and rng.random() < 0.5:
                    named = ()
                else:
                    named = family if rng.random() < 0.7 else family[:1]
                add(PlannedSignal(child, who, times[i], b, named))
        yield unit
        s += k


# --- rows -----------------------------------------------------------------------------------

Qualifies = Callable[[Sequence[SignalFacts]], bool]
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


def random_uuid_texts(count: int) -> list[str]:
    """``count`` random version-4 UUIDs as text, from the OS's randomness, in bulk."""
    raw = os.urandom(16 * count).hex()
    return [
        f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"
        for h in (raw[i : i + 32] for i in range(0, 32 * count, 32))
    ]


@dataclass
class BatchRows:
    """COPY text (tab-separated, newline-terminated) for the four tables, and counts."""

    signals: list[str] = field(default_factory=list)
    signal_parents: list[str] = field(default_factory=list)
    matches: list[str] = field(default_factory=list)
    match_signals: list[str] = field(default_factory=list)
    client_matches: int = 0
    family_matches: int = 0


SIGNAL_COLUMNS = (
    "id",
    "professional_id",
    "child_pseudonym",
    "status",
    "created_at",
    "active_until",
    "archived_until",
    "child_birth_date",
    "child_informed",
    "parents_informed",
)
SIGNAL_PARENT_COLUMNS = ("signal_id", "parent_pseudonym")
MATCH_COLUMNS = ("id", "type", "child_pseudonym", "created_at", "updated_at")
MATCH_SIGNAL_COLUMNS = ("match_id", "signal_id", "linked_at")
NULL = "\\N"  # COPY text format


class RowMaker:
    """Turns planned units into COPY rows the way ``register_signal`` would have stored them."""

    def __init__(
        self,
        pseudonymise: FastPseudonymiser,
        professional_ids: Sequence[uuid.UUID],
        seed: int = DEFAULT_SEED,
    ) -> None:
        self._pseudonymise = pseudonymise
        self._professionals = list(professional_ids)
        self._professional_text = [str(p) for p in professional_ids]
        self._turns_23: dict[date, datetime] = {}
        self._rng = random.Random(f"rows:{seed}")

    def _turns_23_at(self, birth: date) -> datetime:
        at = self._turns_23.get(birth)
        if at is None:
            day = domain.turns_23_on(birth)
            at = datetime.combine(day, time(0), tzinfo=LOCAL_TIME).astimezone(UTC)
            self._turns_23[birth] = at
        return at

    def rows(self, units: Sequence[Unit]) -> BatchRows:
        out = BatchRows()
        facts: list[SignalFacts] = []  # only units of two or more signals can match
        pseudo = self._pseudonymise
        rng = self._rng
        pro_text = self._professional_text
        sig_line = out.signals.append
        parent_line = out.signal_parents.append
        ids = iter(random_uuid_texts(sum(len(u.signals) for u in units)))
        for unit in units:
            persons: dict[object, str] = {}
            matchable = len(unit.signals) > 1
            for planned in unit.signals:
                child = persons.get(planned.child)
                if child is None:
                    child = persons[planned.child] = pseudo(child_bsn(planned.child))
                parents = []
                for key in planned.parents:
                    name = persons.get(key)
                    if name is None:
                        name = persons[key] = pseudo(parent_bsn(*key))
                    parents.append(name)
                sid = next(ids)
                created = planned.created_at
                birth = planned.birth_date
                turns_23_at = self._turns_23_at(birth)
                active_until = domain.active_until(created, turns_23_at)
                archived_until = domain.archived_until(active_until, turns_23_at)
                age = domain.age_on(birth, created.astimezone(LOCAL_TIME).date())
                child_informed = age >= domain.CHILD_INFORMED_FROM_AGE or rng.random() < 0.5
                parents_informed = age < domain.PARENTS_INFORMED_BELOW_AGE or rng.random() < 0.7
                sig_line(
                    f"{sid}\t{pro_text[planned.professional]}\t{child}\tactive\t"
                    f"{created.isoformat()}\t{active_until.isoformat()}\t"
                    f"{archived_until.isoformat()}\t{birth.isoformat()}\t"
                    f"{'t' if child_informed else 'f'}\t{'t' if parents_informed else 'f'}\n"
                )
                for name in parents:
                    parent_line(f"{sid}\t{name}\n")
                if matchable:
                    facts.append(
                        SignalFacts(
                            uuid.UUID(sid),
                            self._professionals[planned.professional],
                            child,
                            frozenset(parents),
                            created,
                        )
                    )
        self._add_matches(out, facts)
        return out

    @staticmethod
    def _add_matches(out: BatchRows, facts: list[SignalFacts]) -> None:
        """Client and family matches by the service's own rules (families lie within units)."""
        found: list[tuple[str, str | None, list[SignalFacts], Qualifies]] = []
        on_child: dict[str, list[SignalFacts]] = {}
        for f in facts:
            on_child.setdefault(f.child, []).append(f)
        for child, group in on_child.items():
            if client_match_qualifies(group):
                found.append(("client", child, group, client_match_qualifies))
        for group in family_components(facts):
            if family_match_qualifies(group):
                found.append(("family", None, group, _some_family_qualifies))
        match_ids = random_uuid_texts(len(found))
        for match_id, (kind, child_name, group, qualified) in zip(match_ids, found, strict=True):
            _match_rows(out, match_id, kind, child_name, group, qualified)
            if kind == "client":
                out.client_matches += 1
            else:
                out.family_matches += 1


def _some_family_qualifies(signals: Sequence[SignalFacts]) -> bool:
    """Whether these signals, as they would have stood then, formed a family match yet."""
    return any(family_match_qualifies(g) for g in family_components(signals))


def _match_rows(
    out: BatchRows,
    match_id: str,
    kind: str,
    child: str | None,
    group: list[SignalFacts],
    qualified: Qualifies,
) -> None:
    """One match row and its links; created when it first qualified, updated at the last."""
    ordered = sorted(group, key=lambda f: (f.created_at, f.id))
    created = next(
        ordered[i - 1].created_at for i in range(2, len(ordered) + 1) if qualified(ordered[:i])
    )
    out.matches.append(
        f"{match_id}\t{kind}\t{child if child is not None else NULL}\t"
        f"{created.isoformat()}\t{ordered[-1].created_at.isoformat()}\n"
    )
    # A signal is linked when the match forms, or when it joins an existing one.
    out.match_signals.extend(
        f"{match_id}\t{f.id}\t{max(created, f.created_at).isoformat()}\n" for f in ordered
    )
