"""The beheerder's pages on the people of the region: organisations and professionals.

A professional is invited, never given a password: the beheerder creates the person and
gets a one-time invitation link (`/uitnodiging#<code>`) to pass on; the person chooses a
password and sets up the second factor. The link is shown once, on the page that answers
the POST: the code is never put in a URL path of ours (the browser keeps the #-part to
itself), and the service keeps only its hash.

Like the professional's pages, every other POST ends in a 303 to a URL with ids only and
at most a `?melding=` key naming a fixed notice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers import Response

from verwijsindex import gemeenten
from verwijsindex.domain import InvalidInput, NotFound, Organisation, Professional, Role, Sector
from verwijsindex.services import admin, directory, invitations
from verwijsindex.web import forms
from verwijsindex.web.context import actor, core, login_required
from verwijsindex.web.gemeente_names import gemeente_codes, gemeente_names
from verwijsindex.web.labels import ROLES_NL
from verwijsindex.web.pages import page, reason_nl
from verwijsindex.web.professional import SECTORS_NL, notice

bp = Blueprint("people", __name__)

ROLE_HINTS = {
    Role.PROFESSIONAL: "Geeft signalen af en ziet de eigen matches.",
    Role.BEHEERDER: "Beheert organisaties, professionals, koppelingen en statistieken van de "
    "hele regio.",
    Role.PRIVACY_OFFICER: "Ziet het auditlog en behandelt inzageverzoeken voor de hele regio.",
    Role.REGIEVOERDER: "Controleert voor de gemeente of professionals na een match contact "
    "hebben gehad; ziet alleen de matches.",
    Role.COORDINATOR: "Houdt de contactgegevens en signalen van de eigen organisatie bij; "
    "ziet geen kindgegevens.",
}
NOTICES = {
    "aangemaakt": "De organisatie is aangemaakt.",
    "rollen": "De rollen zijn opgeslagen.",
    "gedeactiveerd": "De professional is gedeactiveerd: inloggen kan niet meer, en wie nog "
    "ingelogd was, is uitgelogd.",
    "geheractiveerd": "De professional is weer actief en kan inloggen.",
    "gemeenten": "De gemeenten van de regievoerder zijn opgeslagen.",
}
NO_ROLE = "Kies minstens één rol."
NO_ORGANISATION = "Kies een organisatie."
NO_SECTOR = "Kies een sector."
NIL = uuid.UUID(int=0)
_REASONS_NL = {
    "Give at least one role.": NO_ROLE,
    "You cannot remove your own beheerder role: another beheerder can.": (
        "U kunt uw eigen rol van beheerder niet intrekken. Een andere beheerder kan dat wel."
    ),
    "You cannot deactivate yourself: another beheerder can.": (
        "U kunt uzelf niet deactiveren. Een andere beheerder kan dat wel."
    ),
}
_FIELD_OF = {"role": "roles", "defaultGemeente": "default_gemeente"}
# Each field's own message where the service's reason would name the wrong thing.
_FIELD_MESSAGES = {
    "sector": NO_SECTOR,
    "roles": NO_ROLE,
    "default_gemeente": "Kies een gemeente uit de lijst.",
}
INACTIVE_INVITATION = (
    "Deze professional is gedeactiveerd. Heractiveer hem of haar eerst; daarna kunt u een "
    "uitnodiging maken."
)


def dutch_errors(error: InvalidInput) -> dict[str, str]:
    """Form field → one Dutch message for each problem the service found."""
    found: dict[str, str] = {}
    for problem in error.problems:
        name = _FIELD_OF.get(problem.name, problem.name)
        reason = problem.reason
        if reason.startswith("At most ") and reason.endswith(" characters."):
            message = f"Maximaal {reason.split()[2]} tekens."
        else:
            message = _REASONS_NL.get(reason) or _FIELD_MESSAGES.get(name) or reason_nl(reason)
        found.setdefault(name, message)
    return found


def people_helpers() -> dict[str, Any]:
    return {
        "roles_nl": ROLES_NL,
        "role_hints": ROLE_HINTS,
        "role_list": lambda roles: ", ".join(ROLES_NL[r] for r in Role if r in roles),
        "sector_options": [(s.value, SECTORS_NL[s]) for s in Sector],
        "gemeente_options": [(g.code, g.naam) for g in gemeenten.current().by_name()],
        "gemeente_naam": gemeenten.current().name_of,
        "organisation_options": lambda organisations: [
            (str(o.id), f"{o.name} ({SECTORS_NL[o.sector]})") for o in organisations
        ],
    }


bp.context_processor(people_helpers)


# --- organisations ---------------------------------------------------------------------------


@bp.get("/beheer/organisaties")
@login_required(Role.BEHEERDER)
def organisations() -> Response:
    return page(
        "web/beheer/organisations.html",
        organisations=directory.list_organisations(core(), actor()),
        notice=notice(NOTICES),
    )


@bp.route("/beheer/organisaties/nieuw", methods=["GET", "POST"])
@login_required(Role.BEHEERDER)
def new_organisation() -> Response:
    if request.method == "GET":
        return page("web/beheer/organisation_new.html", errors={}, values={})
    values = {
        "name": request.form.get("name", ""),
        "sector": request.form.get("sector", ""),
        "default_gemeente": request.form.get("default_gemeente", "").strip(),
    }
    if values["sector"] not in {s.value for s in Sector}:
        values["sector"] = ""
    try:
        admin.create_organisation(
            core(),
            values["name"],
            values["sector"],
            actor(),
            default_gemeente=values["default_gemeente"] or None,
        )
    except InvalidInput as error:
        errors = dutch_errors(error)
        return page("web/beheer/organisation_new.html", 400, errors=errors, values=values)
    return redirect(url_for(".organisations", melding="aangemaakt"), 303)


# --- professionals ---------------------------------------------------------------------------


@bp.get("/beheer/professionals")
@login_required(Role.BEHEERDER)
def professionals() -> Response:
    """Everyone, or the people of one organisation (`?organisatie=<id>`)."""
    organisations = directory.list_organisations(core(), actor())
    wanted = forms.parse_uuid(request.args.get("organisatie"))
    shown = next((o for o in organisations if o.id == wanted), None)
    return page(
        "web/beheer/professionals.html",
        organisations=organisations,
        shown=shown,
        professionals=directory.list_professionals(core(), actor(), shown.id if shown else None),
    )


def _invite_page(
    organisations: list[Organisation],
    status: int = 200,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> Response:
    return page(
        "web/beheer/professional_new.html",
        status,
        organisations=organisations,
        errors=errors or {},
        values=values or {},
    )


def _roles_of(form_roles: Iterable[str]) -> set[Role]:
    known = {r.value for r in Role}
    return {Role(r) for r in form_roles if r in known}


@bp.route("/beheer/professionals/nieuw", methods=["GET", "POST"])
@login_required(Role.BEHEERDER)
def invite() -> Response:
    """Create the person without a password, then show their invitation link once."""
    organisations = directory.list_organisations(core(), actor())
    if request.method == "GET":
        chosen = forms.parse_uuid(request.args.get("organisatie"))
        return _invite_page(
            organisations,
            values={
                "organisation": str(chosen or ""),
                "roles": {Role.PROFESSIONAL},
                "mail": True,
            },
        )
    organisation_id = forms.parse_uuid(request.form.get("organisation"))
    roles = _roles_of(request.form.getlist("roles"))
    values: dict[str, Any] = {
        name: request.form.get(name, "") for name in ("organisation", "name", "email", "phone")
    }
    values["roles"] = roles
    errors: dict[str, str] = {}
    if organisation_id not in {o.id for o in organisations}:
        errors["organisation"] = NO_ORGANISATION
        values["organisation"] = ""
    if not roles:
        errors["roles"] = NO_ROLE
    try:
        created = admin.create_professional(
            core(),
            # With a problem of the form's own, the service still checks name, e-mail and
            # phone (every problem at once), but can create nobody: it checks the fields
            # first, then finds no organisation with the nil id.
            NIL if errors or organisation_id is None else organisation_id,
            name=values["name"],
            email=values["email"].strip(),
            phone=values["phone"],
            roles=sorted(r.value for r in roles),
            password=None,
            actor=actor(),
        )
    except InvalidInput as error:
        for name, message in dutch_errors(error).items():
            errors.setdefault(name, message)
    except NotFound:
        errors.setdefault("organisation", NO_ORGANISATION)
    if errors:
        values["mail"] = bool(request.form.get("mail"))
        return _invite_page(organisations, 400, errors, values)
    return _invitation_page(created.professional, mail=bool(request.form.get("mail")))


def _invitation_page(
    professional: Professional, *, new_person: bool = True, mail: bool = False
) -> Response:
    """The link is in this page only: copy it now, it cannot be shown again. With `mail`
    it is also mailed to the person (the beheerder can still copy it here)."""
    token = invitations.invite(core(), actor(), professional.id, mail=mail)
    return page(
        "web/beheer/invitation.html",
        professional=professional,
        new_person=new_person,
        mailed=mail,
        link=f"{core().settings.base_url.rstrip('/')}/uitnodiging#{token}",
        valid_until=core().now() + invitations.INVITATION_VALID,
    )


def _professional(professional_id: uuid.UUID) -> Professional:
    # The directory has no use case for one person; the list is audited as a read of all.
    found = directory.list_professionals(core(), actor())
    person = next((p for p in found if p.id == professional_id), None)
    if person is None:
        raise NotFound("No such professional.")
    return person


def _professional_page(
    person: Professional,
    status: int = 200,
    errors: Mapping[str, str] | None = None,
    roles: Iterable[Role] | None = None,
    gemeenten_typed: str | None = None,
) -> Response:
    assigned = ""
    if person.has_role(Role.REGIEVOERDER):
        codes = directory.regievoerder_gemeenten(core(), actor(), person.id)
        assigned = gemeente_names(codes) if gemeenten_typed is None else gemeenten_typed
    return page(
        "web/beheer/professional.html",
        status,
        person=person,
        gemeenten_typed=assigned,
        is_me=person.id == actor().id,
        chosen_roles=set(person.roles if roles is None else roles),
        errors=errors or {},
        notice=notice(NOTICES),
    )


@bp.get("/beheer/professionals/<uuid:professional_id>")
@login_required(Role.BEHEERDER)
def show(professional_id: uuid.UUID) -> Response:
    return _professional_page(_professional(professional_id))


@bp.post("/beheer/professionals/<uuid:professional_id>/rollen")
@login_required(Role.BEHEERDER)
def set_roles(professional_id: uuid.UUID) -> Response:
    roles = _roles_of(request.form.getlist("roles"))
    try:
        directory.set_roles(core(), actor(), professional_id, roles)
    except InvalidInput as error:
        errors = {"roles": next(iter(dutch_errors(error).values()), NO_ROLE)}
        return _professional_page(_professional(professional_id), 400, errors, roles)
    return redirect(url_for(".show", professional_id=professional_id, melding="rollen"), 303)


def _confirm_page(
    person: Professional, active: bool, status: int = 200, error: str | None = None
) -> Response:
    return page(
        "web/beheer/professional_active.html", status, person=person, active=active, error=error
    )


def _set_active(professional_id: uuid.UUID, *, active: bool) -> Response:
    """A confirmation page first (GET), then the change (POST)."""
    if request.method == "GET":
        return _confirm_page(_professional(professional_id), active)
    change = directory.reactivate_professional if active else directory.deactivate_professional
    try:
        change(core(), actor(), professional_id)
    except InvalidInput as error:
        message = next(iter(dutch_errors(error).values()), reason_nl(error.detail))
        return _confirm_page(_professional(professional_id), active, 400, message)
    melding = "geheractiveerd" if active else "gedeactiveerd"
    return redirect(url_for(".show", professional_id=professional_id, melding=melding), 303)


@bp.route("/beheer/professionals/<uuid:professional_id>/deactiveren", methods=["GET", "POST"])
@login_required(Role.BEHEERDER)
def deactivate(professional_id: uuid.UUID) -> Response:
    return _set_active(professional_id, active=False)


@bp.route("/beheer/professionals/<uuid:professional_id>/heractiveren", methods=["GET", "POST"])
@login_required(Role.BEHEERDER)
def reactivate(professional_id: uuid.UUID) -> Response:
    return _set_active(professional_id, active=True)


@bp.post("/beheer/professionals/<uuid:professional_id>/uitnodiging")
@login_required(Role.BEHEERDER)
def new_invitation(professional_id: uuid.UUID) -> Response:
    """A new link, e.g. when the first expired or the person lost their phone: accepting it
    sets a new password and a new second factor."""
    person = _professional(professional_id)
    if not person.active:
        return _professional_page(person, 400, {"invitation": INACTIVE_INVITATION})
    return _invitation_page(person, new_person=False, mail=bool(request.form.get("mail")))


@bp.post("/beheer/professionals/<uuid:professional_id>/gemeenten")
@login_required(Role.BEHEERDER)
def set_gemeenten(professional_id: uuid.UUID) -> Response:
    """A regievoerder's gemeenten, typed by name or CBS code, separated by commas."""
    typed = request.form.get("gemeenten", "")[:4000]
    codes, unknown = gemeente_codes(typed)
    if unknown:
        errors = {"gemeenten": "Onbekende gemeente: " + ", ".join(unknown[:5])}
        person = _professional(professional_id)
        return _professional_page(person, 400, errors, gemeenten_typed=typed)
    try:
        directory.set_regievoerder_gemeenten(core(), actor(), professional_id, codes)
    except InvalidInput:
        errors = {"gemeenten": "Alleen een regievoerder heeft gemeenten."}
        person = _professional(professional_id)
        return _professional_page(person, 400, errors, gemeenten_typed=typed)
    return redirect(url_for(".show", professional_id=professional_id, melding="gemeenten"), 303)
