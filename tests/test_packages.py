"""Several reform packages side by side: before, A and B on common random numbers.

A and B compared in one scenario must give exactly what two scenario files,
one with each package as its ``reforms``, give; a scenario with one reform
list keeps its document exactly as before (plus ``states``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from orgsim.cli import main
from orgsim.experiment import Comparison, PackageComparison, compare
from orgsim.scenario import load_scenario, parse_scenario

TUTORIAL = Path(__file__).resolve().parents[1] / "scenarios" / "tutorial.yaml"
SHORT = {"horizon_days": 200, "warmup_days": 20, "replications": 3}

#: A: merge + one-stop bureau; B: devolve + parallel review (the issue's example).
PACKAGES = {
    "A": [
        {"op": "merge", "units": ["land", "planning", "construction"],
         "into": {"id": "lpc", "name": "国土规划建设局"}, "leadership": {"chief": 1, "deputies": 3}},
        {"op": "one_stop", "functions": ["land_supply", "planning_permit", "eia", "completion"],
         "bureau": {"id": "approval", "name": "行政审批局"}, "intake": "project_filing"},
    ],
    "B": [
        {"op": "devolve", "functions": ["construction_permit"], "to": "construction"},
        {"op": "parallelize", "steps": ["planning", "environment"]},
    ],
}


def _doc(**changes) -> dict:
    doc = yaml.safe_load(TUTORIAL.read_text(encoding="utf-8"))
    doc["simulation"].update(SHORT)
    doc.pop("reforms")
    doc.update(changes)
    return doc


def _write(tmp_path: Path, name: str, doc: dict) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def side_by_side(tmp_path_factory) -> tuple[PackageComparison, dict[str, Comparison]]:
    tmp = tmp_path_factory.mktemp("packages")
    both = compare(load_scenario(_write(tmp, "both.yaml", _doc(packages=PACKAGES))))
    alone = {name: compare(load_scenario(_write(tmp, f"{name}.yaml", _doc(reforms=ops))))
             for name, ops in PACKAGES.items()}
    return both, alone


def test_each_package_side_by_side_is_exactly_its_own_scenario(side_by_side):
    both, alone = side_by_side
    assert isinstance(both, PackageComparison) and both.packages == ["A", "B"]
    doc = both.to_dict()
    for name, single in alone.items():
        one = single.to_dict()
        assert doc["states"]["before"] == one["before"]
        assert doc["states"][name] == one["after"]
        assert doc["difference"][name] == one["difference"]
        frame = both.to_frame()
        mine = frame[frame.state == name].drop(columns=["state", "scenario_sha256"]).reset_index(drop=True)
        theirs = single.to_frame()
        theirs = theirs[theirs.state == "after"].drop(columns=["state", "scenario_sha256"]).reset_index(drop=True)
        assert mine.equals(theirs)
        assert both.package(name).to_dict()["after"] == one["after"]


def test_the_document_of_packages(side_by_side):
    both, _ = side_by_side
    doc = both.to_dict()
    assert doc["packages"] == ["A", "B"] and list(doc["states"]) == ["before", "A", "B"]
    assert doc["before"] == doc["states"]["before"] and "after" not in doc
    assert set(doc["difference"]) == {"A", "B"}
    assert set(doc["difference"]["A"]) == {"headcount", "lead_time_working_days", "lead_time_calendar_days",
                                           "by_project_type"}
    assert list(doc["difference"]["A"]["by_project_type"]) == list(doc["states"]["A"]["by_project_type"])
    # A merges three bureaus and adds a bureau; B moves no post in the zone
    assert doc["difference"]["A"]["headcount"] != 0


def test_one_reform_list_keeps_its_document_and_gains_states():
    s = load_scenario(TUTORIAL)
    s = s.model_copy(update={"simulation": s.simulation.model_copy(update=SHORT)})
    doc = compare(s).to_dict()
    assert {"before", "after", "difference", "states"} <= set(doc) and "packages" not in doc
    assert doc["states"] == {"before": doc["before"], "after": doc["after"]}


def test_the_cli_compares_the_packages(tmp_path):
    path = _write(tmp_path, "both.yaml", _doc(packages=PACKAGES))
    result = CliRunner().invoke(main, ["compare", str(path), "-r", "2", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Demo high-tech zone (tutorial): packages A and B against the organisation before "
                               "them")
    assert any(line.startswith("metric") and line.split()[1:] == ["before", "package", "A", "package", "B"]
               for line in lines)
    assert any(line.startswith("measure") and "package B (95% CI)" in line and "change, package B" in line
               for line in lines)
    zh = CliRunner().invoke(main, ["compare", str(path), "-r", "2", "--lang", "zh"])
    assert zh.exit_code == 0 and zh.stdout.splitlines()[0].startswith("示范高新区（教程）：方案A、B与改革前的机构对比")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["packages"] == ["A", "B"] and sorted(summary["states"]) == ["A", "B", "before"]  # keys sorted
    import pandas as pd

    table = pd.read_csv(tmp_path / "out" / "replications.csv")
    assert table["state"].tolist() == ["before", "before", "A", "A", "B", "B"]
    # one state by name, and the estimate of every state
    run = CliRunner().invoke(main, ["run", str(path), "--state", "B", "-r", "2", "--json"])
    assert run.exit_code == 0 and json.loads(run.stdout)["state"] == "B"
    est = CliRunner().invoke(main, ["estimate", str(path), "--json"])
    assert list(json.loads(est.stdout))[:3] == ["before", "A", "B"]
    ok = CliRunner().invoke(main, ["validate", str(path)])
    assert ok.exit_code == 0 and "packages A (2 operators), B (2 operators)" in ok.stdout


def test_commands_that_show_one_state_ask_for_a_package(tmp_path):
    path = _write(tmp_path, "both.yaml", _doc(packages=PACKAGES))
    for args in (["show", "--after"], ["apply"], ["run", "--state", "C"], ["plot", "--kind", "orgchart", "-o",
                                                                           str(tmp_path / "x.png")]):
        result = CliRunner().invoke(main, [args[0], str(path), *args[1:]])
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output and ("A, B" in result.output or "A, B" in result.stderr)
    shown = CliRunner().invoke(main, ["apply", str(path), "--package", "B", "--json"])
    assert shown.exit_code == 0 and json.loads(shown.stdout)["changes"][0]["op"] == "devolve"


def test_packages_and_reforms_together_are_refused(tmp_path):
    from orgsim.errors import ScenarioError

    text = yaml.safe_dump(_doc(packages=PACKAGES, reforms=PACKAGES["A"]), allow_unicode=True)
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "both.yaml")
    assert [p.message for p in info.value.problems] == [
        "give either reforms (one package) or packages (several side by side), not both"]
    text = yaml.safe_dump(_doc(packages={"before": PACKAGES["A"]}), allow_unicode=True)
    with pytest.raises(ScenarioError, match="1 problem"):
        parse_scenario(text, "reserved.yaml")


def test_a_failing_package_is_located(tmp_path):
    bad = {"A": PACKAGES["A"], "B": [{"op": "merge", "units": ["land", "ghost"], "into": {"id": "x", "name": "x"}}]}
    path = _write(tmp_path, "bad.yaml", _doc(packages=bad))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert "packages.B[0]: merge: unit 'ghost' does not exist" in result.stderr


def test_a_sweep_refuses_packages(tmp_path):
    from orgsim.errors import SweepError
    from orgsim.sweep import sweep

    path = _write(tmp_path, "both.yaml", _doc(packages=PACKAGES))
    with pytest.raises(SweepError, match="compares packages A, B"):
        sweep(path, ["simulation.seed=1,2"])
