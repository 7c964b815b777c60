"""The organisation's coordinator through the real app (issue 13 item 3, contract section 10,
Jeugdwet 7.1.3.3): contact details, the organisation's signals, transfers, and what matches
show while a deactivated colleague's signals wait to be moved.

Every refusal is a problem+json; another organisation's objects answer 404, a system token
403 (the coordinator acts only in person); nothing a coordinator receives says anything
about a child.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import (
    CHILD_BSN,
    OTHER_CHILD_BSN,
    PARENT_BSN,
    SIBLING_BSN,
    ApiClient,
    FakeClock,
    World,
)
from tests.e2e.test_auth import assert_problem, bearer, system_token
from verwijsindex.models import AuditEventRow, ProfessionalRow, SignalRow
from verwijsindex.services import Core, directory
from verwijsindex.services.auth import personal_token

COORDINATOR = ("professional", "coordinator")
BIRTH_DATE = "2015-03-14"


def professionals_url(professional_id: object) -> str:
    return f"/api/v1/professionals/{professional_id}"


def signals_url(organisation_id: object) -> str:
    return f"/api/v1/organisations/{organisation_id}/signals"


def transfer_url(signal_id: object) -> str:
    return f"/api/v1/signals/{signal_id}/transfer"


def audit_rows(core: Core, action: str) -> list[tuple[str, uuid.UUID | None, str | None]]:
    """Outcome, object and related ids of the records whose action ends in `action`."""
    with core.transaction(write=False) as tx:
        rows = tx.uow.session.execute(
            select(AuditEventRow.outcome, AuditEventRow.object_id, AuditEventRow.related_ids)
            .where(AuditEventRow.action.endswith(action))
            .order_by(AuditEventRow.seq)
        ).all()
    return [(o, i, r) for o, i, r in rows]


def child_data_of(core: Core) -> list[str]:
    """Every child pseudonym and birth date stored, and the BSNs used: none may appear in a
    coordinator's response."""
    with core.transaction(write=False) as tx:
        rows = tx.uow.session.execute(
            select(SignalRow.child_pseudonym, SignalRow.child_birth_date)
        ).all()
    found = [CHILD_BSN, SIBLING_BSN, OTHER_CHILD_BSN, PARENT_BSN, BIRTH_DATE, "14-03-2015"]
    for pseudonym, birth_date in rows:
        found += [pseudonym, birth_date.isoformat()]
    return found


def assert_nothing_about_children(core: Core, *responses: Any) -> None:
    forbidden = child_data_of(core)
    for response in responses:
        text = response.get_data(as_text=True)
        for value in forbidden:
            assert value not in text, f"{value!r} in a coordinator's response"


class Team:
    """Two organisations; in the first a coordinator and two professionals."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.cora = world.professional("Cora Coordinator", "School A", roles=COORDINATOR)
        self.anna = world.professional("Anna Jansen", "School A")
        self.bram = world.professional("Bram Bakker", "School A")
        self.olaf = world.professional("Olaf Other", "Team B", "jeugdhulp", roles=COORDINATOR)
        self.wim = world.professional("Wim Wijkteam", "Team B", "jeugdhulp")
        self.org = self.anna.organisation_id


def team(world: World) -> Team:
    return Team(world)


# --- PATCH /professionals/{id} -------------------------------------------------------------


def test_a_coordinator_changes_a_colleagues_contact_details_encrypted_at_rest(
    world: World, core: Core
) -> None:
    t = team(world)
    response = t.cora.patch(
        professionals_url(t.anna.professional_id),
        json={"email": "a.jansen@school-a.example", "phone": "+31 20 555 0101"},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["email"] == "a.jansen@school-a.example"
    assert body["phone"] == "+31 20 555 0101"
    assert body["name"] == "Anna Jansen"  # not sent: unchanged

    with core.transaction(write=False) as tx:
        row = tx.uow.session.get(ProfessionalRow, t.anna.professional_id)
        assert row is not None
        stored = row.email_enc + row.phone_enc + row.name_enc
        lookup = row.email_lookup
        assert lookup == tx.people.email_lookup("A.Jansen@school-a.example")
    assert b"school-a" not in stored and b"555" not in stored
    # The new address is the login name now, and the old one no longer finds anyone.
    with core.transaction(write=False) as tx:
        assert (
            tx.uow.session.scalar(
                select(ProfessionalRow.id).where(
                    ProfessionalRow.email_lookup
                    == tx.people.email_lookup("anna.jansen@example.org")
                )
            )
            is None
        )
    [(outcome, object_id, related)] = audit_rows(core, "api:professional:update-contact")
    assert (outcome, object_id, related) == ("success", t.anna.professional_id, str(t.org))


def test_the_changed_person_sees_their_new_details_at_once_despite_the_actor_cache(
    world: World,
) -> None:
    t = team(world)
    anna_signal = t.anna.signal(CHILD_BSN)  # Anna's token is resolved and cached now
    assert anna_signal["professional"]["name"] == "Anna Jansen"
    t.cora.patch(professionals_url(t.anna.professional_id), json={"name": "Anna Jansen-Smit"})
    again = t.anna.get(f"/api/v1/signals/{anna_signal['id']}").get_json()
    assert again["professional"]["name"] == "Anna Jansen-Smit"


def test_contact_details_are_checked_like_at_creation_every_problem_at_once(
    world: World,
) -> None:
    t = team(world)
    response = t.cora.patch(
        professionals_url(t.anna.professional_id),
        json={"name": "  ", "email": "not-an-address", "phone": "call me"},
    )
    body = assert_problem(response, 400)
    assert sorted(p["name"] for p in body["invalidParams"]) == ["email", "name", "phone"]
    empty = assert_problem(t.cora.patch(professionals_url(t.anna.professional_id), json={}), 400)
    assert empty["invalidParams"]
    unknown = t.cora.patch(professionals_url(t.anna.professional_id), json={"roles": ["x"]})
    assert assert_problem(unknown, 400)["invalidParams"][0]["name"] == "roles"


def test_an_e_mail_address_in_use_by_another_person_is_a_409(world: World) -> None:
    t = team(world)
    response = t.cora.patch(
        professionals_url(t.anna.professional_id), json={"email": "Bram.Bakker@example.org"}
    )
    assert "already in use" in assert_problem(response, 409)["detail"]


def test_a_coordinator_of_another_organisation_gets_404_and_it_is_audited(
    world: World, core: Core
) -> None:
    t = team(world)
    response = t.olaf.patch(professionals_url(t.anna.professional_id), json={"name": "X"})
    assert_problem(response, 404)
    missing = t.olaf.patch(professionals_url(uuid.uuid4()), json={"name": "X"})
    assert missing.get_json()["detail"] == response.get_json()["detail"]  # cannot be probed
    assert [o for o, _, _ in audit_rows(core, "api:professional:update-contact")] == [
        "denied",
        "denied",
    ]


def test_a_plain_professional_may_not_change_contact_details(world: World) -> None:
    t = team(world)
    response = t.anna.patch(professionals_url(t.bram.professional_id), json={"name": "X"})
    assert "coordinator" in assert_problem(response, 403)["detail"]


def test_a_beheerder_may_change_anyones_contact_details(world: World) -> None:
    t = team(world)
    bea = world.professional("Bea Beheer", "Regio", roles=("beheerder",))
    response = bea.patch(professionals_url(t.wim.professional_id), json={"phone": "020 555 0000"})
    assert response.status_code == 200, response.get_json()


def test_a_system_token_naming_a_coordinator_is_refused_everywhere(
    world: World, core: Core, client: FlaskClient
) -> None:
    t = team(world)
    headers = bearer(system_token(client, core, t.org), t.cora.professional_id)
    signal_id = t.anna.signal(CHILD_BSN)["id"]
    refusals = [
        client.patch(
            professionals_url(t.anna.professional_id), json={"name": "X"}, headers=headers
        ),
        client.get(signals_url(t.org), headers=headers),
        client.post(
            transfer_url(signal_id),
            json={"professionalId": str(t.bram.professional_id)},
            headers=headers,
        ),
    ]
    for response in refusals:
        assert "system token" in assert_problem(response, 403)["detail"]
    # In person, with a personal token, the same coordinator may.
    assert t.cora.get(signals_url(t.org)).status_code == 200


# --- GET /organisations/{id}/signals --------------------------------------------------------


def test_the_coordinator_lists_the_organisations_signals_without_anything_about_children(
    world: World, core: Core, clock: FakeClock
) -> None:
    t = team(world)
    first = t.anna.signal(CHILD_BSN, parents=[PARENT_BSN], gemeente="GM0363")
    clock.advance(minutes=1)
    second = t.bram.signal(SIBLING_BSN, parents=[PARENT_BSN])
    t.wim.signal(OTHER_CHILD_BSN)  # another organisation: not listed
    response = t.cora.get(signals_url(t.org))
    assert response.status_code == 200, response.get_json()
    items = response.get_json()["items"]
    assert [i["id"] for i in items] == [second["id"], first["id"]]  # newest first
    assert set(items[1]) == {
        "id",
        "status",
        "createdAt",
        "activeUntil",
        "archivedAt",
        "gemeente",
        "matchCount",
        "professional",
    }
    assert items[1]["professional"] == {
        "id": str(t.anna.professional_id),
        "name": "Anna Jansen",
        "active": True,
    }
    assert items[1]["gemeente"] == "GM0363"
    assert [i["matchCount"] for i in items] == [1, 1]  # siblings of one family
    assert_nothing_about_children(core, response)
    [(outcome, organisation, related)] = audit_rows(core, "api:organisation:signal-list")
    assert outcome == "success" and organisation == t.org
    assert sorted((related or "").split()) == sorted([first["id"], second["id"]])


def test_the_signal_list_filters_by_professional_and_status_and_pages(world: World) -> None:
    t = team(world)
    ids = [t.anna.signal(bsn)["id"] for bsn in (CHILD_BSN, SIBLING_BSN, OTHER_CHILD_BSN)]
    t.bram.signal(CHILD_BSN)
    t.anna.delete(f"/api/v1/signals/{ids[0]}")
    only_anna = t.cora.get(
        signals_url(t.org), query_string={"professionalId": str(t.anna.professional_id)}
    )
    assert sorted(i["id"] for i in only_anna.get_json()["items"]) == sorted(ids)
    archived = t.cora.get(signals_url(t.org), query_string={"status": "archived"}).get_json()
    assert [(i["id"], i["status"]) for i in archived["items"]] == [(ids[0], "archived")]
    assert archived["items"][0]["archivedAt"] is not None

    seen: list[str] = []
    url: str | None = signals_url(t.org) + "?pageSize=3"
    while url:
        page = t.cora.get(url.removeprefix("http://localhost:8080")).get_json()
        seen += [i["id"] for i in page["items"]]
        url = page["next"]
    assert len(seen) == 4 and len(set(seen)) == 4
    bad = t.cora.get(signals_url(t.org), query_string={"status": "gone", "childBsn": CHILD_BSN})
    names = sorted(p["name"] for p in assert_problem(bad, 400)["invalidParams"])
    assert names == ["childBsn", "status"]
    assert CHILD_BSN not in bad.get_data(as_text=True)


def test_the_signal_list_is_for_the_organisations_own_coordinator_only(
    world: World, core: Core
) -> None:
    t = team(world)
    assert_problem(t.olaf.get(signals_url(t.org)), 404)
    assert_problem(t.cora.get(signals_url(uuid.uuid4())), 404)
    assert_problem(t.anna.get(signals_url(t.org)), 403)
    outcomes = [o for o, _, _ in audit_rows(core, "api:organisation:signal-list")]
    assert outcomes == ["denied", "denied", "denied"]


# --- POST /signals/{id}/transfer --------------------------------------------------------------


def test_a_transfer_moves_the_signal_and_its_matches_name_the_colleague(
    world: World, core: Core
) -> None:
    t = team(world)
    signal = t.anna.signal(CHILD_BSN)
    match_id = t.wim.signal(CHILD_BSN)["matches"][0]["id"]
    t.wim.put(
        f"/api/v1/matches/{match_id}/regisseur",
        json={"professionalId": str(t.anna.professional_id)},
    )

    response = t.cora.post(
        transfer_url(signal["id"]), json={"professionalId": str(t.bram.professional_id)}
    )
    assert response.status_code == 200, response.get_json()
    moved = response.get_json()
    assert moved["id"] == signal["id"]
    assert moved["professional"]["id"] == str(t.bram.professional_id)
    assert moved["matchCount"] == 1
    assert_nothing_about_children(core, response)

    seen_by_wim = t.wim.get(f"/api/v1/matches/{match_id}").get_json()
    assert sorted(p["name"] for p in seen_by_wim["participants"]) == ["Bram Bakker", "Wim Wijkteam"]
    assert seen_by_wim["regisseur"]["name"] == "Bram Bakker"  # the role moved with the signal
    assert t.bram.get(f"/api/v1/matches/{match_id}").status_code == 200
    assert_problem(t.anna.get(f"/api/v1/matches/{match_id}"), 404)  # no longer hers
    assert t.bram.get(f"/api/v1/signals/{signal['id']}").status_code == 200
    [(outcome, object_id, related)] = audit_rows(core, "api:signal:transfer")
    assert (outcome, object_id) == ("success", uuid.UUID(signal["id"]))
    assert (related or "").split() == [
        str(t.anna.professional_id),
        str(t.bram.professional_id),
        match_id,
    ]


def test_the_author_may_transfer_and_a_repeat_changes_nothing(world: World, core: Core) -> None:
    t = team(world)
    signal = t.anna.signal(CHILD_BSN)
    body = {"professionalId": str(t.bram.professional_id)}
    first = t.anna.post(transfer_url(signal["id"]), json=body)
    assert first.status_code == 200, first.get_json()
    # Anna no longer holds it: to her it is now someone else's signal.
    assert_problem(t.anna.post(transfer_url(signal["id"]), json=body), 404)
    again = t.cora.post(transfer_url(signal["id"]), json=body)
    assert again.status_code == 200
    assert again.get_json()["professional"]["id"] == str(t.bram.professional_id)
    outcomes = [o for o, _, _ in audit_rows(core, "api:signal:transfer")]
    assert outcomes == ["success", "denied", "success"]


def test_transfer_refusals_are_precise_problems(world: World, core: Core) -> None:
    t = team(world)
    bea = world.professional("Bea Beheer", "Regio", roles=("beheerder",))
    signal_id = t.anna.signal(CHILD_BSN)["id"]
    t.bram.signal(CHILD_BSN)  # Bram already has one on this child
    gone = world.professional("Gerrit Gone", "School A")
    directory.deactivate_professional(core, world.actor(bea), gone.professional_id)
    only_coordinator = world.professional("Cees Coord", "School A", roles=("coordinator",))

    def refused(to: object, status: int = 400, by: ApiClient | None = None) -> dict[str, Any]:
        response = (by or t.cora).post(transfer_url(signal_id), json={"professionalId": str(to)})
        return assert_problem(response, status)

    other = refused(t.wim.professional_id)
    unknown = refused(uuid.uuid4())
    assert other["invalidParams"] == unknown["invalidParams"]  # ids of others not probed
    assert other["invalidParams"][0]["name"] == "professionalId"
    assert "deactivated" in refused(gone.professional_id)["invalidParams"][0]["reason"]
    assert (
        "role professional"
        in refused(only_coordinator.professional_id)["invalidParams"][0]["reason"]
    )
    assert "already has an active signal" in refused(t.bram.professional_id, 409)["detail"]
    assert refused(t.bram.professional_id, 404, by=t.olaf)  # another organisation's coordinator
    assert refused(t.cora.professional_id, 404, by=t.bram)  # a colleague, not the author

    assert_problem(
        t.cora.post(
            transfer_url(uuid.uuid4()), json={"professionalId": str(t.bram.professional_id)}
        ),
        404,
    )
    assert_problem(t.cora.post(transfer_url(signal_id), json={"professionalId": "x"}), 400)
    assert_problem(t.cora.post(transfer_url(signal_id), json={}), 400)

    t.anna.delete(f"/api/v1/signals/{signal_id}")
    assert "archived" in refused(t.cora.professional_id, 409)["detail"]
    with core.transaction(write=False) as tx:
        holder = tx.uow.session.scalar(
            select(SignalRow.professional_id).where(SignalRow.id == uuid.UUID(signal_id))
        )
    assert holder == t.anna.professional_id  # nothing moved


def test_a_transfer_that_leaves_one_professional_on_both_siblings_dissolves_the_family_match(
    world: World,
) -> None:
    t = team(world)
    signal = t.anna.signal(CHILD_BSN, parents=[PARENT_BSN])
    [family] = t.wim.signal(SIBLING_BSN, parents=[PARENT_BSN])["matches"]
    assert family["type"] == "family"
    # Wim's organisation's coordinator moves Wim's signal? No: Anna's goes to... Anna's own
    # colleague; the family stays, since Wim is still in it.
    moved = t.anna.post(
        transfer_url(signal["id"]), json={"professionalId": str(t.bram.professional_id)}
    )
    assert moved.get_json()["matchCount"] == 1
    assert t.bram.get(f"/api/v1/matches/{family['id']}").status_code == 200


# --- deactivation: matches name a coordinator until the signals are moved -----------------------


def test_until_moved_a_deactivated_participant_is_reached_through_the_coordinator(
    world: World, core: Core
) -> None:
    t = team(world)
    bea = world.professional("Bea Beheer", "Regio", roles=("beheerder",))
    signal = t.anna.signal(CHILD_BSN)
    match_id = t.wim.signal(CHILD_BSN)["matches"][0]["id"]
    before = t.wim.get(f"/api/v1/matches/{match_id}").get_json()
    assert all(p["active"] and p["contact"] is None for p in before["participants"])

    directory.deactivate_professional(core, world.actor(bea), t.anna.professional_id)

    seen = t.wim.get(f"/api/v1/matches/{match_id}").get_json()
    anna = next(
        p for p in seen["participants"] if p["professionalId"] == str(t.anna.professional_id)
    )
    assert anna["active"] is False
    assert anna["contact"] == {
        "professionalId": str(t.cora.professional_id),
        "name": "Cora Coordinator",
        "phone": "+31 6 1234 5678",
        "email": "cora.coordinator@example.org",
        "role": "coordinator",
    }
    listed = t.wim.get("/api/v1/matches").get_json()["items"][0]
    assert [p["contact"] for p in listed["participants"]] == [
        p["contact"] for p in seen["participants"]
    ]
    wim = next(p for p in seen["participants"] if p["professionalId"] == str(t.wim.professional_id))
    assert wim["contact"] is None

    t.cora.post(transfer_url(signal["id"]), json={"professionalId": str(t.bram.professional_id)})
    after = t.wim.get(f"/api/v1/matches/{match_id}").get_json()
    assert all(p["active"] and p["contact"] is None for p in after["participants"])


def test_the_task_counts_signals_left_behind_and_goes_to_zero_after_moving_them_all(
    world: World, core: Core
) -> None:
    from verwijsindex.services import coordination, transfer

    t = team(world)
    bea = world.professional("Bea Beheer", "Regio", roles=("beheerder",))
    for bsn in (CHILD_BSN, SIBLING_BSN, OTHER_CHILD_BSN):
        t.anna.signal(bsn)
    t.bram.signal(CHILD_BSN)  # Bram cannot take Anna's signal on this child
    directory.deactivate_professional(core, world.actor(bea), t.anna.professional_id)
    cora = world.actor(t.cora)
    [task] = coordination.left_behind(core, cora, t.org)
    assert (task.professional.name, task.count) == ("Anna Jansen", 3)

    result = transfer.transfer_all(core, cora, t.anna.professional_id, t.bram.professional_id)
    assert (result.moved, result.refused) == (2, 1)
    [task] = coordination.left_behind(core, cora, t.org)
    assert task.count == 1
    result = transfer.transfer_all(core, cora, t.anna.professional_id, t.cora.professional_id)
    assert (result.moved, result.refused) == (1, 0)
    assert coordination.left_behind(core, cora, t.org) == []


def test_a_personal_token_of_a_coordinator_who_lost_the_role_stops_at_once(
    world: World, core: Core
) -> None:
    t = team(world)
    bea = world.professional("Bea Beheer", "Regio", roles=("beheerder",))
    assert t.cora.get(signals_url(t.org)).status_code == 200
    from verwijsindex.domain import Role

    directory.set_roles(core, world.actor(bea), t.cora.professional_id, {Role.PROFESSIONAL})
    assert_problem(t.cora.get(signals_url(t.org)), 401)
    fresh = personal_token(core, t.cora.professional_id)
    response = t.cora.http.get(signals_url(t.org), headers={"Authorization": f"Bearer {fresh}"})
    assert_problem(response, 403)
    assert json.loads(response.get_data(as_text=True))["status"] == 403


def test_without_an_active_coordinator_a_deactivated_participant_has_no_contact(
    world: World, core: Core
) -> None:
    anna = world.professional("Anna Jansen", "School C")
    gone = world.professional("Gerda Coordinator", "School C", roles=COORDINATOR)
    wim = world.professional("Wim Wijkteam", "Team B", "jeugdhulp")
    bea = world.professional("Bea Beheer", "Regio", roles=("beheerder",))
    anna.signal(CHILD_BSN)
    match_id = wim.signal(CHILD_BSN)["matches"][0]["id"]
    for person in (gone, anna):  # the only coordinator leaves first
        directory.deactivate_professional(core, world.actor(bea), person.professional_id)
    seen = wim.get(f"/api/v1/matches/{match_id}").get_json()
    former = next(p for p in seen["participants"] if p["name"] == "Anna Jansen")
    assert (former["active"], former["contact"]) == (False, None)


def test_moving_all_signals_is_for_a_coordinator_of_the_same_organisation(
    world: World, core: Core
) -> None:
    import pytest

    from verwijsindex.domain import Forbidden, NotFound
    from verwijsindex.services import transfer

    t = team(world)
    t.anna.signal(CHILD_BSN)
    with pytest.raises(Forbidden):
        transfer.transfer_all(
            core, world.actor(t.bram), t.anna.professional_id, t.bram.professional_id
        )
    with pytest.raises(NotFound):
        transfer.transfer_all(
            core, world.actor(t.olaf), t.anna.professional_id, t.wim.professional_id
        )
    with pytest.raises(NotFound):
        transfer.transfer_all(core, world.actor(t.cora), uuid.uuid4(), t.bram.professional_id)
    outcomes = [o for o, _, _ in audit_rows(core, "signal:transfer")]
    assert outcomes == ["denied", "denied", "denied"]
