"""Drive the real verwijsindex through its documented command line and API only.

The benchmark must not depend on the service's internals (they are being written in parallel),
so it uses the contract: ``verwijsindex db upgrade``, ``admin create-organisation/-professional
--json``, ``token --professional``, and the HTTP API for collecting match ids.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import shutil
import subprocess
import sys
import urllib.error
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
    """Environment for every verwijsindex command; add the address with :func:`served_at`
    before starting a gunicorn or minting its tokens."""
    return {
        "VERWIJSINDEX_DATABASE_URL": database_url,
        "VERWIJSINDEX_KEYS_DIR": str(keys_dir),
        # importable from the work tree even when the package is not pip-installed
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }


def served_at(env: Mapping[str, str], base_url: str) -> dict[str, str]:
    """``env`` for a service answering at ``base_url``: its ``next`` links point there."""
    return {**env, "VERWIJSINDEX_BASE_URL": base_url}


def cli_argv() -> list[str]:
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
        [*cli_argv(), *args],
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


def token_issuer(bearer: str) -> str:
    """The ``iss`` claim of a JWT, read without verifying it (the service verifies)."""
    try:
        payload = bearer.split(".")[1]
        claims: dict[str, Any] = json.loads(
            base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        )
        return str(claims["iss"])
    except (IndexError, KeyError, ValueError, binascii.Error) as exc:
        raise ServiceError(f"verwijsindex token printed no readable JWT ({exc})") from None


def check_token(base_url: str, bearer: str) -> None:
    """Fail early, with the reason, unless the server at ``base_url`` accepts ``bearer``: a
    token it does not accept would make every request of a load a 401. (The issuer is stable
    per installation, not the listening address, so only the server can say.)"""
    token_issuer(bearer)  # a readable JWT at all
    status = _get(base_url, "/api/v1/matches?pageSize=1", bearer)[0]
    if status != 200:
        raise ServiceError(f"the server at {base_url} answered {status} to its own token")


def _get(base_url: str, path_and_query: str, bearer: str) -> tuple[int, Any]:
    """GET ``path_and_query`` on our own server at ``base_url``: (status, JSON body or None)."""
    if not path_and_query.startswith("/"):
        raise ServiceError(f"not a path: {path_and_query!r}")
    # S310: base_url is the http://127.0.0.1:<port> of the gunicorn we started; only the path
    # and query come from the service
    req = urllib.request.Request(  # noqa: S310
        base_url.rstrip("/") + path_and_query, headers={"Authorization": f"Bearer {bearer}"}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as exc:
        return exc.code, None


def local_part(link: str) -> str:
    """Path and query of a link (absolute or not), to be asked of our own server whatever host
    the service put in it."""
    parts = urllib.parse.urlsplit(link)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def match_ids(base_url: str, bearer: str, limit: int) -> list[str]:
    """Up to ``limit`` ids of matches the token's professional takes part in, via the API.

    Follows the ``next`` link of ``GET /api/v1/matches`` (100 per page), so it works whatever
    the schema looks like. Only the link's path and query are used, always on ``base_url``: the
    host in it is the service's configured public address, which need not be where we reach it.
    """
    ids: list[str] = []
    path: str | None = "/api/v1/matches?pageSize=100"
    while path and len(ids) < limit:
        status, page = _get(base_url, path, bearer)
        if status != 200 or not isinstance(page, dict):
            raise ServiceError(f"GET {path.split('?')[0]} answered {status}")
        ids.extend(str(item["id"]) for item in page.get("items", []))
        link = page.get("next")
        path = local_part(link) if link else None
    return ids[:limit]
