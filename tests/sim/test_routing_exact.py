"""Steps not every application needs, and files sent back to earlier steps: checked exactly.

Fixed service and hand-off times and plenty of officers make every lead
time computable by hand from the records (which steps each application
did, how often it was sent back).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from orgsim.experiment import simulate
from orgsim.scenario.schema import Scenario
from factory import fixed, network_scenario

PLENTY = 200  # officers per desk: nobody waits


def _desk(node: str, days: float, **kw) -> dict:
    return {"id": node, "servers": PLENTY, "service": fixed(days), **kw}


def _run(scenario: Scenario, **kw):
    return simulate(scenario, "before", keep_records=True, **kw)


def _same_unit(scenario: Scenario, functions: list[str], unit: str) -> Scenario:
    """``scenario`` with ``functions`` performed by ``unit`` (so hand-offs between them are within one unit)."""
    doc = scenario.model_dump(mode="json")
    for f in doc["functions"]:
        if f["id"] in functions:
            f["owner"] = unit
    return Scenario.model_validate(doc)


def test_a_skipped_step_costs_nothing_and_the_file_pays_one_hand_off():
    # a (1 day) -> b (2 days, never needed) -> c (0.5 day); a and c in one unit, b in another.
    # Without b the file goes from a to c within a unit: 1 + 0.25 + 0.5 (one hand-off), not
    # a -> b -> c across units (two hand-offs of 1 day each).
    nodes = [_desk("a", 1.0), _desk("b", 2.0), _desk("c", 0.5)]
    steps = [{"id": "a", "function": "a"}, {"id": "b", "function": "b", "after": ["a"], "probability": 0.0},
             {"id": "c", "function": "c", "after": ["b"]}]
    s = network_scenario(nodes, steps=steps, rate_per_day=1.0, horizon=200, warmup=20,
                         handoff={"within_unit": fixed(0.25), "between_units": fixed(1.0)})
    s = _same_unit(s, ["a", "c"], "u_a")
    run = _run(s)
    assert run.completed > 150
    np.testing.assert_allclose(run.lead_working_days, 1.75, rtol=0, atol=1e-9)
    assert run.handoffs_per_application == 1 and run.visits_per_application == 2
    assert run.component_days["handoff"] == pytest.approx(0.25)
    # Needed by all, the same path costs its two cross-unit hand-offs and b's time.
    steps[1]["probability"] = 1.0
    full = _run(_same_unit(network_scenario(nodes, steps=steps, rate_per_day=1.0, horizon=200, warmup=20,
                                            handoff={"within_unit": fixed(0.25), "between_units": fixed(1.0)}),
                           ["a", "c"], "u_a"))
    np.testing.assert_allclose(full.lead_working_days, 1 + 1 + 2 + 1 + 0.5, atol=1e-9)


def test_a_skipped_branch_joins_like_a_finished_one():
    # a, then b (3 days, half the applications) and c (1 day) in parallel, then d (1 day).
    nodes = [_desk(x, d) for x, d in (("a", 1.0), ("b", 3.0), ("c", 1.0), ("d", 1.0))]
    steps = [{"id": "a", "function": "a"},
             {"id": "b", "function": "b", "after": ["a"], "probability": 0.5},
             {"id": "c", "function": "c", "after": ["a"]},
             {"id": "d", "function": "d", "after": ["b", "c"]}]
    run = _run(network_scenario(nodes, steps=steps, rate_per_day=1.0, horizon=400, warmup=20))
    lead = np.array([r["lead_time_working_days"] for r in run.records])
    visits = np.array([r["visits"] for r in run.records])
    # With b: 1 + 3 + 1 = 5 days, 4 visits; without: 1 + 1 + 1 = 3 days, 3 visits.
    np.testing.assert_allclose(lead[visits == 4], 5.0, atol=1e-9)
    np.testing.assert_allclose(lead[visits == 3], 3.0, atol=1e-9)
    assert set(visits) == {3, 4}


def test_a_step_needed_with_probability_p_is_visited_p_of_the_time():
    # A binomial check: the share of applications that visit the step lies in a
    # 99.9% interval around p (Clopper-Pearson), and the interval is narrow.
    p = 0.3
    nodes = [_desk("a", 0.5), _desk("b", 0.5)]
    steps = [{"id": "a", "function": "a"}, {"id": "b", "function": "b", "after": ["a"], "probability": p}]
    run = _run(network_scenario(nodes, steps=steps, rate_per_day=4.0, horizon=1000, warmup=10, seed=3))
    n = len(run.records)
    k = sum(1 for r in run.records if r["visits"] == 2)
    low, high = stats.binomtest(k, n).proportion_ci(confidence_level=0.999)
    assert high - low < 0.05 and low <= p <= high, (k, n, low, high)


def test_steps_with_one_attribute_go_together():
    # Two reviews needed by heavy-industry projects only (30%): each application
    # does both or neither, never one.
    nodes = [_desk("a", 1.0), _desk("eia", 1.0), _desk("water", 1.0)]
    steps = [{"id": "a", "function": "a"},
             {"id": "eia", "function": "eia", "after": ["a"], "when": "heavy"},
             {"id": "water", "function": "water", "after": ["a"], "when": "heavy"}]
    run = _run(network_scenario(nodes, steps=steps, rate_per_day=3.0, horizon=600, warmup=10,
                                attributes={"heavy": 0.3}))
    visits = np.array([r["visits"] for r in run.records])
    assert set(visits) == {1, 3}
    low, high = stats.binomtest(int((visits == 3).sum()), len(visits)).proportion_ci(confidence_level=0.999)
    assert low <= 0.3 <= high


def test_an_application_that_needs_no_step_is_done_on_arrival():
    nodes = [_desk("a", 1.0)]
    steps = [{"id": "a", "function": "a", "probability": 0.0}]
    run = _run(network_scenario(nodes, steps=steps, rate_per_day=1.0, horizon=100, warmup=10))
    assert run.completed > 50
    assert np.all(run.lead_working_days == 0.0) and run.visits_per_application == 0


def test_a_file_sent_back_to_an_earlier_step_comes_forward_again():
    # intake (1 day) -> review (2 days; sends half the files back to intake) ->
    # decision (0.5 day); hand-offs 0.25 day; the applicant takes 3 days. An
    # application sent back n times takes 1 + 0.25 + 2 + n (3 + 1 + 0.25 + 2)
    # + 0.25 + 0.5 and makes 2 (n + 1) + 1 visits.
    nodes = [_desk("intake", 1.0), _desk("review", 2.0, rework=0.5), _desk("decision", 0.5)]
    steps = [{"id": "intake", "function": "intake"},
             {"id": "review", "function": "review", "after": ["intake"], "rework_to": "intake"},
             {"id": "decision", "function": "decision", "after": ["review"]}]
    run = _run(network_scenario(nodes, steps=steps, rate_per_day=1.0, horizon=400, warmup=20,
                                resubmission_delay=fixed(3.0), handoff={"between_units": fixed(0.25)}))
    backs = set()
    for r in run.records:
        n = (r["visits"] - 3) // 2
        assert r["visits"] == 2 * n + 3
        assert r["lead_time_working_days"] == pytest.approx(4.0 + n * 6.25, abs=1e-9)
        assert r["rework_days"] == pytest.approx(3.0 * n, abs=1e-9)
        assert r["handoffs"] == 2 + n  # intake -> review again each time; review -> decision once
        parts = sum(r[f"{c}_days"] for c in ("waiting", "processing", "signoff", "handoff", "rework"))
        assert parts == pytest.approx(r["lead_time_working_days"], abs=1e-9)
        backs.add(n)
    assert {0, 1, 2} <= backs


def test_a_step_on_another_branch_is_not_done_again():
    # intake -> (design -> review) and intake -> fee; review sends files back to
    # intake: intake, design and review are done again, fee is not.
    nodes = [_desk(x, 1.0) for x in ("intake", "design", "fee")] + [_desk("review", 1.0, rework=0.4)]
    steps = [{"id": "intake", "function": "intake"},
             {"id": "design", "function": "design", "after": ["intake"]},
             {"id": "review", "function": "review", "after": ["design"], "rework_to": "intake"},
             {"id": "fee", "function": "fee", "after": ["intake"]}]
    run = _run(network_scenario(nodes, steps=steps, rate_per_day=1.0, horizon=300, warmup=20,
                                resubmission_delay=fixed(2.0)))
    for r in run.records:
        n = (r["visits"] - 4) // 3  # each return: intake, design and review again
        assert r["visits"] == 4 + 3 * n
        assert r["lead_time_working_days"] == pytest.approx(3.0 + n * 5.0, abs=1e-9)


def test_rework_to_a_step_that_is_not_earlier_is_refused():
    from orgsim.errors import ScenarioError

    nodes = [_desk("a", 1.0), _desk("b", 1.0), _desk("c", 1.0)]
    steps = [{"id": "a", "function": "a"}, {"id": "b", "function": "b", "after": ["a"]},
             {"id": "c", "function": "c", "after": ["a"], "rework_to": "b"}]
    with pytest.raises(ScenarioError) as info:
        network_scenario(nodes, steps=steps, rate_per_day=1.0)
    (problem,) = info.value.problems
    assert problem.path == "workload.project_types[0].steps[2].rework_to"
    assert problem.message.startswith("step 'b' does not come before 'c' on the path")


def test_jackson_target_of_the_issue_by_estimate():
    # intake 2 servers mu 3/day, review 2 servers mu 1.5/day, decision 1 server
    # mu 4/day, 25% of reviews back to intake, 1.5 arrivals a day: E[T] = 2.5.
    from orgsim.model import build_org
    from orgsim.sim.estimate import estimate_plan
    from orgsim.sim.plan import compile_plan

    s = jackson_scenario(replications=2)
    est = estimate_plan(compile_plan(build_org(s), s))
    assert est.mean_lead_time_days == pytest.approx(2.5, abs=1e-9)
    assert all(f.exact for f in est.flows)


def jackson_scenario(replications: int, horizon: float = 3000.0, seed: int = 2025) -> Scenario:
    from factory import exp

    nodes = [{"id": "intake", "servers": 2, "service": exp(1 / 3)},
             {"id": "review", "servers": 2, "service": exp(1 / 1.5), "rework": 0.25},
             {"id": "decision", "servers": 1, "service": exp(1 / 4)}]
    steps = [{"id": "intake", "function": "intake"},
             {"id": "review", "function": "review", "after": ["intake"], "rework_to": "intake"},
             {"id": "decision", "function": "decision", "after": ["review"]}]
    return network_scenario(nodes, steps=steps, rate_per_day=1.5, horizon=horizon, warmup=300,
                            replications=replications, seed=seed)


def test_estimate_with_branch_probabilities_is_the_weighted_sum_on_a_serial_path():
    # M/M/1 desks in series; b needed by 40%: E[T] = T_a + 0.4 T_b + T_c with b's
    # arrival rate 0.4 lambda (each desk's sojourn from Erlang C).
    from orgsim.model import build_org
    from orgsim.sim.estimate import estimate_plan
    from orgsim.sim.plan import compile_plan
    from orgsim.theory import mmc_sojourn
    from factory import exp

    nodes = [{"id": x, "servers": 1, "service": exp(0.5)} for x in ("a", "b", "c")]
    steps = [{"id": "a", "function": "a"}, {"id": "b", "function": "b", "after": ["a"], "probability": 0.4},
             {"id": "c", "function": "c", "after": ["b"]}]
    s = network_scenario(nodes, steps=steps, rate_per_day=1.2, handoff={"between_units": fixed(1.0)})
    est = estimate_plan(compile_plan(build_org(s), s))
    # Hand-offs: a -> b -> c (two) for 40%, a -> c (one) for 60%.
    exact = (mmc_sojourn(1.2, 2, 1) + 0.4 * mmc_sojourn(0.48, 2, 1) + mmc_sojourn(1.2, 2, 1)
             + 0.4 * 2 + 0.6 * 1)
    assert est.mean_lead_time_days == pytest.approx(exact, rel=1e-12)
    assert math.isclose({p.key: p.arrival_rate_per_day for p in est.pools}["u_b/b"], 0.48)
