"""verwijsindex: a privacy-preserving referral index for Dutch youth care.

`create_app()` assembles settings, keys, database, the API and its error handling, and
the web UI.
"""

from __future__ import annotations

from flask import Flask

from verwijsindex.config import Settings
from verwijsindex.version import API_VERSION

__all__ = ["API_VERSION", "create_app"]


def create_app(settings: Settings | None = None, *, clock: object = None) -> Flask:
    """Build the WSGI application.

    Keys are *loaded*, never created here: a mistyped `VERWIJSINDEX_KEYS_DIR` must fail
    loudly rather than mint a fresh pseudonym key that silently matches nothing. They are
    created by `verwijsindex serve` or `verwijsindex db upgrade`.
    """
    from verwijsindex import access_log, api, ratelimit, web
    from verwijsindex.crypto import load_keys
    from verwijsindex.db import Database
    from verwijsindex.services import Core, system_clock

    settings = settings or Settings.from_env()
    app = Flask(__name__, static_folder="web/static")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    core = Core(
        settings,
        Database(settings.database_url),
        load_keys(settings.keys_dir),
        clock if callable(clock) else system_clock,
    )
    app.extensions["verwijsindex"] = core
    api.init_app(app)
    web.init_app(app)
    ratelimit.init_app(app, settings)  # after the blueprints: it wraps their views
    access_log.init_app(app)
    return app
