"""The regievoerder hears of matches and moves in their gemeenten (Jeugdwet 7.1.2.3 c-e, g;
contract §10): by mail through a real SMTP server, with ids only and a link to their page."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from tests.conftest import CHILD_BSN, OTHER_CHILD_BSN, ApiClient, World
from tests.notifications.conftest import BASE_URL, assert_none_in, forbidden_strings
from tests.servers import SmtpInbox
from verwijsindex.models import AuditEventRow, OutboxRow
from verwijsindex.services import Core
from verwijsindex.services import admin as admin_service
from verwijsindex.services.csv_import import import_rows
from verwijsindex.services.csv_values import parse_row
from verwijsindex.services.delivery import Worker

MATCH_NOTICE = "Nieuwe match in uw gemeente"
MOVE_NOTICE = "Verhuizing gemeld in de verwijsindex"


def regievoerder(world: World, slug: str, gemeenten: tuple[str, ...] = ()) -> str:
    """A regievoerder; returns their e-mail address."""
    organisation_id = world.organisation("Gemeente", "maatschappelijke_ondersteuning")
    email = f"{slug}@gemeente.example.nl"
    admin_service.create_professional(
        world.core,
        organisation_id,
        name=f"Regie {slug}",
        email=email,
        phone="+31 6 9876 5432",
        roles=("regievoerder",),
        password=None,
        gemeenten_assigned=gemeenten,
    )
    return email


def subjects(inbox: SmtpInbox, address: str) -> list[str]:
    return sorted(str(m["Subject"]) for m in inbox.to(address))


def pair(world: World) -> tuple[ApiClient, ApiClient, ApiClient]:
    anna = world.professional("Anna de Vries", "Basisschool De Linde")
    bram = world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp")
    carla = world.professional("Carla Claes", "GGD Zuid", "jeugdgezondheidszorg")
    return anna, bram, carla


def test_a_new_match_mails_the_regievoerders_whose_gemeente_it_touches(
    world: World, worker: Worker, inbox: SmtpInbox
) -> None:
    ede = regievoerder(world, "ede", ("GM0228",))
    amsterdam = regievoerder(world, "amsterdam", ("GM0363",))
    region = regievoerder(world, "regio")
    anna, bram, _ = pair(world)
    anna.signal(CHILD_BSN, gemeente="GM0228")
    bram.signal(CHILD_BSN)  # no gemeente: the match is in Ede through Anna's signal
    worker.run_until_idle()

    assert subjects(inbox, ede) == [MATCH_NOTICE]
    assert subjects(inbox, region) == [MATCH_NOTICE]
    assert subjects(inbox, amsterdam) == []
    text = SmtpInbox.text_of(inbox.to(ede)[0])
    assert f"{BASE_URL}/regie" in text
    assert "/matches/" not in text


def test_a_match_naming_no_gemeente_is_told_only_to_the_whole_index(
    world: World, worker: Worker, inbox: SmtpInbox
) -> None:
    ede = regievoerder(world, "ede", ("GM0228",))
    region = regievoerder(world, "regio")
    anna, bram, _ = pair(world)
    anna.signal(CHILD_BSN)
    bram.signal(CHILD_BSN)
    worker.run_until_idle()
    assert subjects(inbox, region) == [MATCH_NOTICE]
    assert subjects(inbox, ede) == []


def test_a_grown_match_is_told_again_and_a_shrinking_one_not(
    world: World, worker: Worker, inbox: SmtpInbox
) -> None:
    region = regievoerder(world, "regio")
    anna, bram, carla = pair(world)
    anna.signal(CHILD_BSN)
    bram.signal(CHILD_BSN)
    closing = carla.signal(CHILD_BSN)
    worker.run_until_idle()
    assert subjects(inbox, region) == [MATCH_NOTICE, MATCH_NOTICE]
    assert carla.delete(f"/api/v1/signals/{closing['id']}").status_code == 204
    worker.run_until_idle()
    assert subjects(inbox, region) == [MATCH_NOTICE, MATCH_NOTICE]


def test_a_move_tells_the_regievoerders_of_the_new_gemeente_and_is_audited(
    world: World, worker: Worker, inbox: SmtpInbox, core: Core
) -> None:
    ede = regievoerder(world, "ede", ("GM0228",))
    amsterdam = regievoerder(world, "amsterdam", ("GM0363",))
    anna, bram, _ = pair(world)
    anna.signal(CHILD_BSN, gemeente="GM0228")
    worker.run_until_idle()
    assert inbox.messages == []  # a first signal tells nobody

    moved = bram.signal(CHILD_BSN, gemeente="GM0363")
    worker.run_until_idle()

    assert subjects(inbox, amsterdam) == [MATCH_NOTICE, MOVE_NOTICE]
    assert subjects(inbox, ede) == [MATCH_NOTICE]  # the match, not the move
    with core.transaction(write=False) as tx:
        (record,) = tx.uow.session.execute(
            select(AuditEventRow.object_id, AuditEventRow.related_ids).where(
                AuditEventRow.action == "api:signal:move-notified"
            )
        ).all()
        queued = tx.uow.session.scalars(
            select(OutboxRow.payload).where(OutboxRow.topic == "regie_move")
        ).all()
    assert record.object_id == uuid.UUID(moved["id"])
    assert moved["matches"][0]["id"] in str(record.related_ids)
    assert queued == [f'{{"signalId":"{moved["id"]}"}}']


def test_the_same_gemeente_or_none_is_no_move(
    world: World, worker: Worker, inbox: SmtpInbox, core: Core
) -> None:
    amsterdam = regievoerder(world, "amsterdam", ("GM0363",))
    anna, bram, carla = pair(world)
    anna.signal(CHILD_BSN, gemeente="GM0363")
    bram.signal(CHILD_BSN, gemeente="GM0363")
    carla.signal(CHILD_BSN)
    worker.run_until_idle()
    assert MOVE_NOTICE not in subjects(inbox, amsterdam)
    with core.transaction(write=False) as tx:
        moves = tx.uow.session.scalars(
            select(AuditEventRow.seq).where(AuditEventRow.action.like("%move-notified"))
        ).all()
    assert moves == []


def _import(core: Core, who: ApiClient, *, migration: bool) -> None:
    row = parse_row(
        2,
        {
            "professional": str(who.professional_id),
            "bsn": OTHER_CHILD_BSN,
            "birthDate": "2015-03-14",
            "childInformed": "ja",
            "parentsInformed": "ja",
        },
    )
    outcome = import_rows(core, [row], who.organisation_id, migration=migration)
    assert outcome.report.created == 1


def test_a_bulk_import_tells_the_regievoerders_but_a_migration_does_not(
    world: World, worker: Worker, inbox: SmtpInbox, core: Core
) -> None:
    region = regievoerder(world, "regio")
    anna, bram, _ = pair(world)
    anna.signal(OTHER_CHILD_BSN)
    _import(core, bram, migration=False)
    worker.run_until_idle()
    assert subjects(inbox, region) == [MATCH_NOTICE]


def test_a_migration_import_mails_no_regievoerder(
    world: World, worker: Worker, inbox: SmtpInbox, core: Core
) -> None:
    region = regievoerder(world, "regio")
    anna, bram, _ = pair(world)
    anna.signal(OTHER_CHILD_BSN)
    _import(core, bram, migration=True)
    worker.run_until_idle()
    assert subjects(inbox, region) == []


def test_no_regievoerder_mail_carries_a_bsn_a_name_or_a_birth_date(
    world: World, worker: Worker, inbox: SmtpInbox
) -> None:
    regievoerder(world, "amsterdam", ("GM0363",))
    anna, bram, _ = pair(world)
    anna.signal(CHILD_BSN, birth_date="2014-05-01", gemeente="GM0228")
    bram.signal(CHILD_BSN, birth_date="2014-05-01", gemeente="GM0363")
    worker.run_until_idle()
    assert len(inbox.messages) == 4  # two participants; the regievoerder: match and move
    raw = [e.content.decode("utf-8", "replace") for e in inbox.envelopes]  # type: ignore[union-attr]
    texts = [SmtpInbox.text_of(m) for m in inbox.messages]
    names = ["Anna", "Bram", "Vries", "Bakker", "Linde", "Wijkteam", "Regie", "Amsterdam"]
    assert_none_in(raw + texts, forbidden_strings(names=names, birth_dates=["2014-05-01"]))


def test_a_bulk_import_in_another_gemeente_is_a_move_too_but_not_in_a_migration(
    world: World, worker: Worker, inbox: SmtpInbox, core: Core
) -> None:
    """Imported signals carry their organisation's default gemeente; one that differs from
    the child's other active signals tells the new gemeente's regievoerders, as by hand."""
    amsterdam = regievoerder(world, "amsterdam", ("GM0363",))
    den_haag = regievoerder(world, "denhaag", ("GM0518",))
    anna, bram, carla = pair(world)
    anna.signal(OTHER_CHILD_BSN, gemeente="GM0228")
    admin_service.set_organisation_gemeente(core, bram.organisation_id, "GM0363")
    admin_service.set_organisation_gemeente(core, carla.organisation_id, "GM0518")

    _import(core, bram, migration=True)
    worker.run_until_idle()
    assert subjects(inbox, amsterdam) == []

    _import(core, carla, migration=False)
    worker.run_until_idle()
    assert subjects(inbox, den_haag) == [MATCH_NOTICE, MOVE_NOTICE]
    with core.transaction(write=False) as tx:
        moves = tx.uow.session.scalars(
            select(AuditEventRow.object_id).where(AuditEventRow.action.like("%move-notified"))
        ).all()
    assert len(moves) == 1
