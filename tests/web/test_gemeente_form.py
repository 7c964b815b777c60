"""The signal form offers the gemeente by name (codes as values, no JavaScript needed), the
organisation's default chosen in advance, and the signal page names the chosen one."""

from __future__ import annotations

import html
import re

from tests.conftest import CHILD_BSN, OTHER_CHILD_BSN
from tests.web.conftest import Browser, Login
from tests.web.test_beheer_pages import assert_error_next_to, submit
from tests.web.test_professional_pages import register, signal_form, text
from verwijsindex.services import Core
from verwijsindex.services import admin as admin_service


def options(page: str) -> dict[str, tuple[str, bool]]:
    """The gemeente <select>'s options: value → (label, selected)."""
    select = re.search(r'<select id="gemeente" name="gemeente"(.*?)</select>', page, re.S)
    assert select, "no gemeente select on the page"
    found = re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select.group(1))
    return {value: (html.unescape(label), bool(chosen)) for value, chosen, label in found}


def with_default(core: Core, browser: Browser, gemeente: str) -> None:
    with core.transaction(write=False) as tx:
        professional = tx.people.professional(browser.professional_id)
    assert professional is not None
    admin_service.set_organisation_gemeente(core, professional.organisation.id, gemeente)


def test_the_form_offers_every_gemeente_by_name_with_a_label(login: Login) -> None:
    anna = login("Anna de Vries")
    page = text(anna.get("/signalen/nieuw"))
    assert '<label for="gemeente">' in page
    offered = options(page)
    assert offered[""] == ("Niet opgegeven", True)
    assert offered["GM0363"] == ("Amsterdam", False)
    assert offered["GM0518"] == ("'s-Gravenhage", False)
    assert len(offered) == 342 + 1
    names = [label for value, (label, _) in offered.items() if value]
    assert names.index("Aa en Hunze") == 0


def test_the_organisations_default_is_chosen_in_advance_and_stored(
    login: Login, core: Core
) -> None:
    anna = login("Anna de Vries")
    with_default(core, anna, "GM0935")
    offered = options(text(anna.get("/signalen/nieuw")))
    assert offered["GM0935"] == ("Maastricht", True)
    assert "" not in offered  # the default stands in for "not given"
    _, landing = register(anna, CHILD_BSN, gemeente="GM0935")
    assert "Maastricht (GM0935)" in landing


def test_a_chosen_gemeente_is_shown_on_the_signal_page(login: Login) -> None:
    anna = login("Anna de Vries")
    _, landing = register(anna, CHILD_BSN, gemeente="GM0599")
    assert "Rotterdam (GM0599)" in landing
    _, without = register(anna, OTHER_CHILD_BSN)
    assert "<dt>Gemeente</dt>" not in without


def test_an_unknown_gemeente_is_an_error_next_to_the_field(login: Login) -> None:
    anna = login("Anna de Vries")
    answer = anna.post("/signalen/nieuw", signal_form(CHILD_BSN, gemeente="GM9999"))
    assert answer.status_code == 400
    page = text(answer)
    assert 'id="gemeente-error"' in page
    assert "Kies een gemeente uit de lijst." in page
    assert 'aria-invalid="true"' in page
    assert CHILD_BSN not in page


def test_a_chosen_gemeente_stays_chosen_after_another_error(login: Login) -> None:
    anna = login("Anna de Vries")
    answer = anna.post("/signalen/nieuw", signal_form("123456789", gemeente="GM0599"))
    assert answer.status_code == 400
    assert options(text(answer))["GM0599"] == ("Rotterdam", True)


# --- the beheerder sets an organisation's default ---------------------------------------------


def test_a_beheerder_gives_a_new_organisation_a_default_gemeente(login: Login) -> None:
    bea = login("Bea Beheer", "Regio Utrecht", "jeugdhulp", roles=("beheerder",))
    form = text(bea.get("/beheer/organisaties/nieuw"))
    assert '<label for="default_gemeente">' in form
    assert '<option value="GM0344">Utrecht</option>' in form
    answer = submit(
        bea,
        "/beheer/organisaties/nieuw",
        {"name": "Wijkteam Oost", "sector": "jeugdhulp", "default_gemeente": "GM0344"},
    )
    assert answer.status_code == 303
    listed = text(bea.follow(answer))
    assert re.search(
        r"<td[^>]*>Wijkteam Oost</td>\s*<td[^>]*>Jeugdhulp</td>\s*<td[^>]*>Utrecht</td>", listed
    )


def test_an_unknown_default_gemeente_is_an_error_next_to_the_field(login: Login) -> None:
    bea = login("Bea Beheer", "Regio Utrecht", "jeugdhulp", roles=("beheerder",))
    answer = submit(
        bea,
        "/beheer/organisaties/nieuw",
        {"name": "Wijkteam Oost", "sector": "jeugdhulp", "default_gemeente": "GM9999"},
    )
    assert answer.status_code == 400
    assert_error_next_to(text(answer), "default_gemeente", "Kies een gemeente uit de lijst.")
