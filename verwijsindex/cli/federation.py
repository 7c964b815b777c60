"""`verwijsindex federation …`: this installation's part in the federation (any mode)."""

from __future__ import annotations

import click

from verwijsindex.cli.base import EXIT_INVALID, command_core, emit, fail, main
from verwijsindex.config import ConfigError, Settings


@main.group()
def federation() -> None:
    """Federation between regions (docs/federation.md)."""


@federation.command("public-key")
def public_key() -> None:
    """Print this installation's federation public key (PEM), made on first use: give it
    to the hub and the key holder to enrol (and, from the hub, to every region)."""
    from verwijsindex.federation.identity import public_pem, signing_key

    try:
        settings = Settings.from_env()
    except ConfigError as error:
        fail(str(error), EXIT_INVALID)
    click.echo(public_pem(signing_key(settings.keys_dir).public_key()), nl=False)


@federation.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def status(as_json: bool) -> None:
    """A federating region's queue: blinded pseudonyms waiting for the key holder,
    children waiting to be published, the last publish and the hub's notice cursor."""
    from verwijsindex.services.federation_sync import pending_counts

    with command_core() as core:
        if not core.federation.region_enabled:
            fail(
                "this installation does not federate (set VERWIJSINDEX_FEDERATION_NAME, "
                "_HUB_URL and _KEYHOLDER_URL)",
                EXIT_INVALID,
            )
        counts = pending_counts(core)
    emit(
        as_json,
        counts,
        lambda: click.echo(
            f"pending evaluations: {counts['pendingEvaluations']}\n"
            f"queued publishes: {counts['queuedPublishes']}\n"
            f"last publish: {counts['lastPublish'] or 'never'}\n"
            f"notice cursor: {counts['noticeCursor']}"
        ),
    )


@federation.command("reconcile")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def reconcile_command(as_json: bool) -> None:
    """Queue every child whose state differs from what was last published to the hub (the
    worker publishes them); `verwijsindex maintenance` runs this too."""
    from verwijsindex.services.federation_sync import reconcile

    with command_core() as core:
        if not core.federation.region_enabled:
            fail("this installation does not federate", EXIT_INVALID)
        queued = reconcile(core)
    emit(
        as_json,
        {"queued": queued},
        lambda: click.echo(f"queued {queued} children for publishing"),
    )
