"""Read scenario files: safe YAML with line numbers, then schema and reference checks.

All problems in a file are collected and raised together as one
:class:`~orgsim.errors.ScenarioError`, each naming the file, the field path
and the line.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import networkx as nx
import yaml
from pydantic import ValidationError

from orgsim.errors import Problem, ScenarioError
from orgsim.scenario.schema import Scenario

__all__ = ["load_scenario", "parse_scenario", "format_path", "MAX_FILE_BYTES", "MAX_APPLICANTS"]

MAX_FILE_BYTES = 5_000_000
#: More aliases than this is an alias bomb (billion laughs), not a scenario.
MAX_ALIASES = 200
#: Expected applicants per replication above this is a mistake, not a study.
MAX_APPLICANTS = 50_000_000

Loc = tuple[Any, ...]


def format_path(loc: Loc) -> str:
    """``('units', 3, 'leaders')`` -> ``units[3].leaders``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses alias bombs and duplicate keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.alias_count = 0

    def compose_node(self, parent: Any, index: Any) -> Any:  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            self.alias_count += 1
            if self.alias_count > MAX_ALIASES:
                event = self.peek_event()
                raise yaml.composer.ComposerError(
                    None, None, f"more than {MAX_ALIASES} aliases (*name); refusing an alias bomb",
                    event.start_mark,
                )
        return super().compose_node(parent, index)


def _line_index(node: yaml.Node, loc: Loc, index: dict[Loc, int]) -> None:
    index[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                index[loc + (key.value,)] = key.start_mark.line + 1
                _line_index(value, loc + (key.value,), index)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_index(item, loc + (i,), index)


def _duplicate_keys(node: yaml.Node, loc: Loc, out: list[tuple[Loc, int, str]]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    out.append((loc, key.start_mark.line + 1, key.value))
                seen.add(key.value)
                _duplicate_keys(value, loc + (key.value,), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _duplicate_keys(item, loc + (i,), out)


class LineLookup:
    """Finds the line of a field path, falling back to its nearest parent."""

    def __init__(self, index: dict[Loc, int]) -> None:
        self._index = index

    def __call__(self, loc: Loc) -> int | None:
        loc = tuple(loc)
        while loc:
            if loc in self._index:
                return self._index[loc]
            loc = loc[:-1]
        return self._index.get((), None)


def _clean_loc(loc: Loc, data: Any) -> Loc:
    """Drop pydantic's union tags (``merge``, ``op`` ...) from a location.

    A part is kept when it indexes the data at that point and either ends the
    location or leads into a mapping or list; a tag that happens to equal a
    key (``phase``) leads into a scalar with more parts to come, so it goes.
    """
    out: Loc = ()
    node = data
    for k, part in enumerate(loc):
        last = k == len(loc) - 1
        if isinstance(node, dict) and part in node:
            child = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            child = node[part]
        else:
            continue
        if last or isinstance(child, (dict, list)):
            out += (part,)
            node = child
    return out


def _message(err: dict[str, Any]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required field is missing"
    if kind == "union_tag_invalid":
        return f"{err['msg']}"
    msg = err["msg"].removeprefix("Value error, ")
    if "input" in err and kind not in ("model_type", "dict_type", "list_type"):
        shown = repr(err["input"])
        if len(shown) > 60:
            shown = shown[:57] + "..."
        msg += f" (got {shown})"
    return msg


def parse_scenario(text: str, file: str = "<string>", base_dir: Path | None = None) -> Scenario:
    """Parse and validate scenario text; raise :class:`ScenarioError` listing every problem."""
    if not text.strip():
        raise ScenarioError(f"{file}: empty file", [Problem("", "file is empty", file)])
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ScenarioError(f"{file}: empty file", [Problem("", "file is empty", file)])
        dupes: list[tuple[Loc, int, str]] = []
        _duplicate_keys(node, (), dupes)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = exc.problem or str(exc)
        if exc.context:
            what = f"{exc.context}, {what}"
        raise ScenarioError(
            f"{file}: YAML error", [Problem("", f"YAML syntax error: {what}", file, line)]
        ) from None
    except yaml.YAMLError as exc:  # pragma: no cover - PyYAML marks nearly everything
        raise ScenarioError(f"{file}: YAML error", [Problem("", f"YAML error: {exc}", file)]) from None
    finally:
        loader.dispose()

    if dupes:
        raise ScenarioError(
            f"{file}: duplicate keys",
            [Problem(format_path(loc + (key,)), "duplicate key", file, line) for loc, line, key in dupes],
        )
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{file}: not a mapping",
            [Problem("", f"the top level must be a mapping of sections, got {type(data).__name__}", file, 1)],
        )
    index: dict[Loc, int] = {}
    _line_index(node, (), index)
    lines = LineLookup(index)

    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = _clean_loc(err["loc"], data)
            problems.append(Problem(format_path(loc), _message(err), file, lines(loc)))
        raise ScenarioError(f"{file}: {len(problems)} problem(s)", problems) from None

    problems = [
        Problem(format_path(loc), msg, file, lines(loc)) for loc, msg in check_references(scenario, base_dir)
    ]
    if problems:
        raise ScenarioError(f"{file}: {len(problems)} problem(s)", problems)
    scenario._source_file = file
    scenario._base_dir = base_dir
    scenario._sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    scenario._lines = lines
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Load a scenario file; raise :class:`ScenarioError` naming the file, field and line."""
    path = Path(path)
    name = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(f"{name}: no such file", [Problem("", "no such file", name)]) from None
    except IsADirectoryError:
        raise ScenarioError(f"{name}: is a directory", [Problem("", "is a directory, not a file", name)]) from None
    except OSError as exc:
        raise ScenarioError(f"{name}: unreadable", [Problem("", f"cannot read: {exc.strerror}", name)]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(
            f"{name}: too large",
            [Problem("", f"file is {len(raw):,} bytes; scenario files are limited to {MAX_FILE_BYTES:,}", name)],
        )
    if b"\x00" in raw:
        raise ScenarioError(f"{name}: binary", [Problem("", "binary file (contains NUL bytes), not YAML text", name)])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScenarioError(
            f"{name}: not UTF-8",
            [Problem("", f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); save the file as UTF-8", name, line)],
        ) from None
    return parse_scenario(text, name, path.parent)


# ---------------------------------------------------------------- references


def _duplicates(items: list[Any], loc: Loc, what: str) -> list[tuple[Loc, str]]:
    seen: dict[str, int] = {}
    out = []
    for i, item in enumerate(items):
        if item.id in seen:
            out.append((loc + (i, "id"), f"duplicate {what} id {item.id!r} (first at {format_path(loc + (seen[item.id],))})"))
        else:
            seen[item.id] = i
    return out


def check_references(s: Scenario, base_dir: Path | None = None) -> list[tuple[Loc, str]]:
    """Every dangling reference, duplicate id and cycle in a schema-valid scenario."""
    problems: list[tuple[Loc, str]] = []
    problems += _duplicates(s.units, ("units",), "unit")
    problems += _duplicates(s.functions, ("functions",), "function")
    unit_ids = {u.id for u in s.units}
    function_ids = {f.id for f in s.functions}
    clash = unit_ids & function_ids
    for i, f in enumerate(s.functions):
        if f.id in clash:
            problems.append((("functions", i, "id"), f"id {f.id!r} is also a unit id; ids must be unique across units and functions"))

    hierarchy = nx.DiGraph()
    for i, u in enumerate(s.units):
        if u.parent is not None:
            if u.parent not in unit_ids:
                problems.append((("units", i, "parent"), f"unknown unit {u.parent!r}"))
            elif u.parent == u.id:
                problems.append((("units", i, "parent"), f"unit {u.id!r} reports to itself"))
            else:
                hierarchy.add_edge(u.id, u.parent)
    try:
        cycle = nx.find_cycle(hierarchy)
        members = " -> ".join([a for a, _ in cycle] + [cycle[0][0]])
        first = next(i for i, u in enumerate(s.units) if u.id == cycle[0][0])
        problems.append((("units", first, "parent"), f"reporting cycle: {members}"))
    except nx.NetworkXNoCycle:
        pass

    for i, f in enumerate(s.functions):
        if f.owner not in unit_ids:
            problems.append((("functions", i, "owner"), f"unknown unit {f.owner!r}"))

    if s.workload is not None:
        functions = {f.id: f for f in s.functions}
        units = {u.id: u for u in s.units}
        problems += _duplicates(s.workload.project_types, ("workload", "project_types"), "project type")
        horizon = s.simulation.horizon_days
        for t, pt in enumerate(s.workload.project_types):
            loc_t: Loc = ("workload", "project_types", t)
            problems += _duplicates(pt.steps, loc_t + ("steps",), "step")
            step_ids = {st.id for st in pt.steps}
            path = nx.DiGraph()
            path.add_nodes_from(step_ids)
            for k, st in enumerate(pt.steps):
                names = st.function if isinstance(st.function, list) else [st.function]
                for fid in names:
                    f = functions.get(fid)
                    if f is None:
                        problems.append((loc_t + ("steps", k, "function"), f"unknown function {fid!r}"))
                        continue
                    if f.service_time is None:
                        problems.append((loc_t + ("steps", k, "function"), f"function {fid!r} handles cases here but has no service_time"))
                    owner = units.get(f.owner)
                    if owner is not None and f.officers == 0 and not (
                        owner.pooled and any(g.officers for g in s.functions if g.owner == owner.id)
                    ):
                        problems.append((loc_t + ("steps", k, "function"), f"function {fid!r} receives work but has no officers (give it officers, or pool its unit {owner.id!r})"))
                for dep in st.after:
                    if dep not in step_ids:
                        problems.append((loc_t + ("steps", k, "after"), f"unknown step {dep!r}"))
                    elif dep == st.id:
                        problems.append((loc_t + ("steps", k, "after"), f"step {st.id!r} waits for itself"))
                    else:
                        path.add_edge(dep, st.id)
            try:
                cycle = nx.find_cycle(path)
                members = " -> ".join([a for a, _ in cycle] + [cycle[0][0]])
                problems.append((loc_t + ("steps",), f"approval path has a cycle: {members}"))
            except nx.NetworkXNoCycle:
                pass
            if pt.arrivals.rate is not None:
                expected = pt.arrivals.rate_per_day() * horizon
                if expected > MAX_APPLICANTS:
                    problems.append((loc_t + ("arrivals", "rate"), f"would bring {expected:.3g} applicants per replication; more than {MAX_APPLICANTS:,} is not a study this tool can run"))
            elif pt.arrivals.trace is not None and base_dir is not None:
                if not (base_dir / pt.arrivals.trace).is_file():
                    problems.append((loc_t + ("arrivals", "trace"), f"trace file {pt.arrivals.trace!r} not found next to the scenario"))
    return problems
