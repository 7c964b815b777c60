"""The federation benchmark's own pieces (``bench/federation.py``): the timed children never
collide with the loaded ones, and the loaded stand-in pseudonyms look like OPRF outputs."""

from __future__ import annotations

import rbcl

from bench.bsn import CHILD_BASE
from bench.federation import FreshChildren, stand_in_element, summary
from bench.load_plan import MAX_SIGNALS, STRIDE
from verwijsindex.federation.identity import from_b64url
from verwijsindex.pseudonym import parse_bsn


def test_fresh_children_are_valid_distinct_and_above_every_loaded_child() -> None:
    children = FreshChildren()
    made = [children.next() for _ in range(2000)]
    assert len(set(made)) == len(made)
    assert all(parse_bsn(bsn) is not None for bsn in made)
    # bench.load numbers children from CHILD_BASE by signal index; 5 M signals stay below.
    highest_loaded = CHILD_BASE + 5_000_000 * STRIDE
    assert MAX_SIGNALS >= 5_000_000
    assert min(int(bsn[:8]) for bsn in made) > highest_loaded


def test_stand_in_elements_are_canonical_points_per_secret_and_pseudonym() -> None:
    first = stand_in_element(b"s" * 32, "k1:abc")
    assert len(first) == 43
    assert rbcl.crypto_core_ristretto255_is_valid_point(from_b64url(first))
    assert stand_in_element(b"s" * 32, "k1:abc") == first
    assert stand_in_element(b"s" * 32, "k1:abd") != first
    assert stand_in_element(b"t" * 32, "k1:abc") != first


def test_summary_reports_percentiles() -> None:
    result = summary([float(v) for v in range(1, 101)])
    assert (result["n"], result["p50"], result["max"]) == (100, 50.5, 100.0)
    assert result["p95"] == 96.0
