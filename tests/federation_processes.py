"""A whole federation of real processes on loopback: a key holder, a hub and two regions,
each `verwijsindex` process with its own PostgreSQL database and keys folder, enrolled with
each other exactly as the README shows (docs/federation.md).

Every process writes its stdout and stderr to files in its own folder, so a privacy test can
read every log; `dump()` reads every row of a process's database.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, make_url, select, text

from tests.served import stop
from tests.servers import free_port
from verwijsindex.models import Base

STARTUP_SECONDS = 90
T = TypeVar("T")


def valid_bsn(number: int) -> str:
    """A nine-digit number passing the elfproef, distinct per `number` (test data only)."""
    candidate = 300_000_000 + number * 1_000
    while True:
        digits = [int(d) for d in f"{candidate:09d}"]
        weighted = sum(d * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True))
        if (weighted - digits[8]) % 11 == 0:
            return f"{candidate:09d}"
        candidate += 1


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Process:
    """One `verwijsindex` process: its command, environment, folder and database."""

    name: str
    command: list[str]
    environment: dict[str, str]
    folder: Path
    database_url: str
    port: int
    health_path: str
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VERWIJSINDEX_")}
        env.update(self.environment, PYTHONUNBUFFERED="1")
        return env

    def cli(self, *args: str, stdin: str | None = None) -> str:
        """Run `verwijsindex ARGS` with this process's settings; returns stdout."""
        done = subprocess.run(
            [sys.executable, "-m", "verwijsindex", *args],
            cwd=self.folder,
            env=self.env(),
            input=stdin.encode() if stdin is not None else None,
            capture_output=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise AssertionError(
                f"{self.name}: verwijsindex {' '.join(args)} exited {done.returncode}: "
                f"{done.stderr.decode(errors='replace')[-2000:]}"
            )
        return done.stdout.decode()

    def start(self) -> None:
        self.starts += 1
        out = (self.folder / f"stdout.{self.starts}.log").open("wb")
        err = (self.folder / f"stderr.{self.starts}.log").open("wb")
        with out, err:
            self.process = subprocess.Popen(
                self.command, cwd=self.folder, env=self.env(), stdout=out, stderr=err
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited: {self.logs()[-3000:]!r}")
            try:
                if self.request("GET", self.health_path, timeout=2).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"{self.name} did not answer in time: {self.logs()[-3000:]!r}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            stop(self.process)
        self.process = None

    def logs(self) -> bytes:
        return b"\n".join(p.read_bytes() for p in sorted(self.folder.glob("*.log")))

    def request(
        self,
        method: str,
        path: str,
        *,
        body: object = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 20,
    ) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        sent = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        try:
            connection.request(method, path, body=data, headers=sent)
            response = connection.getresponse()
            found = {k.lower(): v for k, v in response.getheaders()}
            return Answer(response.status, found, response.read())
        finally:
            connection.close()

    def dump(self) -> bytes:
        """Every value of every row of every table of this process's database."""
        parts: list[bytes] = []
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                for table in Base.metadata.sorted_tables:
                    for row in connection.execute(select(table)):
                        for value in row:
                            parts.append(value if isinstance(value, bytes) else str(value).encode())
        finally:
            engine.dispose()
        return b"\n".join(parts)

    def scalars(self, sql: str) -> list[Any]:
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                return list(connection.execute(text(sql)).scalars())
        finally:
            engine.dispose()


@dataclass
class Professional:
    id: str
    token: str
    name: str
    email: str


@dataclass
class Region:
    process: Process
    professionals: list[Professional] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.process.environment["VERWIJSINDEX_FEDERATION_NAME"]

    def professional(self, organisation: str, sector: str, name: str, email: str) -> Professional:
        org_id = json.loads(
            self.process.cli(
                "admin", "create-organisation", "--name", organisation, "--sector", sector, "--json"
            )
        )["id"]
        pro_id = json.loads(
            self.process.cli(
                "admin",
                "create-professional",
                "--organisation",
                org_id,
                "--name",
                name,
                "--email",
                email,
                "--phone",
                "0301234567",
                "--json",
            )
        )["id"]
        token = self.process.cli("token", "--professional", pro_id).strip()
        professional = Professional(pro_id, token, name, email)
        self.professionals.append(professional)
        return professional

    def api(self, who: Professional, method: str, path: str, body: object = None) -> Answer:
        return self.process.request(
            method, path, body=body, headers={"Authorization": f"Bearer {who.token}"}
        )

    def signal(
        self, who: Professional, child: str, birth_date: str, parents: list[str] | None = None
    ) -> Answer:
        body: dict[str, Any] = {
            "bsn": child,
            "birthDate": birth_date,
            "parentBsns": parents or [],
            "informatieplicht": {"childInformed": True, "parentsInformed": True},
        }
        return self.api(who, "POST", "/api/v1/signals", body)


@dataclass
class Federation:
    keyholder: Process
    hub: Process
    a: Region
    b: Region
    hub_key_file: Path

    @property
    def processes(self) -> list[Process]:
        return [self.keyholder, self.hub, self.a.process, self.b.process]


def eventually(check: Callable[[], T | None], *, seconds: float = 60, what: str = "") -> T:
    """Poll `check` until it returns something truthy (the federation is asynchronous)."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.3)


@contextmanager
def postgres_databases(base_url: str, count: int) -> Iterator[list[str]]:
    base = make_url(base_url)
    names = [f"{base.database}_fed_{uuid.uuid4().hex[:8]}" for _ in range(count)]
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield [base.set(database=n).render_as_string(hide_password=False) for n in names]
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _module(*args: str) -> list[str]:
    return [sys.executable, "-m", "verwijsindex", *args]


@contextmanager
def federation(folder: Path, postgres_url: str) -> Iterator[Federation]:
    """Key holder, hub and regions `regio-a` and `regio-b`, enrolled and running."""
    with ExitStack() as stack:
        urls = stack.enter_context(postgres_databases(postgres_url, 4))
        ports = [free_port() for _ in range(4)]
        folders = [folder / n for n in ("keyholder", "hub", "regio-a", "regio-b")]
        for path in folders:
            path.mkdir(parents=True)

        def common(index: int) -> dict[str, str]:
            return {
                "VERWIJSINDEX_DATABASE_URL": urls[index],
                "VERWIJSINDEX_KEYS_DIR": str(folders[index] / "keys"),
                "VERWIJSINDEX_ENVIRONMENT": "development",
            }

        keyholder = Process(
            "keyholder",
            _module("keyholder", "serve", "--port", str(ports[0]), "--workers", "2"),
            common(0),
            folders[0],
            urls[0],
            ports[0],
            "/federation/v1/health",
        )
        hub = Process(
            "hub",
            _module("hub", "serve", "--port", str(ports[1]), "--workers", "2"),
            {**common(1), "VERWIJSINDEX_FEDERATION_KEYHOLDER_URL": keyholder.url},
            folders[1],
            urls[1],
            ports[1],
            "/federation/v1/health",
        )
        hub_key_file = folder / "hub.pem"
        hub_key_file.write_text(hub.cli("federation", "public-key"))

        def region(index: int, name: str) -> Region:
            port = ports[index]
            environment = {
                **common(index),
                "VERWIJSINDEX_BASE_URL": f"http://127.0.0.1:{port}",
                "VERWIJSINDEX_FEDERATION_NAME": name,
                "VERWIJSINDEX_FEDERATION_HUB_URL": hub.url,
                "VERWIJSINDEX_FEDERATION_HUB_KEY": str(hub_key_file),
                "VERWIJSINDEX_FEDERATION_KEYHOLDER_URL": keyholder.url,
                "VERWIJSINDEX_FEDERATION_POLL_SECONDS": "0.3",
            }
            process = Process(
                name,
                _module("serve", "--port", str(port), "--workers", "2"),
                environment,
                folders[index],
                urls[index],
                port,
                "/api/v1/health",
            )
            return Region(process)

        a, b = region(2, "regio-a"), region(3, "regio-b")
        keyholder.start()
        stack.callback(keyholder.stop)
        hub.start()
        stack.callback(hub.stop)
        # Enrolment, as the README shows: each member's public key to the hub and key holder.
        for member in (hub, a.process, b.process):
            pem = folder / f"{member.name}.pem"
            pem.write_text(member.cli("federation", "public-key"))
            keyholder.cli("keyholder", "enrol", member.name, "--public-key", str(pem))
            if member is not hub:
                hub.cli("hub", "enrol", member.name, "--public-key", str(pem), "--url", member.url)
        for r in (a, b):
            r.process.start()
            stack.callback(r.process.stop)
        yield Federation(keyholder, hub, a, b, hub_key_file)
