"""Issue 14: the start page counts what needs action, with links, per role (see
`verwijsindex.services.tasks` for what each count means)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

from tests.conftest import CHILD_BSN, OTHER_CHILD_BSN, SIBLING_BSN, FakeClock, World
from tests.web.conftest import Browser, Login
from tests.web.test_coordination_pages import signal_of
from tests.web.test_regie_pages import register as register_in
from verwijsindex.services import Core, directory


def start(browser: Browser) -> str:
    answer = browser.get("/")
    assert answer.status_code == 200
    return html.unescape(answer.get_data(as_text=True))


def task(page: str, href: str) -> str:
    """The text of the count linking to `href`, or '' if there is none."""
    found = re.search(
        rf'<li><a href="{href}"><strong class="count">(\d+)</strong> ([^<]*)</a>', page
    )
    return f"{found.group(1)} {found.group(2)}" if found else ""


def test_a_new_match_then_an_overdue_follow_up_then_nothing(login: Login, clock: FakeClock) -> None:
    clock.now = datetime(2026, 12, 21, 9, 0, tzinfo=UTC)
    anna = login("Anna de Vries", "Basisschool De Linde")
    bram = login("Bram Bakker", "Wijkteam Noord", "jeugdhulp")
    assert "Er wacht nu niets op u." in start(anna)

    signal_of(anna, CHILD_BSN)
    signal_of(bram, CHILD_BSN)
    page = start(anna)
    assert task(page, "/matches") == "1 nieuwe match (de afgelopen 14 dagen)"

    clock.now = datetime(2027, 1, 6, 8, 0, tzinfo=UTC)  # 16 days, 10 working days later
    anna.log_in_again(clock)
    page = start(anna)
    assert "nieuwe match" not in page
    assert task(page, "/matches") == (
        "1 match die u nog niet heeft opgevolgd (langer dan 10 werkdagen)"
    )

    match_id = re.findall(
        r'href="/matches/([0-9a-f-]{36})"', anna.get("/matches").get_data(as_text=True)
    )[0]
    anna.post(f"/matches/{match_id}/opvolging", {"action": "mark"})
    assert "Er wacht nu niets op u." in start(anna)


def test_a_passed_review_date_is_a_postponement_to_review(login: Login, clock: FakeClock) -> None:
    anna = login("Anna de Vries")
    answer = anna.post(
        "/signalen/nieuw",
        {
            "bsn": CHILD_BSN,
            "birth_date_dag": "14",
            "birth_date_maand": "3",
            "birth_date_jaar": "2015",
            "postponement_reason": "not_reasonably_possible",
            "postponement_justification": "Moeder is in het buitenland",
            "postponement_review_on_dag": "1",
            "postponement_review_on_maand": "12",
            "postponement_review_on_jaar": "2026",
        },
    )
    assert answer.status_code == 303
    assert task(start(anna), "/informatieplicht") == ""
    clock.now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    anna.log_in_again(clock)
    assert task(start(anna), "/informatieplicht") == (
        "1 uitstel van informeren om opnieuw te beoordelen"
    )


def test_a_coordinator_sees_the_signals_to_transfer(login: Login, core: Core, world: World) -> None:
    cora = login("Cora Coordinator", roles=("professional", "coordinator"))
    anna = login("Anna Jansen")
    bea = world.professional("Bea Beheer", "Regio", roles=("beheerder",))
    for bsn in (CHILD_BSN, SIBLING_BSN):
        signal_of(anna, bsn)
    assert task(start(cora), "/coordinatie") == ""
    directory.deactivate_professional(core, world.actor(bea), anna.professional_id)
    assert task(start(cora), "/coordinatie") == "2 signalen over te dragen"
    assert task(start(cora), "/regie") == ""  # not a regievoerder


def test_a_regievoerder_sees_the_matches_without_follow_up(login: Login, clock: FakeClock) -> None:
    clock.now = datetime(2026, 12, 21, 9, 0, tzinfo=UTC)
    anna = login("Anna de Vries", "Basisschool De Linde")
    bram = login("Bram Bakker", "Wijkteam Noord", "jeugdhulp")
    register_in(anna, CHILD_BSN, "GM0228")
    register_in(bram, CHILD_BSN, "GM0228")
    register_in(anna, OTHER_CHILD_BSN, "GM0344")
    register_in(bram, OTHER_CHILD_BSN, "GM0344")  # another gemeente: not hers
    clock.now = datetime(2027, 1, 6, 8, 0, tzinfo=UTC)
    rita = login(
        "Rita Regie",
        "Gemeente Ede",
        "maatschappelijke_ondersteuning",
        roles=("regievoerder",),
        gemeenten=("GM0228",),
    )
    page = start(rita)
    assert task(page, "/regie") == "1 match zonder opvolging"
    assert "nieuwe match" not in page  # not a professional: no counts of her own
