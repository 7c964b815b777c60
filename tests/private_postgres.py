"""A PostgreSQL cluster of the test's own, on a free loopback port, to stop and restart at
will. The machine's shared cluster (port 5432), which every other test uses, is never
touched.

Made with Debian's `initdb`/`pg_ctl` from /usr/lib/postgresql/<newest>/bin. PostgreSQL
refuses to run as root, so when the tests run as root the commands run as the `postgres`
OS user (`runuser -u postgres --`), with the data directory in a temporary directory
owned by that user.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.servers import free_port

COMMAND_SECONDS = 60


def postgres_bin() -> Path:
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3])
    )
    if not versions:
        raise AssertionError("PostgreSQL server binaries (initdb, pg_ctl) are required")
    return versions[-1].parent


@dataclass
class PrivateCluster:
    root: Path
    port: int
    bin: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def pg_ctl(self, *args: str) -> None:
        _as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), *args)

    def restart_fast(self) -> None:
        """`pg_ctl restart -m fast`: every session is cut off, then the server comes back."""
        self.pg_ctl("restart", "-m", "fast", "-w", "-l", str(self.root / "server.log"))

    def stop_fast(self) -> None:
        self.pg_ctl("stop", "-m", "fast", "-w")

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -c port={self.port} -k {self.root}"
        self.pg_ctl("start", "-w", "-o", options, "-l", str(self.root / "server.log"))

    def create_database(self, name: str) -> str:
        admin = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return self.url(name)


def _as_postgres(*command: str) -> None:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=COMMAND_SECONDS)


@contextmanager
def private_postgres() -> Iterator[PrivateCluster]:
    root = Path(tempfile.mkdtemp(prefix="verwijsindex-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    cluster = PrivateCluster(root, free_port(), postgres_bin())
    try:
        _as_postgres(
            str(cluster.bin / "initdb"),
            *("-D", str(cluster.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"),
            "--no-sync",  # a throwaway cluster; the server itself still syncs its commits
        )
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # never started, or stopped
            cluster.pg_ctl("stop", "-m", "immediate", "-w")
        shutil.rmtree(root, ignore_errors=True)
