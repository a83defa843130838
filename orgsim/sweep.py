"""Parameter sweeps: a grid over scenario fields, each point a before/after comparison.

A sweep varies fields of the scenario *document* (the YAML as written), named
by paths::

    simulation.horizon_days                      a key in a mapping
    workload.project_types[0].arrivals.rate      [N]: the N-th item of a list (from 0)
    units[id=planning].support                   [FIELD=VALUE]: the one item whose FIELD is VALUE
    reforms[phase=2021].reforms[op=cap_headcount].cap
    reforms[1].reforms[2].enabled                true/false: keep or leave out an operator (or a phase)

Each point of the grid is the scenario with those fields set, validated again
like a file (a bad value gives :class:`~orgsim.errors.ScenarioError` naming
the field and the point), then compared before and after its reforms with the
same seed: replication ``r`` of every point uses ``SeedSequence(seed).spawn(R)[r]``,
so points are compared on common random numbers, and a point's rows equal
``compare(point_scenario, replications=R, seed=seed).to_frame()``. The table
is the same whichever executor ran it (serial, local processes or Dask).

With ``out``, each finished point is written at once (atomically) to a part
file in ``OUT.parts/``, beside a manifest naming the sweep; run the same sweep
again after an interruption and it skips the finished points. The complete
table is then written to ``out`` (CSV or Parquet) and the parts removed.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import itertools
import json
import math
import re
import shutil
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from orgsim._io import atomic_write, atomic_write_text
from orgsim._provenance import code_sha256
from orgsim.errors import OrgsimError, Problem, ScenarioError, SweepError
from orgsim.executors import Executor, make_executor
from orgsim.scenario.schema import Scenario, SimulationSpec

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "SweepError",
    "Vary",
    "parse_path",
    "parse_vary",
    "parse_value",
    "resolve_vary",
    "grid",
    "sweep",
    "read_table",
    "parts_directory",
    "TOGGLE",
]

#: The pseudo-field that keeps (true) or leaves out (false) a reform operator or phase.
TOGGLE = "enabled"

#: Tasks per worker a sweep aims for, splitting points into blocks of
#: replications when there are too few points to keep every worker busy.
TASKS_PER_WORKER = 4

Loc = tuple[str | int, ...]


# ---------------------------------------------------------------- paths


@dataclass(frozen=True)
class Vary:
    """One lever of a sweep: a field of the scenario document and the values it takes."""

    #: The path as written, e.g. ``units[id=planning].support``; the column name in the table.
    path: str
    #: Where it is in the document, e.g. ``('units', 1, 'support')``.
    loc: Loc
    values: tuple[Any, ...]
    #: True for ``....enabled`` on a reform operator or phase.
    toggle: bool = False


_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FLOAT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+$")


def _path_error(path: str, message: str, source: str | None = None) -> ScenarioError:
    return ScenarioError(f"--vary {path}: {message}", [Problem(path, message, source)])


def parse_path(path: str, source: str | None = None) -> list[tuple[str, Any]]:
    """Split a path into steps: ``("key", name)``, ``("index", n)`` or ``("match", (field, value))``.

    >>> parse_path("units[id=planning].support")
    [('key', 'units'), ('match', ('id', 'planning')), ('key', 'support')]
    """
    steps: list[tuple[str, Any]] = []
    i, n = 0, len(path)
    expect_key = True
    while i < n:
        if expect_key:
            m = _KEY.match(path, i)
            if not m:
                raise _path_error(path, f"expected a field name at character {i + 1}", source)
            steps.append(("key", m.group()))
            i = m.end()
            expect_key = False
        elif path[i] == ".":
            i += 1
            expect_key = True
            if i == n:
                raise _path_error(path, "ends with '.'", source)
        elif path[i] == "[":
            close = path.find("]", i)
            if close < 0:
                raise _path_error(path, f"'[' at character {i + 1} is not closed", source)
            inner = path[i + 1:close].strip()
            if re.fullmatch(r"\d+", inner):
                steps.append(("index", int(inner)))
            else:
                field, eq, value = inner.partition("=")
                field, value = field.strip(), value.strip()
                if not eq or not _KEY.fullmatch(field) or not value:
                    raise _path_error(
                        path, f"[{inner}]: write [N] for the N-th item (from 0) or [FIELD=VALUE], e.g. [id=planning]"
                    )
                steps.append(("match", (field, value)))
            i = close + 1
        else:
            raise _path_error(path, f"unexpected {path[i]!r} at character {i + 1}", source)
    if not steps:
        raise _path_error(path, "empty path", source)
    return steps


def _format_loc(loc: Loc) -> str:
    from orgsim.scenario.loader import format_path

    return format_path(loc) or "<document>"


def resolve_path(data: Any, path: str, source: str | None = None) -> tuple[Loc, bool]:
    """Where ``path`` points in the document ``data``, and whether it toggles a reform.

    The last field may be missing (it is then set, and validation says
    whether it exists in the format); so may a chain of fields ending the
    path, for a section the file leaves out (``simulation.seed``).
    """
    steps = parse_path(path, source)
    loc: Loc = ()
    node: Any = data
    for k, (kind, arg) in enumerate(steps):
        where = _format_loc(loc)
        rest = steps[k:]
        if node is _MISSING:
            if kind != "key":
                raise _path_error(path, f"{where} is not in the scenario, so it has no items", source)
            loc += (arg,)
            continue
        if kind == "key":
            if not isinstance(node, dict):
                if isinstance(node, list):
                    raise _path_error(path, f"{where} is a list: select an item with [N] or [id=...]", source)
                raise _path_error(path, f"{where} is a value ({node!r}), not a section", source)
            if arg == TOGGLE and k == len(steps) - 1 and _is_reform(loc):
                return loc, True
            if arg not in node and any(kind_ != "key" for kind_, _ in rest):
                raise _path_error(path, f"{_format_loc(loc + (arg,))}: no such field in the scenario", source)
            loc += (arg,)
            node = node.get(arg, _MISSING)
            continue
        if not isinstance(node, list):
            raise _path_error(path, f"{where} is not a list, so it has no items", source)
        if kind == "index":
            if arg >= len(node):
                raise _path_error(path, f"{where} has {len(node)} item(s), so there is no [{arg}]", source)
            loc += (arg,)
            node = node[arg]
            continue
        field, value = arg
        found = [i for i, item in enumerate(node) if isinstance(item, dict) and _same(item.get(field), value)]
        if len(found) != 1:
            have = [str(item.get(field)) for item in node if isinstance(item, dict) and field in item]
            if not found:
                listed = ", ".join(have[:20]) + (" ..." if len(have) > 20 else "")
                raise _path_error(
                    path, f"{where} has no item with {field} {value!r}"
                    + (f" ({field}s: {listed})" if have else f" (its items have no field {field!r})"),
                    source,
                )
            raise _path_error(
                path, f"{where} has {len(found)} items with {field} {value!r}; select one with [N]", source)
        loc += (found[0],)
        node = node[found[0]]
    if node is not _MISSING and isinstance(node, (dict, list)):
        raise _path_error(path, f"{_format_loc(loc)} is a {'section' if isinstance(node, dict) else 'list'}; "
                          "a sweep sets single values", source)
    return loc, False


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()


def _same(have: Any, want: str) -> bool:
    if isinstance(have, bool):
        return str(have).lower() == want.lower()
    return have is not None and str(have) == want


def _is_reform(loc: Loc) -> bool:
    """An item of ``reforms`` (an operator or a phase) or of a phase's ``reforms``."""
    top = len(loc) >= 2 and loc[0] == "reforms" and isinstance(loc[1], int)
    return top and (len(loc) == 2 or (len(loc) == 4 and loc[2] == "reforms" and isinstance(loc[3], int)))


def parse_value(text: str) -> Any:
    """A value as YAML reads a scalar: ``60`` int, ``0.25`` float, ``true`` bool, ``null``, text."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, (dict, list)):
        return text
    if isinstance(value, str) and _FLOAT.match(value.strip()):
        return float(value)
    return value


def _split_top(text: str, sep: str) -> list[str]:
    """Split at ``sep`` outside brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(0, depth - 1)
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def parse_vary(spec: str, source: str | None = None) -> tuple[str, list[str]]:
    """``"PATH=V1,V2"`` -> ``("PATH", ["V1", "V2"])`` (the ``=`` is the first outside brackets)."""
    parts = _split_top(spec, "=")
    if len(parts) < 2:
        parse_path(spec.strip(), source)  # a bracket left open says so
        raise _path_error(spec, "write PATH=V1,V2,... (e.g. simulation.horizon_days=200,400)", source)
    path, values = parts[0].strip(), "=".join(parts[1:])
    raw = [v.strip() for v in values.split(",")]
    if not path:
        raise _path_error(spec, "no path before '='", source)
    if not values.strip() or any(v == "" for v in raw):
        raise _path_error(path, f"empty value in {values!r}; write PATH=V1,V2,...", source)
    return path, raw


def resolve_vary(
    data: Any, vary: Mapping[str, Sequence[Any]] | Sequence[str], source: str | None = None
) -> list[Vary]:
    """Levers from ``{"PATH": [values]}`` (Python values) or ``["PATH=V1,V2", ...]`` (YAML text)."""
    if isinstance(vary, Mapping):
        items = [(str(p), list(v) if isinstance(v, (list, tuple, range)) else [v]) for p, v in vary.items()]
    else:
        items = []
        for spec in vary:
            path, raw = parse_vary(spec, source)
            items.append((path, [parse_value(v) for v in raw]))
    out: list[Vary] = []
    seen: dict[Loc, str] = {}
    for path, values in items:
        loc, toggle = resolve_path(data, path, source)
        if not values:
            raise _path_error(path, "no values", source)
        if toggle and not all(isinstance(v, bool) for v in values):
            bad = next(v for v in values if not isinstance(v, bool))
            raise _path_error(path, f"{TOGGLE} takes true or false (or on/off), got {bad!r}", source)
        key = loc + ((TOGGLE,) if toggle else ())
        if key in seen:
            raise _path_error(path, f"the same field as --vary {seen[key]}", source)
        if len(set(map(_identity_value, values))) != len(values):
            raise _path_error(path, "a value is given twice", source)
        seen[key] = path
        out.append(Vary(path, loc, tuple(values), toggle))
    if not out:
        raise ScenarioError("nothing to vary", [Problem("", "give at least one --vary PATH=V1,V2,...", source)])
    return out


def grid(varies: Sequence[Vary]) -> list[tuple[Any, ...]]:
    """Every combination of the levers' values; the first lever changes slowest."""
    return list(itertools.product(*(v.values for v in varies)))


# ---------------------------------------------------------------- points


@dataclass(frozen=True)
class _Base:
    """The scenario a sweep starts from: its document, where it came from, its hash."""

    data: dict[str, Any]
    source: str
    base_dir: Path | None
    sha256: str


def _load_base(scenario: str | Path | Scenario) -> _Base:
    from orgsim.scenario import load_scenario

    if isinstance(scenario, Scenario):
        data = scenario.model_dump(mode="json", exclude_unset=True)
        return _Base(data, scenario.source_file, scenario.base_dir, scenario.sha256)
    loaded = load_scenario(scenario)
    data = yaml.safe_load(Path(scenario).read_bytes().decode("utf-8-sig"))
    return _Base(data, loaded.source_file, loaded.base_dir, loaded.sha256)


def _describe(settings: Sequence[tuple[Vary, Any]]) -> str:
    return ", ".join(f"{v.path}={_show(x)}" for v, x in settings)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return "null" if value is None else str(value)


def _point_document(base: _Base, settings: Sequence[tuple[Vary, Any]]) -> dict[str, Any]:
    doc = copy.deepcopy(base.data)
    removed: list[Loc] = []
    for vary, value in settings:
        if vary.toggle:
            if not value:
                removed.append(vary.loc)
            continue
        node: Any = doc
        for part in vary.loc[:-1]:
            if isinstance(node, dict) and node.get(part) is None:
                node[part] = {}
            node = node[part]
        node[vary.loc[-1]] = value
    # Deepest and last first, so that earlier indices stay valid.
    for loc in sorted(removed, reverse=True):
        parent: Any = doc
        for part in loc[:-1]:
            parent = parent[part]
        del parent[loc[-1]]
    if removed:
        doc["reforms"] = [
            item for item in doc.get("reforms") or []
            if not (isinstance(item, dict) and "phase" in item and not item.get("reforms"))
        ]
    return doc


def _point_text(base: _Base, settings: Sequence[tuple[Vary, Any]]) -> str:
    return yaml.safe_dump(_point_document(base, settings), allow_unicode=True, sort_keys=False)


def _at_point(exc: OrgsimError, base: _Base, settings: Sequence[tuple[Vary, Any]]) -> OrgsimError:
    """The error re-told against the user's file and the point that caused it."""
    where = _describe(settings)
    problems = [Problem(p.path, f"{p.message} (at {where})", base.source, None) for p in exc.problems]
    if not problems:
        problems = [Problem("", f"{exc} (at {where})", base.source, None)]
    return type(exc)(f"{base.source}: at {where}: {exc}", problems)


def _parse_point(base: _Base, settings: Sequence[tuple[Vary, Any]], text: str | None = None) -> Scenario:
    from orgsim.scenario import parse_scenario

    text = _point_text(base, settings) if text is None else text
    try:
        return parse_scenario(text, base.source, base.base_dir)
    except ScenarioError as exc:
        raise _at_point(exc, base, settings) from None


def _check_levers(base: _Base, varies: Sequence[Vary]) -> None:
    """Every value of every lever, one lever at a time, loads and its reforms apply.

    Cheap (one validation per value, not per point) and done before any
    simulation, so that a typo fails in a second rather than an hour in.
    """
    from orgsim.reforms import reform_scenario

    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    first: OrgsimError | None = None
    for vary in varies:
        for value in vary.values:
            settings = [(vary, value)]
            try:
                reform_scenario(_parse_point(base, settings))
            except OrgsimError as exc:
                err = exc if isinstance(exc, ScenarioError) else _at_point(exc, base, settings)
                first = first or err
                for p in err.problems:
                    # The same problem for every value (an unknown field) is told once.
                    key = (p.path, p.message.rsplit(" (at ", 1)[0])
                    if key not in seen:
                        seen.add(key)
                        problems.append(p)
    if first is not None:
        raise type(first)(str(first), problems)


def _setting(doc: dict[str, Any], name: str) -> Any:
    sim = doc.get("simulation") or {}
    return sim.get(name, SimulationSpec.model_fields[name].default) if isinstance(sim, dict) else None


# ---------------------------------------------------------------- running


@dataclass(frozen=True)
class _Chunk:
    """Replications ``first`` to ``stop - 1`` of one point: a unit of work for an executor."""

    point: int
    text: str
    source: str
    base_dir: str | None
    sha256: str
    seed: int | None
    replications: int
    first: int
    stop: int
    columns: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class _Failure:
    """An OrgsimError raised in a worker, carried back whole (its problems survive pickling)."""

    kind: type
    message: str
    problems: tuple[Problem, ...]


class _RunCache:
    """Runs already simulated in this process, by everything that determines them.

    A sweep over reform levers meets the same organisation before its
    reforms at every point (and sometimes the same one after): a run is
    simulated once per worker and reused, which is exact, since a run is a
    function of the compiled organisation, the simulation settings, the seed
    and the replication. Bounded by the size of the runs' arrays.
    """

    def __init__(self, max_bytes: int = 64 * 2**20) -> None:
        self.max_bytes = max_bytes
        self.runs: dict[str, Any] = {}  # oldest first
        self.size = 0
        self.hits = 0

    def run(self, runner: Any, org: Any, seed: int, replications: int, r: int) -> Any:
        """Replication ``r`` of ``replications`` of ``org``, as :func:`orgsim.experiment.simulate` makes it."""
        from orgsim.sim.streams import replication_seeds

        plan, _ = runner.plan(org)
        scenario = runner.scenario
        what = repr((plan, scenario.simulation, str(scenario.base_dir), seed, replications, r))
        key = hashlib.sha256(what.encode("utf-8")).hexdigest()
        found = self.runs.pop(key, None)
        if found is not None:
            self.hits += 1
            self.runs[key] = found  # now the newest
            return found
        run = runner.run(org, replication_seeds(seed, replications)[r])
        self.runs[key] = run
        self.size += _nbytes(run)
        while self.size > self.max_bytes and len(self.runs) > 1:
            self.size -= _nbytes(self.runs.pop(next(iter(self.runs))))
        return run


def _nbytes(run: Any) -> int:
    return sum(a.nbytes for a in (run.t_start, run.t_end, run.lead_calendar_days, run.applicant_days, run.flow_index))


_RUNS = _RunCache()


def _run_chunk(chunk: _Chunk) -> Any:
    """Simulate a block of replications of one point, before and after; rows as compare() makes them."""
    from orgsim.experiment import Comparison, Runner, StateResult
    from orgsim.model.metrics import structure_metrics
    from orgsim.reforms import reform_scenario
    from orgsim.scenario import parse_scenario

    try:
        scenario = parse_scenario(chunk.text, chunk.source, Path(chunk.base_dir) if chunk.base_dir else None)
        outcome = reform_scenario(scenario)
        seed = scenario.simulation.seed if chunk.seed is None else chunk.seed
        runner = Runner(scenario)  # the calendar and each state's plan, built once for the chunk
        states = {}
        for name, org in (("before", outcome.before), ("after", outcome.after)):
            runs = tuple(_RUNS.run(runner, org, seed, chunk.replications, r) for r in range(chunk.first, chunk.stop))
            states[name] = StateResult(name, org, structure_metrics(org), runs)
    except OrgsimError as exc:
        return _Failure(type(exc), str(exc), tuple(exc.problems))
    comparison = Comparison(scenario, states["before"], states["after"], seed, chunk.stop - chunk.first, outcome)
    frame = comparison.to_frame()
    frame["replication"] += chunk.first
    frame["scenario_sha256"] = chunk.sha256
    for k, (name, value) in enumerate(chunk.columns):
        frame.insert(k, name, [value] * len(frame))
    return frame


def _blocks(n: int, k: int) -> list[tuple[int, int]]:
    """``range(n)`` cut into ``k`` contiguous blocks of nearly equal size."""
    k = max(1, min(n, k))
    edges = [round(i * n / k) for i in range(k + 1)]
    return [(a, b) for a, b in zip(edges, edges[1:]) if b > a]


@dataclass
class _Points:
    """Points to evaluate: their settings, and what each one needs."""

    base: _Base
    settings: list[list[tuple[Vary, Any]]]
    seed: int | None
    replications: int | None

    def replications_of(self, i: int) -> int:
        if self.replications is not None:
            return self.replications
        value = _setting(_point_document(self.base, self.settings[i]), "replications")
        return int(value) if isinstance(value, int) else 1

    def chunks(self, todo: Sequence[int], workers: int) -> Iterator[_Chunk]:
        per_point = 1 if workers <= 1 or len(todo) >= TASKS_PER_WORKER * workers else math.ceil(
            TASKS_PER_WORKER * workers / max(1, len(todo)))
        for i in todo:
            settings = self.settings[i]
            text = _point_text(self.base, settings)
            n = self.replications_of(i)
            columns = (("point", i),) + tuple((v.path, x) for v, x in settings)
            for a, b in _blocks(n, per_point):
                yield _Chunk(i, text, self.base.source, str(self.base.base_dir) if self.base.base_dir else None,
                             self.base.sha256, self.seed, n, a, b, columns)

    def run(
        self, todo: Sequence[int], executor: Executor, on_runs: Callable[[int], None] | None = None,
    ) -> Iterator[tuple[int, pd.DataFrame]]:
        """Yield ``(point, frame)`` as each point's replications are all in."""
        import pandas as pd

        chunks = list(self.chunks(todo, executor.workers))
        expected: dict[int, int] = {}
        for c in chunks:
            expected[c.point] = expected.get(c.point, 0) + 1
        parts: dict[int, list[pd.DataFrame]] = {}
        for chunk, result in executor.map_unordered(_run_chunk, chunks):
            if isinstance(result, _Failure):
                err = result.kind(result.message, list(result.problems))
                raise _at_point(err, self.base, self.settings[chunk.point])
            if on_runs is not None:
                on_runs(chunk.stop - chunk.first)
            got = parts.setdefault(chunk.point, [])
            got.append(result)
            if len(got) == expected[chunk.point]:
                del parts[chunk.point]
                yield chunk.point, _ordered(pd.concat(got, ignore_index=True))


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows as compare().to_frame() gives them: before then after, by replication."""
    order = frame["state"].map({"before": 0, "after": 1})
    frame = frame.assign(_order=order).sort_values(["_order", "replication"], kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)


# ---------------------------------------------------------------- results on disk


def _identity_value(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


class _Journal:
    """A directory of per-point part files and a manifest naming the sweep they belong to."""

    MANIFEST = "manifest.json"
    PART = re.compile(r"^point-(\d+)\.csv$")

    def __init__(self, directory: Path, identity: dict[str, Any]) -> None:
        self.directory = directory
        self.identity = identity

    def open(self) -> None:
        manifest = self.directory / self.MANIFEST
        if manifest.exists():
            try:
                found = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise SweepError(f"{manifest}: unreadable ({exc}); delete {self.directory} to start again") from None
            differ = [k for k in self.identity if found.get(k) != self.identity[k]]
            if differ:
                said = "; ".join(f"{k}: {_brief(found.get(k))} there, {_brief(self.identity[k])} here" for k in differ)
                raise SweepError(
                    f"{self.directory} holds results of a different sweep ({said}); refusing to mix them. "
                    f"Use another --out, or delete {self.directory} to start again"
                )
        else:
            if self.directory.exists() and any(not _temporary(f) for f in self.directory.iterdir()):
                raise SweepError(f"{self.directory} exists and is not a sweep's results directory; "
                                 "use another --out or remove it")
            atomic_write_text(manifest, json.dumps(self.identity, indent=2, sort_keys=True) + "\n")
        # Temporary files of writes that were interrupted (kill -9): never complete, never read.
        for stale in self.directory.iterdir():
            if _temporary(stale):
                stale.unlink(missing_ok=True)

    def part(self, point: int) -> Path:
        return self.directory / f"point-{point:06d}.csv"

    def done(self, rows_of: Callable[[int], int]) -> set[int]:
        """Points whose part is complete; a damaged part (not written by us whole) is set aside."""
        import pandas as pd

        done = set()
        for path in self.directory.iterdir():
            m = self.PART.match(path.name)
            if not m:
                continue
            point = int(m.group(1))
            try:
                frame = pd.read_csv(path)
                ok = len(frame) == rows_of(point) and bool((frame["point"] == point).all())
            except (ValueError, KeyError, IndexError, OSError):
                ok = False
            if ok:
                done.add(point)
            else:
                warnings.warn(f"{path}: incomplete part file; the point will be run again", stacklevel=3)
                path.unlink(missing_ok=True)
        return done

    def write(self, point: int, frame: pd.DataFrame) -> None:
        atomic_write(self.part(point), lambda tmp: frame.to_csv(tmp, index=False))

    def read(self, points: Sequence[int]) -> pd.DataFrame:
        import pandas as pd

        return pd.concat([read_table(self.part(i)) for i in points], ignore_index=True)


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a sweep's table (.csv or .parquet) back, every float exactly as it was written."""
    import pandas as pd

    path = Path(path)
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    if int(pd.__version__.split(".")[0]) < 3:
        # pandas 2 parses floats fast but not always to the last bit; 3 always round-trips.
        return pd.read_csv(path, float_precision="round_trip")
    return pd.read_csv(path)


def _temporary(path: Path) -> bool:
    """A temporary file of orgsim._io.atomic_write (left by a kill -9): never complete, never read."""
    return path.name.startswith(".") and path.name.endswith(".part")


def _brief(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def parts_directory(out: str | Path) -> Path:
    """Where a sweep writing ``out`` keeps its finished points until it completes."""
    out = Path(out)
    return out.with_name(out.name + ".parts")


def _write_table(out: Path, frame: pd.DataFrame) -> None:
    if out.suffix.lower() == ".parquet":
        atomic_write(out, lambda tmp: frame.to_parquet(tmp, index=False))
    else:
        atomic_write(out, lambda tmp: frame.to_csv(tmp, index=False))


# ---------------------------------------------------------------- the API


def _progress_bar(total: int, initial: int, enabled: bool) -> Any:
    import sys

    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="run", desc="sweep", file=sys.stderr,
                disable=not enabled, dynamic_ncols=True, smoothing=0.1)


@contextlib.contextmanager
def _open_executor(executor: str | Executor | None, address: str | None, workers: int | None) -> Iterator[Executor]:
    """The executor named, closed afterwards (at once on an error); one given open is left open."""
    if isinstance(executor, Executor):
        yield executor
        return
    try:
        ex = make_executor(executor, address=address, workers=workers)
    except ValueError as exc:
        raise SweepError(str(exc)) from None
    with ex:
        yield ex


def sweep(
    scenario: str | Path | Scenario,
    vary: Mapping[str, Sequence[Any]] | Sequence[str],
    *,
    replications: int | None = None,
    seed: int | None = None,
    executor: str | Executor | None = None,
    address: str | None = None,
    workers: int | None = None,
    out: str | Path | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Compare the scenario before and after its reforms at every point of a grid.

    Parameters
    ----------
    scenario
        A scenario file, or a loaded :class:`~orgsim.scenario.schema.Scenario`.
    vary
        The levers: ``{"PATH": [v1, v2]}`` or ``["PATH=V1,V2", ...]`` (values
        read as YAML scalars). Paths are described in :mod:`orgsim.sweep`.
    replications, seed
        As for :func:`orgsim.experiment.compare`; by default each point's own
        ``simulation.replications`` and ``simulation.seed``.
    executor
        ``"serial"`` (the default), ``"processes"``, ``"dask"`` or an open
        :class:`~orgsim.executors.Executor` (left open). ``address`` is a
        running Dask scheduler's (and implies ``"dask"``); ``workers`` the
        number of local workers (default: the CPUs this process may use).
    out
        A ``.csv`` or ``.parquet`` file for the table. Finished points are kept
        in ``OUT.parts/`` as they come in, so running the same sweep again after
        an interruption resumes it.
    progress
        Draw a progress bar with the time left on standard error.

    Returns
    -------
    pandas.DataFrame
        One row per point, state and replication: ``point``, one column per
        lever (named by its path), then the columns of
        :meth:`orgsim.experiment.Comparison.to_frame` (``state``,
        ``replication``, ``seed``, ``scenario_sha256`` of the file swept,
        ``orgsim_version``, headcount and the run's statistics).

    Raises
    ------
    ScenarioError
        A path that does not exist, or a value the format refuses (naming the
        path and the point); :class:`SweepError` when ``out`` holds another
        sweep's results.
    """
    from orgsim import __version__

    if out is not None and Path(out).suffix.lower() not in (".csv", ".parquet"):
        raise SweepError(f"{out}: the table is written as .csv or .parquet")
    if out is not None and Path(out).suffix.lower() == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise SweepError(f"{out}: writing Parquet needs pyarrow (pip install pyarrow), or use .csv") from None
    base = _load_base(scenario)
    varies = resolve_vary(base.data, vary, base.source)
    _check_levers(base, varies)
    combos = grid(varies)
    points = _Points(base, [list(zip(varies, c)) for c in combos], seed, replications)

    journal = None
    done: set[int] = set()
    if out is not None:
        identity = {
            "format": "orgsim-sweep/1",
            "scenario_sha256": base.sha256,
            "vary": [{"path": v.path, "values": [_identity_value(x) for x in v.values]} for v in varies],
            "seed": seed,
            "replications": replications,
            "orgsim_version": __version__,
            "orgsim_code_sha256": code_sha256(),
        }
        journal = _Journal(parts_directory(out), identity)
        journal.open()
        done = journal.done(lambda i: 2 * points.replications_of(i))
    todo = [i for i in range(len(combos)) if i not in done]

    total = sum(points.replications_of(i) for i in range(len(combos)))
    frames: dict[int, pd.DataFrame] = {}
    if todo:
        with _open_executor(executor, address, workers) as ex, \
                _progress_bar(total, sum(points.replications_of(i) for i in done), progress) as bar:
            bar.set_postfix_str(f"{len(done)}/{len(combos)} points", refresh=False)
            for point, frame in points.run(todo, ex, bar.update):
                if journal is not None:
                    journal.write(point, frame)
                else:
                    frames[point] = frame
                done.add(point)
                bar.set_postfix_str(f"{len(done)}/{len(combos)} points", refresh=False)

    import pandas as pd

    if journal is None:
        return pd.concat([frames[i] for i in range(len(combos))], ignore_index=True)
    table = journal.read(range(len(combos)))
    _write_table(Path(out), table)  # type: ignore[arg-type]
    shutil.rmtree(journal.directory, ignore_errors=True)
    return table
