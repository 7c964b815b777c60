"""The `verwijsindex` command group and what every command shares.

Every command reads its settings from `VERWIJSINDEX_*`, prints one JSON object with
`--json`, and turns expected failures into a sentence and an exit status, never a traceback.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click

from verwijsindex.audit import RequestContext, request_context
from verwijsindex.config import ConfigError, Settings
from verwijsindex.crypto import KeyFileError, load_keys
from verwijsindex.db import Database
from verwijsindex.domain import DomainError, InvalidInput
from verwijsindex.services import Core

EXIT_INVALID = 2


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@contextmanager
def command_core() -> Iterator[Core]:
    """Settings, keys and database for one command, with expected errors made readable."""
    try:
        settings = Settings.from_env()
        # Keys first: without them the command cannot work, and opening the database
        # first would leave an empty `instance/` behind in whatever folder it ran from.
        keys = load_keys(settings.keys_dir)
        core = Core(settings, Database(settings.database_url), keys)
    except (ConfigError, KeyFileError) as error:
        fail(str(error), EXIT_INVALID)
    try:
        yield core
    except InvalidInput as error:
        for problem in error.problems:
            click.echo(f"error: {problem.name}: {problem.reason}", err=True)
        sys.exit(EXIT_INVALID)
    except DomainError as error:
        fail(error.detail)
    finally:
        core.database.dispose()


def emit(as_json: bool, data: dict[str, Any], plain: Callable[[], None]) -> None:
    if as_json:
        click.echo(json.dumps(data))
    else:
        plain()


def print_table(header: list[str], rows: list[list[str]]) -> None:
    """Left-aligned columns, widest value wide, for people reading a terminal (the last
    column unpadded, so long names do not push trailing spaces); "(none)" for no rows."""
    if not rows:
        click.echo("(none)")
        return
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]))


def parse_uuid(value: str, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        fail(f"{name} must be a UUID", EXIT_INVALID)


@click.group()
@click.version_option(
    package_name="verwijsindex", prog_name="verwijsindex", message="%(prog)s %(version)s"
)
def main() -> None:
    """verwijsindex: a privacy-preserving referral index for Dutch youth care."""
    request_context.set(RequestContext("cli", str(uuid.uuid4())))
