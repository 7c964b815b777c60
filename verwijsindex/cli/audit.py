"""`verwijsindex audit`: verify the tamper-evident audit log, and anchor it outside the
database with signed checkpoints."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from verwijsindex.audit_verify import Verification
from verwijsindex.cli.base import EXIT_INVALID, command_core, emit, fail, main
from verwijsindex.crypto import KeyFileError


@main.group()
def audit() -> None:
    """The tamper-evident audit log (privacy officer)."""


@contextmanager
def _keys_readable() -> Iterator[None]:
    """The checkpoint key is read only here: a missing one is a sentence, not a trace."""
    try:
        yield
    except KeyFileError as error:
        fail(str(error), EXIT_INVALID)


@audit.command("verify")
@click.option(
    "--full/--incremental",
    default=True,
    show_default=True,
    help="Walk every record, or only those after the newest verified checkpoint.",
)
@click.option(
    "--anchor",
    "anchors",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also compare with the checkpoints in this file (JSON lines a witness kept).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def audit_verify(full: bool, anchors: tuple[Path, ...], as_json: bool) -> None:
    """Walk the hash chain and compare it with the newest signed checkpoint; exit 1 naming
    the first bad record if it was tampered with, truncated or rolled back.

    A successful run anchors a verified checkpoint, where `--incremental` runs start.
    """
    from verwijsindex.services.audit_chain import run_verification

    for path in anchors:
        if not path.is_file():
            fail(f"--anchor {path}: no such file", EXIT_INVALID)
    with command_core() as core, _keys_readable():
        check = run_verification(core, source="cli", full=full, extra_anchors=anchors)
    assert check is not None  # a run this command queued itself is always claimable
    result = check.verification
    emit(
        as_json,
        {
            "ok": result.ok,
            "checked": result.checked,
            "fromSeq": result.from_seq,
            "toSeq": result.to_seq if result.ok else None,
            "firstBadSeq": result.first_bad_seq,
            "reason": result.reason,
            "anchoredSeq": result.anchored_seq,
        },
        lambda: _say(check.verification, check.anchor is not None, check.start is not None),
    )
    if result.ok and check.anchor is None:
        click.echo(
            "warning: no signed checkpoint found, so truncation or rollback of the whole log "
            "cannot be detected; run `verwijsindex maintenance` or `verwijsindex audit "
            "checkpoint` regularly",
            err=True,
        )
    if not result.ok:
        sys.exit(1)


def _say(result: Verification, anchored: bool, incremental: bool) -> None:
    if result.ok:
        walked = f"records {result.from_seq}–{result.to_seq}" if incremental else "all records"
        anchor = (
            f"; the log reaches the newest checkpoint (seq {result.anchored_seq})"
            if anchored
            else ""
        )
        click.echo(f"audit log intact: {result.checked} records verified ({walked}){anchor}")
        return
    where = f"record seq {result.first_bad_seq}" if result.first_bad_seq else "the chain's head"
    if result.first_bad_seq is None and "anchor" in (result.reason or ""):
        where = "its anchor"
    click.echo(
        f"audit log BROKEN at {where}: {result.reason} "
        f"({result.checked} records before it verified)",
        err=True,
    )


@audit.command("checkpoint")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def audit_checkpoint(as_json: bool) -> None:
    """Sign the chain's current head and append it to the anchor file (and the log, and
    GET /api/v1/audit-checkpoints). Cheap: run it as often as deletions must be caught."""
    from verwijsindex.services.audit_chain import make_checkpoint

    with command_core() as core, _keys_readable():
        checkpoint = make_checkpoint(core)
    chains = [{"chain": p.chain, "seq": p.seq, "mac": p.mac} for p in checkpoint.chains]
    emit(
        as_json,
        {"id": str(checkpoint.id), "chains": chains},
        lambda: click.echo(
            f"checkpoint {checkpoint.id}: {len(chains)} chains, "
            + ", ".join(f"chain {c['chain']} at {c['seq']}" for c in chains)
        ),
    )
