"""The earlier signals on a child in the web UI, shown once (art. 7.1.4.6 lid 2): on the page
that follows a registration, or on the author's request; after that only when they were shown."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import CHILD_BSN
from tests.web.conftest import Browser, Login
from tests.web.test_professional_pages import assert_no_bsn, register, text
from verwijsindex.models import AuditEventRow
from verwijsindex.services import Core

ONCE = "U ziet dit eenmalig"
SHOWN = "Ze zijn u op 23 november 2026 getoond"
BUTTON = "Eerdere signalen eenmalig bekijken"


@pytest.fixture
def anna(login: Login) -> Browser:
    return login("Anna de Vries", "Basisschool De Linde", "onderwijs")


@pytest.fixture
def bram(login: Login) -> Browser:
    return login("Bram Bakker", "Jeugdteam Noord", "jeugdhulp")


def archive(browser: Browser, signal_id: str) -> None:
    answer = browser.post(f"/signalen/{signal_id}/intrekken", {"reason": "risk_gone"})
    assert answer.status_code == 303


def history_records(core: Core) -> list[tuple[str, str]]:
    with core.transaction(write=False) as tx:
        rows = tx.uow.session.scalars(
            select(AuditEventRow)
            .where(AuditEventRow.action == "web:signal:history")
            .order_by(AuditEventRow.seq)
        )
        return [(r.outcome, str(r.object_id)) for r in rows]


def test_the_page_after_a_registration_shows_the_history_once_with_a_notice(
    anna: Browser, bram: Browser, core: Core
) -> None:
    earlier, _ = register(anna)
    archive(anna, earlier)

    signal_id, landing = register(bram)
    assert ONCE in landing
    assert "Basisschool De Linde" in landing and "Onderwijs" in landing
    assert "Anna" not in landing and BUTTON not in landing

    for again in (
        bram.get(f"/signalen/{signal_id}?melding=geregistreerd"),
        bram.get(f"/signalen/{signal_id}"),
    ):
        page = text(again)
        assert again.status_code == 200
        assert ONCE not in page and "Basisschool De Linde" not in page and BUTTON not in page
        assert SHOWN in page
    assert history_records(core) == [("success", signal_id), ("denied", signal_id)]
    assert_no_bsn(landing, *(text(r) for r in bram.responses))


def test_a_signal_whose_history_came_later_offers_it_once_on_request(
    anna: Browser, bram: Browser, core: Core
) -> None:
    signal_id, landing = register(bram)
    assert "Er zijn geen eerdere signalen" in landing
    earlier, _ = register(anna)
    archive(anna, earlier)

    page = text(bram.get(f"/signalen/{signal_id}"))
    assert BUTTON in page and "Basisschool De Linde" not in page
    shown = bram.post(f"/signalen/{signal_id}/eerdere-signalen")
    assert shown.status_code == 200
    assert ONCE in text(shown) and "Basisschool De Linde" in text(shown)

    again = bram.post(f"/signalen/{signal_id}/eerdere-signalen")
    assert again.status_code == 200
    assert "Basisschool De Linde" not in text(again) and SHOWN in text(again)
    page = text(bram.get(f"/signalen/{signal_id}"))
    assert SHOWN in page and BUTTON not in page
    assert history_records(core) == [("success", signal_id), ("denied", signal_id)]


def test_only_the_author_can_ask_for_the_history_and_only_with_a_csrf_token(
    anna: Browser, bram: Browser, core: Core
) -> None:
    signal_id, _ = register(bram)
    earlier, _ = register(anna)
    archive(anna, earlier)

    assert anna.post(f"/signalen/{signal_id}/eerdere-signalen").status_code == 404
    refused = bram.post(f"/signalen/{signal_id}/eerdere-signalen", csrf=False)
    assert refused.status_code in (400, 403)
    assert BUTTON in text(bram.get(f"/signalen/{signal_id}"))
    assert CHILD_BSN not in text(refused)
