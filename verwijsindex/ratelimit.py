"""Throttling per client address on the doors where guessing happens (Flask-Limiter).

The per-account lock-out (services.web_auth) bounds how often one account can be guessed
at, but on its own it lets anyone lock anyone out and lets one address try one password on
every account. So the login form, the code step, the invitation form and
`POST /api/v1/oauth/token` are also throttled per client address.

- Counters live in `Settings.ratelimit_storage_url`: `redis://host:port` shares them between
  all gunicorn workers (and hosts); with `memory://` each worker counts for itself, so the
  effective limit is the number of workers times the one below.
- Every attempt counts, right or wrong, *before* it is handled, as one atomic increment in
  the storage: parallel requests cannot slip past the limit the way they slipped past the
  old lock-out.
- Over the limit: the API answers 429 problem+json, the web a Dutch 429 page, both with
  `Retry-After` (seconds).
- If Redis is unreachable, counting falls back to memory per worker rather than failing
  logins.
- The client address is `request.remote_addr`. Behind a reverse proxy that is the proxy,
  unless the proxy's `X-Forwarded-For` is trusted (werkzeug's ProxyFix): all users would
  then share one budget.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, make_response, render_template, request
from flask_limiter import Limiter, RateLimitExceeded
from werkzeug.wrappers import Response

from verwijsindex.api.problems import problem
from verwijsindex.config import Settings

EXTENSION = "verwijsindex.limiter"
# app.config keys, for tests (and embedders) that need other limits or their own counters:
# {scope: "limits"} overriding THROTTLES, and a namespace put in front of every counter key.
LIMITS_CONFIG = "VERWIJSINDEX_THROTTLE_LIMITS"
NAMESPACE_CONFIG = "VERWIJSINDEX_THROTTLE_NAMESPACE"


@dataclass(frozen=True, slots=True)
class Throttle:
    """One budget per client address, shared by every endpoint with the same `scope`."""

    scope: str
    limits: str  # Flask-Limiter notation; every part must hold
    methods: tuple[str, ...] = ("POST",)


LOGIN = Throttle("login", "10/minute;100/hour")
# The code step: one budget for the code and the set-up page, as they are one door.
SECOND_FACTOR = Throttle("second-factor", "10/minute;100/hour")
INVITATION = Throttle("invitation", "10/minute;50/hour")
# Systems ask a token about once an hour per worker; the client secret is too long to
# guess, so this limit is about cost, and generous for honest integrations.
TOKEN = Throttle("token", "60/minute;600/hour")

THROTTLES: dict[str, Throttle] = {
    "web_auth.login": LOGIN,
    "web_auth.code": SECOND_FACTOR,
    "web_auth.setup": SECOND_FACTOR,
    "web_auth.invitation": INVITATION,
    "system.Token": TOKEN,
}


def _client_key() -> str:
    namespace = current_app.config.get(NAMESPACE_CONFIG) or "verwijsindex"
    return f"{namespace}/{request.remote_addr or 'unknown'}"


def _limits_of(throttle: Throttle) -> Callable[[], str]:
    def limits() -> str:
        overrides: dict[str, str] = current_app.config.get(LIMITS_CONFIG) or {}
        return overrides.get(throttle.scope, throttle.limits)

    return limits


def limiter_of(app: Flask) -> Limiter:
    found: Limiter = app.extensions[EXTENSION]
    return found


def init_app(app: Flask, settings: Settings) -> None:
    """Throttle the endpoints in THROTTLES (call after their blueprints are registered).

    Each app gets its own Limiter: its storage is per app, and tests build many apps.
    """
    limiter = Limiter(
        _client_key,
        app=app,
        storage_uri=settings.ratelimit_storage_url,
        strategy="fixed-window",
        in_memory_fallback_enabled=True,
        headers_enabled=False,  # identical headers for every login answer (no counters)
    )
    app.extensions[EXTENSION] = limiter
    for endpoint, throttle in THROTTLES.items():
        throttled: Any = limiter.shared_limit(
            _limits_of(throttle), scope=throttle.scope, methods=list(throttle.methods)
        )(app.view_functions[endpoint])
        app.view_functions[endpoint] = throttled
    app.register_error_handler(RateLimitExceeded, _too_many_attempts)


def _retry_after() -> int:
    """Seconds until the breached window ends, at least 1."""
    breached = limiter_of(current_app).current_limit
    if breached is None:
        return 60
    # Storages round the window's end up to whole seconds: never more than one window.
    window = breached.limit.get_expiry()
    return min(window, max(1, math.ceil(breached.reset_at - time.time())))


def _too_many_attempts(error: RateLimitExceeded) -> Response:
    seconds = _retry_after()
    headers = {"Retry-After": str(seconds)}
    if request.path.startswith("/api/"):
        return problem(
            429,
            "Too many requests from this address. Try again after Retry-After seconds.",
            headers=headers,
        )
    minutes = math.ceil(seconds / 60)
    wait = "1 minuut" if minutes == 1 else f"{minutes} minuten"
    page = render_template(
        "web/error.html",
        title="Te veel pogingen",
        text=f"Vanaf dit adres zijn te veel pogingen gedaan. Wacht {wait} en probeer het "
        "dan opnieuw.",
    )
    response = make_response(page, 429)
    response.headers.update(headers)
    return response
