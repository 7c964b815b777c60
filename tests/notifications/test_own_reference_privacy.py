"""Issue 14: a professional's own reference is theirs alone. It is shown to its author (API
and web) and to nobody else: not in the other participant's responses, the mails, the
webhooks, the change feed, a subject-access report, the audit log, or the database in clear.
"""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.conftest import CHILD_BSN, PARENT_BSN, World, signal_body
from tests.e2e.test_privacy import database_contents
from tests.notifications.conftest import System, make_worker, system_of
from tests.servers import HttpReceiver, SmtpInbox
from verwijsindex.services import Core

ANNA_REF = "Dossier Zonnebloem 17"
ANNA_NEW_REF = "Dossier Tulp 42"
BRAM_REF = "Wijkteam casus Berk 9"
ALL = ["match.created", "match.changed", "regisseur.designated", "signal.archived"]


def test_an_own_reference_reaches_its_author_and_no_one_else(
    world: World, client: FlaskClient, core: Core, inbox: SmtpInbox, receiver: HttpReceiver
) -> None:
    school: System = system_of(client, core, world.organisation("Basisschool De Linde"))
    team: System = system_of(client, core, world.organisation("Wijkteam Noord", "jeugdhulp"))
    for system in (school, team):
        system.subscribe(receiver.url, ALL)
    officer = world.professional("Petra Privacy", "Regio", "onderwijs", roles=("privacy_officer",))
    anna = world.professional("Anna de Vries", "Basisschool De Linde")
    bram = world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp")

    mine = anna.signal(
        CHILD_BSN, birth_date="2014-05-01", parents=[PARENT_BSN], ownReference=f"  {ANNA_REF} "
    )
    assert mine["ownReference"] == ANNA_REF  # trimmed
    assert mine["birthDate"] == "2014-05-01"
    theirs = bram.signal(CHILD_BSN, birth_date="2014-05-01", ownReference=BRAM_REF)
    match_id = theirs["matches"][0]["id"]
    changed = anna.patch(f"/api/v1/signals/{mine['id']}", json={"ownReference": ANNA_NEW_REF})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["ownReference"] == ANNA_NEW_REF

    # The author sees hers, in the list and one by one...
    [listed] = anna.get("/api/v1/signals").get_json()["items"]
    assert (listed["ownReference"], listed["birthDate"]) == (ANNA_NEW_REF, "2014-05-01")
    assert anna.get(f"/api/v1/signals/{mine['id']}").get_json()["ownReference"] == ANNA_NEW_REF
    # ...and the other participant's match views hold neither her reference nor his in hers.
    bram_views = [
        bram.get("/api/v1/matches").get_data(as_text=True),
        bram.get(f"/api/v1/matches/{match_id}").get_data(as_text=True),
    ]
    anna_views = [
        anna.get("/api/v1/matches").get_data(as_text=True),
        anna.get(f"/api/v1/matches/{match_id}").get_data(as_text=True),
    ]
    for text in bram_views:
        assert ANNA_REF not in text and ANNA_NEW_REF not in text
    for text in anna_views:
        assert BRAM_REF not in text
    report = officer.post("/api/v1/subject-access-requests", json={"bsn": CHILD_BSN})
    assert report.status_code == 200, report.get_json()

    outcomes = make_worker(core, inbox).run_until_idle()
    assert outcomes and all(o.status == "delivered" for o in outcomes)
    mails = [SmtpInbox.text_of(m) for m in inbox.messages]
    hooks = [r.body.decode() for r in receiver.requests]
    assert mails and hooks
    feeds = [
        client.get("/api/v1/events", headers=s.headers()).get_data(as_text=True)
        for s in (school, team)
    ]
    assert all('"match.created"' in feed for feed in feeds)
    database = database_contents(core)
    for reference in (ANNA_REF, ANNA_NEW_REF, BRAM_REF):
        for text in [*mails, *hooks, *feeds, report.get_data(as_text=True)]:
            assert reference not in text
        assert reference.encode() not in database, "an own reference is stored in clear"


def test_an_own_reference_is_short_and_holds_no_bsn(world: World) -> None:
    anna = world.professional("Anna de Vries")
    too_long = anna.post("/api/v1/signals", json=signal_body(ownReference="x" * 41))
    assert too_long.status_code == 400
    assert "ownReference" in too_long.get_data(as_text=True)
    with_bsn = anna.post("/api/v1/signals", json=signal_body(ownReference=f"kind {CHILD_BSN}"))
    assert with_bsn.status_code == 400
    assert CHILD_BSN not in with_bsn.get_data(as_text=True)
    created = anna.signal(CHILD_BSN)
    assert created["ownReference"] is None
    cleared = anna.patch(f"/api/v1/signals/{created['id']}", json={"ownReference": "A1"})
    assert cleared.get_json()["ownReference"] == "A1"
    cleared = anna.patch(f"/api/v1/signals/{created['id']}", json={"ownReference": ""})
    assert cleared.get_json()["ownReference"] is None
    assert anna.patch(f"/api/v1/signals/{created['id']}", json={}).status_code == 400
    bram = world.professional("Bram Bakker")
    assert (
        bram.patch(f"/api/v1/signals/{created['id']}", json={"ownReference": "mine"}).status_code
        == 404
    )


def test_a_transferred_signal_leaves_the_former_authors_reference_behind(world: World) -> None:
    anna = world.professional("Anna de Vries", "School A")
    bram = world.professional("Bram Bakker", "School A")
    signal = anna.signal(CHILD_BSN, ownReference=ANNA_REF)
    moved = anna.post(
        f"/api/v1/signals/{signal['id']}/transfer",
        json={"professionalId": str(bram.professional_id)},
    )
    assert moved.status_code == 200, moved.get_json()
    assert ANNA_REF not in moved.get_data(as_text=True)
    held = bram.get(f"/api/v1/signals/{signal['id']}")
    assert held.status_code == 200
    assert held.get_json()["ownReference"] is None
