"""What coordinators and match partners hear (contract sections 7 and 10): a deactivation with
signals left behind mails the organisation's coordinators a count and a link to their task,
through the real SMTP server and the outbox worker; a transfer tells the colleague of the
match and every organisation's systems `match.changed`. Nothing about the child, and no name.
"""

from __future__ import annotations

from flask.testing import FlaskClient
from standardwebhooks import Webhook, WebhookVerificationError

from tests.conftest import CHILD_BSN, OTHER_CHILD_BSN, SIBLING_BSN, World
from tests.notifications.conftest import (
    BASE_URL,
    assert_none_in,
    forbidden_strings,
    system_of,
)
from tests.servers import HttpReceiver, SmtpInbox
from verwijsindex.services import Core, directory
from verwijsindex.services.delivery import Worker

COORDINATOR = ("professional", "coordinator")
SUBJECT = "Signalen overdragen in de verwijsindex"


def test_deactivation_mails_each_coordinator_the_count_and_a_link_to_the_task(
    world: World, core: Core, worker: Worker, inbox: SmtpInbox
) -> None:
    world.professional("Cora Coordinator", "School A", roles=COORDINATOR)
    world.professional("Cees Coord", "School A", roles=("coordinator",))
    anna = world.professional("Anna Jansen", "School A")
    world.professional("Olaf Other", "Team B", "jeugdhulp", roles=COORDINATOR)
    bea = world.professional("Bea Beheer", "Regio", roles=("beheerder",))
    for bsn in (CHILD_BSN, SIBLING_BSN, OTHER_CHILD_BSN):
        anna.signal(bsn, birth_date="2014-05-01")
    worker.run_until_idle()
    inbox.envelopes.clear()

    directory.deactivate_professional(core, world.actor(bea), anna.professional_id)
    worker.run_until_idle()

    mails = [*inbox.to("cora.coordinator@example.org"), *inbox.to("cees.coord@example.org")]
    assert [str(m["Subject"]) for m in mails] == [SUBJECT, SUBJECT]
    text = SmtpInbox.text_of(mails[0])
    assert "nog 3 actieve signalen" in text
    assert f"{BASE_URL}/coordinatie" in text
    assert inbox.to("olaf.other@example.org") == []  # another organisation's coordinator
    assert inbox.to("anna.jansen@example.org") == []  # deactivated: mailed nothing
    assert_none_in(
        [m.as_string() for m in mails],
        forbidden_strings(names=["Anna", "Jansen"], birth_dates=["2014-05-01"]),
    )

    # Deactivating again (already inactive) tells nobody twice.
    inbox.envelopes.clear()
    directory.deactivate_professional(core, world.actor(bea), anna.professional_id)
    worker.run_until_idle()
    assert inbox.to("cora.coordinator@example.org") == []


def test_deactivation_without_active_signals_mails_nobody(
    world: World, core: Core, worker: Worker, inbox: SmtpInbox
) -> None:
    world.professional("Cora Coordinator", "School A", roles=COORDINATOR)
    anna = world.professional("Anna Jansen", "School A")
    bea = world.professional("Bea Beheer", "Regio", roles=("beheerder",))
    directory.deactivate_professional(core, world.actor(bea), anna.professional_id)
    worker.run_until_idle()
    assert inbox.to("cora.coordinator@example.org") == []


def test_a_transfer_tells_the_colleague_and_the_systems_of_the_match(
    world: World,
    core: Core,
    client: FlaskClient,
    worker: Worker,
    inbox: SmtpInbox,
    receiver: HttpReceiver,
) -> None:
    cora = world.professional("Cora Coordinator", "School A", roles=COORDINATOR)
    anna = world.professional("Anna Jansen", "School A")
    bram = world.professional("Bram Bakker", "School A")
    wim = world.professional("Wim Wijkteam", "Team B", "jeugdhulp")
    school = system_of(client, core, anna.organisation_id)
    team = system_of(client, core, wim.organisation_id)
    school_secret = school.subscribe(receiver.url, ["match.changed"])["secret"]
    signal_id = anna.signal(CHILD_BSN)["id"]
    match_id = wim.signal(CHILD_BSN)["matches"][0]["id"]
    worker.run_until_idle()
    inbox.envelopes.clear()
    team_secret = team.subscribe(receiver.url, ["match.changed"])["secret"]

    moved = cora.post(
        f"/api/v1/signals/{signal_id}/transfer", json={"professionalId": str(bram.professional_id)}
    )
    assert moved.status_code == 200, moved.get_json()
    worker.run_until_idle()

    [mail] = inbox.to("bram.bakker@example.org")
    assert str(mail["Subject"]) == "Nieuwe match in de verwijsindex"
    assert f"{BASE_URL}/matches/{match_id}" in SmtpInbox.text_of(mail)
    assert inbox.to("wim.wijkteam@example.org") == []
    heard: dict[str, dict[str, object]] = {}
    for request in receiver.requests:  # each verified with its own subscription's secret
        for name, secret in (("school", school_secret), ("team", team_secret)):
            try:
                heard[name] = Webhook(secret).verify(request.body, request.headers)
            except WebhookVerificationError:
                continue
    assert len(receiver.requests) == 2 and set(heard) == {"school", "team"}
    for event in heard.values():
        assert event["type"] == "match.changed"
    # Each organisation hears of its own professionals only: the school of both.
    assert heard["school"]["data"] == {
        "matchId": match_id,
        "dissolved": False,
        "professionalIds": sorted([str(anna.professional_id), str(bram.professional_id)]),
    }
    assert heard["team"]["data"] == {
        "matchId": match_id,
        "dissolved": False,
        "professionalIds": [str(wim.professional_id)],
    }
