"""Login (password, then TOTP; QR code at first login), logout, invitations.

Invitation links are `/uitnodiging#<code>`: the code is in the fragment, which a browser
never sends, so it lands in no access log, proxy log or Referer. A small script
(static/invitation.js) copies it into the form; without JavaScript the person pastes it
into the field. The code then travels only in the POST body.
"""

from __future__ import annotations

from typing import Any

import segno
from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers import Response

from verwijsindex.domain import InvalidInput
from verwijsindex.services import invitations, web_auth
from verwijsindex.services.web_auth import LoginRefused
from verwijsindex.web.context import SESSION_COOKIE, core, end_session, start_session, web_session
from verwijsindex.web.pages import errors_of, local_path, page

# The web templates live here; Flask searches every blueprint's folder, so all pages find them.
bp = Blueprint("web_auth", __name__, template_folder="templates")

# One answer for a wrong password, an unknown address and a locked account: which of them
# it was is exactly what the login page must not tell a stranger.
NOT_LOGGED_IN = (
    "Deze combinatie klopt niet, of uw account is tijdelijk geblokkeerd na te veel mislukte "
    "pogingen. Controleer uw gegevens en probeer het opnieuw, of wacht 15 minuten."
)
# After a right password the person is known, so the code step may say why.
LOCKED = (
    "Uw account is tijdelijk geblokkeerd na te veel mislukte pogingen. "
    "Probeer het over 15 minuten opnieuw."
)
INVITATION_INVALID = "Deze uitnodiging is niet (meer) geldig. Vraag uw beheerder om een nieuwe."
OLD_INVITATION_LINK = (
    "Deze uitnodigingslink heeft een vorm die niet meer werkt. Vraag uw beheerder om een "
    "nieuwe uitnodiging."
)
NOTICES = {
    "uitgelogd": "U bent uitgelogd.",
    "verlopen": "Uw sessie is verlopen. Log opnieuw in.",
}


def _next() -> str:
    return local_path(request.values.get("volgende"))


@bp.route("/inloggen", methods=["GET", "POST"])
def login() -> Response:
    if request.method == "GET":
        return page(
            "web/auth/login.html",
            volgende=_next(),
            message=NOTICES.get(request.args.get("melding", "")),
        )
    email = request.form.get("email", "").strip()
    try:
        token, stage = web_auth.log_in(core(), email, request.form.get("password", ""))
    except LoginRefused:
        return page("web/auth/login.html", 401, volgende=_next(), email=email, error=NOT_LOGGED_IN)
    target = "web_auth.setup" if stage == web_auth.TOTP_SETUP else "web_auth.code"
    return start_session(redirect(url_for(target, volgende=_next()), 303), token)


def group_in_fours(secret: str) -> str:
    """`ABCD EFGH IJ`: a long key is read and typed in groups, as on a bank card."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@bp.route("/inloggen/code", methods=["GET", "POST"])
def code() -> Response:
    return _second_factor("web/auth/code.html", web_auth.PASSWORD)


@bp.route("/inloggen/instellen", methods=["GET", "POST"])
def setup() -> Response:
    return _second_factor("web/auth/setup.html", web_auth.TOTP_SETUP)


def _second_factor(template: str, stage: str) -> Response:
    session = web_session()
    token = request.cookies.get(SESSION_COOKIE, "")
    if session is None or session.stage != stage:
        return redirect(url_for("web_auth.login", melding="verlopen"), 303)
    context: dict[str, Any] = {"volgende": _next()}
    if stage == web_auth.TOTP_SETUP:
        uri = web_auth.totp_provisioning_uri(core(), token) or ""
        context["qr_data_uri"] = segno.make(uri, error="m").svg_data_uri(
            scale=5, dark="#000", light="#fff", border=2
        )
        context["secret"] = uri.split("secret=")[1].split("&")[0] if "secret=" in uri else ""
        # On a phone the QR code cannot be scanned by the phone itself: the otpauth:// link
        # opens the authenticator app there, and the key in fours is easier to type over.
        context["otpauth_uri"] = uri
        context["secret_grouped"] = group_in_fours(context["secret"])
    if request.method == "GET":
        return page(template, **context)
    try:
        new_token = web_auth.complete_login(core(), token, request.form.get("code", ""))
    except LoginRefused as refused:
        if refused.reason == "locked":
            return end_session(page("web/auth/login.html", 401, error=LOCKED))
        return page(
            template, 401, error="Deze code klopt niet. Probeer de nieuwste code.", **context
        )
    return start_session(redirect(_next(), 303), new_token)


@bp.post("/uitloggen")
def logout() -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        web_auth.log_out(core(), token)
    return end_session(redirect(url_for("web_auth.login", melding="uitgelogd"), 303))


@bp.route("/uitnodiging", methods=["GET", "POST"])
def invitation() -> Response:
    """Choose a password with the code from the invitation link (see the module docstring).

    Two steps, so that a used, expired or unknown link says so before anyone types a
    password: the code alone (`stap=controleren`; invitation.js submits it as soon as it
    took it from the link), then the password with the checked code in a hidden field."""
    if request.method == "GET":
        return page("web/auth/invitation.html")
    code = request.form.get("uitnodiging", "").strip()
    checking = request.form.get("stap") == "controleren"
    if not code:
        return page(
            "web/auth/invitation.html",
            400,
            errors={"uitnodiging": "Vul de code uit uw uitnodigingslink in."},
        )
    if checking:
        if not invitations.invitation_usable(core(), code):
            return page("web/auth/invitation_invalid.html", 400, text=INVITATION_INVALID)
        return page("web/auth/invitation.html", code=code, checked=True)
    try:
        token = invitations.accept_invitation(
            core(), code, request.form.get("password", ""), request.form.get("repeated", "")
        )
    except InvalidInput as error:
        return page(
            "web/auth/invitation.html", 400, errors=errors_of(error), code=code, checked=True
        )
    except LoginRefused:
        return page("web/auth/invitation_invalid.html", 400, text=INVITATION_INVALID)
    return start_session(redirect(url_for("web_auth.setup"), 303), token)


@bp.route("/uitnodiging/<path:old>", methods=["GET", "POST"])
def old_invitation_link(old: str) -> Response:
    """Links from before the code moved into the fragment carried it in the path (and so
    into access logs). They are not accepted: the beheerder makes a new one."""
    return page("web/error.html", 410, title="Deze link werkt niet meer", text=OLD_INVITATION_LINK)
