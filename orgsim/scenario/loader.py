"""Read scenario files: safe YAML with line numbers, then schema and reference checks.

The YAML itself is read by :mod:`orgsim.scenario._yaml` (YAML 1.2 core types, limits, libyaml).

All problems in a file are collected and raised together as one
:class:`~orgsim.errors.ScenarioError`, each naming the file, the field path
and the line.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Union, get_args, get_origin

import networkx as nx
import yaml
from pydantic import BaseModel, ValidationError
from pydantic import Tag as _Tag

from orgsim.budget import check_budget
from orgsim.errors import Problem, ScenarioError
from orgsim.scenario._yaml import BadValue, FastLoader, PureLoader
from orgsim.scenario._yaml import MAX_ALIAS_EXPANSION, MAX_ALIASES, MAX_DEPTH  # noqa: F401 - where they were
from orgsim.scenario._traces import Trace, TraceProblem, read_trace
from orgsim.scenario.schema import WORKING_DAYS_PER, Phase, Scenario, officers_for_cases

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

__all__ = ["load_scenario", "parse_scenario", "format_path", "MAX_FILE_BYTES", "MAX_APPLICANTS"]

MAX_FILE_BYTES = 5_000_000
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


def _loc_of_mark(root: yaml.Node, mark: Any) -> Loc | None:
    """Field path of the node that starts at ``mark`` (for errors found while constructing)."""
    if mark is None:
        return None
    found: list[Loc] = []

    def walk(node: yaml.Node, loc: Loc) -> None:
        if node.start_mark.index == mark.index:
            found.append(loc)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    walk(value, loc + (key.value,))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, loc + (i,))

    walk(root, ())
    return found[-1] if found else None


def _line_index(node: yaml.Node, loc: Loc, index: dict[Loc, int]) -> None:
    # A mapping entry is located at its key (set by the caller), so that an
    # unknown or misplaced section is reported where its name is written.
    index.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                index.setdefault(loc + (key.value,), key.start_mark.line + 1)
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


def _child(node: Any, part: Any) -> tuple[bool, Any]:
    if isinstance(node, dict) and part in node:
        return True, node[part]
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return True, node[part]
    return False, None


def _clean_loc(loc: Loc, data: Any, missing: bool = False) -> Loc:
    """Drop pydantic's union tags (``merge``, ``op``, ``phase`` ...) from a location.

    A part is kept when it indexes the data at that point and either ends the
    location or leads into a mapping or list. A key that leads into a scalar
    with more parts to come is a tag that happens to equal a key (``phase``,
    ``op``) when a later part names another field of the same mapping, so it
    goes; otherwise the error is about that scalar and the rest are tags.
    With ``missing``, the last part names a field that is absent, so it is
    kept.
    """
    out: Loc = ()
    node = data
    for k, part in enumerate(loc):
        last = k == len(loc) - 1
        found, child = _child(node, part)
        if not found:
            if last and missing and isinstance(node, dict):
                out += (part,)
            continue
        if last or isinstance(child, (dict, list)):
            out += (part,)
            node = child
            continue
        rest = loc[k + 1 :]
        sibling = any(_child(node, q)[0] for q in rest) or (missing and isinstance(node, dict))
        if isinstance(part, int) or not sibling:
            return out + (part,)
    return out


# ---------------------------------------------------------------- messages

_ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]*$"
#: What a union's discriminator picks, in words.
_DISCRIMINATED = {"op": "operator", "dist": "distribution"}


def _strip_annotated(tp: Any) -> Any:
    while hasattr(tp, "__metadata__"):
        tp = get_args(tp)[0]
    return tp


def _tags(tp: Any) -> set[Any]:
    """Discriminator values under which a union member is chosen."""
    tags = {m.tag for m in getattr(tp, "__metadata__", ()) if isinstance(m, _Tag)}
    model = _strip_annotated(tp)
    if isinstance(model, type) and issubclass(model, BaseModel):
        tags.add(model.__name__)
        for field in model.model_fields.values():
            if get_origin(field.annotation) is Literal:
                tags.update(get_args(field.annotation))
    return tags


def _is_union(tp: Any) -> bool:
    return get_origin(tp) is Union or type(tp).__name__ == "UnionType"


def _members(tp: Any) -> list[Any]:
    """Members of a union, nested unions (``Distribution | None``) flattened."""
    out = []
    for member in get_args(tp):
        inner = _strip_annotated(member)
        out += _members(inner) if _is_union(inner) else [member]
    return out


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The pydantic model a raw (tagged) error location points into, if one can be told."""
    tp: Any = Scenario
    parts = list(loc)
    while True:
        tp = _strip_annotated(tp)
        origin = get_origin(tp)
        if _is_union(tp):
            members = _members(tp)
            if parts:
                chosen = [m for m in members if parts[0] in _tags(m)]
                if chosen:
                    tp = chosen[0]
                    parts.pop(0)
                    continue
            models = [m for m in map(_strip_annotated, members) if isinstance(m, type) and issubclass(m, BaseModel)]
            if parts:
                models = [m for m in models if parts[0] in m.model_fields] or models
            if len(models) != 1:
                return None
            tp = models[0]
            continue
        if not parts:
            return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None
        part = parts.pop(0)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if part not in tp.model_fields:
                return None
            tp = tp.model_fields[part].annotation
        elif origin is list and isinstance(part, int):
            tp = get_args(tp)[0]
        else:
            return None


def _quoted(text: str) -> list[str]:
    return re.findall(r"'([^']*)'", text)


def _suggest(word: Any, choices: list[str]) -> str:
    close = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (dt.date, dt.datetime)):
        return f"{value}, which YAML reads as a date"
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _message(err: ErrorDetails) -> str:
    """A pydantic error in words for the file's author (``err`` from ``errors()``)."""
    kind = err["type"]
    ctx = err.get("ctx", {})
    value = err.get("input")
    if kind == "extra_forbidden":
        model = _model_at(err["loc"][:-1])
        fields = list(model.model_fields) if model is not None else []
        return "unknown field" + _suggest(err["loc"][-1], fields)
    if kind in ("missing", "union_tag_not_found"):
        return "required field is missing"
    if kind == "union_tag_invalid":
        what = ctx["discriminator"].strip("'")
        tags = _quoted(ctx["expected_tags"])
        return (
            f"unknown {_DISCRIMINATED.get(what, what)} {ctx['tag']!r}{_suggest(ctx['tag'], tags)}; "
            f"expected one of: {', '.join(tags)}"
        )
    if kind in ("int_from_float", "int_parsing", "int_type"):
        return f"Input should be a whole number (got {_shown(value)})"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"Input should be a mapping of fields (got {_shown(value)})"
    if kind == "list_type":
        return f"Input should be a list (got {_shown(value)})"
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == _ID_PATTERN:
        return f"Input should be an id: a letter or _, then letters, digits, _ . - (got {_shown(value)})"
    msg = err["msg"].removeprefix("Value error, ")
    if kind == "value_error" and isinstance(value, (dict, list)):
        return msg
    msg += f" (got {_shown(value)})"
    if kind == "string_type" and isinstance(value, (int, float, bool, dt.date)):
        msg += "; put it in quotes to make it text"
    elif kind == "less_than_equal" and ctx.get("le") == 1 and isinstance(value, (int, float)) and value > 1:
        msg += "; give a probability or share as a fraction, e.g. 0.3 for 30%"
    return msg


def _error_location(err: ErrorDetails, data: Any) -> Loc:
    loc = _clean_loc(err["loc"], data, missing=err["type"] == "missing")
    if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
        # Point at the field that picks the union member (op, dist).
        what = err["ctx"]["discriminator"].strip("'")
        if not loc or loc[-1] != what:
            loc += (what,)
    return loc


def _yaml_problem(exc: yaml.MarkedYAMLError, file: str) -> Problem:
    """A PyYAML error as one located line."""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    what = exc.problem or exc.context or "unreadable YAML"
    if isinstance(exc, BadValue):
        return Problem("", what, file, line)
    if what.startswith("could not determine a constructor for the tag"):
        tag = (_quoted(what) or ["?"])[0].replace("tag:yaml.org,2002:", "!!")
        return Problem(
            "", f"YAML tag {tag} is not allowed: a scenario holds only plain data "
            "(mappings, lists, text, numbers, dates)", file, line,
        )
    if "'\\t'" in what:
        return Problem("", "YAML syntax error: a tab character; indent with spaces, not tabs", file, line)
    if exc.context == "expected a single document in the stream":
        return Problem(
            "", "YAML error: a second document (---) in the file; a scenario file holds one document",
            file, line,
        )
    if exc.problem and exc.context:
        cmark = exc.context_mark
        where = f" that starts at line {cmark.line + 1}" if cmark is not None and cmark.line + 1 != line else ""
        what = f"{exc.problem} ({exc.context}{where})"
    if what == "mapping values are not allowed here":
        what += " (is a line indented too far, or does a value with ': ' need quotes?)"
    if isinstance(exc, yaml.composer.ComposerError) and not exc.context:
        return Problem("", f"YAML error: {what}", file, line)
    return Problem("", f"YAML syntax error: {what}", file, line)


#: libyaml reads a tab inside a line, and ? inside a plain scalar in flow style,
#: as YAML 1.2 allows; PyYAML's Python scanner refuses both. A text with either
#: is read by the pure-Python loader only, so that every file reads the same
#: with or without libyaml (tests/test_loader_yaml.py looks for other differences).
_LIBYAML_DISAGREES = ("\t", "?")


def _read_yaml(text: str, file: str) -> tuple[yaml.Node, list[tuple[Loc, int, str]], Any]:
    """The document's node tree, its duplicate keys and its data; ScenarioError if it is not YAML.

    libyaml reads it when installed. A file it cannot read is read again by
    the pure-Python loader, which says what is wrong in the words (and at
    the line) users and ``tests/data/bad`` know; it is also the loader when
    libyaml is missing.
    """
    if FastLoader is not None and not any(c in text for c in _LIBYAML_DISAGREES):
        try:
            return _compose_and_construct(FastLoader, text, file)
        except (ScenarioError, UnicodeError):  # UnicodeError: libyaml takes no lone surrogates
            pass
    return _compose_and_construct(PureLoader, text, file)


def _compose_and_construct(
    loader_class: type, text: str, file: str
) -> tuple[yaml.Node, list[tuple[Loc, int, str]], Any]:
    loader = None
    node = None
    try:
        loader = loader_class(text)
        node = loader.get_single_node()
        if node is None:
            raise ScenarioError(f"{file}: empty file", [Problem("", "file is empty (only comments)", file)])
        dupes: list[tuple[Loc, int, str]] = []
        _duplicate_keys(node, (), dupes)
        return node, dupes, loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        problem = _yaml_problem(exc, file)
        if isinstance(exc, yaml.constructor.ConstructorError) and node is not None:
            loc = _loc_of_mark(node, exc.problem_mark)
            if loc:
                problem = Problem(format_path(loc), problem.message, file, problem.line)
        raise ScenarioError(f"{file}: YAML error", [problem]) from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        raise ScenarioError(
            f"{file}: YAML error",
            [Problem("", f"character U+{ord(char):04X} is not allowed in YAML text; delete it", file, line)],
        ) from None
    except yaml.YAMLError as exc:  # pragma: no cover - PyYAML marks nearly everything
        raise ScenarioError(f"{file}: YAML error", [Problem("", f"YAML error: {exc}", file)]) from None
    finally:
        if loader is not None:
            loader.dispose()


def parse_scenario(text: str, file: str = "<string>", base_dir: Path | None = None, *,
                   allow_outside: bool = False, traces: Mapping[tuple[str, str], Trace] | None = None,
                   max_memory_bytes: float | None = None) -> Scenario:
    """Parse and validate scenario text; raise :class:`ScenarioError` listing every problem.

    With ``base_dir``, arrival traces are read from there (only inside it,
    unless ``allow_outside``), checked and hashed into the scenario's hash;
    ``traces`` are traces already read (by ``(path, column)``), used as they are.
    What a run would cost is checked against the budget (:mod:`orgsim.budget`;
    ``max_memory_bytes`` raises its memory limit).
    """
    if not text.strip():
        raise ScenarioError(f"{file}: empty file", [Problem("", "file is empty", file)])
    node, dupes, data = _read_yaml(text, file)

    if dupes:
        raise ScenarioError(
            f"{file}: duplicate keys",
            [Problem(format_path(loc + (key,)), "duplicate key", file, line) for loc, line, key in dupes],
        )
    if not isinstance(data, dict):
        kinds: dict[type, str] = {list: "a list", str: "text"}
        kind = kinds.get(type(data), type(data).__name__)
        raise ScenarioError(
            f"{file}: not a mapping",
            [Problem("", f"the top level must be a mapping of sections (scenario:, units: ...), got {kind}",
                     file, node.start_mark.line + 1)],
        )
    index: dict[Loc, int] = {}
    _line_index(node, (), index)
    lines = LineLookup(index)

    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems: list[Problem] = []
        for err in exc.errors(include_url=False):
            loc = _error_location(err, data)
            problem = Problem(format_path(loc), _message(err), file, lines(loc))
            if problem not in problems:
                problems.append(problem)
        # In the order of the file, as its author reads it.
        problems.sort(key=lambda p: p.line if p.line is not None else 0)
        raise ScenarioError(f"{file}: {len(problems)} problem(s)", problems) from None

    found = check_references(scenario)
    read: dict[tuple[str, str], Trace] = {}
    if base_dir is not None and not found:
        found += _read_traces(scenario, base_dir, allow_outside, traces or {}, read)
    if not found:
        found += check_budget(scenario, read, max_memory_bytes)
    problems = [Problem(format_path(loc), msg, file, lines(loc)) for loc, msg in found]
    if problems:
        raise ScenarioError(f"{file}: {len(problems)} problem(s)", problems)
    scenario._source_file = file
    scenario._base_dir = base_dir
    scenario._sha256 = _scenario_sha256(text, read)
    scenario._traces = read
    scenario._lines = lines
    scenario._document = data
    return scenario


def _scenario_sha256(text: str, traces: Mapping[tuple[str, str], Trace]) -> str:
    """SHA-256 of the scenario text and, when it has traces, of every trace file's bytes too."""
    digest = hashlib.sha256(text.encode("utf-8"))
    if not traces:
        return digest.hexdigest()  # the hash of the text alone, as it always was
    for (written, column), trace in sorted(traces.items()):
        digest.update(f"\0trace\0{written}\0{column}\0{trace.sha256}".encode())
    return digest.hexdigest()


def _read_traces(scenario: Scenario, base_dir: Path, allow_outside: bool,
                 known: Mapping[tuple[str, str], Trace], read: dict[tuple[str, str], Trace]) -> list[tuple[Loc, str]]:
    """Read every trace the scenario names into ``read``; the problems, located."""
    problems: list[tuple[Loc, str]] = []
    if scenario.workload is None:
        return problems
    start = scenario.simulation.calendar.start
    for t, pt in enumerate(scenario.workload.project_types):
        written = pt.arrivals.trace
        if written is None:
            continue
        key = (written, pt.arrivals.column)
        if key in read:
            continue
        if key in known:
            read[key] = known[key]
            continue
        try:
            read[key] = read_trace(base_dir, written, pt.arrivals.column, allow_outside=allow_outside,
                                   not_before=start)
        except TraceProblem as exc:
            problems.append((("workload", "project_types", t, "arrivals", "trace"), str(exc)))
    return problems


def load_scenario(path: str | Path, *, allow_outside: bool = False, max_memory_bytes: float | None = None) -> Scenario:
    """Load a scenario file; raise :class:`ScenarioError` naming the file, field and line.

    Arrival traces must be inside the scenario's folder unless ``allow_outside``.
    """
    from orgsim._input import InputFileError, read_regular_file

    path = Path(path)
    name = str(path)
    try:
        # A FIFO, a device or a sparse giant is refused by its type and size before a byte is read.
        raw = read_regular_file(path, MAX_FILE_BYTES)
    except InputFileError as exc:
        reason = exc.reason
        if exc.kind == "too large":
            reason = f"file is {exc.size:,} bytes; scenario files are limited to {MAX_FILE_BYTES:,}"
        raise ScenarioError(f"{name}: {exc.kind}", [Problem("", reason, name)]) from None
    if b"\x00" in raw:
        raise ScenarioError(f"{name}: binary", [Problem("", "binary file (contains NUL bytes), not YAML text", name)])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScenarioError(
            f"{name}: not UTF-8",
            [Problem("", f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); save the file as UTF-8",
                     name, line)],
        ) from None
    return parse_scenario(text, name, path.parent, allow_outside=allow_outside, max_memory_bytes=max_memory_bytes)


# ---------------------------------------------------------------- references


def _duplicates(items: list[Any], loc: Loc, what: str) -> list[tuple[Loc, str]]:
    seen: dict[str, int] = {}
    out = []
    for i, item in enumerate(items):
        if item.id in seen:
            first = format_path(loc + (seen[item.id],))
            out.append((loc + (i, "id"), f"duplicate {what} id {item.id!r} (first at {first})"))
        else:
            seen[item.id] = i
    return out


def _standing_duties_leave_time(s: Scenario, f: Any, owner: Any) -> list[tuple[Loc, str]]:
    """A function that receives cases must keep officer time for them once standing duties are done."""
    members = [g for g in s.functions if g.owner == owner.id] if owner.pooled else [f]
    officers = sum(g.officers for g in members)
    standing = sum(g.standing_hours_per_year for g in members)
    hours_per_day = s.simulation.calendar.hours_per_day
    if officers == 0 or officers_for_cases(officers, standing, hours_per_day) > 0:
        return []
    i = next(k for k, g in enumerate(s.functions) if g.id == f.id)
    whose = f"its unit {owner.id!r}'s pooled officers" if owner.pooled else "its officers"
    return [(("functions", i, "standing_hours_per_year"),
             f"function {f.id!r} receives cases, but standing duties take all of {whose}' time "
             f"({standing:,.0f} of {officers * WORKING_DAYS_PER['year'] * hours_per_day:,.0f} officer-hours a year)")]


def _reappointment_phases(s: Scenario) -> list[tuple[Loc, str]]:
    """A re-appointment names a dated phase, at most once (else it would silently never happen)."""
    if s.workforce is None:
        return []
    lists = [s.reforms, *s.packages.values()]
    phases = [item for items in lists for item in items if isinstance(item, Phase)]
    dated = {ph.phase for ph in phases if ph.effective is not None}
    undated = {ph.phase for ph in phases} - dated
    problems: list[tuple[Loc, str]] = []
    seen: set[str] = set()
    for k, r in enumerate(s.workforce.reappointments):
        loc: Loc = ("workforce", "reappointments", k, "phase")
        if r.phase in seen:
            problems.append((loc, f"phase {r.phase!r} already has a re-appointment; give one per phase"))
        elif r.phase in undated:
            problems.append((loc, f"phase {r.phase!r} has no effective date; a re-appointment happens on the day "
                             "a dated phase takes effect"))
        elif r.phase not in dated:
            known = ", ".join(repr(n) for n in sorted(dated)) or "none"
            problems.append((loc, f"no dated phase is called {r.phase!r} (dated phases: {known})"))
        seen.add(r.phase)
    return problems


def check_references(s: Scenario) -> list[tuple[Loc, str]]:
    """Every dangling reference, duplicate id and cycle in a schema-valid scenario."""
    problems: list[tuple[Loc, str]] = []
    problems += _duplicates(s.units, ("units",), "unit")
    problems += _duplicates(s.functions, ("functions",), "function")
    unit_ids = {u.id for u in s.units}
    function_ids = {f.id for f in s.functions}
    clash = unit_ids & function_ids
    for i, f in enumerate(s.functions):
        if f.id in clash:
            problems.append((("functions", i, "id"),
                             f"id {f.id!r} is also a unit id; ids must be unique across units and functions"))

    hierarchy: nx.DiGraph[str] = nx.DiGraph()
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

    scope = s.workforce.scope if s.workforce is not None else None
    for k, scoped in enumerate(scope.units if scope is not None else []):
        if scoped not in unit_ids:
            problems.append((("workforce", "scope", "units", k), f"unknown unit {scoped!r}"))

    problems += _reappointment_phases(s)

    if s.packages and s.reforms:
        problems.append((("packages",), "give either reforms (one package) or packages (several side by side), "
                         "not both"))
    for name in s.packages:
        if name in ("before", "after"):
            problems.append((("packages", name), f"package name {name!r} is reserved for the states of a "
                             "scenario with one reform list; choose another"))

    if s.workload is not None:
        functions = {f.id: f for f in s.functions}
        units = {u.id: u for u in s.units}
        problems += _duplicates(s.workload.project_types, ("workload", "project_types"), "project type")
        horizon = s.simulation.horizon_days
        busy: set[tuple[str, str]] = set()
        for t, pt in enumerate(s.workload.project_types):
            loc_t: Loc = ("workload", "project_types", t)
            problems += _duplicates(pt.steps, loc_t + ("steps",), "step")
            step_ids = {st.id for st in pt.steps}
            path: nx.DiGraph[str] = nx.DiGraph()
            path.add_nodes_from(st.id for st in pt.steps)  # file order: the same cycle every run
            for k, st in enumerate(pt.steps):
                names = st.function if isinstance(st.function, list) else [st.function]
                for fid in names:
                    function = functions.get(fid)
                    if function is None:
                        problems.append((loc_t + ("steps", k, "function"), f"unknown function {fid!r}"))
                        continue
                    if function.service_time is None:
                        problems.append((loc_t + ("steps", k, "function"),
                                         f"function {fid!r} handles cases here but has no service_time"))
                    owner = units.get(function.owner)
                    if owner is not None and function.officers == 0 and not (
                        owner.pooled and any(g.officers for g in s.functions if g.owner == owner.id)
                    ):
                        problems.append((loc_t + ("steps", k, "function"),
                                         f"function {fid!r} receives work but has no officers "
                                         f"(give it officers, or pool its unit {owner.id!r})"))
                    elif owner is not None:
                        # One check per queue: a pooled unit's functions share its officers, so it is said once.
                        queue = ("unit", owner.id) if owner.pooled else ("function", fid)
                        if queue not in busy:
                            busy.add(queue)
                            problems += _standing_duties_leave_time(s, function, owner)
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
                problems += _routing_problems(pt, path, loc_t)
            if pt.arrivals.rate is not None:
                expected = pt.arrivals.rate_per_day() * horizon
                if expected > MAX_APPLICANTS:
                    problems.append((loc_t + ("arrivals", "rate"),
                                     f"would bring {expected:.3g} applicants per replication; "
                                     f"more than {MAX_APPLICANTS:,} is not a study this tool can run"))
        problems += _enforcement_problems(s, functions, units, busy)
    return problems


def _enforcement_problems(s: Scenario, functions: dict[str, Any], units: dict[str, Any],
                          busy: set[tuple[str, str]]) -> list[tuple[Loc, str]]:
    """Enforcement cases: known functions with officers and time for them, ids that name no project type.

    ``busy``: the queues whose standing duties were checked already (for the approval paths).
    """
    from orgsim.model.org import RESOLUTIONS

    assert s.workload is not None
    problems: list[tuple[Loc, str]] = _duplicates(s.workload.enforcement_cases, ("workload", "enforcement_cases"),
                                                  "enforcement case")
    types = {pt.id for pt in s.workload.project_types}
    for k, c in enumerate(s.workload.enforcement_cases):
        loc: Loc = ("workload", "enforcement_cases", k)
        for name in [c.id] + [f"{c.id}.{r}" for r in RESOLUTIONS]:
            if name in types:
                problems.append((loc + ("id",), f"{name!r} is also a project type id; enforcement case types are "
                                 f"named {c.id}.service, {c.id}.management and {c.id}.enforcement"))
        f = functions.get(c.function)
        if f is None:
            problems.append((loc + ("function",), f"unknown function {c.function!r}"
                             + _suggest(c.function, list(functions))))
            continue
        owner = units.get(f.owner)
        if owner is not None and f.officers == 0 and not (
            owner.pooled and any(g.officers for g in s.functions if g.owner == owner.id)
        ):
            problems.append((loc + ("function",), f"function {c.function!r} receives cases but has no officers "
                             f"(give it officers, or pool its unit {owner.id!r})"))
        elif owner is not None:
            queue = ("unit", owner.id) if owner.pooled else ("function", f.id)
            if queue not in busy:
                busy.add(queue)
                problems += _standing_duties_leave_time(s, f, owner)
        expected = c.rate_per_day() * s.simulation.horizon_days
        if expected > MAX_APPLICANTS:
            problems.append((loc + ("rate",), f"would bring {expected:.3g} cases per replication; more than "
                             f"{MAX_APPLICANTS:,} is not a study this tool can run"))
    return problems


def _routing_problems(pt: Any, path: nx.DiGraph, loc_t: Loc) -> list[tuple[Loc, str]]:
    """Conditions and rework targets of a project type's steps (its path is a DAG)."""
    problems: list[tuple[Loc, str]] = []
    for k, st in enumerate(pt.steps):
        if st.when is not None and st.when not in pt.attributes:
            known = ", ".join(pt.attributes) or "none (give them in the project type's attributes)"
            problems.append((loc_t + ("steps", k, "when"),
                             f"unknown attribute {st.when!r}{_suggest(st.when, list(pt.attributes))}; "
                             f"project type {pt.id!r} has attributes: {known}"))
        target = st.rework_to
        if target is None:
            continue
        if target == st.id:
            problems.append((loc_t + ("steps", k, "rework_to"),
                             f"step {st.id!r} sends files back to itself by default; rework_to names an "
                             "earlier step"))
        elif target not in path:
            problems.append((loc_t + ("steps", k, "rework_to"), f"unknown step {target!r}"))
        elif target not in nx.ancestors(path, st.id):
            problems.append((loc_t + ("steps", k, "rework_to"),
                             f"step {target!r} does not come before {st.id!r} on the path; rework_to "
                             "must name a step it waits for (directly or through others)"))
    if not problems:
        from orgsim.model.org import rework_conflicts

        where = {st.id: k for k, st in enumerate(pt.steps)}
        targets = {st.id: st.rework_to for st in pt.steps if st.rework_to is not None}
        for a, b, shared in rework_conflicts(path, targets):
            problems.append((loc_t + ("steps", where[b], "rework_to"), _conflict_message(a, b, shared)))
    return problems


def _conflict_message(a: str, b: str, shared: str) -> str:
    return (f"steps {a!r} and {b!r} may both be in progress and both send files back through "
            f"{shared!r}; "
            "orgsim cannot combine two returns of one file: send one of them back to itself (no rework_to), "
            "or put one after the other")
