"""`verwijsindex import` (contract section 9) end to end: the real command, through click's
runner and once as a real process on a terminal, against SQLite and PostgreSQL.

The command runs on the wall clock, so the app's test clock is set to now; signals by hand
come through the API, as a professional would register them.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import pty
import struct
import subprocess
import sys
import termios
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import func, select

from tests.conftest import (
    CHILD_BSN,
    OTHER_CHILD_BSN,
    OTHER_PARENT_BSN,
    PARENT_BSN,
    SIBLING_BSN,
    ApiClient,
    FakeClock,
    World,
)
from tests.e2e.test_cli import assert_clean_failure, run
from tests.e2e.test_privacy import database_contents, forbidden_forms
from verwijsindex import domain
from verwijsindex.domain import start_of_local_day
from verwijsindex.models import AuditEventRow, OutboxRow, SignalRow
from verwijsindex.services import Core
from verwijsindex.services.bulk import BATCH_SIZE
from verwijsindex.services.csv_import import import_rows
from verwijsindex.services.csv_values import CsvRow, parse_row

HEADER = "professional;bsn;birthDate;parentBsns;childInformed;parentsInformed"
INVALID_BSN = "111222334"  # nine digits failing the elfproef
JUSTIFICATION = "Vader is gewelddadig; informeren brengt het kind in gevaar."
QUOTED = f'"{JUSTIFICATION}"'  # it holds the delimiter


@pytest.fixture
def anna(world: World, clock: FakeClock) -> ApiClient:
    clock.now = datetime.now(UTC)
    return world.professional("Anna Jansen")  # School A, anna.jansen@example.org


def write_csv(
    tmp_path: Path, *rows: str, header: str = HEADER, name: str = "leerlingen.csv"
) -> str:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return str(path)


def row(professional: str, bsn: str, parents: str = "", birth: str = "14-03-2015") -> str:
    return f"{professional};{bsn};{birth};{parents};ja;ja"


def import_(env: dict[str, str], path: str, organisation: uuid.UUID, *args: str) -> Result:
    return run(env, "import", path, "--organisation", str(organisation), *args)


def report_of(result: Result, code: int = 0) -> dict[str, Any]:
    assert result.exit_code == code, (result.output, result.exc_info)
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.stdout
    data: dict[str, Any] = json.loads(lines[0])
    return data


def counts(report: dict[str, Any]) -> tuple[int, int, int, int, list[int]]:
    return (
        report["created"],
        report["updated"],
        report["closed"],
        report["unchanged"],
        [s["line"] for s in report["skipped"]],
    )


def signal_statuses(core: Core) -> dict[tuple[uuid.UUID, str | None], list[str]]:
    """Status per (professional, feed), to see what an import did without any pseudonym."""
    found: dict[tuple[uuid.UUID, str | None], list[str]] = {}
    with core.database.engine.connect() as connection:
        for pid, feed, status in connection.execute(
            select(SignalRow.professional_id, SignalRow.feed, SignalRow.status)
        ):
            found.setdefault((pid, feed), []).append(status)
    return {key: sorted(value) for key, value in found.items()}


def emails(core: Core) -> int:
    with core.database.engine.connect() as connection:
        return (
            connection.scalar(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.channel == "email")
            )
            or 0
        )


# --- importing --------------------------------------------------------------------------


def test_import_creates_signals_and_prints_one_json_report(
    env: dict[str, str], tmp_path: Path, anna: ApiClient, core: Core
) -> None:
    path = write_csv(
        tmp_path,
        row("anna.jansen@example.org", CHILD_BSN, f"{PARENT_BSN}|{OTHER_PARENT_BSN}"),
        row(str(anna.professional_id), SIBLING_BSN, PARENT_BSN),
        row("Anna.Jansen@Example.org", OTHER_CHILD_BSN, birth="2015-03-14"),
    )

    report = report_of(import_(env, path, anna.organisation_id, "--json"))

    assert report == {"created": 3, "updated": 0, "closed": 0, "unchanged": 0, "skipped": []}
    assert signal_statuses(core) == {(anna.professional_id, "import"): ["active"] * 3}
    assert len(anna.get("/api/v1/signals").get_json()["items"]) == 3


def test_each_imported_signal_has_its_own_audit_record_naming_its_professional(
    env: dict[str, str], tmp_path: Path, anna: ApiClient, core: Core
) -> None:
    path = write_csv(
        tmp_path,
        row("anna.jansen@example.org", CHILD_BSN),
        row("anna.jansen@example.org", SIBLING_BSN),
    )

    assert import_(env, path, anna.organisation_id).exit_code == 0

    with core.database.engine.connect() as connection:
        records = connection.execute(
            select(
                AuditEventRow.actor_id, AuditEventRow.on_behalf_of, AuditEventRow.object_id
            ).where(AuditEventRow.action == "cli:signal:create")
        ).all()
        signal_ids = set(connection.scalars(select(SignalRow.id)))
    assert {r.object_id for r in records} == signal_ids and len(records) == 2
    assert all(anna.professional_id in (r.actor_id, r.on_behalf_of) for r in records)
    assert run(env, "audit", "verify").exit_code == 0


def test_running_the_same_file_again_creates_nothing(
    env: dict[str, str], tmp_path: Path, anna: ApiClient, core: Core
) -> None:
    path = write_csv(
        tmp_path,
        row("anna.jansen@example.org", CHILD_BSN),
        row("anna.jansen@example.org", SIBLING_BSN),
    )
    assert import_(env, path, anna.organisation_id).exit_code == 0
    before = signal_statuses(core)

    again = report_of(import_(env, path, anna.organisation_id, "--json"))

    assert counts(again) == (0, 0, 0, 2, [])
    assert signal_statuses(core) == before


def test_a_changed_informatieplicht_updates_the_imported_signal(
    env: dict[str, str], tmp_path: Path, anna: ApiClient
) -> None:
    header = HEADER + ";postponementReason;justification;reviewOn"
    postponed = (
        f"anna.jansen@example.org;{CHILD_BSN};14-03-2015;;ja;nee;"
        f"not_in_interest_of_child;{QUOTED};01-01-2099"
    )
    informed = f"anna.jansen@example.org;{CHILD_BSN};14-03-2015;;ja;ja;;;"
    assert (
        import_(env, write_csv(tmp_path, postponed, header=header), anna.organisation_id).exit_code
        == 0
    )

    report = report_of(
        import_(
            env,
            write_csv(tmp_path, informed, header=header, name="b.csv"),
            anna.organisation_id,
            "--json",
        )
    )

    assert counts(report) == (0, 1, 0, 0, [])
    (signal,) = anna.get("/api/v1/signals").get_json()["items"]
    assert signal["informatieplicht"]["parentsInformed"] is True
    assert signal["informatieplicht"]["postponed"] is False


def test_bad_rows_are_skipped_with_their_line_and_reasons_and_the_rest_imported(
    env: dict[str, str], tmp_path: Path, anna: ApiClient, core: Core
) -> None:
    header = HEADER + ";justification;postponementReason;reviewOn"
    path = write_csv(
        tmp_path,
        row("anna.jansen@example.org", CHILD_BSN) + ";;;",  # 2
        row("anna.jansen@example.org", INVALID_BSN) + ";;;",  # 3
        row("nobody@example.org", SIBLING_BSN) + ";;;",  # 4
        # 5-6: a justification over two lines, with a BSN in it, and no reason
        row("anna.jansen@example.org", OTHER_CHILD_BSN) + f';"Zie {CHILD_BSN}\nverder";;01-01-2099',
        row("anna.jansen@example.org", SIBLING_BSN, birth="1990-01-01") + ";;;",  # 7: too old
        row("anna.jansen@example.org", SIBLING_BSN, birth="2015-13-01") + ";;;",  # 8
        row("anna.jansen@example.org", SIBLING_BSN) + ";;;",  # 9
        header=header,
    )

    result = import_(env, path, anna.organisation_id, "--json")
    report = report_of(result, code=1)

    assert counts(report) == (2, 0, 0, 0, [3, 4, 5, 7, 8])
    names = {s["line"]: [p["name"] for p in s["invalidParams"]] for s in report["skipped"]}
    assert names == {
        3: ["bsn"],
        4: ["professional"],
        5: ["postponementReason", "justification"],  # the BSN in it
        7: ["birthDate"],
        8: ["birthDate"],
    }
    for bsn in (CHILD_BSN, INVALID_BSN, SIBLING_BSN, OTHER_CHILD_BSN):
        assert bsn not in result.output
    assert signal_statuses(core) == {(anna.professional_id, "import"): ["active", "active"]}


def test_a_row_with_everyone_informed_and_a_postponement_is_skipped_as_contradictory(
    env: dict[str, str], tmp_path: Path, anna: ApiClient, core: Core
) -> None:
    header = HEADER + ";postponementReason;justification;reviewOn"
    path = write_csv(
        tmp_path,
        row("anna.jansen@example.org", CHILD_BSN)
        + f";not_in_interest_of_child;{QUOTED};01-01-2099",
        row("anna.jansen@example.org", SIBLING_BSN) + ";;;",
        header=header,
    )
    report = report_of(import_(env, path, anna.organisation_id, "--json"), code=1)
    assert counts(report) == (1, 0, 0, 0, [2])
    (skipped,) = report["skipped"]
    assert skipped["invalidParams"] == [
        {"name": "postponementReason", "reason": domain.NOTHING_TO_POSTPONE}
    ]


def test_without_json_a_short_summary_lists_the_skipped_lines_with_reasons(
    env: dict[str, str], tmp_path: Path, anna: ApiClient
) -> None:
    path = write_csv(
        tmp_path,
        row("anna.jansen@example.org", CHILD_BSN),
        row("anna.jansen@example.org", INVALID_BSN),
        row("anna.jansen@example.org", SIBLING_BSN, birth="31-02-2015"),
    )

    result = import_(env, path, anna.organisation_id)

    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "created 1, updated 0, closed 0, unchanged 0, skipped 2 (lines 3, 4)"
    assert lines[1].startswith("line 3: bsn: ")
    assert lines[2] == "line 4: birthDate: Not a date: write YYYY-MM-DD or DD-MM-YYYY."
    assert INVALID_BSN not in result.output


# --- matches, mail, migration -------------------------------------------------------------


def hand_registered(world: World, bsn: str = CHILD_BSN, **kwargs: Any) -> ApiClient:
    bert = world.professional("Bert Bakker", "Jeugdteam Noord", "jeugdhulp")
    bert.signal(bsn, **kwargs)
    return bert


def test_a_row_on_a_hand_registered_child_forms_the_match_and_stages_mails(
    env: dict[str, str], tmp_path: Path, anna: ApiClient, world: World, core: Core
) -> None:
    bert = hand_registered(world)
    mails_before = emails(core)

    path = write_csv(tmp_path, row("anna.jansen@example.org", CHILD_BSN))
    assert report_of(import_(env, path, anna.organisation_id, "--json"))["created"] == 1

    (match,) = bert.get("/api/v1/matches").get_json()["items"]
    assert match["type"] == "client"
    assert {p["professionalId"] for p in match["participants"]} == {
        str(anna.professional_id),
        str(bert.professional_id),
    }
    assert emails(core) > mails_before


def test_a_family_match_forms_through_a_shared_parent(
    env: dict[str, str], tmp_path: Path, anna: ApiClient, world: World
) -> None:
    bert = hand_registered(world, SIBLING_BSN, parents=[PARENT_BSN])

    path = write_csv(tmp_path, row("anna.jansen@example.org", CHILD_BSN, PARENT_BSN))
    assert import_(env, path, anna.organisation_id).exit_code == 0

    assert [m["type"] for m in bert.get("/api/v1/matches").get_json()["items"]] == ["family"]


def test_migration_forms_the_match_without_mail_and_keeps_the_registration_date(
    env: dict[str, str], tmp_path: Path, anna: ApiClient, world: World, core: Core
) -> None:
    bert = hand_registered(world)
    mails_before = emails(core)
    registered = date.today() - timedelta(days=400)
    path = write_csv(
        tmp_path,
        row("anna.jansen@example.org", CHILD_BSN) + f";{registered.strftime('%d-%m-%Y')}",
        header=HEADER + ";registeredOn",
    )

    report = report_of(import_(env, path, anna.organisation_id, "--migration", "--json"))

    assert counts(report) == (1, 0, 0, 0, [])
    assert [m["type"] for m in bert.get("/api/v1/matches").get_json()["items"]] == ["client"]
    assert emails(core) == mails_before
    (signal,) = anna.get("/api/v1/signals").get_json()["items"]
    created = datetime.fromisoformat(signal["createdAt"])
    assert created == start_of_local_day(registered)
    assert datetime.fromisoformat(signal["activeUntil"]) < datetime.now(UTC) + timedelta(days=366)


def test_registered_on_is_refused_in_the_future_and_over_two_years_ago(
    env: dict[str, str], tmp_path: Path, anna: ApiClient
) -> None:
    dates = [date.today() + timedelta(days=2), date.today() - timedelta(days=3 * 365)]
    path = write_csv(
        tmp_path,
        *(row("anna.jansen@example.org", CHILD_BSN) + f";{d.isoformat()}" for d in dates),
        header=HEADER + ";registeredOn",
    )

    report = report_of(import_(env, path, anna.organisation_id, "--migration", "--json"), code=1)

    assert counts(report) == (0, 0, 0, 0, [2, 3])
    assert {p["name"] for s in report["skipped"] for p in s["invalidParams"]} == {"registeredOn"}


# --- sync and dry run ---------------------------------------------------------------------


def test_sync_closes_an_imported_signal_absent_from_the_file_and_never_a_hand_made_one(
    env: dict[str, str], tmp_path: Path, anna: ApiClient, core: Core
) -> None:
    anna.signal(OTHER_CHILD_BSN)  # by hand
    first = write_csv(
        tmp_path,
        row("anna.jansen@example.org", CHILD_BSN),
        row("anna.jansen@example.org", SIBLING_BSN),
    )
    assert import_(env, first, anna.organisation_id).exit_code == 0

    second = write_csv(tmp_path, row("anna.jansen@example.org", CHILD_BSN), name="b.csv")
    report = report_of(import_(env, second, anna.organisation_id, "--sync", "--json"))

    assert counts(report) == (0, 0, 1, 1, [])
    assert signal_statuses(core) == {
        (anna.professional_id, None): ["active"],
        (anna.professional_id, "import"): ["active", "archived"],
    }


def test_sync_closes_nothing_when_a_skipped_row_cannot_be_tied_to_a_signal(
    env: dict[str, str], tmp_path: Path, anna: ApiClient, core: Core
) -> None:
    first = write_csv(
        tmp_path,
        row("anna.jansen@example.org", CHILD_BSN),
        row("anna.jansen@example.org", SIBLING_BSN),
    )
    assert import_(env, first, anna.organisation_id).exit_code == 0
    # The sibling's row lost a digit: it may be the very signal a sync would close.
    second = write_csv(
        tmp_path,
        row("anna.jansen@example.org", CHILD_BSN),
        row("anna.jansen@example.org", SIBLING_BSN[:-1] + "0"),
        name="b.csv",
    )

    result = import_(env, second, anna.organisation_id, "--sync", "--json")

    assert counts(report_of(result, code=1)) == (0, 0, 0, 1, [3])
    assert "closed nothing" in result.stderr
    assert signal_statuses(core) == {(anna.professional_id, "import"): ["active", "active"]}


def test_sync_with_a_file_without_rows_is_refused(
    env: dict[str, str], tmp_path: Path, anna: ApiClient, core: Core
) -> None:
    assert (
        import_(
            env,
            write_csv(tmp_path, row("anna.jansen@example.org", CHILD_BSN)),
            anna.organisation_id,
        ).exit_code
        == 0
    )

    message = assert_clean_failure(
        import_(env, write_csv(tmp_path, name="empty.csv"), anna.organisation_id, "--sync"), 2
    )

    assert "no rows" in message
    assert signal_statuses(core) == {(anna.professional_id, "import"): ["active"]}


def test_dry_run_reports_and_changes_nothing(
    env: dict[str, str], tmp_path: Path, anna: ApiClient, core: Core
) -> None:
    both = write_csv(
        tmp_path,
        row("anna.jansen@example.org", CHILD_BSN),
        row("anna.jansen@example.org", SIBLING_BSN),
    )
    dry = report_of(import_(env, both, anna.organisation_id, "--dry-run", "--json"))
    assert counts(dry) == (2, 0, 0, 0, [])
    assert signal_statuses(core) == {}

    assert import_(env, both, anna.organisation_id).exit_code == 0
    one = write_csv(tmp_path, row("anna.jansen@example.org", CHILD_BSN), name="b.csv")
    result = import_(env, one, anna.organisation_id, "--sync", "--dry-run")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "dry run: nothing was changed; the import would have",
        "created 0, updated 0, closed 1, unchanged 1, skipped 0",
    ]
    assert signal_statuses(core) == {(anna.professional_id, "import"): ["active", "active"]}


# --- files that cannot be imported ----------------------------------------------------------


A_ROW = f"anna.jansen@example.org;{CHILD_BSN};2015-03-14\n".encode()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty"),
        (b"\n\n", "empty"),
        (b"professional;bsn;birthDate;diagnose\n" + A_ROW, "'diagnose'"),
        (b"professional;parentBsns\n" + A_ROW, "Missing required column(s): bsn, birthDate"),
        (b"professional\tbsn\tbirthDate\n" + A_ROW, "Wrong delimiter"),
        (b"professional;bsn;birthDate;registeredOn\n" + A_ROW, "--migration"),
        ("professional;bsn;birthDate\nPé;1;2015-03-14\n".encode("cp1252") + A_ROW, "not UTF-8"),
    ],
)
def test_a_file_that_cannot_be_read_exits_2_with_one_message_and_imports_nothing(
    env: dict[str, str], tmp_path: Path, anna: ApiClient, core: Core, content: bytes, expected: str
) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(content)

    message = assert_clean_failure(import_(env, str(path), anna.organisation_id), 2)

    assert expected in message
    assert CHILD_BSN not in message
    assert signal_statuses(core) == {}


def test_a_missing_file_and_an_unknown_organisation_exit_2(
    env: dict[str, str], tmp_path: Path, anna: ApiClient
) -> None:
    missing = assert_clean_failure(import_(env, str(tmp_path / "nee.csv"), anna.organisation_id), 2)
    assert "No such file" in missing
    path = write_csv(tmp_path, row("anna.jansen@example.org", CHILD_BSN))
    unknown = assert_clean_failure(import_(env, path, uuid.uuid4()), 2)
    assert "no organisation" in unknown
    assert "UUID" in assert_clean_failure(run(env, "import", path, "--organisation", "school-a"), 2)


def valid_bsns() -> Iterator[str]:
    """Nine-digit numbers passing the elfproef, in order (generated, no one's number)."""
    for number in range(100_000_000, 1_000_000_000):
        digits = [int(c) for c in str(number)]
        if (
            sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=False)) - digits[8]
        ) % 11 == 0:
            yield str(number)


def test_rows_are_applied_batch_by_batch_while_the_file_is_still_being_read(
    anna: ApiClient, core: Core
) -> None:
    applied_when_read: dict[int, int] = {}
    bsns = valid_bsns()

    def rows() -> Iterator[CsvRow]:
        for line in range(2, 3 * BATCH_SIZE + 2):
            if line % BATCH_SIZE == 0:
                applied_when_read[line] = len(
                    signal_statuses(core).get((anna.professional_id, "import"), [])
                )
            yield parse_row(
                line,
                {
                    "professional": str(anna.professional_id),
                    "bsn": next(bsns),
                    "birthDate": "2015-03-14",
                    "childInformed": "ja",
                    "parentsInformed": "ja",
                },
            )

    outcome = import_rows(core, rows(), anna.organisation_id)

    assert outcome.report.created == 3 * BATCH_SIZE and outcome.rows == 3 * BATCH_SIZE
    # When a line is read, every full batch of the lines before it is in the database.
    assert applied_when_read == {
        BATCH_SIZE: 0,
        2 * BATCH_SIZE: BATCH_SIZE,
        3 * BATCH_SIZE: 2 * BATCH_SIZE,
    }


# --- privacy --------------------------------------------------------------------------------


def unkeyed_hashes(bsn: str) -> list[bytes]:
    return [
        *forbidden_forms(bsn),
        hashlib.sha1(bsn.encode()).hexdigest().encode(),  # noqa: S324 - what an attacker tries
        hashlib.md5(bsn.encode()).hexdigest().encode(),  # noqa: S324
    ]


def test_no_bsn_of_the_file_nor_its_unkeyed_hash_is_in_the_database_logs_or_output(
    env: dict[str, str],
    tmp_path: Path,
    anna: ApiClient,
    world: World,
    core: Core,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # includes SQLAlchemy's statements and parameters
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    hand_registered(world)  # a match, so mails and match records are written too
    header = HEADER + ";postponementReason;justification;reviewOn;externalRef"
    bsns = [CHILD_BSN, SIBLING_BSN, OTHER_CHILD_BSN, PARENT_BSN, OTHER_PARENT_BSN, INVALID_BSN]
    path = write_csv(
        tmp_path,
        f"anna.jansen@example.org;{CHILD_BSN};14-03-2015;{PARENT_BSN} {OTHER_PARENT_BSN};ja;nee;"
        f"not_in_interest_of_child;{QUOTED};01-01-2099;{CHILD_BSN}",
        f"anna.jansen@example.org;{SIBLING_BSN};14-03-2015;{PARENT_BSN};ja;ja;;;;leerling-7",
        f"anna.jansen@example.org;{INVALID_BSN};14-03-2015;{OTHER_CHILD_BSN};ja;ja;;;;",
        f"anna.jansen@example.org;{OTHER_CHILD_BSN};14-03-2015;{OTHER_CHILD_BSN};ja;ja;;;;",
        header=header,
    )
    results = [
        import_(env, path, anna.organisation_id, "--json"),
        import_(env, path, anna.organisation_id),
        import_(env, path, anna.organisation_id, "--sync", "--dry-run"),
    ]
    assert [r.exit_code for r in results] == [1, 1, 1]
    assert report_of(results[0], code=1)["created"] == 2

    database = database_contents(core)
    output = "\n".join(r.stdout + r.stderr for r in results).encode()
    logs = "\n".join(r.getMessage() for r in caplog.records).encode()
    assert b"INSERT INTO signals" in logs, "the import's SQL should have been captured"
    for bsn in bsns:
        for form in unkeyed_hashes(bsn):
            assert form not in database, f"a form of {bsn} is in the database"
            assert form not in output, f"a form of {bsn} is in the output"
            assert form not in logs, f"a form of {bsn} is in the logs"


# --- a real process on a terminal -----------------------------------------------------------


@pytest.mark.parametrize("columns", [120, 0], ids=["sized", "sizeless"])
def test_a_real_process_shows_a_progress_bar_on_a_terminal_and_none_in_a_pipe(
    env: dict[str, str], tmp_path: Path, anna: ApiClient, columns: int
) -> None:
    path = write_csv(tmp_path, row("anna.jansen@example.org", CHILD_BSN))
    command = [
        sys.executable,
        "-m",
        "verwijsindex",
        "import",
        path,
        "--organisation",
        str(anna.organisation_id),
    ]
    environment = {**os.environ, **env}

    piped = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120)
    leader, follower = pty.openpty()
    fcntl.ioctl(
        follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24 if columns else 0, columns, 0, 0)
    )
    try:
        on_terminal = subprocess.run(
            command,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=follower,
            text=True,
            timeout=120,
        )
        os.close(follower)
        terminal = _read_all(leader)
    finally:
        os.close(leader)

    assert piped.returncode == 0 and piped.stderr == "", piped.stderr
    assert piped.stdout.startswith("created 1,")
    assert on_terminal.returncode == 0
    assert on_terminal.stdout.startswith("created 0, updated 0, closed 0, unchanged 1")
    assert "importing leerlingen.csv for School A: 100%" in terminal


def _read_all(fd: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the other side is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")
