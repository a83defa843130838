"""Arrival traces, read once when the scenario is loaded: confined, checked, hashed.

A trace is a CSV file beside the scenario whose ``column`` holds one date
(``YYYY-MM-DD``) per application. The loader reads it once, as bytes, from a
regular file of at most :data:`MAX_TRACE_BYTES`: its dates are checked (each
one, with its row) and its SHA-256 goes into the scenario's hash, so every
cache key and manifest built on that hash knows the trace by its contents.
The simulation uses the dates read here, never the file again.

A trace path must lead to a file inside the scenario's folder (after
symbolic links are followed) unless the caller allows others
(``--allow-outside``). Messages name the file, the row and the column, never
what the file holds.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

from orgsim._input import InputFileError, read_regular_file

__all__ = ["MAX_TRACE_BYTES", "Trace", "TraceProblem", "read_trace"]

#: A trace file larger than this is refused before it is read.
MAX_TRACE_BYTES = 50_000_000
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class TraceProblem(Exception):
    """Why a trace cannot be used, in words that quote nothing from the file."""


@dataclass(frozen=True, eq=False)
class Trace:
    """One trace file as the loader read it."""

    #: The path as the scenario writes it, and the file it leads to.
    written: str
    file: Path
    column: str
    sha256: str
    #: The dates of the column's non-blank cells, in file order (ISO text).
    dates: tuple[str, ...]


def _inside(file: Path, folder: Path) -> bool:
    try:
        file.relative_to(folder)
    except ValueError:
        return False
    return True


def read_trace(base_dir: Path, written: str, column: str, *, allow_outside: bool = False,
               not_before: dt.date | None = None) -> Trace:
    """The trace ``written`` (relative to ``base_dir``), checked; :class:`TraceProblem` says what is wrong."""
    folder = base_dir.resolve()
    file = (base_dir / written).resolve()
    if not allow_outside and not _inside(file, folder):
        raise TraceProblem(
            f"trace file {written!r} is outside the scenario's folder; move it there, "
            "or allow files elsewhere with --allow-outside"
        )
    try:
        data = read_regular_file(file, MAX_TRACE_BYTES)
    except InputFileError as exc:
        if exc.kind == "missing":
            raise TraceProblem(f"trace file {written!r} not found next to the scenario") from None
        raise TraceProblem(f"trace file {written!r}: {exc.reason}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TraceProblem(
            f"trace file {written!r}: not UTF-8 text (byte offset {exc.start}); save it as UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None or column not in header:
            columns = 0 if header is None else len(header)
            raise TraceProblem(
                f"trace file {written!r} has no column {column!r} in its first line ({columns} column(s)); "
                "name the column of dates with 'column:'"
            )
        at = header.index(column)
        dates: list[str] = []
        for row in reader:
            value = row[at].strip() if at < len(row) else ""
            if not value:
                continue
            if not _DATE.match(value) or not _valid(value):
                raise TraceProblem(f"trace file {written!r} line {reader.line_num}: column {column!r} is not a "
                                   "date written YYYY-MM-DD")
            if not_before is not None and value < not_before.isoformat():
                raise TraceProblem(f"trace file {written!r} line {reader.line_num}: a date before "
                                   f"simulation.calendar.start ({not_before.isoformat()})")
            dates.append(value)
    except csv.Error as exc:
        raise TraceProblem(f"trace file {written!r} line {reader.line_num}: not CSV ({exc})") from None
    return Trace(written, file, column, hashlib.sha256(data).hexdigest(), tuple(dates))


def _valid(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True
