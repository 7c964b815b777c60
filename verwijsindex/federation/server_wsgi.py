"""gunicorn targets of the federation servers: `verwijsindex.federation.server_wsgi:hub()`
and `…:keyholder()` (gunicorn calls the factory in each worker). Prefer `verwijsindex hub
serve` / `verwijsindex keyholder serve`: they make keys, migrate, and pass the safe
access-log and request-limit options (`verwijsindex.cli.setup.GUNICORN_SAFETY_OPTIONS`)."""

from __future__ import annotations

from flask import Flask

from verwijsindex.federation.server_app import create_federation_app


def hub() -> Flask:
    return create_federation_app("hub")


def keyholder() -> Flask:
    return create_federation_app("keyholder")
