"""The privacy officer's erasure-on-request page (`/privacy/verwijderverzoek`), through the
real app and the real login: the BSN only in a POST body, never in a page or an address; a
reason and a confirmation asked for; the answer lists what was removed."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import CHILD_BSN, OTHER_CHILD_BSN, PARENT_BSN, FakeClock, World
from tests.web.conftest import Browser, Login
from tests.web.test_privacy_pages import assert_error_next_to, assert_no_bsn, audit_rows, text
from verwijsindex.models import AuditEventRow, SignalRow
from verwijsindex.services import Core

PAGE = "/privacy/verwijderverzoek"
INVALID_BSN = "111222334"  # fails the elfproef


@pytest.fixture
def olga(login: Login) -> Browser:
    return login("Olga Officier", "Gemeente Utrecht", "jeugdhulp", roles=("privacy_officer",))


@pytest.fixture
def signalled(world: World, clock: FakeClock) -> None:
    """Two organisations on the child, one of them archived already."""
    anna = world.professional("Anna Jansen", "Basisschool De Linde", "onderwijs")
    archived = anna.signal(CHILD_BSN, parents=[PARENT_BSN])["id"]
    assert anna.delete(f"/api/v1/signals/{archived}").status_code == 204
    clock.advance(minutes=1)
    world.professional("Bert Bakker", "Wijkteam Noord", "jeugdhulp").signal(
        CHILD_BSN, parents=[PARENT_BSN]
    )


def signals_left(core: Core) -> int:
    with core.transaction(write=False) as tx:
        return len(list(tx.uow.session.scalars(select(SignalRow.id))))


def erasure_form(
    bsn: str = CHILD_BSN, reason: str = "objection", confirm: bool = True
) -> dict[str, str]:
    form = {"bsn": bsn, "reason": reason}
    if confirm:
        form["confirm"] = "ja"
    return form


def test_the_form_removes_every_signal_and_lists_them_without_the_bsn(
    olga: Browser, signalled: None, core: Core
) -> None:
    form = text(olga.get(PAGE))
    assert "definitief verwijderd" in form and "Bezwaar" in form and "Correctie" in form
    answer = olga.post(PAGE, erasure_form())
    assert answer.status_code == 200
    page = text(answer)
    assert "2 signalen zijn definitief verwijderd" in page
    assert "Basisschool De Linde" in page and "Wijkteam Noord" in page
    assert "gearchiveerd" in page and "actief" in page
    assert "Bezwaar" in page
    assert "Anna" not in page and "Bert" not in page
    assert signals_left(core) == 0
    assert_no_bsn(olga, CHILD_BSN, PARENT_BSN)
    with core.transaction(write=False) as tx:
        [record] = tx.uow.session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "web:erasure-request:create")
        )
        assert record.object_type == "erasure-request:objection"
        assert record.subject_pseudonym is None
        assert record.credential == "web"
        assert str(record.object_id) in page  # the reference on the page is the record's


def test_nothing_on_the_child_says_so(olga: Browser, signalled: None, core: Core) -> None:
    page = text(olga.post(PAGE, erasure_form(OTHER_CHILD_BSN, "unlawful")))
    assert "geen signalen op deze jeugdige" in page
    assert signals_left(core) == 2


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        (erasure_form(INVALID_BSN), "bsn", "Dit is geen geldig BSN."),
        (erasure_form(""), "bsn", "Vul het BSN"),
        (erasure_form(reason=""), "reason", "Kies waarom"),
        (erasure_form(reason="because"), "reason", "Kies waarom"),
        (erasure_form(confirm=False), "confirm", "Bevestig"),
    ],
)
def test_each_missing_or_wrong_answer_is_named_next_to_its_field_and_nothing_is_removed(
    olga: Browser, signalled: None, core: Core, form: dict[str, str], field: str, message: str
) -> None:
    before = audit_rows(core)
    answer = olga.post(PAGE, form)
    assert answer.status_code == 400
    page = text(answer)
    assert_error_next_to(page, field, message)
    bsn_field = re.search(r'<input id="bsn"[^>]*>', page, flags=re.S)
    assert bsn_field and 'value=""' in bsn_field.group(0)
    assert signals_left(core) == 2
    assert audit_rows(core) == before
    assert_no_bsn(olga, CHILD_BSN, INVALID_BSN)


def test_the_page_is_for_privacy_officers_only_and_needs_a_csrf_token(
    olga: Browser, login: Login, app: Flask, signalled: None, core: Core
) -> None:
    anna = login("Anna de Vries", "School A", "onderwijs")
    bea = login("Bea Beheer", "Regio", "jeugdhulp", roles=("beheerder",))
    for browser in (anna, bea):
        assert browser.get(PAGE).status_code == 403
        refused = browser.post(PAGE, erasure_form())
        assert refused.status_code == 403 and CHILD_BSN not in refused.get_data(as_text=True)
    anonymous = app.test_client().get(PAGE)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/inloggen")
    assert olga.post(PAGE, erasure_form(), csrf=False).status_code in (400, 403)
    assert signals_left(core) == 2
    assert 'href="/privacy/verwijderverzoek"' in text(olga.get("/privacy"))


def test_the_pages_use_no_inline_style_or_script(olga: Browser, signalled: None) -> None:
    for page in (
        olga.get(PAGE).get_data(as_text=True),
        olga.post(PAGE, erasure_form()).get_data(as_text=True),
    ):
        assert "style=" not in page and "<style" not in page
        assert not re.search(r"<script(?![^>]*\bsrc=)", page)
