"""Mirrored participants of another region on the professional's pages (docs/federation.md,
points 5-7): named with their contact details and "andere regio: regio-b"; no button to make
them procesregisseur here (and a forged form is refused with the reason)."""

from __future__ import annotations

import re

from tests.conftest import CHILD_BSN
from tests.federation_rows import mirror_signal
from tests.web.conftest import Browser, Login
from tests.web.test_professional_pages import register, text
from verwijsindex.services import Core


def _matched_across_regions(login: Login, core: Core) -> tuple[Browser, str, str]:
    anna = login("Anna de Vries", "Basisschool De Linde", "onderwijs")
    register(anna)
    mirrored = mirror_signal(core, CHILD_BSN)
    (match_id,) = mirrored.match_ids
    return anna, str(match_id), str(mirrored.professional_id)


def test_the_match_page_names_the_other_region_of_a_mirrored_participant(
    login: Login, core: Core
) -> None:
    anna, match_id, remote_id = _matched_across_regions(login, core)
    page = text(anna.get(f"/matches/{match_id}"))
    assert re.search(r"Rob Remote\s*<span class=\"tag other-region\">andere regio: regio-b", page)
    assert "Jeugdteam Regio B" in page
    assert 'href="mailto:rob.remote@regio-b.example.org"' in page
    assert 'href="tel:+31698765432"' in page
    assert "volgt de eigen regio" in page
    # Anna herself is local: no region next to her, and she can still be designated.
    assert page.count("andere regio: regio-b") == 2  # the tag and the Regio line, once each
    assert "Mijzelf aanwijzen als procesregisseur" in page
    assert f'value="{remote_id}"' not in page  # no button for the other region's person
    listing = text(anna.get("/matches"))
    assert "Jeugdteam Regio B (andere regio: regio-b)" in listing


def test_a_forged_designation_of_a_remote_participant_is_refused_with_the_reason(
    login: Login, core: Core
) -> None:
    anna, match_id, remote_id = _matched_across_regions(login, core)
    answer = anna.post(f"/matches/{match_id}/regisseur", {"professional_id": remote_id})
    assert answer.status_code == 409
    page = text(answer)
    assert "andere regio kan hier geen procesregisseur zijn" in page
    assert "Er is nog geen procesregisseur" in page


def test_the_history_names_the_region_of_a_mirrored_archived_signal(
    login: Login, core: Core
) -> None:
    mirror_signal(core, CHILD_BSN, status="archived")
    anna = login("Anna de Vries", "Basisschool De Linde", "onderwijs")
    # Right after registering, the signal page offers (and shows) the history once.
    _, landing = register(anna)
    assert "Jeugdteam Regio B (andere regio: regio-b)" in landing
