"""The invitation mailed to the invitee (issue 14 item 7): queued in the outbox with the
code sealed (never in clear in the database), written by the worker at sending time with
the link `/uitnodiging#<code>`, through the real SMTP server; the code in the mail is the
one the beheerder saw, and it works once."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select, update

from tests.conftest import World
from tests.notifications.conftest import BASE_URL
from tests.servers import SmtpInbox
from tests.web.conftest import PASSWORD, csrf_of
from verwijsindex.models import AuditEventRow, OutboxRow
from verwijsindex.services import Core, invitations
from verwijsindex.services.delivery import Worker

SUBJECT = "Uitnodiging voor de verwijsindex"


def test_a_mailed_invitation_is_sealed_in_the_outbox_and_opened_in_the_mail(
    app: Flask, world: World, core: Core, worker: Worker, inbox: SmtpInbox
) -> None:
    bea = world.actor(world.professional("Bea Beheer", "Regio", roles=("beheerder",)))
    chris = world.professional("Chris Claassen", "Wijkteam Oost")
    worker.run_until_idle()
    inbox.envelopes.clear()

    code = invitations.invite(core, bea, chris.professional_id, mail=True)

    with core.transaction(write=False) as tx:
        payloads = tx.uow.session.scalars(
            select(OutboxRow.payload).where(OutboxRow.topic == "invitation")
        ).all()
        actions = tx.uow.session.scalars(select(AuditEventRow.action)).all()
    assert len(payloads) == 1 and code not in payloads[0]
    assert "cli:professional:invite-mail" in actions or any(
        a.endswith("professional:invite-mail") for a in actions
    )

    worker.run_until_idle()
    mails = inbox.to("chris.claassen@example.org")
    assert [str(m["Subject"]) for m in mails] == [SUBJECT]
    text = SmtpInbox.text_of(mails[0])
    assert f"{BASE_URL}/uitnodiging#{code}" in text
    assert "Chris" not in text and "Wijkteam" not in text  # no names, as in every mail

    # The mailed code is the real one: it sets a password (once).
    http = app.test_client()
    form = csrf_of(http.get("/uitnodiging").get_data(as_text=True))
    accepted = http.post(
        "/uitnodiging",
        data={"csrf_token": form, "uitnodiging": code, "password": PASSWORD, "repeated": PASSWORD},
    )
    assert accepted.status_code == 303


def test_without_mail_nothing_is_queued(world: World, core: Core) -> None:
    bea = world.actor(world.professional("Bea Beheer", "Regio", roles=("beheerder",)))
    chris = world.professional("Chris Claassen", "Wijkteam Oost")
    invitations.invite(core, bea, chris.professional_id)
    with core.transaction(write=False) as tx:
        topics = tx.uow.session.scalars(select(OutboxRow.topic)).all()
    assert "invitation" not in topics


def test_a_sealed_code_moved_to_another_recipient_is_never_mailed(
    world: World, core: Core, worker: Worker, inbox: SmtpInbox
) -> None:
    """The seal is bound to the invitee: a payload copied or moved to someone else's row
    cannot be opened, and the delivery fails for good instead of mailing anyone."""
    bea = world.actor(world.professional("Bea Beheer", "Regio", roles=("beheerder",)))
    chris = world.professional("Chris Claassen", "Wijkteam Oost")
    mallory = world.professional("Mallory Mol", "Wijkteam Oost")
    worker.run_until_idle()
    inbox.envelopes.clear()
    invitations.invite(core, bea, chris.professional_id, mail=True)
    with core.transaction(write=True) as tx:
        tx.uow.session.execute(
            update(OutboxRow)
            .where(OutboxRow.topic == "invitation")
            .values(professional_id=mallory.professional_id)
        )
        tx.commit()

    worker.run_until_idle()

    assert inbox.messages == []
    with core.transaction(write=False) as tx:
        status = tx.uow.session.scalar(
            select(OutboxRow.status).where(OutboxRow.topic == "invitation")
        )
    assert status == "failed"
