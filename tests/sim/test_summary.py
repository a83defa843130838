"""A run reduced to its summary: the same numbers as the arrays give, per project type too, in fixed size."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np
import pytest

from orgsim.experiment import Runner, simulate
from orgsim.reforms import reform_scenario
from orgsim.scenario import load_scenario
from orgsim.sim.results import COMPONENTS, PERCENTILES
from orgsim.sim.streams import replication_seeds
from orgsim.sim.summary import CLOCKS, SKETCH_LEVELS, SKETCH_POINTS, summarise_run
from tests.quick_results import quick

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
TUTORIAL = SCENARIOS / "tutorial.yaml"
#: Four project types; one has a statutory limit of its own.
YIZHENG = SCENARIOS / "yizheng_one_zone_many_parks_2021.yaml"


def _run(path: Path, keep_records: bool = False, horizon: float = 300.0, replication: int = 0):
    scenario = quick(load_scenario(path), horizon)
    runner = Runner(scenario, keep_records)
    org = reform_scenario(scenario).after
    seq = replication_seeds(scenario.simulation.seed, 2)[replication]
    run = runner.run(org, seq)
    return run, runner.setup(org).plan


def _clock(run, clock: str) -> np.ndarray:  # noqa: ANN001
    """A clock's lead times straight from the run's arrays (independently of orgsim.sim.summary)."""
    working = run.t_end - run.t_start
    return {"working": working, "calendar": run.lead_calendar_days, "statutory": working - run.applicant_days}[clock]


def _expected(values: np.ndarray) -> dict[str, float]:
    return {"mean": float(values.mean()), **dict(zip([f"p{p}" for p in PERCENTILES],
                                                     map(float, np.percentile(values, PERCENTILES)), strict=True)),
            "max": float(values.max())}


@pytest.fixture(scope="module")
def yizheng_run():  # noqa: ANN201
    return _run(YIZHENG)


def _approvals(run, plan) -> np.ndarray:  # noqa: ANN001
    """Which applications are of a project type (the pooled figures'), not of a case type."""
    return np.array([f.kind == "approval" for f in plan.flows])[run.flow_index]


def test_flat_statistics_are_those_of_the_arrays(yizheng_run) -> None:  # noqa: ANN001
    run, plan = yizheng_run
    stats = summarise_run(run, plan).stats
    pooled = _approvals(run, plan)
    assert 0 < pooled.sum() < len(pooled)  # Yizheng's enforcement cases are not pooled with its approvals
    for clock in ("working", "calendar"):
        for k, v in _expected(_clock(run, clock)[pooled]).items():
            assert stats[f"lead_{clock}_{k}"] == v, (clock, k)
    assert stats["completed"] == pooled.sum()
    limits = np.asarray(run.flow_limits)[run.flow_index]
    has = ~np.isnan(limits) & pooled
    assert stats["share_over_limit"] == float(np.mean(_clock(run, "statutory")[has] > limits[has]))
    assert stats["throughput_per_working_day"] == run.completed_in_window / run.window_days
    assert [k for k in stats][:9] == ["arrived", "completed", "backlog_end", "backlog_growth_per_100_days", "stable",
                                      "throughput_per_working_day", "mean_in_system", "handoffs_per_application",
                                      "share_over_limit"]
    assert [k for k in stats if k.startswith("time_")] == [f"time_{c}_days" for c in COMPONENTS]
    assert stats == run.summary()


def test_each_project_type_as_its_own_arrays_give(yizheng_run) -> None:  # noqa: ANN001
    run, plan = yizheng_run
    summary = summarise_run(run, plan)
    assert [t.project_type for t in summary.project_types] == [f.id for f in plan.flows]
    assert [t.kind for t in summary.project_types] == ["approval"] * 4 + ["enforcement"] * 9
    for k, t in enumerate(summary.project_types):
        mine = run.flow_index == k
        assert t.count == int(mine.sum()) > 0
        for clock in CLOCKS:
            values = _clock(run, clock)[mine]
            stats = t.lead[clock]
            assert stats.count == t.count
            assert stats.to_dict() == _expected(values), (t.project_type, clock)
        limit = run.flow_limits[k]
        if math.isnan(limit):
            assert t.statutory_limit_days is None and math.isnan(t.share_over_limit)
        else:
            assert t.share_over_limit == float(np.mean(_clock(run, "statutory")[mine] > limit))
        assert t.throughput_per_working_day == t.count / run.window_days
        assert set(t.time_split) == set(COMPONENTS)  # from the engine's per-type sums, records or not
        assert sum(t.time_split.values()) == pytest.approx(t.lead["working"].mean, rel=1e-9)
    assert sum(t.count for t in summary.project_types if t.kind == "approval") == run.completed
    assert sum(t.count for t in summary.project_types) == len(run.t_end)
    limits = {t.statutory_limit_days for t in summary.project_types}
    assert len(limits) >= 2  # the scenario gives types different limits: the test sees them apart


def test_one_project_type_is_the_pooled_figures() -> None:
    run, plan = _run(TUTORIAL)
    summary = summarise_run(run, plan)
    (only,) = summary.project_types
    for clock in CLOCKS:
        assert only.lead[clock] == summary.lead[clock]
    assert only.share_over_limit == summary.share_over_limit


def test_sketch_quantiles(yizheng_run) -> None:  # noqa: ANN001
    run, plan = yizheng_run
    summary = summarise_run(run, plan)
    for k, t in enumerate(summary.project_types):
        for clock in CLOCKS:
            values = _clock(run, clock)[run.flow_index == k]
            sketch = t.sketches[clock]
            assert sketch.count == len(values) and len(sketch.quantiles) == SKETCH_POINTS
            assert sketch.quantiles[0] == values.min() and sketch.quantiles[-1] == values.max()
            np.testing.assert_allclose(sketch.quantiles, np.quantile(values, SKETCH_LEVELS), rtol=1e-12, atol=1e-12)


def test_sketch_cdf_is_the_ecdf_to_within_its_resolution(yizheng_run) -> None:  # noqa: ANN001
    run, plan = yizheng_run
    summary = summarise_run(run, plan)
    for k, t in enumerate(summary.project_types):
        values = np.sort(_clock(run, "working")[run.flow_index == k])
        x = np.unique(values)
        exact = np.searchsorted(values, x, side="right") / len(values)
        gap = np.abs(t.sketches["working"].cdf(x) - exact).max()
        # Linear between quantiles 1/200 apart: within one step of the sketch and one application.
        assert gap <= 1 / (SKETCH_POINTS - 1) + 1 / len(values), (t.project_type, gap)


def test_time_split_per_type_is_the_records_split() -> None:
    """The engine's per-type sums give what each application's record gives, to the last bit."""
    run, plan = _run(YIZHENG, keep_records=True)
    summary = summarise_run(run, plan)
    assert summary.records and len(summary.records) == len(run.t_end)  # records of every type, case types too
    assert sum(r["project_type"] in {f.id for f in plan.flows if f.kind == "approval"}
               for r in summary.records) == run.completed
    without, _ = _run(YIZHENG)
    assert summarise_run(without, plan).project_types == summary.project_types
    total = {c: 0.0 for c in COMPONENTS}
    for t in summary.project_types:
        sums = dict.fromkeys(COMPONENTS, 0.0)
        mine = [r for r in summary.records if r["project_type"] == t.project_type]
        for rec in mine:  # in order of finishing, as the engine adds them
            for c in COMPONENTS:
                sums[c] += rec[f"{c}_days"]
        assert dict(t.time_split) == {c: sums[c] / len(mine) for c in COMPONENTS}
        mean_lead = t.lead["working"].mean
        assert sum(t.time_split.values()) == pytest.approx(mean_lead, rel=1e-9)  # the parts add up
        if t.kind == "approval":
            for c in COMPONENTS:
                total[c] += t.time_split[c] * t.count
    for c in COMPONENTS:  # weighted by their counts, the project types give the pooled split
        assert total[c] / run.completed == pytest.approx(summary.time_split[c], rel=1e-9)


def test_summary_has_a_fixed_size() -> None:
    """Several times the applications, the same size: the arrays are gone."""
    short, plan = _run(TUTORIAL, horizon=100.0)
    long, _ = _run(TUTORIAL, horizon=750.0)
    assert long.completed > 5 * short.completed
    sizes = [len(pickle.dumps(summarise_run(r, plan))) for r in (short, long)]
    assert abs(sizes[1] - sizes[0]) < 0.05 * sizes[0], sizes


def test_empty_run() -> None:
    scenario = quick(load_scenario(TUTORIAL))
    doc = scenario.workload.project_types[0]
    empty = scenario.model_copy(update={"workload": scenario.workload.model_copy(update={
        "project_types": [doc.model_copy(update={"arrivals": doc.arrivals.model_copy(update={"rate": 1e-9})})]})})
    run = simulate(empty, "after")
    assert run.completed == 0
    summary = summarise_run(run, Runner(empty).setup(reform_scenario(empty).after).plan)
    (t,) = summary.project_types
    assert t.count == 0 and math.isnan(t.lead["working"].mean) and t.sketches["working"].count == 0
    assert math.isnan(summary.stats["lead_working_p90"])


def test_percentiles_are_numpys_to_the_last_bit() -> None:
    from orgsim.sim.summary import _percentiles

    rng = np.random.default_rng(11)
    for n in [*range(1, 40), 99, 100, 101, 1000, 10_001]:
        for values in (rng.exponential(20, n), np.round(rng.exponential(5, n)), np.full(n, 3.25)):
            want = np.percentile(values, PERCENTILES)
            np.testing.assert_array_equal(_percentiles(values, None), want)
            np.testing.assert_array_equal(_percentiles(values, np.sort(values)), want)


def test_summaries_compare_by_value_and_survive_pickling(yizheng_run) -> None:  # noqa: ANN001
    run, plan = yizheng_run
    summary = summarise_run(run, plan)
    assert summary.stats  # a cached property: it travels with the object, and equality ignores it
    copy = pickle.loads(pickle.dumps(summary))
    assert copy == summary and copy is not summary
    assert copy == summarise_run(run, plan)
    assert copy.project_types[0].sketches["working"] != summary.project_types[1].sketches["working"]
