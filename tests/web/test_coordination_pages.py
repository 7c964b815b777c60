"""The coordinator's pages (`/coordinatie`, Jeugdwet 7.1.3.3) through the real app and the real
login: contact details with errors next to their fields, the organisation's signals without
anything about the child, moving one signal, and the task "move N signals" that disappears
once a deactivated colleague's signals are all moved. Matches name the coordinator as the
contact until then.
"""

from __future__ import annotations

import html
import uuid

from sqlalchemy import select

from tests.conftest import CHILD_BSN, SIBLING_BSN, FakeClock, World
from tests.web.conftest import Browser, Login
from verwijsindex.models import SignalRow
from verwijsindex.services import Core, directory

COORDINATOR = ("professional", "coordinator")


def text(response: object) -> str:
    return html.unescape(response.get_data(as_text=True))  # type: ignore[attr-defined]


def signal_of(browser: Browser, bsn: str) -> str:
    """Register a signal through the API with a personal token of the same person."""
    from verwijsindex.services.auth import personal_token

    core: Core = browser.http.application.extensions["verwijsindex"]
    token = personal_token(core, browser.professional_id)
    response = browser.http.post(
        "/api/v1/signals",
        json={
            "bsn": bsn,
            "birthDate": "2015-03-14",
            "informatieplicht": {"childInformed": True, "parentsInformed": True},
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.get_json()
    signal_id: str = response.get_json()["id"]
    return signal_id


def test_only_coordinators_see_the_navigation_item_and_the_pages(login: Login) -> None:
    cora = login("Cora Coordinator", roles=COORDINATOR)
    anna = login("Anna Jansen")
    assert 'href="/coordinatie"' in text(cora.get("/"))
    assert 'href="/coordinatie"' not in text(anna.get("/"))
    for path in ("/coordinatie", "/coordinatie/signalen"):
        assert cora.get(path).status_code == 200
        assert anna.get(path).status_code == 403
    # A coordinator without the professional role has the start page and their own pages only.
    cees = login("Cees Coord", roles=("coordinator",))
    start = text(cees.get("/"))
    assert 'href="/coordinatie"' in start and 'href="/signalen"' not in start
    assert cees.get("/coordinatie").status_code == 200
    assert cees.get("/matches").status_code == 403


def test_the_coordinator_edits_contact_details_with_errors_next_to_the_fields(
    login: Login,
) -> None:
    cora = login("Cora Coordinator", roles=COORDINATOR)
    anna = login("Anna Jansen")
    login("Bram Bakker")
    path = f"/coordinatie/professionals/{anna.professional_id}"
    form = cora.get(path)
    assert 'value="anna.jansen@example.org"' in text(form)

    refused = cora.post(path, {"name": "", "email": "geen-adres", "phone": "+31 20 555 0101"})
    assert refused.status_code == 400
    page = text(refused)
    assert 'class="error-summary"' in page
    assert 'id="name-error"' in page and "Vul dit veld in." in page
    assert 'id="email-error"' in page and "geen geldig e-mailadres" in page
    assert 'value="+31 20 555 0101"' in page  # what was typed is kept

    taken = cora.post(
        path, {"name": "Anna", "email": "bram.bakker@example.org", "phone": "0612345678"}
    )
    assert taken.status_code == 409
    assert "al in gebruik" in text(taken)

    done = cora.post(
        path, {"name": "Anna Jansen-Smit", "email": "a.smit@example.org", "phone": "0612345678"}
    )
    overview = text(cora.follow(done))
    assert "De contactgegevens zijn opgeslagen." in overview
    assert "Anna Jansen-Smit" in overview and "a.smit@example.org" in overview


def test_another_organisations_professional_is_not_found(login: Login) -> None:
    cora = login("Cora Coordinator", roles=COORDINATOR)
    wim = login("Wim Wijkteam", "Team B", "jeugdhulp")
    assert cora.get(f"/coordinatie/professionals/{wim.professional_id}").status_code == 404
    response = cora.post(
        f"/coordinatie/professionals/{wim.professional_id}",
        {"name": "X", "email": "x@example.org", "phone": "0612345678"},
    )
    assert response.status_code == 404


def test_the_signals_page_filters_and_shows_nothing_about_children(
    login: Login, core: Core
) -> None:
    cora = login("Cora Coordinator", roles=COORDINATOR)
    anna = login("Anna Jansen")
    bram = login("Bram Bakker")
    signal_of(anna, CHILD_BSN)
    signal_of(bram, SIBLING_BSN)
    everything = text(cora.get("/coordinatie/signalen"))
    assert everything.count('class="card-title"') == 2
    only_anna = text(cora.get(f"/coordinatie/signalen?professional={anna.professional_id}"))
    assert only_anna.count('class="card-title"') == 1
    assert text(cora.get("/coordinatie/signalen?status=archived")).count('class="card-title"') == 0
    with core.transaction(write=False) as tx:
        pseudonyms = list(tx.uow.session.scalars(select(SignalRow.child_pseudonym)))
    for page in (everything, only_anna):
        for secret in (
            CHILD_BSN,
            SIBLING_BSN,
            "2015-03-14",
            "14-03-2015",
            "14 maart 2015",
            *pseudonyms,
        ):
            assert secret not in page


def test_moving_one_signal_and_a_refusal_shown_next_to_its_signal(login: Login, core: Core) -> None:
    cora = login("Cora Coordinator", roles=COORDINATOR)
    anna = login("Anna Jansen")
    bram = login("Bram Bakker")
    signal_id = signal_of(anna, CHILD_BSN)
    signal_of(bram, CHILD_BSN)
    path = f"/coordinatie/signalen/{signal_id}/overdragen"
    refused = cora.post(path, {"professional_id": str(bram.professional_id)})
    assert refused.status_code == 400
    assert "al een actief signaal op dezelfde jeugdige" in text(refused)
    assert f'id="to-{signal_id}-error"' in text(refused)
    empty = cora.post(path, {"professional_id": ""})
    assert empty.status_code == 400 and "Kies een collega" in text(empty)

    moved = cora.post(path, {"professional_id": str(cora.professional_id)})
    assert "Het signaal is overgedragen." in text(cora.follow(moved))
    with core.transaction(write=False) as tx:
        holder = tx.uow.session.scalar(
            select(SignalRow.professional_id).where(SignalRow.id == uuid.UUID(signal_id))
        )
    assert holder == cora.professional_id


def test_a_deactivated_colleagues_signals_are_a_task_until_all_are_moved(
    login: Login, core: Core, world: World, clock: FakeClock
) -> None:
    cora = login("Cora Coordinator", roles=COORDINATOR)
    anna = login("Anna Jansen")
    bram = login("Bram Bakker")
    wim = login("Wim Wijkteam", "Team B", "jeugdhulp")
    bea = world.professional("Bea Beheer", "Regio", roles=("beheerder",))
    for bsn in (CHILD_BSN, SIBLING_BSN):
        signal_of(anna, bsn)
    signal_of(wim, CHILD_BSN)
    assert "Er zijn geen signalen om over te dragen." in text(cora.get("/coordinatie"))

    directory.deactivate_professional(core, world.actor(bea), anna.professional_id)

    overview = text(cora.get("/coordinatie"))
    assert "2 signalen overdragen" in overview
    assert "Anna Jansen is gedeactiveerd en heeft nog 2 actieve" in overview
    # The match partner sees the coordinator as the contact meanwhile.
    match_page = text(wim.get("/matches"))
    match_path = match_page.split('href="/matches/')[1].split('"')[0]
    seen = text(wim.get(f"/matches/{match_path}"))
    assert "Niet meer werkzaam" in seen
    assert "Cora Coordinator (coördinator van School A)" in seen

    task = f"/coordinatie/overdragen/{anna.professional_id}"
    refused = cora.post(task, {"professional_id": str(wim.professional_id)})
    assert refused.status_code == 400
    assert "Kies een collega van uw organisatie." in text(refused)
    done = cora.post(task, {"professional_id": str(bram.professional_id)})
    after = text(cora.follow(done))
    assert "De signalen zijn overgedragen." in after
    assert "Er zijn geen signalen om over te dragen." in after
    seen = text(wim.get(f"/matches/{match_path}"))
    assert "Bram Bakker" in seen and "Niet meer werkzaam" not in seen
