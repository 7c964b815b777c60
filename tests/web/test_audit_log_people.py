"""The audit log reads as people (issue 14 item 8): Dutch labels for action codes and roles,
names next to ids, and a search by a professional's name or e-mail address that is resolved
to their id on the server, in a POST body: the name or address never appears in an address."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.conftest import CHILD_BSN, World
from tests.web.conftest import Browser, Login
from verwijsindex.models import AuditEventRow
from verwijsindex.services import Core


def text(response: object) -> str:
    return response.get_data(as_text=True)  # type: ignore[attr-defined, no-any-return]


def test_records_show_dutch_labels_names_and_roles(login: Login, world: World) -> None:
    anna_api = world.professional("Anna Jansen", "Basisschool De Linde")
    anna_api.signal(CHILD_BSN)
    olga = login("Olga Officier", "Regio", roles=("privacy_officer",))

    page = text(olga.get(f"/privacy/auditlog?actor={anna_api.professional_id}"))

    assert "Signaal afgegeven (via de API)" in page
    assert "<code>api:signal:create</code>" in page  # the code stays, small
    assert '<span class="name">Anna Jansen (Basisschool De Linde)</span>' in page
    assert "Professional" in page and ">professional<" not in page


def _search(browser: Browser, who: str) -> object:
    return browser.post("/privacy/auditlog", {"wie": who})


def test_a_name_or_address_leads_to_that_professionals_records(
    login: Login, world: World, core: Core
) -> None:
    anna = world.professional("Anna Jansen", "Basisschool De Linde")
    world.professional("Bram Bakker", "Wijkteam Noord")
    olga = login("Olga Officier", "Regio", roles=("privacy_officer",))

    by_name = _search(olga, "  anna   JANSEN ")
    by_address = _search(olga, "Anna.Jansen@example.org")
    by_part = _search(olga, "jans")

    for answer in (by_name, by_address, by_part):
        assert answer.status_code == 303, text(answer)  # type: ignore[attr-defined]
        assert answer.headers["Location"] == (  # type: ignore[attr-defined]
            f"/privacy/auditlog?actor={anna.professional_id}"
        )
    with core.transaction(write=False) as tx:
        searches = tx.uow.session.scalars(
            select(AuditEventRow.related_ids).where(
                AuditEventRow.action == "web:professional:search"
            )
        ).all()
    # On record, with whom it found; the text searched for is not kept.
    assert searches == [str(anna.professional_id)] * 3


def test_several_matches_are_listed_and_none_says_so(login: Login, world: World) -> None:
    anna = world.professional("Anna Jansen", "Basisschool De Linde")
    bram = world.professional("Bram Jansen", "Wijkteam Noord")
    olga = login("Olga Officier", "Regio", roles=("privacy_officer",))

    several = _search(olga, "Jansen")
    page = text(several)
    assert several.status_code == 200  # type: ignore[attr-defined]
    assert "Welke professional bedoelt u?" in page
    for person in (anna, bram):
        assert f'href="/privacy/auditlog?actor={person.professional_id}"' in page

    none = _search(olga, "Niemand Bekend")
    assert none.status_code == 404  # type: ignore[attr-defined]
    assert "Geen professional gevonden met deze naam of dit e-mailadres." in text(none)
    assert re.search(r'id="wie"[^>]*value="Niemand Bekend"', text(none))

    empty = _search(olga, " ")
    assert empty.status_code == 400  # type: ignore[attr-defined]
    assert "Vul een naam of e-mailadres in." in text(empty)


def test_only_a_privacy_officer_may_search_by_name(login: Login, world: World) -> None:
    world.professional("Anna Jansen", "Basisschool De Linde")
    bea = login("Bea Beheer", "Regio", roles=("beheerder",))
    assert _search(bea, "Anna").status_code == 403  # type: ignore[attr-defined]
