"""The regievoerder's page `/regie` (Jeugdwet 7.1.3.2), through the real app and login:
overdue matches first with contact details and who has followed up, the contact check,
the filter by gemeente by name; and nothing else for the regievoerder."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tests.conftest import CHILD_BSN, OTHER_CHILD_BSN, FakeClock, core_of
from tests.web.conftest import Browser, Login
from verwijsindex.services.auth import personal_token

TYPED = (CHILD_BSN, OTHER_CHILD_BSN)


def register(browser: Browser, bsn: str, gemeente: str) -> None:
    """A signal through the API of the same app, as the professional's system would."""
    token = personal_token(core_of(browser.http.application), browser.professional_id)
    body = {
        "bsn": bsn,
        "birthDate": "2015-03-14",
        "parentBsns": [],
        "informatieplicht": {"childInformed": True, "parentsInformed": True},
        "gemeente": gemeente,
    }
    response = browser.http.post(
        "/api/v1/signals", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201, response.get_json()


def matches_on(html: str) -> list[str]:
    return re.findall(r'id="match-([0-9a-f-]{36})"', html)


def assert_no_bsn(browser: Browser) -> None:
    for response in browser.responses:
        text = response.get_data(as_text=True)
        for bsn in TYPED:
            assert bsn not in text


def test_overdue_matches_come_first_with_contact_details_and_follow_up(
    login: Login, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 12, 21, 9, 0, tzinfo=UTC)
    anna = login("Anna de Vries", "Basisschool De Linde", "onderwijs")
    bram = login("Bram Bakker", "Wijkteam Noord", "jeugdhulp", phone="+31 6 5555 1234")
    register(anna, CHILD_BSN, "GM0228")
    register(bram, CHILD_BSN, "GM0228")
    clock.now = datetime(2027, 1, 6, 8, 0, tzinfo=UTC)  # 10 working days later: overdue
    anna.log_in_again(clock)
    bram.log_in_again(clock)
    register(anna, OTHER_CHILD_BSN, "GM0228")
    register(bram, OTHER_CHILD_BSN, "GM0228")  # a fresh match: open
    rita = login(
        "Rita Regie",
        "Gemeente Ede",
        "maatschappelijke_ondersteuning",
        roles=("regievoerder",),
        gemeenten=("GM0228",),
    )

    page = rita.get("/regie")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Gemeente: Ede" in text
    overdue, fresh = matches_on(text)
    assert text.index("Niet op tijd opgevolgd") < text.index(f"match-{overdue}")
    assert text.index(f"match-{overdue}") < text.index("Nog niet door iedereen opgevolgd")
    assert text.index("Nog niet door iedereen opgevolgd") < text.index(f"match-{fresh}")
    assert "niet opgevolgd, te laat" in text
    assert "bram.bakker@example.org" in text and "tel:+31655551234" in text
    assert 'href="/regie"' in text  # the navigation offers the page
    assert 'href="/matches"' not in text and 'href="/signalen"' not in text
    assert_no_bsn(rita)


def test_the_check_is_recorded_and_shown(login: Login) -> None:
    anna = login("Anna de Vries", "Basisschool De Linde", "onderwijs")
    bram = login("Bram Bakker", "Wijkteam Noord", "jeugdhulp")
    register(anna, CHILD_BSN, "GM0228")
    register(bram, CHILD_BSN, "GM0228")
    rita = login(
        "Rita Regie", "Gemeente Ede", "maatschappelijke_ondersteuning", roles=("regievoerder",)
    )
    (match_id,) = matches_on(rita.get("/regie").get_data(as_text=True))
    shown = rita.follow(rita.post(f"/regie/matches/{match_id}/gecontroleerd"))
    text = shown.get_data(as_text=True)
    assert "U heeft vastgelegd dat het contact in deze match is gecontroleerd." in text
    assert "Contact gecontroleerd</span> op" in text and "door Rita Regie" in text
    # Without the CSRF token nothing is recorded.
    assert rita.post(f"/regie/matches/{match_id}/gecontroleerd", csrf=False).status_code == 400


def test_the_filter_offers_gemeenten_by_name_within_the_scope(login: Login) -> None:
    anna = login("Anna de Vries", "Basisschool De Linde", "onderwijs")
    bram = login("Bram Bakker", "Wijkteam Noord", "jeugdhulp")
    register(anna, CHILD_BSN, "GM0228")
    register(bram, CHILD_BSN, "GM0228")
    register(anna, OTHER_CHILD_BSN, "GM0363")
    register(bram, OTHER_CHILD_BSN, "GM0363")
    rob = login("Rob Regio", "Regio", "maatschappelijke_ondersteuning", roles=("regievoerder",))
    everything = rob.get("/regie").get_data(as_text=True)
    assert len(matches_on(everything)) == 2
    assert '<option value="GM0363">Amsterdam</option>' in everything
    assert len(matches_on(rob.get("/regie?gemeente=GM0363").get_data(as_text=True))) == 1
    rita = login(
        "Rita Regie",
        "Gemeente Ede",
        "maatschappelijke_ondersteuning",
        roles=("regievoerder",),
        gemeenten=("GM0228",),
    )
    mine = rita.get("/regie").get_data(as_text=True)
    assert len(matches_on(mine)) == 1
    assert "Amsterdam" not in mine and '<option value="GM0228">Ede</option>' in mine
    assert rita.get("/regie?gemeente=GM0363").status_code == 403


def test_only_a_regievoerder_reaches_the_page_and_a_regievoerder_nothing_else(
    login: Login,
) -> None:
    anna = login("Anna de Vries")
    assert anna.get("/regie").status_code == 403
    assert 'href="/regie"' not in anna.get("/").get_data(as_text=True)
    rita = login(
        "Rita Regie", "Gemeente Ede", "maatschappelijke_ondersteuning", roles=("regievoerder",)
    )
    for path in ("/matches", "/signalen", "/signalen/nieuw", "/beheer", "/privacy"):
        assert rita.get(path).status_code == 403, path
