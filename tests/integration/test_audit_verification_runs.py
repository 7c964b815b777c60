"""Verification runs and the credential column: a queued run is run once however many
workers race for it, a dead worker's run is taken over, the walk goes in batches, and the
kind of credential that acted is covered by the record's MAC."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time

import pytest
from sqlalchemy import select, update

from tests.conftest import FakeClock, World
from tests.integration.test_audit import records, scenario, tamper
from verwijsindex import audit_verify
from verwijsindex.audit import AuditEntry, Who
from verwijsindex.models import AuditEventRow, AuditVerificationRow
from verwijsindex.services import Core
from verwijsindex.services.audit_chain import VERIFY_LEASE, check_chain, run_queued_verification
from verwijsindex.services.audit_log import verify_audit_log


def queue(core: Core, *, full: bool = False) -> None:
    with core.transaction(write=True) as tx:
        tx.audit.queue_verification(tx.now, source="web", full=full, requested_by=None)
        tx.commit()


def runs(core: Core) -> list[AuditVerificationRow]:
    with core.database.engine.connect() as connection:
        return list(connection.execute(select(AuditVerificationRow)).all())  # type: ignore[arg-type]


def test_two_workers_racing_for_one_queued_verification_run_it_once(
    world: World, core: Core
) -> None:
    scenario(world)
    queue(core)
    barrier = threading.Barrier(4)
    results: list[object] = []

    def worker() -> None:
        barrier.wait()
        results.append(run_queued_verification(core))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 4
    assert sum(r is not None for r in results) == 1
    (run,) = runs(core)
    assert (run.status, run.ok, run.to_seq) == ("done", True, len(records(core)))


def test_a_worker_claiming_while_another_claim_is_uncommitted_gets_nothing(
    world: World, core: Core
) -> None:
    """The race itself: the second claim reads the run as queued, then waits for the first
    claim's row lock (PostgreSQL) or write lock (SQLite); after the first commits, its
    conditional update must change nothing."""
    scenario(world)
    queue(core)
    second: list[object] = []

    def claim_again() -> None:
        with core.transaction(write=True) as tx:
            second.append(tx.audit.claim_verification(tx.now, tx.now + VERIFY_LEASE))
            tx.commit()

    with core.transaction(write=True) as tx:
        assert tx.audit.claim_verification(tx.now, tx.now + VERIFY_LEASE) is not None
        racing = threading.Thread(target=claim_again)
        racing.start()
        time.sleep(0.5)  # the second claim has read the row and waits for our lock
        tx.commit()
    racing.join(timeout=60)
    assert second == [None]


def test_a_run_whose_worker_died_is_taken_over_when_its_lease_runs_out(
    world: World, core: Core, clock: FakeClock
) -> None:
    scenario(world)
    queue(core)
    with core.transaction(write=True) as tx:  # claimed by a worker that then died
        assert tx.audit.claim_verification(tx.now, tx.now + VERIFY_LEASE) is not None
        tx.commit()
    assert run_queued_verification(core) is None  # still leased
    clock.advance(seconds=VERIFY_LEASE.total_seconds() + 1)
    assert run_queued_verification(core) is not None
    assert [r.status for r in runs(core)] == ["done"]


def test_the_walk_reads_the_log_in_batches_and_reports_progress(
    world: World, core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario(world)
    monkeypatch.setattr(audit_verify, "VERIFY_BATCH", 4)
    progress: list[int] = []
    check = check_chain(core, full=True, on_progress=progress.append)
    total = len(records(core))
    assert check.verification.ok and check.verification.checked == total
    # After every batch of at most 4 records of one chain, never the whole log at once.
    steps = [b - a for a, b in zip([0, *progress], progress, strict=False)]
    assert progress[-1] == total and all(1 <= step <= 4 for step in steps)


# --- the credential column --------------------------------------------------------------------


def append(core: Core, who: Who) -> int:
    with core.transaction(write=True) as tx:
        tx.audit_log.append(tx.uow.session, [AuditEntry("signal:list")], who, tx.now)
        tx.commit()
    return records(core)[-1].seq


@pytest.mark.parametrize("forged", ["web", None])
def test_the_credential_that_acted_is_covered_by_the_mac(
    world: World, core: Core, forged: str | None
) -> None:
    anna = world.professional("Anna Jansen")
    seq = append(core, Who(anna.professional_id, roles=("professional",), credential="system"))
    assert records(core)[-1].credential == "system"
    assert verify_audit_log(core).ok
    tamper(core, update(AuditEventRow).where(AuditEventRow.seq == seq).values(credential=forged))
    assert verify_audit_log(core).first_bad_seq == seq


def test_a_record_without_a_credential_keeps_the_mac_it_had_before_the_column_existed(
    world: World, core: Core
) -> None:
    """Records written before revision 0006 verify unchanged: the MAC formula without the
    column (and, for a record of chain 0 in the same place in its chain and in the log, as
    all records before revision 0007 are) is exactly the old one."""
    anna = world.professional("Anna Jansen")
    seq = append(core, Who(anna.professional_id, roles=("professional",)))
    row = records(core)[-1]
    assert row.seq == seq and row.credential is None
    as_before_0007 = {c.key: getattr(row, c.key) for c in AuditEventRow.__table__.columns}
    as_before_0007.update(chain=0, chain_seq=row.seq)
    covered = {
        "seq": row.seq,
        "occurred_at": row.occurred_at.isoformat(),
        "action": row.action,
        "outcome": row.outcome,
        "actor_id": str(row.actor_id),
        "on_behalf_of": None,
        "roles": row.roles,
        "object_type": None,
        "object_id": None,
        "related_ids": row.related_ids,
        "subject_commitment": None,
        "request_id": row.request_id,
        "client_address": row.client_address,
        "prev_mac": row.prev_mac,
    }
    message = json.dumps(covered, sort_keys=True, separators=(",", ":")).encode()
    old_mac = hmac.new(core.keys.audit_key, message, hashlib.sha256).hexdigest()
    assert core.audit_log.record_mac(as_before_0007) == old_mac
    assert row.mac != old_mac  # a record of today also covers its chain and place
    tamper(core, update(AuditEventRow).where(AuditEventRow.seq == seq).values(credential="web"))
    assert verify_audit_log(core).first_bad_seq == seq


def test_the_audit_api_shows_the_credential(world: World, core: Core) -> None:
    officer = world.professional("Petra Privacy", "Regio", "jeugdhulp", roles=("privacy_officer",))
    append(core, Who(officer.professional_id, credential="personal"))
    # The search is recorded after it reads, so the newest record it shows is ours.
    items = officer.get("/api/v1/audit-events?pageSize=2").get_json()["items"]
    assert items[0]["credential"] == "personal"
