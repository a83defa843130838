"""compare and run_state on every executor, results read from summaries, per project type."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from orgsim.cli import main
from orgsim.executors import ProcessExecutor, make_executor
from orgsim.experiment import compare, run_replications, run_state
from orgsim.reforms import reform_scenario
from orgsim.scenario import load_scenario
from orgsim.sim.summary import SKETCH_POINTS
from tests.quick_results import quick

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
TUTORIAL = SCENARIOS / "tutorial.yaml"
YIZHENG = SCENARIOS / "yizheng_one_zone_many_parks_2021.yaml"


def _documents(c) -> tuple[str, pd.DataFrame]:  # noqa: ANN001
    return json.dumps(c.to_dict(), sort_keys=True), c.to_frame()


@pytest.fixture(scope="module")
def tutorial():  # noqa: ANN201
    return quick(load_scenario(TUTORIAL), 300.0)


@pytest.fixture(scope="module")
def serial(tutorial):  # noqa: ANN001, ANN201
    return compare(tutorial, replications=4, seed=9, keep_records=True)


@pytest.mark.slow  # process pools and a Dask cluster
def test_every_executor_gives_the_same_comparison(tutorial, serial) -> None:  # noqa: ANN001
    """Serial, local processes and Dask: the same summary JSON, table and records for the same seed."""
    want_json, want_frame = _documents(serial)
    with ProcessExecutor(workers=2) as pool:
        in_processes = compare(tutorial, replications=4, seed=9, keep_records=True, executor=pool)
    got_json, got_frame = _documents(in_processes)
    assert got_json == want_json
    pd.testing.assert_frame_equal(got_frame, want_frame)
    for a, b in zip(in_processes.after.runs, serial.after.runs, strict=True):
        assert a.records == b.records and a.records
    pytest.importorskip("dask.distributed")
    with make_executor("dask", workers=2) as cluster:
        on_dask = compare(tutorial, replications=4, seed=9, keep_records=True, executor=cluster)
    assert _documents(on_dask)[0] == want_json


@pytest.mark.slow  # a process pool
def test_workers_alone_mean_processes(tutorial, serial) -> None:  # noqa: ANN001
    calls = []
    result = compare(tutorial, replications=4, seed=9, keep_records=True, workers=2,
                     progress=lambda done, n: calls.append((done, n)))
    assert _documents(result)[0] == _documents(serial)[0]
    assert calls[-1] == (8, 8) and [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_run_state_is_the_comparisons_state(tutorial, serial) -> None:  # noqa: ANN001
    before = run_state(tutorial, "before", replications=4, seed=9, keep_records=True)
    assert json.dumps(before.summary_dict(), sort_keys=True) == json.dumps(serial.before.summary_dict(), sort_keys=True)
    doc = before.to_dict()
    assert {"scenario", "state", "seed", "replications", "orgsim_version", "scenario_sha256", "headcount", "stable",
            "instability", "lead_time_working_days", "lead_time_calendar_days", "utilisation",
            "bottlenecks"} <= set(doc)
    assert doc["state"] == "before" and doc["seed"] == 9 and doc["replications"] == 4
    assert len(doc["bottlenecks"]) == 5


def test_summaries_are_those_of_the_whole_runs(tutorial, serial) -> None:  # noqa: ANN001
    """The statistics a comparison reads equal those of the runs simulate() returns, arrays and all."""
    runs = run_replications(tutorial, "after", replications=4, seed=9)
    for whole, summary in zip(runs, serial.after.runs, strict=True):
        assert whole.summary() == summary.stats


def test_serialisers_never_run_a_model(serial, monkeypatch) -> None:  # noqa: ANN001
    """After compare(), documents, tables, the report and figures only read: nothing simulates or compiles."""
    import orgsim.batches
    import orgsim.experiment
    import orgsim.sim.estimate
    from orgsim import plotting
    from orgsim.report import render_report

    def refuse(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("a model ran while results were only read")

    monkeypatch.setattr(orgsim.batches.StateSetup, "simulate", refuse)
    monkeypatch.setattr(orgsim.experiment, "compile_plan", refuse)
    monkeypatch.setattr(orgsim.sim.estimate, "estimate_plan", refuse)
    serial.to_dict()
    serial.to_frame()
    serial.after.to_dict()
    serial.after.by_project_type()
    plotting.plot_lead_times(serial, clock="statutory", english=True)
    render_report(serial, english=True, dpi=30)


def test_by_project_type() -> None:
    scenario = quick(load_scenario(YIZHENG), 300.0)
    c = compare(scenario, replications=3, seed=4)
    per_type = c.after.by_project_type()
    # the project types, then the case types of the enforcement cases (each way of resolving them)
    cases = [f"{e.id}.{r}" for e in scenario.workload.enforcement_cases
             for r in ("service", "management", "enforcement")]
    assert list(per_type) == [p.id for p in scenario.workload.project_types] + cases == c.after.project_types()
    total = 0.0
    for type_id, row in per_type.items():
        runs = c.after.lead_time_runs("working", type_id)
        assert row["lead_time_working_days"]["mean"] == pytest.approx(np.mean([s.mean for s in runs]), rel=1e-12)
        assert row["lead_time_working_days"]["p90"] == pytest.approx(np.mean([s.p90 for s in runs]), rel=1e-12)
        split = row["time_split_working_days"]  # records not kept: from the engine's per-type sums
        assert sum(split.values()) == pytest.approx(row["lead_time_working_days"]["mean"], rel=1e-9)
        assert row["kind"] == ("enforcement" if type_id in cases else "approval")
        if row["kind"] == "approval":  # the pooled figures are the project types'
            total += row["applications_per_replication"]
    assert total == pytest.approx(np.mean(c.after.metric("completed")), rel=1e-12)
    limits = {row["statutory_limit_days"] for row in per_type.values()}
    assert limits == {120.0, 30.0, 90.0}


def test_one_replication_gives_differences_without_intervals(tutorial) -> None:  # noqa: ANN001
    """-r 1: each paired difference has its mean and no interval (null, never NaN), pooled and per type."""
    from orgsim._io import json_text

    c = compare(tutorial, replications=1, seed=9)
    doc = c.to_dict()
    json_text(doc)  # strict JSON: raises on NaN
    assert doc["difference"]["lead_time_working_days"]["mean"]["ci95"] is None
    for type_id, diff in doc["difference"]["by_project_type"].items():
        after = c.after.project_type_metric(type_id, "lead_working_mean")
        before = c.before.project_type_metric(type_id, "lead_working_mean")
        assert diff["lead_time_working_days"]["mean"] == {"mean": pytest.approx(float(after[0] - before[0])),
                                                          "ci95": None}


def test_pooled_distribution_from_sketches() -> None:
    """The ECDF a figure draws (sketches of every type and replication) is the pooled one, to within 1/200."""
    scenario = quick(load_scenario(YIZHENG), 300.0)
    c = compare(scenario, replications=3, seed=4)
    days, share, count = c.after.lead_time_distribution("calendar")
    runs = run_replications(scenario, reform_scenario(scenario).after, replications=3, seed=4)
    # the applications of the project types (the enforcement case types are drawn by name only)
    pooled = np.sort(np.concatenate([r.lead_calendar_days[np.asarray(r.flow_pooled)[r.flow_index]] for r in runs]))
    assert count == len(pooled)
    exact = np.searchsorted(pooled, days, side="right") / len(pooled)
    smallest = min(t.count for r in c.after.runs for t in r.project_types if t.count)
    assert np.abs(share - exact).max() <= 1 / (SKETCH_POINTS - 1) + 1 / smallest
    assert share[-1] == 1.0 and days[-1] == pooled[-1]


# ---------------------------------------------------------------- the CLI


def _short_tutorial(tmp_path: Path) -> Path:
    import yaml

    doc = yaml.safe_load(TUTORIAL.read_text(encoding="utf-8"))
    doc["simulation"].update({"horizon_days": 300, "warmup_days": 30, "replications": 3})
    out = tmp_path / "scenario.yaml"
    out.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return out


@pytest.mark.slow  # process pools
@pytest.mark.parametrize("command", [["compare"], ["run", "--state", "before"]])
def test_cli_jobs_give_the_same_json(tmp_path: Path, command: list[str]) -> None:
    path = str(_short_tutorial(tmp_path))
    outputs = []
    for extra in ([], ["--jobs", "2"], ["--executor", "processes", "-j", "2"]):
        result = CliRunner().invoke(main, [*command, path, "--json", "--seed", "5", *extra])
        assert result.exit_code == 0, result.output
        outputs.append(json.loads(result.stdout))
    assert outputs[0] == outputs[1] == outputs[2]


def test_cli_address_is_for_dask_only(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["compare", str(_short_tutorial(tmp_path)), "--executor", "serial",
                                       "--address", "tcp://127.0.0.1:1"])
    assert result.exit_code == 2 and "--address" in result.stderr and "Traceback" not in result.output


def test_cli_run_writes_its_summary_and_table(tmp_path: Path) -> None:
    out = tmp_path / "results"
    result = CliRunner().invoke(main, ["run", str(_short_tutorial(tmp_path)), "--out", str(out), "-r", "2",
                                       "--records"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    frame = pd.read_csv(out / "replications.csv")
    assert summary["replications"] == 2 and len(frame) == 2 and set(frame.state) == {"after"}
    assert summary["lead_time_working_days"]["mean"] == pytest.approx(frame["lead_working_mean"].mean(), rel=1e-12)
    records = pd.read_csv(out / "records.csv")
    assert len(records) == frame["completed"].sum()


@pytest.fixture(scope="module")
def yizheng_comparison():  # noqa: ANN201
    return compare(quick(load_scenario(YIZHENG), 300.0), replications=3, seed=4)


def test_pooled_mean_is_the_arrival_weighted_mean_of_the_type_means(yizheng_comparison) -> None:  # noqa: ANN001
    """In each replication, pooled mean = sum(count_t * mean_t) / sum(count_t), on every clock.

    The pooled figures are the project types' (approvals); Yizheng's enforcement case types are not in them.
    """
    for state in (yizheng_comparison.before, yizheng_comparison.after):
        assert len(state.project_types()) == 4 + 9  # four project types, three ways for three flows of cases
        for run in state.runs:
            approvals = [t for t in run.project_types if t.kind == "approval"]
            assert len(approvals) == 4
            counts = np.array([t.count for t in approvals], dtype=float)
            assert counts.sum() == run.completed and (counts > 0).all()
            for clock in ("working", "calendar", "statutory"):
                means = np.array([t.lead[clock].mean for t in approvals])
                assert float(counts @ means / counts.sum()) == pytest.approx(run.lead[clock].mean, rel=1e-12)
                assert max(t.lead[clock].max for t in approvals) == run.lead[clock].max
            for c, pooled in run.time_split.items():  # the time split too
                split = np.array([t.time_split[c] for t in approvals])
                assert float(counts @ split / counts.sum()) == pytest.approx(pooled, rel=1e-12, abs=1e-12)
            limited = [t for t in approvals if t.statutory_limit_days is not None]
            over = sum(t.share_over_limit * t.count for t in limited) / sum(t.count for t in limited)
            assert over == pytest.approx(run.share_over_limit, rel=1e-12)


def test_compare_json_per_project_type(yizheng_comparison) -> None:  # noqa: ANN001
    from orgsim.sim.plan import RESOLUTION_NAMES, case_type_id, case_type_names

    c = yizheng_comparison
    doc = c.to_dict()
    workload = c.scenario.workload
    names = {p.id: (p.name, p.name_en) for p in workload.project_types}
    cases = {case_type_id(e.id, way): case_type_names(e.name, e.name_en, way)
             for e in workload.enforcement_cases for way in RESOLUTION_NAMES}
    ids = list(names) + list(cases)  # the project types, then the case types
    for name, state in (("before", c.before), ("after", c.after)):
        per_type = doc[name]["by_project_type"]
        assert list(per_type) == ids
        for type_id, row in per_type.items():
            for key in ("lead_time_working_days", "lead_time_calendar_days"):
                assert set(row[key]) == set(doc[name][key])  # the same fields as the state's
                assert row[key]["ci95"][0] <= row[key]["mean"] <= row[key]["ci95"][1]
            assert (row["name"], row["name_en"]) == (names | cases)[type_id]
            assert row["kind"] == ("enforcement" if type_id in cases else "approval")
            limit = row["statutory_limit_days"]
            over = state.project_type_metric(type_id, "share_over_limit")
            assert row["share_over_statutory_limit"] == pytest.approx(float(np.mean(over)), rel=1e-12)
            if limit is not None:  # against THAT type's limit
                runs = state.lead_time_runs("statutory", type_id)
                assert all(s.max <= limit for s in runs) == (row["share_over_statutory_limit"] == 0)
    diff = doc["difference"]["by_project_type"]
    assert list(diff) == ids
    for type_id, row in diff.items():
        d = c.after.project_type_metric(type_id, "lead_working_p90") - c.before.project_type_metric(
            type_id, "lead_working_p90")
        assert row["lead_time_working_days"]["p90"]["mean"] == pytest.approx(float(np.mean(d)), rel=1e-12)
        lo, hi = row["lead_time_working_days"]["mean"]["ci95"]
        assert lo <= row["lead_time_working_days"]["mean"]["mean"] <= hi


def test_replication_table_has_per_type_columns(yizheng_comparison) -> None:  # noqa: ANN001
    c = yizheng_comparison
    frame = c.to_frame()
    assert len(frame) == 6  # still one row per state and replication
    for type_id in c.after.project_types():
        column = f"type.{type_id}.lead_working_mean"
        assert column in frame.columns
        got = frame.loc[frame["state"] == "after", column].to_numpy()
        np.testing.assert_array_equal(got, [r.project_type(type_id).lead["working"].mean for r in c.after.runs])
    approvals = [t for t, row in c.after.by_project_type().items() if row["kind"] == "approval"]
    assert len(approvals) == 4  # the pooled figures are theirs, not the enforcement cases'
    weights = frame[[f"type.{t}.applications" for t in approvals]].to_numpy()
    means = frame[[f"type.{t}.lead_working_mean" for t in approvals]].to_numpy()
    np.testing.assert_allclose((weights * means).sum(axis=1) / weights.sum(axis=1), frame["lead_working_mean"],
                               rtol=1e-12)
