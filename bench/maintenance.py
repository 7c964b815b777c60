"""``python -m bench.maintenance``: `verwijsindex maintenance` at scale, time and peak memory.

Issue 11 asks for 5 000 000 stored signals of which 250 000 are due. The run:

1. recreates the database (``--database-url``, dropped at the end unless ``--keep-database``),
   migrates it and creates one organisation with two professionals (``bench.service``);
2. bulk-loads ``--signals`` active signals with their matches (``bench.load``: COPY, the
   service's own pseudonyms, encryption and match rules);
3. makes ``--due`` of them due, half each way, with two UPDATEs (then VACUUM ANALYZE):
   the oldest active signals get an active period that ended yesterday (to be **archived**:
   each leaves its matches, as closing does), and as many signals in no match become archived
   ones whose archive period ended yesterday (to be **deleted**, children forgotten in the
   audit log). Nobody in the load has turned 23, so that sweep finds nothing. Every loaded
   participation is marked as reminded a day ago, as at steady state, so the follow-up
   reminders have nothing to send (but still look);
4. runs ``verwijsindex maintenance --json`` as a real process and reports its wall time and
   peak RSS (``bench.measure``), and checks that it archived and deleted exactly what was due.

Maintenance ends with an incremental audit verification and a checkpoint; with no earlier
checkpoint that walk covers the records this run wrote (one per archived or deleted signal),
which is what a daily run would verify. Its stderr progress lines are kept in the results.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import psycopg

from bench import db, measure, service
from bench.load import load_signals

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/verwijsindex_bench_maint"

# Half the due signals are archived-and-expired ones in no match: a signal is archived only
# after it has left its matches, so these must be ones the load put in none.
MAKE_DELETE_DUE = """
    UPDATE signals SET status = 'archived',
           active_until = now() - interval '5 years 1 day',
           archived_at = now() - interval '5 years 1 day',
           archived_until = now() - interval '1 day'
     WHERE id IN (SELECT s.id FROM signals s
                   WHERE s.status = 'active'
                     AND NOT EXISTS (SELECT 1 FROM match_signals ms WHERE ms.signal_id = s.id)
                   ORDER BY s.id LIMIT %s)
"""
# At steady state everyone in an older match has followed up or been reminded: without this,
# the first run would also send a reminder for every loaded participation.
MARK_REMINDED = """
    INSERT INTO match_follow_ups (match_id, professional_id, reminded_at)
    SELECT DISTINCT ms.match_id, s.professional_id, now() - interval '1 day'
      FROM match_signals ms JOIN signals s ON s.id = ms.signal_id
    ON CONFLICT DO NOTHING
"""
MAKE_ARCHIVE_DUE = """
    UPDATE signals SET active_until = now() - interval '1 day'
     WHERE id IN (SELECT id FROM signals WHERE status = 'active'
                   ORDER BY created_at, id LIMIT %s)
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.maintenance", description=__doc__)
    p.add_argument("--signals", type=int, default=5_000_000, help="stored signals")
    p.add_argument("--due", type=int, default=250_000, help="of which due (half each way)")
    p.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="dropped and recreated!")
    p.add_argument("--keep-database", action="store_true")
    p.add_argument("--timeout", type=float, default=3600, help="seconds for the maintenance run")
    p.add_argument("--results-dir", type=Path, default=measure.RESULTS_DIR)
    args = p.parse_args(argv)
    if not 0 < args.due <= args.signals // 2:
        p.error("--due must be positive and at most half of --signals")
    return args


def make_due(database_url: str, due: int) -> dict[str, int]:
    """Age ``due`` loaded signals (see the module doc); returns how many went each way."""
    with psycopg.connect(db.libpq_url(database_url)) as conn:
        delete_due = conn.execute(MAKE_DELETE_DUE, (due // 2,)).rowcount
        archive_due = conn.execute(MAKE_ARCHIVE_DUE, (due - due // 2,)).rowcount
        reminded = conn.execute(MARK_REMINDED).rowcount
        conn.commit()
    with psycopg.connect(db.libpq_url(database_url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE signals")
        conn.execute("VACUUM ANALYZE match_follow_ups")
    return {"archive_due": archive_due, "delete_due": delete_due, "reminded_before": reminded}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url = args.database_url
    results: dict[str, Any] = {
        "config": {"signals": args.signals, "due": args.due},
        "loadavg_at_start": os.getloadavg(),
        "postgres": None,
    }
    db.recreate_database(url)
    try:
        with tempfile.TemporaryDirectory(prefix="verwijsindex-bench-maint-") as tmp:
            keys = Path(tmp) / "keys"
            env = service.service_env(url, keys)
            setup = service.prepare(env)
            results["postgres"] = db.server_facts(url)
            summary = load_signals(url, keys, args.signals, setup.professional_ids)
            results["load_seconds"] = round(summary.seconds, 1)
            results["made_due"] = make_due(url, args.due)
            print(f"due: {results['made_due']}", flush=True)
            run = measure.run_measured(["maintenance", "--json"], env, args.timeout)
            results["maintenance"] = run.as_dict()
            report = run.json_output()
            results["maintenance_report"] = report
    finally:
        if not args.keep_database:
            db.drop_database(url)
    results["loadavg_at_end"] = os.getloadavg()
    due = results["made_due"]
    complete = (
        run.returncode == 0
        and report.get("archived") == due["archive_due"]
        and report.get("deletedExpired") == due["delete_due"]
    )
    results["complete"] = complete
    print(measure.row(f"maintenance @{args.signals:,} signals, {args.due:,} due", run))
    print(f"  report: {report}")
    if not complete:
        print(f"  INCOMPLETE: expected {due}; stderr:\n{run.stderr_tail}", file=sys.stderr)
    print(f"results: {measure.write_results('maintenance', results, args.results_dir)}")
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
