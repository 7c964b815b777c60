"""Drive the real verwijsindex through its documented command line and API only.

The benchmark must not depend on the service's internals (they are being written in parallel),
so it uses the contract: ``verwijsindex db upgrade``, ``admin create-organisation/-professional
--json``, ``token --professional``, and the HTTP API for collecting match ids.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
WSGI_APP = "verwijsindex.wsgi:app"
HEALTH_PATH = "/api/v1/health"


class ServiceError(RuntimeError):
    """A verwijsindex command failed; carries its stderr (which must never contain a BSN)."""


def service_env(database_url: str, keys_dir: Path) -> dict[str, str]:
    """Environment for every verwijsindex command and for its gunicorn."""
    return {
        "VERWIJSINDEX_DATABASE_URL": database_url,
        "VERWIJSINDEX_KEYS_DIR": str(keys_dir),
        # importable from the work tree even when the package is not pip-installed
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }


def _cli() -> list[str]:
    """The ``verwijsindex`` console script of this venv, or ``python -m verwijsindex.cli``."""
    script = Path(sys.executable).parent / "verwijsindex"
    if script.exists():
        return [str(script)]
    found = shutil.which("verwijsindex")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from verwijsindex.cli import main; sys.exit(main())"]


def run_cli(args: list[str], env: Mapping[str, str], timeout_s: float = 300) -> str:
    """Run one verwijsindex command and return its stdout; raise with its stderr on failure."""
    proc = subprocess.run(
        [*_cli(), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=REPO_ROOT,
        timeout=timeout_s,
        check=False,
    )
    if proc.returncode != 0:
        raise ServiceError(
            f"verwijsindex {' '.join(args[:2])} exited {proc.returncode}: "
            f"{(proc.stderr or proc.stdout).strip()[-1500:]}"
        )
    return proc.stdout


def _json_id(stdout: str) -> str:
    data: dict[str, Any] = json.loads(stdout)
    return str(data["id"])


@dataclass(frozen=True)
class Setup:
    """What the benchmark needs from a freshly migrated service database."""

    organisation_id: str
    professional_ids: tuple[str, str]


def prepare(env: Mapping[str, str]) -> Setup:
    """Migrate and create one organisation with two professionals (so matches are possible)."""
    run_cli(["db", "upgrade"], env)
    org = _json_id(
        run_cli(
            [
                "admin",
                "create-organisation",
                "--name",
                "Bench school",
                "--sector",
                "onderwijs",
                "--json",
            ],
            env,
        )
    )
    pros = []
    for label in ("a", "b"):
        pros.append(
            _json_id(
                run_cli(
                    [
                        "admin",
                        "create-professional",
                        "--organisation",
                        org,
                        "--name",
                        f"Bench professional {label.upper()}",
                        "--email",
                        f"bench-{label}@example.org",
                        "--phone",
                        "0201234567",
                        "--json",
                    ],
                    env,
                )
            )
        )
    return Setup(org, (pros[0], pros[1]))


def token(professional_id: str, env: Mapping[str, str]) -> str:
    """A personal bearer token (fetched right before each load: tokens live at most an hour)."""
    out = run_cli(["token", "--professional", professional_id], env).strip()
    if not out or len(out.split()) != 1:
        raise ServiceError("verwijsindex token printed no single token")
    return out


def match_ids(base_url: str, bearer: str, limit: int) -> list[str]:
    """Up to ``limit`` ids of matches the token's professional takes part in, via the API.

    Follows the ``next`` cursor of ``GET /api/v1/matches`` (100 per page), so it works whatever
    the schema looks like.
    """
    ids: list[str] = []
    url: str | None = f"{base_url}/api/v1/matches?pageSize=100"
    while url and len(ids) < limit:
        if not url.startswith(("http://127.", "/")):
            raise ServiceError(f"unexpected next link {url!r}")
        full = urllib.parse.urljoin(base_url, url)
        # S310: only http://127.x (checked above) or a path joined onto our own base URL
        req = urllib.request.Request(full, headers={"Authorization": f"Bearer {bearer}"})  # noqa: S310
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310
            page: dict[str, Any] = json.load(resp)
        ids.extend(str(item["id"]) for item in page.get("items", []))
        url = page.get("next")
    return ids[:limit]
