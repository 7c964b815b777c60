"""Time and peak memory of one ``verwijsindex`` command, run as a real process.

Used by the scale benchmarks (``bench.maintenance``, ``bench.audit_verify``). The command runs
as its own child process with its output in files; this process then reaps it with
``os.wait4``, which returns the resource usage of exactly that child: ``ru_maxrss`` is its
peak resident set (KiB on Linux), unmixed with earlier children (loaders, other commands)
the way ``RUSAGE_CHILDREN`` would be. The PostgreSQL backend's memory is not included: it is
the server's, bounded by its own settings (``work_mem``), whatever the client does.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from bench import service

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Measured:
    """One finished command: how long it took, its peak RSS, what it said."""

    command: str  # the verwijsindex arguments, to repeat by hand
    seconds: float
    peak_rss_mib: float
    user_cpu_s: float
    system_cpu_s: float
    returncode: int
    stdout: str
    stderr_tail: str
    # stderr lines with the second they appeared at: the phases of a long run
    stderr_timeline: list[tuple[float, str]]

    def as_dict(self) -> dict[str, Any]:
        """For the JSON results."""
        return asdict(self)

    def json_output(self) -> dict[str, Any]:
        """The command's ``--json`` object (the last line of stdout that parses)."""
        for line in reversed(self.stdout.strip().splitlines()):
            try:
                parsed = json.loads(line)
            except ValueError:
                continue
            if isinstance(parsed, dict):
                return parsed
        return {}


def run_measured(args: Sequence[str], env: Mapping[str, str], timeout_s: float) -> Measured:
    """Run ``verwijsindex ARGS`` to completion and measure it (see the module doc)."""
    argv = [*service.cli_argv(), *args]
    timeline: list[tuple[float, str]] = []
    with tempfile.TemporaryFile() as out:
        began = time.monotonic()
        proc = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.PIPE,
            env={**os.environ, **env},
            cwd=service.REPO_ROOT,
        )
        assert proc.stderr is not None
        reader = threading.Thread(
            target=_timestamped, args=(proc.stderr, began, timeline), daemon=True
        )
        reader.start()
        deadline = began + timeout_s
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        seconds = time.monotonic() - began
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        reader.join(timeout=5)
        out.seek(0)
        stdout = out.read().decode(errors="replace")
    return Measured(
        command="verwijsindex " + " ".join(args),
        seconds=round(seconds, 2),
        peak_rss_mib=round(usage.ru_maxrss / 1024, 1),
        user_cpu_s=round(usage.ru_utime, 2),
        system_cpu_s=round(usage.ru_stime, 2),
        returncode=proc.returncode,
        stdout=stdout[-4000:],
        stderr_tail="\n".join(line for _, line in timeline[-15:]),
        stderr_timeline=timeline,
    )


def _timestamped(stream: IO[bytes], began: float, into: list[tuple[float, str]]) -> None:
    """Collect a child's stderr lines with the seconds since it started."""
    for raw in stream:
        into.append((round(time.monotonic() - began, 1), raw.decode(errors="replace").rstrip()))


def write_results(name: str, results: dict[str, Any], results_dir: Path = RESULTS_DIR) -> Path:
    """``bench/results/<name>-<UTC time>.json`` (gitignored)."""
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = results_dir / f"{name}-{stamp}.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return path


def row(label: str, measured: Measured) -> str:
    """One line of the printed summary."""
    return (
        f"{label:<44} {measured.seconds:>9.1f} s {measured.peak_rss_mib:>8.1f} MiB"
        f"  exit {measured.returncode}"
    )
