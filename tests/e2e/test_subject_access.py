"""POST /api/v1/subject-access-requests: everything on one person, as child and as parent, for
privacy officers, as JSON or a printable Dutch page; never a BSN, and always audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from tests.conftest import (
    CHILD_BSN,
    OTHER_CHILD_BSN,
    OTHER_PARENT_BSN,
    PARENT_BSN,
    SIBLING_BSN,
    THIRD_PARENT_BSN,
    ApiClient,
    FakeClock,
    World,
)
from verwijsindex.models import AuditEventRow
from verwijsindex.pseudonym import parse_bsn
from verwijsindex.services import Core

SAR = "/api/v1/subject-access-requests"
INVALID_BSN = "111222334"  # fails the elfproef
ALL_BSNS = (CHILD_BSN, SIBLING_BSN, OTHER_CHILD_BSN, PARENT_BSN, OTHER_PARENT_BSN, INVALID_BSN)
PERSONAL = ("Anna", "Bert", "Carla", "Dirk", "Olga", "example.org", "+31")


@dataclass
class Scenario:
    """Child with two active signals (a client match with a regisseur) and one archived;
    a sibling sharing the parent (a family match); an unrelated child elsewhere."""

    anna: ApiClient
    bert: ApiClient
    carla: ApiClient
    dirk: ApiClient
    officer: ApiClient
    anna_signal: str
    bert_signal: str
    carla_signal: str
    dirk_signal: str
    unrelated_signal: str
    client_match: str
    family_match: str


def scenario(world: World, clock: FakeClock) -> Scenario:
    anna = world.professional("Anna Jansen", "School A", "onderwijs")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    carla = world.professional("Carla Claes", "GGD C", "jeugdgezondheidszorg")
    dirk = world.professional("Dirk Dekker", "Wijkteam D", "maatschappelijke_ondersteuning")
    olga = world.professional("Olga Overig", "Politie O", "justitie")
    officer = world.professional(
        "Pia Privacy", "Gemeente P", "maatschappelijke_ondersteuning", roles=("privacy_officer",)
    )
    dirk_signal = dirk.signal(CHILD_BSN, parents=[PARENT_BSN])["id"]
    assert dirk.delete(f"/api/v1/signals/{dirk_signal}").status_code == 204
    clock.advance(minutes=1)
    anna_signal = anna.signal(CHILD_BSN, parents=[PARENT_BSN])["id"]
    clock.advance(minutes=1)
    bert_signal = bert.signal(CHILD_BSN, parents=[PARENT_BSN])
    [client_match] = [m["id"] for m in bert_signal["matches"] if m["type"] == "client"]
    clock.advance(minutes=1)
    carla_signal = carla.signal(SIBLING_BSN, parents=[PARENT_BSN])
    [family_match] = [m["id"] for m in carla_signal["matches"] if m["type"] == "family"]
    designated = bert.put(
        f"/api/v1/matches/{client_match}/regisseur",
        json={"professionalId": str(bert.professional_id)},
    )
    assert designated.status_code == 200, designated.get_json()
    unrelated = olga.signal(OTHER_CHILD_BSN, parents=[OTHER_PARENT_BSN])["id"]
    return Scenario(
        anna,
        bert,
        carla,
        dirk,
        officer,
        anna_signal,
        bert_signal["id"],
        carla_signal["id"],
        dirk_signal,
        unrelated,
        client_match,
        family_match,
    )


def report(api: ApiClient, bsn: str, **kwargs: Any) -> Any:
    return api.post(SAR, json={"bsn": bsn}, **kwargs)


def report_json(api: ApiClient, bsn: str) -> dict[str, Any]:
    response = report(api, bsn)
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/json"
    body: dict[str, Any] = response.get_json()
    return body


def by_id(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in entries}


def audit_rows(core: Core) -> list[dict[str, Any]]:
    with core.transaction(write=False) as tx:
        rows = tx.uow.session.scalars(select(AuditEventRow).order_by(AuditEventRow.seq))
        return [{c.key: getattr(r, c.key) for c in AuditEventRow.__table__.columns} for r in rows]


def pseudonym(core: Core, bsn: str) -> str:
    parsed = parse_bsn(bsn)
    assert parsed is not None
    return core.pseudonymiser.pseudonymise(parsed)


def test_the_report_on_a_child_lists_active_and_archived_signals_and_both_matches(
    world: World,
    clock: FakeClock,
) -> None:
    s = scenario(world, clock)
    body = report_json(s.officer, CHILD_BSN)
    signals = by_id(body["signals"])
    assert list(signals) == [s.bert_signal, s.anna_signal, s.dirk_signal]  # newest first
    assert {i: (e["organisation"], e["sector"], e["status"]) for i, e in signals.items()} == {
        s.anna_signal: ("School A", "onderwijs", "active"),
        s.bert_signal: ("Jeugdteam B", "jeugdhulp", "active"),
        s.dirk_signal: ("Wijkteam D", "maatschappelijke_ondersteuning", "archived"),
    }
    assert all(e["role"] == "child" and e["birthDate"] == "2015-03-14" for e in signals.values())
    archived = signals[s.dirk_signal]
    assert archived["archivedAt"].startswith("2026-11-23T09:30")
    assert archived["activeUntil"] == archived["archivedAt"]
    assert archived["archivedUntil"].startswith("2031-11-23T09:30")
    active = signals[s.anna_signal]
    assert active["archivedAt"] is None
    assert active["createdAt"].startswith("2026-11-23T09:31")
    assert active["activeUntil"].startswith("2028-11-23T09:31")
    assert active["archivedUntil"].startswith("2033-11-23T09:31")
    assert active["informingPostponed"] is False

    matches = by_id(body["matches"])
    assert set(matches) == {s.client_match, s.family_match}
    client = matches[s.client_match]
    assert client["type"] == "client"
    assert client["createdAt"].startswith("2026-11-23T09:32")
    assert sorted(client["subjectSignalIds"]) == sorted([s.anna_signal, s.bert_signal])
    assert [(p["organisation"], p["sector"], p["isRegisseur"]) for p in client["participants"]] == [
        ("School A", "onderwijs", False),
        ("Jeugdteam B", "jeugdhulp", True),
    ]
    assert all(p["since"] == "2026-11-23" for p in client["participants"])
    assert client["regisseur"] == {"name": "Jeugdteam B", "sector": "jeugdhulp"}
    family = matches[s.family_match]
    assert family["type"] == "family"
    assert family["regisseur"] is None
    assert sorted(family["subjectSignalIds"]) == sorted([s.anna_signal, s.bert_signal])
    # GGD C follows the sibling: the sibling's data, not this child's, so not in its report.
    assert sorted(p["organisation"] for p in family["participants"]) == [
        "Jeugdteam B",
        "School A",
    ]


def test_the_report_on_a_parent_lists_the_signals_on_each_of_their_children(
    world: World,
    clock: FakeClock,
) -> None:
    s = scenario(world, clock)
    body = report_json(s.officer, PARENT_BSN)
    signals = by_id(body["signals"])
    assert set(signals) == {s.anna_signal, s.bert_signal, s.carla_signal, s.dirk_signal}
    assert all(e["role"] == "parent" for e in signals.values())
    assert all(e["birthDate"] is None for e in signals.values())  # the child's, not theirs
    assert signals[s.dirk_signal]["status"] == "archived"
    assert signals[s.carla_signal]["organisation"] == "GGD C"
    matches = by_id(body["matches"])
    assert set(matches) == {s.client_match, s.family_match}
    assert sorted(matches[s.family_match]["subjectSignalIds"]) == sorted(
        [s.anna_signal, s.bert_signal, s.carla_signal]
    )


def test_the_report_covers_a_person_who_is_both_a_child_and_a_parent(
    world: World, clock: FakeClock
) -> None:
    s = scenario(world, clock)
    # A young parent: the sibling is named as a parent of another child too.
    young_parent_signal = s.dirk.signal(OTHER_CHILD_BSN, parents=[SIBLING_BSN])["id"]
    signals = by_id(report_json(s.officer, SIBLING_BSN)["signals"])
    assert {i: e["role"] for i, e in signals.items()} == {
        s.carla_signal: "child",
        young_parent_signal: "parent",
    }


def test_a_person_the_index_knows_nothing_about_gets_an_empty_report(
    world: World, clock: FakeClock
) -> None:
    s = scenario(world, clock)
    body = report_json(s.officer, "100000010")
    assert body["signals"] == [] and body["matches"] == []
    assert body["generatedAt"].startswith("2026-11-23T09:33")


def test_the_report_names_organisations_never_professionals_or_a_bsn(
    world: World, clock: FakeClock
) -> None:
    s = scenario(world, clock)
    for bsn in (CHILD_BSN, PARENT_BSN):
        text = report(s.officer, bsn).get_data(as_text=True)
        assert "Jeugdteam B" in text
        for secret in (*PERSONAL, *ALL_BSNS, s.unrelated_signal, "Politie O"):
            assert secret not in text, secret


def test_an_erased_signal_is_not_in_the_report(world: World, clock: FakeClock) -> None:
    s = scenario(world, clock)
    assert s.anna.delete(f"/api/v1/signals/{s.anna_signal}?reason=unjustified").status_code == 204
    signals = by_id(report_json(s.officer, CHILD_BSN)["signals"])
    assert set(signals) == {s.bert_signal, s.dirk_signal}


def test_the_report_is_audited_once_under_the_pseudonym_and_no_audit_row_holds_a_bsn(
    world: World, clock: FakeClock, core: Core
) -> None:
    s = scenario(world, clock)
    body = report_json(s.officer, CHILD_BSN)
    records = [r for r in audit_rows(core) if r["action"] == "api:subject-access:report"]
    assert len(records) == 1
    [record] = records
    assert record["outcome"] == "success"
    assert record["actor_id"] == s.officer.professional_id
    assert record["roles"] == "privacy_officer"
    assert str(record["object_id"]) == body["id"]
    assert record["subject_pseudonym"] == pseudonym(core, CHILD_BSN)
    assert sorted(record["related_ids"].split()) == sorted(e["id"] for e in body["signals"])
    everything = repr(audit_rows(core))
    for bsn in ALL_BSNS:
        assert bsn not in everything


def test_only_a_privacy_officer_may_ask_and_a_refusal_is_audited(
    world: World, clock: FakeClock, core: Core
) -> None:
    s = scenario(world, clock)
    beheerder = world.professional("Bea Beheer", "Gemeente P", roles=("beheerder",))
    for api in (s.anna, beheerder):
        response = report(api, CHILD_BSN)
        assert response.status_code == 403
        assert response.mimetype == "application/problem+json"
        assert "School A" not in response.get_data(as_text=True)
        assert CHILD_BSN not in response.get_data(as_text=True)
    refused = [r for r in audit_rows(core) if r["action"] == "api:subject-access:report"]
    assert [(r["outcome"], r["actor_id"]) for r in refused] == [
        ("denied", s.anna.professional_id),
        ("denied", beheerder.professional_id),
    ]
    assert all(r["subject_pseudonym"] == pseudonym(core, CHILD_BSN) for r in refused)
    assert all(r["related_ids"] == "" for r in refused)


def test_a_privacy_officer_who_is_also_a_professional_may_ask(world: World) -> None:
    both = world.professional("Pim Beide", "Gemeente P", roles=("professional", "privacy_officer"))
    both.signal(CHILD_BSN)
    assert len(report_json(both, CHILD_BSN)["signals"]) == 1


def test_an_invalid_bsn_is_a_400_that_does_not_echo_it(world: World) -> None:
    officer = world.professional("Pia Privacy", "Gemeente P", roles=("privacy_officer",))
    for bad in (INVALID_BSN, "12345678", "1112223330", "111 222 333", 111222333):
        response = officer.post(SAR, json={"bsn": bad})
        assert response.status_code == 400, bad
        assert response.mimetype == "application/problem+json"
        assert [p["name"] for p in response.get_json()["invalidParams"]] == ["bsn"]
        text = response.get_data(as_text=True)
        assert str(bad) not in text
        assert "111222333" not in text


def test_the_body_is_strict_missing_and_unknown_fields_are_400(world: World) -> None:
    officer = world.professional("Pia Privacy", "Gemeente P", roles=("privacy_officer",))
    missing = officer.post(SAR, json={})
    assert [p["name"] for p in missing.get_json()["invalidParams"]] == ["bsn"]
    smuggled = officer.post(SAR, json={"bsn": CHILD_BSN, "parentBsn": PARENT_BSN})
    assert smuggled.status_code == 400
    assert [p["name"] for p in smuggled.get_json()["invalidParams"]] == ["parentBsn"]
    assert PARENT_BSN not in smuggled.get_data(as_text=True)
    assert CHILD_BSN not in smuggled.get_data(as_text=True)
    not_json = officer.post(SAR, data=f"bsn={CHILD_BSN}", content_type="text/plain")
    assert not_json.status_code == 415


def test_the_printable_report_is_plain_dutch_html_without_a_bsn(
    world: World, clock: FakeClock
) -> None:
    s = scenario(world, clock)
    response = report(s.officer, CHILD_BSN, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "Accept" in response.headers["Vary"]
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert '<html lang="nl">' in page
    assert "Inzageverzoek verwijsindex" in page
    assert "de betrokkene" in page
    assert "23 november 2026 om 10:33" in page  # generated at, in Dutch local time
    assert "@media print" in page
    assert "<script" not in page.lower() and "javascript:" not in page.lower()
    for shown in ("School A", "Jeugdteam B", "Wijkteam D", "gearchiveerd"):
        assert shown in page
    assert "Cliëntmatch" in page and "Gezinsmatch" in page
    assert "Maatschappelijke ondersteuning" in page
    for secret in (*PERSONAL, *ALL_BSNS):
        assert secret not in page, secret


def test_the_printable_report_escapes_organisation_names(world: World) -> None:
    officer = world.professional("Pia Privacy", "Gemeente P", roles=("privacy_officer",))
    school = world.professional("Sam School", "<b>School</b> & Co")
    school.signal(CHILD_BSN)
    page = report(officer, CHILD_BSN, headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "&lt;b&gt;School&lt;/b&gt; &amp; Co" in page
    assert "<b>School</b>" not in page


def test_json_is_the_default_when_the_client_accepts_anything(world: World) -> None:
    officer = world.professional("Pia Privacy", "Gemeente P", roles=("privacy_officer",))
    for accept in ("*/*", "application/json", "application/json, text/html;q=0.5"):
        response = report(officer, CHILD_BSN, headers={"Accept": accept})
        assert response.mimetype == "application/json", accept
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert report(officer, CHILD_BSN, headers={"Accept": browser}).mimetype == "text/html"


def test_the_openapi_document_describes_both_report_formats(world: World) -> None:
    document = world.http.get("/api/v1/openapi.json").get_json()
    ok = document["paths"]["/subject-access-requests"]["post"]["responses"]["200"]
    assert set(ok["content"]) == {"application/json", "text/html"}
    assert "403" in document["paths"]["/subject-access-requests"]["post"]["responses"]
    history = document["paths"]["/signals/{signal_id}/history"]["get"]["responses"]
    assert {"200", "404"} <= set(history)


def test_a_postponed_informatieplicht_is_flagged_but_its_justification_is_not_shown(
    world: World,
) -> None:
    officer = world.professional("Pia Privacy", "Gemeente P", roles=("privacy_officer",))
    anna = world.professional("Anna Jansen", "School A")
    justification = "Vader is gewelddadig; informeren brengt het kind in gevaar."
    created = anna.post(
        "/api/v1/signals",
        json={
            "bsn": CHILD_BSN,
            "birthDate": "2012-05-01",
            "parentBsns": [PARENT_BSN],
            "informatieplicht": {
                "postponement": {
                    "reason": "not_in_interest_of_child",
                    "justification": justification,
                    "reviewOn": "2027-01-15",
                }
            },
        },
    )
    assert created.status_code == 201, created.get_json()
    for bsn in (CHILD_BSN, PARENT_BSN):
        response = report(officer, bsn)
        [signal] = response.get_json()["signals"]
        assert signal["informingPostponed"] is True
        assert justification not in response.get_data(as_text=True)
        page = report(officer, bsn, headers={"Accept": "text/html"}).get_data(as_text=True)
        assert "informeren uitgesteld" in page
        assert justification not in page


def test_a_parents_report_leaves_out_who_follows_a_half_sibling_who_is_not_theirs(
    world: World,
) -> None:
    """Child A has parents P1 and P2, child B parents P2 and P3: A and B are one family.
    P1's report shows the family match, but not that a team follows B (not P1's child)."""
    officer = world.professional("Petra Privacy", "Regio", "jeugdhulp", roles=("privacy_officer",))
    anna = world.professional("Anna Jansen", "School A")
    zora = world.professional("Zora Zwart", "Jeugdteam Z", "jeugdhulp")
    anna.signal(CHILD_BSN, parents=[PARENT_BSN, OTHER_PARENT_BSN])
    zora.signal(SIBLING_BSN, parents=[OTHER_PARENT_BSN, THIRD_PARENT_BSN])
    for person, expected in (
        (PARENT_BSN, ["School A"]),
        (THIRD_PARENT_BSN, ["Jeugdteam Z"]),
        (OTHER_PARENT_BSN, ["Jeugdteam Z", "School A"]),
    ):
        matches = report_json(officer, person)["matches"]
        assert [m["type"] for m in matches] == ["family"], person
        assert sorted(p["organisation"] for p in matches[0]["participants"]) == expected, person
