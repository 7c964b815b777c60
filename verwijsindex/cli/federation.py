"""`verwijsindex federation …`: this installation's part in the federation (any mode)."""

from __future__ import annotations

import click

from verwijsindex.cli.base import EXIT_INVALID, fail, main
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
