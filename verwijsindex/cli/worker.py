"""`verwijsindex worker`: delivers the outbox (e-mail and webhooks) and applies the queued
sync runs until stopped."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import click

from verwijsindex.cli.base import command_core, emit, main


@main.command()
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0.05, max=60),
    default=1.0,
    show_default=True,
    help="Seconds to wait when nothing is due.",
)
@click.option("--json", "as_json", is_flag=True, help="With --once: print one JSON object.")
def worker(once: bool, poll_interval: float, as_json: bool) -> None:
    """Deliver queued notifications, retrying failures with backoff for at least 24 hours;
    apply the sync runs source systems queue (PUT /sync/signals); run the audit-chain
    verifications privacy officers queue, and anchor a checkpoint hourly.

    Run one or more (they share the work safely) beside `serve`. Mails need
    VERWIJSINDEX_SMTP_URL; without it they wait in the outbox and only webhooks go out.
    Stops cleanly on SIGTERM or Ctrl-C, after the delivery in hand.
    """
    from verwijsindex.services.delivery import Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    with command_core() as core:
        delivering = Worker.from_settings(core)
        if once:
            # Runs first: the matches they form queue the notifications delivered next.
            runs = delivering.apply_sync_runs()
            published = delivering.federate()
            outcomes = delivering.run_until_idle()
            verifications = delivering.verify_queued()
            counts: dict[str, int] = {}
            for outcome in outcomes:
                counts[outcome.status] = counts.get(outcome.status, 0) + 1
            emit(
                as_json,
                {
                    "attempted": len(outcomes),
                    **counts,
                    "verificationsRun": verifications,
                    "syncRunsApplied": runs,
                    "federationPublished": published,
                },
                lambda: click.echo(
                    f"applied {runs} sync runs; attempted {len(outcomes)} deliveries: "
                    + (", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none due")
                    + f"; ran {verifications} audit-chain verifications"
                ),
            )
            return
        if core.settings.smtp_url is None:
            click.echo(
                "worker: VERWIJSINDEX_SMTP_URL is not set; mails wait in the outbox", err=True
            )
        stop = threading.Event()

        def stop_on_signal(signum: int, frame: FrameType | None) -> None:
            click.echo("worker: stopping after the delivery in hand", err=True)
            stop.set()

        signal.signal(signal.SIGTERM, stop_on_signal)
        signal.signal(signal.SIGINT, stop_on_signal)
        click.echo(f"worker: delivering (polling every {poll_interval:g} s)", err=True)
        delivering.run_forever(stop, poll_interval)
