"""``python -m bench.signals``: POST throughput and match-lookup latency, in one run.

Parts, run one after another with one gunicorn at a time (so they never compete for the 2 cores):

1. ``bare``    bench.bare_app: the Flask-plus-gunicorn ceiling for a JSON POST;
2. ``rawsql``  bench.rawsql_app: the durable work in plain psycopg (HMAC, lookup, INSERT, COMMIT);
3. ``ours``    verwijsindex.wsgi:app, POST /api/v1/signals on a freshly migrated database;
4. ``reads``   GET /api/v1/matches/{id}: ours against bench.rawsql_read_app (one query, one
   audit INSERT, one COMMIT) on the same database of the baseline size (``bench.reads``);
5. ``bulk``    CSV import and PUT /sync/signals against single POSTs, signals per second and
   the import's peak memory (``bench.bulk``); not in the default set (it takes minutes);
6. ``matches`` a fresh database bulk-loaded to the baseline (10 000) signals, GET /matches/{id}
   and GET /matches measured; then loaded up to N and measured again. The measured professional
   has the same caseload at both sizes (``bench.load``), so only the size of the tables changes.

Each load is a warm-up (discarded, but its errors are reported) and a measured wrk run with the
same connections. The database is dropped and recreated at the start and dropped at the end.
Exit status: 0 when every requested part measured cleanly (targets may still FAIL), 1 when a
part errored or saw unexpected statuses.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from bench import db, report, service, wrk
from bench.bsn import CHILD_SPAN
from bench.bulk import bulk
from bench.load import caseload, load_signals
from bench.reads import reads
from bench.servers import GunicornSettings, RunningServer, free_port, gunicorn

RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/verwijsindex_bench"
PARTS = ("bare", "rawsql", "ours", "ours-noaudit", "reads", "bulk", "matches")
DEFAULT_PARTS = tuple(p for p in PARTS if p != "bulk")
BUSY_LOADAVG = 1.0  # 1-minute load average above which a run is flagged as taken on a busy machine


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; defaults are the issue's (100 000 signals, 16 connections, 20 s)."""
    p = argparse.ArgumentParser(prog="python -m bench.signals", description=__doc__.split("\n")[0])
    p.add_argument(
        "--signals", type=int, default=100_000, help="N: stored signals, 2nd match measurement"
    )
    p.add_argument(
        "--baseline-signals", type=int, default=10_000, help="stored signals, 1st match measurement"
    )
    p.add_argument("--duration", type=int, default=20, help="seconds per measured wrk run")
    p.add_argument(
        "--warmup", type=int, default=3, help="seconds of discarded warm-up before each run"
    )
    p.add_argument(
        "--connections", type=int, default=16, help="wrk connections (fixed concurrency)"
    )
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--workers", type=int, default=GunicornSettings.workers, help="gunicorn workers")
    p.add_argument(
        "--worker-class", default=GunicornSettings.worker_class, choices=["sync", "gthread"]
    )
    p.add_argument(
        "--worker-threads", type=int, default=1, help="threads per worker (gthread only)"
    )
    p.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="dropped and recreated!")
    p.add_argument(
        "--parts",
        default=",".join(DEFAULT_PARTS),
        help=f"comma-separated subset of {','.join(PARTS)} (default: all but bulk)",
    )
    p.add_argument(
        "--bulk-signals", type=int, default=100_000, help="signals imported, and synced (bulk)"
    )
    p.add_argument("--match-sample", type=int, default=1000, help="match ids to cycle through")
    p.add_argument(
        "--keep-database", action="store_true", help="do not drop the database at the end"
    )
    p.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = p.parse_args(argv)
    unknown = set(args.parts.split(",")) - set(PARTS)
    if unknown:
        p.error(f"unknown parts: {', '.join(sorted(unknown))}")
    if args.signals <= args.baseline_signals:
        p.error("--signals must be larger than --baseline-signals")
    return args


class Runner:
    """State of one benchmark run: settings, the BSN offset, where logs go."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.settings = GunicornSettings(
            workers=args.workers, worker_class=args.worker_class, threads=args.worker_threads
        )
        self.load = wrk.WrkLoad(args.threads, args.connections, args.duration)
        self.warm = wrk.WrkLoad(args.threads, args.connections, args.warmup)
        # Random start so two runs against a kept database do not repeat children; advanced past
        # every run's highest counter so runs within this process never do.
        self.offset = secrets.randbelow(CHILD_SPAN)
        self.commands: list[str] = []

    # -- loads -------------------------------------------------------------------------------

    def _wrk(
        self, url: str, script: Path, args: list[str], load: wrk.WrkLoad, env: Mapping[str, str]
    ) -> wrk.WrkResult:
        self.commands.append(" ".join(wrk.command(url, script, args, load)))
        return wrk.run(url, script, args, load, env={**os.environ, **env})

    def post_load(
        self, base_url: str, tokens: tuple[str, str] = ("none", "none")
    ) -> dict[str, Any]:
        """Warm-up then measured POST run with fresh, unique BSNs for each."""
        env = {"BENCH_TOKEN_A": tokens[0], "BENCH_TOKEN_B": tokens[1]}
        out: dict[str, Any] = {}
        for name, load in (("warmup", self.warm), ("post", self.load)):
            args = [str(self.load.threads), str(self.offset)]
            res = self._wrk(base_url, wrk.POST_SIGNALS, args, load, env)
            self.offset += (res.counter_max + 1) * self.load.threads
            out[name] = res.as_dict()
            print(
                f"  {name:<7} {res.rps:8.1f} req/s  p50 {res.p50_ms:.2f} ms  "
                f"p99 {res.p99_ms:.2f} ms  non-2xx {res.non_2xx}",
                flush=True,
            )
        return out

    def get_load(self, base_url: str, paths: list[str], token: str, label: str) -> dict[str, Any]:
        """Warm-up then measured GET run cycling through ``paths``; returns the measured run."""
        paths_file = self.workdir / f"paths-{label}.txt"
        paths_file.write_text("\n".join(paths) + "\n")
        env = {"BENCH_TOKEN_A": token}
        warm = self._wrk(base_url, wrk.GET_PATHS, [str(paths_file)], self.warm, env)
        res = self._wrk(base_url, wrk.GET_PATHS, [str(paths_file)], self.load, env)
        print(
            f"  {label:<22} {res.rps:8.1f} req/s  p50 {res.p50_ms:.2f} ms  "
            f"p99 {res.p99_ms:.2f} ms  non-2xx {res.non_2xx}",
            flush=True,
        )
        return {
            **res.as_dict(),
            "warmup_requests": warm.requests,
            "warmup_unexpected_status": warm.unexpected_status,
        }

    # -- parts ---------------------------------------------------------------------------------

    def bare(self) -> dict[str, Any]:
        """The bare Flask ceiling."""
        with gunicorn(
            "bare", "bench.bare_app:app", self.settings, self.workdir, cwd=service.REPO_ROOT
        ) as srv:
            return self.post_load(srv.base_url)

    def rawsql(self) -> dict[str, Any]:
        """The plain-psycopg durable reference, in its own table of the benchmark database."""
        env = {
            "BENCH_DATABASE_URL": self.args.database_url,
            "BENCH_HMAC_KEY": secrets.token_hex(32),
        }
        before = db.activity(self.args.database_url)
        with gunicorn(
            "rawsql",
            "bench.rawsql_app:app",
            self.settings,
            self.workdir,
            env=env,
            cwd=service.REPO_ROOT,
        ) as srv:
            out = self.post_load(srv.base_url)
        out["db_per_request"] = self.db_per_request(before, _posted(out))
        row = db.query_one(
            self.args.database_url,
            "SELECT count(*), count(DISTINCT child_pseudonym),"
            " count(*) FILTER (WHERE cardinality(parent_pseudonyms) > 0) FROM bench_raw_signals",
        )
        if row:
            out["stored"] = {"rows": row[0], "distinct_children": row[1], "with_parents": row[2]}
        return out

    def _service(self, keys_dir: Path) -> tuple[dict[str, str], service.Setup]:
        env = service.service_env(self.args.database_url, keys_dir)
        return env, service.prepare(env)

    @contextlib.contextmanager
    def serve_ours(
        self,
        name: str,
        env: Mapping[str, str],
        professional_ids: Sequence[str],
        app: str = service.WSGI_APP,
    ) -> Iterator[tuple[RunningServer, list[str]]]:
        """Our service on a fresh port, told that address (``VERWIJSINDEX_BASE_URL``: its
        ``next`` links and its token issuer), with tokens minted for that same address and
        checked against the running server before any load."""
        port = free_port()
        served = service.served_at(env, f"http://127.0.0.1:{port}")
        with gunicorn(
            name,
            app,
            self.settings,
            self.workdir,
            env=served,
            ready_path=service.HEALTH_PATH,
            cwd=service.REPO_ROOT,
            port=port,
        ) as srv:
            tokens = [service.token(p, served) for p in professional_ids]
            for bearer in tokens:
                service.check_token(srv.base_url, bearer)
            yield srv, tokens

    def ours(self) -> dict[str, Any]:
        """Our POST /api/v1/signals on a freshly migrated schema, two professionals alternating."""
        return self._ours("ours", service.WSGI_APP)

    def ours_noaudit(self) -> dict[str, Any]:
        """The same with the audit append stubbed out (bench/without_audit.py): the cost of
        auditing is the difference."""
        return self._ours("ours-noaudit", "bench.without_audit:app")

    def _ours(self, name: str, app: str) -> dict[str, Any]:
        keys = self.workdir / f"keys-{name}"
        keys.mkdir()
        env, setup = self._service(keys)
        with self.serve_ours(name, env, setup.professional_ids, app) as (srv, tokens):
            before = db.activity(self.args.database_url)
            out = self.post_load(srv.base_url, (tokens[0], tokens[1]))
        out["db_per_request"] = self.db_per_request(before, _posted(out))
        return out

    def db_per_request(self, before: dict[str, int], requests: int) -> dict[str, float]:
        """Commits and WAL syncs per answered request since ``before`` (warm-up included)."""
        time.sleep(1)  # backends flush their statistics when they close (gunicorn has stopped)
        after = db.activity(self.args.database_url)
        return db.per_request(before, after, requests)

    def _match_stage(self, env: dict[str, str], setup: service.Setup, label: str) -> dict[str, Any]:
        professional_a = setup.professional_ids[0]
        signals_a, matches_a = caseload(self.args.database_url, professional_a)
        print(f"  professional A: {signals_a} signals, {matches_a} matches", flush=True)
        with self.serve_ours(f"ours-matches-{label}", env, [professional_a]) as (srv, tokens):
            token = tokens[0]
            ids = service.match_ids(srv.base_url, token, self.args.match_sample)
            if not ids:
                raise RuntimeError(f"no matches visible to professional A at {label}")
            return {
                "professional_a": {"signals": signals_a, "matches": matches_a},
                "match_ids_sampled": len(ids),
                "get_match": self.get_load(
                    srv.base_url, [f"/api/v1/matches/{i}" for i in ids], token, f"get_match@{label}"
                ),
                "list_matches": self.get_load(
                    srv.base_url, ["/api/v1/matches"], token, f"list_matches@{label}"
                ),
            }

    def matches(self) -> dict[str, Any]:
        """Match lookups at the baseline size and at N, on a database of just those signals."""
        base, n = self.args.baseline_signals, self.args.signals
        db.recreate_database(self.args.database_url)
        keys = self.workdir / "keys-matches"
        keys.mkdir()
        env, setup = self._service(keys)
        out: dict[str, Any] = {}
        try:
            load_signals(
                self.args.database_url, keys, base, setup.professional_ids, bench_until=base
            )
        except NotImplementedError as exc:
            return {"skipped": str(exc)}
        db.analyze(self.args.database_url)
        out["baseline"] = {"signals": base, **self._match_stage(env, setup, str(base))}
        load_signals(
            self.args.database_url,
            keys,
            n - base,
            setup.professional_ids,
            start=base,
            bench_until=base,
        )
        db.analyze(self.args.database_url)
        out["full"] = {"signals": n, **self._match_stage(env, setup, str(n))}
        return out


def _posted(out: dict[str, Any]) -> int:
    """Requests answered in a POST part's warm-up and measured run."""
    return int(out["warmup"]["requests"]) + int(out["post"]["requests"])


def _first_line(argv: list[str], require_success: bool = False) -> str | None:
    """First line a command prints (wrk --version exits 1 after printing, hence the option)."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if require_success and proc.returncode != 0:
        return None
    text = (proc.stdout or proc.stderr).strip()
    return text.splitlines()[0] if text else None


def environment(database_url: str) -> dict[str, Any]:
    """Facts that make two result files comparable (or show why they are not)."""
    return {
        "cpus": os.cpu_count(),
        "loadavg_at_start": os.getloadavg(),
        "python": platform.python_version(),
        "gunicorn": _first_line([sys.executable, "-m", "gunicorn", "--version"]),
        "wrk": _first_line([wrk.wrk_binary(), "--version"]),
        "git_commit": _first_line(
            ["git", "-C", str(service.REPO_ROOT), "rev-parse", "--verify", "-q", "HEAD"],
            require_success=True,
        ),
        "postgres": db.server_facts(database_url),
    }


def _part_failed(result: Any) -> bool:
    """An error, or any run in it with an unexpected status or socket error."""
    if isinstance(result, dict):
        if "error" in result:
            return True
        if "unexpected_status" in result:
            return bool(result["unexpected_status"]) or any(result["socket_errors"].values())
        return any(_part_failed(v) for v in result.values())
    return False


def main(argv: list[str] | None = None) -> int:
    """Run the requested parts, print the table and ratios, write the JSON; see module doc."""
    args = parse_args(argv)
    wanted = [p for p in PARTS if p in args.parts.split(",")]
    started = dt.datetime.now(dt.UTC)
    results: dict[str, Any] = {
        "started_at": started.isoformat(timespec="seconds"),
        "config": {
            "signals": args.signals,
            "baseline_signals": args.baseline_signals,
            "parts": wanted,
            "wrk": {
                "threads": args.threads,
                "connections": args.connections,
                "duration_s": args.duration,
                "warmup_s": args.warmup,
            },
        },
        "parts": {},
    }
    with tempfile.TemporaryDirectory(prefix="verwijsindex-bench-") as tmp:
        runner = Runner(args, Path(tmp))
        results["config"]["gunicorn"] = runner.settings.as_dict()
        db.recreate_database(args.database_url)
        results["environment"] = env_facts = environment(args.database_url)
        busy = env_facts["loadavg_at_start"][0]
        if busy > BUSY_LOADAVG:
            # Other work on these 2 cores (a test suite, a build) takes its share of the CPU from
            # every part, so the numbers are not comparable with a quiet run's. Warn, but measure.
            print(
                f"warning: load average {busy:.1f} at start: this machine is busy, "
                "so the numbers will be low and noisy",
                file=sys.stderr,
            )
        if env_facts["postgres"].get("synchronous_commit") != "on":
            print("refusing to benchmark: synchronous_commit is not 'on'", file=sys.stderr)
            return 1
        steps: dict[str, Callable[[], dict[str, Any]]] = {
            "bare": runner.bare,
            "rawsql": runner.rawsql,
            "ours": runner.ours,
            "ours-noaudit": runner.ours_noaudit,
            "reads": lambda: reads(runner),
            "bulk": lambda: bulk(runner),
            "matches": runner.matches,
        }
        try:
            for part in wanted:
                print(f"== {part}", flush=True)
                try:
                    results["parts"][part] = steps[part]()
                except Exception as exc:  # keep going: one broken part must not hide the others
                    traceback.print_exc()
                    results["parts"][part] = {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            if not args.keep_database:
                db.drop_database(args.database_url)
        results["commands"] = runner.commands
    results["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    results["environment"]["loadavg_at_end"] = os.getloadavg()
    results["ratios"], results["targets"] = report.ratios_and_targets(results["parts"])

    print()
    print(report.table(results))
    args.results_dir.mkdir(parents=True, exist_ok=True)
    out = args.results_dir / f"signals-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nresults: {out}")
    return 1 if any(_part_failed(results["parts"][p]) for p in wanted) else 0


if __name__ == "__main__":
    sys.exit(main())
