"""Event logs from run/compare: pm4py reads them, they follow the scenario, and they agree with orgsim's results."""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from orgsim.cli import main
from orgsim.scenario import load_scenario
from orgsim.sim.calendar import WorkingCalendar

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "scenarios" / "tutorial.yaml"
COLUMNS = ["case:concept:name", "concept:name", "enable_timestamp", "start_timestamp", "time:timestamp",
           "org:resource", "org:role", "lifecycle:transition", "case:project_type", "case:state", "case:replication"]


def _short(tmp_path: Path, horizon: int = 300, engine: str = "fifo") -> Path:
    text = TUTORIAL.read_text(encoding="utf-8").replace("horizon_days: 750", f"horizon_days: {horizon}")
    text = text.replace("  seed: 2020\n", f"  seed: 2020\n  engine: {engine}\n")
    path = tmp_path / f"short-{engine}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def cli(*args: object):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    return result


@contextlib.contextmanager
def quiet_pm4py():
    """pm4py prints a banner and warns about optional speed-ups; neither is ours to test."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        import pm4py

        yield pm4py


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("logs")
    scenario = _short(tmp)
    out = {}
    for fmt in ("csv", "xes", "parquet"):
        out[fmt] = tmp / f"log.{fmt}"
        result = cli("compare", scenario, "-r", "2", "--event-log", out[fmt], "--json")
        assert result.exit_code == 0, result.output
    records = tmp / "out"
    assert cli("compare", scenario, "-r", "2", "--out", records, "--records").exit_code == 0
    out["records"] = records / "records.csv"
    out["scenario"] = scenario
    return out


def _step_edges(state: str) -> tuple[set[tuple[str, str]], set[str], list[set[str]]]:
    """The tutorial's step edges, steps that may be sent back, and groups of steps that run in parallel."""
    from orgsim.reforms import reform_scenario

    scenario = load_scenario(TUTORIAL)
    org = getattr(reform_scenario(scenario), state)
    flow = org.flows[0]
    edges = set(flow.after)
    rework = {s.id for s in flow.steps if any(org.graph.nodes[f]["rework_probability"] > 0 for f in s.functions)}
    preds = flow.predecessors()
    parallel = [set(group) for group in ({s.id for s in flow.steps if preds[s.id] == p} for p in set(preds.values()))
                if len(group) > 1]
    return edges, rework, parallel


@pytest.mark.parametrize("fmt", ["csv", "xes"])
def test_pm4py_reads_the_log_and_its_dfg_has_the_scenarios_step_edges(logs: dict[str, Path], fmt: str) -> None:
    with quiet_pm4py() as pm4py:
        if fmt == "csv":
            frame = pm4py.format_dataframe(pd.read_csv(logs["csv"]), case_id="case:concept:name",
                                           activity_key="concept:name", timestamp_key="time:timestamp",
                                           start_timestamp_key="start_timestamp")
        else:
            frame = pm4py.read_xes(str(logs["xes"]), show_progress_bar=False)
        assert len(frame) > 1000
        for state in ("before", "after"):
            officers = frame[(frame["org:role"] == "officer") & (frame["case:state"] == state)]
            dfg, start, end = pm4py.discover_dfg(officers)
            edges, rework, parallel = _step_edges(state)
            loops = {(s, s) for s in rework}
            if not parallel:  # serial steps: exactly the step edges, and a loop where a file may come back
                assert set(dfg) == edges | loops, state
                assert set(start) == {"filing"} and set(end) == {"completion"}
            else:  # parallel steps follow each other either way round, and each may come after the other's step
                between = {(a, b) for group in parallel for a in group for b in group if a != b}
                around = {(a, c) for group in parallel for a in group for (b, c) in edges if b in group} | {
                    (a, c) for group in parallel for c in group for (a, b) in edges if b in group}
                members = set().union(*parallel)
                serial = {(a, b) for a, b in edges if a not in members and b not in members}
                assert serial <= set(dfg), state  # every edge between serial steps is seen
                assert any(b in members for _, b in dfg) and any(a in members for a, _ in dfg), state
                assert set(dfg) <= edges | loops | between | around, state


def test_rows_ordered_and_no_end_before_its_start(logs: dict[str, Path]) -> None:
    frame = pd.read_csv(logs["csv"], parse_dates=["enable_timestamp", "start_timestamp", "time:timestamp"])
    assert list(frame.columns) == COLUMNS
    assert (frame["enable_timestamp"] <= frame["start_timestamp"]).all()
    assert (frame["start_timestamp"] <= frame["time:timestamp"]).all()
    # Each case's rows are together and in time order.
    case = frame["case:concept:name"]
    assert case.ne(case.shift()).sum() == case.nunique()
    same = case.eq(case.shift())
    assert (frame["start_timestamp"].diff()[same] >= pd.Timedelta(0)).all()
    assert set(frame["org:role"]) == {"officer", "leader", "transfer", "applicant"}
    # XES and Parquet hold the same rows.
    parquet = pd.read_parquet(logs["parquet"])
    assert list(parquet.columns) == COLUMNS
    pd.testing.assert_frame_equal(parquet, frame, check_dtype=False)


def test_the_logs_lead_times_are_orgsims(logs: dict[str, Path]) -> None:
    frame = pd.read_csv(logs["csv"], parse_dates=["enable_timestamp", "time:timestamp"])
    cases = frame.groupby("case:concept:name").agg(arrived=("enable_timestamp", "min"), done=("time:timestamp", "max"))
    records = pd.read_csv(logs["records"])
    records.index = (records["state"] + "-r" + records["replication"].astype(str) + "-" + records["project_type"]
                     + "-" + records["applicant"].astype(str))
    assert set(cases.index) == set(records.index)  # the same cases: those orgsim counts
    records = records.loc[cases.index]
    calendar = WorkingCalendar.from_spec(load_scenario(logs["scenario"]).simulation.calendar)
    working = calendar.from_datetime64(cases["done"].to_numpy()) - calendar.from_datetime64(cases["arrived"].to_numpy())
    # Timestamps keep microseconds: 1e-6 s in an 8-hour day is 3.5e-11 working days.
    np.testing.assert_allclose(working, records["lead_time_working_days"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(working, records["done_working_day"] - records["arrival_working_day"], atol=1e-9)
    calendar_days = (cases["done"] - cases["arrived"]).dt.total_seconds().to_numpy() / 86400
    summary_calendar = calendar.working_to_calendar_days(records["arrival_working_day"], records["done_working_day"])
    np.testing.assert_allclose(calendar_days, summary_calendar, atol=1e-9)


def test_the_same_log_from_every_engine_and_executor(tmp_path: Path) -> None:
    texts = []
    for engine, extra in (("fifo", []), ("fifo", ["--jobs", "2"]), ("simpy", [])):
        path = tmp_path / f"{engine}{len(extra)}.csv"
        result = cli("run", _short(tmp_path, 150, engine), "-r", "3", "--event-log", path, "--json", *extra)
        assert result.exit_code == 0, result.output
        texts.append(path.read_bytes())
    assert len(texts[0]) > 10_000
    assert texts[0] == texts[1] == texts[2]


def test_an_interrupted_export_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from orgsim.eventlog import writer

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(writer._XesPart, "_write_slice", interrupted)
    result = cli("run", _short(tmp_path, 150), "-r", "2", "--event-log", tmp_path / "log.xes")
    assert result.exit_code == 130
    assert sorted(p.name for p in tmp_path.iterdir()) == ["short-fifo.yaml"]


def test_bad_event_log_name_is_a_usage_error(tmp_path: Path) -> None:
    result = cli("run", _short(tmp_path, 150), "--event-log", tmp_path / "log.txt")
    assert result.exit_code == 2 and "--event-log" in result.stderr and ".csv, .parquet or .xes" in result.stderr
