"""The pure half of the benchmark's bulk loader (``bench/load_plan.py``): BSNs, pseudonyms,
the shape of the generated signals, the matches written with them and the measured
professionals' fixed caseload; and how the benchmark follows the service's ``next`` links."""

from __future__ import annotations

import base64
import json
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from bench import bsn as bench_bsn
from bench.load_plan import (
    BENCH_SIGNALS,
    BIRTH_FIRST,
    BIRTH_LAST,
    SPREAD,
    BatchRows,
    FastPseudonymiser,
    PlannedSignal,
    RowMaker,
    _check_digit,
    child_bsn,
    filler_count,
    parent_bsn,
    plan_batches,
    plan_units,
    random_uuid_texts,
)
from bench.service import local_part, token_issuer
from verwijsindex.domain import Bsn
from verwijsindex.matching.rules import (
    SignalFacts,
    client_match_qualifies,
    family_components,
    family_match_qualifies,
)
from verwijsindex.pseudonym import Pseudonymiser, parse_bsn

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
KEY = bytes(range(32))
BENCH = [uuid.UUID(int=1), uuid.UUID(int=2)]
FILLERS = [uuid.UUID(int=100 + i) for i in range(50)]


def test_check_digit_table_agrees_with_bench_bsn() -> None:
    for prefix in [*range(10_000_000, 10_030_000), 19_999_999, 89_999_999, 99_999_999]:
        expected = bench_bsn.check_digit(prefix)
        assert _check_digit(prefix) == (10 if expected is None else expected)


def test_children_and_parents_are_valid_and_never_shared() -> None:
    seen: set[str] = set()
    for index in range(20_000):
        for number in (child_bsn(index), parent_bsn(index, 0), parent_bsn(index, 1)):
            assert parse_bsn(number) is not None
            assert number not in seen
            seen.add(number)


def test_fast_pseudonyms_are_the_services() -> None:
    fast = FastPseudonymiser("k1", KEY)
    real = Pseudonymiser("k1", KEY)
    for index in range(200):
        number = child_bsn(index)
        assert fast(number) == real.pseudonymise(Bsn(number))


def test_random_uuids_are_version_4_and_distinct() -> None:
    texts = random_uuid_texts(2000)
    parsed = [uuid.UUID(t) for t in texts]
    assert all(u.version == 4 and u.variant == uuid.RFC_4122 for u in parsed)
    assert [str(u) for u in parsed] == texts
    assert len(set(texts)) == len(texts)


def test_batches_cover_the_range_exactly() -> None:
    assert plan_batches(10, 45, 20) == [(10, 20), (30, 20), (50, 5)]
    assert plan_batches(0, 0, 20) == []


def _plan(start: int, n: int) -> list[list[PlannedSignal]]:
    units = plan_units(start, n, n_bench=len(BENCH), n_filler=len(FILLERS), now=NOW, seed=7)
    return [u.signals for u in units]


def test_plan_is_deterministic_exact_and_continues_without_collisions() -> None:
    first, second = _plan(0, 10_000), _plan(10_000, 5_000)
    assert _plan(0, 10_000) == first
    signals = [s for u in first for s in u]
    more = [s for u in second for s in u]
    assert len(signals) == 10_000 and len(more) == 5_000
    assert {s.child for s in signals} <= set(range(10_000))
    assert {s.child for s in more} <= set(range(10_000, 15_000))
    earlier = {p for s in signals for p in s.parents}
    assert not earlier & {p for s in more for p in s.parents}


def test_plan_shape() -> None:
    units = list(plan_units(0, 30_000, n_bench=2, n_filler=len(FILLERS), now=NOW, seed=7))
    signals = [s for u in units for s in u.signals]
    per_child = Counter(s.child for s in signals)
    assert 0.25 < sum(1 for c in per_child.values() if c > 1) / len(per_child) < 0.35
    assert 0.35 < sum(1 for s in signals if s.parents) / len(signals) < 0.47
    assert all(BIRTH_FIRST <= s.birth_date <= BIRTH_LAST for s in signals)
    assert all(NOW - SPREAD <= s.created_at < NOW for s in signals)
    for unit in units:  # no professional signals the same child twice
        pairs = [(s.child, s.professional) for s in unit.signals]
        assert len(pairs) == len(set(pairs))
    # both bench professionals (indexes 0 and 1) signal, in units with others
    shared = Counter(
        s.professional
        for u in units
        if len({x.professional for x in u.signals}) > 1
        for s in u.signals
        if s.professional < 2
    )
    assert shared[0] > 100 and shared[1] > 100
    # ... and only in households that start below the baseline
    assert all(
        s.professional >= 2
        for u in units
        if min(x.child for x in u.signals) >= BENCH_SIGNALS
        for s in u.signals
    )


def test_fillers_grow_with_the_size() -> None:
    assert filler_count(0) == filler_count(10_000) == filler_count(200_000) == 1000
    assert filler_count(1_000_000) == 5000
    assert filler_count(5_000_000) == 25_000
    assert filler_count(1_000_001) == 5001


def _load_rows(
    maker: RowMaker, first: int, n: int, n_filler: int, bench_until: int
) -> list[BatchRows]:
    """What ``bench.load.load_signals`` makes for one call, batch by batch."""
    return [
        maker.rows(
            list(
                plan_units(
                    b,
                    size,
                    n_bench=len(BENCH),
                    n_filler=n_filler,
                    now=NOW,
                    seed=7,
                    bench_until=bench_until,
                )
            )
        )
        for b, size in plan_batches(first, n, 20_000)
    ]


def _matches_of(batches: list[BatchRows], professional: uuid.UUID) -> int:
    mine = {
        cols[0]
        for rows in batches
        for cols in (line.split("\t", 2) for line in rows.signals)
        if cols[1] == str(professional)
    }
    return len(
        {
            match_id
            for rows in batches
            for match_id, signal_id, _linked_at in (
                line.rstrip("\n").split("\t") for line in rows.match_signals
            )
            if signal_id in mine
        }
    )


def test_bench_caseload_is_the_same_after_topping_up() -> None:
    """The baseline call (10 000 signals, 1000 fillers), then a top-up as for a far larger N
    (more fillers): A and B keep exactly their baseline matches; the fillers carry the growth."""
    base, more = 10_000, 30_000
    n_base, n_more = filler_count(base), 2_000
    fillers = [uuid.UUID(int=1000 + i) for i in range(n_more)]
    maker = RowMaker(FastPseudonymiser("k1", KEY), BENCH + fillers, seed=7)
    baseline = _load_rows(maker, 0, base, n_base, bench_until=base)
    topped_up = _load_rows(maker, base, more, n_more, bench_until=base)
    a_at_base = _matches_of(baseline, BENCH[0])
    assert 100 < a_at_base < 170  # about 130: a realistic caseload
    assert _matches_of(baseline + topped_up, BENCH[0]) == a_at_base
    assert _matches_of(baseline + topped_up, BENCH[1]) == _matches_of(baseline, BENCH[1]) > 50
    used = {line.split("\t", 2)[1] for rows in topped_up for line in rows.signals}
    assert not used & {str(p) for p in BENCH}
    assert str(fillers[n_more - 1]) in used and str(fillers[n_base]) in used
    assert sum(r.client_matches + r.family_matches for r in topped_up) > 0.25 * more


def test_next_links_are_followed_on_our_own_server_whatever_their_host() -> None:
    link = "http://localhost:8080/api/v1/matches?pageSize=100&cursor=MjAyNnxhYmM"
    assert local_part(link) == "/api/v1/matches?pageSize=100&cursor=MjAyNnxhYmM"
    assert local_part("/api/v1/matches?cursor=x") == "/api/v1/matches?cursor=x"
    assert local_part("https://example.org") == "/"


def test_token_issuer_reads_the_iss_claim() -> None:
    def part(data: dict[str, object]) -> str:
        raw = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=")
        return raw.decode()

    bearer = f"{part({'alg': 'RS256'})}.{part({'iss': 'http://127.0.0.1:4321'})}.c2ln"
    assert token_issuer(bearer) == "http://127.0.0.1:4321"


@pytest.mark.parametrize("start", [0, 123_457])
def test_rows_hold_the_matches_the_service_rules_give(start: int) -> None:
    pseudo = FastPseudonymiser("k1", KEY)
    maker = RowMaker(pseudo, BENCH + FILLERS, seed=7)
    units = list(plan_units(start, 5_000, n_bench=2, n_filler=len(FILLERS), now=NOW, seed=7))
    rows = maker.rows(units)
    assert len(rows.signals) == 5_000
    professional_of = {str(p): p for p in BENCH + FILLERS}
    parents: dict[str, set[str]] = defaultdict(set)
    for line in rows.signal_parents:
        signal_id, parent = line.rstrip("\n").split("\t")
        parents[signal_id].add(parent)
    facts = []
    for line in rows.signals:
        cols = line.rstrip("\n").split("\t")
        assert cols[3] == "active" and len(cols) == 10
        created = datetime.fromisoformat(cols[4])
        assert created < datetime.fromisoformat(cols[5]) <= datetime.fromisoformat(cols[6])
        facts.append(
            SignalFacts(
                uuid.UUID(cols[0]),
                professional_of[cols[1]],
                cols[2],
                frozenset(parents[cols[0]]),
                created,
            )
        )
    assert len({f.child for f in facts}) == len({s.child for u in units for s in u.signals})
    links: dict[str, set[uuid.UUID]] = defaultdict(set)
    for line in rows.match_signals:
        match_id, signal_id, _linked_at = line.rstrip("\n").split("\t")
        links[match_id].add(uuid.UUID(signal_id))
    stored_client, stored_family = set(), set()
    for line in rows.matches:
        match_id, kind, child, created_at, updated_at = line.rstrip("\n").split("\t")
        assert datetime.fromisoformat(created_at) <= datetime.fromisoformat(updated_at)
        if kind == "client":
            stored_client.add((child, frozenset(links[match_id])))
        else:
            assert kind == "family" and child == "\\N"
            stored_family.add(frozenset(links[match_id]))
    on_child: dict[str, list[SignalFacts]] = defaultdict(list)
    for f in facts:
        on_child[f.child].append(f)
    assert stored_client == {
        (c, frozenset(f.id for f in g)) for c, g in on_child.items() if client_match_qualifies(g)
    }
    assert stored_family == {
        frozenset(f.id for f in g) for g in family_components(facts) if family_match_qualifies(g)
    }
    assert rows.client_matches == len(stored_client) > 500
    assert rows.family_matches == len(stored_family) > 100
    assert datetime.fromisoformat(rows.matches[0].split("\t")[3]) > NOW - SPREAD - timedelta(1)
