"""E-mail notifications (contract section 7): delivered through a real SMTP server by the
outbox worker, in Dutch, saying only that something happened and where to look."""

from __future__ import annotations

from typing import Any

from tests.conftest import CHILD_BSN, PARENT_BSN, SIBLING_BSN, FakeClock, World
from tests.notifications.conftest import BASE_URL, assert_none_in, forbidden_strings
from tests.servers import SmtpInbox
from verwijsindex.services import Core
from verwijsindex.services.auth import personal_token
from verwijsindex.services.delivery import Worker
from verwijsindex.services.lifecycle import run_maintenance

NEW_MATCH = "Nieuwe match in de verwijsindex"
GROWN = "Er is een collega bijgekomen in uw match"
REGISSEUR = "Er is een procesregisseur aangewezen"


def subjects(inbox: SmtpInbox, address: str) -> list[str]:
    return sorted(str(m["Subject"]) for m in inbox.to(address))


def test_a_new_match_mails_each_participant_a_link_to_it(
    world: World, worker: Worker, inbox: SmtpInbox
) -> None:
    anna = world.professional("Anna de Vries", "Basisschool De Linde")
    bram = world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp")
    anna.signal(CHILD_BSN)
    match_id = bram.signal(CHILD_BSN)["matches"][0]["id"]
    assert inbox.messages == []  # nothing is sent on the request's path

    outcomes = worker.run_until_idle()

    assert [o.status for o in outcomes] == ["delivered", "delivered"]
    for address in ("anna.de.vries@example.org", "bram.bakker@example.org"):
        [mail] = inbox.to(address)
        assert mail["Subject"] == NEW_MATCH
        text = SmtpInbox.text_of(mail)
        assert f"{BASE_URL}/matches/{match_id}" in text
        assert "Beste collega" in text
        assert {p.get_content_type() for p in mail.walk()} >= {"text/plain", "text/html"}
    assert worker.run_until_idle() == []  # delivered once, not again


def test_a_grown_match_tells_the_newcomer_of_a_new_match_and_the_others_of_a_colleague(
    world: World, worker: Worker, inbox: SmtpInbox
) -> None:
    anna = world.professional("Anna de Vries")
    bram = world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp")
    carla = world.professional("Carla Claes", "GGD", "jeugdgezondheidszorg")
    anna.signal(CHILD_BSN)
    bram.signal(CHILD_BSN)
    worker.run_until_idle()
    inbox.envelopes.clear()

    carla.signal(CHILD_BSN)
    worker.run_until_idle()

    assert subjects(inbox, "carla.claes@example.org") == [NEW_MATCH]
    assert subjects(inbox, "anna.de.vries@example.org") == [GROWN]
    assert subjects(inbox, "bram.bakker@example.org") == [GROWN]


def test_a_first_signal_and_a_shrinking_match_mail_nobody(
    world: World, worker: Worker, inbox: SmtpInbox
) -> None:
    anna = world.professional("Anna de Vries")
    bram = world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp")
    carla = world.professional("Carla Claes", "GGD", "jeugdgezondheidszorg")
    anna.signal(CHILD_BSN)
    assert worker.run_until_idle() == []
    bram.signal(CHILD_BSN)
    carla_signal = carla.signal(CHILD_BSN)
    worker.run_until_idle()
    inbox.envelopes.clear()

    assert carla.delete(f"/api/v1/signals/{carla_signal['id']}").status_code == 204
    worker.run_until_idle()

    assert inbox.messages == []


def test_designating_a_regisseur_mails_every_participant_once(
    world: World, worker: Worker, inbox: SmtpInbox
) -> None:
    anna = world.professional("Anna de Vries")
    bram = world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp")
    anna.signal(CHILD_BSN)
    match_id = bram.signal(CHILD_BSN)["matches"][0]["id"]
    worker.run_until_idle()
    inbox.envelopes.clear()

    body = {"professionalId": str(bram.professional_id)}
    for _ in range(2):  # a repeated PUT changes nothing and announces nothing
        assert anna.put(f"/api/v1/matches/{match_id}/regisseur", json=body).status_code == 200
    worker.run_until_idle()

    assert subjects(inbox, "anna.de.vries@example.org") == [REGISSEUR]
    assert subjects(inbox, "bram.bakker@example.org") == [REGISSEUR]
    [mail] = inbox.to("bram.bakker@example.org")
    assert f"{BASE_URL}/matches/{match_id}" in SmtpInbox.text_of(mail)


def test_an_overdue_postponement_review_reminds_its_author_once_per_review_date(
    world: World, worker: Worker, inbox: SmtpInbox, clock: FakeClock, core: Core
) -> None:
    anna = world.professional("Anna de Vries")
    postponed: dict[str, Any] = {
        "childInformed": True,
        "parentsInformed": False,
        "postponement": {
            "reason": "not_in_interest_of_child",
            "justification": "Vader is onbereikbaar",
            "reviewOn": "2026-12-01",
        },
    }
    signal = anna.signal(CHILD_BSN, informatieplicht=postponed)
    clock.advance(days=8)  # 1 December 2026: the review date itself has not passed yet
    assert run_maintenance(core).review_reminders == 0

    clock.advance(days=1)
    assert run_maintenance(core).review_reminders == 1
    assert run_maintenance(core).review_reminders == 0  # once
    worker.run_until_idle()

    [mail] = inbox.to("anna.de.vries@example.org")
    assert mail["Subject"] == "Herinnering: uitstel informatieplicht verlopen"
    assert f"{BASE_URL}/signalen/{signal['id']}" in SmtpInbox.text_of(mail)
    assert "onbereikbaar" not in SmtpInbox.text_of(mail)

    # A new review date (a PATCH) is reminded of again when it passes.
    later = {**postponed["postponement"], "reviewOn": "2026-12-20"}
    anna.token = personal_token(core, anna.professional_id)  # the old one expired
    response = anna.patch(
        f"/api/v1/signals/{signal['id']}", json={"informatieplicht": {"postponement": later}}
    )
    assert response.status_code == 200, response.get_json()
    clock.advance(days=19)
    assert run_maintenance(core).review_reminders == 1


def test_a_closed_postponement_is_not_reminded_of(
    world: World, worker: Worker, inbox: SmtpInbox, clock: FakeClock, core: Core
) -> None:
    anna = world.professional("Anna de Vries")
    postponed = {
        "childInformed": True,
        "parentsInformed": False,
        "postponement": {
            "reason": "not_reasonably_possible",
            "justification": "Ouders tijdelijk in het buitenland",
            "reviewOn": "2026-12-01",
        },
    }
    signal = anna.signal(CHILD_BSN, informatieplicht=postponed)
    informed = {"informatieplicht": {"parentsInformed": True, "postponement": None}}
    response = anna.patch(f"/api/v1/signals/{signal['id']}", json=informed)
    assert response.status_code == 200, response.get_json()
    clock.advance(days=30)

    assert run_maintenance(core).review_reminders == 0


def test_no_mail_carries_a_bsn_a_name_or_a_birth_date(
    world: World, worker: Worker, inbox: SmtpInbox, clock: FakeClock, core: Core
) -> None:
    anna = world.professional("Anna de Vries", "Basisschool De Linde")
    bram = world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp")
    carla = world.professional("Carla Claes", "GGD Zuid", "jeugdgezondheidszorg")
    anna.signal(CHILD_BSN, birth_date="2014-05-01", parents=[PARENT_BSN])
    bram.signal(CHILD_BSN, birth_date="2014-05-01", parents=[PARENT_BSN])
    family = carla.signal(SIBLING_BSN, birth_date="2016-02-29", parents=[PARENT_BSN])
    match_id = family["matches"][0]["id"]
    body = {"professionalId": str(carla.professional_id)}
    assert carla.put(f"/api/v1/matches/{match_id}/regisseur", json=body).status_code == 200
    clock.advance(days=20)
    run_maintenance(core)  # follow-up reminders
    worker.run_until_idle()

    assert len(inbox.messages) >= 8
    raw = [e.content.decode("utf-8", "replace") for e in inbox.envelopes]  # type: ignore[union-attr]
    texts = [SmtpInbox.text_of(m) for m in inbox.messages]
    names = ["Anna", "Bram", "Carla", "Vries", "Bakker", "Claes", "Linde", "Wijkteam", "GGD"]
    assert_none_in(
        raw + texts, forbidden_strings(names=names, birth_dates=["2014-05-01", "2016-02-29"])
    )
