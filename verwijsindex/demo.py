"""Demo data for `verwijsindex serve --demo`: two organisations, two professionals, a match.

Loading twice does not duplicate anything: the demo organisation is recognised by name and
only fresh tokens are printed. The demo child's BSN is a well-known test number that passes
the elfproef; it is pseudonymised like any other and appears nowhere in the output.

The demo creates a beheerder and a privacy officer whose password is printed here and in the
README, and whoever logs in first enrols the second factor. So it is loaded only into a
database that holds nothing but the demo (empty, or loaded by an earlier `--demo`), and
never into a production database server (`VERWIJSINDEX_ENVIRONMENT=production`, the
default, with a non-SQLite URL): `make demo` on the default SQLite file keeps working.
"""

from __future__ import annotations

from datetime import date

from verwijsindex.config import Settings
from verwijsindex.domain import Informatieplicht, NewSignal, Organisation, Professional
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
DEMO_ORGANISATIONS = frozenset({SCHOOL, JEUGDTEAM, REGIO})
DEMO_EMAILS = frozenset(
    {"f.elamrani@regenboog.example", "j.devries@jeugdteamnoord.example", ADMIN_EMAIL}
)


class DemoRefused(Exception):
    """`--demo` would put accounts with a published password where they do not belong."""


def demo_refusal(settings: Settings) -> str | None:
    """Why `--demo` may not touch this installation at all, judged before keys or
    migrations are made: a production database server is never a demo's."""
    if settings.environment == "production" and not settings.database_url.startswith("sqlite"):
        return (
            "--demo refused: VERWIJSINDEX_ENVIRONMENT is production and the database is a "
            "server, not SQLite; the demo adds accounts whose password is published. Use "
            "VERWIJSINDEX_ENVIRONMENT=development with an empty database, or the default SQLite."
        )
    return None


def _not_the_demos(core: Core) -> str | None:
    """Why this database is not the demo's: it holds an organisation or person the demo did
    not create. An empty database, or one an earlier `--demo` filled, is the demo's.

    Both are checked, names of organisations and e-mail addresses of people, because either
    alone could be matched by a real installation by accident; both together cannot.
    """
    with core.transaction(write=False) as tx:
        directory = tx.people
        foreign = sum(o.name not in DEMO_ORGANISATIONS for o in directory.organisations())
        if not foreign:  # only then open everyone's contact data
            foreign = sum(p.email not in DEMO_EMAILS for p in directory.professionals_in(None))
    if not foreign:
        return None
    return (
        "--demo refused: the database holds organisations or people the demo did not "
        "create; the demo adds accounts whose password is published. Use an empty "
        "database (another VERWIJSINDEX_DATABASE_URL) for the demo."
    )


def _existing(core: Core) -> list[Professional] | None:
    with core.transaction(write=False) as tx:
        school, team = tx.people.organisation_named(SCHOOL), tx.people.organisation_named(JEUGDTEAM)
        if school is None or team is None:
            return None
        people = tx.people.professionals_of(school.id)[:1] + tx.people.professionals_of(team.id)[:1]
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


def _regio(core: Core) -> Organisation | None:
    with core.transaction(write=False) as tx:
        return tx.people.organisation_named(REGIO)


def load_demo(core: Core, base_url: str, command: str = "verwijsindex") -> str:
    """Load (once) and return the instructions to print.

    `command` is how this program was started (`.venv/bin/verwijsindex` from `make demo`),
    so that the commands printed work as printed, from the same folder, without the
    virtualenv activated. Raises `DemoRefused`, having changed nothing, unless the database
    is the demo's own.
    """
    refusal = demo_refusal(core.settings) or _not_the_demos(core)
    if refusal is not None:
        raise DemoRefused(refusal)
    people = _existing(core) or _create(core)
    regio = _regio(core)
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
            f"    organisation id: {person.organisation.id}",
        ]
    if regio is not None:
        lines += [f"  {regio.name}, the beheerder's", f"    organisation id: {regio.id}"]
    lines += [
        "",
        f"See the match as {people[0].name} (token valid for one hour):",
        "",
        f"  curl -s {base}/api/v1/matches \\",
        f"    -H 'Authorization: Bearer {token}'",
        "",
        f"A fresh token at any time, as {people[1].name} here, in the variable TOKEN that",
        "the README's examples use (in another terminal, in this folder):",
        "",
        f"  export TOKEN=$({command} token --professional {people[1].id})",
        f'  curl -s {base}/api/v1/matches -H "Authorization: Bearer $TOKEN"',
        "",
        f"The API description: {base}/api/v1/openapi.json (rendered at {base}/api/v1/docs)",
        "",
        f"Or use the web UI at {base}/ (password for everyone: {DEMO_PASSWORD}):",
        f"  {people[0].email}, {people[1].email} (professionals),",
        f"  {ADMIN_EMAIL} (beheerder and privacy officer).",
        "At first login you add the verwijsindex to an authenticator app (QR code, or the",
        "key shown under 'Kunt u niet scannen?'); after that it asks for the app's code.",
        "",
    ]
    return "\n".join(lines)
