"""Sweeps: paths, points equal to compare(), executors agree, resume after an interruption."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from orgsim.cli import main
from orgsim.errors import ReformError, ScenarioError
from orgsim.executors import Executor, ProcessExecutor, SerialExecutor, make_executor
from orgsim.experiment import compare
from orgsim.model.metrics import structure_metrics
from orgsim.reforms import reform_scenario
from orgsim.scenario import load_scenario, parse_scenario
from orgsim.sweep import SweepError, parse_path, parse_value, parts_directory, read_table, resolve_vary, sweep

TUTORIAL = Path(__file__).resolve().parent.parent / "scenarios" / "tutorial.yaml"
CAP = "reforms[phase=2021].reforms[op=cap_headcount]"
RATE = "workload.project_types[id=industrial].arrivals.rate"
SHORT = ["simulation.horizon_days=150", "simulation.warmup_days=20"]
#: The issue's acceptance grid: 4 x 3 points, run with 5 replications.
GRID = [f"{CAP}.cap=45,50,55,60", f"{CAP}.policy=frontline_first", f"{RATE}=80,110,140", *SHORT]


def tutorial_data() -> dict:
    return yaml.safe_load(TUTORIAL.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def serial_grid() -> pd.DataFrame:
    return sweep(TUTORIAL, GRID, replications=5, seed=11)


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessExecutor]:
    """Two worker processes, started once for the tests that use them."""
    with ProcessExecutor(workers=2) as executor:
        yield executor


class CountingExecutor(Executor):
    """Serial, listing the points it runs; raises KeyboardInterrupt when asked for a point after ``stop_after``."""

    def __init__(self, stop_after: int | None = None) -> None:
        self.points: list[int] = []
        self.stop_after = stop_after

    def map_unordered(self, fn, tasks):  # noqa: ANN001, ANN201
        for task in tasks:  # a block of replications of one state; task.group is its point
            if task.group not in self.points:
                if self.stop_after is not None and len(self.points) == self.stop_after:
                    raise KeyboardInterrupt
                self.points.append(task.group)
            yield task, fn(task)


# ---------------------------------------------------------------- paths and values


def test_parse_path_steps() -> None:
    assert parse_path("reforms[1].reforms[2].cap") == [
        ("key", "reforms"), ("index", 1), ("key", "reforms"), ("index", 2), ("key", "cap")]
    assert parse_path("units[id=planning].support") == [
        ("key", "units"), ("match", ("id", "planning")), ("key", "support")]


@pytest.mark.parametrize("text", ["", "units[", "units[x]", "units..a", "units.", "1units", "units]"])
def test_parse_path_refuses_malformed(text: str) -> None:
    with pytest.raises(ScenarioError):
        parse_path(text)


def test_values_are_yaml_scalars() -> None:
    assert parse_value("60") == 60 and isinstance(parse_value("60"), int)
    assert parse_value("0.25") == 0.25
    assert parse_value("1e3") == 1000.0
    assert parse_value("true") is True and parse_value("off") == "off"  # YAML 1.2 core, as the loader
    assert parse_value("null") is None
    assert parse_value("frontline_first") == "frontline_first"


def test_index_and_id_address_the_same_field() -> None:
    data = tutorial_data()
    by_index, by_id = resolve_vary(data, ["units[1].support=1", "functions[id=eia].officers=2"])
    assert by_index.loc == ("units", 1, "support")
    assert by_id.loc == ("functions", 2, "officers")
    (cap,) = resolve_vary(data, [f"{CAP}.cap=50"])
    assert cap.loc == ("reforms", 1, "reforms", 2, "cap")
    with pytest.raises(ScenarioError, match="the same field"):
        resolve_vary(data, ["units[1].support=1", "units[id=planning].support=2"])


@pytest.mark.parametrize(("vary", "says"), [
    ("units[id=plannin].support=1,2", "no item with id 'plannin'"),
    ("units[id=planning].suport=1,2", "units[1].suport: unknown field"),
    ("units[20].support=1", "no [20]"),
    ("units.support=1", "units is a list"),
    ("units[id=planning].support=-1", "units[1].support: Input should be greater than or equal to 0"),
    ("reforms[0].enabled=maybe", "true or false"),
    ("simulation=3", "simulation"),
    ("units[id=planning=1", "not closed"),
])
def test_bad_vary_is_one_line_and_exit_2(vary: str, says: str) -> None:
    result = CliRunner().invoke(main, ["sweep", str(TUTORIAL), "--vary", vary, "-r", "2"])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert says in lines[0]
    assert "Traceback" not in result.output


def test_bad_value_names_the_path_and_the_point() -> None:
    with pytest.raises(ScenarioError) as info:
        sweep(TUTORIAL, [f"{CAP}.cap=50,-5", *SHORT], replications=2)
    (problem,) = info.value.problems
    assert problem.path == "reforms[1].reforms[2].cap" and f"(at {CAP}.cap=-5)" in problem.message


def test_value_that_breaks_a_reform_names_the_point() -> None:
    """A value the format accepts but a reform cannot meet: the reform's own error, with the point."""
    with pytest.raises(ReformError) as info:
        sweep(TUTORIAL, [f"{CAP}.cap=50,1", *SHORT], replications=2)
    (problem,) = info.value.problems
    assert problem.path == "reforms[1].reforms[2]" and "cap 1" in problem.message
    assert f"{CAP}.cap=1" in problem.message


# ---------------------------------------------------------------- what a point is


def point_scenario(settings: dict) -> object:
    data = tutorial_data()
    data["simulation"].update(horizon_days=150, warmup_days=20)
    for path, value in settings.items():
        node = data
        *parents, last = path
        for part in parents:
            node = node[part]
        node[last] = value
    return parse_scenario(yaml.safe_dump(data, allow_unicode=True), "point.yaml", TUTORIAL.parent)


def test_point_rows_equal_compare(serial_grid: pd.DataFrame) -> None:
    rows = serial_grid[serial_grid["point"] == 4].reset_index(drop=True)
    assert rows[f"{CAP}.cap"].iloc[0] == 50 and rows[RATE].iloc[0] == 110
    scenario = point_scenario({("reforms", 1, "reforms", 2, "cap"): 50,
                               ("reforms", 1, "reforms", 2, "policy"): "frontline_first",
                               ("workload", "project_types", 0, "arrivals", "rate"): 110})
    expected = compare(scenario, replications=5, seed=11).to_frame()
    ours = rows[expected.columns].drop(columns="scenario_sha256")
    pd.testing.assert_frame_equal(ours, expected.drop(columns="scenario_sha256"))
    assert (rows["scenario_sha256"] == load_scenario(TUTORIAL).sha256).all()


def test_table_layout(serial_grid: pd.DataFrame) -> None:
    assert list(serial_grid.columns[:7]) == [
        "point", f"{CAP}.cap", f"{CAP}.policy", RATE, "simulation.horizon_days", "simulation.warmup_days", "state"]
    assert len(serial_grid) == 12 * 2 * 5
    first = serial_grid.drop_duplicates("point")
    assert list(first[f"{CAP}.cap"]) == [45] * 3 + [50] * 3 + [55] * 3 + [60] * 3  # first lever slowest
    assert list(first[RATE]) == [80, 110, 140] * 4
    for column in ("seed", "scenario_sha256", "orgsim_version", "replication"):
        assert serial_grid[column].notna().all()
    assert (serial_grid["seed"] == 11).all()


def test_toggle_leaves_out_an_operator() -> None:
    frame = sweep(TUTORIAL, [f"{CAP}.enabled=true,false", *SHORT], replications=2, seed=1)
    after = frame[frame["state"] == "after"].groupby(f"{CAP}.enabled")["headcount"].first()
    scenario = load_scenario(TUTORIAL)
    without_cap = reform_scenario(scenario, skip=[5]).after
    assert after[False] == structure_metrics(without_cap).headcount
    assert after[True] == structure_metrics(reform_scenario(scenario).after).headcount


def test_toggle_a_whole_phase_and_an_emptied_phase() -> None:
    frame = sweep(TUTORIAL, ["reforms[phase=2020].enabled=false", "reforms[1].reforms[0].enabled=false",
                             "reforms[1].reforms[1].enabled=false", "reforms[1].reforms[2].enabled=false", *SHORT],
                  replications=2, seed=1)
    before = frame[frame["state"] == "before"].drop(columns="state")
    after = frame[frame["state"] == "after"].drop(columns="state")
    # No reform left: the organisation after is the one before, run on the same random numbers.
    pd.testing.assert_frame_equal(before.reset_index(drop=True), after.reset_index(drop=True))


def test_scenario_object_gives_the_same_table() -> None:
    vary = {f"{CAP}.cap": [50, 60], "simulation.horizon_days": [150], "simulation.warmup_days": [20]}
    from_file = sweep(TUTORIAL, vary, replications=2, seed=3)
    from_object = sweep(load_scenario(TUTORIAL), vary, replications=2, seed=3)
    pd.testing.assert_frame_equal(from_file, from_object)


# ---------------------------------------------------------------- executors


@pytest.mark.slow  # process pools and a Dask cluster
def test_processes_and_dask_match_serial(serial_grid: pd.DataFrame, pool: ProcessExecutor) -> None:
    """The acceptance check: 4 x 3 points, 5 replications, three executors, one table."""
    in_processes = sweep(TUTORIAL, GRID, replications=5, seed=11, executor=pool)
    pd.testing.assert_frame_equal(in_processes, serial_grid)
    pytest.importorskip("dask.distributed")
    with make_executor("dask", workers=2) as cluster:
        on_dask = sweep(TUTORIAL, GRID, replications=5, seed=11, executor=cluster)
    pd.testing.assert_frame_equal(on_dask, serial_grid)


@pytest.mark.slow  # a process pool
def test_few_points_split_into_blocks_of_replications(pool: ProcessExecutor) -> None:
    """One point on two workers runs in blocks of replications, with the same numbers."""
    vary = [f"{CAP}.cap=50", *SHORT]
    serial = sweep(TUTORIAL, vary, replications=6, seed=2)
    split = sweep(TUTORIAL, vary, replications=6, seed=2, executor=pool)
    pd.testing.assert_frame_equal(split, serial)


def test_address_is_for_dask_only() -> None:
    with pytest.raises(ValueError, match="dask"):
        make_executor("processes", address="tcp://127.0.0.1:1")
    result = CliRunner().invoke(main, ["sweep", str(TUTORIAL), "--vary", "simulation.seed=1",
                                       "--executor", "serial", "--address", "tcp://127.0.0.1:1"])
    assert result.exit_code == 2 and "--address" in result.stderr


# ---------------------------------------------------------------- resume


VARY_RESUME = [f"{CAP}.cap=45,50,60", f"{CAP}.policy=frontline_first", f"{RATE}=80,140", *SHORT]


@pytest.mark.slow  # interrupted and resumed
def test_resume_skips_finished_points(tmp_path: Path) -> None:
    out = tmp_path / "sweep.csv"
    with pytest.raises(KeyboardInterrupt):
        sweep(TUTORIAL, VARY_RESUME, replications=3, seed=5, out=out, executor=CountingExecutor(stop_after=4))
    parts = sorted(p.name for p in parts_directory(out).glob("point-*.csv"))
    assert parts == [f"point-{i:06d}.csv" for i in range(4)] and not out.exists()
    second = CountingExecutor()
    resumed = sweep(TUTORIAL, VARY_RESUME, replications=3, seed=5, out=out, executor=second)
    assert second.points == [4, 5]  # nothing lost, nothing run twice
    assert not parts_directory(out).exists()
    whole = sweep(TUTORIAL, VARY_RESUME, replications=3, seed=5)
    pd.testing.assert_frame_equal(resumed, whole)
    pd.testing.assert_frame_equal(read_table(out), whole)


def test_resume_refuses_another_sweep(tmp_path: Path) -> None:
    out = tmp_path / "sweep.csv"
    with pytest.raises(KeyboardInterrupt):
        sweep(TUTORIAL, VARY_RESUME, replications=3, seed=5, out=out, executor=CountingExecutor(stop_after=1))
    with pytest.raises(SweepError, match="seed: 5 there, 6 here"):
        sweep(TUTORIAL, VARY_RESUME, replications=3, seed=6, out=out)
    result = CliRunner().invoke(main, ["sweep", str(TUTORIAL), *sum((["--vary", v] for v in VARY_RESUME), []),
                                       "-r", "2", "--seed", "5", "--out", str(out)])
    assert result.exit_code == 2 and "different sweep" in result.stderr and "replications" in result.stderr


@pytest.mark.slow  # interrupted and resumed
def test_leftovers_of_a_kill_are_cleaned(tmp_path: Path) -> None:
    out = tmp_path / "sweep.csv"
    with pytest.raises(KeyboardInterrupt):
        sweep(TUTORIAL, VARY_RESUME, replications=3, seed=5, out=out, executor=CountingExecutor(stop_after=3))
    parts = parts_directory(out)
    (parts / ".point-000003.csv.x1y2.part").write_text("point,state\n3,bef")  # a write cut short
    (parts / "point-000002.csv").write_text("point,state\n2,before\n")  # damaged by hand
    second = CountingExecutor()
    with pytest.warns(UserWarning, match="point-000002.csv: incomplete"):
        resumed = sweep(TUTORIAL, VARY_RESUME, replications=3, seed=5, out=out, executor=second)
    assert second.points == [2, 3, 4, 5]
    pd.testing.assert_frame_equal(resumed, sweep(TUTORIAL, VARY_RESUME, replications=3, seed=5))


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from orgsim.cli import main; main()", *args]


def _wait_for_parts(directory: Path, n: int, proc: subprocess.Popen, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the sweep ended before it could be interrupted: {proc.communicate()}")
        found = len(list(directory.glob("point-*.csv"))) if directory.is_dir() else 0
        if found >= n:
            return found
        time.sleep(0.05)
    pytest.fail(f"no {n} parts after {timeout} s")


@pytest.mark.slow  # killed and resumed, in processes
@pytest.mark.parametrize(("sig", "executor"), [(signal.SIGKILL, "serial"), (signal.SIGTERM, "processes")])
def test_cli_killed_half_way_resumes(
    tmp_path: Path, sig: signal.Signals, executor: str, serial_grid: pd.DataFrame
) -> None:
    """The acceptance check: killed half way, run again, the table of an uninterrupted run."""
    out = tmp_path / "grid.csv"
    args = ["sweep", str(TUTORIAL), *sum((["--vary", v] for v in GRID), []), "-r", "5", "--seed", "11",
            "--out", str(out), "--no-progress"]
    proc = subprocess.Popen(_cli(*args, "--executor", executor, "--workers", "2"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_parts(parts_directory(out), 5, proc)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if sig == signal.SIGTERM:
        assert proc.returncode == 130 and "run the same command again to resume" in err
    else:
        assert proc.returncode == -signal.SIGKILL
    parts = parts_directory(out)
    kept = sorted(parts.glob("point-*.csv"))
    assert 5 <= len(kept) < 12 and not out.exists()
    for part in kept:  # every part is whole
        assert len(pd.read_csv(part)) == 2 * 5
    done = subprocess.run(_cli(*args), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert not parts.exists()
    pd.testing.assert_frame_equal(read_table(out), serial_grid)


def test_cli_prints_a_table(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["sweep", str(TUTORIAL), "--vary", f"{CAP}.cap=50,60", *sum(
        (["--vary", v] for v in SHORT), []), "-r", "2", "--out", str(tmp_path / "t.csv")])
    assert result.exit_code == 0, result.output
    assert "simulation.horizon_days = 150" in result.stdout
    assert "cap" in result.stdout and "p90 after" in result.stdout
    assert len(pd.read_csv(tmp_path / "t.csv")) == 2 * 2 * 2


def test_out_must_be_csv_or_parquet(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["sweep", str(TUTORIAL), "--vary", "simulation.seed=1",
                                       "--out", str(tmp_path / "t.xlsx")])
    assert result.exit_code == 2 and ".csv or .parquet" in result.stderr


def test_parquet_out(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    vary = [f"{CAP}.cap=50,60", *SHORT]
    frame = sweep(TUTORIAL, vary, replications=2, out=tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), frame)


def test_serial_executor_is_the_default() -> None:
    assert isinstance(make_executor(), SerialExecutor)


# ---------------------------------------------------------------- runs reused within a sweep

def _counting_simulate(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the replications actually simulated (StateSetup.simulate, as every executor's worker calls it)."""
    from orgsim.batches import StateSetup

    calls: list[int] = []
    real = StateSetup.simulate

    def counted(self, seed_seq, keep_records=False):  # noqa: ANN001, ANN202
        calls.append(seed_seq.spawn_key[-1])
        return real(self, seed_seq, keep_records)

    monkeypatch.setattr(StateSetup, "simulate", counted)
    return calls


def test_a_state_met_again_is_simulated_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from orgsim.batches import RunCache

    cache = RunCache()
    calls = _counting_simulate(monkeypatch)
    # Only a reform lever varies: "before" is the same organisation at all 3 points.
    vary = [f"{CAP}.cap=45,50,55", f"{CAP}.policy=frontline_first", *SHORT]
    table = sweep(TUTORIAL, vary, replications=2, seed=5, cache=cache)
    assert len(calls) == 2 + 3 * 2  # before once per replication, after at each point
    assert cache.hits == 2 * 2
    lead = table.groupby(["state", "replication"])["lead_working_mean"].nunique()
    assert (lead["before"] == 1).all() and (lead["after"] == 3).all()
    # and the rows are what an uncached run gives
    calls.clear()
    nothing_kept = RunCache(max_bytes=0)
    pd.testing.assert_frame_equal(table, sweep(TUTORIAL, vary, replications=2, seed=5, cache=nothing_kept))
    assert nothing_kept.hits == 0 and len(calls) == 3 * 2 * 2


def test_support_staff_cuts_reuse_the_after_runs_too(monkeypatch: pytest.MonkeyPatch) -> None:
    from orgsim.batches import RunCache

    # The default cut policy takes support staff first: down to 60 posts the
    # support staff left still do all the support work (below it, the officers
    # take over some and lead times rise), so nothing the simulation sees
    # changes between these caps, and each state is simulated once.
    cache = RunCache()
    calls = _counting_simulate(monkeypatch)
    table = sweep(TUTORIAL, [f"{CAP}.cap=60,63", *SHORT], replications=2, seed=5, cache=cache)
    assert len(calls) == 2 * 2 and cache.hits == 2 * 2
    assert table.groupby(["state", "replication"])["lead_working_mean"].nunique().eq(1).all()
    headcount = table[table["state"] == "after"].groupby("point")["headcount"].first()
    assert headcount.nunique() == 2  # the structure did change


def test_a_changed_workload_is_not_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    from orgsim.batches import RunCache

    cache = RunCache()
    calls = _counting_simulate(monkeypatch)
    sweep(TUTORIAL, [f"{RATE}=80,140", *SHORT], replications=2, seed=5, cache=cache)
    assert len(calls) == 2 * 2 * 2 and cache.hits == 0


def test_nothing_is_kept_between_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a cache handed in, each sweep starts from nothing: no run outlives its call."""
    calls = _counting_simulate(monkeypatch)
    vary = [f"{CAP}.cap=50", *SHORT]
    sweep(TUTORIAL, vary, replications=2, seed=5)
    sweep(TUTORIAL, vary, replications=2, seed=5)
    assert len(calls) == 2 * 2 * 2


def _trace_scenario(tmp_path: Path, dates: list[str]) -> Path:
    """The tutorial with the industrial project type's arrivals from a trace file beside it."""
    data = tutorial_data()
    data["simulation"].update(horizon_days=150, warmup_days=20)
    (tmp_path / "arrivals.csv").write_text("date\n" + "\n".join(dates) + "\n", encoding="utf-8")
    pt = data["workload"]["project_types"][0]
    pt["arrivals"] = {"trace": "arrivals.csv", "column": "date"}
    path = tmp_path / "traced.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_a_changed_trace_file_is_not_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The run cache knows a trace by its contents: the same scenario text with another trace is simulated again."""
    from orgsim.batches import RunCache

    days = [dt.date(2020, 3, 2) + dt.timedelta(days=k) for k in range(0, 200, 2)]
    path = _trace_scenario(tmp_path, [d.isoformat() for d in days])
    cache = RunCache()
    calls = _counting_simulate(monkeypatch)
    vary = [f"{CAP}.cap=50"]
    first = sweep(path, vary, replications=2, seed=5, cache=cache)
    assert len(calls) == 2 * 2
    again = sweep(path, vary, replications=2, seed=5, cache=cache)
    assert len(calls) == 2 * 2 and cache.hits == 2 * 2  # the same file: every run reused
    pd.testing.assert_frame_equal(again, first)
    (tmp_path / "arrivals.csv").write_text(
        "date\n" + "\n".join(d.isoformat() for d in days[::2]) + "\n", encoding="utf-8")
    changed = sweep(path, vary, replications=2, seed=5, cache=cache)
    assert len(calls) == 2 * 2 * 2  # the trace changed, the scenario text did not: simulated again
    assert (changed["arrived"] < first["arrived"]).all()


@pytest.mark.slow  # a fresh interpreter
def test_orgsim_sweep_is_the_function_before_and_after_its_module_is_imported() -> None:
    """``orgsim.sweep(...)`` calls sweep(), also once ``orgsim.sweep`` has become the module (as importing makes it)."""
    code = (
        "import orgsim, sys\n"
        "from orgsim.errors import ScenarioError\n"
        "for attempt in range(2):\n"
        "    try:\n"
        f"        orgsim.sweep({str(TUTORIAL)!r}, ['units[id=plannin].support=1'])\n"
        "    except ScenarioError as exc:\n"
        "        print(type(orgsim.sweep).__name__, 'plannin' in str(exc))\n"
        "import orgsim.sweep\n"
        "print(type(orgsim.sweep).__name__, callable(orgsim.sweep), callable(orgsim.frontier))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    # The first call went through orgsim's lazy attribute (the function); it imported the module, which
    # took the attribute's place, and the second call went through the module.
    assert out[:3] == ["_CallableModule True", "_CallableModule True", "_CallableModule True True"]
