"""The professional's pages, through the real app and the real login: registering a signal,
withdrawing it, the informatieplicht, and the match page with its regisseur and follow-up.

Every page and every redirect is also searched for the BSNs typed into the forms: a BSN
travels only in a POST body and never comes back.
"""

from __future__ import annotations

import html
import re
from datetime import date
from typing import Any

import pytest
from werkzeug.test import TestResponse

from tests.conftest import (
    CHILD_BSN,
    OTHER_CHILD_BSN,
    OTHER_PARENT_BSN,
    PARENT_BSN,
    SIBLING_BSN,
    FakeClock,
)
from tests.web.conftest import Browser, Login
from verwijsindex.domain import PostponementReason, Problem
from verwijsindex.web import forms

NOT_ELFPROEF = "123456789"
TYPED_BSNS = (CHILD_BSN, SIBLING_BSN, OTHER_CHILD_BSN, PARENT_BSN, OTHER_PARENT_BSN, NOT_ELFPROEF)
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
TODAY = date(2026, 11, 23)  # tests.conftest.START, in Dutch time


# --- helpers ---------------------------------------------------------------------------------


def signal_form(
    bsn: str = CHILD_BSN,
    *,
    birth_date: str = "2015-03-14",
    parents: tuple[str, ...] = (),
    child_informed: bool = False,
    parents_informed: bool = True,
    **extra: str,
) -> dict[str, str]:
    form = {"bsn": bsn, **date_parts("birth_date", birth_date)}
    form.update({f"parent_bsn_{n}": p for n, p in enumerate(parents, start=1)})
    if child_informed:
        form["child_informed"] = "ja"
    if parents_informed:
        form["parents_informed"] = "ja"
    if "postponement_review_on" in extra:
        form.update(date_parts("postponement_review_on", extra.pop("postponement_review_on")))
    form.update(extra)
    return form


def date_parts(name: str, typed: str) -> dict[str, str]:
    """A date as the form sends it: three fields, dag, maand and jaar (`2015-03-14` and
    `14-03-2015` are split; anything else is typed into the day field as it is)."""
    found = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", typed)
    if found:
        year, month, day = found.groups()
    else:
        day, month, year = ([*typed.split("-"), "", ""])[:3] if "-" in typed else (typed, "", "")
    return {f"{name}_dag": day, f"{name}_maand": month, f"{name}_jaar": year}


def text(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


def register(browser: Browser, bsn: str = CHILD_BSN, **kwargs: Any) -> tuple[str, str]:
    """Register through the form; (signal id, the signal page the browser lands on)."""
    answer = browser.post("/signalen/nieuw", signal_form(bsn, **kwargs))
    assert answer.status_code == 303, text(answer)[:3000]
    location = answer.headers["Location"]
    found = re.fullmatch(rf"/signalen/({UUID})\?melding=geregistreerd", location)
    assert found, location
    landing = browser.follow(answer)
    assert landing.status_code == 200
    return found.group(1), text(landing)


def match_ids(page: str) -> list[str]:
    return list(dict.fromkeys(re.findall(rf'href="/matches/({UUID})"', page)))


def assert_no_bsn(*pages: str) -> None:
    for page in pages:
        for bsn in TYPED_BSNS:
            assert bsn not in page


def assert_bsn_fields_empty(page: str) -> None:
    inputs = re.findall(r'<input id="(bsn|parent_bsn_\d)"[^>]*>', page, flags=re.S)
    assert len(inputs) == 5
    for tag in re.findall(r'<input id="(?:bsn|parent_bsn_\d)"[^>]*>', page, flags=re.S):
        assert 'value=""' in tag, tag


def assert_error_next_to(page: str, field: str, message: str) -> None:
    found = re.search(rf'<p class="error" id="{field}-error"[^>]*>([^<]*)</p>', page)
    assert found, f"no error next to {field}"
    assert message in found.group(1)


@pytest.fixture
def anna(login: Login) -> Browser:
    return login("Anna de Vries", "Basisschool De Linde", "onderwijs")


@pytest.fixture
def bram(login: Login) -> Browser:
    return login("Bram Bakker", "Jeugdteam Noord", "jeugdhulp", phone="+31 20 123 45 67")


@pytest.fixture
def matched(anna: Browser, bram: Browser) -> str:
    """A cliëntmatch between Anna and Bram; its id."""
    register(anna)
    _, page = register(bram)
    (match_id,) = match_ids(page)
    return match_id


# --- registering -----------------------------------------------------------------------------


def test_registering_through_the_form_shows_the_match_to_both_professionals(
    anna: Browser, bram: Browser
) -> None:
    form = anna.get("/signalen/nieuw")
    assert form.status_code == 200
    assert 'src="/static/bsn.js"' in text(form) and "data-bsn" in text(form)
    assert "12 jaar of ouder" in text(form) and "jonger dan 16 jaar" in text(form)

    _, first = register(anna, parents=(PARENT_BSN,))
    assert "Uw signaal is geregistreerd. Er is nu geen match" in first

    _, second = register(bram, parents=(PARENT_BSN,))
    assert "Er is een match: bekijk de betrokken collega's" in second
    (match_id,) = match_ids(second)

    for browser in (anna, bram):
        listed = text(browser.get("/matches"))
        assert f"/matches/{match_id}" in listed and "Cliëntmatch" in listed
        page = text(browser.get(f"/matches/{match_id}"))
        assert "Anna de Vries" in page and "Bram Bakker" in page
        assert "Basisschool De Linde" in page and "Jeugdteam Noord" in page
    assert_no_bsn(*(text(r) for r in anna.responses + bram.responses))


def test_a_family_match_names_no_sibling(anna: Browser, bram: Browser) -> None:
    register(anna, CHILD_BSN, parents=(PARENT_BSN,))
    _, page = register(bram, SIBLING_BSN, parents=(PARENT_BSN, OTHER_PARENT_BSN))
    (match_id,) = match_ids(page)
    match = text(anna.get(f"/matches/{match_id}"))
    assert "Gezinsmatch" in match and "verschillende kinderen" in match
    assert_no_bsn(match)


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        pytest.param(
            signal_form(
                "111222334",
                birth_date="",
                parents=(CHILD_BSN, NOT_ELFPROEF, CHILD_BSN),
                postponement_reason="not_in_interest_of_child",
                postponement_justification=" ",
                postponement_review_on="2026-11-01",
            ),
            {
                "bsn": "geen geldig BSN",
                "birth_date": "Vul de geboortedatum",
                "parent_bsn_2": "geen geldig BSN",
                "postponement_justification": "onderbouwing",
                "postponement_review_on": "in de toekomst",
            },
            id="every-field",
        ),
        pytest.param(
            signal_form(birth_date="2012-01-01", parents=(PARENT_BSN, PARENT_BSN)),
            {"child_informed": "12 jaar of ouder"},
            id="child-of-14-not-informed",
        ),
        pytest.param(
            signal_form(birth_date="14-03-2015", parents_informed=False),
            {"parents_informed": "jonger dan 16"},
            id="parents-of-11-not-informed",
        ),
        pytest.param(
            signal_form(parents_informed=False, postponement_justification="Vader is weg"),
            {"postponement_reason": "Kies een reden", "postponement_review_on": "Vul de datum"},
            id="half-a-postponement",
        ),
        pytest.param(
            signal_form(
                child_informed=True,
                postponement_reason="not_in_interest_of_child",
                postponement_justification="Vader is weg",
                postponement_review_on="2027-01-15",
            ),
            {"postponement_reason": "er valt niets uit te stellen"},
            id="everyone-informed-and-a-postponement",
        ),
        pytest.param(
            signal_form(birth_date="2003-11-22"),
            {"birth_date": "jonger zijn dan 23 jaar"},
            id="too-old",
        ),
    ],
)
def test_errors_are_shown_next_to_their_fields_and_no_bsn_is_echoed(
    anna: Browser, form: dict[str, str], expected: dict[str, str]
) -> None:
    answer = anna.post("/signalen/nieuw", form)
    assert answer.status_code == 400
    page = text(answer)
    for field, message in expected.items():
        assert_error_next_to(page, field, message)
    assert "Om privacyredenen tonen wij een BSN nooit opnieuw" in page
    assert_bsn_fields_empty(page)
    assert_no_bsn(page)
    assert "Niet in het belang van de jeugdige" in page
    assert "geen actieve signalen" in text(anna.get("/signalen"))


def test_errors_about_parents_together_are_shown_above_the_parent_fields(
    anna: Browser,
) -> None:
    page = text(anna.post("/signalen/nieuw", signal_form(parents=(PARENT_BSN, PARENT_BSN))))
    assert "hetzelfde BSN bij meer dan één ouder" in page
    page = text(anna.post("/signalen/nieuw", signal_form(parents=(CHILD_BSN,))))
    assert "Een ouder kan niet het BSN van de jeugdige hebben" in page
    assert_no_bsn(page)


def test_the_typed_birth_date_and_postponement_are_kept_after_an_error(anna: Browser) -> None:
    form = signal_form(
        "111222334",
        parents_informed=False,
        postponement_reason="not_reasonably_possible",
        postponement_justification="Moeder is in het buitenland",
        postponement_review_on="2027-01-15",
    )
    page = text(anna.post("/signalen/nieuw", form))
    for name, typed in (
        ("birth_date", ("14", "03", "2015")),
        ("postponement_review_on", ("15", "01", "2027")),
    ):
        for part, value in zip(("dag", "maand", "jaar"), typed, strict=True):
            assert re.search(rf'name="{name}_{part}"[^>]*value="{value}"', page, re.S), (name, part)
    assert "Moeder is in het buitenland</textarea>" in page
    assert re.search(r'value="not_reasonably_possible" checked', page)


def test_a_second_active_signal_on_the_same_child_is_refused_on_the_page(
    anna: Browser,
) -> None:
    register(anna)
    answer = anna.post("/signalen/nieuw", signal_form(birth_date="2015-03-14"))
    assert answer.status_code == 409
    page = text(answer)
    assert "U heeft al een actief signaal op deze jeugdige" in page
    assert_bsn_fields_empty(page)
    assert_no_bsn(page)


def test_no_bsn_ever_appears_in_a_url_a_redirect_or_a_page(anna: Browser, bram: Browser) -> None:
    signal_id, _ = register(anna, parents=(PARENT_BSN, OTHER_PARENT_BSN))
    register(bram, parents=(PARENT_BSN,))
    anna.post("/signalen/nieuw", signal_form(parents=(NOT_ELFPROEF,)))  # refused
    anna.post("/signalen/nieuw", signal_form())  # conflict
    anna.post(f"/signalen/{signal_id}/intrekken", {"reason": "risk_gone"})
    for path in ("/signalen", "/signalen?status=archived", "/matches", "/informatieplicht"):
        anna.get(path)

    for response in anna.responses + bram.responses:
        assert_no_bsn(response.headers.get("Location", ""), text(response))
        title = re.search(r"<title>(.*?)</title>", text(response), flags=re.S)
        assert title is None or not re.search(r"\d{9}", title.group(1))
        if response.status_code in (301, 302, 303):
            assert re.fullmatch(r"/[a-z/\-0-9]*(\?[a-z]+=[a-z\-]+)?", response.headers["Location"])
    assert_no_bsn(*anna.visited, *bram.visited)


def test_pages_of_a_professional_are_not_for_anonymous_visitors(anna: Browser, app: Any) -> None:
    anonymous = app.test_client()
    for path in ("/signalen", "/signalen/nieuw", "/matches", "/informatieplicht"):
        answer = anonymous.get(path)
        assert answer.status_code == 302
        assert answer.headers["Location"].startswith("/inloggen?volgende=")


# --- my signals and withdrawing --------------------------------------------------------------


def test_withdrawing_because_the_risk_is_gone_archives_the_signal(
    anna: Browser, bram: Browser, matched: str
) -> None:
    signal_id = re.findall(rf'href="/signalen/({UUID})"', text(anna.get("/signalen")))[0]
    confirm = text(anna.get(f"/signalen/{signal_id}/intrekken"))
    assert "Het risico is weg" in confirm and "Het signaal was onterecht" in confirm
    assert "gearchiveerd" in confirm and "definitief verwijderd" in confirm

    answer = anna.post(f"/signalen/{signal_id}/intrekken", {"reason": "risk_gone"})
    assert answer.headers["Location"] == f"/signalen/{signal_id}?melding=gearchiveerd"
    page = text(anna.follow(answer))
    assert "ingetrokken en gearchiveerd" in page and "Gearchiveerd" in page

    assert signal_id not in text(anna.get("/signalen"))
    archived = anna.get("/signalen?status=archived")
    assert f"/signalen/{signal_id}" in text(archived)
    assert 'aria-current="page">Gearchiveerd' in text(archived)
    assert f"/matches/{matched}" not in text(bram.get("/matches"))


def test_withdrawing_as_unjustified_erases_the_signal_for_good(anna: Browser) -> None:
    signal_id, _ = register(anna)
    answer = anna.post(f"/signalen/{signal_id}/intrekken", {"reason": "unjustified"})
    assert answer.headers["Location"] == "/signalen?melding=verwijderd"
    assert "definitief verwijderd" in text(anna.follow(answer))
    assert anna.get(f"/signalen/{signal_id}").status_code == 404
    assert signal_id not in text(anna.get("/signalen?status=archived"))


def test_withdrawing_needs_a_choice(anna: Browser) -> None:
    signal_id, _ = register(anna)
    answer = anna.post(f"/signalen/{signal_id}/intrekken", {})
    assert answer.status_code == 400
    assert_error_next_to(text(answer), "reason", "Kies waarom")
    assert "Actief" in text(anna.get(f"/signalen/{signal_id}"))


def test_the_signal_page_shows_dates_and_the_informatieplicht(anna: Browser) -> None:
    signal_id, page = register(
        anna,
        birth_date="2012-01-01",
        child_informed=True,
        parents_informed=False,
        postponement_reason="not_in_interest_of_child",
        postponement_justification="Vader reageert niet; eerst veiligheid regelen.",
        postponement_review_on="2026-12-15",
    )
    assert "Signaal van 23 november 2026" in page
    assert "Actief tot" in page and "23 november 2028" in page
    assert "Niet in het belang van de jeugdige" in page
    assert "Vader reageert niet; eerst veiligheid regelen." in page
    assert "15 december 2026" in page
    assert "Herbeoordeling verlopen" not in page
    assert "Er zijn geen eerdere signalen" in page
    assert f'action="/signalen/{signal_id}/informatieplicht"' in page


# --- informatieplicht ------------------------------------------------------------------------


def test_marking_everyone_informed_ends_the_postponement(anna: Browser) -> None:
    signal_id, _ = register(
        anna,
        birth_date="2012-01-01",
        parents_informed=False,
        postponement_reason="not_reasonably_possible",
        postponement_justification="Nog geen contact gehad.",
        postponement_review_on="2027-01-10",
    )
    url = f"/signalen/{signal_id}/informatieplicht"
    nothing = anna.post(url, {})
    assert nothing.status_code == 400 and "Vink aan wie u heeft geïnformeerd" in text(nothing)

    # The parents of a 14-year-old are still to be informed: the postponement stays.
    answer = anna.post(url, {"child_informed": "ja"})
    assert answer.headers["Location"] == f"/signalen/{signal_id}?melding=bijgewerkt"
    page = text(anna.follow(answer))
    assert "Niet redelijkerwijs mogelijk" in page
    assert f"/signalen/{signal_id}" in text(anna.get("/informatieplicht"))

    answer = anna.post(url, {"parents_informed": "ja"})
    assert answer.headers["Location"] == f"/signalen/{signal_id}?melding=uitstel-beeindigd"
    page = text(anna.follow(answer))
    assert "het uitstel is beëindigd" in page
    assert "Niet redelijkerwijs mogelijk" not in page
    assert f'action="{url}"' not in page  # nothing is left to mark
    assert "geen signalen met uitgesteld informeren" in text(anna.get("/informatieplicht"))


def test_postponements_due_are_listed_by_review_date_and_overdue_ones_stand_out(
    anna: Browser, clock: FakeClock
) -> None:
    postponed = {
        "parents_informed": False,
        "postponement_reason": "not_in_interest_of_child",
        "postponement_justification": "Onderbouwing.",
    }
    late, _ = register(anna, CHILD_BSN, postponement_review_on="2027-02-01", **postponed)
    soon, _ = register(anna, SIBLING_BSN, postponement_review_on="2026-12-01", **postponed)
    register(anna, OTHER_CHILD_BSN)  # nothing postponed

    page = text(anna.get("/informatieplicht"))
    listed = re.findall(rf'href="/signalen/({UUID})"', page)
    assert listed == [soon, late]
    assert "Herbeoordeling verlopen" not in page

    clock.advance(days=10)
    anna.log_in_again(clock)
    page = text(anna.get("/informatieplicht"))
    assert re.findall(rf'href="/signalen/({UUID})"', page) == [soon, late]
    assert page.count("Herbeoordeling verlopen") == 1
    assert re.search(r'<li class="overdue">\s*<a href="/signalen/' + soon, page)
    assert "Herbeoordeling verlopen" in text(anna.get(f"/signalen/{soon}"))


# --- the match page --------------------------------------------------------------------------


def test_the_match_page_links_phone_and_email_and_names_sectors(
    anna: Browser, bram: Browser, matched: str
) -> None:
    page = text(anna.get(f"/matches/{matched}"))
    assert 'href="tel:+31201234567"' in page and 'href="tel:+31612345678"' in page
    assert 'href="mailto:bram.bakker@example.org"' in page
    assert 'href="mailto:anna.de.vries@example.org"' in page
    assert "Jeugdhulp" in page and "Onderwijs" in page
    assert "Betrokken sinds" in page and "23 november 2026" in page
    assert page.count("nog niet opgevolgd") == 2


def test_designating_and_stepping_down_as_regisseur(
    anna: Browser, bram: Browser, matched: str
) -> None:
    url = f"/matches/{matched}"
    assert "Er is nog geen procesregisseur" in text(anna.get(url))

    answer = anna.post(f"{url}/regisseur", {"professional_id": str(bram.professional_id)})
    assert answer.headers["Location"] == f"{url}?melding=regisseur"
    page = text(anna.follow(answer))
    assert "De procesregisseur is aangewezen" in page
    assert re.search(r"Bram Bakker\s*<span class=\"tag regisseur\">Procesregisseur", page)
    assert "Ik leg de rol van procesregisseur neer" not in page
    assert anna.post(f"{url}/regisseur/neerleggen").status_code == 403

    bram_page = text(bram.get(url))
    assert "Ik leg de rol van procesregisseur neer" in bram_page
    answer = bram.post(f"{url}/regisseur/neerleggen")
    assert answer.headers["Location"] == f"{url}?melding=neergelegd"
    assert "Er is nog geen procesregisseur" in text(bram.follow(answer))

    stranger = anna.post(f"{url}/regisseur", {"professional_id": "not-an-id"})
    assert stranger.status_code == 400
    assert "Kies een van de betrokken professionals" in text(stranger)
    outsider = anna.post(
        f"{url}/regisseur", {"professional_id": "00000000-0000-4000-8000-000000000000"}
    )
    assert outsider.status_code == 400


def test_marking_a_match_followed_up_and_undoing_it(
    anna: Browser, bram: Browser, matched: str
) -> None:
    url = f"/matches/{matched}"
    answer = anna.post(f"{url}/opvolging", {"action": "mark"})
    assert answer.headers["Location"] == f"{url}?melding=opgevolgd"
    page = text(anna.follow(answer))
    assert "opgevolgd op 23 november 2026" in page and "nog niet opgevolgd" in page
    assert "Toch nog niet opgevolgd" in page

    seen_by_bram = text(bram.get(url))
    assert "opgevolgd op 23 november 2026" in seen_by_bram
    assert "Markeer als opgevolgd" in seen_by_bram

    answer = anna.post(f"{url}/opvolging", {"action": "undo"})
    assert answer.headers["Location"] == f"{url}?melding=niet-opgevolgd"
    assert text(anna.follow(answer)).count("nog niet opgevolgd") == 2
    assert anna.post(f"{url}/opvolging", {"action": "later"}).status_code == 400


# --- access and CSRF -------------------------------------------------------------------------


def test_another_professionals_signal_and_match_are_not_found(
    anna: Browser, login: Login, matched: str
) -> None:
    carol = login("Carol Jansen", "GGD Regio", "jeugdgezondheidszorg")
    signal_id = re.findall(rf'href="/signalen/({UUID})"', text(anna.get("/signalen")))[0]
    for path in (
        f"/signalen/{signal_id}",
        f"/signalen/{signal_id}/intrekken",
        f"/matches/{matched}",
        "/signalen/00000000-0000-4000-8000-000000000000",
        "/matches/not-a-uuid",
    ):
        answer = carol.get(path)
        assert answer.status_code == 404, path
        assert "Pagina niet gevonden" in text(answer)
    assert carol.post(
        f"/signalen/{signal_id}/intrekken", {"reason": "unjustified"}
    ).status_code == (404)
    assert (
        carol.post(f"/signalen/{signal_id}/informatieplicht", {"child_informed": "ja"}).status_code
        == 404
    )
    assert (
        carol.post(
            f"/matches/{matched}/regisseur", {"professional_id": str(carol.professional_id)}
        ).status_code
        == 404
    )
    assert carol.post(f"/matches/{matched}/opvolging", {"action": "mark"}).status_code == 404
    assert anna.get(f"/signalen/{signal_id}").status_code == 200


def test_a_form_without_its_csrf_token_is_refused(anna: Browser) -> None:
    answer = anna.post("/signalen/nieuw", signal_form(), csrf=False)
    assert answer.status_code == 400
    assert "Het formulier is verlopen" in text(answer)
    assert_no_bsn(text(answer))
    assert "geen actieve signalen" in text(anna.get("/signalen"))

    signal_id, _ = register(anna)
    refused = anna.post(f"/signalen/{signal_id}/intrekken", {"reason": "unjustified"}, csrf=False)
    assert refused.status_code == 400
    assert anna.get(f"/signalen/{signal_id}").status_code == 200


# --- reading forms (pure) --------------------------------------------------------------------


def test_a_typed_bsn_may_hold_spaces_and_dots() -> None:
    form = forms.parse_signal_form(signal_form("111 222 333", parents=("1111.11.110",)), TODAY)
    assert form.errors == {}
    assert form.signal is not None and len(form.signal.parents) == 1


def test_a_read_form_keeps_no_bsn_to_show_again() -> None:
    form = forms.parse_signal_form(signal_form(NOT_ELFPROEF, parents=(PARENT_BSN,)), TODAY)
    assert form.signal is None
    assert set(form.values) == set(forms.ECHOED)
    assert_no_bsn(repr(form))


def test_problems_named_by_the_api_land_on_their_form_fields() -> None:
    filled = ("parent_bsn_1", "parent_bsn_3")
    assert forms.field_of("parentBsns[1]", filled) == "parent_bsn_3"
    assert forms.field_of("parentBsns[7]", filled) == "parent_bsns"
    assert forms.field_of("informatieplicht.postponement.reviewOn") == "postponement_review_on"
    errors = forms.errors_of_problems(
        [
            Problem("birthDate", "The child must be under 23 on the day of signalling."),
            Problem("birthDate", "The birth date lies in the future."),
            Problem("bsn", "Something new."),
            Problem("informatieplicht.parentsInformed", "Whatever the wording."),
        ]
    )
    assert errors == {
        "birth_date": "De jeugdige moet op de dag van het signaal jonger zijn dan 23 jaar.",
        "bsn": forms.BSN_INVALID,
        "parents_informed": forms.errors_of_problems(
            [Problem("informatieplicht.parentsInformed", "")]
        )["parents_informed"],
    }
    assert "jonger dan 16 jaar" in errors["parents_informed"]


def test_a_postponement_is_read_whole() -> None:
    form = forms.parse_signal_form(
        signal_form(
            parents_informed=False,
            postponement_reason="not_in_interest_of_child",
            postponement_justification="x" * 1001,
            postponement_review_on="15-01-2027",
        ),
        TODAY,
    )
    assert form.errors == {
        "postponement_justification": "De onderbouwing is te lang: maximaal 1000 tekens."
    }
    form = forms.parse_signal_form(
        signal_form(
            parents_informed=False,
            postponement_reason="not_in_interest_of_child",
            postponement_justification="Uitleg",
            postponement_review_on="15-01-2027",
        ),
        TODAY,
    )
    assert form.signal is not None
    postponement = form.signal.informatieplicht.postponement
    assert postponement is not None
    assert postponement.reason is PostponementReason.NOT_IN_INTEREST_OF_CHILD
    assert postponement.review_on == date(2027, 1, 15)
