"""The ``reads`` part of ``python -m bench.signals``: GET /api/v1/matches/{id}, ours against
the raw-SQL read reference (``bench.rawsql_read_app``), in one run on one database.

Both serve the same loaded database (the baseline size, 10 000 signals), with the same keys,
the same gunicorn settings, the same wrk script, the same list of match ids and the same
token (professional A's). Ours runs first, then the reference; each gets a warm-up and a
measured run, and the commits and WAL syncs per request are recorded for both.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from bench import db, service
from bench.load import load_signals
from bench.servers import gunicorn

if TYPE_CHECKING:
    from bench.signals import Runner

RAW_READ_APP = "bench.rawsql_read_app:app"


def reads(runner: Runner) -> dict[str, Any]:
    """Measure ours and the reference on the same match ids; see the module doc."""
    url, base = runner.args.database_url, runner.args.baseline_signals
    db.recreate_database(url)
    keys = runner.workdir / f"keys-reads-{secrets.token_hex(4)}"
    keys.mkdir()
    env = service.service_env(url, keys)
    setup = service.prepare(env)
    load_signals(url, keys, base, setup.professional_ids, bench_until=base)
    db.analyze(url)
    out: dict[str, Any] = {"signals": base}
    with runner.serve_ours("ours-reads", env, [setup.professional_ids[0]]) as (srv, tokens):
        token = tokens[0]
        ids = service.match_ids(srv.base_url, token, runner.args.match_sample)
        if not ids:
            raise RuntimeError("no matches visible to professional A")
        paths = [f"/api/v1/matches/{i}" for i in ids]
        out["match_ids_sampled"] = len(ids)
        before = db.activity(url)
        out["ours"] = runner.get_load(srv.base_url, paths, token, "ours get_match")
    out["ours"]["db_per_request"] = runner.db_per_request(before, _answered(out["ours"]))
    raw_env = {"BENCH_DATABASE_URL": url, "BENCH_KEYS_DIR": str(keys)}
    before = db.activity(url)
    with gunicorn(
        "rawsql-read",
        RAW_READ_APP,
        runner.settings,
        runner.workdir,
        env=raw_env,
        cwd=service.REPO_ROOT,
    ) as srv:
        out["rawsql"] = runner.get_load(srv.base_url, paths, token, "rawsql get_match")
    out["rawsql"]["db_per_request"] = runner.db_per_request(before, _answered(out["rawsql"]))
    return out


def _answered(run: dict[str, Any]) -> int:
    """Requests answered in a GET load's warm-up and measured run."""
    return int(run["requests"]) + int(run["warmup_requests"])
