"""The database goes away under load (issue 10 item 9): a real `verwijsindex serve` with
several gunicorn workers on a private PostgreSQL cluster, signals sent from a few
threads, PostgreSQL restarted (`pg_ctl restart -m fast`) and stopped for a while, gunicorn
workers SIGKILLed. Every signal acknowledged with 201 must be there afterwards; every
other answer must be a 503 problem+json with Retry-After, never a 500; health says 503
while the database is down and 200 once it is back.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from stdnum.nl import bsn as stdnum_bsn

from tests.conftest import signal_body
from tests.private_postgres import private_postgres
from tests.served import Answer, Served, serve
from verwijsindex.cli.setup import prepare
from verwijsindex.config import Settings
from verwijsindex.crypto import load_keys
from verwijsindex.db import Database
from verwijsindex.services import Core
from verwijsindex.services import admin as admin_service
from verwijsindex.services.auth import personal_token

SENDERS = 4
MAX_REQUESTS_PER_SENDER = 1_500
LOAD_SECONDS_LIMIT = 30
BASE_URL = "http://verwijsindex.test"


def child_bsns(sender: int) -> Iterator[str]:
    """Elfproef-valid BSNs, a range of its own for each sender."""
    for number in itertools.count(sender * 10_000_000 + 100_000_000):
        candidate = f"{number:09d}"
        if stdnum_bsn.is_valid(candidate):
            yield candidate


@dataclass
class Tally:
    answers: list[Answer] = field(default_factory=list)
    created: list[str] = field(default_factory=list)  # signal ids acknowledged with 201
    unanswered: int = 0  # the connection died with a killed worker: no answer at all
    lock: threading.Lock = field(default_factory=threading.Lock)


def send_signals(
    served: Served, token: str, sender: int, stop: threading.Event, tally: Tally
) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    deadline = time.monotonic() + LOAD_SECONDS_LIMIT
    bsns = child_bsns(sender)
    for _ in range(MAX_REQUESTS_PER_SENDER):
        if stop.is_set() or time.monotonic() > deadline:
            return
        body = json.dumps(signal_body(next(bsns))).encode()
        # A key per request, as an integrator would send: a transaction retried after its
        # commit's acknowledgement was lost replays the 201 instead of a 409.
        once = {**headers, "Idempotency-Key": str(uuid.uuid4())}
        try:
            answer = served.request("POST", "/api/v1/signals", headers=once, body=body)
        except OSError:
            with tally.lock:
                tally.unanswered += 1
            time.sleep(0.05)
            continue
        with tally.lock:
            tally.answers.append(answer)
            if answer.status == 201:
                tally.created.append(json.loads(answer.body)["id"])
        if answer.status == 503:
            time.sleep(0.05)


def assert_503_problem(answer: Answer) -> None:
    assert answer.status == 503, (answer.status, answer.body[:300])
    assert answer.content_type == "application/problem+json", answer.headers
    assert int(answer.headers["retry-after"]) > 0
    assert b"Traceback" not in answer.body
    assert json.loads(answer.body)["status"] == 503


def health(served: Served) -> Answer:
    return served.request("GET", "/api/v1/health", timeout=5)


def test_signals_survive_a_database_restart_and_worker_kills_and_outage_answers_are_503(
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    with private_postgres() as cluster:
        url = cluster.create_database("verwijsindex")
        settings = Settings(database_url=url, keys_dir=tmp_path / "keys", base_url=BASE_URL)
        prepare(settings)  # keys and schema, as serve would
        core = Core(settings, Database(url), load_keys(settings.keys_dir))
        organisation = admin_service.create_organisation(core, "School A", "onderwijs").id
        tokens = []
        for number in range(SENDERS):
            created = admin_service.create_professional(
                core,
                organisation,
                name=f"Professional {number}",
                email=f"p{number}@example.org",
                phone="+31 6 1234 5678",
                roles=("professional",),
                password=None,
            )
            tokens.append(personal_token(core, created.professional.id))
        core.database.dispose()

        environment = {
            "VERWIJSINDEX_DATABASE_URL": url,
            "VERWIJSINDEX_KEYS_DIR": str(settings.keys_dir),
            "VERWIJSINDEX_BASE_URL": BASE_URL,
        }
        with serve(tmp_path, environment, workers=3) as served:
            stop, tally = threading.Event(), Tally()
            senders = [
                threading.Thread(target=send_signals, args=(served, token, n, stop, tally))
                for n, token in enumerate(tokens)
            ]
            for sender in senders:
                sender.start()
            try:
                time.sleep(1.0)
                served.kill_a_worker()
                time.sleep(1.0)
                cluster.restart_fast()
                time.sleep(1.5)
                cluster.stop_fast()
                down = [health(served) for _ in range(3)]
                time.sleep(0.5)
                served.kill_a_worker()  # a worker that dies while the database is down
                time.sleep(0.5)
                down.append(health(served))
                cluster.start()
                time.sleep(2.0)
            finally:
                stop.set()
                for sender in senders:
                    sender.join(timeout=LOAD_SECONDS_LIMIT)
            back = health(served)
        error_log = served.error_log()

        engine = create_engine(url)
        with engine.connect() as connection:
            stored = {str(row[0]) for row in connection.execute(text("SELECT id FROM signals"))}
        engine.dispose()

    statuses = [answer.status for answer in tally.answers]
    assert statuses.count(201) >= 50, (statuses.count(201), tally.unanswered)
    assert 500 not in statuses
    for answer in tally.answers:
        if answer.status != 201:
            assert_503_problem(answer)
    assert statuses.count(503) >= 1, "the outage should have been seen by the senders"
    for answer in down:
        assert_503_problem(answer)
        assert json.loads(answer.body)["database"] != "ok"
    assert back.status == 200 and json.loads(back.body) == {"status": "ok", "database": "ok"}
    missing = set(tally.created) - stored
    assert not missing, f"{len(missing)} of {len(tally.created)} acknowledged signals are lost"
    assert b"database unavailable" in error_log
    assert time.monotonic() - started < 60
