"""The audit log as several chains (issue 11 item 1): no transaction waits on another's
audit head or statistics count, and tampering within, across and with whole chains is
still found, against the signed checkpoints where the chains alone cannot tell.

Tampering is done as someone with write access to the database but not to `keys/` or the
anchor directory would do it.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date
from typing import Any

import pytest
from sqlalchemy import create_engine, delete, event, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from verwijsindex.audit import CHAINS, AuditEntry
from verwijsindex.models import AuditEventRow, AuditHeadRow
from verwijsindex.repository.statistics import add_counts, counts_between
from verwijsindex.services import Core
from verwijsindex.services.audit_chain import check_chain, make_checkpoint
from verwijsindex.services.audit_log import verify_audit_log

# Enough single-record transactions that some chain holds at least three records
# (pigeonhole: more than 2 × CHAINS), wherever the random start puts them.
BUSY_LOG = 2 * CHAINS + 8


def append(core: Core, transactions: int, records_each: int = 1) -> None:
    """Appends through the service's own code, one transaction each. Every record names
    another object, as real ones do: with the test's frozen clock, identical entries would
    make identical records wherever SQLite reuses the places a deletion freed, and a log
    restored byte for byte has nothing to detect."""
    for _ in range(transactions):
        with Session(core.database.engine) as session:
            entries = [
                AuditEntry("test:append", "audit_log", uuid.uuid4()) for _ in range(records_each)
            ]
            core.audit_log.append(session, entries, None, core.now())
            session.commit()


def tamper(core: Core, *statements: Any) -> None:
    """What someone with write access to the database, but not to keys/, could do."""
    with core.database.engine.begin() as connection:
        for statement in statements:
            connection.execute(statement)


def chain_records(core: Core, chain: int) -> list[Any]:
    with core.database.engine.connect() as connection:
        return list(
            connection.execute(
                select(AuditEventRow)
                .where(AuditEventRow.chain == chain)
                .order_by(AuditEventRow.chain_seq)
            ).all()
        )


def busiest_chain(core: Core) -> tuple[int, list[Any]]:
    with core.database.engine.connect() as connection:
        chains = Counter(connection.scalars(select(AuditEventRow.chain)))
    chain, _ = chains.most_common(1)[0]
    return chain, chain_records(core, chain)


def head_of(core: Core, chain: int) -> dict[str, Any]:
    with core.database.engine.connect() as connection:
        row = connection.execute(select(AuditHeadRow).where(AuditHeadRow.chain == chain)).one()
    return dict(row._mapping)


def grow(core: Core, chain: int) -> None:
    """Append until `chain` has a record more (the chain of each append is random)."""
    before = head_of(core, chain)["seq"]
    while head_of(core, chain)["seq"] == before:
        append(core, 1)


def full_check_against_anchors(core: Core) -> Any:
    return check_chain(core, full=True).verification


# --- nobody waits -----------------------------------------------------------------------------


@pytest.mark.postgres_only  # SQLite runs one writer at a time: nothing can wait there
def test_a_second_transaction_appends_and_commits_while_the_first_holds_its_chain(
    core: Core,
) -> None:
    append(core, 1)
    with Session(core.database.engine) as first:
        core.audit_log.append(first, [AuditEntry("test:first")], None, core.now())
        with Session(core.database.engine) as second:
            # Waiting for the first transaction's lock would fail here, not hang.
            second.execute(text("SET LOCAL lock_timeout = '2s'"))
            core.audit_log.append(second, [AuditEntry("test:second")], None, core.now())
            second.commit()
        first.commit()
    result = verify_audit_log(core)
    assert result.ok and result.checked == 3


@pytest.mark.postgres_only  # SQLite runs one writer at a time: nothing can wait there
def test_as_many_transactions_as_chains_append_at_once_and_the_next_waits_for_one(
    core: Core,
) -> None:
    append(core, 1)
    engine = create_engine(core.database.engine.url, poolclass=NullPool)  # a connection each
    sessions = [Session(engine) for _ in range(CHAINS)]
    try:
        for session in sessions:
            session.execute(text("SET LOCAL lock_timeout = '2s'"))
            core.audit_log.append(session, [AuditEntry("test:open")], None, core.now())
        with Session(engine) as late:
            late.execute(text("SET LOCAL lock_timeout = '300ms'"))
            with pytest.raises(Exception, match="lock timeout"):
                core.audit_log.append(late, [AuditEntry("test:late")], None, core.now())
        for session in sessions:
            session.commit()
    finally:
        for session in sessions:
            session.close()
        engine.dispose()
    with core.database.engine.connect() as connection:
        chains = set(connection.scalars(select(AuditEventRow.chain)))
    assert len(chains) == CHAINS  # each open transaction had a chain of its own
    assert verify_audit_log(core).ok


@pytest.mark.postgres_only  # SQLite runs one writer at a time: nothing can wait there
def test_an_append_is_two_round_trips_on_postgresql_each_a_cached_statement(core: Core) -> None:
    """It runs on every request's commit path: take a free head and number the records,
    then write them and move the head in one statement. Neither is compiled again: the
    first hits SQLAlchemy's cache, the second is driver-level SQL (never compiled)."""
    append(core, 3, records_each=2)  # the heads exist and the statements are compiled
    seen: list[tuple[str, bool]] = []

    def count(_c: Any, _cur: Any, statement: str, _p: Any, context: Any, _m: bool) -> None:
        compiled = context.compiled is not None
        seen.append(
            (statement.split()[0], not compiled or context.cache_hit is context.dialect.CACHE_HIT)
        )

    event.listen(core.database.engine, "after_cursor_execute", count)
    try:
        append(core, 1, records_each=2)
    finally:
        event.remove(core.database.engine, "after_cursor_execute", count)
    statements = [(first, hit) for first, hit in seen if first not in ("BEGIN", "COMMIT")]
    assert statements == [("WITH", True), ("WITH", True)]


@pytest.mark.postgres_only  # SQLite runs one writer at a time: nothing can wait there
def test_counting_the_same_sector_and_month_does_not_wait_on_an_open_transaction(
    core: Core,
) -> None:
    month, cell = date(2026, 11, 1), ("onderwijs", "signals")
    with Session(core.database.engine) as first:
        add_counts(first, month, {cell: 1})
        with Session(core.database.engine) as second:
            second.execute(text("SET LOCAL lock_timeout = '2s'"))
            add_counts(second, month, {cell: 1})
            second.commit()
        first.commit()
    with Session(core.database.engine) as session:
        assert counts_between(session, month, month) == [(month, *cell, 2)]


# --- tampering within a chain -------------------------------------------------------------------


def test_an_edit_in_the_middle_of_a_chain_names_the_record_and_its_chain(core: Core) -> None:
    append(core, BUSY_LOG)
    chain, rows = busiest_chain(core)
    middle = rows[1]
    tamper(core, update(AuditEventRow).where(AuditEventRow.seq == middle.seq).values(roles="x"))
    result = verify_audit_log(core)
    assert (result.ok, result.first_bad_seq, result.first_bad_chain) == (False, middle.seq, chain)
    assert "its content was altered" in (result.reason or "")


def test_a_record_inserted_in_the_middle_of_a_chain_is_found(core: Core) -> None:
    append(core, BUSY_LOG)
    chain, rows = busiest_chain(core)
    after = rows[0]
    # Make room as a careful forger would: shift the later records one place on.
    for row in reversed(rows[1:]):
        tamper(
            core,
            update(AuditEventRow)
            .where(AuditEventRow.seq == row.seq)
            .values(chain_seq=row.chain_seq + 1),
        )
    forged = {c.key: getattr(after, c.key) for c in AuditEventRow.__table__.columns}
    forged.update(seq=after.seq + 10_000_000, chain_seq=after.chain_seq + 1, prev_mac=after.mac)
    forged["mac"] = "f" * 64
    tamper(
        core,
        AuditEventRow.__table__.insert().values(**forged),
    )
    result = verify_audit_log(core)
    assert (result.ok, result.first_bad_chain) == (False, chain)
    assert result.first_bad_seq == forged["seq"]


def test_a_record_deleted_in_the_middle_of_a_chain_is_found(core: Core) -> None:
    append(core, BUSY_LOG)
    chain, rows = busiest_chain(core)
    tamper(core, delete(AuditEventRow).where(AuditEventRow.seq == rows[1].seq))
    result = verify_audit_log(core)
    assert (result.ok, result.first_bad_seq, result.first_bad_chain) == (False, rows[2].seq, chain)
    assert f"seq {rows[1].chain_seq} is missing" in (result.reason or "")


def test_the_last_record_of_a_chain_deleted_is_found_by_its_head(core: Core) -> None:
    append(core, BUSY_LOG)
    chain, rows = busiest_chain(core)
    tamper(core, delete(AuditEventRow).where(AuditEventRow.seq == rows[-1].seq))
    result = verify_audit_log(core)
    assert (result.ok, result.first_bad_chain) == (False, chain)
    assert f"records after seq {len(rows) - 1} are missing" in (result.reason or "")


def test_a_record_moved_to_another_chain_is_found(core: Core) -> None:
    """Its MAC covers its chain: a record cannot be passed off as another chain's."""
    append(core, BUSY_LOG)
    chain, rows = busiest_chain(core)
    other = (chain + 1) % CHAINS
    last_of_other = chain_records(core, other)
    moved = rows[-1]
    place = last_of_other[-1].chain_seq + 1 if last_of_other else 1
    prev = last_of_other[-1].mac if last_of_other else "0" * 64
    tamper(
        core,
        update(AuditEventRow)
        .where(AuditEventRow.seq == moved.seq)
        .values(chain=other, chain_seq=place, prev_mac=prev),
        update(AuditHeadRow).where(AuditHeadRow.chain == other).values(seq=place, mac=moved.mac),
    )
    result = verify_audit_log(core)
    assert not result.ok
    assert result.first_bad_chain in (chain, other)


# --- whole chains, truncation and rollback: the anchors ------------------------------------------


def test_a_whole_chain_removed_passes_the_chains_alone_but_not_the_checkpoint(
    core: Core,
) -> None:
    append(core, BUSY_LOG)
    chain, rows = busiest_chain(core)
    make_checkpoint(core)
    tamper(
        core,
        delete(AuditEventRow).where(AuditEventRow.chain == chain),
        delete(AuditHeadRow).where(AuditHeadRow.chain == chain),
    )
    assert verify_audit_log(core).ok  # what the database alone can say
    result = full_check_against_anchors(core)
    assert (result.ok, result.first_bad_chain) == (False, chain)
    assert "the log ends at seq 0 but checkpoint" in (result.reason or "")
    assert f"vouches for seq {len(rows)}" in (result.reason or "")


def test_records_without_their_chains_head_are_found(core: Core) -> None:
    append(core, BUSY_LOG)
    chain, _ = busiest_chain(core)
    tamper(core, delete(AuditHeadRow).where(AuditHeadRow.chain == chain))
    result = verify_audit_log(core)
    assert (result.ok, result.first_bad_chain) == (False, chain)
    assert "head record is missing" in (result.reason or "")


def test_the_whole_log_truncated_is_found_against_the_checkpoint(core: Core) -> None:
    append(core, BUSY_LOG)
    make_checkpoint(core)
    tamper(core, delete(AuditEventRow), delete(AuditHeadRow))
    assert verify_audit_log(core).ok and verify_audit_log(core).checked == 0
    result = full_check_against_anchors(core)
    assert not result.ok
    assert "truncated or rolled back" in (result.reason or "")


def test_one_chain_rolled_back_to_an_earlier_head_is_found_against_the_checkpoint(
    core: Core,
) -> None:
    append(core, BUSY_LOG)
    chain, rows = busiest_chain(core)
    older = chain_records(core, chain)[-2]
    make_checkpoint(core)
    tamper(
        core,
        delete(AuditEventRow).where(AuditEventRow.seq == rows[-1].seq),
        update(AuditHeadRow)
        .where(AuditHeadRow.chain == chain)
        .values(
            seq=older.chain_seq,
            mac=older.mac,
            head_mac=core.audit_log.head_mac(chain, older.chain_seq, older.mac),
        ),
    )
    # Only possible with the key; it shows what the chain alone cannot catch.
    assert verify_audit_log(core).ok
    result = full_check_against_anchors(core)
    assert (result.ok, result.first_bad_chain) == (False, chain)
    assert f"vouches for seq {len(rows)}" in (result.reason or "")


def test_a_rollback_regrown_past_the_checkpoint_is_found_by_the_anchored_record(
    core: Core,
) -> None:
    append(core, BUSY_LOG)
    chain, _ = busiest_chain(core)
    older_head = head_of(core, chain)
    grow(core, chain)
    anchored = head_of(core, chain)
    make_checkpoint(core)
    tamper(
        core,
        delete(AuditEventRow).where(
            AuditEventRow.chain == chain, AuditEventRow.chain_seq > older_head["seq"]
        ),
        update(AuditHeadRow).where(AuditHeadRow.chain == chain).values(**older_head),
    )
    while head_of(core, chain)["seq"] <= anchored["seq"]:
        append(core, CHAINS)  # the service writes on, past the anchored place
    result = full_check_against_anchors(core)
    assert (result.ok, result.first_bad_chain) == (False, chain)
    assert f"record {anchored['seq']} is missing or differs" in (result.reason or "")


def test_a_deletion_after_the_newest_checkpoint_with_the_head_set_back_is_not_detectable(
    core: Core,
) -> None:
    """The stated window: records appended to a chain after the newest checkpoint can be
    removed without a trace by someone who also holds an older head row of that chain (read
    earlier: head rows carry a MAC, which only the key can make). The next checkpoint closes
    the window for them."""
    append(core, BUSY_LOG)
    make_checkpoint(core)
    chain, _ = busiest_chain(core)
    older_head = head_of(core, chain)
    grow(core, chain)
    tamper(
        core,
        delete(AuditEventRow).where(
            AuditEventRow.chain == chain, AuditEventRow.chain_seq > older_head["seq"]
        ),
        update(AuditHeadRow).where(AuditHeadRow.chain == chain).values(**older_head),
    )
    assert full_check_against_anchors(core).ok
