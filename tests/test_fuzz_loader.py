"""Fuzzing the loader: whatever the input, a scenario or an OrgsimError, nothing else.

Random YAML documents, random text and bytes, and random mutations of the
bundled scenarios (of their text and of their data) go through
:func:`parse_scenario`; when one parses, its reforms are applied too. Both
must either succeed or raise :class:`~orgsim.errors.OrgsimError` with
located problems, never another exception. The runs are derandomised, so
CI is deterministic; ``FUZZ_EXAMPLES`` scales them for a longer local hunt.
"""

from __future__ import annotations

import copy
import math
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from orgsim.errors import OrgsimError
from orgsim.reforms import reform_scenario
from orgsim.scenario import load_scenario, parse_scenario

# Fuzzing the whole pipeline (parse, validate, reform): seconds per test.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "scenarios" / "tutorial.yaml"
BUNDLED = sorted((ROOT / "scenarios").glob("*.yaml"))
SCALE = float(os.environ.get("FUZZ_EXAMPLES", "1"))
#: libyaml, when present, to read and write the test data quickly (the loader under test uses it too, and
#: PyYAML's Python loader for every message: see tests/test_loader_yaml.py).
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
FAST_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump(doc: Any) -> str:
    return yaml.dump(doc, Dumper=FAST_DUMPER, allow_unicode=True, sort_keys=False)


def fuzz(n: int) -> settings:
    return settings(
        max_examples=max(1, int(n * SCALE)),
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def check_text(text: str, name: str = "fuzz.yaml") -> str:
    """Parse ``text`` and apply its reforms; return which stage stopped it."""
    try:
        scenario = parse_scenario(text, name)
    except OrgsimError as exc:
        assert_located(exc, name)
        return "format"
    try:
        reform_scenario(scenario)
    except OrgsimError as exc:
        assert_located(exc, name)
        return "reforms"
    return "ok"


def assert_located(exc: OrgsimError, name: str) -> None:
    assert exc.problems, exc
    for problem in exc.problems:
        assert problem.file == name and problem.message, problem
        assert problem.line is None or problem.line >= 1, problem
        assert "Traceback" not in str(problem)


# ---------------------------------------------------------------- random documents

#: Words that steer random documents into the schema rather than past it.
KEYS = sorted({
    "scenario", "name", "units", "functions", "workload", "reforms", "simulation", "id", "kind",
    "parent", "owner", "officers", "support", "leaders", "chief", "deputies", "category", "steps",
    "function", "after", "op", "phase", "into", "dist", "mean", "unit", "project_types", "arrivals",
    "rate", "per", "service_time", "to", "horizon_days", "warmup_days", "pooled", "cap", "within",
})
WORDS = ["committee", "bureau", "licensing", "merge", "strip", "days", "exponential", "a", "b", "c", "year"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**15), 10**15),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(WORDS + KEYS), st.text(max_size=8),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=5)), inner, max_size=5),
    ),
    max_leaves=30,
)


@fuzz(200)
@given(documents)
def test_random_yaml_documents(doc: Any) -> None:
    check_text(dump(doc))


@fuzz(150)
@given(st.dictionaries(st.sampled_from(["scenario", "units", "functions", "workload", "reforms", "simulation"]),
                       documents, min_size=1))
def test_random_documents_with_the_right_sections(doc: dict) -> None:
    check_text(dump(doc))


YAML_CHARS = st.sampled_from(list(":-[]{}&*!|>'\"%@`#,?\n\t  abc01.~=<") + ["---", "...", "!!", "&a", "*a", "<<"])


@fuzz(300)
@given(st.one_of(st.text(max_size=200), st.lists(YAML_CHARS, max_size=60).map("".join)))
def test_random_text(text: str) -> None:
    check_text(text)


@fuzz(60)
@given(st.binary(max_size=200))
def test_random_bytes_from_a_file(tmp_path_factory: Any, raw: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.yaml"
    path.write_bytes(raw)
    try:
        load_scenario(path)
    except OrgsimError as exc:
        assert_located(exc, str(path))


# ---------------------------------------------------------------- mutations of bundled scenarios

TUTORIAL_TEXT = TUTORIAL.read_text(encoding="utf-8")


@fuzz(100)
@given(st.data())
def test_text_mutations_of_the_tutorial(data: st.DataObject) -> None:
    text = TUTORIAL_TEXT
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(text)))
        j = data.draw(st.integers(i, min(len(text), i + 40)))
        insert = data.draw(st.one_of(st.just(""), st.lists(YAML_CHARS, max_size=6).map("".join),
                                     st.text(max_size=6)))
        text = text[:i] + insert + text[j:]
    event(check_text(text))


@fuzz(60)
@given(st.data())
def test_line_mutations_of_the_tutorial(data: st.DataObject) -> None:
    lines = TUTORIAL_TEXT.splitlines()
    i, j = data.draw(st.integers(0, len(lines) - 1)), data.draw(st.integers(0, len(lines) - 1))
    action = data.draw(st.sampled_from(["delete", "duplicate", "swap", "indent", "dedent"]))
    if action == "delete":
        del lines[i]
    elif action == "duplicate":
        lines.insert(j, lines[i])
    elif action == "swap":
        lines[i], lines[j] = lines[j], lines[i]
    elif action == "indent":
        lines[i] = "  " + lines[i]
    else:
        lines[i] = lines[i][2:] if lines[i].startswith("  ") else lines[i]
    event(check_text("\n".join(lines) + "\n"))


def _ids(data: Any) -> list[str]:
    """Every id in a scenario's data: what a plausible wrong reference looks like."""
    out: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ("id", "owner", "parent", "to", "within", "function") and isinstance(value, str):
                out.append(value)
            out += _ids(value)
    elif isinstance(data, list):
        for item in data:
            out += _ids(item)
    return sorted(set(out))


def _paths(data: Any, path: tuple = ()) -> list[tuple]:
    """Every place in ``data``: mapping keys and list positions, at any depth."""
    out = [path]
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else []
    for key, value in items:
        out += _paths(value, path + (key,))
    return out


def _at(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part]
    return data


NASTY = [None, -1, 0, 1, 2.5, 10**12, -(10**12), math.inf, math.nan, "", "x", True, [], {},
         "2020-02-30", "merge", "exponential"]


def mutate(data: dict, draw: Any, ids: list[str], within: str | None = None) -> dict:
    """One random edit somewhere in ``data``.

    Mostly plausible ones that get past the format checks (another id where
    an id is, another small number where a number is), so the reference
    checks and the reform operators get their share; also wrong values, lost
    keys, unknown keys and copied list items (duplicate ids). ``within``
    keeps the edit inside one section.
    """
    data = copy.deepcopy(data)
    paths = [p for p in _paths(data) if p and (within is None or (p[0] == within and len(p) > 1))]
    ids_at = [p for p in paths if isinstance(_at(data, p), str) and _at(data, p) in ids]
    numbers_at = [p for p in paths if type(_at(data, p)) in (int, float)]
    action = draw(st.sampled_from(["retarget"] * 4 + ["number"] * 2 + ["replace", "delete", "extra", "copy"]))
    if action == "retarget" and ids_at:
        path = draw(st.sampled_from(ids_at))
        _at(data, path[:-1])[path[-1]] = draw(st.sampled_from(ids))
        return data
    if action == "number" and numbers_at:
        path = draw(st.sampled_from(numbers_at))
        _at(data, path[:-1])[path[-1]] = draw(st.sampled_from([0, 1, 2, 3, 10, 0.5, 0.99]))
        return data
    path = draw(st.sampled_from(paths))
    parent, key = _at(data, path[:-1]), path[-1]
    if action == "delete":
        del parent[key]
    elif action == "extra" and isinstance(_at(data, path), dict):
        _at(data, path)[draw(st.sampled_from(KEYS + ["colour"]))] = draw(st.sampled_from(NASTY))
    elif action == "copy" and isinstance(parent, list):
        parent.insert(draw(st.integers(0, len(parent))), copy.deepcopy(parent[key]))
    else:
        parent[key] = draw(st.one_of(st.sampled_from(NASTY), st.sampled_from(ids),
                                     st.lists(st.sampled_from(ids), max_size=3)))
    return data


TUTORIAL_DATA = yaml.safe_load(TUTORIAL_TEXT)
TUTORIAL_IDS = _ids(TUTORIAL_DATA)


@fuzz(80)
@given(st.data())
def test_data_mutations_of_the_tutorial(data: st.DataObject) -> None:
    doc = TUTORIAL_DATA
    for _ in range(data.draw(st.integers(1, 3))):
        doc = mutate(doc, data.draw, TUTORIAL_IDS)
    event(check_text(dump(doc)))


@fuzz(100)
@given(st.data())
def test_data_mutations_of_the_tutorial_reforms(data: st.DataObject) -> None:
    doc = TUTORIAL_DATA
    for _ in range(data.draw(st.integers(1, 2))):
        doc = mutate(doc, data.draw, TUTORIAL_IDS, within="reforms")
    event(check_text(dump(doc)))


BUNDLED_DATA = {p.name: yaml.load(p.read_text(encoding="utf-8"), Loader=FAST_LOADER) for p in BUNDLED}


@fuzz(10)
@given(st.sampled_from(sorted(BUNDLED_DATA)), st.data())
def test_data_mutations_of_every_bundled_scenario(name: str, data: st.DataObject) -> None:
    doc = mutate(BUNDLED_DATA[name], data.draw, _ids(BUNDLED_DATA[name]))
    event(check_text(dump(doc), name))


def test_the_fuzzers_reach_every_stage() -> None:
    """The mutations are not all stopped at the door: some parse, some fail in reforms."""
    stages = {check_text(TUTORIAL_TEXT)}
    doc = copy.deepcopy(TUTORIAL_DATA)
    doc["reforms"][0]["reforms"][0]["units"][0] = "nowhere"
    stages.add(check_text(dump(doc)))
    stages.add(check_text("units: 3\n"))
    assert stages == {"ok", "reforms", "format"}
