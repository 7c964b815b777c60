"""The beheerder's pages, through the real app and the real login: organisations, inviting
professionals (the link shown once), roles and (de)activation, koppelingen with their secret
shown once, and the statistics chart with small cells hidden.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Mapping, Sequence

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from tests.conftest import CHILD_BSN, FakeClock, World
from tests.integration.test_concurrency import valid_bsns
from tests.web.conftest import PASSWORD, Browser, Login, csrf_of, log_in
from verwijsindex.models import WebSessionRow
from verwijsindex.services import Core, directory
from verwijsindex.services.auth import InvalidClient, token_for_client

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
ONCE = "Kopieer deze link nu, hij wordt niet nog eens getoond."
BASE_URL = "http://localhost:8080"  # config.DEFAULT_BASE_URL, which the tests' settings keep


def text(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


def submit(
    browser: Browser, path: str, data: Mapping[str, str | Sequence[str]] | None = None
) -> TestResponse:
    """A POST with repeated fields (role checkboxes), carrying the page's CSRF token."""
    form = {"csrf_token": browser.csrf_token(), **(data or {})}
    response = browser.http.post(path, data=form)
    browser.responses.append(response)
    return response


def assert_error_next_to(page: str, field: str, message: str) -> None:
    found = re.search(rf'<p class="error" id="{field}-error"[^>]*>([^<]*)</p>', page)
    assert found, f"no error next to {field}"
    assert message in found.group(1), found.group(1)


def invitation_link(page: str) -> str:
    found = re.search(r'id="invitation-link"[^>]*value="([^"]+)"', page, flags=re.S)
    assert found, "no invitation link on the page"
    return found.group(1)


def web_sessions_of(core: Core, professional_id: uuid.UUID) -> int:
    with core.transaction(write=False) as tx:
        statement = select(func.count()).where(WebSessionRow.professional_id == professional_id)
        return int(tx.uow.session.scalar(statement) or 0)


@pytest.fixture
def bea(login: Login) -> Browser:
    return login("Bea Beheer", "Regio Utrecht", "jeugdhulp", roles=("beheerder",))


@pytest.fixture
def anna(login: Login) -> Browser:
    return login("Anna de Vries", "Basisschool De Linde", "onderwijs")


def organisation_id(bea: Browser, name: str) -> str:
    page = text(bea.get("/beheer/professionals"))
    found = re.search(rf'<option value="({UUID})"[^>]*>{re.escape(name)} \(', page)
    assert found, f"no organisation {name}"
    return found.group(1)


def invite(bea: Browser, organisation: str, **fields: str | Sequence[str]) -> TestResponse:
    form: dict[str, str | Sequence[str]] = {
        "organisation": organisation,
        "name": "Chris Claassen",
        "email": "chris@example.org",
        "phone": "06 1234 5678",
        "roles": ["professional"],
    }
    form.update(fields)
    return submit(bea, "/beheer/professionals/nieuw", form)


def professional_id_of(page: str) -> str:
    found = re.search(rf'href="/beheer/professionals/({UUID})"', page)
    assert found, "no link to the professional's page"
    return found.group(1)


# --- access ----------------------------------------------------------------------------------


BEHEER_PAGES = (
    "/beheer",
    "/beheer/organisaties",
    "/beheer/organisaties/nieuw",
    "/beheer/professionals",
    "/beheer/professionals/nieuw",
    "/beheer/koppelingen",
    "/beheer/koppelingen/nieuw",
    "/beheer/statistieken",
)


def test_beheer_pages_are_for_beheerders_only(bea: Browser, anna: Browser, app: Flask) -> None:
    anonymous = app.test_client()
    for path in BEHEER_PAGES:
        assert bea.get(path).status_code == 200, path
        assert anna.get(path).status_code == 403, path
        answer = anonymous.get(path)
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/inloggen")
    assert anna.get(f"/beheer/professionals/{bea.professional_id}").status_code == 403
    assert 'href="/beheer"' in text(bea.get("/")) and 'href="/beheer"' not in text(anna.get("/"))


def test_the_index_links_every_task(bea: Browser) -> None:
    page = text(bea.get("/beheer"))
    for path in ("organisaties", "professionals", "koppelingen", "statistieken"):
        assert f'href="/beheer/{path}"' in page


def test_beheer_pages_use_no_inline_style_or_script(bea: Browser) -> None:
    for path in BEHEER_PAGES:
        page = bea.get(path).get_data(as_text=True)
        assert "style=" not in page and "<style" not in page, path
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), path


# --- organisations ---------------------------------------------------------------------------


def test_a_beheerder_adds_an_organisation_choosing_a_sector_in_dutch(bea: Browser) -> None:
    form = text(bea.get("/beheer/organisaties/nieuw"))
    assert '<option value="maatschappelijke_ondersteuning">Maatschappelijke ondersteuning' in form
    answer = submit(
        bea, "/beheer/organisaties/nieuw", {"name": "Wijkteam Oost", "sector": "jeugdhulp"}
    )
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/beheer/organisaties?melding=aangemaakt"
    listed = text(bea.follow(answer))
    assert "De organisatie is aangemaakt." in listed
    assert re.search(r"<td[^>]*>Wijkteam Oost</td>\s*<td[^>]*>Jeugdhulp</td>", listed)


def test_organisation_errors_are_shown_next_to_their_fields(bea: Browser) -> None:
    answer = submit(bea, "/beheer/organisaties/nieuw", {"name": " ", "sector": "bakkerij"})
    assert answer.status_code == 400
    page = text(answer)
    assert_error_next_to(page, "name", "Vul dit veld in.")
    assert_error_next_to(page, "sector", "Kies een sector.")
    too_long = submit(bea, "/beheer/organisaties/nieuw", {"name": "x" * 201, "sector": "justitie"})
    assert_error_next_to(text(too_long), "name", "Maximaal 200 tekens.")
    assert 'value="justitie" selected' in text(too_long)


# --- inviting --------------------------------------------------------------------------------


def test_inviting_shows_the_link_once_and_the_new_professional_can_use_it(
    bea: Browser, app: Flask, clock: FakeClock
) -> None:
    school = organisation_id(bea, "Regio Utrecht")
    form = text(bea.get(f"/beheer/professionals/nieuw?organisatie={school}"))
    for label in ("Professional", "Beheerder", "Privacy officer"):
        assert f">{label}</label>" in form
    assert re.search(r'value="professional"[^>]*checked', form, flags=re.S)

    answer = invite(bea, school, roles=["professional", "privacy_officer"])
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    page = text(answer)
    assert ONCE in page
    link = invitation_link(page)
    # The code is in the #-part, which browsers never send: it cannot reach an access log.
    assert re.fullmatch(rf"{re.escape(BASE_URL)}/uitnodiging#[A-Za-z0-9_-]{{20,}}", link)
    token = link.rsplit("#", 1)[1]

    chris = professional_id_of(page)
    shown = text(bea.get(f"/beheer/professionals/{chris}"))
    assert "Chris Claassen" in shown and "Professional, Privacy officer" in shown
    assert token not in shown and token not in text(bea.get("/beheer/professionals"))

    # The new professional opens the link in a browser of their own.
    newcomer = app.test_client()
    welcome = newcomer.get("/uitnodiging")
    assert welcome.status_code == 200
    accepted = newcomer.post(
        "/uitnodiging",
        data={
            "csrf_token": csrf_of(welcome.get_data(as_text=True)),
            "uitnodiging": token,
            "password": PASSWORD,
            "repeated": PASSWORD,
        },
    )
    assert accepted.status_code == 303 and accepted.headers["Location"] == "/inloggen/instellen"
    # Logging in later works with the chosen password and a TOTP secret set up on the way.
    log_in(app.test_client(), "chris@example.org", clock)


def test_the_invite_form_shows_every_problem_next_to_its_field(bea: Browser) -> None:
    answer = submit(
        bea,
        "/beheer/professionals/nieuw",
        {"organisation": "", "name": "", "email": "geen-adres", "phone": "bellen"},
    )
    assert answer.status_code == 400
    page = text(answer)
    assert_error_next_to(page, "organisation", "Kies een organisatie.")
    assert_error_next_to(page, "name", "Vul dit veld in.")
    assert_error_next_to(page, "email", "Dit is geen geldig e-mailadres.")
    assert_error_next_to(page, "phone", "Dit is geen geldig telefoonnummer.")
    assert_error_next_to(page, "roles", "Kies minstens één rol.")
    assert 'value="geen-adres"' in page  # typed values are kept
    assert ONCE not in page
    assert "Chris" not in text(bea.get("/beheer/professionals"))


def test_an_unknown_organisation_or_no_role_creates_nobody(bea: Browser) -> None:
    school = organisation_id(bea, "Regio Utrecht")
    no_role = invite(bea, school, roles=[])
    assert no_role.status_code == 400
    assert_error_next_to(text(no_role), "roles", "Kies minstens één rol.")
    elsewhere = invite(bea, str(uuid.uuid4()))
    assert elsewhere.status_code == 400
    assert_error_next_to(text(elsewhere), "organisation", "Kies een organisatie.")
    assert "Chris Claassen" not in text(bea.get("/beheer/professionals"))


def test_an_e_mail_address_in_use_is_refused_next_to_its_field(bea: Browser, anna: Browser) -> None:
    answer = invite(bea, organisation_id(bea, "Regio Utrecht"), email=anna.email)
    assert answer.status_code == 400
    assert_error_next_to(text(answer), "email", "Dit e-mailadres is al in gebruik.")


def test_the_professionals_list_filters_by_organisation(bea: Browser, anna: Browser) -> None:
    everyone = text(bea.get("/beheer/professionals"))
    assert ">Anna de Vries</a>" in everyone and ">Bea Beheer</a>" in everyone
    school = organisation_id(bea, "Basisschool De Linde")
    filtered = text(bea.get(f"/beheer/professionals?organisatie={school}"))
    assert ">Anna de Vries</a>" in filtered and ">Bea Beheer</a>" not in filtered
    assert f'<option value="{school}" selected' in filtered


# --- one professional ------------------------------------------------------------------------


def test_changing_roles(bea: Browser, anna: Browser) -> None:
    path = f"/beheer/professionals/{anna.professional_id}"
    answer = submit(bea, f"{path}/rollen", {"roles": ["professional", "beheerder"]})
    assert answer.status_code == 303 and answer.headers["Location"] == f"{path}?melding=rollen"
    page = text(bea.follow(answer))
    assert "De rollen zijn opgeslagen." in page and "Professional, Beheerder" in page
    assert anna.get("/beheer").status_code == 200

    none = submit(bea, f"{path}/rollen", {})
    assert none.status_code == 400
    assert_error_next_to(text(none), "roles", "Kies minstens één rol.")


def test_a_beheerder_cannot_remove_their_own_beheerder_role(bea: Browser) -> None:
    answer = submit(
        bea, f"/beheer/professionals/{bea.professional_id}/rollen", {"roles": ["professional"]}
    )
    assert answer.status_code == 400
    page = text(answer)
    assert_error_next_to(page, "roles", "U kunt uw eigen rol van beheerder niet intrekken.")
    # The form shows what was asked, so the beheerder sees what was refused.
    assert not re.search(r'value="beheerder"[^>]*checked', page, flags=re.S)


def test_deactivating_asks_first_and_logs_the_person_out_at_once(
    bea: Browser, anna: Browser, core: Core
) -> None:
    path = f"/beheer/professionals/{anna.professional_id}"
    confirm = bea.get(f"{path}/deactiveren")
    assert confirm.status_code == 200 and "Anna de Vries deactiveren?" in text(confirm)
    assert anna.get("/signalen").status_code == 200
    assert web_sessions_of(core, anna.professional_id) == 1

    answer = submit(bea, f"{path}/deactiveren")
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"{path}?melding=gedeactiveerd"
    assert "Gedeactiveerd" in text(bea.follow(answer))
    assert web_sessions_of(core, anna.professional_id) == 0

    # Reactivated before Anna came back: her old session stays ended.
    assert "heractiveren?" in text(bea.get(f"{path}/heractiveren"))
    again = submit(bea, f"{path}/heractiveren")
    assert again.headers["Location"] == f"{path}?melding=geheractiveerd"
    gone = anna.get("/signalen")
    assert gone.status_code == 302 and gone.headers["Location"].startswith("/inloggen")


def test_deactivation_ends_every_web_session_in_the_same_transaction(
    world: World, core: Core, app: Flask, clock: FakeClock, login: Login
) -> None:
    """The service itself (`directory.deactivate_professional`), not just the page."""
    anna = login("Anna de Vries", "Basisschool De Linde", "onderwijs")
    clock.advance(seconds=30)  # a code is used once: the second device needs the next one
    log_in(app.test_client(), anna.email, clock, anna.totp_secret)
    assert web_sessions_of(core, anna.professional_id) == 2
    bea = world.actor(world.professional("Bea Beheer", "Regio", "jeugdhulp", roles=("beheerder",)))
    directory.deactivate_professional(core, bea, anna.professional_id)
    assert web_sessions_of(core, anna.professional_id) == 0
    directory.reactivate_professional(core, bea, anna.professional_id)
    assert anna.get("/").status_code == 302


def test_a_beheerder_cannot_deactivate_themselves(bea: Browser) -> None:
    path = f"/beheer/professionals/{bea.professional_id}"
    page = text(bea.get(path))
    assert "U kunt uzelf niet deactiveren." in page and f"{path}/deactiveren" not in page
    answer = submit(bea, f"{path}/deactiveren")
    assert answer.status_code == 400
    assert "U kunt uzelf niet deactiveren." in text(answer)
    assert bea.get("/beheer").status_code == 200


def test_a_new_invitation_for_someone_known(bea: Browser, anna: Browser, app: Flask) -> None:
    path = f"/beheer/professionals/{anna.professional_id}"
    answer = submit(bea, f"{path}/uitnodiging")
    assert answer.status_code == 200
    page = text(answer)
    assert ONCE in page and "Een nieuwe uitnodiging voor Anna de Vries" in page
    token = invitation_link(page).rsplit("#", 1)[1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{20,}", token)

    submit(bea, f"{path}/deactiveren")
    refused = submit(bea, f"{path}/uitnodiging")
    assert refused.status_code == 400
    assert_error_next_to(text(refused), "invitation", "Heractiveer hem of haar eerst")
    assert ONCE not in text(refused)


def test_an_unknown_professional_is_not_found(bea: Browser) -> None:
    assert bea.get(f"/beheer/professionals/{uuid.uuid4()}").status_code == 404
    assert submit(bea, f"/beheer/professionals/{uuid.uuid4()}/deactiveren").status_code == 404


# --- koppelingen -----------------------------------------------------------------------------


def test_a_koppeling_shows_its_secret_once_and_can_be_revoked(
    bea: Browser, anna: Browser, core: Core
) -> None:
    school = organisation_id(bea, "Basisschool De Linde")
    form = text(bea.get("/beheer/koppelingen/nieuw"))
    assert "Basisschool De Linde (Onderwijs)" in form
    answer = submit(bea, "/beheer/koppelingen/nieuw", {"organisation": school})
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    page = text(answer)
    assert "Kopieer het geheim nu, het wordt niet nog eens getoond." in page
    client_id = re.search(r'id="client-id"[^>]*value="([^"]+)"', page, flags=re.S)
    secret = re.search(r'id="client-secret"[^>]*value="([^"]+)"', page, flags=re.S)
    assert client_id and secret
    assert token_for_client(core, client_id.group(1), secret.group(1)).access_token

    listed = text(bea.get("/beheer/koppelingen"))
    assert client_id.group(1) in listed and secret.group(1) not in listed
    revoke = f"/beheer/koppelingen/{client_id.group(1)}/intrekken"
    assert "Koppeling intrekken?" in text(bea.get(revoke))
    done = submit(bea, revoke)
    assert done.status_code == 303
    assert done.headers["Location"] == "/beheer/koppelingen?melding=ingetrokken"
    assert "Ingetrokken op" in text(bea.follow(done))
    assert "Deze koppeling is al ingetrokken" in text(bea.get(revoke))
    with pytest.raises(InvalidClient):
        token_for_client(core, client_id.group(1), secret.group(1))


def test_a_koppeling_needs_an_organisation(bea: Browser) -> None:
    answer = submit(bea, "/beheer/koppelingen/nieuw", {"organisation": "niets"})
    assert answer.status_code == 400
    assert_error_next_to(text(answer), "organisation", "Kies een organisatie.")


# --- statistics ------------------------------------------------------------------------------


def test_statistics_show_a_chart_and_a_table_with_small_cells_hidden(
    bea: Browser, world: World
) -> None:
    school = world.professional("Anna Jansen", "School A", "onderwijs")
    care = world.professional("Bert Bos", "Jeugdteam", "jeugdhulp")
    for child in valid_bsns(6, 310_000_000):
        school.signal(child)
    care.signal(CHILD_BSN)
    school.signal(CHILD_BSN)  # a cliëntmatch: one for each sector, both hidden

    answer = bea.get("/beheer/statistieken")
    assert answer.status_code == 200
    page = text(answer)
    svg = re.search(r'<svg class="chart".*?</svg>', page, flags=re.S)
    assert svg, "no chart"
    chart = svg.group(0)
    assert 'role="img"' in chart and 'aria-labelledby="chart-title chart-desc"' in chart
    assert "<title>Onderwijs, november 2026: 7 signalen</title>" in chart
    assert "<title>Jeugdhulp, november 2026: minder dan 5 signalen</title>" in chart
    assert 'fill="url(#hidden-cell)"' in chart
    assert "style=" not in chart
    table = re.search(
        r'<table class="stats stack">.*?</table>', answer.get_data(as_text=True), re.S
    )
    assert table
    rows = [
        html.unescape(re.sub(r"<[^>]+>", "", row)).split()
        for row in re.findall(r"<tr>(.*?)</tr>", table.group(0), flags=re.S)[1:]
    ]
    assert rows == [
        ["november", "2026", "Jeugdhulp", "<5", "<5", "0"],
        ["november", "2026", "Onderwijs", "7", "<5", "0"],
    ]
    assert "1 tot en met 4" in page


def test_statistics_filter_by_month_and_measure(bea: Browser, world: World) -> None:
    world.professional("Anna Jansen", "School A", "onderwijs").signal(CHILD_BSN)
    before = text(bea.get("/beheer/statistieken?van=2026-01&tot=2026-10"))
    assert "niets geteld" in before and 'value="2026-01"' in before
    assert '<svg class="chart"' not in before

    matches = text(bea.get("/beheer/statistieken?van=11-2026&tot=2026-11&tonen=client_matches"))
    assert "Cliëntmatches per maand en sector, november 2026 tot en met november 2026" in matches
    assert "<title>Onderwijs" not in matches  # no cliëntmatches: no bar


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("van=januari", "van", "Vul een maand in"),
        ("van=2026-11&tot=2026-01", "van", "De beginmaand ligt na de eindmaand."),
        ("van=2020-01&tot=2026-01", "tot", "Kies hoogstens 60 maanden."),
    ],
)
def test_statistics_filter_errors_are_shown_next_to_their_field(
    bea: Browser, query: str, field: str, message: str
) -> None:
    answer = bea.get(f"/beheer/statistieken?{query}")
    assert answer.status_code == 400
    assert_error_next_to(text(answer), field, message)


def test_changes_and_reads_on_the_beheer_pages_are_audited_with_the_beheerder(
    bea: Browser, anna: Browser, core: Core
) -> None:
    submit(bea, f"/beheer/professionals/{anna.professional_id}/rollen", {"roles": ["beheerder"]})
    bea.get("/beheer/statistieken")
    submit(bea, f"/beheer/professionals/{anna.professional_id}/uitnodiging")
    with core.transaction(write=False) as tx:
        rows = tx.records.audit_events(
            since=None,
            until=None,
            actor=bea.professional_id,
            object_id=None,
            before_seq=None,
            limit=100,
        )
        actions = {row.action for row in rows}
    assert {
        "web:professional:set-roles",
        "web:statistics:read",
        "web:professional:invite",
    } <= actions
