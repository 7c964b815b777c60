"""GET /api/v1/signals/{id}/history: the earlier, archived signals on the same child, for the
signal's author only, audited (contract section 6)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from tests.conftest import CHILD_BSN, OTHER_CHILD_BSN, PARENT_BSN, ApiClient, FakeClock, World
from tests.integration.test_concurrency import race
from verwijsindex.models import AuditEventRow
from verwijsindex.pseudonym import parse_bsn
from verwijsindex.services import Core
from verwijsindex.services.auth import personal_token
from verwijsindex.services.history import HistoryShown, signal_history

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
JUSTIFICATION = "Informeren brengt het kind nu in gevaar."


def history(api: ApiClient, signal_id: str) -> Any:
    return api.get(f"/api/v1/signals/{signal_id}/history")


def items(api: ApiClient, signal_id: str) -> list[dict[str, Any]]:
    response = history(api, signal_id)
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    assert body["next"] is None
    found: list[dict[str, Any]] = body["items"]
    return found


def later(world: World, clock: FakeClock, *apis: ApiClient, days: int) -> None:
    """Move the clock on; tokens live an hour at most, so each caller gets a fresh one."""
    clock.advance(days=days)
    for api in apis:
        api.token = personal_token(world.core, api.professional_id)


def close(api: ApiClient, signal_id: str) -> None:
    assert api.delete(f"/api/v1/signals/{signal_id}").status_code == 204


def history_available(api: ApiClient, signal_id: str) -> bool:
    flag: bool = api.get(f"/api/v1/signals/{signal_id}").get_json()["historyAvailable"]
    return flag


def audit_rows(core: Core, action: str) -> list[dict[str, Any]]:
    with core.transaction(write=False) as tx:
        rows = tx.uow.session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == action).order_by(AuditEventRow.seq)
        )
        return [{c.key: getattr(r, c.key) for c in AuditEventRow.__table__.columns} for r in rows]


def pseudonym(core: Core, bsn: str) -> str:
    parsed = parse_bsn(bsn)
    assert parsed is not None
    return core.pseudonymiser.pseudonymise(parsed)


def test_a_closed_signal_shows_up_in_the_history_of_a_later_signal_on_the_child(
    world: World, clock: FakeClock
) -> None:
    anna = world.professional("Anna Jansen", "School A", "onderwijs")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    earlier = anna.signal(CHILD_BSN, parents=[PARENT_BSN])["id"]
    later(world, clock, anna, bert, days=30)
    close(anna, earlier)
    later(world, clock, anna, bert, days=10)

    current = bert.signal(CHILD_BSN, parents=[PARENT_BSN])
    assert current["historyAvailable"] is True
    assert items(bert, current["id"]) == [
        {
            "organisation": "School A",
            "sector": "onderwijs",
            "createdAt": "2026-11-23T09:30:00+00:00",
            "archivedAt": "2026-12-23T09:30:00+00:00",
            "region": None,  # federation: the other region holding a mirrored signal
        }
    ]


def test_history_lists_earlier_signals_of_several_organisations_newest_first_and_nothing_personal(
    world: World, clock: FakeClock
) -> None:
    anna = world.professional("Anna Jansen", "School A", "onderwijs")
    carla = world.professional("Carla Claes", "Huisartsen C", "gezondheidszorg")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    postponed = anna.post(
        "/api/v1/signals",
        json={
            "bsn": CHILD_BSN,
            "birthDate": "2012-05-01",
            "informatieplicht": {
                "postponement": {
                    "reason": "not_in_interest_of_child",
                    "justification": JUSTIFICATION,
                    "reviewOn": "2027-01-15",
                }
            },
        },
    )
    assert postponed.status_code == 201, postponed.get_json()
    first = postponed.get_json()["id"]
    later(world, clock, anna, carla, bert, days=1)
    close(anna, first)
    later(world, clock, anna, carla, bert, days=1)
    second = carla.signal(CHILD_BSN)["id"]
    later(world, clock, anna, carla, bert, days=1)
    close(carla, second)
    later(world, clock, anna, carla, bert, days=1)
    current = bert.signal(CHILD_BSN)["id"]

    response = history(bert, current)
    listed = response.get_json()["items"]
    assert [(i["organisation"], i["sector"]) for i in listed] == [
        ("Huisartsen C", "gezondheidszorg"),
        ("School A", "onderwijs"),
    ]
    assert [i["createdAt"][:10] for i in listed] == ["2026-11-25", "2026-11-23"]
    assert [i["archivedAt"][:10] for i in listed] == ["2026-11-26", "2026-11-24"]
    assert all(
        set(i) == {"organisation", "sector", "createdAt", "archivedAt", "region"} for i in listed
    )
    text = response.get_data(as_text=True)
    for secret in ("Anna", "Carla", "example.org", "+31", JUSTIFICATION, CHILD_BSN, first, second):
        assert secret not in text


def test_history_requests_are_audited_with_the_child_pseudonym_and_the_listed_signals(
    world: World, core: Core
) -> None:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    earlier = anna.signal(CHILD_BSN)["id"]
    close(anna, earlier)
    current = bert.signal(CHILD_BSN)["id"]

    assert len(items(bert, current)) == 1
    [record] = audit_rows(core, "api:signal:history")
    assert record["outcome"] == "success"
    assert record["actor_id"] == bert.professional_id
    assert str(record["object_id"]) == current
    assert record["subject_pseudonym"] == pseudonym(core, CHILD_BSN)
    assert record["related_ids"].split() == [earlier]
    assert CHILD_BSN not in str(record)


def test_history_agrees_with_history_available(world: World) -> None:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    anna_first = anna.signal(CHILD_BSN)["id"]
    bert_signal = bert.signal(CHILD_BSN)["id"]
    other_child = bert.signal(OTHER_CHILD_BSN)["id"]
    # Nothing archived yet: no history anywhere.
    for api, signal_id in ((anna, anna_first), (bert, bert_signal), (bert, other_child)):
        assert history_available(api, signal_id) is False
        assert items(api, signal_id) == []

    close(anna, anna_first)
    # Bert's signal now has history; Anna's archived signal has none besides itself, and
    # another child's signal is untouched.
    assert history_available(bert, bert_signal) is True
    assert len(items(bert, bert_signal)) == 1
    assert history_available(anna, anna_first) is False
    assert items(anna, anna_first) == []
    assert history_available(bert, other_child) is False
    assert items(bert, other_child) == []


def test_only_the_author_sees_the_history_others_get_the_same_404_as_for_a_missing_signal(
    world: World, core: Core
) -> None:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    colleague = world.professional("Cees Collega", "Jeugdteam B", "jeugdhulp")
    close(anna, anna.signal(CHILD_BSN)["id"])
    bert_signal = bert.signal(CHILD_BSN)["id"]

    for api, signal_id in ((anna, bert_signal), (colleague, bert_signal), (bert, UNKNOWN_ID)):
        response = history(api, signal_id)
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["detail"] == "No such signal."
        assert "School A" not in response.get_data(as_text=True)

    denied = audit_rows(core, "api:signal:history")
    assert [(r["outcome"], r["actor_id"], str(r["object_id"])) for r in denied] == [
        ("denied", anna.professional_id, bert_signal),
        ("denied", colleague.professional_id, bert_signal),
        ("denied", bert.professional_id, UNKNOWN_ID),
    ]
    assert all(r["subject_pseudonym"] is None and r["related_ids"] == "" for r in denied)


def test_someone_without_the_professional_role_cannot_ask_for_history(world: World) -> None:
    anna = world.professional("Anna Jansen", "School A")
    officer = world.professional("Pia Privacy", "Gemeente", roles=("privacy_officer",))
    signal_id = anna.signal(CHILD_BSN)["id"]
    assert history(officer, signal_id).status_code == 403


def test_history_with_a_trailing_slash_or_a_malformed_id_is_a_404(world: World) -> None:
    anna = world.professional("Anna Jansen", "School A")
    signal_id = anna.signal(CHILD_BSN)["id"]
    assert anna.get(f"/api/v1/signals/{signal_id}/history/").status_code == 404
    assert history(anna, "not-a-uuid").status_code == 404


def test_history_is_shown_once_and_every_later_request_is_gone_and_audited(
    world: World, core: Core
) -> None:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    close(anna, anna.signal(CHILD_BSN)["id"])
    current = bert.signal(CHILD_BSN)["id"]

    assert len(items(bert, current)) == 1
    for _ in range(2):
        again = history(bert, current)
        assert again.status_code == 410
        assert again.mimetype == "application/problem+json"
        assert again.get_json()["status"] == 410
        assert "School A" not in again.get_data(as_text=True)

    records = audit_rows(core, "api:signal:history")
    assert [(r["outcome"], str(r["object_id"])) for r in records] == [
        ("success", current),
        ("denied", current),
        ("denied", current),
    ]
    assert all(r["actor_id"] == bert.professional_id for r in records)
    assert all(CHILD_BSN not in str(r) for r in records)


def test_an_empty_history_does_not_count_as_shown(world: World) -> None:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    anna_signal = anna.signal(CHILD_BSN)["id"]
    bert_signal = bert.signal(CHILD_BSN)["id"]
    assert items(bert, bert_signal) == []
    assert items(bert, bert_signal) == []

    close(anna, anna_signal)
    assert len(items(bert, bert_signal)) == 1
    assert history(bert, bert_signal).status_code == 410


def test_the_history_of_one_signal_being_shown_leaves_another_signal_s_history_alone(
    world: World,
) -> None:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    carla = world.professional("Carla Claes", "Huisartsen C", "gezondheidszorg")
    close(anna, anna.signal(CHILD_BSN)["id"])
    bert_signal = bert.signal(CHILD_BSN)["id"]
    carla_signal = carla.signal(CHILD_BSN)["id"]

    assert len(items(bert, bert_signal)) == 1
    assert len(items(carla, carla_signal)) == 1
    assert history(bert, bert_signal).status_code == 410
    assert history(carla, carla_signal).status_code == 410


def test_the_410_is_documented_on_the_history_operation(world: World) -> None:
    anna = world.professional("Anna Jansen", "School A")
    document = anna.get("/api/v1/openapi.json").get_json()
    responses = document["paths"]["/signals/{signal_id}/history"]["get"]["responses"]
    assert "410" in responses
    assert "shown once" in responses["410"]["description"]


def test_of_two_requests_at_the_same_instant_exactly_one_gets_the_history(
    world: World, core: Core
) -> None:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    close(anna, anna.signal(CHILD_BSN)["id"])
    current = uuid.UUID(bert.signal(CHILD_BSN)["id"])
    actor = world.actor(bert)
    shown: list[int] = []
    gone: list[HistoryShown] = []

    def ask() -> None:
        try:
            shown.append(len(signal_history(core, actor, current)))
        except HistoryShown as refused:
            gone.append(refused)

    race([ask, ask, ask])
    assert shown == [1]
    assert len(gone) == 2
