"""Anchoring and verifying the audit chain: checkpoints, verification runs and their queue.

A verification never runs in a web request: the page queues one, and `verwijsindex worker`
(or `maintenance`, or `audit verify`) runs it. Runs are incremental by default: from the
newest *verified* checkpoint, so a daily run costs the day's records; a full run walks
everything. Every run is compared with the newest anchor (see `audit_anchor.py`), so a log
emptied or rolled back to before that anchor is reported, whichever mode.

A successful run anchors a verified checkpoint of where it ended, which is where the next
incremental run starts.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from verwijsindex.audit import AuditEntry
from verwijsindex.audit_anchor import (
    AnchorReading,
    Checkpoint,
    CheckpointReader,
    CheckpointSigner,
    anchor_directory,
    anchor_file,
    append_anchor,
    log_checkpoint,
    read_anchors,
)
from verwijsindex.audit_verify import ChainPoint, Verification
from verwijsindex.crypto import (
    CHECKPOINT_PUBLIC_KEY_FILE,
    load_checkpoint_key,
    load_checkpoint_public_key,
)
from verwijsindex.domain import Role
from verwijsindex.models import AuditCheckpointRow, AuditVerificationRow
from verwijsindex.services.core import Actor, Core

# A run's lease, extended after every batch; only a run whose worker died outlives it.
VERIFY_LEASE = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """A verification and what it was compared with."""

    verification: Verification
    anchor: tuple[ChainPoint, ...] | None  # the newest anchors; None: truncation not checkable
    start: tuple[ChainPoint, ...] | None  # where an incremental walk began; None: in full
    checkpoint: Checkpoint | None = None  # anchored after a successful run


# --- checkpoints -------------------------------------------------------------------------------


def make_checkpoint(
    core: Core, heads: Sequence[ChainPoint] | None = None, *, verified: bool = False
) -> Checkpoint:
    """Sign `heads` (default: every chain's current head) and write it the three ways.

    The anchor file first: it is the copy that counts, and it must not depend on the
    database accepting the row.
    """
    signer = CheckpointSigner(load_checkpoint_key(core.settings.keys_dir))
    if heads is None:
        with core.transaction(write=False) as tx:
            heads = tx.audit.audit_heads()
    checkpoint = signer.sign(heads, verified=verified, now=core.now())
    append_anchor(anchor_directory(core.settings.keys_dir), checkpoint)
    log_checkpoint(checkpoint)
    with core.transaction(write=True) as tx:
        tx.audit.store_checkpoint(
            checkpoint.id, checkpoint.issued_at, checkpoint.payload, checkpoint.signature
        )
        tx.commit()
    return checkpoint


def checkpoint_reader(core: Core) -> CheckpointReader:
    """Checks signatures with the public key file, as a witness would."""
    path = core.settings.keys_dir / CHECKPOINT_PUBLIC_KEY_FILE
    return CheckpointReader(load_checkpoint_public_key(path))


def read_all_anchors(core: Core, extra: Iterable[Path] = ()) -> AnchorReading:
    own = anchor_file(anchor_directory(core.settings.keys_dir))
    return read_anchors([own, *extra], checkpoint_reader(core))


# --- verifying ---------------------------------------------------------------------------------


def check_chain(
    core: Core,
    *,
    full: bool,
    extra_anchors: Iterable[Path] = (),
    on_progress: Callable[[int], None] | None = None,
) -> ChainCheck:
    """Verify against the newest anchor; a forged anchor line is itself a broken result."""
    reading = read_all_anchors(core, extra_anchors)
    if reading.forged:
        reason = (
            f"the anchor {reading.forged[0]} is not signed with this service's checkpoint "
            "key (forged or edited)"
        )
        return ChainCheck(Verification(False, 0, None, reason), None, None)
    anchor = reading.newest_heads()
    start = None if full else reading.newest_heads(verified=True)
    with core.transaction(write=False) as tx:
        result = tx.audit_log.verify(
            tx.uow.session, start=start, anchor=anchor, progress=on_progress
        )
    return ChainCheck(result, anchor, start)


class _Progress:
    """Writes a run's progress after each batch, extending its lease."""

    def __init__(self, core: Core, run_id: uuid.UUID, token: uuid.UUID) -> None:
        self.core, self.run_id, self.token = core, run_id, token

    def __call__(self, checked: int) -> None:
        with self.core.transaction(write=True) as tx:
            tx.audit.verification_progress(self.run_id, self.token, checked, tx.now + VERIFY_LEASE)
            tx.commit()


def run_verification(
    core: Core,
    *,
    source: str,
    full: bool,
    extra_anchors: Iterable[Path] = (),
    run_id: uuid.UUID | None = None,
) -> ChainCheck | None:
    """Run one verification now and record it: `run_id`, or the oldest queued one, or (no
    `run_id` and nothing queued) a new one. None when there was nothing to claim."""
    with core.transaction(write=True) as tx:
        if run_id is None and source != "worker":
            run_id = tx.audit.queue_verification(
                tx.now, source=source, full=full, requested_by=None
            )
        claimed = tx.audit.claim_verification(tx.now, tx.now + VERIFY_LEASE, run_id)
        tx.commit()
    if claimed is None:
        return None
    run_id, token, full = claimed
    check = check_chain(
        core, full=full, extra_anchors=extra_anchors, on_progress=_Progress(core, run_id, token)
    )
    with core.transaction(write=True) as tx:
        # Not an audit record: it would move the head past what was just verified, and the
        # run is on record in its own table (a person's request is audited when made).
        tx.audit.finish_verification(run_id, token, tx.now, check.verification)
        tx.commit()
    result = check.verification
    if result.ok and (check.start is None or result.to_seq > result.from_seq - 1):
        check = replace(check, checkpoint=make_checkpoint(core, result.heads, verified=True))
    return check


def run_queued_verification(core: Core) -> ChainCheck | None:
    """What the worker does: run the oldest queued verification, if any."""
    return run_verification(core, source="worker", full=False)


# --- the privacy officer -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChainStatus:
    last: AuditVerificationRow | None  # the newest finished run
    pending: AuditVerificationRow | None  # queued or running
    head_seq: int  # records in the log now, over all chains (by the head rows)


def chain_status(core: Core, actor: Actor) -> ChainStatus:
    """What the chain page shows; reads the runs and the head row, never the records."""
    actor.require(Role.PRIVACY_OFFICER)
    with core.transaction(write=False) as tx:
        status = ChainStatus(
            tx.audit.last_verification(), tx.audit.pending_verification(), tx.audit.audit_log_size()
        )
        tx.uow.session.expunge_all()
    return status


def request_verification(core: Core, actor: Actor, *, full: bool) -> uuid.UUID:
    """Queue a run for the worker; asking again while one waits queues nothing new."""
    actor.require(Role.PRIVACY_OFFICER)
    with core.transaction(write=True, actor=actor) as tx:
        run_id = tx.audit.queue_verification(tx.now, source="web", full=full, requested_by=actor.id)
        tx.record(AuditEntry("audit:verify-request", "audit_verification", run_id))
        tx.commit()
    return run_id


def list_checkpoints(
    core: Core, before: tuple[datetime, uuid.UUID] | None, limit: int
) -> tuple[list[AuditCheckpointRow], tuple[datetime, uuid.UUID] | None]:
    """A page of stored checkpoints, newest first, and the key of the next page (or None).
    The caller (a witness or privacy officer) was authenticated by the API."""
    with core.transaction(write=False) as tx:
        rows = tx.audit.checkpoints(before, limit + 1)
        tx.uow.session.expunge_all()
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].issued_at, rows[-1].id) if more and rows else None
