"""Issue 14 on the professional's pages: cases told apart (birth date, own reference, search),
dates as three fields, and a signal form that shows parents 2-4 and the postponement only
when asked for, without JavaScript."""

from __future__ import annotations

import re

import pytest

from tests.conftest import CHILD_BSN, OTHER_CHILD_BSN, SIBLING_BSN
from tests.web.conftest import Browser, Login
from tests.web.test_professional_pages import match_ids, register, signal_form, text


@pytest.fixture
def anna(login: Login) -> Browser:
    return login("Anna de Vries", "Basisschool De Linde", "onderwijs")


@pytest.fixture
def bram(login: Login) -> Browser:
    return login("Bram Bakker", "Jeugdteam Noord", "jeugdhulp")


def _details(page: str, css_class: str) -> str:
    found = re.search(rf'<details class="{css_class}"[^>]*>', page)
    assert found, css_class
    return found.group(0)


# --- telling cases apart ---------------------------------------------------------------------


def test_the_list_and_the_signal_page_show_birth_date_and_own_reference(anna: Browser) -> None:
    _, landing = register(anna, birth_date="2015-03-14", own_reference="Dossier 17")
    assert "Jeugdige geboren 14 maart 2015 · Dossier 17" in landing
    register(anna, SIBLING_BSN, birth_date="2013-07-02", child_informed=True)
    page = text(anna.get("/signalen"))
    assert "Jeugdige geboren 14 maart 2015 · Dossier 17" in page
    assert "Jeugdige geboren 2 juli 2013" in page
    assert "<table" not in page  # cards: they reflow at 320 px


def test_search_finds_own_signals_by_part_of_the_reference_and_by_birth_date(
    anna: Browser,
) -> None:
    register(anna, birth_date="2015-03-14", own_reference="Dossier Zonnebloem")
    register(
        anna,
        SIBLING_BSN,
        birth_date="2013-07-02",
        own_reference="Dossier Tulp",
        child_informed=True,
    )
    register(anna, OTHER_CHILD_BSN, birth_date="2015-03-14")

    page = text(anna.get("/signalen?zoek=zonneBLOEM"))
    assert "1 signaal gevonden" in page and "Dossier Zonnebloem" in page
    assert "Dossier Tulp" not in page

    page = text(anna.get("/signalen?zoek=dossier"))
    assert "2 signalen gevonden" in page

    born = "geboren_dag=14&geboren_maand=3&geboren_jaar=2015"
    page = text(anna.get(f"/signalen?{born}"))
    assert "2 signalen gevonden" in page and "Dossier Tulp" not in page
    page = text(anna.get(f"/signalen?zoek=zonne&{born}"))
    assert "1 signaal gevonden" in page

    page = text(anna.get("/signalen?zoek=bestaat-niet"))
    assert "Geen signalen gevonden" in page
    assert "0 signalen gevonden" in page


def test_a_search_with_an_impossible_date_says_so_on_the_date_group(anna: Browser) -> None:
    answer = anna.get("/signalen?geboren_dag=31&geboren_maand=2&geboren_jaar=2015")
    assert answer.status_code == 400
    page = text(answer)
    assert '<p class="error" id="geboren-error">Deze datum bestaat niet' in page
    assert re.search(r'name="geboren_dag"[^>]*value="31"', page, re.S)


def test_another_professionals_signals_are_never_found(anna: Browser, bram: Browser) -> None:
    register(bram, own_reference="Bram zijn dossier")
    page = text(anna.get("/signalen?zoek=dossier"))
    assert "Bram zijn dossier" not in page and "0 signalen gevonden" in page


def test_the_own_reference_is_changed_and_cleared_on_the_signal_page(anna: Browser) -> None:
    signal_id, _ = register(anna)
    done = anna.post(f"/signalen/{signal_id}/kenmerk", {"own_reference": "Nieuw 5"})
    assert done.status_code == 303
    page = text(anna.follow(done))
    assert "Uw eigen kenmerk is opgeslagen" in page and "· Nieuw 5" in page

    refused = anna.post(f"/signalen/{signal_id}/kenmerk", {"own_reference": f"kind {CHILD_BSN}"})
    assert refused.status_code == 400
    page = text(refused)
    assert "Noem geen BSN in uw eigen kenmerk" in page
    assert CHILD_BSN not in page

    too_long = anna.post(f"/signalen/{signal_id}/kenmerk", {"own_reference": "x" * 41})
    assert "maximaal 40 tekens" in text(too_long)

    cleared = anna.post(f"/signalen/{signal_id}/kenmerk", {"own_reference": " "})
    page = text(anna.follow(cleared))
    assert "Nieuw 5" not in page and "<dt>Uw eigen kenmerk</dt><dd>Geen</dd>" in page


def test_the_form_says_the_own_reference_is_no_case_content(anna: Browser) -> None:
    page = text(anna.get("/signalen/nieuw"))
    assert "Geen inhoud over de jeugdige: geen namen, geen diagnoses" in page
    answer = anna.post("/signalen/nieuw", signal_form(own_reference=f"x {CHILD_BSN}"))
    assert answer.status_code == 400
    page = text(answer)
    assert "Noem geen BSN in uw eigen kenmerk" in page and CHILD_BSN not in page


def test_each_participant_sees_only_their_own_label_on_the_match_pages(
    anna: Browser, bram: Browser
) -> None:
    register(anna, birth_date="2015-03-14", own_reference="Anna haar dossier")
    _, page = register(bram, birth_date="2015-03-14", own_reference="Bram zijn dossier")
    (match_id,) = match_ids(page)
    views = ((anna, "Anna haar", "Bram zijn"), (bram, "Bram zijn", "Anna haar"))
    for browser, own, other in views:
        for path in ("/matches", f"/matches/{match_id}"):
            page = text(browser.get(path))
            assert f"jeugdige geboren 14 maart 2015 · {own} dossier" in page, (path, own)
            assert other not in page, (path, other)


# --- dates as dag, maand, jaar ---------------------------------------------------------------


def test_the_birth_date_is_three_labelled_numeric_fields_in_one_group(anna: Browser) -> None:
    page = text(anna.get("/signalen/nieuw"))
    group = re.search(
        r'<fieldset class="field date-input"[^>]*id="birth_date-group".*?</fieldset>', page, re.S
    )
    assert group, "no date group for the birth date"
    html = group.group(0)
    assert "<legend>Geboortedatum</legend>" in html and "Bijvoorbeeld 15 3 2014" in html
    for label in ("Dag", "Maand", "Jaar"):
        assert f">{label}</label>" in html
    assert html.count('inputmode="numeric"') == 3
    assert 'type="date"' not in page


def test_an_impossible_date_is_one_error_on_the_whole_group(anna: Browser) -> None:
    form = signal_form(birth_date="31-02-2015")
    answer = anna.post("/signalen/nieuw", form)
    assert answer.status_code == 400
    page = text(answer)
    assert '<p class="error" id="birth_date-error">Deze datum bestaat niet' in page
    assert 'href="#birth_date"' in page  # the summary lands on the day field
    assert page.count('aria-invalid="true"') >= 3


def test_a_leap_day_is_a_birth_date_only_in_a_leap_year(anna: Browser) -> None:
    assert anna.post("/signalen/nieuw", signal_form(birth_date="29-02-2015")).status_code == 400
    _, page = register(anna, birth_date="29-02-2016")
    assert "Jeugdige geboren 29 februari 2016" in page


def test_a_two_digit_year_is_refused_not_guessed(anna: Browser) -> None:
    answer = anna.post("/signalen/nieuw", signal_form(birth_date="14-03-15"))
    assert "Vul het jaar in met 4 cijfers" in text(answer)


# --- progressive disclosure ------------------------------------------------------------------


def test_parents_two_to_four_and_the_postponement_start_closed(anna: Browser) -> None:
    page = text(anna.get("/signalen/nieuw"))
    assert " open" not in _details(page, "more-parents")
    assert " open" not in _details(page, "postponement-toggle")
    # Closed, but in the page: submitted without JavaScript like any field.
    assert 'name="parent_bsn_4"' in page and 'name="postponement_reason"' in page


def test_a_section_with_an_error_or_typed_values_opens(anna: Browser) -> None:
    page = text(anna.post("/signalen/nieuw", signal_form(parents=("1", "2", "123456789"))))
    assert " open" in _details(page, "more-parents")

    page = text(
        anna.post(
            "/signalen/nieuw",
            signal_form(
                birth_date="",
                parents_informed=False,
                postponement_reason="not_reasonably_possible",
                postponement_justification="Moeder is in het buitenland",
                postponement_review_on="15-01-2027",
            ),
        )
    )
    assert " open" in _details(page, "postponement-toggle")
    assert "Moeder is in het buitenland</textarea>" in page

    # A missing "informed" points at the postponement: it opens too.
    page = text(anna.post("/signalen/nieuw", signal_form(parents_informed=False)))
    assert " open" in _details(page, "postponement-toggle")
