"""Time and peak memory of one ``verwijsindex`` command, run as a real process.

Used by the scale benchmarks (``bench.maintenance``, ``bench.audit_verify``). The command runs
under GNU ``/usr/bin/time``, which reports its peak resident set (``%M``, KiB) and CPU time.
Not ``os.wait4`` on a child of this process: Linux keeps a process's high-water RSS across
``exec``, so a child forked from this (large) orchestrator would report the orchestrator's
RSS whenever the command itself used less. ``time`` is small, so its child starts near zero.
The PostgreSQL backend's memory is not included: it is the server's, bounded by its own
settings (``work_mem``), whatever the client does.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
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
TIME = "/usr/bin/time"  # GNU time (Debian package "time")


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
    timeline: list[tuple[float, str]] = []
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r") as usage_file:
        argv = [TIME, "-f", "%M %U %S", "-o", usage_file.name, *service.cli_argv(), *args]
        began = time.monotonic()
        proc = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.PIPE,
            env={**os.environ, **env},
            cwd=service.REPO_ROOT,
            start_new_session=True,  # so a timeout can stop time and its command together
        )
        assert proc.stderr is not None
        reader = threading.Thread(
            target=_timestamped, args=(proc.stderr, began, timeline), daemon=True
        )
        reader.start()
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the group this call started, nothing else
            proc.wait()
            timeline.append((timeout_s, f"bench: killed /usr/bin/time after {timeout_s} s"))
        seconds = time.monotonic() - began
        reader.join(timeout=5)
        out.seek(0)
        stdout = out.read().decode(errors="replace")
        fields = (usage_file.read().strip().splitlines() or ["0 0 0"])[-1].split()
    if len(fields) != 3 or not fields[0].isdigit():
        # `time` says "Command exited with non-zero status N" on a line before its format
        fields = ["0", "0", "0"]
    max_rss_kib, user_s, system_s = int(fields[0]), float(fields[1]), float(fields[2])
    return Measured(
        command="verwijsindex " + " ".join(args),
        seconds=round(seconds, 2),
        peak_rss_mib=round(max_rss_kib / 1024, 1),
        user_cpu_s=user_s,
        system_cpu_s=system_s,
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
