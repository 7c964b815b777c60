"""What every web page needs: the session behind the cookie, login and role checks, CSRF.

CSRF uses the synchroniser-token pattern: each server-side session has its own random
token, which every form carries in a hidden field and every POST must repeat. Before login
(the login and invitation forms) there is no session yet, so a random token in a cookie
of its own is repeated instead (double submit). Both are compared in constant time.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import abort, current_app, g, redirect, request, url_for
from werkzeug.wrappers import Response

from verwijsindex.domain import Role
from verwijsindex.services import Actor, Core
from verwijsindex.services.web_auth import ACTIVE, CurrentSession, current_session

SESSION_COOKIE = "verwijsindex_sessie"
CSRF_COOKIE = "verwijsindex_csrf"
CSRF_FIELD = "csrf_token"

F = TypeVar("F", bound=Callable[..., Any])


def core() -> Core:
    found: Core = current_app.extensions["verwijsindex"]
    return found


def web_session() -> CurrentSession | None:
    """The session behind this request's cookie (looked up once per request)."""
    if "web_session" not in g:
        token = request.cookies.get(SESSION_COOKIE)
        g.web_session = current_session(core(), token) if token else None
    found: CurrentSession | None = g.web_session
    return found


def actor() -> Actor:
    """The logged-in professional (only call from views behind `login_required`)."""
    session = web_session()
    assert session is not None and session.stage == ACTIVE
    return session.actor


def login_required(*roles: Role) -> Callable[[F], F]:
    """Send anonymous visitors to the login page (back here afterwards); a logged-in person
    without one of `roles` gets 403."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            session = web_session()
            if session is None or session.stage != ACTIVE:
                return redirect(url_for("web_auth.login", volgende=request.path))
            if roles and not any(session.actor.professional.has_role(r) for r in roles):
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def csrf_token() -> str:
    """The token this page's forms must carry (templates call it as `csrf_token()`)."""
    session = web_session()
    if session is not None:
        return session.csrf_token
    if "anonymous_csrf" not in g:
        g.anonymous_csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    token: str = g.anonymous_csrf
    return token


def check_csrf() -> None:
    """Refuse a POST whose form does not repeat this visitor's token (400 page)."""
    if request.method != "POST":
        return
    offered = request.form.get(CSRF_FIELD, "")
    session = web_session()
    expected = session.csrf_token if session else request.cookies.get(CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(offered.encode(), expected.encode()):
        abort(400, description="csrf")


def set_cookies(response: Response) -> Response:
    """Keep the anonymous CSRF cookie alive for pages that handed out its token."""
    if "anonymous_csrf" in g and request.cookies.get(CSRF_COOKIE) != g.anonymous_csrf:
        response.set_cookie(
            CSRF_COOKIE, g.anonymous_csrf, secure=True, httponly=True, samesite="Lax"
        )
    return response


def start_session(response: Response, token: str) -> Response:
    response.set_cookie(SESSION_COOKIE, token, secure=True, httponly=True, samesite="Lax")
    return response


def end_session(response: Response) -> Response:
    response.delete_cookie(SESSION_COOKIE, secure=True, httponly=True, samesite="Lax")
    return response
