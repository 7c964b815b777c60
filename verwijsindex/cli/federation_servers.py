"""`verwijsindex keyholder …` and `verwijsindex hub …`: the federation's key holder and hub
(docs/federation.md). Both use VERWIJSINDEX_DATABASE_URL and VERWIJSINDEX_KEYS_DIR like the
region does; every command but `serve` migrates the database first."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from verwijsindex.cli.base import EXIT_INVALID, emit, fail, main, print_table
from verwijsindex.cli.setup import exec_gunicorn, port_in_use
from verwijsindex.federation.server_admin import (
    AdminError,
    Installation,
    enrol,
    hub_maintenance,
    hub_rotate,
    hub_status,
    installation,
    keyholder_rotate,
    keyholder_status,
    prepare,
    revoke,
)

T = TypeVar("T")
# As the README's federation set-up has them.
KEYHOLDER_PORT = 8091
HUB_PORT = 8090
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")


@contextmanager
def _installation(mode: str) -> Iterator[Installation]:
    try:
        with installation(mode) as found:
            yield found
    except AdminError as error:
        fail(str(error), error.code)


def _serve(mode: str, host: str, port: int, workers: int | None) -> None:
    if (busy := port_in_use(host, port)) is not None:
        fail(busy, EXIT_INVALID)
    try:
        prepare(mode)
    except AdminError as error:
        fail(str(error), error.code)
    click.echo(f"verwijsindex {mode}: serving on http://{host}:{port}")
    exec_gunicorn(host, port, workers, f"verwijsindex.federation.server_wsgi:{mode}()")


def _serve_options(port: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        command = click.option(
            "--workers", default=None, type=int, help="gunicorn workers [2 × cores + 1]"
        )(command)
        command = click.option("--port", default=port, show_default=True, type=int)(command)
        return click.option("--host", default="127.0.0.1", show_default=True)(command)

    return decorate


def _print_members(found: list[dict[str, Any]]) -> None:
    print_table(
        ["member", "state", "keys", "url"],
        [
            [
                m["name"],
                "revoked" if m["revoked"] else "active",
                str(m["activeKeys"]),
                m["url"] or "-",
            ]
            for m in found
        ],
    )


# --- key holder -----------------------------------------------------------------------------


@main.group("keyholder")
def keyholder_group() -> None:
    """The federation's key holder: evaluates blinded elements for enrolled members."""


@keyholder_group.command("serve")
@_serve_options(KEYHOLDER_PORT)
def keyholder_serve(host: str, port: int, workers: int | None) -> None:
    """Create keys and migrate, then serve the key holder with gunicorn."""
    _serve("keyholder", host, port, workers)


@keyholder_group.command("enrol")
@click.argument("name")
@click.option(
    "--public-key",
    "public_key",
    required=True,
    type=click.Path(path_type=Path),
    help="The member's PEM file (`verwijsindex federation public-key` run there).",
)
def keyholder_enrol(name: str, public_key: Path) -> None:
    """Let member NAME (a region, or the hub) have elements evaluated. Enrolling again
    adds a key (for a key change) or re-activates a revoked member."""
    with _installation("keyholder") as found:
        kid = _run(lambda: enrol(found, name, public_key, None))
    click.echo(f"enrolled {name} (key {kid})")


@keyholder_group.command("revoke")
@click.argument("name")
@click.option("--kid", default=None, help="Revoke only this key (its thumbprint).")
def keyholder_revoke(name: str, kid: str | None) -> None:
    """Shut member NAME out (or only one of its keys): its calls are refused with 401."""
    with _installation("keyholder") as found:
        _run(lambda: revoke(found, name, kid))
    click.echo(f"revoked {name}" + (f" key {kid}" if kid else ""))


@keyholder_group.command("rotate")
@JSON_OPTION
def keyholder_rotate_command(as_json: bool) -> None:
    """Make key version v+1 and current; then run `verwijsindex hub rotate` at the hub."""
    with _installation("keyholder") as found:
        version = _run(lambda: keyholder_rotate(found))
    emit(
        as_json,
        {"keyVersion": version},
        lambda: click.echo(
            f"key version {version} is current; now run `verwijsindex hub rotate` at the hub"
        ),
    )


@keyholder_group.command("status")
@JSON_OPTION
def keyholder_status_command(as_json: bool) -> None:
    """Current key version, enrolled members and this minute's evaluations."""
    with _installation("keyholder") as found:
        status = _run(lambda: keyholder_status(found))

    def plain() -> None:
        click.echo(f"key holder {status['name']}: key version {status['keyVersion']}")
        _print_members(status["members"])
        for member, count in status["usageThisMinute"].items():
            click.echo(f"{member}: {count} elements this minute")

    emit(as_json, status, plain)


# --- hub ------------------------------------------------------------------------------------


@main.group("hub")
def hub_group() -> None:
    """The federation's hub: pointers between regions, tickets and notices."""


@hub_group.command("serve")
@_serve_options(HUB_PORT)
def hub_serve(host: str, port: int, workers: int | None) -> None:
    """Create keys and migrate, then serve the hub with gunicorn."""
    _serve("hub", host, port, workers)


@hub_group.command("enrol")
@click.argument("name")
@click.option(
    "--public-key",
    "public_key",
    required=True,
    type=click.Path(path_type=Path),
    help="The region's PEM file (`verwijsindex federation public-key` run there).",
)
@click.option("--url", required=True, help="Where other regions reach this region.")
def hub_enrol(name: str, public_key: Path, url: str) -> None:
    """Let region NAME publish and look up; other regions reach it at URL."""
    with _installation("hub") as found:
        kid = _run(lambda: enrol(found, name, public_key, url))
    click.echo(f"enrolled {name} (key {kid}) at {url.rstrip('/')}")


@hub_group.command("revoke")
@click.argument("name")
@click.option("--kid", default=None, help="Revoke only this key (its thumbprint).")
def hub_revoke(name: str, kid: str | None) -> None:
    """Shut region NAME out: its calls get 401 and its pointers are no counterpart."""
    with _installation("hub") as found:
        _run(lambda: revoke(found, name, kid))
    click.echo(f"revoked {name}" + (f" key {kid}" if kid else ""))


@hub_group.command("rotate")
@JSON_OPTION
def hub_rotate_command(as_json: bool) -> None:
    """Re-key every pointer to the key holder's next key version (run `verwijsindex
    keyholder rotate` there first); regions re-key when they get 409."""
    with _installation("hub") as found:
        done = _run(lambda: hub_rotate(found))
    emit(
        as_json,
        done,
        lambda: click.echo(
            f"re-keyed {done['pseudonyms']} pseudonyms from key version {done['from']} "
            f"to {done['to']}"
        ),
    )


@hub_group.command("maintenance")
@JSON_OPTION
def hub_maintenance_command(as_json: bool) -> None:
    """Delete expired pointers (notifying linked regions) and notices nobody polled for a
    month. Run it daily; safe to repeat."""
    with _installation("hub") as found:
        done = _run(lambda: hub_maintenance(found))
    emit(
        as_json,
        done,
        lambda: click.echo(
            f"deleted {done['expiredPointers']} expired pointers, "
            f"purged {done['noticesPurged']} old notices"
        ),
    )


@hub_group.command("status")
@JSON_OPTION
def hub_status_command(as_json: bool) -> None:
    """Key version, pointers, notices waiting and enrolled regions."""
    with _installation("hub") as found:
        status = _run(lambda: hub_status(found))

    def plain() -> None:
        click.echo(
            f"hub {status['name']}: key version {status['keyVersion']}, "
            f"{status['pointers']} pointers ({status['expired']} expired), "
            f"{status['notices']} notices waiting"
        )
        _print_members(status["members"])

    emit(as_json, status, plain)


def _run(work: Callable[[], T]) -> T:
    try:
        return work()
    except AdminError as error:
        fail(str(error), error.code)
