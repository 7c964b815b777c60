"""Operations: the audit log, personal tokens, the daily lifecycle run."""

from __future__ import annotations

import sys

import click

from verwijsindex.audit import RequestContext, request_context
from verwijsindex.cli.base import command_core, emit, main, parse_uuid
from verwijsindex.services.auth import personal_token


@main.group()
def audit() -> None:
    """The tamper-evident audit log (privacy officer)."""


@audit.command("verify")
def audit_verify() -> None:
    """Walk the hash chain; exit 1 naming the first bad record if it was tampered with."""
    from verwijsindex.services.audit_log import verify_audit_log

    with command_core() as core:
        result = verify_audit_log(core)
    if result.ok:
        click.echo(f"audit log intact: {result.checked} records verified")
        return
    where = f"record seq {result.first_bad_seq}" if result.first_bad_seq else "the chain's head"
    click.echo(
        f"audit log BROKEN at {where}: {result.reason} "
        f"({result.checked} records before it verified)",
        err=True,
    )
    sys.exit(1)


@main.command()
@click.option("--professional", "professional_id", required=True, help="Professional id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def token(professional_id: str, as_json: bool) -> None:
    """Print a personal bearer token (development and tests; valid for an hour)."""
    with command_core() as core:
        issued = personal_token(core, parse_uuid(professional_id, "--professional"))
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
    that are due (follow-up, informatieplicht review); safe to repeat.

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

    with command_core() as core:
        report = run_maintenance(core, progress=progress)

    def plain() -> None:
        click.echo(f"archived {report.archived} signals (active period over)")
        click.echo(f"deleted {report.deleted_expired} signals (archive period over)")
        click.echo(f"deleted {report.deleted_at_23} signals (child turned 23)")
        click.echo(f"forgot {report.children_forgotten} children in the audit log")
        click.echo(f"purged {report.idempotency_keys_purged} expired idempotency keys")
        click.echo(f"reminded {report.follow_up_reminders} participants to follow up a match")
        click.echo(f"reminded {report.review_reminders} authors of a passed review date")
        click.echo(f"purged {report.notifications_purged} finished notifications")

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
        },
        plain,
    )
