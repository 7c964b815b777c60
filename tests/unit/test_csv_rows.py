"""Reading import files (contract section 9): delimiters, BOM, dates, booleans, BSNs,
line numbers, and every way a file can be refused, without a database."""

from __future__ import annotations

import io
import tracemalloc
from datetime import date
from pathlib import Path

import pytest

from verwijsindex.domain import Informatieplicht, Postponement, PostponementReason
from verwijsindex.services.csv_rows import MAX_LINE_BYTES, CsvFile, CsvFileError, open_csv
from verwijsindex.services.csv_values import CsvRow, parse_boolean, parse_date

HEADER = "professional,bsn,birthDate,parentBsns,childInformed,parentsInformed"


def read(text: str | bytes, *, migration: bool = False) -> CsvFile:
    data = text.encode() if isinstance(text, str) else text
    return CsvFile(io.BytesIO(data), migration=migration)


def rows(text: str | bytes, **kwargs: bool) -> list[CsvRow]:
    return list(read(text, **kwargs).rows())


def refused(text: str | bytes, **kwargs: bool) -> str:
    with pytest.raises(CsvFileError) as error:
        read(text, **kwargs)
    return str(error.value)


def problems_by_line(found: list[CsvRow]) -> dict[int, list[str]]:
    return {row.line: [p.name for p in row.problems] for row in found if row.problems}


# --- delimiters, encoding ---------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_both_delimiters_read_the_same_row(delimiter: str) -> None:
    text = HEADER.replace(",", delimiter) + "\n"
    text += delimiter.join(["anna@example.org", "111222333", "2014-05-01", "", "ja", "nee"])
    source = read(text + "\n")
    (row,) = source.rows()

    assert source.delimiter == delimiter
    assert (row.line, row.professional, row.bsn, row.birth_date) == (
        2,
        "anna@example.org",
        "111222333",
        date(2014, 5, 1),
    )
    assert row.informatieplicht == Informatieplicht(True, False)
    assert row.problems == ()


def test_a_comma_inside_a_value_does_not_make_it_the_delimiter() -> None:
    source = read('professional;bsn;birthDate;justification\n"a,b";111222333;2014-05-01;\n')
    assert source.delimiter == ";"


def test_a_bom_and_windows_line_ends_are_read_as_utf8() -> None:
    text = "\ufeff" + HEADER + "\r\nanna@example.org,111222333,01-05-2014,,1,1\r\n"
    (row,) = rows(text.encode("utf-8"))
    assert row.professional == "anna@example.org"
    assert row.birth_date == date(2014, 5, 1)


def test_excels_sep_line_before_the_header_is_honoured_and_counted() -> None:
    (row,) = rows("sep=;\nprofessional;bsn;birthDate\nanna;111222333;2014-05-01\n")
    assert row.line == 3


def test_a_file_that_is_not_utf8_is_refused_naming_the_fix() -> None:
    text = HEADER + "\nanna,111222333,2014-05-01,,ja,ja\nbé,111222333,2014-05-01,,ja,ja\n"
    message = refused(text.encode("cp1252"))
    assert "not UTF-8" in message and "CSV UTF-8" in message and "Line 3" in message


def test_utf16_is_refused() -> None:
    assert "UTF-16" in refused((HEADER + "\n").encode("utf-16"))


def test_a_line_not_utf8_past_the_first_megabyte_skips_only_that_row() -> None:
    good = "anna,111222333,2014-05-01,,ja,ja\n"
    count = 1024 * 1024 // len(good) + 10
    data = (HEADER + "\n" + good * count).encode() + b"b\xe9,111222333,2014-05-01,,ja,ja\n"
    data += good.encode()

    found = rows(data)

    assert len(found) == count + 2
    bad = found[-2]
    assert bad.line == count + 2 and [p.name for p in bad.problems] == ["line"]
    assert "not UTF-8" in bad.problems[0].reason
    assert found[-1].problems == ()


@pytest.mark.parametrize("separator", ["\t", "|"])
def test_the_wrong_delimiter_is_named(separator: str) -> None:
    message = refused(HEADER.replace(",", separator) + "\n")
    assert message.startswith("Wrong delimiter")
    assert ("tabs" if separator == "\t" else "|") in message


# --- the header -------------------------------------------------------------------------


def test_unknown_columns_are_refused_naming_them() -> None:
    message = refused(HEADER + ",naam,diagnose\n")
    assert "'naam'" in message and "'diagnose'" in message


def test_a_file_without_a_header_is_refused_without_repeating_its_first_row() -> None:
    message = refused("anna@example.org,111222333,2014-05-01\n")
    assert "header" in message
    assert "111222333" not in message and "anna" not in message


def test_an_unknown_column_name_with_digits_is_not_repeated() -> None:
    message = refused("professional,bsn,birthDate,111222334\n")
    assert "111222334" not in message and "(a name with digits)" in message


def test_unknown_and_missing_columns_are_refused_in_one_message() -> None:
    message = refused("professional;bsn;geboortedatum\n")
    assert "'geboortedatum'" in message and "Missing required column(s): birthDate" in message


def test_missing_required_columns_are_refused_naming_them() -> None:
    message = refused("professional,parentBsns\n")
    assert "bsn" in message and "birthDate" in message


def test_a_column_named_twice_is_refused() -> None:
    assert "twice" in refused("professional,bsn,birthDate,BSN\n")


def test_column_names_are_matched_without_regard_to_case_or_spaces() -> None:
    source = read(" Professional ; BSN ;birthdate\n")
    assert source.columns == ["professional", "bsn", "birthDate"]


def test_registered_on_is_read_only_with_migration() -> None:
    assert "--migration" in refused("professional,bsn,birthDate,registeredOn\n")
    (row,) = rows(
        "professional,bsn,birthDate,registeredOn\nanna,111222333,2014-05-01,3-2-2026\n",
        migration=True,
    )
    assert row.registered_on == date(2026, 2, 3)


@pytest.mark.parametrize("text", ["", "\n\n", "\ufeff"])
def test_an_empty_file_is_refused(text: str) -> None:
    assert "empty" in refused(text)


def test_a_header_without_rows_has_no_rows() -> None:
    assert rows(HEADER + "\n") == []


def test_files_that_cannot_be_opened_are_refused_with_a_sentence(tmp_path: Path) -> None:
    with pytest.raises(CsvFileError, match="No such file"):
        open_csv(str(tmp_path / "absent.csv"))
    with pytest.raises(CsvFileError, match="directory"):
        open_csv(str(tmp_path))


# --- values -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2014-05-01", date(2014, 5, 1)),
        ("01-05-2014", date(2014, 5, 1)),
        ("1-5-2014", date(2014, 5, 1)),
        ("2014-5-1", date(2014, 5, 1)),
        ("31-02-2014", None),
        ("05/01/2014", None),
        ("20140501", None),
        ("01-05-14", None),
    ],
)
def test_dates_are_iso_or_dutch(raw: str, expected: date | None) -> None:
    assert parse_date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("Ja", True),
        ("1", True),
        ("WAAR", True),
        ("false", False),
        ("nee", False),
        ("NEE", False),
        ("0", False),
        ("", False),
        ("  ", False),
        ("yes", None),
        ("2", None),
    ],
)
def test_booleans(raw: str, expected: bool | None) -> None:
    assert parse_boolean(raw) == expected


@pytest.mark.parametrize(
    "parents", ["111111110 222222220", "111111110|222222220", " 111111110 | 222222220 "]
)
def test_parent_bsns_are_separated_by_spaces_or_bars(parents: str) -> None:
    (row,) = rows(f'{HEADER}\nanna,111222333,2014-05-01,"{parents}",ja,ja\n')
    assert row.parent_bsns == ("111111110", "222222220")


def test_a_bsn_that_lost_its_leading_zero_in_a_spreadsheet_gets_it_back() -> None:
    (row,) = rows(f"{HEADER}\nanna,12345672,2014-05-01,12345672,ja,ja\n")
    assert (row.bsn, row.parent_bsns) == ("012345672", ("012345672",))


def test_a_postponement_is_read_from_its_three_columns() -> None:
    header = "professional,bsn,birthDate,postponementReason,justification,reviewOn"
    (row,) = rows(f"{header}\nanna,111222333,2014-05-01,not_in_interest_of_child,Gevaar,1-1-2099\n")
    assert row.informatieplicht == Informatieplicht(
        False,
        False,
        Postponement(PostponementReason.NOT_IN_INTEREST_OF_CHILD, "Gevaar", date(2099, 1, 1)),
    )


def test_an_incomplete_postponement_names_each_missing_part_and_gives_no_duty() -> None:
    header = "professional,bsn,birthDate,postponementReason,justification,reviewOn"
    (row,) = rows(f"{header}\nanna,111222333,2014-05-01,later,,morgen\n")
    assert [p.name for p in row.problems] == ["postponementReason", "justification", "reviewOn"]
    assert row.informatieplicht is None


def test_a_bsn_is_never_in_a_rows_repr() -> None:
    (row,) = rows(f"{HEADER}\nanna,111222333,2014-05-01,111111110,ja,ja\n")
    assert "111222333" not in repr(row) and "111111110" not in repr(row)


# --- bad rows and their line numbers ----------------------------------------------------


def test_bad_rows_carry_their_physical_line_also_after_multi_line_quoted_fields() -> None:
    text = "\n".join(
        [
            "professional;bsn;birthDate;childInformed;postponementReason;justification;reviewOn",
            "anna;111222333;2014-05-01;ja;;;",  # line 2
            "",  # line 3: blank, ignored
            'anna;111222333;2014-05-01;ja;not_reasonably_possible;"een',  # line 4, to line 6
            "twee",
            'drie";2099-01-01',
            "anna;111222333;31-02-2014;misschien;;;",  # line 7
            ";;;;;;",  # line 8: an empty spreadsheet row, ignored
            ";111222333;2014-05-01;ja;;;",  # line 9
            "anna;111222333;2014-05-01;ja;;;;extra",  # line 10
            "",
        ]
    )
    found = rows(text)

    assert [r.line for r in found] == [2, 4, 7, 9, 10]
    assert found[1].problems == ()
    postponement = found[1].informatieplicht and found[1].informatieplicht.postponement
    assert postponement and postponement.justification == "een\ntwee\ndrie"
    assert problems_by_line(found) == {
        7: ["birthDate", "childInformed"],
        9: ["professional"],
        10: ["line"],
    }


def test_a_row_broken_as_csv_is_skipped_and_reading_goes_on() -> None:
    text = f'{HEADER}\n"anna"x,111222333,2014-05-01,,ja,ja\nbert,111222333,2014-05-01,,ja,ja\n'
    found = rows(text)
    assert problems_by_line(found) == {2: ["line"]}
    assert found[1].line == 3 and found[1].professional == "bert"


def test_a_quote_never_closed_is_reported_from_its_line() -> None:
    found = rows(f'{HEADER}\nanna,111222333,2014-05-01,,"ja,ja\nbert,111222333,2014-05-01,,ja,ja\n')
    (row,) = found
    assert row.line == 2 and row.problems[0].name == "line"
    assert "lines 2-3" in row.problems[0].reason


def test_an_overlong_line_is_skipped_with_its_number_and_reading_goes_on() -> None:
    long_line = "anna,111222333,2014-05-01,,ja," + "x" * (MAX_LINE_BYTES + 10)
    found = rows(f"{HEADER}\n{long_line}\nbert,111222333,2014-05-01,,ja,ja\n")
    assert [(r.line, [p.name for p in r.problems]) for r in found] == [(2, ["line"]), (3, [])]
    assert "64 KiB" in found[0].problems[0].reason


def test_reasons_never_repeat_a_value() -> None:
    found = rows(f"{HEADER}\n111222333,111222333,111222333,111222333,111222333,111222333\n")
    assert found[0].problems
    assert all("111222333" not in p.reason for p in found[0].problems)


# --- streaming ----------------------------------------------------------------------------


def _big_file(path: Path, megabytes: int, line: str) -> int:
    """A generated file of about this size, written a thousand rows at a time."""
    count = max(1, megabytes * 1024 * 1024 // len(line) // 100) * 100
    with path.open("w") as out:
        out.write(HEADER.replace(",", ";") + ";postponementReason;justification;reviewOn\n")
        for _ in range(count // 100):
            out.write(line * 100)
    return count


def test_the_first_rows_are_read_without_reading_the_file(tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    _big_file(path, 50, "anna@example.org;111222333;01-05-2014;111111110|222222220;ja;ja;;;\n")

    with open_csv(str(path)) as source:
        iterator = source.rows()
        for _ in range(1000):
            next(iterator)
        assert 0 < source.position < 2 * 1024 * 1024, "1,000 rows must not read 50 MB"


def test_reading_a_50_mb_file_keeps_a_small_peak_memory(tmp_path: Path) -> None:
    # Rows of 60 KB (a long justification) make 50 MB in few rows, so that tracemalloc,
    # which slows every allocation, still runs fast; a reader holding the file or its
    # rows would peak above 50 MB.
    path = tmp_path / "long.csv"
    line = "anna;111222333;01-05-2014;;ja;ja;not_reasonably_possible;" + "x" * 60_000
    count = _big_file(path, 50, line + ";2099-01-01\n")

    tracemalloc.start()
    try:
        with open_csv(str(path)) as source:
            read_rows = sum(1 for _ in source.rows())
            assert source.position == source.size == path.stat().st_size
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert read_rows == count
    assert peak < 4 * 1024 * 1024, f"peak {peak:,} bytes while reading 50 MB"
