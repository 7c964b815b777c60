"""Match follow-up: participants mark a match as followed up, everyone in it sees who has,
and whoever has not done so 10 Dutch working days after joining gets one reminder mail."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from tests.conftest import CHILD_BSN, ApiClient, FakeClock, World
from tests.notifications.conftest import BASE_URL
from tests.servers import SmtpInbox
from verwijsindex.services import Core
from verwijsindex.services.auth import personal_token
from verwijsindex.services.delivery import Worker
from verwijsindex.services.lifecycle import run_maintenance
from verwijsindex.working_days import add_working_days

MATCHES = "/api/v1/matches"
REMINDER = "Herinnering: match nog niet opgevolgd"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")

ANNA = "anna.de.vries@example.org"
BRAM = "bram.bakker@example.org"
CARLA = "carla.claes@example.org"


def local(day: date, hour: int = 12, minute: int = 0) -> datetime:
    """A moment on a Dutch calendar day, in UTC like the application's clock."""
    return datetime.combine(day, time(hour, minute), tzinfo=AMSTERDAM).astimezone(UTC)


def move_to(clock: FakeClock, core: Core, moment: datetime, *apis: ApiClient) -> None:
    """Set the clock and give the professionals fresh tokens (they live one hour)."""
    clock.now = moment
    for api in apis:
        api.token = personal_token(core, api.professional_id)


def mark(api: ApiClient, match_id: str) -> Any:
    """PUT follow-up, with no body (and so no content type)."""
    return api.put(f"{MATCHES}/{match_id}/follow-up")


def reminders_to(inbox: SmtpInbox, address: str) -> list[EmailMessage]:
    return [m for m in inbox.to(address) if m["Subject"] == REMINDER]


def followed_up_at(match: dict[str, Any]) -> dict[str, str | None]:
    """Each participant's `followedUpAt`, by professional id."""
    return {p["professionalId"]: p["followedUpAt"] for p in match["participants"]}


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def three_in_a_match(world: World) -> tuple[ApiClient, ApiClient, ApiClient, str]:
    anna = world.professional("Anna de Vries", "Basisschool De Linde")
    bram = world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp")
    carla = world.professional("Carla Claes", "GGD", "jeugdgezondheidszorg")
    anna.signal(CHILD_BSN)
    bram.signal(CHILD_BSN)
    match_id: str = carla.signal(CHILD_BSN)["matches"][0]["id"]
    return anna, bram, carla, match_id


# --- marking --------------------------------------------------------------------------------


def test_marking_follow_up_is_seen_by_the_other_participants(
    world: World, clock: FakeClock
) -> None:
    anna, bram, carla, match_id = three_in_a_match(world)
    before = bram.get(f"{MATCHES}/{match_id}").get_json()
    assert set(followed_up_at(before).values()) == {None}

    response = mark(anna, match_id)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["id"] == match_id
    for viewer in (anna, bram, carla):
        seen = viewer.get(f"{MATCHES}/{match_id}")
        assert seen.status_code == 200
        stamps = followed_up_at(seen.get_json())
        assert len(stamps) == 3
        anna_stamp = stamps[str(anna.professional_id)]
        assert anna_stamp is not None
        assert parse(anna_stamp) == clock.now
        assert stamps[str(bram.professional_id)] is None
        assert stamps[str(carla.professional_id)] is None
    # The list of matches shows the same.
    [listed] = bram.get(MATCHES).get_json()["items"]
    assert followed_up_at(listed)[str(anna.professional_id)] == anna_stamp


def test_marking_again_keeps_the_first_moment(world: World, clock: FakeClock) -> None:
    anna, bram, _, match_id = three_in_a_match(world)
    first = mark(anna, match_id)
    assert first.status_code == 200
    marked_at = followed_up_at(first.get_json())[str(anna.professional_id)]
    assert marked_at is not None and parse(marked_at) == clock.now

    clock.advance(minutes=20)
    again = mark(anna, match_id)

    assert again.status_code == 200
    assert followed_up_at(again.get_json())[str(anna.professional_id)] == marked_at
    seen = bram.get(f"{MATCHES}/{match_id}").get_json()
    assert followed_up_at(seen)[str(anna.professional_id)] == marked_at


def test_deleting_unmarks_the_follow_up(world: World, clock: FakeClock) -> None:
    anna, bram, _, match_id = three_in_a_match(world)
    assert mark(anna, match_id).status_code == 200
    assert mark(bram, match_id).status_code == 200

    response = anna.delete(f"{MATCHES}/{match_id}/follow-up")

    assert response.status_code == 204
    assert response.data == b""
    stamps = followed_up_at(bram.get(f"{MATCHES}/{match_id}").get_json())
    assert stamps[str(anna.professional_id)] is None
    assert stamps[str(bram.professional_id)] is not None  # only the caller's own mark
    assert anna.delete(f"{MATCHES}/{match_id}/follow-up").status_code == 204  # no-op

    # Marking anew records the new moment.
    clock.advance(minutes=5)
    remarked = mark(anna, match_id).get_json()
    stamp = followed_up_at(remarked)[str(anna.professional_id)]
    assert stamp is not None and parse(stamp) == clock.now


def test_a_non_participant_gets_404_and_marks_nothing(world: World) -> None:
    anna, _, _, match_id = three_in_a_match(world)
    dirk = world.professional("Dirk Dekker", "Huisartsenpraktijk", "gezondheidszorg")

    for response in (mark(dirk, match_id), dirk.delete(f"{MATCHES}/{match_id}/follow-up")):
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["status"] == 404

    unknown = str(uuid.uuid4())
    for missing in (mark(anna, unknown), anna.delete(f"{MATCHES}/{unknown}/follow-up")):
        assert missing.status_code == 404
        assert missing.mimetype == "application/problem+json"

    # Dirk's refused PUT left no mark: once he joins, he has not followed up.
    dirk.signal(CHILD_BSN)
    stamps = followed_up_at(anna.get(f"{MATCHES}/{match_id}").get_json())
    assert len(stamps) == 4
    assert set(stamps.values()) == {None}


def test_a_put_without_a_body_marks_the_follow_up(world: World, clock: FakeClock) -> None:
    """The contract's PUT has no body, so a client sends none and no Content-Type."""
    anna, bram, _, match_id = three_in_a_match(world)

    response = anna.put(f"{MATCHES}/{match_id}/follow-up")

    assert response.status_code == 200, response.get_json()
    stamps = followed_up_at(bram.get(f"{MATCHES}/{match_id}").get_json())
    stamp = stamps[str(anna.professional_id)]
    assert stamp is not None and parse(stamp) == clock.now


# --- reminders ------------------------------------------------------------------------------


def test_the_one_who_did_not_follow_up_is_reminded_once_on_the_tenth_working_day(
    world: World, worker: Worker, inbox: SmtpInbox, clock: FakeClock, core: Core
) -> None:
    anna = world.professional("Anna de Vries", "Basisschool De Linde")
    bram = world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp")
    anna.signal(CHILD_BSN)  # Monday 23 November 2026
    match_id = bram.signal(CHILD_BSN)["matches"][0]["id"]
    assert mark(bram, match_id).status_code == 200
    due = add_working_days(date(2026, 11, 23), 10)
    assert due == date(2026, 12, 7)

    move_to(clock, core, local(date(2026, 12, 4)))  # Friday: the 9th working day
    assert run_maintenance(core).follow_up_reminders == 0
    move_to(clock, core, local(date(2026, 12, 6), 23, 59))  # the last minute before it
    assert run_maintenance(core).follow_up_reminders == 0
    worker.run_until_idle()
    assert reminders_to(inbox, ANNA) == [] and reminders_to(inbox, BRAM) == []

    move_to(clock, core, local(due, 0, 0))
    assert run_maintenance(core).follow_up_reminders == 1
    assert reminders_to(inbox, ANNA) == []  # queued, not sent by maintenance itself
    outcomes = worker.run_until_idle()

    assert [o.status for o in outcomes] == ["delivered"]
    [mail] = reminders_to(inbox, ANNA)
    assert f"{BASE_URL}/matches/{match_id}" in SmtpInbox.text_of(mail)
    assert reminders_to(inbox, BRAM) == []

    # Later runs remind nobody again.
    assert run_maintenance(core).follow_up_reminders == 0
    move_to(clock, core, local(date(2026, 12, 21)))
    assert run_maintenance(core).follow_up_reminders == 0
    assert worker.run_until_idle() == []
    assert len(reminders_to(inbox, ANNA)) == 1
    assert reminders_to(inbox, BRAM) == []


def test_public_holidays_postpone_the_reminder(
    world: World, worker: Worker, inbox: SmtpInbox, clock: FakeClock, core: Core
) -> None:
    joined = date(2026, 12, 18)  # a Friday, just before Christmas
    clock.now = local(joined, 10, 30)
    anna = world.professional("Anna de Vries", "Basisschool De Linde")
    bram = world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp")
    anna.signal(CHILD_BSN)
    match_id = bram.signal(CHILD_BSN)["matches"][0]["id"]
    due = add_working_days(joined, 10)
    # Christmas (25 Dec) and New Year's Day (1 Jan) fall on Fridays: without them the
    # tenth working day would be 1 January, and 4 January without New Year's Day alone.
    assert due == date(2027, 1, 5)

    day = joined
    while day < due:
        move_to(clock, core, local(day, 23, 30))
        assert run_maintenance(core).follow_up_reminders == 0, day
        day = date.fromordinal(day.toordinal() + 1)

    move_to(clock, core, local(due, 8, 0))
    assert run_maintenance(core).follow_up_reminders == 2
    worker.run_until_idle()
    for address in (ANNA, BRAM):
        [mail] = reminders_to(inbox, address)
        assert f"{BASE_URL}/matches/{match_id}" in SmtpInbox.text_of(mail)


def test_a_later_joiner_has_their_own_ten_working_days(
    world: World, worker: Worker, inbox: SmtpInbox, clock: FakeClock, core: Core
) -> None:
    anna = world.professional("Anna de Vries", "Basisschool De Linde")
    bram = world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp")
    carla = world.professional("Carla Claes", "GGD", "jeugdgezondheidszorg")
    anna.signal(CHILD_BSN)  # Monday 23 November 2026
    match_id = bram.signal(CHILD_BSN)["matches"][0]["id"]
    carla_joined = date(2026, 11, 25)
    move_to(clock, core, local(carla_joined, 14, 0), carla)
    assert [m["id"] for m in carla.signal(CHILD_BSN)["matches"]] == [match_id]
    worker.run_until_idle()
    inbox.envelopes.clear()
    carla_due = add_working_days(carla_joined, 10)
    assert carla_due == date(2026, 12, 9)

    # Carla joining does not restart the others' period: they are due on 7 December.
    move_to(clock, core, local(date(2026, 12, 7), 9, 0))
    assert run_maintenance(core).follow_up_reminders == 2
    move_to(clock, core, local(date(2026, 12, 8), 23, 59))
    assert run_maintenance(core).follow_up_reminders == 0
    worker.run_until_idle()
    assert len(reminders_to(inbox, ANNA)) == 1
    assert len(reminders_to(inbox, BRAM)) == 1
    assert reminders_to(inbox, CARLA) == []

    move_to(clock, core, local(carla_due, 0, 1))
    assert run_maintenance(core).follow_up_reminders == 1
    worker.run_until_idle()
    [mail] = reminders_to(inbox, CARLA)
    assert f"{BASE_URL}/matches/{match_id}" in SmtpInbox.text_of(mail)
    assert len(reminders_to(inbox, ANNA)) == 1
    assert len(reminders_to(inbox, BRAM)) == 1


def test_unmarking_after_the_reminder_does_not_bring_a_second_one(
    world: World, worker: Worker, inbox: SmtpInbox, clock: FakeClock, core: Core
) -> None:
    anna = world.professional("Anna de Vries", "Basisschool De Linde")
    bram = world.professional("Bram Bakker", "Wijkteam Noord", "jeugdhulp")
    anna.signal(CHILD_BSN)
    match_id = bram.signal(CHILD_BSN)["matches"][0]["id"]
    assert mark(bram, match_id).status_code == 200
    move_to(clock, core, local(date(2026, 12, 7), 9, 0), anna)
    assert run_maintenance(core).follow_up_reminders == 1
    worker.run_until_idle()
    assert len(reminders_to(inbox, ANNA)) == 1

    assert mark(anna, match_id).status_code == 200
    assert anna.delete(f"{MATCHES}/{match_id}/follow-up").status_code == 204
    stamps = followed_up_at(anna.get(f"{MATCHES}/{match_id}").get_json())
    assert stamps[str(anna.professional_id)] is None
    move_to(clock, core, local(date(2026, 12, 28), 9, 0))

    assert run_maintenance(core).follow_up_reminders == 0
    worker.run_until_idle()
    assert len(reminders_to(inbox, ANNA)) == 1
    assert reminders_to(inbox, BRAM) == []


def test_whoever_left_the_match_is_not_reminded(
    world: World, worker: Worker, inbox: SmtpInbox, clock: FakeClock, core: Core
) -> None:
    _, _, carla, match_id = three_in_a_match(world)
    carla_signal = carla.get("/api/v1/signals").get_json()["items"][0]
    move_to(clock, core, local(date(2026, 11, 24)), carla)
    assert carla.delete(f"/api/v1/signals/{carla_signal['id']}").status_code == 204

    move_to(clock, core, local(date(2026, 12, 7)))
    assert run_maintenance(core).follow_up_reminders == 2
    worker.run_until_idle()

    for address in (ANNA, BRAM):
        [mail] = reminders_to(inbox, address)
        assert f"{BASE_URL}/matches/{match_id}" in SmtpInbox.text_of(mail)
    assert reminders_to(inbox, CARLA) == []


def test_whoever_rejoins_a_match_starts_a_fresh_follow_up_period(
    world: World, worker: Worker, inbox: SmtpInbox, clock: FakeClock, core: Core
) -> None:
    _, _, carla, match_id = three_in_a_match(world)
    assert mark(carla, match_id).status_code == 200
    carla_signal = carla.get("/api/v1/signals").get_json()["items"][0]
    move_to(clock, core, local(date(2026, 11, 24)), carla)
    assert carla.delete(f"/api/v1/signals/{carla_signal['id']}").status_code == 204
    move_to(clock, core, local(date(2026, 12, 14)), carla)

    again = carla.signal(CHILD_BSN)

    assert [m["id"] for m in again["matches"]] == [match_id]  # the same, stable match
    stamps = followed_up_at(carla.get(f"{MATCHES}/{match_id}").get_json())
    assert stamps[str(carla.professional_id)] is None  # the old mark left with her
    move_to(clock, core, local(add_working_days(date(2026, 12, 14), 10), 9, 0))
    run_maintenance(core)
    worker.run_until_idle()
    assert len(reminders_to(inbox, CARLA)) == 1
