"""The ``bulk`` part of ``python -m bench.signals``: signals per second through the CSV import
and through ``PUT /api/v1/sync/signals``, against single ``POST /api/v1/signals``, in one run.

Issue 12's targets: bulk ≥ 10× faster per signal than single POSTs, a second identical sync of
10 000 items (nothing changed) in under 10 % of the first's time, and the import's peak memory.

On one freshly migrated database (PostgreSQL, the benchmark's own):

1. ``post``: the POST load of the ``ours`` part (wrk, same connections and duration), on this
   database, as the per-signal reference of this run;
2. ``import``: ``verwijsindex import FILE.csv --organisation ID --json`` in a subprocess, on a
   generated file of ``--bulk-signals`` rows (every 20th row a second professional on the row
   before's child: a client match; 40 % of rows with two parents, consecutive ones sharing them:
   family matches), timed, with the child process's peak RSS from ``wait4``;
3. ``sync``: the same number of other children through the API: ``--bulk-signals / 10 000`` system
   clients each ``PUT`` 10 000 items (the contract's maximum per body), applied by a
   ``verwijsindex worker`` that runs beside the server throughout, as deployed; timed from the
   first PUT until every run reads ``done``. So a run is applied while the next client's body is
   still being validated, as in production, and no process start-up is timed. (Until
   2026-11-30 the worker was started with ``--once`` after the last PUT: PUTs and applying in
   series, plus the worker's start-up; that gave 8.5× POST where this gives the deployed
   figure.) The first client's run is timed on its own first (``first_sync``) and, once
   everything is in, sent again unchanged (``second_sync``): done in its 202 already.

Matches formed by bulk rows queue mails in the outbox like any other; no SMTP server is set, so
they wait there and cost only their INSERTs, as with the single POSTs.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import db, service
from bench.bsn import CHILD_SPAN, child_bsns, parent_pair

if TYPE_CHECKING:
    from bench.signals import Runner

SYNC_BODY_ITEMS = 10_000  # the contract's maximum per PUT /sync/signals
POLL_S = 0.1  # how often the worker looks for runs, and the benchmark for their end
PROFESSIONALS = 10
CLIENT_MATCH_EVERY = 20  # every 20th row: another professional on the previous row's child
WITH_PARENTS_PERCENT = 40
BIRTH_DATE = "2015-03-14"


def bulk(runner: Runner) -> dict[str, Any]:
    """Measure POST, CSV import and sync on one database; see the module doc."""
    url = runner.args.database_url
    n = runner.args.bulk_signals
    db.recreate_database(url)
    keys = runner.workdir / f"keys-bulk-{secrets.token_hex(4)}"
    keys.mkdir()
    env = service.service_env(url, keys)
    setup = service.prepare(env)
    professionals = [*setup.professional_ids, *_more_professionals(env, setup.organisation_id)]
    out: dict[str, Any] = {"signals": n, "professionals": len(professionals)}

    # Children for the import and the sync: far from where the POST load's counter starts.
    children = child_bsns((runner.offset + CHILD_SPAN // 2) % CHILD_SPAN)
    with runner.serve_ours("ours-bulk", env, setup.professional_ids) as (srv, tokens):
        print("  single POSTs (the reference of this run)", flush=True)
        out["post"] = runner.post_load(srv.base_url, (tokens[0], tokens[1]))["post"]

    csv_file = runner.workdir / "bulk.csv"
    _write_csv(csv_file, islice(children, n), professionals, n)
    out["import"] = _import(env, csv_file, setup.organisation_id, n)

    clients = [_client(env, setup.organisation_id) for _ in range(max(1, n // SYNC_BODY_ITEMS))]
    bodies = [
        _sync_body(islice(children, SYNC_BODY_ITEMS), professionals, start=i * SYNC_BODY_ITEMS)
        for i in range(len(clients))
    ]
    with runner.serve_ours("ours-sync", env, []) as (srv, _), _running_worker(env, runner.workdir):
        bearers = [_client_token(srv.base_url, c) for c in clients]
        out["first_sync"] = _sync(env, srv.base_url, bearers[:1], bodies[:1])
        rest = _sync(env, srv.base_url, bearers[1:], bodies[1:]) if len(clients) > 1 else None
        out["second_sync"] = _sync(env, srv.base_url, bearers[:1], bodies[:1])
    out["sync"] = _combined(out["first_sync"], rest)
    out["ratios"] = _ratios(out)
    _print_summary(out)
    return out


# -- set-up ----------------------------------------------------------------------------------


def _more_professionals(env: Mapping[str, str], organisation_id: str) -> list[str]:
    made = []
    for i in range(PROFESSIONALS - 2):
        made.append(
            json.loads(
                service.run_cli(
                    [
                        "admin",
                        "create-professional",
                        "--organisation",
                        organisation_id,
                        "--name",
                        f"Bulk professional {i}",
                        "--email",
                        f"bulk-{i}@example.org",
                        "--phone",
                        "0201234567",
                        "--json",
                    ],
                    env,
                )
            )["id"]
        )
    return made


def _client(env: Mapping[str, str], organisation_id: str) -> tuple[str, str]:
    made = json.loads(
        service.run_cli(
            ["admin", "create-client", "--organisation", organisation_id, "--json"], env
        )
    )
    return str(made["client_id"]), str(made["client_secret"])


def _client_token(base_url: str, client: tuple[str, str]) -> str:
    form = urllib.parse.urlencode(
        {"grant_type": "client_credentials", "client_id": client[0], "client_secret": client[1]}
    ).encode()
    request = urllib.request.Request(  # noqa: S310 (our own gunicorn on loopback)
        f"{base_url}/api/v1/oauth/token", data=form, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return str(json.load(response)["access_token"])


# -- the data --------------------------------------------------------------------------------


def _rows(children: Iterator[str], professionals: list[str], start: int) -> Iterator[list[str]]:
    """professional, bsn, parentBsns per row, with the client and family matches of the doc."""
    previous = ""
    for offset, child in enumerate(children):
        i = start + offset
        professional = professionals[i % len(professionals)]
        if i % CLIENT_MATCH_EVERY == CLIENT_MATCH_EVERY - 1 and previous:
            child = previous  # another professional (i differs by one) on the previous child
        parents = ""
        if i % 100 < WITH_PARENTS_PERCENT:
            parents = " ".join(parent_pair(i // 2))  # rows 2k and 2k+1 share their parents
        previous = child
        yield [professional, child, parents]


def _write_csv(path: Path, children: Iterator[str], professionals: list[str], n: int) -> None:
    """Semicolons and Dutch dates and booleans, as a spreadsheet export writes them; the
    `professional` column holds ids (it also takes e-mail addresses)."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, delimiter=";")
        writer.writerow(
            ["professional", "bsn", "birthDate", "parentBsns", "childInformed", "parentsInformed"]
        )
        for professional, child, parents in _rows(children, professionals, 0):
            writer.writerow([professional, child, "14-03-2015", parents, "ja", "ja"])
    print(f"  wrote {n} rows, {path.stat().st_size / 2**20:.1f} MiB", flush=True)


def _sync_body(children: Iterator[str], professionals: list[str], start: int) -> bytes:
    items = [
        {
            "externalRef": f"leerling-{start + i}",
            "professionalId": professional,
            "bsn": child,
            "birthDate": BIRTH_DATE,
            "parentBsns": parents.split() if parents else [],
            "informatieplicht": {"childInformed": True, "parentsInformed": True},
        }
        for i, (professional, child, parents) in enumerate(_rows(children, professionals, start))
    ]
    return json.dumps({"signals": items}).encode()


# -- the measurements ------------------------------------------------------------------------


def _import(env: Mapping[str, str], csv_file: Path, organisation_id: str, n: int) -> dict[str, Any]:
    argv = [
        *service.cli_argv(),
        "import",
        str(csv_file),
        "--organisation",
        organisation_id,
        "--json",
    ]
    began = time.perf_counter()
    process = subprocess.Popen(
        argv,
        env={**os.environ, **env},
        cwd=service.REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # wait4 gives this child's own peak RSS (getrusage(RUSAGE_CHILDREN) would mix in others).
    stdout_chunks: list[bytes] = []
    assert process.stdout is not None and process.stderr is not None
    stdout_chunks.append(process.stdout.read())
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - began
    if process.returncode not in (0, 1):
        raise service.ServiceError(
            f"import exited {process.returncode}: {stderr.decode(errors='replace')[-1500:]}"
        )
    report = json.loads(b"".join(stdout_chunks))
    out = {
        "seconds": round(seconds, 2),
        "signals_per_s": round(n / seconds, 1),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "exit": process.returncode,
        "report": {k: (len(v) if k == "skipped" else v) for k, v in report.items()},
    }
    print(
        f"  import   {out['signals_per_s']:8.1f} signals/s  {seconds:.1f} s  "
        f"peak RSS {out['peak_rss_mib']} MiB  {out['report']}",
        flush=True,
    )
    return out


def _put(base_url: str, bearer: str, body: bytes) -> tuple[str, str]:
    """The run's id and its status in the 202 (`done` already when nothing was left to do)."""
    request = urllib.request.Request(  # noqa: S310 (our own gunicorn on loopback)
        f"{base_url}/api/v1/sync/signals",
        data=body,
        method="PUT",
        headers={"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
            if response.status != 202:
                raise service.ServiceError(f"PUT /sync/signals answered {response.status}")
            run = json.load(response)
            return str(run["id"]), str(run["status"])
    except urllib.error.HTTPError as error:
        raise service.ServiceError(
            f"PUT /sync/signals answered {error.code}: {error.read()[:500]!r}"
        ) from None


def _run(base_url: str, bearer: str, run_id: str) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 (our own gunicorn on loopback)
        f"{base_url}/api/v1/sync/runs/{run_id}", headers={"Authorization": f"Bearer {bearer}"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        run: dict[str, Any] = json.load(response)
        return run


@contextmanager
def _running_worker(env: Mapping[str, str], log_dir: Path) -> Iterator[None]:
    """``verwijsindex worker`` polling every 0.1 s for the duration of the block; stopped with
    SIGTERM (it finishes the batch in hand) and waited for."""
    log = (log_dir / "bulk-worker.log").open("ab")
    process = subprocess.Popen(
        [*service.cli_argv(), "worker", "--poll-interval", str(POLL_S)],
        env={**os.environ, **env},
        cwd=service.REPO_ROOT,
        stdout=log,
        stderr=log,
    )
    try:
        time.sleep(2.0)  # its imports and first poll, before anything is timed
        if process.poll() is not None:
            raise service.ServiceError(f"the worker exited {process.returncode}: see {log.name}")
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _sync(
    env: Mapping[str, str], base_url: str, bearers: list[str], bodies: list[bytes]
) -> dict[str, Any]:
    """PUT each body with its client's token while the running worker applies the runs;
    timed until every run reads ``done`` (a body with nothing to apply is done in its 202)."""
    began = time.perf_counter()
    answers = [_put(base_url, b, body) for b, body in zip(bearers, bodies, strict=True)]
    run_ids = [run_id for run_id, _ in answers]
    accepted = time.perf_counter() - began
    worker = any(status != "done" for _, status in answers)
    runs = _when_done(base_url, bearers, run_ids)
    seconds = time.perf_counter() - began
    totals: dict[str, int] = {}
    for run in runs:
        for key, value in run["report"].items():
            totals[key] = totals.get(key, 0) + (len(value) if key == "errors" else int(value))
    items = SYNC_BODY_ITEMS * len(bodies)
    out = {
        "items": items,
        "seconds": round(seconds, 2),
        "accepted_seconds": round(accepted, 2),
        "worker": worker,
        "signals_per_s": round(items / seconds, 1),
        "report": totals,
    }
    print(
        f"  sync ×{len(bodies):<2} {out['signals_per_s']:8.1f} items/s  {seconds:.1f} s "
        f"(PUTs {accepted:.2f} s{'' if worker else ', done in the 202'})  {totals}",
        flush=True,
    )
    return out


def _when_done(base_url: str, bearers: list[str], run_ids: list[str]) -> list[dict[str, Any]]:
    """Each run once it is ``done``, polling the API every ``POLL_S``; a failed run, or one
    not done within an hour, stops the benchmark."""
    deadline = time.monotonic() + 3600
    finished: dict[str, dict[str, Any]] = {}
    while len(finished) < len(run_ids):
        for bearer, run_id in zip(bearers, run_ids, strict=True):
            if run_id in finished:
                continue
            run = _run(base_url, bearer, run_id)
            if run["status"] == "done":
                finished[run_id] = run
            elif run["status"] == "failed" or time.monotonic() > deadline:
                raise service.ServiceError(f"sync run {run_id} is {run['status']}")
        if len(finished) < len(run_ids):
            time.sleep(POLL_S)
    return [finished[r] for r in run_ids]


def _combined(first: dict[str, Any], rest: dict[str, Any] | None) -> dict[str, Any]:
    parts = [first] if rest is None else [first, rest]
    items = sum(p["items"] for p in parts)
    seconds = sum(p["seconds"] for p in parts)
    return {
        "items": items,
        "seconds": round(seconds, 2),
        "signals_per_s": round(items / seconds, 1),
    }


def _ratios(out: dict[str, Any]) -> dict[str, Any]:
    post = float(out["post"]["rps"])
    ratios = {
        "import_per_post": round(out["import"]["signals_per_s"] / post, 2) if post else None,
        "sync_per_post": round(out["sync"]["signals_per_s"] / post, 2) if post else None,
        "second_sync_share": round(out["second_sync"]["seconds"] / out["first_sync"]["seconds"], 3),
    }
    ratios["targets"] = {
        "import ≥ 10× POST": bool(ratios["import_per_post"] and ratios["import_per_post"] >= 10),
        "sync ≥ 10× POST": bool(ratios["sync_per_post"] and ratios["sync_per_post"] >= 10),
        "second sync < 10 % of first": ratios["second_sync_share"] < 0.10,
    }
    return ratios


def _print_summary(out: dict[str, Any]) -> None:
    r = out["ratios"]
    print(
        f"  POST {out['post']['rps']:.1f}/s; import {r['import_per_post']}× POST, "
        f"sync {r['sync_per_post']}× POST, second sync {r['second_sync_share']:.1%} of the first; "
        f"import peak RSS {out['import']['peak_rss_mib']} MiB",
        flush=True,
    )
    for target, met in r["targets"].items():
        print(f"  target {target}: {'met' if met else 'NOT MET'}", flush=True)
