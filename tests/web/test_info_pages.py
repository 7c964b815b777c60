"""The footer's pages (issue 14 item 9): open to anyone, logged in or not, with the
installation's own text when it wrote one, and a Dutch default otherwise; a favicon; the
login page tells a person who forgot their password whom to ask."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import FakeClock, core_of
from verwijsindex import create_app
from verwijsindex.config import Settings

FOOTER = {
    "/toegankelijkheid": "Toegankelijkheidsverklaring",
    "/privacyverklaring": "Privacyverklaring",
    "/contact": "Contact",
}


@pytest.mark.parametrize("path", sorted(FOOTER))
def test_each_footer_page_opens_without_logging_in(client: FlaskClient, path: str) -> None:
    answer = client.get(path)
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert f"<h1>{FOOTER[path]}</h1>" in text
    assert "beheerder" in text or "functionaris gegevensbescherming" in text


def test_every_page_links_the_footer_pages_and_a_favicon(client: FlaskClient) -> None:
    login = client.get("/inloggen").get_data(as_text=True)
    for path in FOOTER:
        assert f'href="{path}"' in login
    assert 'rel="icon" href="/static/favicon.svg"' in login
    assert client.get("/static/favicon.svg").status_code == 200
    assert "Wachtwoord vergeten? Neem" in login and "op met uw beheerder" in login


def test_an_installation_writes_its_own_text_as_plain_text(
    settings: Settings, clock: FakeClock, tmp_path: Path, app: Flask
) -> None:
    (tmp_path / "contact.txt").write_text(
        "Bel de servicedesk: 030 123 4567.\n\nOf mail <b>servicedesk@example.org</b>.\n",
        encoding="utf-8",
    )
    own = create_app(dataclasses.replace(settings, info_pages_dir=tmp_path), clock=clock)
    try:
        http = own.test_client()
        contact = http.get("/contact").get_data(as_text=True)
        assert "<p>Bel de servicedesk: 030 123 4567.</p>" in contact
        assert "<p>Of mail &lt;b&gt;servicedesk@example.org&lt;/b&gt;.</p>" in contact
        assert "neem contact op met de beheerder" not in contact.lower()
        # Pages without a file of their own keep the default.
        assert "WCAG" in http.get("/toegankelijkheid").get_data(as_text=True)
    finally:
        core_of(own).database.dispose()


def test_settings_read_the_folder_from_the_environment(tmp_path: Path) -> None:
    env = {"VERWIJSINDEX_INFO_PAGES_DIR": str(tmp_path)}
    assert Settings.from_env(env).info_pages_dir == tmp_path
    assert Settings.from_env({}).info_pages_dir is None
