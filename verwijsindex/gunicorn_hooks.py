"""gunicorn server hooks used by `verwijsindex serve`: run one outbox worker beside the web
workers, so that a single command serves *and* delivers notifications.

The worker is a child process of the gunicorn master: started when the master is ready,
stopped (SIGTERM, then waited for) when it exits. Larger installations run
`verwijsindex serve --no-worker` and as many `verwijsindex worker` processes as they like.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

_worker: subprocess.Popen[bytes] | None = None


def when_ready(server: Any) -> None:
    global _worker
    _worker = subprocess.Popen([sys.executable, "-m", "verwijsindex", "worker"])
    server.log.info("outbox worker started (pid %s)", _worker.pid)


def on_exit(server: Any) -> None:
    if _worker is None or _worker.poll() is not None:
        return
    _worker.terminate()
    try:
        _worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        _worker.kill()
