"""Reading an import file (contract section 9) into rows: no database, no keys.

`;` from a Dutch Excel and `,` from anything else, a BOM or none. The header is checked
when the file is opened, so an unknown or missing column refuses the file before anything
is imported; rows are then read lazily, one physical line at a time, so a file of any size
streams in constant memory. A row carries the line it starts on (header = line 1, the lines
of multi-line quoted fields counted) and what parsing found wrong with it. A BSN is never
part of a message or a `repr`.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
from collections.abc import Iterator
from typing import BinaryIO

from verwijsindex.domain import Problem
from verwijsindex.services.csv_values import COLUMNS, REQUIRED, CsvRow, parse_row

# A longer physical line is no pupil's row; it is skipped without being read into memory.
MAX_LINE_BYTES = 64 * 1024
# Enough of the start of a file to tell a Windows-1252 export from UTF-8 before importing.
ENCODING_PROBE_BYTES = 1024 * 1024
NOT_UTF8 = "The file is not UTF-8: save it as 'CSV UTF-8' (Excel) or UTF-8 text."
_BY_FOLDED_NAME = {name.casefold(): name for name in COLUMNS}


class CsvFileError(Exception):
    """The file cannot be imported at all (exit 2); the message says what to do about it."""


def _sniff(header: str) -> tuple[str, list[str]]:
    """The delimiter that splits the header into the most known column names."""
    best = max(
        (",", ";"),
        key=lambda d: sum(n.strip().casefold() in _BY_FOLDED_NAME for n in _split(header, d)),
    )
    names = _split(header, best)
    known = sum(n.strip().casefold() in _BY_FOLDED_NAME for n in names)
    glued = sum(name.casefold() in header.casefold() for name in COLUMNS)
    if known <= 1 and glued > 1:
        shown = {"\t": "tabs", "|": "|", " ": "spaces"}
        seen = next((shown[c] for c in "\t| " if c in header.strip()), "something else")
        raise CsvFileError(
            f"Wrong delimiter: the header's columns are separated by {seen}, not by ',' or ';'. "
            "Save the file as CSV with ',' or ';' between the columns."
        )
    return best, names


def _split(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def _columns(names: list[str], migration: bool) -> list[str | None]:
    """The header's columns by contract name (None: an empty header cell, ignored)."""
    columns: list[str | None] = []
    unknown, seen = [], set()
    for raw in names:
        name = raw.strip()
        canonical = _BY_FOLDED_NAME.get(name.casefold())
        if not name:
            columns.append(None)
            continue
        if canonical is None:
            unknown.append(name)
        elif canonical in seen:
            raise CsvFileError(f"The column {canonical} appears twice in the header.")
        seen.add(canonical or name)
        columns.append(canonical)
    known = ", ".join(COLUMNS)
    if not seen & set(COLUMNS):
        # Most likely a file without a header; its first row is not repeated (a BSN).
        raise CsvFileError(f"The first line names none of the columns: add a header row ({known}).")
    missing = [name for name in REQUIRED if name not in seen]
    refusals = []
    if unknown:
        # A name with a digit is not repeated: it may be a BSN in a row taken for a header.
        shown = ", ".join(
            "(a name with digits)" if any(c.isdigit() for c in u) else repr(u[:40]) for u in unknown
        )
        refusals.append(f"Unknown column(s): {shown}. Known columns: {known}.")
    if missing:
        refusals.append("Missing required column(s): " + ", ".join(missing) + ".")
    if refusals:
        raise CsvFileError(" ".join(refusals))
    if "registeredOn" in seen and not migration:
        raise CsvFileError("The column registeredOn is read only with --migration.")
    return columns


class CsvFile:
    """An import file with its header checked; `rows()` reads the rest lazily.

    Lines are read and decoded one at a time (not through a text wrapper), so that a line
    that is not UTF-8 or is absurdly long costs only its own row, with its own line number,
    and `position` says how many bytes have been read, for a progress bar.
    """

    def __init__(self, stream: BinaryIO, *, migration: bool = False) -> None:
        self._stream = stream
        self._line = 0  # physical lines handed out so far
        self._bad: dict[int, str] = {}  # line number -> why it cannot be read
        probe = stream.read(ENCODING_PROBE_BYTES)
        if probe.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise CsvFileError("The file is UTF-16: save it as 'CSV UTF-8' (Excel) or UTF-8 text.")
        try:
            # Incremental, so that a character cut off at the probe's end is no error.
            codecs.getincrementaldecoder("utf-8")().decode(
                probe, final=len(probe) < ENCODING_PROBE_BYTES
            )
        except UnicodeDecodeError as error:
            line = probe.count(b"\n", 0, error.start) + 1
            raise CsvFileError(f"Line {line}: {NOT_UTF8}") from None
        del probe
        self.size = stream.seek(0, 2)  # bytes, for a progress bar's total
        stream.seek(0)
        self._lines = self._physical_lines()
        header = self._header()
        self.delimiter, names = _sniff(header)
        self.columns = _columns(names, migration)
        self._header_lines = self._line

    @property
    def position(self) -> int:
        """Bytes read so far."""
        return self._stream.tell()

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> CsvFile:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _header(self) -> str:
        for text in self._lines:
            if self._line in self._bad:
                raise CsvFileError(f"The header (line {self._line}): {self._bad[self._line]}")
            if "\r" in text.rstrip("\r\n"):
                raise CsvFileError(
                    "The file ends its lines with a bare carriage return (old Mac format): "
                    "save it as 'CSV UTF-8'."
                )
            text = text.removeprefix("\ufeff")
            if text.strip() in ("sep=;", "sep=,"):  # Excel's own hint line
                continue
            if text.strip():
                return text.rstrip("\r\n")
        raise CsvFileError("The file is empty: it needs a header row naming the columns.")

    def _physical_lines(self) -> Iterator[str]:
        while raw := self._stream.readline(MAX_LINE_BYTES + 1):
            self._line += 1
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                while (rest := self._stream.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                    pass
                self._bad[self._line] = f"The line is longer than {MAX_LINE_BYTES // 1024} KiB."
                yield "\n"
                continue
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                self._bad[self._line] = NOT_UTF8
                yield raw.decode("utf-8", "replace")

    def rows(self) -> Iterator[CsvRow]:
        """Every non-blank data row, in file order."""
        reader = csv.reader(self._lines, delimiter=self.delimiter, strict=True)
        width = len(self.columns)
        while True:
            start = self._header_lines + reader.line_num + 1
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                end = self._header_lines + reader.line_num
                yield _unreadable(start, end, f"Not readable as CSV: {error}.")
                continue
            end = self._header_lines + reader.line_num
            bad = [self._bad.pop(n) for n in range(start, end + 1) if n in self._bad]
            if bad:
                yield _unreadable(start, end, bad[0])
            elif any(value.strip() for value in record):
                yield self._row(start, record, width)

    def _row(self, line: int, record: list[str], width: int) -> CsvRow:
        values: dict[str, str] = {}
        stray = len(record) > width and any(v.strip() for v in record[width:])
        for column, value in zip(self.columns, record, strict=False):
            if column is not None:
                values[column] = value.strip()
            elif value.strip():
                stray = True
        row = parse_row(line, values)
        if stray:
            reason = (
                f"More values than the header has named columns: is there a '{self.delimiter}' "
                "in a value that is not between double quotes?"
            )
            return dataclasses.replace(row, problems=(*row.problems, Problem("line", reason)))
        return row


def _unreadable(start: int, end: int, reason: str) -> CsvRow:
    where = f" (lines {start}-{end}, read as one row)" if end > start else ""
    return CsvRow(start, "", None, None, (), None, None, None, (Problem("line", reason + where),))


def open_csv(path: str, *, migration: bool = False) -> CsvFile:
    """Open and check an import file; every way it can fail is a `CsvFileError`."""
    try:
        stream = open(path, "rb")  # noqa: SIM115 - the CsvFile owns it; closed by the caller
    except FileNotFoundError:
        raise CsvFileError(f"No such file: {path}") from None
    except IsADirectoryError:
        raise CsvFileError(f"{path} is a directory, not a CSV file.") from None
    except OSError as error:
        raise CsvFileError(f"Cannot read {path}: {error.strerror}.") from None
    try:
        return CsvFile(stream, migration=migration)
    except CsvFileError:
        stream.close()
        raise
    except OSError as error:
        stream.close()
        raise CsvFileError(f"Cannot read {path}: {error.strerror}.") from None
