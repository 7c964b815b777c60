"""The `verwijsindex` command (contract section 8).

Every command reads its settings from `VERWIJSINDEX_*`, prints one JSON object with
`--json`, and turns expected failures into a sentence and an exit status, never a traceback.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click

from verwijsindex.audit import RequestContext, request_context
from verwijsindex.config import ConfigError, Settings
from verwijsindex.crypto import KeyFileError, ensure_keys, load_keys
from verwijsindex.db import Database
from verwijsindex.domain import DomainError, InvalidInput, Role, Sector
from verwijsindex.services import Core
from verwijsindex.services import admin as admin_service
from verwijsindex.services.auth import personal_token

EXIT_INVALID = 2


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@contextmanager
def _core() -> Iterator[Core]:
    """Settings, keys and database for one command, with expected errors made readable."""
    try:
        settings = Settings.from_env()
        core = Core(settings, Database(settings.database_url), load_keys(settings.keys_dir))
    except (ConfigError, KeyFileError) as error:
        _fail(str(error), EXIT_INVALID)
    try:
        yield core
    except InvalidInput as error:
        for problem in error.problems:
            click.echo(f"error: {problem.name}: {problem.reason}", err=True)
        sys.exit(EXIT_INVALID)
    except DomainError as error:
        _fail(error.detail)
    finally:
        core.database.dispose()


def _emit(as_json: bool, data: dict[str, Any], plain: Callable[[], None]) -> None:
    if as_json:
        click.echo(json.dumps(data))
    else:
        plain()


def _uuid(value: str, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        _fail(f"{name} must be a UUID", EXIT_INVALID)


@click.group()
def main() -> None:
    """verwijsindex: a privacy-preserving referral index for Dutch youth care."""
    request_context.set(RequestContext("cli", str(uuid.uuid4())))


# --- set-up ---------------------------------------------------------------------------------


def prepare(settings: Settings) -> list[str]:
    """Create missing keys and migrate the database; returns the key files created."""
    from verwijsindex.migrate import upgrade

    created = ensure_keys(settings.keys_dir)
    upgrade(settings.database_url)
    return created


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply Alembic migrations up to head (creating keys first if there are none)."""
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        _fail(str(error), EXIT_INVALID)
    created = prepare(settings)
    for name in created:
        click.echo(f"created key {settings.keys_dir / name}")
    click.echo("database is at the latest migration")


@main.command()
@click.option("--demo", is_flag=True, help="Load demo organisations and a visible match.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="gunicorn workers [2 × cores + 1]")
def serve(demo: bool, host: str, port: int, workers: int | None) -> None:
    """Create keys and migrate on first run, then serve with gunicorn."""
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        _fail(str(error), EXIT_INVALID)
    # Tokens name their issuer; default it to the address actually served.
    os.environ.setdefault("VERWIJSINDEX_BASE_URL", f"http://{host}:{port}")
    settings = Settings.from_env()
    for name in prepare(settings):
        click.echo(f"created key {settings.keys_dir / name} (mode 0600); back it up")
    if demo:
        from verwijsindex.demo import load_demo

        with _core() as core:
            click.echo(load_demo(core, settings.base_url))
    worker_count = workers or (2 * (os.cpu_count() or 1) + 1)
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
            "--access-logfile",
            "-",
            "verwijsindex.wsgi:app",
        ],
    )


@main.command()
def openapi() -> None:
    """Print the OpenAPI document that the service serves at /api/v1/openapi.json.

    The document depends on no key or data, so it is built with throwaway keys and an
    in-memory database: it works on a fresh clone (CI lints it) without touching keys/.
    """
    import tempfile
    from pathlib import Path

    from verwijsindex import create_app

    with tempfile.TemporaryDirectory() as scratch:
        ensure_keys(Path(scratch))
        app = create_app(Settings(database_url="sqlite://", keys_dir=Path(scratch)))
        response = app.test_client().get("/api/v1/openapi.json")
    click.echo(json.dumps(response.get_json(), indent=2))


# --- administration -------------------------------------------------------------------------


@main.group()
def admin() -> None:
    """Organisations, professionals and system clients (beheerder)."""


@admin.command("create-organisation")
@click.option("--name", required=True)
@click.option("--sector", required=True, type=click.Choice([s.value for s in Sector]))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def create_organisation(name: str, sector: str, as_json: bool) -> None:
    """Create an organisation; prints its id."""
    with _core() as core:
        organisation = admin_service.create_organisation(core, name, sector)
    _emit(
        as_json,
        {"id": str(organisation.id), "name": organisation.name, "sector": sector},
        lambda: click.echo(str(organisation.id)),
    )


@admin.command("create-professional")
@click.option("--organisation", "organisation_id", required=True, help="Organisation id")
@click.option("--name", required=True)
@click.option("--email", required=True)
@click.option("--phone", required=True)
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice([r.value for r in Role]),
    help="Repeat for several roles [professional]",
)
@click.option("--password-stdin", is_flag=True, help="Read a password for the web UI from stdin.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def create_professional(
    organisation_id: str,
    name: str,
    email: str,
    phone: str,
    roles: tuple[str, ...],
    password_stdin: bool,
    as_json: bool,
) -> None:
    """Create a professional; prints the id and the TOTP provisioning URI (shown once)."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    with _core() as core:
        created = admin_service.create_professional(
            core,
            _uuid(organisation_id, "--organisation"),
            name=name,
            email=email,
            phone=phone,
            roles=roles,
            password=password,
        )
    professional = created.professional

    def plain() -> None:
        click.echo(str(professional.id))
        click.echo(f"TOTP provisioning URI (shown once): {created.totp_uri}")

    _emit(
        as_json,
        {
            "id": str(professional.id),
            "organisation": str(professional.organisation.id),
            "roles": sorted(r.value for r in professional.roles),
            "totpUri": created.totp_uri,
        },
        plain,
    )


@admin.command("create-client")
@click.option("--organisation", "organisation_id", required=True, help="Organisation id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def create_client(organisation_id: str, as_json: bool) -> None:
    """Create a system client; prints client_id and client_secret (the secret only now)."""
    with _core() as core:
        client = admin_service.create_system_client(core, _uuid(organisation_id, "--organisation"))
    _emit(
        as_json,
        {"client_id": str(client.client_id), "client_secret": client.client_secret},
        lambda: click.echo(f"client_id={client.client_id}\nclient_secret={client.client_secret}"),
    )


@admin.command(
    "report-death",
    # Extra arguments are caught below, so a BSN typed there is refused without being echoed.
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.pass_context
@click.option(
    "--bsn-stdin",
    is_flag=True,
    help="Read the child's BSN from stdin (required: never from the command line).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def report_death(context: click.Context, bsn_stdin: bool, as_json: bool) -> None:
    """Delete everything about a deceased child at once (beheerder).

    The BSN is read from stdin because arguments end up in shell history and process
    lists. The command line has no login: whoever can run it with the service's keys and
    database acts as beheerder, so keep both as guarded as that role. The audit record
    names no actor and no child, only the ids of the deleted signals.
    """
    from verwijsindex.pseudonym import parse_bsn
    from verwijsindex.services.lifecycle import report_death as delete_child

    if context.args:
        _fail("unexpected argument(s): give the BSN on stdin, with --bsn-stdin", EXIT_INVALID)
    if not bsn_stdin:
        _fail("give the BSN on stdin, with --bsn-stdin", EXIT_INVALID)
    bsn = parse_bsn(sys.stdin.readline().strip())
    if bsn is None:
        _fail("the BSN on stdin is not nine digits passing the elfproef", EXIT_INVALID)
    with _core() as core:
        deleted = delete_child(core, bsn)
    _emit(
        as_json,
        {"deleted": deleted},
        lambda: click.echo(f"deleted {deleted} signal{'' if deleted == 1 else 's'}"),
    )


@main.group()
def audit() -> None:
    """The tamper-evident audit log (privacy officer)."""


@audit.command("verify")
def audit_verify() -> None:
    """Walk the hash chain; exit 1 naming the first bad record if it was tampered with."""
    from verwijsindex.services.audit_log import verify_audit_log

    with _core() as core:
        result = verify_audit_log(core)
    if result.ok:
        click.echo(f"audit log intact: {result.checked} records verified")
        return
    where = f"record seq {result.first_bad_seq}" if result.first_bad_seq else "the chain's head"
    click.echo(
        f"audit log BROKEN at {where}: {result.reason} "
        f"({result.checked} records before it verified)",
        err=True,
    )
    sys.exit(1)


@main.command()
@click.option("--professional", "professional_id", required=True, help="Professional id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def token(professional_id: str, as_json: bool) -> None:
    """Print a personal bearer token (development and tests; valid for an hour)."""
    with _core() as core:
        issued = personal_token(core, _uuid(professional_id, "--professional"))
        lifetime = core.settings.token_lifetime_seconds
    _emit(
        as_json,
        {"access_token": issued, "token_type": "Bearer", "expires_in": lifetime},
        lambda: click.echo(issued),
    )


# --- lifecycle ------------------------------------------------------------------------------

PROGRESS_EVERY_SECONDS = 2.0


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def maintenance(as_json: bool) -> None:
    """Archive, delete and forget what is due (contract section 6); safe to repeat.

    Run it daily (cron, a systemd timer). Two runs at once are safe: they share the work.
    Long runs report progress on stderr.
    """
    import time

    from verwijsindex.services.lifecycle import MaintenanceReport, run_maintenance

    request_context.set(RequestContext("maintenance", request_context.get().request_id))
    last = time.monotonic()

    def progress(report: MaintenanceReport) -> None:
        nonlocal last
        if time.monotonic() - last >= PROGRESS_EVERY_SECONDS:
            last = time.monotonic()
            click.echo(
                f"maintenance: {report.archived} archived, {report.deleted} deleted so far",
                err=True,
            )

    with _core() as core:
        report = run_maintenance(core, progress=progress)

    def plain() -> None:
        click.echo(f"archived {report.archived} signals (active period over)")
        click.echo(f"deleted {report.deleted_expired} signals (archive period over)")
        click.echo(f"deleted {report.deleted_at_23} signals (child turned 23)")
        click.echo(f"forgot {report.children_forgotten} children in the audit log")
        click.echo(f"purged {report.idempotency_keys_purged} expired idempotency keys")

    _emit(
        as_json,
        {
            "archived": report.archived,
            "deleted": report.deleted,
            "deletedExpired": report.deleted_expired,
            "deletedAt23": report.deleted_at_23,
            "childrenForgotten": report.children_forgotten,
            "idempotencyKeysPurged": report.idempotency_keys_purged,
        },
        plain,
    )
