"""Federation benchmark (issue 15): two regions each holding N signals (default 1 000 000), the
hub holding their pointers, a key holder; all real processes on loopback, each with its own
PostgreSQL database, driven through the documented commands and HTTP only.

It answers three questions and writes them to ``bench/results/federation-<UTC time>.json``:

1. **What federation adds to a registration** (``post``): ``POST /api/v1/signals`` latency in
   region A, one client, fresh children, with federation off and then on. Federation must not be
   on the request path: on is the local blinding (one ristretto255 multiplication per BSN) and
   one more INSERT plus the queued publish, never a network call.
2. **How long until the other region sees the match** (``visible``): one child registered in
   region A and then in region B; from B's 201 until A's signal shows the cliëntmatch (and B's).
   This is the worker's path: key holder evaluation, publish to the hub, ticket, participants
   from the other region, the mirrored signal and the local match.
3. **The hub's lookups per second** (``lookup``): ``POST /federation/v1/lookup`` by region A about
   children it holds, each request with a fresh signed assertion (as a region sends them), from
   several client processes, with 1 and with 100 children per request, against a hub holding
   2 × N pointers and their parents.

The N signals per region are loaded with ``bench.load`` (COPY, real keyed pseudonyms); their
federation pseudonyms are stand-ins (a ristretto255 point hashed from the local pseudonym and a
run secret: the hub cannot tell them from real ones and they never match across regions), put in
the region's ``federation_pseudonyms`` and the hub's ``hub_holdings``/``hub_holding_parents``
with COPY. The timed children go through the real OPRF path.

    python -m bench.federation                       # N = 1 000 000 per region
    python -m bench.federation --signals 10000 --duration 5 --visible 10   # a quick look
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import multiprocessing
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import rbcl

from bench import db, service
from bench.bsn import CHILD_BASE, CHILD_SPAN, check_digit
from bench.load import load_signals
from bench.measure import write_results
from bench.servers import free_port
from verwijsindex.federation.identity import Identity, b64url, signing_key

DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/verwijsindex_bench"
PARTIES = ("keyholder", "hub", "regio-a", "regio-b")
STARTUP_SECONDS = 120
SPAWN_SECONDS = 8  # the lookup clients start together this long after being launched


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.federation", description=__doc__)
    parser.add_argument("--signals", type=int, default=1_000_000, help="signals per region")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE, help="base name of the DBs")
    parser.add_argument("--posts", type=int, default=200, help="POSTs per setting (part post)")
    parser.add_argument("--visible", type=int, default=30, help="children timed (part visible)")
    parser.add_argument("--duration", type=float, default=20, help="seconds per lookup setting")
    parser.add_argument("--clients", type=int, default=4, help="lookup client processes")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--poll-seconds", type=float, default=0.2, help="regions' notice poll")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    return parser.parse_args(argv)


# -- fresh children ---------------------------------------------------------------------------


class FreshChildren:
    """Elfproef-valid BSNs far above what ``bench.load`` uses (it counts up from CHILD_BASE),
    from a random start so two runs on kept databases do not repeat a child."""

    def __init__(self) -> None:
        self.prefix = CHILD_BASE + CHILD_SPAN // 2 + secrets.randbelow(CHILD_SPAN // 4)

    def next(self) -> str:
        while True:
            self.prefix += 1
            digit = check_digit(self.prefix)
            if digit is not None:
                return f"{self.prefix:08d}{digit}"


# -- the loaded federation state ----------------------------------------------------------------


def stand_in_element(secret: bytes, local_pseudonym: str) -> str:
    """A ristretto255 point for a loaded pseudonym: what the OPRF would give, as far as the
    hub can tell (uniform, canonical), without a BSN."""
    uniform = hashlib.sha512(secret + local_pseudonym.encode()).digest()
    return b64url(bytes(rbcl.crypto_core_ristretto255_from_hash(uniform)))


def load_federation_state(
    region: str, region_url: str, hub_url: str, secret: bytes, progress: Any = sys.stderr
) -> int:
    """Give every child and parent of the region's signals a federation pseudonym (region
    side) and a pointer with its parents (hub side); returns the number of children."""
    now = datetime.now(UTC)
    expires = now + timedelta(days=730)
    began = time.monotonic()
    children = 0
    with (
        psycopg.connect(db.libpq_url(region_url)) as source,
        psycopg.connect(db.libpq_url(region_url)) as region_db,
        psycopg.connect(db.libpq_url(hub_url)) as hub_db,
        psycopg.connect(db.libpq_url(hub_url)) as hub_parents_db,
    ):
        # One COPY at a time per connection: each stream has its own.
        cursor = source.cursor(name="federation_children")
        cursor.itersize = 20_000
        cursor.execute(
            "SELECT s.child_pseudonym, array_remove(array_agg(DISTINCT p.parent_pseudonym), NULL)"
            " FROM signals s LEFT JOIN signal_parents p ON p.signal_id = s.id"
            " WHERE s.feed IS DISTINCT FROM 'fed' GROUP BY s.child_pseudonym"
        )
        seen_parents: set[str] = set()
        with (
            region_db.cursor().copy(
                "COPY federation_pseudonyms (local_pseudonym, element, key_version, created_at)"
                " FROM STDIN"
            ) as pseudonyms,
            hub_db.cursor().copy(
                "COPY hub_holdings (region, child, status, expires_at, updated_at) FROM STDIN"
            ) as holdings,
            hub_parents_db.cursor().copy(
                "COPY hub_holding_parents (region, child, parent) FROM STDIN"
            ) as parents,
        ):
            for child, parent_pseudonyms in cursor:
                element = stand_in_element(secret, child)
                pseudonyms.write_row((child, element, 1, now))
                holdings.write_row((region, element, "active", expires, now))
                for parent in parent_pseudonyms:
                    parent_element = stand_in_element(secret, parent)
                    parents.write_row((region, element, parent_element))
                    if parent not in seen_parents:
                        seen_parents.add(parent)
                        pseudonyms.write_row((parent, parent_element, 1, now))
                children += 1
                if children % 100_000 == 0:
                    rate = children / (time.monotonic() - began)
                    print(f"  {region}: {children:,} children ({rate:,.0f}/s)", file=progress)
        region_db.commit()
        hub_db.commit()
        hub_parents_db.commit()
    for url in (region_url, hub_url):
        db.analyze(url)
    print(
        f"  {region}: {children:,} children, {len(seen_parents):,} parents in "
        f"{time.monotonic() - began:.0f} s",
        file=progress,
    )
    return children


# -- processes --------------------------------------------------------------------------------


@dataclass
class Party:
    name: str
    env: dict[str, str]
    folder: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> str:
        return service.run_cli(list(args), self.env)

    def start(self, *args: str, health: str) -> None:
        log = (self.folder / "server.log").open("ab")
        self.process = subprocess.Popen(
            [*service.cli_argv(), *args, "--port", str(self.port)],
            env={**os.environ, **self.env},
            cwd=self.folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.folder / 'server.log'}")
            with contextlib.suppress(OSError):
                if request(self.port, "GET", health)[0] == 200:
                    return
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} did not answer; see {self.folder / 'server.log'}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(timeout=10)
        self.process = None


def request(
    port: int,
    method: str,
    path: str,
    body: object = None,
    headers: Mapping[str, str] | None = None,
    connection: http.client.HTTPConnection | None = None,
) -> tuple[int, Any]:
    own = connection is None
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    sent = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=data, headers=sent)
        response = conn.getresponse()
        raw = response.read()
        return response.status, (json.loads(raw) if raw else None)
    finally:
        if own:
            conn.close()


def summary(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {}
    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), 2),
        "p95": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 2),
        "max": round(ordered[-1], 2),
        "mean": round(statistics.fmean(ordered), 2),
    }


def signal_body(bsn: str) -> dict[str, Any]:
    return {
        "bsn": bsn,
        "birthDate": "2014-05-01",
        "parentBsns": [],
        "informatieplicht": {"childInformed": True, "parentsInformed": True},
    }


# -- parts ------------------------------------------------------------------------------------


def time_posts(port: int, token: str, children: FreshChildren, count: int) -> list[float]:
    """Milliseconds per POST /api/v1/signals, one client on one kept-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}"}
    times = []
    try:
        for _ in range(count):
            began = time.perf_counter()
            status, answer = request(
                port, "POST", "/api/v1/signals", signal_body(children.next()), headers, connection
            )
            times.append((time.perf_counter() - began) * 1000)
            if status != 201:
                raise RuntimeError(f"POST /api/v1/signals answered {status}: {answer}")
    finally:
        connection.close()
    return times


def has_client_match(port: int, token: str, signal_id: str) -> bool:
    status, answer = request(
        port, "GET", f"/api/v1/signals/{signal_id}", headers={"Authorization": f"Bearer {token}"}
    )
    return status == 200 and any(m["type"] == "client" for m in answer.get("matches", []))


def time_visible(
    a: Party, b: Party, tokens: tuple[str, str], children: FreshChildren, count: int
) -> dict[str, Any]:
    """Seconds from region B's 201 until A's and B's signals show the cliëntmatch."""
    in_a: list[float] = []
    in_b: list[float] = []
    for _ in range(count):
        bsn = children.next()
        headers_a = {"Authorization": f"Bearer {tokens[0]}"}
        headers_b = {"Authorization": f"Bearer {tokens[1]}"}
        status_a, signal_a = request(a.port, "POST", "/api/v1/signals", signal_body(bsn), headers_a)
        status_b, signal_b = request(b.port, "POST", "/api/v1/signals", signal_body(bsn), headers_b)
        if (status_a, status_b) != (201, 201):
            raise RuntimeError(f"POST answered {status_a} and {status_b}")
        registered = time.monotonic()
        pending = {
            "a": (a.port, tokens[0], signal_a["id"]),
            "b": (b.port, tokens[1], signal_b["id"]),
        }
        while pending:
            for side, (port, token, signal_id) in list(pending.items()):
                if has_client_match(port, token, signal_id):
                    (in_a if side == "a" else in_b).append(time.monotonic() - registered)
                    del pending[side]
            if time.monotonic() - registered > 120:
                raise RuntimeError(f"no cross-region match within 120 s ({sorted(pending)})")
            time.sleep(0.02)
    return {
        "seconds_until_visible_in_a": summary(in_a),
        "seconds_until_visible_in_b": summary(in_b),
    }


def _lookup_client(
    args: tuple[int, str, str, list[str], int, float, float, int],
) -> tuple[int, int, list[float]]:
    """One client process: lookups with fresh assertions from `start` until `deadline`
    (all clients start together, after every process has been spawned)."""
    port, name, keys_dir, children, per_request, start, deadline, seed = args
    identity = Identity(name, signing_key(Path(keys_dir)))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    time.sleep(max(0.0, start - time.time()))
    done = failed = 0
    times: list[float] = []
    position = seed
    while time.time() < deadline:
        chosen = [children[(position + i) % len(children)] for i in range(per_request)]
        position += per_request
        body = {"keyVersion": 1, "children": chosen}
        headers = {"Authorization": f"Bearer {identity.assertion('hub')}"}
        began = time.perf_counter()
        try:
            status, _ = request(port, "POST", "/federation/v1/lookup", body, headers, connection)
        except (OSError, http.client.HTTPException):
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            failed += 1
            continue
        times.append((time.perf_counter() - began) * 1000)
        if status == 200:
            done += 1
        else:
            failed += 1
    connection.close()
    return done, failed, times


def lookups_per_second(
    hub: Party, region: Party, children: list[str], per_request: int, clients: int, seconds: float
) -> dict[str, Any]:
    start = time.time() + SPAWN_SECONDS
    deadline = start + seconds
    keys_dir = region.env["VERWIJSINDEX_KEYS_DIR"]
    jobs = [
        (hub.port, region.name, keys_dir, children, per_request, start, deadline, i * 7919)
        for i in range(clients)
    ]
    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        results = pool.map(_lookup_client, jobs)
    elapsed = max(time.time(), deadline) - start
    done = sum(r[0] for r in results)
    failed = sum(r[1] for r in results)
    latencies = [t for r in results for t in r[2]]
    return {
        "children_per_request": per_request,
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": done,
        "failed": failed,
        "requests_per_second": round(done / elapsed, 1),
        "children_per_second": round(done * per_request / elapsed, 1),
        "latency_ms": summary(latencies),
    }


# -- the run ----------------------------------------------------------------------------------


@contextlib.contextmanager
def databases(base_url: str, keep: bool) -> Iterator[dict[str, str]]:
    urls = {p: db_url(base_url, p) for p in PARTIES}
    for url in urls.values():
        db.recreate_database(url)
    try:
        yield urls
    finally:
        if not keep:
            for url in urls.values():
                with contextlib.suppress(Exception):
                    db.drop_database(url)


def db_url(base_url: str, party: str) -> str:
    head, _, name = base_url.rpartition("/")
    return f"{head}/{name}_fed_{party.replace('-', '_')}"


def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-federation-"))
    print(f"bench.federation: {args.signals:,} signals per region; logs in {workdir}", flush=True)
    results: dict[str, Any] = {
        "signals_per_region": args.signals,
        "environment": {
            "cpus": os.cpu_count(),
            "loadavg_at_start": os.getloadavg(),
            "workers_per_server": args.workers,
        },
    }
    parties: dict[str, Party] = {}
    with databases(args.database_url, args.keep) as urls, contextlib.ExitStack() as stack:
        for name in PARTIES:
            folder = workdir / name
            folder.mkdir()
            env = service.service_env(urls[name], folder / "keys")
            parties[name] = Party(name, env, folder, free_port())
        keyholder, hub, a, b = (parties[p] for p in PARTIES)
        hub.env["VERWIJSINDEX_FEDERATION_KEYHOLDER_URL"] = keyholder.url
        for party in (keyholder, hub):
            party.cli("db", "upgrade")
        setups = {}
        for region in (a, b):
            region.env["VERWIJSINDEX_BASE_URL"] = region.url
            setups[region.name] = service.prepare(region.env)

        print("loading signals", flush=True)
        began = time.monotonic()
        secret = secrets.token_bytes(32)
        for region in (a, b):
            keys_dir = Path(region.env["VERWIJSINDEX_KEYS_DIR"])
            load_signals(
                urls[region.name], keys_dir, args.signals, setups[region.name].professional_ids
            )
            load_federation_state(region.name, urls[region.name], urls["hub"], secret)
        results["load_seconds"] = round(time.monotonic() - began, 1)

        keyholder.start(
            "keyholder", "serve", "--workers", str(args.workers), health="/federation/v1/health"
        )
        stack.callback(keyholder.stop)
        hub.start("hub", "serve", "--workers", str(args.workers), health="/federation/v1/health")
        stack.callback(hub.stop)
        for member in (hub, a, b):
            pem = workdir / f"{member.name}.pem"
            pem.write_text(member.cli("federation", "public-key"))
            keyholder.cli("keyholder", "enrol", member.name, "--public-key", str(pem))
            if member is not hub:
                hub.cli("hub", "enrol", member.name, "--public-key", str(pem), "--url", member.url)
        federation_env = {
            "VERWIJSINDEX_FEDERATION_HUB_URL": hub.url,
            "VERWIJSINDEX_FEDERATION_HUB_KEY": str(workdir / "hub.pem"),
            "VERWIJSINDEX_FEDERATION_KEYHOLDER_URL": keyholder.url,
            "VERWIJSINDEX_FEDERATION_POLL_SECONDS": str(args.poll_seconds),
        }
        tokens = (
            service.token(setups["regio-a"].professional_ids[0], a.env),
            service.token(setups["regio-b"].professional_ids[0], b.env),
        )
        children = FreshChildren()
        serve = ("serve", "--workers", str(args.workers))

        print("part post: POST /api/v1/signals in regio-a, federation off then on", flush=True)
        a.start(*serve, health="/api/v1/health")
        time_posts(a.port, tokens[0], children, 20)  # warm-up
        off = time_posts(a.port, tokens[0], children, args.posts)
        a.stop()
        a.env.update(federation_env, VERWIJSINDEX_FEDERATION_NAME="regio-a")
        b.env.update(federation_env, VERWIJSINDEX_FEDERATION_NAME="regio-b")
        a.start(*serve, health="/api/v1/health")
        stack.callback(a.stop)
        b.start(*serve, health="/api/v1/health")
        stack.callback(b.stop)
        time_posts(a.port, tokens[0], children, 20)
        on = time_posts(a.port, tokens[0], children, args.posts)
        results["post_ms"] = {"federation_off": summary(off), "federation_on": summary(on)}
        print(f"  off {summary(off)}\n  on  {summary(on)}", flush=True)

        print("part visible: registered in both regions → the match in both", flush=True)
        time.sleep(5)  # let the worker finish the POST part's publishes
        results["visible"] = time_visible(a, b, tokens, children, args.visible)
        print(f"  {results['visible']}", flush=True)

        print("part lookup: POST /federation/v1/lookup at the hub", flush=True)
        with psycopg.connect(db.libpq_url(urls["hub"])) as conn:
            held = [
                row[0]
                for row in conn.execute(
                    "SELECT child FROM hub_holdings WHERE region = 'regio-a' "
                    "ORDER BY md5(child) LIMIT 20000"
                )
            ]
            results["hub_pointers"] = conn.execute("SELECT count(*) FROM hub_holdings").fetchone()
        results["lookup"] = []
        for per_request in (1, 100):
            measured = lookups_per_second(hub, a, held, per_request, args.clients, args.duration)
            results["lookup"].append(measured)
            print(f"  {measured}", flush=True)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    results = run(args)
    path = write_results("federation", results)
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
