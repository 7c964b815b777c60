"""The audit log: one record per access, keyed chains that notice edits, insertions and
deletions (the last record included), on SQLite and PostgreSQL, under concurrent writers
in several processes. (Tampering within, across and with whole chains: `test_audit_chains`.)
"""

from __future__ import annotations

import hashlib
import multiprocessing
import uuid
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import delete, func, select, update

from tests.conftest import CHILD_BSN, PARENT_BSN, SIBLING_BSN, World
from tests.integration.test_concurrency import new_signal, valid_bsns
from verwijsindex.cli import main
from verwijsindex.config import Settings
from verwijsindex.crypto import load_keys
from verwijsindex.db import Database
from verwijsindex.models import AuditEventRow, AuditHeadRow
from verwijsindex.services import Actor, Core
from verwijsindex.services.audit_log import verify_audit_log
from verwijsindex.services.signals import register_signal


def records(core: Core) -> list[AuditEventRow]:
    with core.database.engine.connect() as connection:
        return list(connection.execute(select(AuditEventRow).order_by(AuditEventRow.seq)).all())  # type: ignore[arg-type]


def tamper(core: Core, statement: Any) -> None:
    """What someone with write access to the database, but not to keys/, could do."""
    with core.database.engine.begin() as connection:
        connection.execute(statement)


def scenario(world: World) -> tuple[Any, Any]:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    anna.signal(CHILD_BSN, parents=[PARENT_BSN])
    bert.signal(CHILD_BSN)
    match_id = anna.get("/api/v1/matches").get_json()["items"][0]["id"]
    bert.get(f"/api/v1/matches/{match_id}")
    anna.signal(SIBLING_BSN)
    return anna, bert


def test_a_signal_flow_leaves_one_record_per_access_with_who_what_and_whom(
    world: World, core: Core
) -> None:
    anna, _ = scenario(world)
    rows = records(core)
    actions = [r.action for r in rows]
    # 2 organisations + 2 professionals from the CLI-level services, then the API flow.
    assert actions[-5:] == [
        "api:signal:create",
        "api:signal:create",
        "api:match:list",
        "api:match:read",
        "api:signal:create",
    ]
    create = rows[-5]
    assert create.outcome == "success"
    assert create.actor_id == anna.professional_id
    assert create.object_type == "signal"
    assert create.subject_pseudonym and create.subject_pseudonym.count(":") == 1
    assert create.request_id and create.client_address == "127.0.0.1"
    second = rows[-4]
    assert second.related_ids, "the match the second signal formed is named"
    for chain in {r.chain for r in rows}:
        places = [r.chain_seq for r in rows if r.chain == chain]
        assert places == list(range(1, len(places) + 1))  # in append order, no gaps


def test_the_request_id_given_by_the_caller_is_kept_and_echoed(world: World, core: Core) -> None:
    anna = world.professional("Anna Jansen")
    response = anna.get("/api/v1/signals", headers={"X-Request-Id": "school-system-42"})
    assert response.headers["X-Request-Id"] == "school-system-42"
    assert records(core)[-1].request_id == "school-system-42"
    generated = anna.get("/api/v1/signals", headers={"X-Request-Id": "bad id with spaces"})
    assert generated.headers["X-Request-Id"] != "bad id with spaces"
    assert records(core)[-1].request_id == generated.headers["X-Request-Id"]


def test_a_refused_access_is_recorded_as_denied(world: World, core: Core) -> None:
    anna = world.professional("Anna Jansen", "School A")
    bert = world.professional("Bert Bakker", "Jeugdteam B", "jeugdhulp")
    signal_id = anna.signal(CHILD_BSN)["id"]
    assert bert.get(f"/api/v1/signals/{signal_id}").status_code == 404
    last = records(core)[-1]
    assert (last.action, last.outcome, str(last.object_id)) == (
        "api:signal:read",
        "denied",
        signal_id,
    )
    assert last.actor_id == bert.professional_id
    assert verify_audit_log(core).ok


def test_an_intact_log_verifies(world: World, core: Core) -> None:
    scenario(world)
    result = verify_audit_log(core)
    assert result.ok and result.checked == len(records(core))


def test_an_edited_record_is_found(world: World, core: Core) -> None:
    scenario(world)
    sixth = records(core)[5]
    tamper(
        core, update(AuditEventRow).where(AuditEventRow.seq == sixth.seq).values(outcome="denied")
    )
    result = verify_audit_log(core)
    assert (result.ok, result.first_bad_seq, result.first_bad_chain) == (
        False,
        sixth.seq,
        sixth.chain,
    )


def test_an_edited_record_with_a_recomputed_unkeyed_hash_is_still_found(
    world: World, core: Core
) -> None:
    """Rewriting the MAC as a plain SHA-256 (all an attacker without keys/ can do) fails."""
    scenario(world)
    fifth = records(core)[4].seq
    tamper(
        core,
        update(AuditEventRow)
        .where(AuditEventRow.seq == fifth)
        .values(actor_id=None, mac=hashlib.sha256(b"forged content").hexdigest()),
    )
    assert verify_audit_log(core).first_bad_seq == fifth


def test_a_record_appended_to_a_chain_by_hand_is_found(world: World, core: Core) -> None:
    scenario(world)
    last = records(core)[-1]
    forged = {c.key: getattr(last, c.key) for c in AuditEventRow.__table__.columns}
    forged.update(
        seq=last.seq + 1,
        chain_seq=last.chain_seq + 1,
        prev_mac=last.mac,
        mac="f" * 64,
        action="api:signal:read",
    )
    tamper(core, AuditEventRow.__table__.insert().values(**forged))
    # ...and the chain's head moved along, as a careful forger would.
    tamper(
        core,
        update(AuditHeadRow)
        .where(AuditHeadRow.chain == last.chain)
        .values(seq=last.chain_seq + 1, mac="f" * 64),
    )
    result = verify_audit_log(core)
    assert (result.ok, result.first_bad_chain) == (False, last.chain)
    assert "head record was altered" in (result.reason or "")


def test_a_deleted_record_is_found(world: World, core: Core) -> None:
    """(Deletions in the middle of a chain: `test_audit_chains`.)"""
    scenario(world)
    tamper(core, delete(AuditEventRow).where(AuditEventRow.seq == records(core)[3].seq))
    result = verify_audit_log(core)
    assert not result.ok
    assert "missing" in (result.reason or "")


def test_deleting_the_newest_records_is_found(world: World, core: Core) -> None:
    scenario(world)
    newest = records(core)[-1].seq
    tamper(core, delete(AuditEventRow).where(AuditEventRow.seq >= newest - 1))
    result = verify_audit_log(core)
    assert not result.ok
    assert "missing" in (result.reason or "")


def test_a_swapped_data_subject_is_found(world: World, core: Core) -> None:
    scenario(world)
    rows = [r for r in records(core) if r.subject_pseudonym]
    tamper(
        core,
        update(AuditEventRow)
        .where(AuditEventRow.seq == rows[0].seq)
        .values(subject_pseudonym=rows[-1].subject_pseudonym),
    )
    assert verify_audit_log(core).first_bad_seq == rows[0].seq


def test_erasing_a_child_blanks_its_pseudonym_and_the_chain_still_verifies(
    world: World, core: Core
) -> None:
    anna = world.professional("Anna Jansen")
    signal_id = anna.signal(CHILD_BSN)["id"]
    pseudonym = records(core)[-1].subject_pseudonym
    assert pseudonym
    assert anna.delete(f"/api/v1/signals/{signal_id}?reason=unjustified").status_code == 204
    with core.database.engine.connect() as connection:
        left = connection.scalar(
            select(func.count()).where(AuditEventRow.subject_pseudonym == pseudonym)
        )
    assert left == 0
    assert records(core)[-1].action == "api:signal:erase"
    assert verify_audit_log(core).ok


def test_audit_verify_command_exits_1_naming_the_first_bad_record(
    world: World, core: Core, settings: Settings
) -> None:
    scenario(world)
    env = {
        "VERWIJSINDEX_DATABASE_URL": settings.database_url,
        "VERWIJSINDEX_KEYS_DIR": str(settings.keys_dir),
    }
    runner = CliRunner()
    good = runner.invoke(main, ["audit", "verify"], env=env)
    assert good.exit_code == 0, good.output
    assert "intact" in good.output
    third = records(core)[2].seq
    tamper(core, update(AuditEventRow).where(AuditEventRow.seq == third).values(roles="x"))
    bad = runner.invoke(main, ["audit", "verify"], env=env)
    assert bad.exit_code == 1
    assert f"record seq {third}" in bad.output


# --- concurrent writers ---------------------------------------------------------------------


def _write_signals(database_url: str, keys_dir: str, professional_id: str, start: int) -> None:
    """In a separate process: its own engine and connections, 15 audited signals."""
    keys = Path(keys_dir)
    core = Core(
        Settings(database_url=database_url, keys_dir=keys), Database(database_url), load_keys(keys)
    )
    with core.transaction(write=False) as tx:
        professional = tx.people.professional(uuid.UUID(professional_id))
    assert professional is not None
    for child in valid_bsns(15, start):
        register_signal(core, Actor(professional), new_signal(child, []))
    core.database.dispose()


def test_concurrent_writers_in_several_processes_keep_every_chain_unbroken(
    world: World, core: Core, settings: Settings
) -> None:
    people = [world.professional(f"Professional {n}", f"Organisation {n}") for n in range(4)]
    before = len(records(core))
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(
            target=_write_signals,
            args=(
                settings.database_url,
                str(settings.keys_dir),
                str(people[n].professional_id),
                500_000_000 + n * 1000,
            ),
        )
        for n in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=180)
        assert worker.exitcode == 0
    rows = records(core)
    assert len(rows) == before + 4 * 15
    for chain in {r.chain for r in rows}:
        places = sorted(r.chain_seq for r in rows if r.chain == chain)
        assert places == list(range(1, len(places) + 1))
    if core.database.dialect == "postgresql":
        assert len({r.chain for r in rows}) > 1
    result = verify_audit_log(core)
    assert result.ok and result.checked == len(rows)
