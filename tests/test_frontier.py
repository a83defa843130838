"""The frontier: bisection over a lever, decisions on replications, the uncertainty stated."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from orgsim.cli import main
from orgsim.errors import ScenarioError
from orgsim.frontier import FrontierResult, Probe, _judge, frontier, parse_target
from orgsim.sweep import sweep

TUTORIAL = Path(__file__).resolve().parent.parent / "scenarios" / "tutorial.yaml"
CAP = "reforms[phase=2021].reforms[op=cap_headcount]"
RATE = "workload.project_types[id=industrial].arrivals.rate"
FIXED = ["simulation.horizon_days=150", "simulation.warmup_days=20", f"{CAP}.policy=frontline_first"]


@pytest.fixture(scope="module")
def cap_frontier() -> FrontierResult:
    return frontier(TUTORIAL, f"{CAP}.cap", 30, 70, "p90<=40", replications=4, seed=3, fixed=FIXED)


def test_parse_target() -> None:
    t = parse_target("p90<=120")
    assert (t.metric, t.op, t.threshold) == ("lead_working_p90", "<=", 120.0)
    assert parse_target(" share_over_limit < 0.05 ").metric == "share_over_limit"
    assert parse_target("calendar_p95>=1e2").threshold == 100.0
    assert t.holds(120.0) and not t.holds(120.5)
    for bad in ("p90", "p90<=", "p90 == 3", "<=3"):
        with pytest.raises(ValueError, match="METRIC OP NUMBER"):
            parse_target(bad)


def test_smallest_cap_bracket(cap_frontier: FrontierResult) -> None:
    r = cap_frontier
    assert r.direction == "smallest"
    fail, ok = r.bracket
    assert ok - fail == 1 and r.value == ok  # whole numbers bisect down to neighbours
    by_value = {p.value: p for p in r.probes}
    assert by_value[ok].passes and not by_value[fail].passes
    assert not by_value[30].passes and by_value[70].passes  # the ends are probed first
    # Monotone along the probes made: every value at or above the answer passed, below it failed.
    assert all(p.passes == (p.value >= ok) for p in r.probes)


def test_probes_are_the_sweep_numbers(cap_frontier: FrontierResult) -> None:
    """A probe is a sweep point: the same seed and replications give the same mean."""
    fail, ok = cap_frontier.bracket
    frame = sweep(TUTORIAL, [f"{CAP}.cap={fail},{ok}", *FIXED], replications=4, seed=3)
    after = frame[frame["state"] == "after"].groupby(f"{CAP}.cap")["lead_working_p90"].mean()
    by_value = {p.value: p for p in cap_frontier.probes}
    for v in (fail, ok):
        assert by_value[v].mean == pytest.approx(after[v], rel=1e-12)


def test_largest_rate_within_tolerance() -> None:
    r = frontier(TUTORIAL, RATE, 60.0, 400.0, "p90<=40", replications=3, seed=3, fixed=FIXED, tolerance=40)
    assert r.direction == "largest"
    fail, ok = r.bracket
    assert ok < fail and fail - ok <= 40
    assert not {p.value: p for p in r.probes}[400.0].passes
    assert r.to_dict()["fixed"] == {FIXED[0].split("=")[0]: 150, FIXED[1].split("=")[0]: 20,
                                    f"{CAP}.policy": "frontline_first"}


def test_no_frontier_in_range() -> None:
    r = frontier(TUTORIAL, f"{CAP}.cap", 62, 70, "p90<=1000", replications=2, seed=3, fixed=FIXED)
    assert r.bracket is None and r.value is None and r.direction is None and len(r.probes) == 2
    assert "holds at both ends" in r.summary() and "widen" in r.summary()


def _frame(values: list[float], stable: float = 1.0) -> pd.DataFrame:
    return pd.DataFrame({"state": "after", "stable": stable, "lead_working_p90": values})


def test_judge_states_whether_the_decision_is_clear() -> None:
    target = parse_target("p90<=100")
    clear_pass = _judge(_frame([80.0, 81.0, 79.0, 80.5]), 1, target, "after")
    assert clear_pass.passes and clear_pass.clear
    close = _judge(_frame([90.0, 110.0, 95.0, 100.0]), 2, target, "after")
    assert close.passes and not close.clear and close.ci95[0] < 100 < close.ci95[1]
    unstable = _judge(_frame([10.0, 10.0], stable=0.0), 3, target, "after")
    assert not unstable.passes and unstable.clear and unstable.mean is None


def test_unclear_bracket_is_said() -> None:
    target = parse_target("p90<=100")
    probes = (
        Probe(10, None, None, False, False, True),
        Probe(20, 80.0, (70.0, 90.0), True, True, True),
        Probe(15, 98.0, (90.0, 106.0), True, True, False),
        Probe(12, 104.0, (95.0, 113.0), True, False, False),
        Probe(13, 101.0, (99.0, 103.0), True, False, False),
        Probe(14, 99.0, (97.0, 101.0), True, True, False),
    )
    r = FrontierResult("x", 10, 20, target, "after", 5, 1, "sha", "smallest", 14, (13, 14), probes)
    assert not r.clear
    assert r.uncertain_range() == (10, 20)
    text = r.summary()
    assert "not statistically clear" in text and "clearly fails at 10" in text and "clearly holds at 20" in text


def test_bad_arguments() -> None:
    with pytest.raises(ScenarioError, match="toggle"):
        frontier(TUTORIAL, f"{CAP}.enabled", 0, 1, "p90<=40")
    with pytest.raises(ScenarioError, match="less than"):
        frontier(TUTORIAL, f"{CAP}.cap", 60, 50, "p90<=40")
    with pytest.raises(ScenarioError, match="no item with op"):
        frontier(TUTORIAL, "reforms[phase=2021].reforms[op=nope].cap", 50, 60, "p90<=40")


@pytest.mark.parametrize(("args", "says"), [
    (["--vary", f"{CAP}.cap=30", "--target", "p90<=40"], "PATH=LOW:HIGH"),
    (["--vary", f"{CAP}.cap=a:b", "--target", "p90<=40"], "must be a number"),
    (["--vary", f"{CAP}.cap=30:70", "--target", "p90=40"], "METRIC OP NUMBER"),
    (["--vary", "units[id=nope].support=1:3", "--target", "p90<=40"], "no item with id 'nope'"),
])
def test_cli_bad_arguments_exit_2(args: list[str], says: str) -> None:
    result = CliRunner().invoke(main, ["frontier", str(TUTORIAL), *args])
    assert result.exit_code == 2, result.output
    assert says in result.stderr and "Traceback" not in result.output


def test_cli_json_and_text() -> None:
    """Cap 30 is unstable (fails whatever the threshold) and 70 cuts nobody, so there is a frontier."""
    fixed = sum((["--set", f] for f in FIXED), [])
    args = ["frontier", str(TUTORIAL), "--vary", f"{CAP}.cap=30:70", "--target", "p90<=1000", "-r", "2",
            "--seed", "3", "--max-probes", "4", *fixed]
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["direction"] == "smallest" and data["value"] == data["bracket"][1]
    assert len(data["probes"]) == 4 and data["probes"][0]["stable"] is False
    assert {"scenario_sha256", "orgsim_version", "seed", "replications", "fixed"} <= set(data)
    assert result.stderr.count("probe ") == 4  # progress: one line per probe
    text = CliRunner().invoke(main, args)
    assert text.exit_code == 0
    assert f"bracket: {data['bracket'][0]} fails, {data['bracket'][1]} passes" in text.stdout
