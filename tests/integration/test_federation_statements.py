"""What federation costs on the hot path (docs/federation.md, "What a region does" 1).

With federation off, `tests/integration/test_hot_path_statements.py` holds the numbers and
nothing changes. With it on, POST /signals sends exactly two statements more, whether or
not a match forms, and no network call:
  INSERT federation_pseudonyms (child and parents, blinded; ON CONFLICT DO NOTHING, one
  statement of arrays on PostgreSQL, one executemany on SQLite);
  INSERT outbox (the publish queue: one row per person locked, one statement).
Reads (GET /matches, GET /matches/{id}) cost nothing more.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CHILD_BSN, OTHER_PARENT_BSN, PARENT_BSN, SIBLING_BSN, World
from tests.integration.test_hot_path_statements import (
    GET_MATCH,
    LIST_MATCHES,
    POST_WITH_MATCH,
    POST_WITHOUT_MATCH,
    HotPaths,
    _pinned,
)
from verwijsindex.federation.settings import FederationSettings

FEDERATION_ON_EXTRA = 2


@pytest.fixture
def federating(world: World, tmp_path: Path) -> HotPaths:
    # Nothing listens there: the request path must not call out (it would fail or wait).
    world.core.federation = FederationSettings(
        name="regio-a", hub_url="http://127.0.0.1:9", keyholder_url="http://127.0.0.1:9"
    )
    paths = HotPaths(world)
    paths.round(CHILD_BSN, PARENT_BSN)
    return paths


def test_with_federation_on_a_new_signal_sends_two_statements_more(federating: HotPaths) -> None:
    logs = federating.round(SIBLING_BSN, OTHER_PARENT_BSN)
    dialect = federating.dialect
    _pinned(
        logs["POST /signals without match"],
        POST_WITHOUT_MATCH[dialect] + FEDERATION_ON_EXTRA,
        "POST (federation on)",
    )
    _pinned(
        logs["POST /signals with match"],
        POST_WITH_MATCH[dialect] + FEDERATION_ON_EXTRA,
        "POST with match (federation on)",
    )
    _pinned(logs["GET /matches/{id}"], GET_MATCH[dialect], "GET /matches/{id} (federation on)")
    _pinned(logs["GET /matches"], LIST_MATCHES[dialect], "GET /matches (federation on)")
    for request in ("POST /signals without match", "POST /signals with match"):
        log = logs[request]
        assert not log.misses(), f"{request} missed the compiled cache:\n{log.describe()}"
