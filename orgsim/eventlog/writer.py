"""Event logs on disk: the engines' events as rows with real dates, streamed as CSV, Parquet or XES.

One row per activity instance, with the column names pm4py and other
process-mining tools read (docs/data.md):

=========================  ===================================================================
column                     what
=========================  ===================================================================
``case:concept:name``      the case: ``{state}-r{replication}-{project type}-{k}``
``concept:name``           the activity: the step's id for officers' work; ``{step} sign-off
                           {level}``; ``{step} back to applicant``; ``hand-off {a} -> {b}``
``enable_timestamp``       the file reaches the activity (its queue)
``start_timestamp``        the activity starts
``time:timestamp``         the activity ends
``org:resource``           the unit's id (its name is in the scenario): the step's unit, the
                           signing leaders' unit, the sending unit of a hand-off;
                           ``applicant`` for time back with the applicant
``org:role``               ``officer``, ``leader``, ``applicant`` or ``transfer``
``lifecycle:transition``   ``complete`` (each row is a whole activity, with its start)
``case:project_type``      the project type's id
``case:state``             ``before`` or ``after`` the reforms
``case:replication``       the replication (0, 1, ...)
=========================  ===================================================================

Timestamps are local date and time from the working calendar (office hours,
weekends, holidays and make-up days), to the microsecond; XES, which needs a
time zone, gives them at +08:00 (China Standard Time).

Which cases: those orgsim counts in its lead times, the applications that
arrived in the measurement window (after the warm-up, before the horizon).
Each case's rows are written together when it is done, in time order, cases
in the order they finish, so a case's last ``time:timestamp`` minus its
first ``enable_timestamp`` is its lead time in orgsim's results.

Writing is streamed: a :class:`LogPart` receives a replication's events in
batches and keeps only the events of cases not yet done (memory bounded by
the work in progress); :func:`assemble` joins the parts of all replications
into the output, which is written whole or not at all (a temporary file,
then a rename).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from orgsim.errors import SimulationError
from orgsim.eventlog import events as ev

__all__ = ["COLUMNS", "FORMATS", "log_format", "LogSpec", "LogPart", "assemble", "parts_folder",
           "ROLE_NAMES", "activity_names"]

COLUMNS = ("case:concept:name", "concept:name", "enable_timestamp", "start_timestamp", "time:timestamp",
           "org:resource", "org:role", "lifecycle:transition", "case:project_type", "case:state",
           "case:replication")
FORMATS = ("csv", "parquet", "xes")
ROLE_NAMES = {ev.SERVICE: "officer", ev.SIGNOFF: "leader", ev.APPLICANT: "applicant", ev.HANDOFF: "transfer"}
_TIMESTAMPS = ("enable_timestamp", "start_timestamp", "time:timestamp")
#: Rows gathered before a Parquet row group is written (large groups read fast), and a CSV or XES block.
ROWS_PER_GROUP = 32_768
ROWS_PER_BLOCK = 32_768
_XES_ZONE = "+08:00"


def log_format(path: str | Path) -> str:
    """The format of an event log file, from its name: .csv, .parquet or .xes."""
    suffix = Path(path).suffix.lower()
    kind = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".xes": "xes"}.get(suffix)
    if kind is None:
        raise SimulationError(f"{path}: an event log's name must end in .csv, .parquet or .xes")
    return kind


def activity_names(step: str, kind: int, other: str | int = 0) -> str:
    """The activity (``concept:name``) of an event of ``kind`` at ``step`` (``other``: level or next step)."""
    if kind == ev.SERVICE:
        return step
    if kind == ev.SIGNOFF:
        return f"{step} sign-off {int(other) + 1}"
    if kind == ev.APPLICANT:
        return f"{step} back to applicant"
    return f"hand-off {step} -> {other}"


@dataclass(frozen=True)
class LogSpec:
    """What one replication's part of a log needs: where, which format, and the names of things."""

    folder: str  # the parts' folder (beside the output)
    fmt: str
    state: str
    #: Per project type: id, its steps' ids, its steps' units, and per step its sign-off units by level.
    flows: tuple[tuple[str, tuple[str, ...], tuple[str, ...], tuple[tuple[str, ...], ...]], ...]
    warmup: float

    @classmethod
    def of(cls, plan: Any, folder: str | Path, fmt: str, state: str, warmup: float) -> LogSpec:
        flows = tuple(
            (f.id, tuple(s.id for s in f.steps), tuple(s.unit for s in f.steps),
             tuple(tuple(plan.pools[k].unit for k in s.signoff) for s in f.steps))
            for f in plan.flows)
        return cls(str(folder), fmt, state, flows, warmup)

    def part_path(self, replication: int) -> Path:
        suffix = {"csv": "csv", "parquet": "parquet", "xes": "xml"}[self.fmt]
        return Path(self.folder) / f"{self.state}-{replication:06d}.{suffix}"


class LogPart:
    """A replication's rows, written to its part file as its cases finish; call it with each batch."""

    def __init__(self, spec: LogSpec, replication: int, calendar: Any) -> None:
        self.spec = spec
        self.replication = replication
        self.calendar = calendar
        self.path = spec.part_path(replication)
        self.pending = np.zeros(0, dtype=ev.EVENT_DTYPE)
        self.rows_written = 0
        self.cases_written = 0
        self._names = _Names(spec, replication)
        self._out: Any = None
        self._groups: list[Any] = []
        self._grouped = 0
        self._allocator = _system_allocator()
        self._allocator.__enter__()

    def __call__(self, batch: np.ndarray) -> None:
        events = np.concatenate((self.pending, batch)) if len(self.pending) else batch
        done = events[events["kind"] == ev.DONE]
        if not len(done):
            self.pending = events
            return
        finished = np.isin(events["case"], done["case"])
        self.pending = events[~finished]
        measured = done[done["t_enable"] >= self.spec.warmup]
        if not len(measured):
            return
        rows = events[finished & np.isin(events["case"], measured["case"]) & (events["kind"] != ev.DONE)]
        # Cases in the order they finished (their DONE events' order), each case's rows in time order.
        order = np.argsort(measured["case"], kind="stable")
        finished_as = order[np.searchsorted(measured["case"][order], rows["case"])]
        rows = rows[np.lexsort([rows["other"], rows["step"], rows["kind"], rows["t_end"], rows["t_start"],
                                finished_as])]
        self._write(self._table(rows))
        self.cases_written += len(measured)

    def _table(self, rows: np.ndarray) -> Any:
        """The rows as a pyarrow Table with the log's columns."""
        import pyarrow as pa
        import pyarrow.compute as pc

        names = self._names
        activity_code, resource_code = names.codes(rows)
        case_prefix = pa.DictionaryArray.from_arrays(pa.array(rows["flow"], pa.int32()), names.case_prefixes)
        case = pc.binary_join_element_wise(case_prefix.cast(pa.string()),
                                           pa.array(rows["k"], pa.int64()).cast(pa.string()), "")
        n = len(rows)
        stamps = {}
        for column, field in zip(_TIMESTAMPS, ("t_enable", "t_start", "t_end"), strict=True):
            stamps[column] = pa.array(self.calendar.to_datetime64(rows[field]), pa.timestamp("us"))
        role = pa.DictionaryArray.from_arrays(pa.array(rows["kind"], pa.int32()), names.roles).cast(pa.string())
        return pa.table({
            "case:concept:name": case,
            "concept:name": pa.DictionaryArray.from_arrays(pa.array(activity_code, pa.int32()),
                                                           names.activities()).cast(pa.string()),
            **stamps,
            "org:resource": pa.DictionaryArray.from_arrays(pa.array(resource_code, pa.int32()),
                                                           names.units()).cast(pa.string()),
            "org:role": role,
            "lifecycle:transition": pa.array(["complete"] * n, pa.string()) if n else pa.array([], pa.string()),
            "case:project_type": pa.DictionaryArray.from_arrays(pa.array(rows["flow"], pa.int32()),
                                                                names.flow_ids).cast(pa.string()),
            "case:state": pa.array([self.spec.state] * n, pa.string()),
            "case:replication": pa.array(np.full(n, self.replication, dtype=np.int64)),
        })

    def _write(self, table: Any) -> None:
        self.rows_written += table.num_rows
        self._groups.append(table)
        self._grouped += table.num_rows
        if self._grouped >= (ROWS_PER_GROUP if self.spec.fmt == "parquet" else ROWS_PER_BLOCK):
            self._flush_groups()

    def _flush_groups(self) -> None:
        if not self._groups:
            return
        import pyarrow as pa

        table = pa.concat_tables(self._groups)
        self._groups, self._grouped = [], 0
        fmt = self.spec.fmt
        if fmt == "parquet":
            import pyarrow.parquet as pq

            if self._out is None:
                self._out = pq.ParquetWriter(self.path, table.schema)
            self._out.write_table(table)
        elif fmt == "csv":
            import pyarrow.csv as pcsv

            if self._out is None:
                self._out = open(self.path, "wb")  # noqa: SIM115 - closed in close()
            pcsv.write_csv(table, self._out, pcsv.WriteOptions(include_header=False, quoting_style="needed"))
        else:
            if self._out is None:
                self._out = _XesPart(self.path)
            self._out.write(table)

    def close(self, complete: bool = True) -> Path:
        """Write what is left and close the part (cases never done are left out: the run was unstable).

        ``complete=False`` (the run failed) closes the file without writing more.
        """
        try:
            if complete:
                self._flush_groups()
        finally:
            try:
                if self._out is not None:
                    self._out.close()
                elif complete:
                    Path(self.path).touch()
            finally:
                self._allocator.__exit__(None, None, None)
        return self.path


@contextlib.contextmanager
def _system_allocator() -> Iterator[None]:
    """Arrow allocates from the C library's malloc meanwhile, then from its default pool again.

    A log's blocks come and go all run long; Arrow's default pool (mimalloc
    or jemalloc) keeps what they freed, about 80 MB more resident memory for
    a Parquet log than malloc (benchmarks/eventlog_export.py). The Parquet
    writer takes no pool of its own, so the default is switched.
    """
    import pyarrow as pa

    before = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(before)


class _Names:
    """Names of activities, resources and cases of one spec, as dictionaries indexed by codes."""

    def __init__(self, spec: LogSpec, replication: int) -> None:
        import pyarrow as pa

        self.spec = spec
        self.flow_ids = pa.array([f[0] for f in spec.flows], pa.string())
        self.case_prefixes = pa.array([f"{spec.state}-r{replication}-{f[0]}-" for f in spec.flows], pa.string())
        self.roles = pa.array([ROLE_NAMES.get(k, "") for k in range(len(ev.KIND_NAMES))], pa.string())
        self._activity: dict[tuple[int, int, int, int], int] = {}
        self._activity_names: list[str] = []
        self._unit: dict[str, int] = {}
        self._unit_names: list[str] = []
        self._pa = pa

    def _code(self, table: dict, names: list[str], key: Any, name: str) -> int:
        code = table.get(key)
        if code is None:
            code = table[key] = len(names)
            names.append(name)
        return code

    def codes(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Activity and resource codes of each row (distinct keys are few: a Python loop over them)."""
        key = np.stack([rows["flow"], rows["step"], rows["other"], rows["kind"]], axis=1)
        unique, inverse = np.unique(key, axis=0, return_inverse=True)
        activity = np.empty(len(unique), dtype=np.int32)
        resource = np.empty(len(unique), dtype=np.int32)
        for u, (flow, step, other, kind) in enumerate(unique.tolist()):
            fid, steps, units, signoff = self.spec.flows[flow]
            target = steps[other] if kind == ev.HANDOFF else other
            activity[u] = self._code(self._activity, self._activity_names, (flow, step, other if kind in (
                ev.SIGNOFF, ev.HANDOFF) else 0, kind), activity_names(steps[step], kind, target))
            unit = ("applicant" if kind == ev.APPLICANT else signoff[step][other] if kind == ev.SIGNOFF
                    else units[step])
            resource[u] = self._code(self._unit, self._unit_names, unit, unit)
        inverse = inverse.reshape(-1)
        return activity[inverse], resource[inverse]

    def activities(self) -> Any:
        return self._pa.array(self._activity_names, self._pa.string())

    def units(self) -> Any:
        return self._pa.array(self._unit_names, self._pa.string())


# ---------------------------------------------------------------- XES


def _xml(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;"))


def _xes_time(values: Any) -> list[str]:
    text = np.datetime_as_string(np.asarray(values, dtype="datetime64[us]"), unit="us")
    return [f"{t}{_XES_ZONE}" for t in text.tolist()]


class _XesPart:
    """Rows (each case's together, in order) written as XES traces, a slice at a time.

    A trace is closed when the next row belongs to another case, or at
    :meth:`close`, so the rows may come in slices of any size.
    """

    #: Rows turned into XML at once (their text is held until written).
    SLICE = 8192

    def __init__(self, path: Path) -> None:
        self.out = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self.open_case: str | None = None

    def write(self, table: Any) -> None:
        for start in range(0, table.num_rows, self.SLICE):
            self._write_slice(table.slice(start, self.SLICE))

    def _write_slice(self, table: Any) -> None:
        cols = {name: table.column(name).to_pylist() for name in (
            "case:concept:name", "concept:name", "org:resource", "org:role", "case:project_type", "case:state",
            "case:replication")}
        times = {name: _xes_time(table.column(name).to_numpy()) for name in _TIMESTAMPS}
        lines: list[str] = []
        for i, case in enumerate(cols["case:concept:name"]):
            if case != self.open_case:
                if self.open_case is not None:
                    lines.append("</trace>")
                self.open_case = case
                lines.append(f'<trace><string key="concept:name" value="{_xml(case)}"/>'
                             f'<string key="project_type" value="{_xml(cols["case:project_type"][i])}"/>'
                             f'<string key="state" value="{_xml(cols["case:state"][i])}"/>'
                             f'<int key="replication" value="{cols["case:replication"][i]}"/>')
            lines.append(
                f'<event><string key="concept:name" value="{_xml(cols["concept:name"][i])}"/>'
                f'<string key="org:resource" value="{_xml(cols["org:resource"][i])}"/>'
                f'<string key="org:role" value="{cols["org:role"][i]}"/>'
                f'<string key="lifecycle:transition" value="complete"/>'
                f'<date key="enable_timestamp" value="{times["enable_timestamp"][i]}"/>'
                f'<date key="start_timestamp" value="{times["start_timestamp"][i]}"/>'
                f'<date key="time:timestamp" value="{times["time:timestamp"][i]}"/></event>')
        self.out.write("\n".join(lines) + "\n")

    def close(self) -> None:
        if self.open_case is not None:
            self.out.write("</trace>\n")
        self.out.close()


_XES_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0" xes.features="nested-attributes" xmlns="http://www.xes-standard.org/">
<extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
<extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
<extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
<extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>
<string key="concept:name" value="{name}"/>
"""
_XES_TAIL = "</log>\n"


# ---------------------------------------------------------------- the whole log


@contextlib.contextmanager
def parts_folder(output: str | Path) -> Iterator[Path]:
    """A temporary folder beside ``output`` for the replications' parts; removed on leaving."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{output.name}.", suffix=".parts", dir=output.parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def assemble(output: str | Path, parts: Sequence[Path], fmt: str, title: str = "orgsim") -> Path:
    """Join ``parts`` (in order) into ``output``, whole or not at all; the parts are read in pieces."""
    from orgsim._io import atomic_write

    def write(tmp: Path) -> None:
        if fmt == "csv":
            with open(tmp, "wb") as out:
                out.write((",".join(f'"{c}"' if ":" in c else c for c in COLUMNS) + "\n").encode("utf-8"))
                for part in parts:
                    with open(part, "rb") as src:
                        shutil.copyfileobj(src, out, 1 << 20)
        elif fmt == "xes":
            with open(tmp, "wb") as out:
                out.write(_XES_HEAD.format(name=_xml(title)).encode("utf-8"))
                for part in parts:
                    with open(part, "rb") as src:
                        shutil.copyfileobj(src, out, 1 << 20)
                out.write(_XES_TAIL.encode("utf-8"))
        else:
            import pyarrow.parquet as pq

            writer = None
            try:
                for part in parts:
                    if os.path.getsize(part) == 0:
                        continue
                    source = pq.ParquetFile(part)
                    for g in range(source.num_row_groups):
                        table = source.read_row_group(g)
                        if writer is None:
                            writer = pq.ParquetWriter(tmp, table.schema)
                        writer.write_table(table)
                if writer is None:  # no case at all: an empty table with the log's columns
                    writer = pq.ParquetWriter(tmp, _empty_schema())
            finally:
                if writer is not None:
                    writer.close()

    with _system_allocator():
        return atomic_write(output, write)


def _empty_schema() -> Any:
    import pyarrow as pa

    types = {c: pa.timestamp("us") for c in _TIMESTAMPS} | {"case:replication": pa.int64()}
    return pa.schema([(c, types.get(c, pa.string())) for c in COLUMNS])
