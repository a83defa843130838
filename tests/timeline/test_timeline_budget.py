"""orgsim timeline checks its own memory estimate before any simulation (not compare's)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from orgsim.budget import BASE_BYTES, BYTES_PER_APPLICATION, BYTES_PER_SLOT_STEP, MIN_SLOTS, check_run_budget
from orgsim.cli import main
from orgsim.scenario import load_scenario

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "qingdao_functional_zones_2020.yaml"


def _need(**options) -> float:
    """The smallest limit (bytes) at which ``check_run_budget`` lets these runs through, found by its own message."""
    s = load_scenario(SCENARIO)
    lo, hi = 1.0, 2.0**40
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if check_run_budget(s, max_memory_bytes=mid, records=False, **options):
            lo = mid
        else:
            hi = mid
    return hi


def test_the_timeline_estimate_counts_every_phases_steps_and_one_state():
    s = load_scenario(SCENARIO)
    timeline = _need(replications=2, runs_at_once=1, timeline=True)
    compare = _need(replications=2, runs_at_once=1, states=2)
    assert timeline > compare
    phases = 6  # before, then the five dated phases
    assert not s.workload.enforcement_cases
    applications = sum(pt.arrivals.rate_per_day() for pt in s.workload.project_types) * s.simulation.horizon_days
    steps = max(len(pt.steps) for pt in s.workload.project_types) * phases
    assert timeline == pytest.approx(BASE_BYTES + BYTES_PER_APPLICATION * applications
                                     + BYTES_PER_SLOT_STEP * MIN_SLOTS * steps, rel=0.01)
    # workers each run a replication at once
    assert _need(replications=2, runs_at_once=2, timeline=True) == pytest.approx(2 * timeline, abs=2)


def _run(tmp_path: Path, limit: float, *extra: str):
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["timeline", str(SCENARIO), "-r", "2", "--out", str(out),
                                    "--max-memory", str(int(limit)), *extra])
    return res, out


def test_a_small_max_memory_refuses_the_timeline_before_it_runs(tmp_path):
    timeline = _need(replications=2, runs_at_once=1, timeline=True)
    compare = _need(replications=2, runs_at_once=1, states=2)
    res, out = _run(tmp_path, (timeline + compare) / 2)  # enough for compare, not for the timeline
    assert res.exit_code == 2, res.output
    assert "a timeline of 6 phase(s), 2 replication(s) would need" in res.output
    assert f"{SCENARIO}:" in res.output and "workload.project_types" in res.output and "Traceback" not in res.output
    assert not out.exists()
    compared = CliRunner().invoke(main, ["compare", str(SCENARIO), "-r", "2", "--max-memory",
                                         str(int((timeline + compare) / 2))])
    assert compared.exit_code == 0, compared.output


def test_workers_count_in_the_timeline_budget(tmp_path):
    timeline = _need(replications=2, runs_at_once=1, timeline=True)
    res, out = _run(tmp_path, 1.5 * timeline, "--executor", "processes", "--jobs", "2")
    assert res.exit_code == 2 and "2 at once" in res.output and not out.exists()


def test_a_large_max_memory_runs_the_timeline(tmp_path):
    res, out = _run(tmp_path, 2 * _need(replications=2, runs_at_once=1, timeline=True))
    assert res.exit_code == 0, res.output
    assert (out / "timeline.json").exists()
