"""Run wrk with one of the Lua scripts in ``bench/lua`` and parse its ``BENCH_RESULT`` line.

wrk is closed-loop (each connection sends its next request when the previous one is answered),
which is what "throughput at a fixed concurrency" means here. The Lua ``done()`` hook prints one
JSON line with totals, p50/p90/p99 and per-status counts; nothing is scraped from wrk's own text.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LUA_DIR = Path(__file__).resolve().parent / "lua"
POST_SIGNALS = LUA_DIR / "post_signals.lua"
GET_PATHS = LUA_DIR / "get_paths.lua"
RESULT_PREFIX = "BENCH_RESULT "


class WrkError(RuntimeError):
    """wrk is missing, failed, or printed no result line."""


@dataclass(frozen=True)
class WrkLoad:
    """Shape of one load: threads, open connections and how long (seconds)."""

    threads: int = 2
    connections: int = 16
    duration_s: int = 20
    timeout_s: int = 10


@dataclass
class WrkResult:
    """What one wrk run measured. Latencies in milliseconds for the report."""

    requests: int
    duration_s: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    non_2xx: int
    unexpected_status: int
    socket_errors: dict[str, int]
    status_counts: dict[str, int]
    counter_max: int
    first_unexpected: str | None
    raw: dict[str, Any] = field(repr=False)

    @property
    def clean(self) -> bool:
        """True when every response had the expected status and no socket errored."""
        return self.unexpected_status == 0 and not any(self.socket_errors.values())

    def as_dict(self) -> dict[str, Any]:
        """For the JSON results (without the raw duplicate)."""
        return {
            "requests": self.requests,
            "duration_s": self.duration_s,
            "rps": round(self.rps, 1),
            "p50_ms": self.p50_ms,
            "p90_ms": self.p90_ms,
            "p99_ms": self.p99_ms,
            "max_ms": self.max_ms,
            "mean_ms": self.mean_ms,
            "non_2xx": self.non_2xx,
            "unexpected_status": self.unexpected_status,
            "socket_errors": self.socket_errors,
            "status_counts": self.status_counts,
            "first_unexpected": self.first_unexpected,
        }


def parse(stdout: str) -> WrkResult:
    """Turn the ``BENCH_RESULT`` line printed by ``report.lua`` into a :class:`WrkResult`."""
    for line in stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            data: dict[str, Any] = json.loads(line[len(RESULT_PREFIX) :])
            break
    else:
        raise WrkError(f"no {RESULT_PREFIX.strip()} line in wrk output:\n{stdout[-2000:]}")
    lat = data["latency_us"]
    counts = {str(k): int(v) for k, v in data["status_counts"].items()}
    non_2xx = sum(v for k, v in counts.items() if not 200 <= int(k) < 300)
    return WrkResult(
        requests=int(data["requests"]),
        duration_s=float(data["duration_s"]),
        rps=float(data["rps"]),
        p50_ms=lat["p50"] / 1000,
        p90_ms=lat["p90"] / 1000,
        p99_ms=lat["p99"] / 1000,
        max_ms=lat["max"] / 1000,
        mean_ms=round(lat["mean"] / 1000, 3),
        non_2xx=non_2xx,
        unexpected_status=int(data["unexpected_status"]),
        socket_errors={k: int(v) for k, v in data["socket_errors"].items()},
        status_counts=counts,
        counter_max=int(data["counter_max"]),
        first_unexpected=data["first_unexpected"],
        raw=data,
    )


def wrk_binary() -> str:
    """Path of wrk; Debian's package (``apt-get install -y wrk``) is what this was built for."""
    path = shutil.which("wrk")
    if path is None:
        raise WrkError("wrk not found: apt-get update && apt-get install -y wrk")
    return path


def command(url: str, script: Path, script_args: Sequence[str], load: WrkLoad) -> list[str]:
    """The exact wrk command line (also printed into the results, to rerun by hand)."""
    return [
        wrk_binary(),
        "--threads",
        str(load.threads),
        "--connections",
        str(load.connections),
        "--duration",
        f"{load.duration_s}s",
        "--timeout",
        f"{load.timeout_s}s",
        "--script",
        str(script),
        url,
        "--",
        *script_args,
    ]


def run(
    url: str,
    script: Path,
    script_args: Sequence[str],
    load: WrkLoad,
    env: Mapping[str, str] | None = None,
) -> WrkResult:
    """Run wrk once, bounded: it stops itself after ``duration_s``; we give up 60 s later."""
    if not url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise WrkError(f"refusing to load a non-loopback address: {url}")
    argv = command(url, script, script_args, load)
    proc = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        env=dict(env) if env is not None else None,
        timeout=load.duration_s + 60,
        check=False,
    )
    if proc.returncode != 0:
        raise WrkError(f"wrk exited {proc.returncode}: {proc.stderr.strip() or proc.stdout[-500:]}")
    return parse(proc.stdout)
