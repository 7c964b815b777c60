"""The registration form refuses a BSN in the justification, in Dutch, and does not show the
number back in the re-displayed form (issue 10 item 15)."""

from __future__ import annotations

import pytest

from tests.conftest import CHILD_BSN, SIBLING_BSN
from tests.web.conftest import Browser, Login
from tests.web.test_professional_pages import assert_error_next_to, signal_form, text


@pytest.fixture
def anna(login: Login) -> Browser:
    return login("Anna de Vries", "Basisschool De Linde", "onderwijs")


@pytest.mark.parametrize("typed", ["111222333", "1112 22 333", "111.222.333"])
def test_a_bsn_in_the_justification_is_refused_next_to_the_field_and_not_shown_back(
    anna: Browser, typed: str
) -> None:
    form = signal_form(
        SIBLING_BSN,
        parents_informed=False,
        postponement_reason="not_reasonably_possible",
        postponement_justification=f"Broertje ({typed}) eerst spreken.",
        postponement_review_on="2027-01-15",
    )
    answer = anna.post("/signalen/nieuw", form)
    assert answer.status_code == 400
    page = text(answer)
    assert_error_next_to(page, "postponement_justification", "Noem geen BSN in de toelichting.")
    assert typed not in page
    assert CHILD_BSN not in page
    assert "Broertje ([BSN weggelaten]) eerst spreken.</textarea>" in page
    assert "geen actieve signalen" in text(anna.get("/signalen"))
