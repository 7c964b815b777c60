"""`verwijsindex import`: signals in bulk from a school's or care system's CSV export
(contract section 9). Parsing lives in `services.csv_rows`, the batched loop in
`services.csv_import`; this module is the command: options, progress, report, exit status.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from tqdm import tqdm

from verwijsindex.cli.base import EXIT_INVALID, command_core, fail, main, parse_uuid
from verwijsindex.domain import NotFound
from verwijsindex.services.bulk import BulkReport
from verwijsindex.services.csv_import import EmptySync, import_rows, organisation_name
from verwijsindex.services.csv_rows import CsvFile, CsvFileError, open_csv

EXIT_SKIPPED = 1
# Without a terminal (cron, a pipe) a line on stderr this often instead of a bar.
PROGRESS_EVERY_SECONDS = 10.0
# The human report lists this many skipped lines with their reasons; --json lists all.
SHOWN_SKIPPED = 100


@main.command("import")
@click.argument("file", metavar="FILE.csv")
@click.option("--organisation", "organisation_id", required=True, help="Organisation id")
@click.option(
    "--sync",
    is_flag=True,
    help="The file is the organisation's complete set: close imported signals it lacks.",
)
@click.option("--dry-run", is_flag=True, help="Report what would happen; change nothing.")
@click.option(
    "--migration",
    is_flag=True,
    help="Once, moving from another system: matches without mail; reads registeredOn.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def import_signals(
    file: str, organisation_id: str, sync: bool, dry_run: bool, migration: bool, as_json: bool
) -> None:
    """Import signals from FILE.csv for one organisation (contract section 9).

    The header names the columns: professional (id or e-mail), bsn, birthDate, and
    optionally parentBsns, childInformed, parentsInformed, postponementReason,
    justification, reviewOn, externalRef, registeredOn (--migration). A bad row is reported
    with its line number and skipped; running the same file again creates nothing. Exit 0:
    every row imported; 1: some rows skipped; 2: the file could not be read.
    """
    organisation = parse_uuid(organisation_id, "--organisation")
    try:
        source = open_csv(file, migration=migration)
    except CsvFileError as error:
        fail(f"{file}: {error}", EXIT_INVALID)
    with source, command_core() as core:
        try:
            name = organisation_name(core, organisation)
        except NotFound as error:
            fail(error.detail, EXIT_INVALID)
        label = f"importing {os.path.basename(file)} for {name}"
        try:
            with _progress(source, label) as progress:
                outcome = import_rows(
                    core,
                    source.rows(),
                    organisation,
                    sync=sync,
                    dry_run=dry_run,
                    migration=migration,
                    progress=progress,
                )
        except EmptySync as error:
            fail(f"{file}: {error}", EXIT_INVALID)
        except KeyboardInterrupt:
            fail(
                "interrupted: the batches applied so far stay imported; running the same "
                "file again is safe (what exists is reported unchanged)",
                130,
            )
    report = outcome.report
    if as_json:
        click.echo(json.dumps(report.as_json()))
    else:
        _print_report(report, dry_run)
    if outcome.closing_withheld:
        click.echo(f"warning: {outcome.closing_withheld}", err=True)
    sys.exit(EXIT_SKIPPED if report.skipped else 0)


@contextmanager
def _progress(source: CsvFile, label: str) -> Iterator[Callable[[int], None]]:
    """A tqdm bar over the file's bytes on a terminal (stderr), else a line now and then."""
    terminal = sys.stderr.isatty()
    size = _unsized(terminal)
    bar = tqdm(
        total=source.size,
        desc=label,
        unit="B",
        unit_scale=True,
        file=sys.stderr,
        disable=not terminal,
        leave=True,
        ncols=size[0] if size else None,
        nrows=size[1] if size else None,
    )
    last = time.monotonic()

    def update(rows: int) -> None:
        nonlocal last
        bar.update(source.position - bar.n)
        if not terminal and time.monotonic() - last >= PROGRESS_EVERY_SECONDS:
            last = time.monotonic()
            share = source.position * 100 // max(source.size, 1)
            click.echo(f"{label}: {rows:,} rows, {share}% of the file", err=True)

    try:
        yield update
    finally:
        bar.close()


def _unsized(terminal: bool) -> tuple[int, int] | None:
    """A size for a terminal that reports none (a bare pseudo terminal, as under `script`
    or in some CI runners), where tqdm would draw nothing at all; None: tqdm asks itself."""
    try:
        size = os.get_terminal_size(sys.stderr.fileno())
    except (OSError, ValueError):
        return None
    return (80, 24) if terminal and not (size.columns and size.lines) else None


def _print_report(report: BulkReport, dry_run: bool) -> None:
    skipped = sorted(report.skipped, key=lambda s: s.position)
    lines = ", ".join(str(s.position) for s in skipped[:10]) + (
        ", ..." if len(skipped) > 10 else ""
    )
    if dry_run:
        click.echo("dry run: nothing was changed; the import would have")
    click.echo(
        f"created {report.created:,}, updated {report.updated:,}, closed {report.closed:,}, "
        f"unchanged {report.unchanged:,}, skipped {len(skipped):,}"
        + (f" (line{'s' if len(skipped) > 1 else ''} {lines})" if skipped else "")
    )
    for item in skipped[:SHOWN_SKIPPED]:
        reasons = "; ".join(f"{p.name}: {p.reason}" for p in item.problems)
        click.echo(f"line {item.position}: {reasons}")
    if len(skipped) > SHOWN_SKIPPED:
        click.echo(
            f"... and {len(skipped) - SHOWN_SKIPPED:,} more skipped lines: --json lists them all"
        )
