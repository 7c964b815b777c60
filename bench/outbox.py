"""``python -m bench.outbox``: how fast the outbox worker delivers, with one and two workers.

Queues N webhook calls and N e-mails (ids only, as the service would) on a fresh PostgreSQL
database, then runs ``verwijsindex worker --once`` processes against a local HTTP receiver
and a local SMTP sink (bench/smtp_sink.py), and reports deliveries per second and whether every
notification arrived exactly once. The receivers answer at once, so this measures the
worker's own cost (claim, deliver, settle, audit): a slow receiver costs its own latency
per delivery, times the number of workers.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.db import drop_database, recreate_database
from bench.smtp_sink import smtp_sink
from tests.servers import http_receiver
from verwijsindex.config import Settings
from verwijsindex.crypto import ensure_keys, load_keys
from verwijsindex.db import Database
from verwijsindex.migrate import upgrade
from verwijsindex.notify.webhooks import new_signing_secret
from verwijsindex.repository import Outgoing
from verwijsindex.services import Core
from verwijsindex.services import admin as admin_service

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/verwijsindex_bench_outbox"


def queue(core: Core, receiver_url: str, count: int) -> None:
    organisation = admin_service.create_organisation(core, "Bench school", "onderwijs")
    client = admin_service.create_system_client(core, organisation.id)
    person = admin_service.create_professional(
        core,
        organisation.id,
        name="Bench",
        email="bench@example.org",
        phone="+31 20 555 0101",
        roles=["professional"],
        password=None,
    ).professional
    with core.transaction(write=True) as tx:
        subscription = tx.webhooks.add_subscription(
            client.client_id, receiver_url, ["match.created"], new_signing_secret(), tx.now
        )
        payload = (
            '{"type":"match.created","data":{"matchId":"00000000-0000-0000-0000-000000000000"}}'
        )
        rows = [Outgoing("webhook", "match.created", payload, subscription_id=subscription.id)]
        rows += [
            Outgoing(
                "email",
                "match_created",
                '{"matchId":"00000000-0000-0000-0000-000000000000"}',
                professional_id=person.id,
            )
        ]
        tx.outbox.queue(rows * count, tx.now)
        tx.commit()


def run(workers: int, count: int, url: str) -> None:
    with tempfile.TemporaryDirectory() as keys, smtp_sink() as inbox, http_receiver() as receiver:
        recreate_database(url)
        ensure_keys(Path(keys))
        upgrade(url)
        settings = Settings(database_url=url, keys_dir=Path(keys), environment="development")
        core = Core(settings, Database(url), load_keys(Path(keys)))
        queue(core, receiver.url, count)
        env = {
            **os.environ,
            "VERWIJSINDEX_DATABASE_URL": url,
            "VERWIJSINDEX_KEYS_DIR": keys,
            "VERWIJSINDEX_ENVIRONMENT": "development",
            "VERWIJSINDEX_SMTP_URL": inbox.url,
        }
        command = [sys.executable, "-m", "verwijsindex", "worker", "--once", "--json"]
        started = time.perf_counter()
        processes = [
            subprocess.Popen(command, env=env, stdout=subprocess.PIPE) for _ in range(workers)
        ]
        for process in processes:
            process.communicate()
        elapsed = time.perf_counter() - started
        ids = Counter(r.headers["webhook-id"] for r in receiver.requests)
        exactly_once = len(ids) == count and set(ids.values()) == {1} and inbox.messages == count
        print(
            f"{workers} worker(s): {2 * count} deliveries in {elapsed:.1f} s = "
            f"{2 * count / elapsed:.0f}/s; every notification exactly once: {exactly_once}"
        )
        core.database.dispose()
        drop_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.outbox", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--count", type=int, default=1000, help="webhook calls and as many mails")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    args = parser.parse_args()
    for workers in (1, 2):
        run(workers, args.count, args.database_url)


if __name__ == "__main__":
    main()
