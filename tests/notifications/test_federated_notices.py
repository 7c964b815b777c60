"""Mails and webhooks around mirrored signals of another region (docs/federation.md, point 5):
the other region's professionals hear nothing from this region (their own region tells
them), this region's professionals are mailed as for any match, the mail naming the other
region; webhooks and the change feed reach only this region's organisations."""

from __future__ import annotations

import uuid

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import CHILD_BSN, FakeClock, World
from tests.federation_rows import mirror_signal
from tests.notifications.conftest import make_worker, system_of, verified_events
from tests.servers import HttpReceiver, SmtpInbox
from verwijsindex.models import FeedEventRow, OutboxRow
from verwijsindex.services import Core
from verwijsindex.services.delivery import Worker
from verwijsindex.services.lifecycle import run_maintenance

NEW_MATCH = "Nieuwe match in de verwijsindex"
GROWN = "Er is een collega bijgekomen in uw match"
REMOTE = "rob.remote@regio-b.example.org"


def _mailed(core: Core) -> list[uuid.UUID | None]:
    with core.transaction(write=False) as tx:
        return list(
            tx.uow.session.scalars(
                select(OutboxRow.professional_id).where(OutboxRow.channel == "email")
            )
        )


def test_a_match_with_a_mirrored_signal_mails_only_the_local_participant_naming_the_region(
    world: World, core: Core, worker: Worker, inbox: SmtpInbox
) -> None:
    anna = world.professional("Anna de Vries", "Basisschool De Linde")
    anna.signal(CHILD_BSN)
    mirrored = mirror_signal(core, CHILD_BSN)
    assert mirrored.professional_id not in _mailed(core)
    worker.run_until_idle()
    assert inbox.to(REMOTE) == []
    [mail] = inbox.to("anna.de.vries@example.org")
    assert mail["Subject"] == NEW_MATCH
    text = SmtpInbox.text_of(mail)
    assert "andere regio (regio-b)" in text
    assert "Rob" not in text and "Jeugdteam" not in text  # still no names in a mail


def test_a_local_signal_joining_a_mirrored_one_mails_its_author_naming_the_region(
    world: World, core: Core, worker: Worker, inbox: SmtpInbox
) -> None:
    mirror_signal(core, CHILD_BSN)
    anna = world.professional("Anna de Vries", "Basisschool De Linde")
    bram = world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp")
    anna.signal(CHILD_BSN)
    worker.run_until_idle()
    inbox.envelopes.clear()
    bram.signal(CHILD_BSN)
    worker.run_until_idle()
    assert inbox.to(REMOTE) == []
    [new] = inbox.to("bram.bakker@example.org")
    [grown] = inbox.to("anna.de.vries@example.org")
    assert (new["Subject"], grown["Subject"]) == (NEW_MATCH, GROWN)
    for mail in (new, grown):
        assert "andere regio (regio-b)" in SmtpInbox.text_of(mail)


def test_a_match_of_local_people_only_names_no_region(
    world: World, worker: Worker, inbox: SmtpInbox
) -> None:
    anna = world.professional("Anna de Vries", "Basisschool De Linde")
    bram = world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp")
    anna.signal(CHILD_BSN)
    bram.signal(CHILD_BSN)
    worker.run_until_idle()
    [mail] = inbox.to("anna.de.vries@example.org")
    assert "regio" not in SmtpInbox.text_of(mail)


def test_designating_a_regisseur_does_not_mail_the_other_regions_participant(
    world: World, core: Core, worker: Worker, inbox: SmtpInbox
) -> None:
    anna = world.professional("Anna de Vries", "Basisschool De Linde")
    anna.signal(CHILD_BSN)
    (match_id,) = mirror_signal(core, CHILD_BSN).match_ids
    worker.run_until_idle()
    inbox.envelopes.clear()
    body = {"professionalId": str(anna.professional_id)}
    assert anna.put(f"/api/v1/matches/{match_id}/regisseur", json=body).status_code == 200
    worker.run_until_idle()
    assert [m["Subject"] for m in inbox.to("anna.de.vries@example.org")] == [
        "Er is een procesregisseur aangewezen"
    ]
    assert inbox.to(REMOTE) == []


def test_the_follow_up_reminder_goes_to_local_participants_only(
    world: World, core: Core, worker: Worker, inbox: SmtpInbox, clock: FakeClock
) -> None:
    anna = world.professional("Anna de Vries", "Basisschool De Linde")
    anna.signal(CHILD_BSN)
    mirror_signal(core, CHILD_BSN)
    worker.run_until_idle()
    inbox.envelopes.clear()
    clock.advance(days=30)
    assert run_maintenance(core).follow_up_reminders == 1
    worker.run_until_idle()
    assert inbox.to(REMOTE) == []
    [reminder] = inbox.to("anna.de.vries@example.org")
    assert reminder["Subject"] == "Herinnering: match nog niet opgevolgd"


def test_webhooks_and_the_change_feed_reach_only_this_regions_organisations(
    world: World, client: FlaskClient, core: Core, receiver: HttpReceiver
) -> None:
    anna = world.professional("Anna de Vries", "Basisschool De Linde")
    system = system_of(client, core, anna.organisation_id)
    secret = system.subscribe(receiver.url, ["match.created", "match.changed"])["secret"]
    anna.signal(CHILD_BSN)
    mirrored = mirror_signal(core, CHILD_BSN)
    make_worker(core).run_until_idle()
    [event] = verified_events(receiver, secret)
    assert event["type"] == "match.created"
    assert event["data"]["professionalIds"] == [str(anna.professional_id)]
    with core.transaction(write=False) as tx:
        fed = set(tx.uow.session.scalars(select(FeedEventRow.organisation_id)))
    assert fed == {anna.organisation_id}
    assert mirrored.organisation_id not in fed
