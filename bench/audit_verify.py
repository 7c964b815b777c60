"""``python -m bench.audit_verify``: `verwijsindex audit verify` at scale, time and peak memory.

Issue 11 asks for 10 000 000 audit records, and that a daily verification cost the day's
records, not the whole history. The run:

1. recreates the database (``--database-url``, dropped at the end unless ``--keep-database``)
   and migrates it, with fresh keys;
2. loads ``--records`` records that verify (``bench.audit_load``: the service's own record
   and MAC code, written with COPY);
3. measures ``verwijsindex audit verify --full --json``, a real process: it walks every
   record and, being intact, anchors a verified checkpoint at the head;
4. loads ``--new`` more records (a day's worth) after that checkpoint;
5. measures ``verwijsindex audit verify --incremental --json``: from the checkpoint on.

Each reports wall time, CPU time and peak RSS (``bench.measure``), and how many records the
command says it checked. A run counts only when both verifications say the log is intact
and checked what was loaded.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import db, measure, service
from bench.audit_load import load_audit_records

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/verwijsindex_bench_audit"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.audit_verify", description=__doc__)
    p.add_argument("--records", type=int, default=10_000_000, help="records before the checkpoint")
    p.add_argument("--new", type=int, default=50_000, help="records added after it")
    p.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="dropped and recreated!")
    p.add_argument("--keep-database", action="store_true")
    p.add_argument("--timeout", type=float, default=3600, help="seconds per verification")
    p.add_argument("--results-dir", type=Path, default=measure.RESULTS_DIR)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url = args.database_url
    results: dict[str, Any] = {
        "config": {"records": args.records, "new": args.new},
        "loadavg_at_start": os.getloadavg(),
    }
    runs: dict[str, measure.Measured] = {}
    db.recreate_database(url)
    try:
        with tempfile.TemporaryDirectory(prefix="verwijsindex-bench-audit-") as tmp:
            env = service.service_env(url, Path(tmp) / "keys")
            service.run_cli(["db", "upgrade"], env)
            results["postgres"] = db.server_facts(url)
            results["load_seconds"] = round(
                load_audit_records(url, Path(tmp) / "keys", args.records), 1
            )
            runs["full"] = measure.run_measured(
                ["audit", "verify", "--full", "--json"], env, args.timeout
            )
            results["new_load_seconds"] = round(
                load_audit_records(url, Path(tmp) / "keys", args.new), 1
            )
            runs["incremental"] = measure.run_measured(
                ["audit", "verify", "--incremental", "--json"], env, args.timeout
            )
    finally:
        if not args.keep_database:
            db.drop_database(url)
    results["loadavg_at_end"] = os.getloadavg()
    expected = {"full": args.records, "incremental": args.new}
    complete = True
    for name, run in runs.items():
        said = run.json_output()
        results[name] = {**run.as_dict(), "said": said}
        ok = (
            run.returncode == 0 and said.get("ok") is True and said.get("checked") == expected[name]
        )
        complete = complete and ok
        label = f"audit verify --{name} ({said.get('checked')} checked)"
        print(measure.row(label, run) + ("" if ok else "  UNEXPECTED"))
        if not ok:
            print(f"  said {said}; stderr:\n{run.stderr_tail}", file=sys.stderr)
    results["complete"] = complete
    print(f"results: {measure.write_results('audit-verify', results, args.results_dir)}")
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
