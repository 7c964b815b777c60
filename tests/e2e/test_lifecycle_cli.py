"""`verwijsindex maintenance` and `verwijsindex admin report-death`, run in-process with
click's runner against the test databases. The CLI runs on the wall clock, so signals are
registered through the API with the test clock set years back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import Result
from sqlalchemy import select

from tests.conftest import CHILD_BSN, SIBLING_BSN, FakeClock, World
from tests.e2e.test_cli import assert_clean_failure, json_of, run
from verwijsindex.models import AuditEventRow, SignalRow
from verwijsindex.services import Core

INVALID_BSN = "123456789"  # nine digits failing the elfproef


def statuses(core: Core) -> dict[str, str]:
    with core.database.engine.connect() as connection:
        return {str(i): s for i, s in connection.execute(select(SignalRow.id, SignalRow.status))}


def actions(core: Core) -> list[str]:
    with core.database.engine.connect() as connection:
        return list(connection.scalars(select(AuditEventRow.action).order_by(AuditEventRow.seq)))


def expired_signal(world: World, clock: FakeClock) -> str:
    """A signal registered a little over two years before now (wall clock)."""
    clock.now = datetime.now(UTC) - timedelta(days=2 * 366 + 5)
    signal_id: str = world.professional("Anna Jansen").signal(CHILD_BSN)["id"]
    return signal_id


def report_death(env: dict[str, str], stdin: str, *args: str) -> Result:
    return run(env, "admin", "report-death", "--bsn-stdin", *args, stdin=stdin)


# --- maintenance ----------------------------------------------------------------------------


def test_maintenance_json_counts_what_it_did_and_a_second_run_finds_nothing(
    env: dict[str, str], world: World, core: Core, clock: FakeClock
) -> None:
    signal_id = expired_signal(world, clock)

    first = json_of(run(env, "maintenance", "--json"))
    second = json_of(run(env, "maintenance", "--json"))

    assert first == {
        "archived": 1,
        "deleted": 0,
        "deletedExpired": 0,
        "deletedAt23": 0,
        "childrenForgotten": 0,
        "idempotencyKeysPurged": 0,
        "followUpReminders": 0,
        "reviewReminders": 0,
        "notificationsPurged": 0,
        "feedEventsPurged": 0,
        "syncRunsPurged": 0,
        "statisticsRowsCompacted": 0,  # one signal counted: one row, nothing to fold
    }
    assert second == dict.fromkeys(first, 0)
    assert statuses(core) == {signal_id: "archived"}


def test_maintenance_is_audited_with_maintenance_as_its_source(
    env: dict[str, str], world: World, core: Core, clock: FakeClock
) -> None:
    expired_signal(world, clock)

    assert run(env, "maintenance").exit_code == 0

    assert actions(core)[-1] == "maintenance:signal:expire"


def test_maintenance_without_json_prints_a_line_per_kind_of_change(
    env: dict[str, str], world: World, clock: FakeClock
) -> None:
    expired_signal(world, clock)

    result = run(env, "maintenance")

    assert result.exit_code == 0, result.output
    assert "archived 1 signals" in result.stdout
    assert "deleted 0 signals (child turned 23)" in result.stdout


def test_maintenance_on_an_empty_database_changes_nothing(env: dict[str, str]) -> None:
    data = json_of(run(env, "maintenance", "--json"))
    assert set(data.values()) == {0}


# --- report-death ---------------------------------------------------------------------------


def test_report_death_reads_the_bsn_from_stdin_and_deletes_only_that_child(
    env: dict[str, str], world: World, core: Core, clock: FakeClock
) -> None:
    clock.now = datetime.now(UTC)
    anna, bert = world.professional("Anna Jansen"), world.professional("Bert Bakker", "Team B")
    anna.signal(CHILD_BSN)
    bert.signal(CHILD_BSN)
    sibling = bert.signal(SIBLING_BSN)["id"]

    data = json_of(report_death(env, f"{CHILD_BSN}\n", "--json"))

    assert data == {"deleted": 2}
    assert statuses(core) == {sibling: "active"}
    assert actions(core)[-1] == "cli:child:report-death"


def test_report_death_without_json_prints_the_count(env: dict[str, str]) -> None:
    result = report_death(env, f"{CHILD_BSN}\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "deleted 0 signals"


@pytest.mark.parametrize("given", [INVALID_BSN, "", "11122233", "111 222 333"])
def test_report_death_with_an_invalid_bsn_is_exit_2_without_echoing_it(
    env: dict[str, str], given: str
) -> None:
    message = assert_clean_failure(report_death(env, f"{given}\n"), 2)
    assert "elfproef" in message
    if given:
        assert given not in message


def test_report_death_never_takes_the_bsn_from_the_command_line(env: dict[str, str]) -> None:
    assert_clean_failure(run(env, "admin", "report-death"), 2)
    for args in ([CHILD_BSN], ["--bsn-stdin", CHILD_BSN]):
        result = run(env, "admin", "report-death", *args, stdin=f"{SIBLING_BSN}\n")
        message = assert_clean_failure(result, 2)
        assert CHILD_BSN not in message, "a BSN typed as an argument must not be echoed"


def test_report_death_help_says_it_is_a_beheerder_action_without_a_login(
    env: dict[str, str],
) -> None:
    result = run(env, "admin", "report-death", "--help")
    assert result.exit_code == 0
    assert "beheerder" in result.stdout
    assert "no login" in result.stdout
