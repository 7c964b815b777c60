"""Start and stop one gunicorn at a time on a loopback port, and wait until it really serves.

Every app under test (bare, raw-SQL, ours) is started through :func:`gunicorn`, with one
:class:`GunicornSettings`, so a difference in throughput comes from the app and not the server.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class GunicornSettings:
    """The server settings shared by all apps; recorded in the results for reproducibility.

    Default: 4 sync workers. Sync workers are what the raw-SQL reference needs (one connection per
    process, one request at a time, no lock) and a fair, simple model for Flask; with 2 cores
    shared by gunicorn, PostgreSQL and wrk, more workers than 4 only add context switches for the
    CPU-bound bare app, while the fsync-bound durable endpoints still get 4 commits in flight for
    group commit. See bench/README.md for the measurements behind the choice.
    """

    workers: int = 4
    worker_class: str = "sync"
    threads: int = 1
    timeout_s: int = 60
    backlog: int = 2048

    def as_dict(self) -> dict[str, Any]:
        """For the JSON results."""
        return asdict(self)

    def argv(self) -> list[str]:
        """gunicorn command-line flags for these settings."""
        args = [
            "--workers",
            str(self.workers),
            "--worker-class",
            self.worker_class,
            "--timeout",
            str(self.timeout_s),
            "--backlog",
            str(self.backlog),
        ]
        if self.worker_class == "gthread":
            args += ["--threads", str(self.threads)]
        # The worker heartbeat file: keep it in memory so a busy disk (fsync-heavy load on the
        # same machine) cannot stall workers and get them killed by the arbiter.
        # (S108: gunicorn creates its own unlinked temp files there; nothing of ours is written.)
        if Path("/dev/shm").is_dir():  # noqa: S108
            args += ["--worker-tmp-dir", "/dev/shm"]  # noqa: S108
        return args


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1 (the kernel picks it; the race is harmless here)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerError(RuntimeError):
    """The server did not start or did not become ready; carries the tail of its log."""


@dataclass
class RunningServer:
    """A started gunicorn: where it listens and where it logs."""

    name: str
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        """Last lines of the server log, for error reports."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _wait_ready(server: RunningServer, ready_path: str, timeout_s: float) -> None:
    """Poll ``ready_path`` until it answers 200; fail early when gunicorn has exited."""
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerError(
                f"{server.name}: gunicorn exited with {server.process.returncode}\n"
                + server.log_tail()
            )
        try:
            # S310: the URL is our own http://127.0.0.1:<port> built above, never user input
            url = server.base_url + ready_path
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310
                if resp.status == 200:
                    return
                last = f"HTTP {resp.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.2)
    raise ServerError(f"{server.name}: not ready after {timeout_s}s ({last})\n" + server.log_tail())


def _stop(process: subprocess.Popen[bytes], grace_s: float = 15.0) -> None:
    """Graceful TERM to the gunicorn master we started (it stops its workers), KILL if it hangs."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        # Kill only the process group that this process started for this server.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@contextlib.contextmanager
def gunicorn(
    name: str,
    app: str,
    settings: GunicornSettings,
    log_dir: Path,
    env: Mapping[str, str] | None = None,
    ready_path: str = "/health",
    ready_timeout_s: float = 60.0,
    cwd: Path | None = None,
    port: int | None = None,
) -> Iterator[RunningServer]:
    """Serve ``app`` (``module:attr``) on a fresh 127.0.0.1 port for the duration of the block.

    ``port``: one chosen beforehand with :func:`free_port`, for an app that must be told its own
    address in ``env`` (the service's ``VERWIJSINDEX_BASE_URL``); by default a fresh one.

    gunicorn runs in its own process group (so a KILL fallback reaches its workers and nothing
    else) with the current interpreter, so it sees the same venv as the orchestrator.
    """
    if port is None:
        port = free_port()
    log_path = log_dir / f"{name}.gunicorn.log"
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        *settings.argv(),
        app,
    ]
    full_env = {**os.environ, **(env or {})}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=cwd,
            start_new_session=True,
        )
    server = RunningServer(name, f"http://127.0.0.1:{port}", process, log_path)
    try:
        _wait_ready(server, ready_path, ready_timeout_s)
        yield server
    finally:
        _stop(process)
