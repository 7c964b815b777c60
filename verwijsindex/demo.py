"""Demo data for `verwijsindex serve --demo`: two organisations, two professionals, a match.

Loading twice does not duplicate anything: the demo organisation is recognised by name and
only fresh tokens are printed. The demo child's BSN is a well-known test number that passes
the elfproef; it is pseudonymised like any other and appears nowhere in the output.
"""

from __future__ import annotations

from datetime import date

from verwijsindex.domain import Informatieplicht, NewSignal, Professional
from verwijsindex.pseudonym import parse_bsn
from verwijsindex.services import Actor, Core
from verwijsindex.services import admin as admin_service
from verwijsindex.services import signals as signal_service
from verwijsindex.services.auth import personal_token

SCHOOL = "Basisschool De Regenboog (demo)"
JEUGDTEAM = "Jeugdteam Noord (demo)"
REGIO = "Regio Noord (demo)"
# Printed with the demo: a demo installation's people are not real, nor is their password.
DEMO_PASSWORD = "demo-wachtwoord-2026"  # noqa: S105
ADMIN_EMAIL = "beheer@regionoord.example"
DEMO_CHILD = "111222333"
DEMO_PARENT = "123456782"


def _existing(core: Core) -> list[Professional] | None:
    with core.transaction(write=False) as tx:
        school, team = tx.repo.organisation_named(SCHOOL), tx.repo.organisation_named(JEUGDTEAM)
        if school is None or team is None:
            return None
        people = tx.repo.professionals_of(school.id)[:1] + tx.repo.professionals_of(team.id)[:1]
    return people if len(people) == 2 else None


def _create(core: Core) -> list[Professional]:
    school = admin_service.create_organisation(core, SCHOOL, "onderwijs")
    team = admin_service.create_organisation(core, JEUGDTEAM, "jeugdhulp")
    people = [
        admin_service.create_professional(
            core,
            school.id,
            name="Fatima El Amrani",
            email="f.elamrani@regenboog.example",
            phone="+31 20 555 0101",
            roles=["professional"],
            password=DEMO_PASSWORD,
        ).professional,
        admin_service.create_professional(
            core,
            team.id,
            name="Jan de Vries",
            email="j.devries@jeugdteamnoord.example",
            phone="+31 20 555 0202",
            roles=["professional"],
            password=DEMO_PASSWORD,
        ).professional,
    ]
    regio = admin_service.create_organisation(core, REGIO, "maatschappelijke_ondersteuning")
    admin_service.create_professional(
        core,
        regio.id,
        name="Bea Beheer",
        email=ADMIN_EMAIL,
        phone="+31 20 555 0303",
        roles=["beheerder", "privacy_officer"],
        password=DEMO_PASSWORD,
    )
    child, parent = parse_bsn(DEMO_CHILD), parse_bsn(DEMO_PARENT)
    assert child is not None and parent is not None
    for professional in people:
        signal_service.register_signal(
            core,
            Actor(professional),
            NewSignal(
                child=child,
                birth_date=date(2015, 3, 14),
                parents=(parent,),
                informatieplicht=Informatieplicht(child_informed=False, parents_informed=True),
            ),
        )
    return people


def load_demo(core: Core, base_url: str) -> str:
    """Load (once) and return the instructions to print."""
    people = _existing(core) or _create(core)
    token = personal_token(core, people[0].id)
    base = base_url.rstrip("/")
    lines = [
        "",
        "Demo loaded: two professionals at two organisations signalled the same child,",
        "so each of them sees a cliëntmatch with the other's contact details.",
        "",
    ]
    for person in people:
        lines += [
            f"  {person.name} ({person.organisation.name}, {person.organisation.sector.value})",
            f"    professional id: {person.id}",
        ]
    lines += [
        "",
        f"See the match as {people[0].name} (token valid for one hour):",
        "",
        f"  curl -s {base}/api/v1/matches \\",
        f"    -H 'Authorization: Bearer {token}'",
        "",
        "A fresh token at any time:",
        f"  verwijsindex token --professional {people[0].id}",
        f"The API description: {base}/api/v1/openapi.json",
        "",
        f"Or use the web UI at {base}/ (password for everyone: {DEMO_PASSWORD}):",
        f"  {people[0].email}, {people[1].email} (professionals),",
        f"  {ADMIN_EMAIL} (beheerder and privacy officer).",
        "At first login you add the verwijsindex to an authenticator app (QR code, or the",
        "key shown under 'Kunt u niet scannen?'); after that it asks for the app's code.",
        "",
    ]
    return "\n".join(lines)
