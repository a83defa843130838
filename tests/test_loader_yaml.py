"""Reading YAML: the YAML 1.2 core types, and libyaml's loader against the pure-Python one.

The pure-Python loader is the reference: whatever libyaml's loader reads, the
pure one must read the same way (same data, same line for every field), and
every message about a broken file comes from the pure one, also when
libyaml is not installed.
"""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orgsim.cli import main
from orgsim.errors import ScenarioError
from orgsim.scenario import load_scenario, parse_scenario
from orgsim.scenario import loader as ld
from orgsim.scenario._yaml import FastLoader, PureLoader

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = sorted((ROOT / "scenarios").glob("*.yaml"))
BAD = ROOT / "tests" / "data" / "bad"
EXPECTED: dict[str, list[str]] = yaml.safe_load((BAD / "expected.yaml").read_text(encoding="utf-8"))
HEAD = "scenario: {name: 测试}\nunits:\n  - {id: committee, name: 管委会, kind: committee}\n"

needs_libyaml = pytest.mark.skipif(FastLoader is None, reason="PyYAML without libyaml")
LOADERS = [PureLoader] + ([FastLoader] if FastLoader is not None else [])


def read(loader_class: type, text: str) -> tuple[Any, dict, list]:
    """Data, line index and duplicate keys of ``text`` as ``loader_class`` reads it."""
    node, dupes, data = ld._compose_and_construct(loader_class, text, "t.yaml")
    index: dict = {}
    ld._line_index(node, (), index)
    return data, index, dupes


def value_of(loader_class: type, scalar: str) -> Any:
    return read(loader_class, f"x: {scalar}\n")[0]["x"]


# ---------------------------------------------------------------- YAML 1.2 core types


@pytest.mark.parametrize("loader_class", LOADERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize(("scalar", "expected"), [
    # YAML 1.1's booleans are text.
    ("yes", "yes"), ("no", "no"), ("on", "on"), ("off", "off"), ("y", "y"), ("Yes", "Yes"), ("OFF", "OFF"),
    ("true", True), ("True", True), ("TRUE", True), ("false", False), ("tRue", "tRue"),
    # Sexagesimal numbers, binary and underscores are text; a leading 0 is not octal.
    ("1:30", "1:30"), ("190:20:30.15", "190:20:30.15"), ("0b101", "0b101"), ("1_000", "1_000"),
    ("0777", 777), ("0o17", 15), ("0x1F", 31), ("+1", 1), ("-0", 0), ("12", 12),
    ("1e3", 1000.0), (".5", 0.5), ("1.", 1.0), ("+.5e-3", 0.0005), ("-2.5", -2.5),
    (".inf", math.inf), ("-.Inf", -math.inf), ("+.INF", math.inf),
    ("~", None), ("null", None), ("Null", None), ("NULL", None), ("", None), ("nULL", "nULL"),
    ("'yes'", "yes"), ("'12'", "12"), ("=", "="),
    # Dates stay dates: scenario files have date fields.
    ("2017-03-01", dt.date(2017, 3, 1)),
    ("2020-01-02 09:30:00", dt.datetime(2020, 1, 2, 9, 30)),
    ("!!timestamp 2017-03-01", dt.date(2017, 3, 1)),
    ("!!str 2017-03-01", "2017-03-01"), ("!!str yes", "yes"), ("!!int '7'", 7), ("!!float 3", 3.0),
    ("!!bool true", True), ("!!null ''", None),
])
def test_core_schema(loader_class: type, scalar: str, expected: Any) -> None:
    got = value_of(loader_class, scalar)
    assert type(got) is type(expected) and got == expected


@pytest.mark.parametrize("loader_class", LOADERS, ids=lambda c: c.__name__)
def test_nan(loader_class: type) -> None:
    assert all(math.isnan(value_of(loader_class, s)) for s in (".nan", ".NaN", ".NAN"))


@pytest.mark.parametrize(("scalar", "message"), [
    ("!!int 0b11", "'0b11' is not a valid whole number: write it in digits (0o... for octal, 0x... for hexadecimal)"),
    ("!!int 1_000", "'1_000' is not a valid whole number: write it in digits"),
    ("!!float 1:30", "'1:30' is not a valid number: write digits with a decimal point or exponent, .inf or .nan"),
    ("!!bool yes", "'yes' is not a valid boolean: write true or false"),
    ("!!null nothing", "'nothing' is not a valid null: write null, ~ or nothing"),
    ("!!set {a, b}", "YAML tag !!set is not allowed: a scenario holds only plain data"),
    ("!!binary aGk=", "YAML tag !!binary is not allowed"),
    ("!!omap [a: 1]", "YAML tag !!omap is not allowed"),
    ("!!pairs [a: 1]", "YAML tag !!pairs is not allowed"),
    ("!!value =", "YAML tag !!value is not allowed"),
    ("!include x.yaml", "YAML tag !include is not allowed"),
])
def test_tags_outside_the_core_schema_are_refused_where_they_stand(scalar: str, message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(HEAD + f"remarks:\n  - {scalar}\n", "t.yaml")
    (p,) = info.value.problems
    assert (p.line, p.path) == (5, "remarks[0]")
    assert p.message.startswith(message), p.message


def test_yes_and_times_of_day_are_type_errors_with_their_line() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(HEAD + "  - {id: planning, name: 规划局, kind: bureau, parent: committee,\n"
                              "     support: 1:30, frontline: yes}\n", "t.yaml")
    assert [str(p) for p in info.value.problems] == [
        "t.yaml:5: units[1].support: Input should be a whole number (got '1:30')",
        "t.yaml:5: units[1].frontline: unknown field",
    ]


def test_text_that_yaml_1_1_read_as_booleans_is_text() -> None:
    # The Norway problem: a name or an id that spells yes, no, on or off.
    scenario = parse_scenario("scenario: {name: 测试, name_en: No}\nunits:\n"
                              "  - {id: on, name: 管委会, name_en: Yes, kind: committee}\n")
    assert (scenario.scenario.name_en, scenario.units[0].id, scenario.units[0].name_en) == ("No", "on", "Yes")


def test_dates_work_where_the_format_expects_a_date() -> None:
    scenario = parse_scenario(HEAD + textwrap.dedent("""\
        simulation:
          calendar:
            start: 2017-03-01
            extra_holidays: [2017-03-06, !!timestamp 2017-03-07, "2017-03-08"]
        """))
    calendar = scenario.simulation.calendar
    assert calendar.start == dt.date(2017, 3, 1)
    assert calendar.extra_holidays == [dt.date(2017, 3, 6), dt.date(2017, 3, 7), dt.date(2017, 3, 8)]


def test_merge_keys_still_work() -> None:
    scenario = parse_scenario(HEAD + textwrap.dedent("""\
          - {id: planning, name: 规划局, kind: bureau, parent: committee}
        functions:
          - &permit {id: a, name: 甲, category: licensing, owner: planning, officers: 2,
                     service_time: {dist: exponential, mean: 2, unit: days}}
          - <<: *permit
            id: b
            name: 乙
        """))
    a, b = scenario.functions
    assert (b.id, b.name, b.officers, b.service_time) == ("b", "乙", 2, a.service_time)


# ---------------------------------------------------------------- libyaml and the pure-Python loader


@needs_libyaml
@pytest.mark.parametrize("path", BUNDLED, ids=[p.name for p in BUNDLED])
def test_both_loaders_read_the_bundled_scenarios_alike(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    fast, pure = read(FastLoader, text), read(PureLoader, text)
    assert fast == pure
    assert len(fast[1]) > 100  # the line index is not trivially equal


@needs_libyaml
def test_a_readable_file_is_read_by_libyaml_only(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(text: str) -> None:
        raise AssertionError("the pure-Python loader was used")

    monkeypatch.setattr(ld, "PureLoader", refuse)
    for path in BUNDLED:
        load_scenario(path)
    with pytest.raises(AssertionError, match="pure-Python loader"):  # and a broken one is read again
        parse_scenario("scenario: {name: x\n")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_without_libyaml_every_bad_file_gives_its_message(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ld, "FastLoader", None)
    monkeypatch.chdir(BAD)
    result = CliRunner().invoke(main, ["validate", name])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == EXPECTED[name]


@pytest.mark.parametrize("path", BUNDLED, ids=[p.name for p in BUNDLED])
def test_without_libyaml_the_bundled_scenarios_load_the_same(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    usual = load_scenario(path)
    monkeypatch.setattr(ld, "FastLoader", None)
    pure = load_scenario(path)
    assert pure.model_dump() == usual.model_dump() and pure.sha256 == usual.sha256
    assert all(pure.line_of(loc) == usual.line_of(loc) for loc in [("units", 3, "id"), ("functions", 2), ("reforms",)])


def test_lone_surrogates_are_refused_like_other_unreadable_characters() -> None:
    # libyaml takes UTF-8 only; the pure loader says what is wrong.
    with pytest.raises(ScenarioError) as info:
        parse_scenario(HEAD + "remarks: '\ud800'\n", "t.yaml")
    assert [str(p) for p in info.value.problems] == [
        "t.yaml:4: character U+D800 is not allowed in YAML text; delete it"
    ]


# Whatever the loader reads (with libyaml when it may), the pure-Python one
# reads the same way (data and lines), and what it refuses the pure one
# refuses in the same words. Checked on well-formed YAML of any shape and
# style, and on edits of a real scenario. (On a few malformed scraps no
# scenario resembles, such as a lone "!" or ">#", libyaml and PyYAML's
# Python scanner differ; both are refused as scenarios either way.)

YAML_CHARS = st.sampled_from(list(":-[]{}&*!|>'\"%@`#,?\n\t  abc01.~=<") + ["---", "...", "!!", "&a", "*a", "<<",
                                                                           "yes", "1:3", "0x", "2020-01-0", "\r\n"])
TUTORIAL_TEXT = (ROOT / "scenarios" / "tutorial.yaml").read_text(encoding="utf-8")
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**20), 10**20), st.floats(), st.text(max_size=8),
                    st.dates(), st.sampled_from(["yes", "no", "on", "1:30", "0777", "1_000", "~", "<<", "="]))
documents = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(st.text(max_size=5), inner, max_size=4)),
                         max_leaves=25)


def outcome(read_yaml: Any, text: str) -> str:
    try:
        node, dupes, data = read_yaml(text, "t.yaml")
    except ScenarioError as exc:
        return "refused: " + "; ".join(map(str, exc.problems))
    index: dict = {}
    ld._line_index(node, (), index)
    return repr((data, index, dupes))  # repr: nan equals nan, and 1, 1.0 and True differ


def same_reading(text: str) -> None:
    assert outcome(ld._read_yaml, text) == outcome(lambda t, f: ld._compose_and_construct(PureLoader, t, f), text)


def test_where_libyaml_reads_more_than_the_reference_the_reference_decides() -> None:
    # A tab inside a line, and ? inside a flow-style plain scalar: YAML 1.2
    # (and libyaml) allow them, PyYAML's Python scanner refuses them.
    for text in ("a: 1\t# tab\n", "a: {b?c: 1}\n"):
        same_reading(text)
        with pytest.raises(ScenarioError):
            ld._read_yaml(text, "t.yaml")
        if FastLoader is not None:
            assert read(FastLoader, text)[0]


@pytest.mark.slow  # fuzzing: generated documents through both loaders
@needs_libyaml
@settings(max_examples=150, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(documents, st.sampled_from([None, True, False]), st.integers(2, 6), st.integers(20, 80))
def test_libyaml_reads_any_document_as_the_reference_does(doc: Any, flow: bool | None, indent: int,
                                                          width: int) -> None:
    same_reading(yaml.safe_dump({"doc": doc}, allow_unicode=True, default_flow_style=flow, indent=indent,
                                width=width))


@pytest.mark.slow  # fuzzing: generated documents through both loaders
@needs_libyaml
@settings(max_examples=150, derandomize=True, deadline=None, database=None)
@given(st.data())
def test_libyaml_reads_edited_scenarios_as_the_reference_does(data: st.DataObject) -> None:
    text = TUTORIAL_TEXT
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(text)))
        j = data.draw(st.integers(i, min(len(text), i + 30)))
        text = text[:i] + data.draw(st.lists(YAML_CHARS, max_size=5).map("".join)) + text[j:]
    same_reading(text)


@pytest.mark.slow  # fuzzing: generated documents through both loaders
@needs_libyaml
@settings(max_examples=100, derandomize=True, deadline=None, database=None)
@given(st.data())
def test_libyaml_reads_scenarios_with_lines_moved_as_the_reference_does(data: st.DataObject) -> None:
    lines = TUTORIAL_TEXT.splitlines()
    for _ in range(data.draw(st.integers(1, 3))):
        i, j = data.draw(st.integers(0, len(lines) - 1)), data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(st.sampled_from(["delete", "duplicate", "swap", "indent", "dedent"]))
        if action == "delete":
            del lines[i]
        elif action == "duplicate":
            lines.insert(j, lines[i])
        elif action == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif action == "indent":
            lines[i] = " " + lines[i]
        else:
            lines[i] = lines[i][1:] if lines[i].startswith(" ") else lines[i]
    same_reading("\n".join(lines) + data.draw(st.sampled_from(["", "\n"])))


def test_a_sweep_reads_the_file_as_validate_does(tmp_path: Path) -> None:
    from orgsim.model import structure_metrics
    from orgsim.reforms import reform_scenario
    from orgsim.sweep import sweep

    path = tmp_path / "leading_zero.yaml"
    path.write_text(TUTORIAL_TEXT.replace("officers: 4,", "officers: 010,", 1), encoding="utf-8")
    scenario = load_scenario(path)
    assert scenario.functions[0].officers == 10  # YAML 1.2: a leading zero is not octal
    frame = sweep(path, ["simulation.horizon_days=150"], replications=1, seed=1)
    before = frame[frame["state"] == "before"]
    assert int(before["headcount"].iloc[0]) == structure_metrics(reform_scenario(scenario).before).headcount


@pytest.mark.parametrize("edit", [
    ("name_en: Demo high-tech zone (tutorial)", "name_en: No"),  # YAML 1.1: false; 1.2: text
    ("    - id: domain\n", "    - id: domain\n      file: =\n"),  # YAML 1.1: a 'value' tag
    # Text that YAML 1.2 would read as numbers unless the point is written with quotes.
    ('figures: ["仅取改革的种类，不取任何数字"]\n      figures_en: ["the kinds',
     'figures: [yes, "0o17", "1e3", 1:30, "010", "仅取改革的种类，不取任何数字"]\n'
     '      figures_en: [yes, "0o17", "1e3", 1:30, "010", "the kinds'),
])
def test_a_sweep_point_reads_back_as_the_file(tmp_path: Path, edit: tuple[str, str]) -> None:
    from orgsim.sweep.points import load_base, parse_point

    path = tmp_path / "s.yaml"
    text = TUTORIAL_TEXT.replace(*edit, 1)
    assert text != TUTORIAL_TEXT
    path.write_text(text, encoding="utf-8")
    scenario = load_scenario(path)
    base = load_base(path)
    assert parse_point(base, []).model_dump() == scenario.model_dump()


@given(st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=False)
    | st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12) | st.dates(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=8), children, max_size=3),
    max_leaves=12,
))
@settings(max_examples=300, derandomize=True, deadline=None)
def test_points_are_written_so_that_the_loader_reads_them_back(data: object) -> None:
    from orgsim.scenario._yaml import dump_core

    doc = {"scenario": data}
    _, _, back = ld._read_yaml(dump_core(doc), "<point>")
    assert back == doc


@pytest.mark.parametrize(("text", "value"), [("010", 10), ("yes", "yes"), ("1:30", "1:30"), ("=", "="),
                                             ("1e3", 1000.0), ("0o17", 15), ("true", True), ("~", None)])
def test_vary_values_are_read_as_the_file_reads_them(text: str, value: object) -> None:
    from orgsim.sweep.levers import parse_value

    got = parse_value(text)
    assert got == value and type(got) is type(value)
