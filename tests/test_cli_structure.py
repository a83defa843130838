"""The structure commands through click's CliRunner: validate, show, apply, schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from orgsim.cli import main
from orgsim.scenario import load_scenario
from orgsim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "scenarios" / "tutorial.yaml"
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
BROKEN = "scenario:\n  name: x\nunits:\n  - {id: committee, name: 管委会, kind: committee, support: -3}\n"


def run(*args: str) -> object:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    return path


# ---------------------------------------------------------------- validate


def test_validate_ok_lines_for_every_bundled_scenario() -> None:
    result = run("validate", *SCENARIOS)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == len(SCENARIOS)
    for path, line in zip(SCENARIOS, lines, strict=True):
        scenario = load_scenario(path)
        assert line.startswith(f"ok: {path} ({len(scenario.units)} units, {len(scenario.functions)} functions, ")
        assert line.endswith(f"{len(scenario.operators())} reform operators)")
    assert result.stderr == ""
    result = run("validate", TUTORIAL, "--lang", "zh")
    assert result.stdout == f"通过：{TUTORIAL}（9 个单位，10 项职能，6 项改革措施）\n"


def test_validate_mixed_good_and_bad(broken: Path) -> None:
    result = run("validate", TUTORIAL, broken, broken.with_name("missing.yaml"))
    assert result.exit_code == 2
    assert result.stdout.startswith(f"ok: {TUTORIAL} ")
    assert result.stderr.splitlines() == [
        f"error: {broken}:4: units[0].support: Input should be greater than or equal to 0 (got -3)",
        f"error: {broken.with_name('missing.yaml')}: no such file",
    ]


def test_validate_needs_a_file() -> None:
    result = run("validate")
    assert result.exit_code == 2
    assert "Missing argument" in result.stderr


def test_validate_a_directory_is_a_usage_error(tmp_path: Path) -> None:
    result = run("validate", tmp_path)
    assert result.exit_code == 2
    assert "is a directory" in result.stderr


# ---------------------------------------------------------------- show


def test_show_text_tree_and_metrics() -> None:
    result = run("show", TUTORIAL, "--lang", "zh")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "示范高新区（教程）（改革前）"
    assert any(line.startswith("管委会 [committee, 管委会] 13 人") for line in lines)
    assert any(line.startswith("├─ 规划局 [planning, 局]") for line in lines)
    assert any(line.split()[:1] == ["指标"] for line in lines)
    assert result.stderr == ""
    english = run("show", TUTORIAL).stdout.splitlines()  # the default: English, name_en
    assert english[0] == "Demo high-tech zone (tutorial) (before the reforms)"
    assert any(line.startswith("Zone committee [committee, committee] 13 staff") for line in english)


def test_show_english_and_after() -> None:
    result = run("show", TUTORIAL, "--english", "--after")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].endswith("(after the reforms)")
    assert "Land, planning and construction bureau [lpc, bureau]" in result.stdout
    assert "[planning, bureau]" not in result.stdout


@pytest.mark.parametrize("after", [False, True])
def test_show_json(after: bool) -> None:
    result = run("show", TUTORIAL, "--json", *(["--after"] if after else []))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"state", "structure", "units"}
    assert data["state"] == ("after" if after else "before")
    ids = {u["id"] for u in data["units"]}
    assert ("lpc" in ids) is after and ("planning" in ids) is not after
    assert data["structure"]["headcount"] == (60 if after else 87)
    assert data["structure"]["headcount"] == sum(
        sum(u["staff"].values()) for u in data["units"] if u["jurisdiction"] == "zone"
    )
    for unit in data["units"]:
        assert {"id", "name", "name_en", "kind", "parent", "jurisdiction", "staff", "functions"} <= set(unit)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_show_after_json_every_bundled_scenario(path: Path) -> None:
    result = run("show", path, "--json", "--after")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["state"] == "after" and data["units"]
    assert data["structure"]["units"] <= len(data["units"])


# ---------------------------------------------------------------- apply


def test_apply_text() -> None:
    result = run("apply", TUTORIAL)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Demo high-tech zone (tutorial): 6 reform operators"
    assert ("  1. [2020] Land bureau, Planning bureau and Construction bureau merged into Land, planning and "
            "construction bureau; leadership posts 9 → 4; 8 posts cut") in lines
    assert any(line.startswith("headcount ") and "87" in line and "60" in line for line in lines)
    assert lines[-2].startswith("Where the staff went: ")
    # The tutorial's two social-affairs duties (no items counted) went to the sub-district.
    assert lines[-1] == "Where the social-affairs duties are: sub-districts: 0 items in 2 duties."
    zh = run("apply", TUTORIAL, "--lang", "zh").stdout.splitlines()
    assert zh[0] == "示范高新区（教程）：6 项改革措施"
    assert "  1. [2020] 国土局、规划局、建设局 合并为 国土规划建设局；领导职数 9 → 4；精简 8 人" in zh
    assert "  6. [2021] 管委会 员额上限 60 人；精简 5 人" in zh
    assert zh[-2] == "人员去向：留在开发区政府 60；转至街道 17；精简 13；转入 3。"


def test_apply_json_contract() -> None:
    result = run("apply", TUTORIAL, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"before", "after", "changes"} <= set(data)
    assert data["scenario_sha256"] == load_scenario(TUTORIAL).sha256
    assert data["before"]["headcount"] == 87 and data["after"]["headcount"] == 60
    assert set(data["before"]) == set(data["after"])
    ops = [c["op"] for c in data["changes"]]
    assert set(ops) == {"merge", "devolve", "strip", "parallelize", "agency_service", "cap_headcount"}
    assert ops == sorted(ops, key=["merge", "devolve", "strip", "parallelize", "agency_service", "cap_headcount"].index)
    assert all({"op", "action", "subject", "phase"} <= set(c) for c in data["changes"])


def test_apply_is_deterministic() -> None:
    assert run("apply", TUTORIAL, "--json").stdout == run("apply", TUTORIAL, "--json").stdout


@pytest.mark.parametrize("command", [["show"], ["show", "--json"], ["apply"], ["apply", "--json"]])
def test_show_and_apply_user_errors_exit_2(command: list[str], broken: Path) -> None:
    result = run(*command, broken)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: {broken}:4: units[0].support: Input should be greater than or equal to 0 (got -3)"
    ]


def test_a_failing_reform_is_a_user_error(tmp_path: Path) -> None:
    text = TUTORIAL.read_text(encoding="utf-8").replace("units: [land, planning, construction]",
                                                        "units: [land, planing, construction]")
    path = tmp_path / "typo.yaml"
    path.write_text(text, encoding="utf-8")
    for command in (["validate"], ["show", "--after"], ["apply", "--json"]):
        result = run(*command, path)
        assert result.exit_code == 2
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"error: {path}:")
        assert line.endswith(": reforms[0].reforms[0]: merge: unit 'planing' does not exist")


# ---------------------------------------------------------------- schema


def test_schema_is_the_scenario_json_schema() -> None:
    result = run("schema")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data == json.loads(json.dumps(Scenario.model_json_schema(), default=str))
    assert {"scenario", "units", "functions", "workload", "reforms", "simulation"} <= set(data["properties"])
    assert set(data["required"]) == {"scenario", "units"}
    assert data["additionalProperties"] is False
    assert {"UnitSpec", "FunctionSpec", "Merge", "Phase"} <= set(data["$defs"])


def test_help_and_version() -> None:
    result = run("--help")
    assert result.exit_code == 0
    for command in ("validate", "show", "apply", "schema"):
        assert command in result.stdout
    result = run("--version")
    assert result.exit_code == 0 and result.stdout.startswith("orgsim 0.")


def test_version_says_whether_the_event_loop_is_compiled() -> None:
    from orgsim.sim.fifo_engine import compiled

    result = run("--version")
    expected = "compiled event loop" if compiled() else "event loop in Python"
    assert result.exit_code == 0 and expected in result.stdout
