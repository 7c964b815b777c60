"""How many SQL statements the hot paths send, and that each hits the compiled cache.

Issue 11.2: POST /signals (with and without a match), GET /matches/{id} and GET /matches
are what the service spends its time on. Each pinned number below lists its statements,
so whoever adds one must change the number here and say why. Counted with
`tests.sql_statements.watch_statements`: statements only; `BEGIN` is left out and the
commit is counted apart (one per request). On PostgreSQL psycopg also sends a `BEGIN` of
its own before the first statement, so a request's round trips there are the statements
plus two.

Every request runs after one warm-up request of the same shape (which also resolves and
caches the caller and makes the audit chains' heads), as a served process would have.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import (
    CHILD_BSN,
    OTHER_CHILD_BSN,
    OTHER_PARENT_BSN,
    PARENT_BSN,
    SIBLING_BSN,
    THIRD_PARENT_BSN,
    ApiClient,
    World,
)
from tests.sql_statements import StatementLog, watch_statements
from verwijsindex.models import AuditEventRow

# --- the pinned numbers, per database --------------------------------------------------------

# POST /signals, a new child (one parent), no match:
#   standing of the cached caller; [PostgreSQL] advisory locks on child and parent;
#   the surroundings (signals on the child or naming the parent, with their owners);
#   INSERT signals and signal_parents [SQLite: two statements]; INSERT statistics_counts;
#   audit: take a free head with places [SQLite: head, max(seq)];
#   audit: records and head [SQLite: INSERT records, UPDATE head].
# (Before issue 11.2: 8 [9], the parents inserted apart.)
POST_WITHOUT_MATCH = {"postgresql": 7, "sqlite": 9}
# POST /signals by a second professional on that child, forming a client match: the above,
# and after the signal's inserts: the matches of the surrounding signals (FOR UPDATE);
# INSERT matches; INSERT match_signals; INSERT statistics_counts (signal and match counts in
# one); the webhook subscriptions of the organisations involved; INSERT outbox (the mails);
# INSERT feed_events (issue 12: the match.created of each organisation involved, for its
# change feed, in one multi-row statement; a POST without a match writes none).
# Issue 13 (Jeugdwet 7.1.2.3 c-e): the active regievoerders with their gemeenten, to mail
# those whose scope the match touches (one small read; a POST without a match skips it).
# (Before issue 11.2: 14 [15], with the parents apart and a lookup of the owners of the
# match's other signals, which now come with the surroundings. Before issue 12: 12 [14].
# Before issue 13: 13 [15].)
POST_WITH_MATCH = {"postgresql": 14, "sqlite": 16}
# GET /matches/{id}: standing; the match with its members, their professionals and
# organisations and follow-ups (one join); audit: 2 [SQLite: 4].
# (Before issue 11.2: 6 [8], with the participants and the follow-ups read apart.)
GET_MATCH = {"postgresql": 4, "sqlite": 6}
# GET /matches: standing; the page of matches (ids in a subquery) with members, participants
# and follow-ups (one join); audit: 2 [SQLite: 4]. (Before issue 11.2: 7 [9].)
LIST_MATCHES = {"postgresql": 4, "sqlite": 6}


def _body(child: str, parent: str) -> dict[str, Any]:
    return {
        "bsn": child,
        "birthDate": "2015-03-14",
        "parentBsns": [parent],
        "informatieplicht": {"childInformed": True, "parentsInformed": True},
    }


class HotPaths:
    """Two professionals of different organisations and the four hot-path requests."""

    def __init__(self, world: World) -> None:
        self.engine = world.core.database.engine
        self.dialect = world.core.database.dialect
        self.anna = world.professional("Anna Jansen", "School A", "onderwijs")
        self.bert = world.professional("Bert de Vries", "Team B", "jeugdhulp")
        self.gemeente_of: dict[uuid.UUID, str] = {}  # the gemeente each one's signals name

    def post(self, who: ApiClient, child: str, parent: str) -> dict[str, Any]:
        body = _body(child, parent)
        if who.professional_id in self.gemeente_of:
            body["gemeente"] = self.gemeente_of[who.professional_id]
        response = who.post("/api/v1/signals", json=body)
        assert response.status_code == 201, response.get_json()
        result: dict[str, Any] = response.get_json()
        return result

    def get(self, who: ApiClient, path: str) -> dict[str, Any]:
        response = who.get(path)
        assert response.status_code == 200, response.get_json()
        result: dict[str, Any] = response.get_json()
        return result

    def round(self, child: str, parent: str) -> dict[str, StatementLog]:
        """Each hot-path request once, on a new child; what each sent."""
        logs: dict[str, StatementLog] = {}

        def watched(name: str, request: Callable[[], dict[str, Any]]) -> dict[str, Any]:
            with watch_statements(self.engine) as log:
                result = request()
            logs[name] = log
            return result

        alone = watched("POST /signals without match", lambda: self.post(self.anna, child, parent))
        assert alone["matches"] == []
        joined = watched("POST /signals with match", lambda: self.post(self.bert, child, parent))
        assert [m["type"] for m in joined["matches"]] == ["client"]
        match_id = joined["matches"][0]["id"]
        path = f"/api/v1/matches/{match_id}"
        match = watched("GET /matches/{id}", lambda: self.get(self.anna, path))
        assert len(match["participants"]) == 2
        page = watched("GET /matches", lambda: self.get(self.anna, "/api/v1/matches"))
        assert match_id in [m["id"] for m in page["items"]]
        return logs


@pytest.fixture
def warmed(world: World) -> HotPaths:
    paths = HotPaths(world)
    paths.round(CHILD_BSN, PARENT_BSN)
    return paths


def _pinned(log: StatementLog, expected: int, what: str) -> None:
    assert log.count == expected, (
        f"{what} sent {log.count} statements, pinned at {expected}: if one was added on "
        f"purpose, change the number and its comment.\n{log.describe()}"
    )
    assert log.commits == 1, f"{what} committed {log.commits} times"


def test_a_new_signal_without_a_match_sends_its_pinned_statements(warmed: HotPaths) -> None:
    logs = warmed.round(SIBLING_BSN, OTHER_PARENT_BSN)
    _pinned(logs["POST /signals without match"], POST_WITHOUT_MATCH[warmed.dialect], "POST")


def test_a_signal_forming_a_client_match_sends_its_pinned_statements(warmed: HotPaths) -> None:
    logs = warmed.round(SIBLING_BSN, OTHER_PARENT_BSN)
    _pinned(logs["POST /signals with match"], POST_WITH_MATCH[warmed.dialect], "POST (match)")


def test_reading_one_match_sends_its_pinned_statements(warmed: HotPaths) -> None:
    logs = warmed.round(SIBLING_BSN, OTHER_PARENT_BSN)
    _pinned(logs["GET /matches/{id}"], GET_MATCH[warmed.dialect], "GET /matches/{id}")


def test_listing_matches_sends_its_pinned_statements(warmed: HotPaths) -> None:
    logs = warmed.round(SIBLING_BSN, OTHER_PARENT_BSN)
    _pinned(logs["GET /matches"], LIST_MATCHES[warmed.dialect], "GET /matches")


def test_after_warm_up_no_hot_path_statement_misses_the_compiled_cache(warmed: HotPaths) -> None:
    """Every statement of the second round, on other children and parents, was compiled in
    the first: none is built with a shape that varies per request."""
    for child, parent in ((SIBLING_BSN, OTHER_PARENT_BSN), (OTHER_CHILD_BSN, THIRD_PARENT_BSN)):
        for request, log in warmed.round(child, parent).items():
            assert not log.misses(), (
                f"{request} compiled {len(log.misses())} statement(s) again after warm-up:\n"
                f"{log.describe()}"
            )


def test_a_gemeente_and_a_move_to_another_cost_no_statement_more(warmed: HotPaths) -> None:
    """Issue 13: whether a new signal moves the child to another gemeente is decided from
    the surroundings already read; the regievoerders are read with the match's notices."""
    warmed.gemeente_of = {
        warmed.anna.professional_id: "GM0228",
        warmed.bert.professional_id: "GM0363",
    }  # Bert's: a move
    logs = warmed.round(SIBLING_BSN, OTHER_PARENT_BSN)
    _pinned(logs["POST /signals without match"], POST_WITHOUT_MATCH[warmed.dialect], "POST")
    _pinned(logs["POST /signals with match"], POST_WITH_MATCH[warmed.dialect], "POST (move)")
    with warmed.engine.connect() as connection:
        moves = connection.scalar(
            select(func.count()).where(AuditEventRow.action == "api:signal:move-notified")
        )
    assert moves == 1
