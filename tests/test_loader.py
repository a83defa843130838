"""The scenario loader: line numbers, field paths, every problem at once, YAML safety."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from orgsim.errors import OrgsimError, Problem, ReformError, ScenarioError
from orgsim.reforms import reform_scenario
from orgsim.scenario import load_scenario, parse_scenario
from orgsim.scenario import loader as ld
from orgsim.scenario.schema import Scenario

SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml"))

HEAD = """\
scenario:
  name: 测试
units:
  - {id: committee, name: 管委会, kind: committee}
"""


def problems(*parts: str, file: str = "t.yaml") -> list[Problem]:
    """Problems of the scenario made of ``parts``, each dedented."""
    with pytest.raises(ScenarioError) as info:
        parse_scenario("".join(textwrap.dedent(part) for part in parts), file)
    assert info.value.problems, "a ScenarioError always lists its problems"
    return info.value.problems


def where(*parts: str) -> list[tuple[int | None, str]]:
    return [(p.line, p.path) for p in problems(*parts)]


# ---------------------------------------------------------------- bundled files


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_bundled_scenarios_load_and_know_their_lines(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.source_file == str(path)
    assert len(scenario.sha256) == 64
    text = path.read_text(encoding="utf-8").splitlines()
    line = scenario.line_of(("units", 0, "id"))
    assert line is not None and scenario.units[0].id in text[line - 1]
    line = scenario.line_of(("units",))
    assert text[line - 1].startswith("units:")


def test_scenario_built_in_code_has_no_lines() -> None:
    scenario = parse_scenario(HEAD)
    assert scenario.line_of(("units", 0)) == 4
    assert scenario.line_of(("units", 0, "no_such_field")) == 4
    built = Scenario.model_validate(scenario.model_dump())
    assert built.line_of(("units", 0)) is None


# ---------------------------------------------------------------- line numbers


def test_line_of_a_field_in_block_and_flow_style() -> None:
    got = where("""\
        scenario:
          name: 测试
        units:
          - {id: committee, name: 管委会, kind: committee, support: -1}
          - id: planning
            name: 规划局
            kind: bureau
            parent: committee

            support: -2
        """)
    assert got == [(4, "units[0].support"), (10, "units[1].support")]


def test_a_section_is_located_at_its_key_not_its_first_item() -> None:
    got = where("""\
        # comment
        scenario:
          name: 测试
        unit:
          - {id: committee, name: 管委会, kind: committee}
        """)
    assert got == [(2, "units"), (4, "unit")]


def test_a_missing_field_names_itself_and_points_at_its_parent() -> None:
    got = where(HEAD + "  - id: planning\n    parent: committee\n")
    assert got == [(5, "units[1].name"), (5, "units[1].kind")]


def test_a_wrong_value_deep_inside_gets_its_own_line() -> None:
    got = where(HEAD, """\
        simulation:
          horizon_days: 100
          calendar:
            start: 2020-01-02
            hours_per_day: 30
        """)
    assert got == [(9, "simulation.calendar.hours_per_day")]


def test_reference_problems_are_located() -> None:
    got = where(HEAD, """\
          - {id: planning, name: 规划局, kind: bureau, parent: comittee}
        functions:
          - {id: permit, name: 许可, category: licensing,
             owner: nobody}
        """)
    assert got == [(5, "units[1].parent"), (8, "functions[0].owner")]


# ---------------------------------------------------------------- all at once


def test_every_format_problem_is_reported_at_once() -> None:
    got = problems(HEAD, """\
          - {id: planning, name: 规划局, kind: bureau, parent: committee, colour: red, support: -1}
        functions:
          - {id: permit, name: 许可, category: licencing, owner: planning, officers: many}
        simulation: {replications: 0, seed: -1}
        """)
    assert [(p.line, p.path) for p in got] == [
        (5, "units[1].support"),
        (5, "units[1].colour"),
        (7, "functions[0].category"),
        (7, "functions[0].officers"),
        (8, "simulation.replications"),
        (8, "simulation.seed"),
    ]
    assert all(p.file == "t.yaml" for p in got)


def test_every_reference_problem_is_reported_at_once() -> None:
    got = problems(HEAD, """\
          - {id: a, name: 甲, kind: bureau, parent: b}
          - {id: b, name: 乙, kind: bureau, parent: a}
          - {id: a, name: 丙, kind: bureau, parent: committee}
        functions:
          - {id: f, name: 职能, category: licensing, owner: nobody}
        """)
    messages = [str(p) for p in got]
    assert messages == [
        "t.yaml:7: units[3].id: duplicate unit id 'a' (first at units[1])",
        "t.yaml:5: units[1].parent: reporting cycle: a -> b -> a",
        "t.yaml:9: functions[0].owner: unknown unit 'nobody'",
    ]


_WORKLOAD = """\
    workload:
      project_types:
        - id: p
          name: 项目
          arrivals: {rate: 1, per: day}
          steps:
            - {id: first, function: busy}
            - {id: second, function: free, after: [first]}
    """


def test_standing_duties_that_take_all_are_said_once_at_the_function_that_has_them() -> None:
    """The function named is the one whose duties take the time, wherever it is in the file."""
    got = problems(HEAD, """\
          - {id: bureau, name: 局, kind: bureau, parent: committee}
        functions:
          - {id: busy, name: 甲, category: licensing, owner: bureau, officers: 2, standing_hours_per_year: 4000,
             service_time: {dist: exponential, mean: 1, unit: days}}
          - {id: free, name: 乙, category: licensing, owner: bureau, officers: 2,
             service_time: {dist: exponential, mean: 1, unit: days}}
        """, _WORKLOAD)
    assert [str(p) for p in got] == [
        "t.yaml:7: functions[0].standing_hours_per_year: function 'busy' receives cases, but standing duties take "
        "all of its officers' time (4,000 of 4,000 officer-hours a year)"]


def test_a_pooled_units_standing_duties_are_one_problem() -> None:
    """Two functions sharing one pool of officers: one queue, one message."""
    got = problems(HEAD, """\
          - {id: bureau, name: 局, kind: bureau, parent: committee, pooled: true}
        functions:
          - {id: busy, name: 甲, category: licensing, owner: bureau, officers: 2, standing_hours_per_year: 4000,
             service_time: {dist: exponential, mean: 1, unit: days}}
          - {id: free, name: 乙, category: licensing, owner: bureau, officers: 0,
             service_time: {dist: exponential, mean: 1, unit: days}}
        """, _WORKLOAD)
    assert [str(p) for p in got] == [
        "t.yaml:7: functions[0].standing_hours_per_year: function 'busy' receives cases, but standing duties take "
        "all of its unit 'bureau''s pooled officers' time (4,000 of 4,000 officer-hours a year)"]


def test_duplicate_keys_are_all_reported() -> None:
    got = where("""\
        scenario: {name: a, name: b}
        units:
          - {id: committee, name: 管委会, kind: committee, kind: bureau}
        units: []
        """)
    assert got == [(1, "scenario.name"), (3, "units[0].kind"), (4, "units")]


# ---------------------------------------------------------------- field paths


OPS = HEAD + """\
  - {id: planning, name: 规划局, kind: bureau, parent: committee}
  - {id: land, name: 国土局, kind: bureau, parent: committee}
reforms:
  - phase: "2020"
    reforms:
      - {op: set_leadership, kinds: [bureau], deputies: 2}
      - op: merge
        units: [planning]
        into: {id: lp, name: 国土规划局, colour: red}
"""


def test_union_tags_are_stripped_from_paths() -> None:
    got = problems(OPS)
    assert [(p.line, p.path) for p in got] == [
        (12, "reforms[0].reforms[1].units"),
        (13, "reforms[0].reforms[1].into.colour"),
    ]
    assert "merge" not in "".join(p.path for p in got).replace("reforms", "")


@pytest.mark.parametrize(("loc", "data", "missing", "clean"), [
    (("reforms", 0, "phase", "reforms", 1, "merge", "units"),
     {"reforms": [{"phase": "p", "reforms": [{}, {"op": "merge", "units": ["a"]}]}]}, False,
     ("reforms", 0, "reforms", 1, "units")),
    (("reforms", 0, "phase", "phase"), {"reforms": [{"phase": None, "reforms": []}]}, False,
     ("reforms", 0, "phase")),
    (("reforms", 0, "op"), {"reforms": [3]}, False, ("reforms", 0)),
    (("functions", 0, "service_time", "exponential", "mean"),
     {"functions": [{"service_time": {"dist": "exponential", "mean": -1}}]}, False,
     ("functions", 0, "service_time", "mean")),
    (("units",), {"unit": []}, True, ("units",)),
    (("units",), {"unit": []}, False, ()),
    (("reforms", 0, "op", "merge", "into"), {"reforms": [{"op": "merge"}]}, True, ("reforms", 0, "into")),
])
def test_clean_loc(loc: tuple, data: dict, missing: bool, clean: tuple) -> None:
    assert ld._clean_loc(loc, data, missing) == clean


def test_format_path() -> None:
    assert ld.format_path(("reforms", 0, "reforms", 1, "units")) == "reforms[0].reforms[1].units"
    assert ld.format_path(()) == ""


def test_problem_str() -> None:
    assert str(Problem("units[0].support", "bad", "f.yaml", 3)) == "f.yaml:3: units[0].support: bad"
    assert str(Problem("", "file is empty", "f.yaml")) == "f.yaml: file is empty"
    assert str(Problem("x", "bad")) == "<scenario>: x: bad"


# ---------------------------------------------------------------- messages


def test_unknown_field_suggests_the_nearest_field_of_that_model() -> None:
    (p,) = problems(HEAD.replace("kind: committee}", "kind: committee, suport: 3}"))
    assert p.message == "unknown field (did you mean 'support'?)"
    got = problems(OPS.replace("units: [planning]", "unit: [planning, land]"))
    assert [p.message for p in got] == [
        "required field is missing",
        "unknown field (did you mean 'units'?)",
        "unknown field",
    ]
    (p,) = problems(HEAD + "functions:\n  - {id: f, name: n, category: licensing, owner: committee,"
                           " service_time: {dist: exponential, mean: 1, unit: days, men: 2}}\n")
    assert (p.path, p.message) == ("functions[0].service_time.men", "unknown field (did you mean 'mean'?)")


def test_unknown_operator_and_distribution_point_at_the_tag() -> None:
    (p,) = problems(HEAD + "reforms:\n  - {op: merger, units: [a, b]}\n")
    assert p.path == "reforms[0].op" and p.line == 6
    assert p.message.startswith("unknown operator 'merger' (did you mean 'merge'?); expected one of: merge, ")
    (p,) = problems(HEAD + "functions:\n  - {id: f, name: n, category: licensing, owner: committee,"
                           " service_time: {mean: 1, unit: days}}\n")
    assert (p.path, p.message) == ("functions[0].service_time.dist", "required field is missing")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("support", "2.5", "Input should be a whole number (got 2.5)"),
    ("support", "many", "Input should be a whole number (got 'many')"),
    ("name", "2020", "Input should be a valid string (got 2020); put it in quotes to make it text"),
    ("non_case_share", "-0.5", "Input should be greater than or equal to 0 (got -0.5)"),
    ("leaders", "3", "Input should be a mapping of fields (got 3)"),
    ("id", "'a b'", "Input should be an id: a letter or _, then letters, digits, _ . - (got 'a b')"),
])
def test_format_messages(field: str, value: str, message: str) -> None:
    unit = {"id": "c", "name": "n", "kind": "committee", field: value}
    text = "scenario: {name: x}\nunits:\n  - {" + ", ".join(f"{k}: {v}" for k, v in unit.items()) + "}\n"
    (p,) = problems(text)
    assert (p.line, p.path, p.message) == (3, f"units[0].{field}", message)


def test_a_probability_in_percent_gets_a_hint() -> None:
    (p,) = problems(HEAD + "functions:\n  - {id: f, name: n, category: licensing, owner: committee,"
                           " rework_probability: 20}\n")
    assert p.message.endswith("give a probability or share as a fraction, e.g. 0.3 for 30%")


def test_model_level_rule_does_not_echo_the_whole_mapping() -> None:
    (p,) = problems(HEAD + "simulation: {horizon_days: 10, warmup_days: 20}\n")
    assert str(p) == "t.yaml:5: simulation: warmup_days (20.0) must be less than horizon_days (10.0)"


# ---------------------------------------------------------------- YAML safety


@pytest.mark.parametrize(("text", "line", "says"), [
    ("scenario: {name: x\nunits: []\n", 2, "YAML syntax error: "),
    ("scenario:\n\tname: x\n", 2, "a tab character"),
    ("a: 1\n---\nb: 2\n", 2, "a second document (---)"),
    ("x: !!python/object/apply:os.system [ls]\n", 1, "YAML tag !!python/object/apply:os.system is not allowed"),
    ("x: !!python/name:os.system\n", 1, "YAML tag !!python/name:os.system is not allowed"),
    ("x: !custom 3\n", 1, "YAML tag !custom is not allowed"),
    ("x: !!int abc\n", 1, "'abc' is not a valid whole number"),
    ("x: !!float abc\n", 1, "'abc' is not a valid number"),
    ("x: 2021-02-30\n", 1, "'2021-02-30' is not a valid date"),
    ("x: " + "9" * 5000 + "\n", 1, "is not a valid whole number"),
    ("a: &a [1, *a]\n", 1, "alias *a is used inside the node &a it names"),
    ("x: *nowhere\n", 1, "found undefined alias"),
    ("x: " + "[" * 60 + "]" * 60 + "\n", 1, "nested more than 50 levels deep"),
    ("? [a]\n: 1\n", 1, "found unhashable key"),
    ("x: 'bell\x07'\n", 1, "character U+0007 is not allowed"),
    ("- 1\n- 2\n", 1, "the top level must be a mapping of sections"),
    ("just text\n", 1, "the top level must be a mapping of sections (scenario:, units: ...), got text"),
    ("   \n\n", None, "file is empty"),
    ("# nothing\n", None, "file is empty (only comments)"),
])
def test_yaml_problems_are_one_located_line(text: str, line: int | None, says: str) -> None:
    (p,) = problems(text)
    assert p.line == line and says in p.message, str(p)


def test_construct_errors_name_the_field() -> None:
    (p,) = problems(HEAD + "simulation:\n  calendar: {start: 2021-02-30}\n")
    assert (p.line, p.path) == (6, "simulation.calendar.start")
    (p,) = problems(HEAD + "  - !!python/object/apply:os.system [ls]\n")
    assert (p.line, p.path) == (5, "units[1]")


def _laughs(levels: int, width: int) -> str:
    lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_quickly() -> None:
    (p,) = problems(_laughs(10, 9))
    assert "refusing an alias bomb" in p.message and p.line is not None


def test_too_many_aliases_are_refused() -> None:
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * (ld.MAX_ALIASES + 1)) + "]\n"
    (p,) = problems(text)
    assert f"more than {ld.MAX_ALIASES} aliases" in p.message


def test_nesting_deep_through_aliases_is_refused() -> None:
    lines = ["a0: &a0 [[[[[[[[[[1]]]]]]]]]]"]
    lines += [f"a{i}: &a{i} [[[[[[[[[[*a{i - 1}]]]]]]]]]]" for i in range(1, 8)]
    (p,) = problems("\n".join(lines) + "\n")
    assert "nested more than 50 levels deep" in p.message


def test_reasonable_aliases_still_work() -> None:
    text = HEAD + textwrap.dedent("""\
          - {id: planning, name: 规划局, kind: bureau, parent: committee}
        functions:
          - {id: a, name: 甲, category: licensing, owner: planning, officers: 1,
             service_time: &svc {dist: exponential, mean: 2, unit: days}}
          - {id: b, name: 乙, category: licensing, owner: planning, officers: 1, service_time: *svc}
          - {id: c, name: 丙, category: licensing, owner: planning, officers: 1, service_time: *svc}
        """)
    scenario = parse_scenario(text)
    assert scenario.functions[2].service_time == scenario.functions[0].service_time
    # A few hundred values through aliases are fine: the YAML stage passes.
    got = problems(HEAD + "remarks:\n" + textwrap.indent(_laughs(3, 9), "  "))
    assert [(p.path, p.message) for p in got] == [("remarks", "unknown field")]


# ---------------------------------------------------------------- files


def test_load_scenario_file_problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def one(path: Path) -> str:
        with pytest.raises(ScenarioError) as info:
            load_scenario(path)
        (p,) = info.value.problems
        assert p.file == str(path)
        return p.message

    assert one(tmp_path / "nope.yaml") == "no such file"
    assert one(tmp_path) == "is a directory, not a file"
    (tmp_path / "nul.yaml").write_bytes(b"scenario:\x00\n")
    assert one(tmp_path / "nul.yaml").startswith("binary file")
    (tmp_path / "latin.yaml").write_bytes("scenario:\n  name: caf\u00e9\n".encode("latin-1"))
    assert one(tmp_path / "latin.yaml").startswith("not UTF-8 text (byte 0xe9")
    monkeypatch.setattr(ld, "MAX_FILE_BYTES", 10)
    (tmp_path / "big.yaml").write_text(HEAD, encoding="utf-8")
    assert "scenario files are limited to 10" in one(tmp_path / "big.yaml")


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + HEAD.encode("utf-8"))
    assert load_scenario(path).units[0].id == "committee"


def test_trace_is_looked_up_next_to_the_scenario(tmp_path: Path) -> None:
    text = HEAD + textwrap.dedent("""\
        functions:
          - {id: f, name: 职能, category: licensing, owner: committee, officers: 1,
             service_time: {dist: exponential, mean: 1, unit: days}}
        workload:
          project_types:
            - id: p
              name: 项目
              arrivals: {trace: arrivals.csv}
              steps: [{id: s, function: f}]
        """)
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:12: workload.project_types[0].arrivals.trace: trace file 'arrivals.csv' not found next to the scenario"
    ]
    (tmp_path / "arrivals.csv").write_text("date\n2020-01-02\n", encoding="utf-8")
    assert load_scenario(path).base_dir == tmp_path


# ---------------------------------------------------------------- reforms


def test_a_failing_operator_names_file_place_and_line() -> None:
    scenario = parse_scenario(OPS.replace("units: [planning]", "units: [planning, nowhere]")
                              .replace(", colour: red", ""), "pkg.yaml")
    with pytest.raises(ReformError) as info:
        reform_scenario(scenario)
    (p,) = info.value.problems
    assert (p.file, p.line, p.path) == ("pkg.yaml", 11, "reforms[0].reforms[1]")
    assert p.message == "merge: unit 'nowhere' does not exist"
    assert isinstance(info.value, OrgsimError)


def test_a_list_where_a_kind_belongs_is_a_problem_not_a_crash() -> None:
    # Found by the fuzzer: the jurisdiction default looked the kind up before it was checked.
    (p,) = problems("scenario: {name: x}\nunits:\n  - {id: c, name: n, kind: [committee]}\n")
    assert (p.line, p.path) == (3, "units[0].kind")
    assert p.message.startswith("Input should be 'committee', ")
