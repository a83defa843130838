"""The lever path language of sweeps: ``PATH=V1,V2`` parsed and resolved against a scenario document.

A lever names a field of the scenario *document* (the YAML as written)::

    simulation.horizon_days                      a key in a mapping
    workload.project_types[0].arrivals.rate      [N]: the N-th item of a list (from 0)
    units[id=planning].support                   [FIELD=VALUE]: the one item whose FIELD is VALUE
    reforms[phase=2021].reforms[op=cap_headcount].cap
    reforms[1].reforms[2].enabled                true/false: keep or leave out an operator (or a phase)

Values are read as YAML scalars (:func:`parse_value`). Every mistake is a
:class:`~orgsim.errors.ScenarioError` naming the path and what is wrong.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from orgsim.errors import Problem, ScenarioError

__all__ = [
    "TOGGLE",
    "Loc",
    "Vary",
    "parse_path",
    "resolve_path",
    "parse_value",
    "parse_vary",
    "resolve_vary",
    "split_top",
    "value_identity",
    "describe_settings",
    "show_value",
]

#: The pseudo-field that keeps (true) or leaves out (false) a reform operator or phase.
TOGGLE = "enabled"

Loc = tuple[str | int, ...]


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
    """A value as a scenario file's YAML reads a scalar: ``60`` int, ``0.25`` float, ``true`` bool, ``null``, text.

    YAML 1.2 core types, as the loader reads the file: ``yes`` and ``1:30`` are text, ``010`` is 10.
    """
    from orgsim.scenario._yaml import load_core_scalar

    try:
        value = load_core_scalar(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, (dict, list)):
        return text
    if isinstance(value, str) and _FLOAT.match(value.strip()):
        return float(value)
    return value


def split_top(text: str, sep: str) -> list[str]:
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
    parts = split_top(spec, "=")
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
        if len(set(map(value_identity, values))) != len(values):
            raise _path_error(path, "a value is given twice", source)
        seen[key] = path
        out.append(Vary(path, loc, tuple(values), toggle))
    if not out:
        raise ScenarioError("nothing to vary", [Problem("", "give at least one --vary PATH=V1,V2,...", source)])
    return out



def value_identity(value: Any) -> Any:
    """A value as JSON would give it back: two values with the same identity are the same setting."""
    return json.loads(json.dumps(value, default=str))


def describe_settings(settings: Sequence[tuple[Vary, Any]]) -> str:
    """``PATH=VALUE, PATH=VALUE`` of one point."""
    return ", ".join(f"{v.path}={show_value(x)}" for v, x in settings)


def show_value(value: Any) -> str:
    """A value as YAML would write it (``true``, ``null``, ``60``)."""
    if isinstance(value, bool):
        return str(value).lower()
    return "null" if value is None else str(value)
