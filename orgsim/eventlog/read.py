"""Read an event log (CSV or Parquet) for calibration, checking every row; problems at file, row and column.

The columns are those orgsim writes (pm4py's names, :mod:`orgsim.eventlog.writer`);
a log with other names maps them (:class:`ColumnMap`, the ``--*-column``
options of ``orgsim calibrate``). Required: the case, the activity, the start
and the end. Optional: the enable time (when the case reached the activity's
queue), the role (``officer``, ``leader``, ``applicant``, ``transfer``: rows
without a role are officers' work), the project type (needed when the
scenario has several), the state and the replication.

A row number in a message is the line of the CSV file (the header is line
1), or the row of the Parquet file counted from 2 likewise.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from orgsim.errors import EventLogError, Problem

__all__ = ["ColumnMap", "LogRows", "read_log", "MAX_PROBLEMS_PER_KIND", "ROLES"]

#: Problems of one kind listed before "and N more".
MAX_PROBLEMS_PER_KIND = 5
ROLES = ("officer", "leader", "applicant", "transfer")


@dataclass(frozen=True)
class ColumnMap:
    """Which column of the log holds what (None: the log has no such column)."""

    case: str = "case:concept:name"
    activity: str = "concept:name"
    start: str = "start_timestamp"
    end: str = "time:timestamp"
    enable: str | None = "enable_timestamp"
    role: str | None = "org:role"
    project_type: str | None = "case:project_type"
    state: str | None = "case:state"
    replication: str | None = "case:replication"

    def required(self) -> tuple[str, ...]:
        return ("case", "activity", "start", "end")


@dataclass(frozen=True)
class LogRows:
    """The log's rows as a pandas DataFrame with columns named after :class:`ColumnMap`'s fields."""

    frame: Any
    file: str
    sha256: str
    columns: ColumnMap
    #: Which optional columns the log has.
    present: frozenset[str]


def _located(file: str, problems: list[tuple[int | None, str, str]]) -> EventLogError:
    out = [Problem(f"row {row}, column {column!r}" if row is not None else f"column {column!r}", message, file)
           for row, column, message in problems]
    return EventLogError(f"{file}: {len(out)} problem(s)", out)


def _some(rows: list[int], column: str, message: str) -> list[tuple[int | None, str, str]]:
    shown: list[tuple[int | None, str, str]] = [(r, column, message) for r in rows[:MAX_PROBLEMS_PER_KIND]]
    if len(rows) > MAX_PROBLEMS_PER_KIND:
        shown.append((None, column, f"{len(rows) - MAX_PROBLEMS_PER_KIND} more rows: {message}"))
    return shown


def read_log(path: str | Path, columns: ColumnMap | None = None, state: str | None = None) -> LogRows:
    """The rows of the log at ``path`` with parsed timestamps; :class:`EventLogError` listing what is wrong.

    ``state``: keep the rows of that state only (a log of ``orgsim compare`` has both).
    """
    import hashlib

    import pandas as pd

    columns = columns or ColumnMap()
    path = Path(path)
    file = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise EventLogError(f"{file}: no such file", [Problem("", "no such file", file)]) from None
    except OSError as exc:
        raise EventLogError(f"{file}: unreadable", [Problem("", f"cannot read: {exc.strerror}", file)]) from None
    if not raw.strip():
        raise EventLogError(f"{file}: empty", [Problem("", "the log is empty", file)])
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            import io

            frame = pd.read_parquet(io.BytesIO(raw))
            frame = frame.astype({c: "string" for c in frame.columns if not str(frame[c].dtype).startswith("datetime")})
        else:
            import io

            text = raw.decode("utf-8-sig")
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise EventLogError(f"{file}: not UTF-8", [Problem("", f"not UTF-8 text (line {line}); save the log as UTF-8",
                                                           file)]) from None
    except (ValueError, pd.errors.ParserError, OSError) as exc:
        raise EventLogError(f"{file}: unreadable", [Problem("", f"cannot read as a table: {exc}", file)]) from None
    if len(frame) == 0:
        raise EventLogError(f"{file}: no rows", [Problem("", "the log has a header but no rows", file)])
    mapping = {f.name: getattr(columns, f.name) for f in fields(columns)}
    missing = [(name, col) for name, col in mapping.items()
               if name in columns.required() and col not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns))
        raise _located(file, [(None, col, f"missing column (the {name}); the log has: {have}; "
                               f"name the column with --{name.replace('_', '-')}-column") for name, col in missing])
    present = frozenset(name for name, col in mapping.items() if col is not None and col in frame.columns)
    frame = frame[[mapping[name] for name in mapping if name in present]].rename(
        columns={mapping[name]: name for name in present})
    frame.index = pd.RangeIndex(2, len(frame) + 2)  # the file's line numbers
    problems: list[tuple[int | None, str, str]] = []
    for name in ("case", "activity"):
        empty = frame.index[frame[name].isna()].tolist()
        problems += _some(empty, mapping[name], "empty")
    for name in ("enable", "start", "end"):
        if name not in present:
            continue
        values = frame[name]
        if str(values.dtype).startswith("datetime"):
            parsed = values.dt.tz_localize(None) if getattr(values.dt, "tz", None) is not None else values
        else:
            parsed = pd.to_datetime(values, errors="coerce", format="mixed")
            if getattr(parsed.dt, "tz", None) is not None:  # local time of the office: drop the zone
                parsed = parsed.dt.tz_localize(None)
        bad = frame.index[parsed.isna()].tolist()
        problems += _some(bad, mapping[name], "not a date and time")
        frame[name] = parsed
    if not problems:
        backwards = frame.index[frame["end"] < frame["start"]].tolist()
        problems += _some(backwards, mapping["end"], f"ends before it starts (column {mapping['start']!r})")
        if "enable" in present:
            early = frame.index[frame["start"] < frame["enable"]].tolist()
            problems += _some(early, mapping["start"], f"starts before it is enabled (column {mapping['enable']!r})")
    if "role" in present:
        roles = frame["role"].fillna("officer")
        unknown = frame.index[~roles.isin(ROLES)].tolist()
        problems += _some(unknown, mapping["role"] or "", f"unknown role; expected one of {', '.join(ROLES)}")
        frame["role"] = roles
    if problems:
        raise _located(file, problems)
    if "state" in present:
        states = sorted(frame["state"].dropna().unique())
        if state is not None:
            if state not in states:
                raise _located(file, [(None, mapping["state"] or "", f"no rows of state {state!r}; the log has "
                                       f"{', '.join(states)}")])
            frame = frame[frame["state"] == state]
        elif len(states) > 1:
            raise _located(file, [(None, mapping["state"] or "", f"rows of several states ({', '.join(states)}): "
                                   "choose one with --state")])
    if "replication" in present:
        frame["replication"] = frame["replication"].fillna("0")
    return LogRows(frame, file, hashlib.sha256(raw).hexdigest(), columns, present)
