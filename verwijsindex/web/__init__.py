"""The web UI: server-rendered Dutch pages for professionals, beheerders and privacy officers.

Pages call the same services as the API. They work without JavaScript (a little script
only adds instant feedback, such as the elfproef on BSN fields). No BSN ever appears in a
URL, a page title or the browser history: BSNs travel only in POST bodies, and pages that
show personal data are sent with `Cache-Control: no-store`.
"""

from __future__ import annotations

import uuid

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from verwijsindex.audit import RequestContext, request_context
from verwijsindex.domain import DomainError, Forbidden, NotFound, Role
from verwijsindex.web import (
    auth,
    beheer,
    coordination,
    erasure,
    history,
    home,
    info,
    matches,
    privacy,
    regie,
    signals,
)
from verwijsindex.web.context import check_csrf, csrf_token, set_cookies, web_session
from verwijsindex.web.pages import page

BLUEPRINTS = [
    auth.bp,
    home.bp,
    signals.bp,
    history.bp,
    matches.bp,
    beheer.bp,
    privacy.bp,
    erasure.bp,
    coordination.bp,
    regie.bp,
    info.bp,
]

# Everything from here; inline scripts and styles are not allowed at all.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

ERROR_PAGES = {
    400: ("Dit verzoek kon niet worden verwerkt", "Ga terug en probeer het opnieuw."),
    403: ("Geen toegang", "U heeft geen toegang tot deze pagina."),
    404: ("Pagina niet gevonden", "Deze pagina bestaat niet, of u heeft er geen toegang toe."),
    405: ("Dit kan hier niet", "Deze handeling is op deze pagina niet mogelijk."),
    413: ("Te veel gegevens", "Het formulier bevat te veel gegevens."),
}
CSRF_PAGE = (
    "Het formulier is verlopen",
    "Om u te beschermen is dit formulier niet verwerkt. Laad de pagina opnieuw en probeer "
    "het nog eens.",
)


def is_web_request() -> bool:
    # /federation/v1: region to region (docs/federation.md), machine calls like the API.
    return not request.path.startswith(("/api/", "/federation/"))


def error_page(error: Exception) -> Response:
    """A Dutch error page for the web UI (the API answers problem+json instead)."""
    if isinstance(error, NotFound):
        status = 404
    elif isinstance(error, Forbidden):
        status = 403
    elif isinstance(error, DomainError):
        status = 400
    elif isinstance(error, HTTPException):
        status = error.code or 500
    else:
        status = 500
    if isinstance(error, HTTPException) and error.description == "csrf":
        title, text = CSRF_PAGE
    else:
        title, text = ERROR_PAGES.get(
            status,
            ("Er ging iets mis", "Probeer het later opnieuw. Uw gegevens zijn niet verloren."),
        )
    response = page("web/error.html", status, title=title, text=text)
    if status == 405 and isinstance(error, HTTPException):
        response.headers.update(error.get_headers())
        response.headers["Content-Type"] = "text/html; charset=utf-8"
    return response


def _web_request_context() -> None:
    if is_web_request():
        request_context.set(RequestContext("web", str(uuid.uuid4()), request.remote_addr))
        check_csrf()


def _web_headers(response: Response) -> Response:
    if is_web_request():
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["Referrer-Policy"] = "no-referrer"
        if not request.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        set_cookies(response)
    return response


def init_app(app: Flask) -> None:
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.jinja_env.globals.update(csrf_token=csrf_token, web_session=web_session, Role=Role)
    app.jinja_env.autoescape = True
    app.before_request(_web_request_context)
    app.after_request(_web_headers)
    app.extensions["verwijsindex.web_error_page"] = error_page
