"""The audit chains anchored outside the database (issue 10 item 3): signed checkpoints of
every chain's head catch a truncated or rolled-back log, a forged anchor line is reported,
and incremental verification covers exactly the records after the newest verified
checkpoint. (Single chains removed or rolled back: `test_audit_chains`.)

Tampering is done as someone with write access to the database but not to `keys/` or the
anchor directory would do it; the checks run through `verwijsindex audit verify`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from sqlalchemy import delete, select, text, update

from tests.conftest import OTHER_CHILD_BSN, World
from tests.integration.test_audit import records, scenario, tamper
from verwijsindex.audit_anchor import ANCHOR_FILE
from verwijsindex.cli import main
from verwijsindex.config import Settings
from verwijsindex.models import AuditEventRow, AuditHeadRow
from verwijsindex.services import Core


def cli(settings: Settings, *args: str) -> Result:
    env = {
        "VERWIJSINDEX_DATABASE_URL": settings.database_url,
        "VERWIJSINDEX_KEYS_DIR": str(settings.keys_dir),
    }
    return CliRunner().invoke(main, list(args), env=env)


def head_rows(core: Core) -> list[dict[str, Any]]:
    with core.database.engine.connect() as connection:
        rows = connection.execute(select(AuditHeadRow).order_by(AuditHeadRow.chain)).all()
    return [dict(row._mapping) for row in rows]


def checkpoint(settings: Settings, anchor_dir: Path) -> list[dict[str, Any]]:
    """Make one with the command; the chains the newest line of the anchor file names."""
    made = cli(settings, "audit", "checkpoint", "--json")
    assert made.exit_code == 0, made.output
    newest = (anchor_dir / ANCHOR_FILE).read_text().splitlines()[-1]
    chains: list[dict[str, Any]] = json.loads(json.loads(newest)["payload"])["chains"]
    return chains


def roll_back(core: Core, older_heads: list[dict[str, Any]]) -> None:
    """Every chain back to an earlier consistent state: its later records gone, its head
    row as read earlier (head rows carry a MAC that only the key can make)."""
    for head in older_heads:
        tamper(
            core,
            delete(AuditEventRow).where(
                AuditEventRow.chain == head["chain"], AuditEventRow.chain_seq > head["seq"]
            ),
        )
        tamper(core, update(AuditHeadRow).where(AuditHeadRow.chain == head["chain"]).values(**head))


def test_a_truncated_log_fails_verify_against_the_newest_checkpoint(
    world: World, core: Core, settings: Settings, audit_anchor_dir: Path
) -> None:
    scenario(world)
    chains = checkpoint(settings, audit_anchor_dir)
    assert sum(c["seq"] for c in chains) == len(records(core))
    anchored = next(c["seq"] for c in chains if c["seq"] > 0)  # the first chain compared
    if core.database.dialect == "postgresql":
        tamper(core, text("TRUNCATE audit_events, audit_heads"))
    else:
        tamper(core, delete(AuditEventRow))
        tamper(core, delete(AuditHeadRow))
    result = cli(settings, "audit", "verify")
    assert result.exit_code == 1, result.output
    assert "the log ends at seq 0 but checkpoint" in result.output
    assert f"vouches for seq {anchored}" in result.output
    assert "truncated or rolled back" in result.output


def test_deleting_the_tail_and_restoring_older_heads_fails_verify(
    world: World, core: Core, settings: Settings, audit_anchor_dir: Path
) -> None:
    anna, _ = scenario(world)
    older_heads = head_rows(core)  # read earlier by whoever means to roll back
    anna.signal(OTHER_CHILD_BSN)
    anna.get("/api/v1/signals")
    checkpoint(settings, audit_anchor_dir)
    roll_back(core, older_heads)
    result = cli(settings, "audit", "verify")
    assert result.exit_code == 1, result.output
    assert "but checkpoint" in result.output and "truncated or rolled back" in result.output


def test_a_rollback_that_new_records_have_grown_past_the_checkpoint_is_found(
    world: World, core: Core, settings: Settings, audit_anchor_dir: Path
) -> None:
    """After a rollback the service writes on: the log is longer than the anchor again,
    but the record at an anchored place is another one (or still missing)."""
    anna, _ = scenario(world)
    older_heads = head_rows(core)
    anna.get("/api/v1/signals")
    anchored = sum(c["seq"] for c in checkpoint(settings, audit_anchor_dir))
    roll_back(core, older_heads)
    while len(records(core)) <= anchored + 16:
        anna.get("/api/v1/signals")
    result = cli(settings, "audit", "verify")
    assert result.exit_code == 1, result.output
    assert "rolled back" in result.output


def test_an_edited_anchor_line_is_reported_as_forged(
    world: World, core: Core, settings: Settings, audit_anchor_dir: Path
) -> None:
    scenario(world)
    checkpoint(settings, audit_anchor_dir)
    anchors = audit_anchor_dir / ANCHOR_FILE
    line = json.loads(anchors.read_text())
    payload = json.loads(line["payload"])
    payload["chains"][0]["seq"] += 1000  # claim more than was there, keeping the signature
    line["payload"] = json.dumps(payload, separators=(",", ":"))
    anchors.write_text(json.dumps(line) + "\n")
    result = cli(settings, "audit", "verify")
    assert result.exit_code == 1, result.output
    assert "line 1 is not signed with this service's checkpoint key" in result.output


def test_a_line_that_is_no_checkpoint_at_all_is_reported_as_forged(
    world: World, core: Core, settings: Settings, audit_anchor_dir: Path
) -> None:
    scenario(world)
    checkpoint(settings, audit_anchor_dir)
    with (audit_anchor_dir / ANCHOR_FILE).open("a") as anchors:
        anchors.write('{"payload": "{}", "signature": "AAAA"}\n')
    result = cli(settings, "audit", "verify")
    assert result.exit_code == 1
    assert "line 2 is not signed" in result.output


def test_a_witness_copy_catches_truncation_when_the_own_anchors_are_gone(
    world: World, core: Core, settings: Settings, audit_anchor_dir: Path, tmp_path: Path
) -> None:
    scenario(world)
    checkpoint(settings, audit_anchor_dir)
    witness = tmp_path / "witness.jsonl"
    shutil.copy(audit_anchor_dir / ANCHOR_FILE, witness)
    (audit_anchor_dir / ANCHOR_FILE).unlink()
    tamper(core, delete(AuditEventRow))
    tamper(core, delete(AuditHeadRow))
    assert cli(settings, "audit", "verify").exit_code == 0  # nothing left to compare with
    result = cli(settings, "audit", "verify", "--anchor", str(witness))
    assert result.exit_code == 1, result.output
    assert "truncated or rolled back" in result.output


def test_without_any_checkpoint_verify_warns_that_truncation_is_not_checkable(
    world: World, settings: Settings
) -> None:
    scenario(world)
    result = cli(settings, "audit", "verify")
    assert result.exit_code == 0
    assert "no signed checkpoint found" in result.stderr


def verified_then_grown(world: World, core: Core, settings: Settings) -> int:
    """A full verify anchors a verified checkpoint; then more records are written."""
    anna, _ = scenario(world)
    first = cli(settings, "audit", "verify", "--json")
    assert first.exit_code == 0, first.output
    verified_through: int = json.loads(first.stdout)["toSeq"]
    anna.signal(OTHER_CHILD_BSN)
    anna.get("/api/v1/signals")
    anna.get("/api/v1/matches")
    assert len(records(core)) > verified_through + 2
    return verified_through


def test_incremental_verify_catches_an_edit_after_the_checkpoint_but_not_one_before_it(
    world: World, core: Core, settings: Settings
) -> None:
    verified_through = verified_then_grown(world, core, settings)
    rows = records(core)  # in append order: the first `verified_through` were verified
    before, after = rows[2].seq, rows[verified_through + 1].seq
    for seq in (before, after):
        tamper(core, update(AuditEventRow).where(AuditEventRow.seq == seq).values(roles="x"))

    incremental = cli(settings, "audit", "verify", "--incremental", "--json")
    assert incremental.exit_code == 1
    found = json.loads(incremental.stdout)
    # It starts after the checkpoint, so the earlier edit is not even seen.
    assert (found["fromSeq"], found["firstBadSeq"]) == (verified_through + 1, after)

    full = cli(settings, "audit", "verify", "--full", "--json")
    assert full.exit_code == 1
    assert json.loads(full.stdout)["firstBadSeq"] in (before, after)


def test_an_edit_before_the_verified_checkpoint_is_found_only_by_a_full_verify(
    world: World, core: Core, settings: Settings
) -> None:
    verified_then_grown(world, core, settings)
    third = records(core)[2].seq
    tamper(core, update(AuditEventRow).where(AuditEventRow.seq == third).values(roles="x"))
    assert cli(settings, "audit", "verify", "--incremental").exit_code == 0
    full = cli(settings, "audit", "verify", "--full")
    assert full.exit_code == 1
    assert f"record seq {third}" in full.output


def test_incremental_verify_walks_only_the_records_since_the_verified_checkpoint(
    world: World, core: Core, settings: Settings
) -> None:
    anna, _ = scenario(world)
    assert cli(settings, "audit", "verify").exit_code == 0
    verified = len(records(core))
    anna.get("/api/v1/signals?status=active")
    result = cli(settings, "audit", "verify", "--incremental", "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 0, result.output
    assert (data["fromSeq"], data["checked"]) == (verified + 1, len(records(core)) - verified)


def test_maintenance_verifies_the_new_records_and_anchors_a_checkpoint(
    world: World, core: Core, settings: Settings, audit_anchor_dir: Path
) -> None:
    scenario(world)
    result = cli(settings, "maintenance")
    assert result.exit_code == 0, result.output
    assert "new audit records: intact" in result.stdout
    (line,) = (audit_anchor_dir / ANCHOR_FILE).read_text().splitlines()
    payload = json.loads(json.loads(line)["payload"])
    assert payload["verified"] is True
    assert payload["chains"] == [
        {"chain": h["chain"], "seq": h["seq"], "mac": h["mac"]} for h in head_rows(core)
    ]
    assert "verwijsindex.audit.checkpoint" in result.stderr  # the log line


def test_maintenance_exits_1_when_the_log_is_broken(
    world: World, core: Core, settings: Settings
) -> None:
    scenario(world)
    fourth = records(core)[3].seq
    tamper(core, update(AuditEventRow).where(AuditEventRow.seq == fourth).values(roles="x"))
    result = cli(settings, "maintenance")
    assert result.exit_code == 1
    assert f"audit log BROKEN at record seq {fourth}" in result.stderr


def test_the_worker_once_runs_a_queued_verification(
    world: World, core: Core, settings: Settings
) -> None:
    scenario(world)
    with core.transaction(write=True) as tx:
        tx.audit.queue_verification(tx.now, source="web", full=True, requested_by=None)
        tx.commit()
    result = cli(settings, "worker", "--once", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["verificationsRun"] == 1
    with core.transaction(write=False) as tx:
        last = tx.audit.last_verification()
        assert last is not None and (last.ok, last.full, last.source) == (True, True, "web")
