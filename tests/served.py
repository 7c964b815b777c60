"""A real `verwijsindex serve` (gunicorn) process on a free loopback port, for tests that need
the server itself: its access and error logs, its own error answers, its workers.

stdout (the access log) and stderr (gunicorn's error log and the application's log) are
captured to files, so a test can read exactly what an operator's log would hold.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.servers import free_port

STARTUP_SECONDS = 60


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    stdout: Path
    stderr: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def access_log(self) -> bytes:
        return self.stdout.read_bytes()

    def error_log(self) -> bytes:
        return self.stderr.read_bytes()

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeout: float = 10,
    ) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=dict(headers or {}))
            response = connection.getresponse()
            found = {name.lower(): value for name, value in response.getheaders()}
            return Answer(response.status, found, response.read())
        finally:
            connection.close()

    def worker_pids(self) -> list[int]:
        """gunicorn's workers: the master's children (read from /proc, Linux only)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def kill_a_worker(self) -> int:
        pid = self.worker_pids()[0]
        os.kill(pid, signal.SIGKILL)
        return pid


def _wait_until_healthy(served: Served) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise AssertionError(f"serve exited: {served.stderr.read_text()[-3000:]}")
        try:
            if served.request("GET", "/api/v1/health", timeout=2).status in (200, 503):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"serve did not answer in time: {served.stderr.read_text()[-3000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (gunicorn's graceful stop), and SIGKILL if it is not gone in 30 seconds."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def serve(directory: Path, environment: Mapping[str, str], *, workers: int = 2) -> Iterator[Served]:
    """`verwijsindex serve --no-worker` with only the given VERWIJSINDEX_* settings."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERWIJSINDEX_")}
    env.update(environment, PYTHONUNBUFFERED="1")
    command = [sys.executable, "-m", "verwijsindex", "serve", "--no-worker"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    stdout, stderr = directory / "access.log", directory / "error.log"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(command, cwd=directory, env=env, stdout=out, stderr=err)
    served = Served(process, port, stdout, stderr)
    try:
        _wait_until_healthy(served)
        yield served
    finally:
        stop(process)
