"""Bulk loading of stored signals for the match-lookup measurement (not written yet).

Putting 100 000 to 5 000 000 signals in through the API would take hours on 2 cores and measure
the POST path again; the match-lookup question is how reads scale with the size of the tables.
So the loader writes rows straight into verwijsindex's tables (COPY), with pseudonyms made with
the service's own key from ``keys_dir``, exactly as the service would have stored them. That
needs the final schema, which is still being written; until then this raises and the
orchestrator reports the match-lookup part as skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

NOT_READY = (
    "bench.load.load_signals is not implemented yet: bulk loading writes directly into "
    "verwijsindex's tables and needs the final schema (signals, pseudonyms, matches, "
    "participants). Implement it in bench/load.py once the schema is fixed."
)


def load_signals(
    database_url: str,
    keys_dir: Path,
    n: int,
    professional_ids: Sequence[str],
    *,
    start: int = 0,
) -> None:
    """Add ``n`` active signals (and the matches they form) to the verwijsindex database.

    Contract the orchestrator relies on:

    * ``start`` is how many signals earlier calls already added, so consecutive calls
      (10 000, then N - 10 000) never reuse a child; use ``bench.bsn`` for the BSNs with a
      child-range offset derived from ``start`` (the wrk runs of the match phase only read).
    * Signals are spread over ``professional_ids``; ``professional_ids[0]`` is the professional
      whose token the lookups use, so it must take part in matches at every stage (its share of
      matches may grow with ``n``; that growth is part of what the target checks).
    * Pseudonyms are the service's own keyed HMAC with the key in ``keys_dir``; no BSN and no
      unkeyed hash is ever written (contract, privacy invariant 1).
    * Everything is committed before returning; the orchestrator then runs ``ANALYZE`` so the
      planner sees the new sizes, as autovacuum would on a live system.
    """
    raise NotImplementedError(NOT_READY)
