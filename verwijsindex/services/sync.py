"""`PUT /sync/signals`: a system client states the complete set of signals it holds; the
index accepts it as a *run* and `verwijsindex worker` applies it (`services.sync_runs`).

Before the 202, every item is validated exactly like `POST /signals` and pseudonymised
(`services.bulk.desired_signal`), and its professional is checked against the client's
organisation (active, role `professional`). An item that fails is not a failed request: it
goes into the run's report as an error, with its index, its `externalRef` and its problems,
and is skipped. What is refused as a whole (400) is a body whose items cannot be told apart:
an `externalRef` missing, not 1 to 100 characters, or used twice.

What the run keeps (see `models.sync`): pseudonyms, the keyed digest of each `externalRef`,
sealed justifications, and a sealed copy of each `externalRef` only for as long as the item
may still be reported as an error. No BSN, and no unkeyed hash of one.

An item in error keeps the signal it already has: its reference is still *present* in the
client's set, so closing the absent signals passes it by. The source meant to keep that
signal; only this version of it could not be applied.

Most of a nightly body restates what the index holds. Before any of that work, each item's
keyed fingerprint is compared with the one its reference's active signal carries (one
statement for the whole body), and an item that has not changed is `unchanged` at once: not
validated, pseudonymised nor queued again (`services.sync_unchanged` says when that is
exactly what applying it would have done, and how the client's runs stay in order). The run
keeps only the reference digests of those items, for closing the absent signals; and when
nothing is left to apply nor to close, it is recorded `done` at once, with its report and
its audit records, and no worker is needed. A second identical sync of 10,000 items so costs
reading the body, one keyed hash per item and one query.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from verwijsindex.audit import AuditEntry
from verwijsindex.db import with_retries
from verwijsindex.domain import Informatieplicht, InvalidInput, NotFound, Problem
from verwijsindex.federation.staged import StagedPseudonym
from verwijsindex.repository.sync_runs import NewItem, RunError, SyncRun
from verwijsindex.services.auth import SystemCaller
from verwijsindex.services.bulk import (
    MAX_EXTERNAL_REF_LENGTH,
    DesiredSignal,
    Feed,
    Roster,
    desired_signal,
    external_ref_digest,
    roster,
)
from verwijsindex.services.core import Core
from verwijsindex.services.refusals import Refusal, records_refusals
from verwijsindex.services.sync_unchanged import NOTHING, Passed, fingerprints, pass_by

__all__ = ["MAX_ITEMS", "RunError", "RunView", "SyncItem", "accept_sync", "get_run"]

MAX_ITEMS = 10_000
NOT_OURS = "Not an active professional of your organisation."
_NO_ONE = uuid.UUID(int=0)  # stands in for a missing professional while validating the rest


@dataclass(frozen=True, slots=True)
class SyncItem:
    """One item of the body as the API read it: JSON types checked, nothing more.

    A field the API found missing or malformed is None and its problem is in `problems`
    (names relative to the item, as in the report: `bsn`, `informatieplicht.childInformed`).
    """

    external_ref: str
    professional_id: uuid.UUID | None
    bsn: str | None
    birth_date: date | None
    parent_bsns: Sequence[str] | None
    informatieplicht: Informatieplicht | None
    problems: Sequence[Problem] = ()


@dataclass(frozen=True, slots=True)
class RunView:
    """A run as its client sees it (`GET /sync/runs/{id}`)."""

    id: uuid.UUID
    status: str
    dry_run: bool
    total: int
    processed: int
    created: int
    updated: int
    closed: int
    unchanged: int
    accepted_at: datetime
    finished_at: datetime | None
    failure: str | None
    errors: list[RunError] = field(default_factory=list)


def _view(run: SyncRun, errors: list[RunError]) -> RunView:
    return RunView(
        run.id,
        run.status,
        run.dry_run,
        run.total,
        run.processed,
        run.created,
        run.updated,
        run.closed,
        run.unchanged,
        run.accepted_at,
        run.finished_at,
        run.failure if run.status == "failed" else None,
        errors,
    )


def body_problems(items: Sequence[SyncItem]) -> list[Problem]:
    """What makes the body as a whole unusable: references missing, too long, or repeated
    (naming both places, so the source can find them)."""
    problems: list[Problem] = []
    if len(items) > MAX_ITEMS:
        problems.append(Problem("signals", f"At most {MAX_ITEMS:,} signals per request."))
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        name = f"signals[{index}].externalRef"
        if not 1 <= len(item.external_ref) <= MAX_EXTERNAL_REF_LENGTH:
            problems.append(Problem(name, f"Between 1 and {MAX_EXTERNAL_REF_LENGTH} characters."))
        elif item.external_ref in first:
            problems.append(
                Problem(
                    name,
                    f"The same as signals[{first[item.external_ref]}].externalRef: each "
                    "externalRef must be unique within the body.",
                )
            )
        else:
            first[item.external_ref] = index
    return problems


def accept_sync(
    core: Core, caller: SystemCaller, items: Sequence[SyncItem], *, dry_run: bool
) -> RunView:
    """Validate and pseudonymise every item that changed, and queue the run; the report's
    errors are known at once. Items unchanged since the last sync are passed by
    (`services.sync_unchanged`), and a run with nothing left to apply is done at once.
    Raises `InvalidInput` (400) only for `body_problems`."""
    problems = body_problems(items)
    if problems:
        raise InvalidInput(problems, "The body cannot be accepted; see invalidParams.")
    feed = Feed(caller.organisation_id, caller.client_id)
    staff = roster(core, caller.organisation_id)
    prints = fingerprints(core, feed, items)
    passed = pass_by(core, caller.client_id, staff, items, prints)
    digests = [
        passed.refs.get(index) or external_ref_digest(core, feed, item.external_ref)
        for index, item in enumerate(items)
    ]
    body = _Body(feed, staff, items, digests, prints)
    stored = _store(core, caller, body, passed, dry_run=dry_run)
    if stored is None:  # another run of the client was accepted meanwhile: compare nothing
        stored = _store(core, caller, body, NOTHING, dry_run=dry_run)
    assert stored is not None
    run, refused = stored
    return _view(run, [RunError(i.position, i.external_ref, list(i.problems)) for i in refused])


@dataclass(frozen=True, slots=True)
class _Body:
    feed: Feed
    staff: Roster
    items: Sequence[SyncItem]
    digests: Sequence[str]
    prints: Sequence[str | None]


def _store(
    core: Core, caller: SystemCaller, body: _Body, passed: Passed, *, dry_run: bool
) -> tuple[SyncRun, list[NewItem]] | None:
    """Accept the items not passed by, and record the run: queued, or done when nothing is
    pending and nothing is to be closed. None, having stored nothing, when `passed` was
    compared and another run of the client was accepted since."""
    staged: list[StagedPseudonym] = []  # federation on: blinded child and parents
    accepted = [
        _accept(core, body, index, item, staged)
        for index, item in enumerate(body.items)
        if index not in passed.refs
    ]
    done = passed.compared and not passed.absent(body.digests) and all(i.problems for i in accepted)
    if passed.refs and not done:
        # Present for closing the absent signals: their references, and nothing else.
        accepted += [
            NewItem(i, body.items[i].external_ref, ref, unchanged=True)
            for i, ref in passed.refs.items()
        ]
    run_id = uuid.uuid4()

    def attempt() -> SyncRun | None:
        with core.transaction(write=True, actor=caller) as tx:
            number = tx.sync_runs.next_number(caller.client_id)
            if passed.compared and number != (passed.latest_run or 0) + 1:
                return None
            tx.sync_runs.add_run(
                run_id,
                client_id=caller.client_id,
                organisation_id=caller.organisation_id,
                number=number,
                dry_run=dry_run,
                items=accepted,
                now=tx.now,
                total=len(body.items),
                unchanged=len(passed.refs),
                done=done,
            )
            tx.staged_pseudonyms.extend(staged)
            tx.record(AuditEntry("sync-run:create", "sync-run", run_id))
            if done:
                tx.record(AuditEntry("sync-run:apply", "sync-run", run_id))
            run = tx.sync_runs.run(run_id)
            assert run is not None
            tx.commit()
            return run

    run = with_retries(attempt)
    return None if run is None else (run, [i for i in accepted if i.problems])


def _accept(
    core: Core, body: _Body, index: int, item: SyncItem, staged: list[StagedPseudonym]
) -> NewItem:
    """The item as the run keeps it: pseudonymised, or with every problem it has."""
    problems = list(item.problems)
    if item.professional_id is not None and item.professional_id not in body.staff:
        problems.append(Problem("professionalId", NOT_OURS))
    digest = body.digests[index]
    refused = NewItem(index, item.external_ref, digest, problems)
    try:
        desired = desired_signal(
            core,
            position=index,
            professional_id=item.professional_id or _NO_ONE,
            bsn=item.bsn,
            birth_date=item.birth_date,
            parent_bsns=item.parent_bsns or (),
            informatieplicht=item.informatieplicht,
            external_ref=None,  # digested above, the same way
            feed=body.feed,
        )
    except InvalidInput as invalid:
        more = [p for p in invalid.problems if not _covered(p.name, problems)]
        return replace(refused, problems=[*problems, *more])
    if problems:
        return refused
    staged.extend(desired.staged)
    return _new_item(index, item.external_ref, digest, desired, body.prints[index])


def _covered(name: str, problems: Sequence[Problem]) -> bool:
    """Whether the API already reported this field (or a part of it) as malformed: the
    engine, given None for it, would add a second, vaguer problem ("required")."""

    def within(inner: str, outer: str) -> bool:
        return inner == outer or inner.startswith((f"{outer}.", f"{outer}["))

    return any(within(p.name, name) or within(name, p.name) for p in problems)


def _new_item(
    index: int, external_ref: str, digest: str, desired: DesiredSignal, mark: str | None
) -> NewItem:
    duty = desired.informatieplicht
    postponement = duty.postponement
    return NewItem(
        position=index,
        external_ref=external_ref,
        external_ref_digest=digest,
        professional_id=desired.professional_id,
        child=desired.child,
        parents=desired.parents,
        birth_date=desired.birth_date,
        child_informed=duty.child_informed,
        parents_informed=duty.parents_informed,
        postponement_reason=postponement.reason.value if postponement else None,
        justification=postponement.justification if postponement else None,
        review_on=postponement.review_on if postponement else None,
        fingerprint=mark,
    )


@records_refusals
def get_run(core: Core, caller: SystemCaller, run_id: uuid.UUID) -> RunView:
    """The client's own run with its report so far; another client's run is a 404."""
    with core.transaction(write=True, actor=caller) as tx:
        run = tx.sync_runs.run(run_id)
        if run is None or run.client_id != caller.client_id:
            raise Refusal(
                NotFound("No such sync run."), AuditEntry("sync-run:read", "sync-run", run_id)
            )
        errors = tx.sync_runs.errors(run_id)
        tx.record(AuditEntry("sync-run:read", "sync-run", run_id))
        tx.commit()
    return _view(run, errors)
