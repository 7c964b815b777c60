"""Set-up: keys and migrations, serving with gunicorn, the OpenAPI document."""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import sys
from pathlib import Path
from typing import NoReturn

import click

from verwijsindex.cli.base import EXIT_INVALID, command_core, fail, main
from verwijsindex.config import ConfigError, Settings
from verwijsindex.crypto import ensure_keys


def prepare(settings: Settings) -> list[str]:
    """Create missing keys, migrate the database and fill in what a migration cannot (it
    has no keys); returns the key files created."""
    from verwijsindex.crypto import load_keys
    from verwijsindex.db import Database
    from verwijsindex.migrate import upgrade
    from verwijsindex.services import Core
    from verwijsindex.services.web_auth import backfill_email_lookups

    created = ensure_keys(settings.keys_dir)
    upgrade(settings.database_url)
    core = Core(settings, Database(settings.database_url), load_keys(settings.keys_dir))
    try:
        backfill_email_lookups(core)
    finally:
        core.database.dispose()
    return created


# Request limits set explicitly rather than left to gunicorn's defaults (a signal needs
# none of this headroom), answered as problem+json by our worker class, and an access log
# that writes route patterns, never paths, query strings or client-chosen headers (a BSN
# sent there must not reach the log). See verwijsindex.access_log.
GUNICORN_SAFETY_OPTIONS = [
    *("--worker-class", "verwijsindex.gunicorn_worker.ProblemWorker"),
    *("--logger-class", "verwijsindex.access_log.SafeAccessLogger"),
    *("--access-logfile", "-"),
    *("--log-level", "info"),  # gunicorn's debug lines quote raw request bytes
    *("--limit-request-line", "4094"),
    *("--limit-request-fields", "50"),
    *("--limit-request-field_size", "8190"),
]


def invoked_as() -> str:
    """How to run this program again from the same folder: `verwijsindex` when that name
    on PATH is this program, else the path it was started by (`.venv/bin/verwijsindex`)."""
    started = sys.argv[0]
    if Path(started).name == "__main__.py":
        return f"{sys.executable} -m verwijsindex"
    on_path = shutil.which("verwijsindex")
    if on_path is not None and Path(on_path).resolve() == Path(started).resolve():
        return "verwijsindex"
    return started


def port_in_use(host: str, port: int) -> str | None:
    """Why gunicorn could not listen on host:port, said once, instead of its own retries
    ("Connection in use", five times, then a traceback). A port taken between this check
    and gunicorn's bind still gets gunicorn's message: the check is for people, not races."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return f"cannot listen on {host}:{port}: unknown host {host!r}"
    family, kind, proto, _, address = addresses[0]
    with socket.socket(family, kind, proto) as probe:
        # As gunicorn binds: SO_REUSEADDR, so a port left in TIME_WAIT is not "in use".
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return (
                    f"port {port} on {host} is in use by another program; "
                    "choose another with --port (make demo PORT=...)"
                )
            return f"cannot listen on {host}:{port}: {error.strerror}"
    return None


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply Alembic migrations up to head (creating keys first if there are none)."""
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        fail(str(error), EXIT_INVALID)
    created = prepare(settings)
    for name in created:
        click.echo(f"created key {settings.keys_dir / name}")
    click.echo("database is at the latest migration")


@main.command()
@click.option("--demo", is_flag=True, help="Load demo organisations and a visible match.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="gunicorn workers [2 × cores + 1]")
@click.option(
    "--worker/--no-worker",
    "with_worker",
    default=True,
    show_default=True,
    help="Also run one outbox worker (e-mail, webhooks); use --no-worker when running "
    "`verwijsindex worker` processes separately.",
)
def serve(demo: bool, host: str, port: int, workers: int | None, with_worker: bool) -> None:
    """Create keys and migrate on first run, then serve with gunicorn (and deliver
    notifications with one outbox worker, unless --no-worker)."""
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        fail(str(error), EXIT_INVALID)
    if (busy := port_in_use(host, port)) is not None:
        fail(busy, EXIT_INVALID)  # before keys, migrations or demo data are touched
    # Tokens name their issuer; default it to the address actually served.
    os.environ.setdefault("VERWIJSINDEX_BASE_URL", f"http://{host}:{port}")
    settings = Settings.from_env()
    if demo:
        from verwijsindex.demo import demo_refusal

        if (refusal := demo_refusal(settings)) is not None:
            fail(refusal, EXIT_INVALID)  # before any key or migration is made
    for name in prepare(settings):
        click.echo(f"created key {settings.keys_dir / name} (mode 0600); back it up")
    if demo:
        from verwijsindex.demo import DemoRefused, load_demo

        with command_core() as core:
            try:
                click.echo(load_demo(core, settings.base_url, invoked_as()))
            except DemoRefused as refused:
                fail(str(refused), EXIT_INVALID)
    exec_gunicorn(
        host,
        port,
        workers,
        *(["--config", "python:verwijsindex.gunicorn_hooks"] if with_worker else []),
        "verwijsindex.wsgi:app",
    )


def exec_gunicorn(host: str, port: int, workers: int | None, *arguments: str) -> NoReturn:
    """Replace this process with gunicorn on host:port with the safety options (the
    service, the hub and the key holder alike); `arguments` end with the app."""
    worker_count = workers or (2 * (os.cpu_count() or 1) + 1)
    # exec replaces this process with its unflushed buffers: into a pipe or file (`make demo
    # | tee demo.txt`), the demo's instructions would be lost.
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvp(  # noqa: S606 - replacing this process with gunicorn is the point
        sys.executable,
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(worker_count),
            *GUNICORN_SAFETY_OPTIONS,
            *arguments,
        ],
    )


@main.command()
def openapi() -> None:
    """Print the OpenAPI document that the service serves at /api/v1/openapi.json.

    The document depends on no key or data, so it is built with throwaway keys and an
    in-memory database: it works on a fresh clone (CI lints it) without touching keys/.
    """
    import tempfile

    from verwijsindex import create_app

    with tempfile.TemporaryDirectory() as scratch:
        ensure_keys(Path(scratch))
        app = create_app(Settings(database_url="sqlite://", keys_dir=Path(scratch)))
        response = app.test_client().get("/api/v1/openapi.json")
    click.echo(json.dumps(response.get_json(), indent=2))
