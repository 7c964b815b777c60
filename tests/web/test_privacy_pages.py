"""The privacy officer's pages, through the real app and the real login: the audit-log
search, the check of the hash chain, and the subject-access report.

The BSN of a subject-access request travels only in a POST body: it is never in a URL, a
title or a page, not after an error either, and a GET with a BSN shows only the empty form.
"""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select, update
from werkzeug.test import TestResponse

from tests.conftest import CHILD_BSN, PARENT_BSN, FakeClock, World
from tests.web.conftest import Browser, Login
from verwijsindex.audit import AuditEntry
from verwijsindex.models import AuditEventRow
from verwijsindex.services import Core
from verwijsindex.services.delivery import Worker
from verwijsindex.web.privacy import chain_reason_nl

INVALID_BSN = "111222334"  # fails the elfproef
PRIVACY_PAGES = ("/privacy", "/privacy/auditlog", "/privacy/keten", "/privacy/inzage")


def text(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


def assert_error_next_to(page: str, field: str, message: str) -> None:
    found = re.search(rf'<p class="error" id="{field}-error"[^>]*>([^<]*)</p>', page)
    assert found, f"no error next to {field}"
    assert message in found.group(1), found.group(1)


def assert_no_bsn(browser: Browser, *bsns: str) -> None:
    """In no page, no redirect and no address this browser saw."""
    for response in browser.responses:
        seen = response.get_data(as_text=True) + response.headers.get("Location", "")
        seen += response.request.url if response.request else ""
        for bsn in bsns:
            assert bsn not in seen
    for path in browser.visited:
        assert not any(bsn in path for bsn in bsns)


def audit_rows(core: Core) -> int:
    with core.transaction(write=False) as tx:
        return int(tx.uow.session.scalar(select(func.count()).select_from(AuditEventRow)) or 0)


@pytest.fixture
def olga(login: Login) -> Browser:
    return login("Olga Officier", "Gemeente Utrecht", "jeugdhulp", roles=("privacy_officer",))


@pytest.fixture
def signalled(world: World, clock: FakeClock) -> None:
    """Two professionals of two organisations on the same child: a cliëntmatch."""
    world.professional("Anna Jansen", "Basisschool De Linde", "onderwijs").signal(
        CHILD_BSN, parents=[PARENT_BSN]
    )
    clock.advance(minutes=1)
    world.professional("Bert Bakker", "Wijkteam Noord", "jeugdhulp").signal(
        CHILD_BSN, parents=[PARENT_BSN]
    )


# --- access ----------------------------------------------------------------------------------


def test_privacy_pages_are_for_privacy_officers_only(
    olga: Browser, login: Login, app: Flask
) -> None:
    anna = login("Anna de Vries", "School A", "onderwijs")
    bea = login("Bea Beheer", "Regio", "jeugdhulp", roles=("beheerder",))
    anonymous = app.test_client()
    for path in PRIVACY_PAGES:
        assert olga.get(path).status_code == 200, path
        assert anna.get(path).status_code == 403, path
        assert bea.get(path).status_code == 403, path
        answer = anonymous.get(path)
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/inloggen")
    refused = anna.post("/privacy/inzage", {"bsn": CHILD_BSN})
    assert refused.status_code == 403 and CHILD_BSN not in refused.get_data(as_text=True)
    assert 'href="/privacy"' in text(olga.get("/"))


def test_privacy_pages_use_no_inline_style_or_script(olga: Browser) -> None:
    pages = [olga.get(path).get_data(as_text=True) for path in PRIVACY_PAGES]
    pages.append(olga.post("/privacy/inzage", {"bsn": CHILD_BSN}).get_data(as_text=True))
    for page in pages:
        assert "style=" not in page and "<style" not in page
        assert not re.search(r"<script(?![^>]*\bsrc=)", page)


# --- subject access --------------------------------------------------------------------------


def test_the_report_lists_every_organisation_and_never_the_bsn(
    olga: Browser, signalled: None
) -> None:
    answer = olga.post("/privacy/inzage", {"bsn": CHILD_BSN})
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    page = text(answer)
    assert "<title>Inzageverzoek · Verwijsindex</title>" in page
    assert "Basisschool De Linde" in page and "Wijkteam Noord" in page
    assert "Onderwijs" in page and "Jeugdhulp" in page
    assert "Cliëntmatch sinds 23 november 2026" in page
    assert "geboortedatum 14 maart 2015" in page
    assert len(re.findall(r"<td[^>]*>jeugdige", page)) == 2
    # Names and contact details of the professionals are not the subject's data.
    assert "Anna Jansen" not in page and "example.org" not in page
    # Printable: a button that a script shows, a hint it hides.
    assert 'src="/static/print.js"' in page
    assert re.search(r"<button[^>]*data-print[^>]*hidden[^>]*>Afdrukken</button>", page)
    assert "Druk af met Ctrl+P" in page
    assert_no_bsn(olga, CHILD_BSN, PARENT_BSN)


def test_the_report_on_a_parent_names_them_as_parent(olga: Browser, signalled: None) -> None:
    page = text(olga.post("/privacy/inzage", {"bsn": "111 111 110"}))  # PARENT_BSN, spaced
    assert len(re.findall(r"<td[^>]*>ouder", page)) == 2 and "geboortedatum" not in page
    assert_no_bsn(olga, PARENT_BSN)


def test_a_report_on_someone_unknown_says_so(olga: Browser) -> None:
    page = text(olga.post("/privacy/inzage", {"bsn": CHILD_BSN}))
    assert "De verwijsindex bevat geen signalen over de betrokkene." in page
    assert "maken geen deel uit van een match" in page


@pytest.mark.parametrize(
    ("typed", "message"),
    [(INVALID_BSN, "Dit is geen geldig BSN."), ("", "Vul het BSN"), ("12345", "geen geldig BSN")],
)
def test_an_invalid_bsn_is_refused_next_to_the_emptied_field(
    olga: Browser, core: Core, typed: str, message: str
) -> None:
    before = audit_rows(core)
    answer = olga.post("/privacy/inzage", {"bsn": typed})
    assert answer.status_code == 400
    page = text(answer)
    assert_error_next_to(page, "bsn", message)
    field = re.search(r'<input id="bsn"[^>]*>', page, flags=re.S)
    assert field and 'value=""' in field.group(0)
    assert audit_rows(core) == before  # nothing was looked up
    if typed:
        assert_no_bsn(olga, typed)


def test_a_get_with_a_bsn_shows_only_the_empty_form(
    olga: Browser, signalled: None, core: Core
) -> None:
    before = audit_rows(core)
    answer = olga.get(f"/privacy/inzage?bsn={CHILD_BSN}")
    assert answer.status_code == 200
    page = text(answer)
    assert "Basisschool De Linde" not in page and 'method="post"' in page
    assert CHILD_BSN not in page.replace(f"/privacy/inzage?bsn={CHILD_BSN}", "")
    assert audit_rows(core) == before


def test_the_report_is_audited_under_the_pseudonym_only(
    olga: Browser, signalled: None, core: Core
) -> None:
    olga.post("/privacy/inzage", {"bsn": CHILD_BSN})
    with core.transaction(write=False) as tx:
        record = tx.uow.session.scalars(
            select(AuditEventRow).order_by(AuditEventRow.seq.desc()).limit(1)
        ).one()
        assert record.action == "web:subject-access:report"
        assert record.actor_id == olga.professional_id
        assert record.subject_pseudonym and CHILD_BSN not in record.subject_pseudonym


# --- the audit log ---------------------------------------------------------------------------


def test_the_audit_log_lists_records_newest_first_and_filters_by_actor_and_object(
    olga: Browser, signalled: None
) -> None:
    olga.post("/privacy/inzage", {"bsn": CHILD_BSN})
    answer = olga.get("/privacy/auditlog")
    assert answer.status_code == 200
    page = text(answer)
    for heading in ("Tijdstip", "Handeling", "Uitkomst", "Actor", "Object", "Verzoek"):
        assert f'<th scope="col">{heading}</th>' in page
    assert "web:subject-access:report" in page and "api:signal:create" in page
    assert "23-11-2026 10:3" in page  # Dutch time: 09:3x UTC
    seqs = [int(s) for s in re.findall(r"<tr class=\"\w+\">\s*<td[^>]*>(\d+)</td>", page)]
    assert seqs == sorted(seqs, reverse=True) and seqs

    mine = text(olga.get(f"/privacy/auditlog?actor={olga.professional_id}"))
    assert "web:subject-access:report" in mine and "api:signal:create" not in mine
    assert f'value="{olga.professional_id}"' in mine

    report = re.search(
        r"<code>web:subject-access:report</code>.*?subject_access_request\s*<a href=\"[^\"]*\">"
        r"<code class=\"id\">([0-9a-f-]{36})</code>",
        page,
        flags=re.S,
    )
    assert report
    one = text(olga.get(f"/privacy/auditlog?object={report.group(1)}"))
    assert len(re.findall(r"<tr class=\"\w+\">", one)) == 1


def test_the_audit_log_filters_by_dutch_days(olga: Browser) -> None:
    today = text(olga.get("/privacy/auditlog?van=2026-11-23&tot=2026-11-23"))
    assert "web:session:login" in today
    later = text(olga.get("/privacy/auditlog?van=24-11-2026"))
    assert "Geen records gevonden." in later


def test_the_audit_log_is_paged(olga: Browser, core: Core) -> None:
    for _ in range(60):
        core.record_denied(None, AuditEntry("test:knock"))
    first = text(olga.get("/privacy/auditlog?actor=&van=2026-11-23"))
    assert len(re.findall(r"<tr class=\"\w+\">", first)) == 50
    older = re.search(r'href="(/privacy/auditlog\?[^"]*na=\d+[^"]*)">Oudere records', first)
    assert older, "no link to older records"
    link = html.unescape(older.group(1))
    assert "van=2026-11-23" in link and "actor=" not in link
    second = text(olga.get(link))
    assert "Nieuwste records" in second
    first_seqs = re.findall(r"<tr class=\"\w+\">\s*<td[^>]*>(\d+)</td>", first)
    second_seqs = re.findall(r"<tr class=\"\w+\">\s*<td[^>]*>(\d+)</td>", second)
    assert second_seqs and int(second_seqs[0]) < int(first_seqs[-1])


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("van=gisteren", "van", "Vul een geldige datum in"),
        ("van=2026-11-23&tot=2026-11-01", "tot", "De einddatum ligt vóór de begindatum."),
        ("actor=Olga", "actor", "Vul een geldig id in"),
        ("object=123", "object", "Vul een geldig id in"),
    ],
)
def test_audit_log_filter_errors_are_shown_next_to_their_field(
    olga: Browser, query: str, field: str, message: str
) -> None:
    answer = olga.get(f"/privacy/auditlog?{query}")
    assert answer.status_code == 400
    page = text(answer)
    assert_error_next_to(page, field, message)
    assert "<h2>Records</h2>" not in page


# --- the chain -------------------------------------------------------------------------------


def run_the_worker(core: Core) -> int:
    """What `verwijsindex worker` does with queued verifications."""
    return Worker(core).verify_queued()


def test_the_chain_page_reads_no_audit_record_however_long_the_log(
    olga: Browser, core: Core
) -> None:
    """Issue 16 item 3: the page shows a stored result; it never walks the log."""
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(core.database.engine, "before_cursor_execute", seen)
    try:
        page = olga.get("/privacy/keten")
    finally:
        event.remove(core.database.engine, "before_cursor_execute", seen)
    assert page.status_code == 200
    assert statements, "the listener saw the page's queries"
    assert not [s for s in statements if "audit_events" in s]
    assert "Nog niet gecontroleerd" in text(page)


def test_a_requested_check_is_run_by_the_worker_and_its_result_shown(
    olga: Browser, core: Core
) -> None:
    answer = olga.post("/privacy/keten", {"soort": "nieuw"})
    assert answer.status_code == 303
    waiting = text(olga.follow(answer))
    assert "Er staat een controle klaar" in waiting and "Intact" not in waiting
    count = audit_rows(core)
    assert run_the_worker(core) == 1
    page = text(olga.get("/privacy/keten"))
    assert f"Intact: {count} records" in page and "GEBROKEN" not in page
    assert "Er staat een controle klaar" not in page
    assert run_the_worker(core) == 0  # run once, not again


def test_asking_twice_before_the_worker_runs_queues_one_check(olga: Browser, core: Core) -> None:
    olga.post("/privacy/keten", {"soort": "nieuw"})
    olga.post("/privacy/keten", {"soort": "nieuw"})
    assert run_the_worker(core) == 1


def test_the_request_for_a_check_is_audited(olga: Browser, core: Core) -> None:
    olga.post("/privacy/keten", {"soort": "volledig"})
    with core.database.engine.connect() as connection:
        newest = connection.execute(
            select(AuditEventRow).order_by(AuditEventRow.seq.desc()).limit(1)
        ).one()
    assert (newest.action, newest.actor_id) == ("web:audit:verify-request", olga.professional_id)


def test_the_chain_page_says_broken_at_the_first_bad_record(olga: Browser, core: Core) -> None:
    with core.database.engine.begin() as connection:
        rows = connection.execute(select(AuditEventRow).order_by(AuditEventRow.seq)).all()
        bad = rows[1]
        connection.execute(
            update(AuditEventRow).where(AuditEventRow.seq == bad.seq).values(outcome="denied")
        )
    olga.post("/privacy/keten", {"soort": "volledig"})
    run_the_worker(core)
    page = text(olga.get("/privacy/keten"))
    assert f"GEBROKEN bij record {bad.seq}" in page  # its place in the log, as listed there
    assert "De inhoud van het record is gewijzigd" in page and "Intact" not in page
    # The chains are walked one after the other: what came before it was in order (the
    # audited request for the check included, wherever it went).
    with core.database.engine.connect() as connection:
        rows = connection.execute(select(AuditEventRow)).all()
    before = sum((r.chain, r.chain_seq) < (bad.chain, bad.chain_seq) for r in rows)
    if before == 1:
        assert "Het record daarvóór is in orde." in page
    elif before:
        assert f"De {before} records daarvóór zijn in orde." in page


def test_the_audit_log_names_people_but_shows_no_contact_details(olga: Browser) -> None:
    """Names next to ids (issue 14 item 8), never an e-mail address or phone number."""
    page = text(olga.get("/privacy/auditlog"))
    rows = re.findall(r'<tr class="\w+">.*?</tr>', page, flags=re.S)
    assert rows and any("Olga Officier (Gemeente Utrecht)" in row for row in rows)
    assert not any("example.org" in row or "+31" in row for row in rows)
    assert str(uuid.UUID(str(olga.professional_id))) in page


@pytest.mark.parametrize(
    ("reason", "dutch"),
    [
        ("seq 7 is missing (chain 3)", "record 7 ontbreekt (keten 3)"),
        (
            "records after seq 4 are missing (the head says 9) (chain 0)",
            "de records na record 4 ontbreken (het eindrecord noemt record 9) (keten 0)",
        ),
        (
            "the chain's head record is missing (chain 12)",
            "het eindrecord van de keten ontbreekt (keten 12)",
        ),
        (
            "the chain's head record was altered (chain 1)",
            "het eindrecord van de keten is gewijzigd (keten 1)",
        ),
        ("its data subject was altered", "de betrokkene van het record is gewijzigd"),
    ],
)
def test_every_reason_of_a_broken_chain_is_shown_in_dutch_with_its_chain(
    reason: str, dutch: str
) -> None:
    assert chain_reason_nl(reason) == dutch
