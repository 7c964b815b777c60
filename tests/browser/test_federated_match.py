"""A cross-region match in a real browser (docs/federation.md, point 5): the other region's
professional is shown with contact details and "andere regio: regio-b", without a regisseur
button, and the page has no axe-core violation at desk and phone width."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from playwright.sync_api import Page, expect

from tests.browser.axe import assert_accessible, assert_no_sideways_scroll
from tests.browser.conftest import People
from tests.conftest import CHILD_BSN, signal_body
from tests.federation_rows import mirror_signal
from verwijsindex.services import Core
from verwijsindex.services.auth import personal_token

NewPage = Callable[..., Page]


def test_a_cross_region_match_names_the_other_region_and_is_accessible(
    new_page: NewPage, people: People, core: Core, client: FlaskClient
) -> None:
    anna = people.create("Anna de Vries")
    with core.transaction(write=False) as tx:
        (professional,) = tx.people.professionals_in(None)
    token = personal_token(core, professional.id)
    registered = client.post(
        "/api/v1/signals",
        json=signal_body(CHILD_BSN),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert registered.status_code == 201, registered.get_json()
    (match_id,) = mirror_signal(core, CHILD_BSN).match_ids

    for width in (1280, 390):
        page = new_page(width)
        people.log_in(page, anna)
        page.goto(f"/matches/{match_id}")
        remote = page.locator("li.participant", has_text="Rob Remote")
        expect(remote.locator(".tag.other-region")).to_have_text("andere regio: regio-b")
        expect(remote.get_by_role("link", name="rob.remote@regio-b.example.org")).to_be_visible()
        expect(remote.get_by_role("button")).to_have_count(0)
        expect(
            page.get_by_role("button", name="Mijzelf aanwijzen als procesregisseur")
        ).to_be_visible()
        assert_accessible(page, f"cross-region match at {width}px")
        assert_no_sideways_scroll(page)
