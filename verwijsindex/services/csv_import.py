"""`verwijsindex import` as a use case: parsed CSV rows into the bulk engine, in batches.

Rows arrive lazily (`csv_rows.CsvFile.rows`); each is resolved to a professional of the
organisation and validated and pseudonymised by the engine (`bulk.desired_signal`) at
once, and from then on only pseudonyms are held. Valid items are applied `BATCH_SIZE` at a
time, one transaction per batch (`bulk.apply_batch`), so memory and round trips stay flat
whatever the file's size. What is held for the whole file is the report and, with
`--sync`, the (professional, child pseudonym) pairs the file names: `close_absent` needs
them after the last row.

The command line acts as the service itself, for the operator who holds the keys and the
database (like `admin` commands): the audit log's actor names no one, and each item's
record names the row's professional as the one acted for (the engine does that).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from verwijsindex.audit import Who
from verwijsindex.domain import InvalidInput, NotFound, Problem
from verwijsindex.pseudonym import parse_bsn
from verwijsindex.services.bulk import (
    BATCH_SIZE,
    BulkReport,
    DesiredSignal,
    Feed,
    Roster,
    apply_batch,
    close_absent,
    desired_signal,
    roster,
)
from verwijsindex.services.core import Core
from verwijsindex.services.csv_values import CsvRow

__all__ = ["ImportOutcome", "import_rows", "organisation_name"]

# The engine names problems as `POST /signals` does; a CSV user looks for the column.
_COLUMN_OF = {
    "informatieplicht.childInformed": "childInformed",
    "informatieplicht.parentsInformed": "parentsInformed",
    # A postponement as a whole (e.g. one beside "everyone informed"): its first column.
    "informatieplicht.postponement": "postponementReason",
    "informatieplicht.postponement.reason": "postponementReason",
    "informatieplicht.postponement.justification": "justification",
    "informatieplicht.postponement.reviewOn": "reviewOn",
}
_POSTPONEMENT_COLUMNS = {"postponementReason", "justification", "reviewOn"}
# Stands in for an unresolved professional, so that the row's other problems are still found.
_NOBODY = uuid.UUID(int=0)
NO_SUCH_PROFESSIONAL = "No active professional of this organisation has this id or e-mail address."


@dataclass
class ImportOutcome:
    """The engine's report, how many data rows were read, and (`--sync`) why nothing was
    closed, if so."""

    report: BulkReport = field(default_factory=BulkReport)
    rows: int = 0
    closing_withheld: str | None = None


class EmptySync(Exception):
    """A file without rows under `--sync` would close every imported signal: refused."""


def organisation_name(core: Core, organisation_id: uuid.UUID) -> str:
    """The organisation's name, for the progress line; `NotFound` if there is none."""
    with core.transaction(write=False) as tx:
        organisation = tx.people.organisation(organisation_id)
    if organisation is None:
        raise NotFound(f"There is no organisation with id {organisation_id}.")
    return organisation.name


def import_rows(
    core: Core,
    rows: Iterable[CsvRow],
    organisation_id: uuid.UUID,
    *,
    sync: bool = False,
    dry_run: bool = False,
    migration: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportOutcome:
    """Import the rows for the organisation; `progress` is called with the rows read so far.

    With `sync`, the organisation's imported signals that the file does not name are
    closed after the last row, unless a skipped row could not be tied to a professional and
    a child (an unknown professional, an invalid BSN, an unreadable line): that row may be
    the very signal that would be closed, so the file is not known to be complete and
    nothing is closed (`closing_withheld` says so). A skipped row that *can* be tied keeps
    its signal, if it has one, open and unchanged. A file with no rows at all under `sync`
    raises `EmptySync`: a broken export must not close everything.
    """
    feed, who = Feed(organisation_id), Who(None)
    team = _Professionals(roster(core, organisation_id))
    outcome = ImportOutcome()
    report = outcome.report
    present: set[tuple[uuid.UUID, str]] = set()
    untied = 0
    batch: list[DesiredSignal] = []

    def flush() -> None:
        if batch:
            report.add(apply_batch(core, who, feed, batch, dry_run=dry_run, migration=migration))
            batch.clear()

    for row in rows:
        outcome.rows += 1
        item, problems, pair = _desired(core, team, feed, row, migration)
        if sync and pair is not None:
            present.add(pair)
        if item is None:
            report.skip(row.line, problems)
            untied += pair is None
        else:
            batch.append(item)
            if len(batch) >= BATCH_SIZE:
                flush()
        if progress is not None and outcome.rows % BATCH_SIZE == 0:
            progress(outcome.rows)
    flush()
    if progress is not None:
        progress(outcome.rows)
    if sync and outcome.rows == 0:
        raise EmptySync(
            "The file has no rows: with --sync that would close every signal imported "
            "earlier for this organisation. Nothing was changed."
        )
    if sync and untied:
        outcome.closing_withheld = (
            f"--sync closed nothing: {untied} skipped row(s) name no professional of the "
            "organisation or no valid BSN, so the file may be incomplete. Fix them and run "
            "the import again."
        )
    elif sync:
        report.closed += close_absent(core, who, feed, present, dry_run=dry_run)
    return outcome


class _Professionals:
    """The roster, remembering what each spelling in the file resolved to: a school's file
    names a few dozen professionals on a hundred thousand rows, and an e-mail address costs
    a keyed digest to look up."""

    LIMIT = 10_000  # distinct spellings remembered; a garbage column must not grow it unbounded

    def __init__(self, team: Roster) -> None:
        self._team = team
        self._found: dict[str, uuid.UUID | None] = {}

    def find(self, id_or_email: str) -> uuid.UUID | None:
        if id_or_email in self._found:
            return self._found[id_or_email]
        found = self._team.find(id_or_email)
        if len(self._found) < self.LIMIT:
            self._found[id_or_email] = found
        return found


def _desired(
    core: Core, team: _Professionals, feed: Feed, row: CsvRow, migration: bool
) -> tuple[DesiredSignal | None, list[Problem], tuple[uuid.UUID, str] | None]:
    """(the item, or None with the row's problems; the row's (professional, child) pair
    when both can be told, valid row or not)."""
    problems = list(row.problems)
    professional_id = team.find(row.professional) if row.professional else None
    if row.professional and professional_id is None:
        problems.append(Problem("professional", NO_SUCH_PROFESSIONAL))
    if not any(p.name == "line" for p in problems):
        try:
            item = desired_signal(
                core,
                position=row.line,
                professional_id=professional_id or _NOBODY,
                bsn=row.bsn,
                birth_date=row.birth_date,
                parent_bsns=row.parent_bsns,
                informatieplicht=row.informatieplicht,
                external_ref=row.external_ref,
                feed=feed,
                registered_on=row.registered_on,
                migration=migration,
            )
        except InvalidInput as error:
            problems = _merged(problems, error.problems)
        else:
            if not problems:
                return item, [], (item.professional_id, item.child)
    child = parse_bsn(row.bsn) if row.bsn else None
    if professional_id is None or child is None:
        return None, problems, None
    return None, problems, (professional_id, core.pseudonymiser.pseudonymise(child))


def _merged(found: list[Problem], engine: list[Problem]) -> list[Problem]:
    """The row's own problems, then the engine's by column, leaving out what a column's
    parse problem already says (the engine saw the unparsed value as missing)."""
    named = {p.name for p in found}
    merged = list(found)
    for problem in engine:
        column = _COLUMN_OF.get(problem.name, problem.name.partition("[")[0])
        if column in named or (column == "informatieplicht" and named & _POSTPONEMENT_COLUMNS):
            continue
        merged.append(Problem(column, problem.reason))
    return merged
