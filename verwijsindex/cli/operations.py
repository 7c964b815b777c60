"""Operations: personal tokens, the daily lifecycle run (the audit log: `cli/audit.py`)."""

from __future__ import annotations

import sys

import click

from verwijsindex.audit import RequestContext, request_context
from verwijsindex.cli.base import EXIT_INVALID, command_core, emit, fail, main, parse_uuid
from verwijsindex.crypto import KeyFileError
from verwijsindex.services.auth import issue_personal_token


@main.command()
@click.option("--professional", "professional_id", required=True, help="Professional id")
@click.option(
    "--allow-oversight",
    is_flag=True,
    help="Also for a beheerder or privacy officer: the token carries those powers without "
    "the web UI's second factor.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def token(professional_id: str, allow_oversight: bool, as_json: bool) -> None:
    """Print a personal bearer token (development and tests; valid for an hour).

    Every token issued is on the audit record (`cli:token:issue`), and so is a refusal.
    """
    with command_core() as core:
        issued = issue_personal_token(
            core, parse_uuid(professional_id, "--professional"), allow_oversight=allow_oversight
        )
        lifetime = core.settings.token_lifetime_seconds
    emit(
        as_json,
        {"access_token": issued, "token_type": "Bearer", "expires_in": lifetime},
        lambda: click.echo(issued),
    )


# --- lifecycle ------------------------------------------------------------------------------

PROGRESS_EVERY_SECONDS = 2.0


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def maintenance(as_json: bool) -> None:
    """Archive, delete and forget what is due (contract section 6), and queue the reminders
    that are due (follow-up, informatieplicht review); safe to repeat. Then verify the audit
    log from the newest verified checkpoint and anchor a new signed checkpoint; exit 1 if
    the log is broken.

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

    from verwijsindex.services.audit_chain import make_checkpoint, run_verification
    from verwijsindex.services.federation_sync import reconcile as federation_reconcile

    with command_core() as core:
        report = run_maintenance(core, progress=progress)
        # Federation's backstop (docs/federation.md): republish what differs.
        requeued = federation_reconcile(core) if core.federation.region_enabled else None
        try:
            check = run_verification(core, source="maintenance", full=False)
            if check is not None and check.checkpoint is None:
                # Broken, or nothing new since the last verified checkpoint: anchor the
                # head as it is, so what exists now cannot silently disappear.
                make_checkpoint(core)
        except KeyFileError as error:
            fail(str(error), EXIT_INVALID)
    chain_ok = check is None or check.verification.ok

    def plain() -> None:
        click.echo(f"archived {report.archived} signals (active period over)")
        click.echo(f"deleted {report.deleted_expired} signals (archive period over)")
        click.echo(f"deleted {report.deleted_at_23} signals (child turned 23)")
        click.echo(f"forgot {report.children_forgotten} children in the audit log")
        click.echo(f"purged {report.idempotency_keys_purged} expired idempotency keys")
        click.echo(f"reminded {report.follow_up_reminders} participants to follow up a match")
        click.echo(f"reminded {report.review_reminders} authors of a passed review date")
        click.echo(f"purged {report.notifications_purged} finished notifications")
        click.echo(f"purged {report.feed_events_purged} change-feed events")
        click.echo(f"purged {report.sync_runs_purged} finished sync runs")
        click.echo(f"folded {report.statistics_rows_compacted} statistics rows of past months")
        if requeued is not None:
            click.echo(f"queued {requeued} children for federation publishing (reconcile)")
        if check is not None:
            verified = check.verification
            click.echo(
                f"verified {verified.checked} new audit records: "
                + ("intact" if verified.ok else "BROKEN")
            )

    emit(
        as_json,
        {
            "archived": report.archived,
            "deleted": report.deleted,
            "deletedExpired": report.deleted_expired,
            "deletedAt23": report.deleted_at_23,
            "childrenForgotten": report.children_forgotten,
            "idempotencyKeysPurged": report.idempotency_keys_purged,
            "followUpReminders": report.follow_up_reminders,
            "reviewReminders": report.review_reminders,
            "notificationsPurged": report.notifications_purged,
            "feedEventsPurged": report.feed_events_purged,
            "syncRunsPurged": report.sync_runs_purged,
            "statisticsRowsCompacted": report.statistics_rows_compacted,
            **({} if requeued is None else {"federationRequeued": requeued}),
        },
        plain,
    )
    if not chain_ok and check is not None:
        failed = check.verification
        click.echo(
            f"audit log BROKEN at record seq {failed.first_bad_seq}: {failed.reason}; "
            "run `verwijsindex audit verify --full` and report it",
            err=True,
        )
        sys.exit(1)
