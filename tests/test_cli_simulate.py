"""The simulation commands: run, compare, estimate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from orgsim.cli import main

TUTORIAL = Path(__file__).resolve().parents[1] / "scenarios" / "tutorial.yaml"


def _short_tutorial(tmp_path: Path, **changes) -> Path:
    doc = yaml.safe_load(TUTORIAL.read_text(encoding="utf-8"))
    doc["simulation"].update({"horizon_days": 300, "warmup_days": 30, "replications": 3})
    for path, value in changes.items():
        node = doc
        *parents, last = path.split(".")
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[last] = value
    out = tmp_path / "scenario.yaml"
    out.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return out


def test_compare_json_contract(tmp_path):
    result = CliRunner().invoke(main, ["compare", str(_short_tutorial(tmp_path)), "--json", "--seed", "3"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"before", "after", "difference", "seed", "replications", "orgsim_version", "scenario_sha256"} <= set(data)
    assert data["seed"] == 3 and data["replications"] == 3
    for state in ("before", "after"):
        s = data[state]
        for key in ("headcount", "units", "layers", "leaders", "stable", "throughput_per_working_day",
                    "utilisation", "lead_time_working_days", "lead_time_calendar_days"):
            assert key in s, key
        for key in ("lead_time_working_days", "lead_time_calendar_days"):
            lt = s[key]
            assert set(lt) >= {"mean", "ci95", "p50", "p90", "p95"}
            assert lt["ci95"][0] <= lt["mean"] <= lt["ci95"][1]
            assert lt["p50"] <= lt["p90"] <= lt["p95"]
        assert s["lead_time_calendar_days"]["mean"] > s["lead_time_working_days"]["mean"]
    assert data["before"]["headcount"] == 87 and data["after"]["headcount"] == 60
    d = data["difference"]["lead_time_working_days"]["mean"]
    assert d["ci95"][0] <= d["mean"] <= d["ci95"][1] < 0


def test_compare_table_and_out_dir(tmp_path):
    out = tmp_path / "results"
    result = CliRunner().invoke(main, ["compare", str(_short_tutorial(tmp_path)), "--out", str(out), "--records"])
    assert result.exit_code == 0, result.output
    assert "lead times by project type" in result.stdout and "lead times, all project types pooled" in result.stdout
    assert "Industrial investment project (limit 120 working days)" in result.stdout
    assert "  mean (working days)" in result.stdout
    assert "Bottleneck (busiest queue): before, " in result.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "manifest.json", "records.csv", "replications.csv", "results.xlsx", "summary.json"]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["replications"] == 3
    import pandas as pd

    reps = pd.read_csv(out / "replications.csv")
    assert len(reps) == 6 and set(reps.state) == {"before", "after"}
    assert {"seed", "scenario_sha256", "orgsim_version"} <= set(reps.columns)
    records = pd.read_csv(out / "records.csv")
    assert set(records.state) == {"before", "after"}
    per_state = records.groupby("state").size()
    assert (per_state == reps.groupby("state").completed.sum()).all()


def test_same_seed_gives_byte_identical_summary(tmp_path):
    scenario = _short_tutorial(tmp_path)
    texts = []
    for name in ("a", "b"):
        result = CliRunner().invoke(main, ["compare", str(scenario), "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        texts.append((tmp_path / name / "summary.json").read_bytes())
    assert texts[0] == texts[1]


def test_run_one_state(tmp_path):
    result = CliRunner().invoke(main, ["run", str(_short_tutorial(tmp_path)), "--state", "before", "--json", "-r", "2"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["state"] == "before" and data["replications"] == 2 and data["headcount"] == 87
    assert data["bottlenecks"][0]["utilisation"] >= data["bottlenecks"][-1]["utilisation"]


def test_unstable_system_is_reported_not_averaged(tmp_path):
    # Ten times the tutorial's arrivals overload the environment bureau (3 officers).
    scenario = _short_tutorial(tmp_path, **{"workload.project_types.0.arrivals.rate": 1200})
    result = CliRunner().invoke(main, ["compare", str(scenario), "--json", "-r", "2"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["before"]["stable"] is False
    assert data["before"]["lead_time_working_days"]["mean"] is None
    assert any("environment/eia" in why for why in data["before"]["instability"])
    assert data["before"]["backlog_growth_per_100_days"] > 0
    assert data["difference"]["lead_time_working_days"]["mean"]["mean"] is None
    assert "unstable" in result.stderr


def test_estimate_json(tmp_path):
    result = CliRunner().invoke(main, ["estimate", str(_short_tutorial(tmp_path)), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["before"]["stable"] and data["after"]["stable"]
    assert data["after"]["mean_lead_time_working_days"] < data["before"]["mean_lead_time_working_days"]
    assert any("parallel" in c for c in data["after"]["caveats"])


@pytest.mark.parametrize("command", ["compare", "run", "estimate"])
def test_missing_file_is_a_user_error(command, tmp_path):
    result = CliRunner().invoke(main, [command, str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "no such file" in result.stderr
    assert "Traceback" not in result.output


def test_ctrl_c_leaves_no_partial_file(tmp_path, monkeypatch):
    # Interrupt while the second output file is being written: the output set is
    # written whole or not at all, so the previous set stays as it was, and no
    # temporary folder remains beside it; the user is told.
    import orgsim.cli.simulate as cs

    out = tmp_path / "results"
    scenario = str(_short_tutorial(tmp_path))
    assert CliRunner().invoke(main, ["compare", scenario, "-r", "2", "--out", str(out)]).exit_code == 0
    previous = {p.name: p.read_bytes() for p in out.iterdir()}
    real = cs.write_csv

    def interrupted(frame, path):
        real(frame, path)
        raise KeyboardInterrupt

    monkeypatch.setattr(cs, "write_csv", interrupted)
    result = CliRunner().invoke(main, ["compare", scenario, "-r", "3", "--out", str(out)])
    assert result.exit_code == 130
    assert "interrupted" in result.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["results", Path(scenario).name])
