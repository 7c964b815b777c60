"""An archived signal's "intrekken" says that it now erases (issue 14 item 9): the only
way left is "het signaal was onterecht", so the page must not read as a second archiving."""

from __future__ import annotations

from tests.web.conftest import Login
from tests.web.test_professional_pages import register, text


def test_an_archived_signals_withdraw_pages_say_it_now_erases(login: Login) -> None:
    anna = login("Anna de Vries", "Basisschool De Linde", "onderwijs")
    signal_id, _ = register(anna)
    active = text(anna.get(f"/signalen/{signal_id}"))
    assert "Dit signaal is al gearchiveerd" not in active

    anna.post(f"/signalen/{signal_id}/intrekken", {"reason": "risk_gone"})

    shown = text(anna.get(f"/signalen/{signal_id}"))
    confirm = text(anna.get(f"/signalen/{signal_id}/intrekken"))
    assert "Dit signaal is al gearchiveerd. Intrekken kan nu alleen als het signaal" in shown
    assert "Intrekken betekent nu: het signaal" in confirm
    assert "definitief verwijderen" in confirm and "Het risico is weg" not in confirm
