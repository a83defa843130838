"""Deterministic cases checked exactly, and reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

from orgsim.experiment import compare, simulate
from factory import exp, fixed, network_scenario


def _records(scenario, **kw):
    return simulate(scenario, "before", keep_records=True, **kw)


def test_serial_path_without_queueing_is_the_sum_of_its_times():
    # Plenty of officers and leaders: nobody ever waits, so every lead time is
    # 1 + 2 + 0.5 (service) + 3 x 0.25 (one sign-off each) + 2 x 0.5 (hand-offs).
    nodes = [
        {"id": "a", "servers": 50, "service": fixed(1.0), "signoff": 1, "leaders": {"chief": 50, "deputies": 0}},
        {"id": "b", "servers": 50, "service": fixed(2.0), "signoff": 1, "leaders": {"chief": 50, "deputies": 0}},
        {"id": "c", "servers": 50, "service": fixed(0.5), "signoff": 1, "leaders": {"chief": 50, "deputies": 0}},
    ]
    s = network_scenario(nodes, rate_per_day=1.0, horizon=300, warmup=20, signoff_time=fixed(0.25),
                         handoff={"between_units": fixed(0.5)})
    run = _records(s)
    assert run.completed > 200
    np.testing.assert_allclose(run.lead_working_days, 1 + 2 + 0.5 + 0.75 + 1.0, rtol=0, atol=1e-9)
    split = run.component_days
    assert split["waiting"] == pytest.approx(0.0, abs=1e-12)
    assert split["processing"] == pytest.approx(3.5)
    assert split["signoff"] == pytest.approx(0.75)
    assert split["handoff"] == pytest.approx(1.0)
    assert run.handoffs_per_application == 2


def test_parallel_branches_take_the_longest():
    # filing, then a (3 days) and b (5 days) in parallel, then c (1 day): 1 + 5 + 1.
    nodes = [
        {"id": "f", "servers": 50, "service": fixed(1.0)},
        {"id": "a", "servers": 50, "service": fixed(3.0)},
        {"id": "b", "servers": 50, "service": fixed(5.0)},
        {"id": "c", "servers": 50, "service": fixed(1.0)},
    ]
    steps = [
        {"id": "f", "function": "f"},
        {"id": "a", "function": "a", "after": ["f"]},
        {"id": "b", "function": "b", "after": ["f"]},
        {"id": "c", "function": "c", "after": ["a", "b"]},
    ]
    run = _records(network_scenario(nodes, rate_per_day=1.0, steps=steps, horizon=200, warmup=10))
    np.testing.assert_allclose(run.lead_working_days, 7.0, atol=1e-9)
    # The critical path goes through b: processing 1 + 5 + 1.
    assert run.component_days["processing"] == pytest.approx(7.0)


def test_availability_stretches_service():
    # 20% of officers' time goes to non-case duties: a 4-day case takes 5 days.
    nodes = [{"id": "a", "servers": 50, "service": fixed(4.0)}]
    s = network_scenario(nodes, rate_per_day=0.5, horizon=200, warmup=10)
    doc = s.model_dump(mode="json")
    doc["units"][1]["non_case_share"] = 0.2
    from orgsim.scenario.schema import Scenario

    run = _records(Scenario.model_validate(doc))
    np.testing.assert_allclose(run.lead_working_days, 5.0, atol=1e-9)


def test_empty_reform_list_gives_exactly_zero_difference():
    nodes = [{"id": "a", "servers": 2, "service": exp(1.0), "rework": 0.2},
             {"id": "b", "servers": 1, "service": exp(0.5)}]
    s = network_scenario(nodes, rate_per_day=1.2, horizon=400, warmup=50, replications=3,
                         resubmission_delay=exp(2.0))
    c = compare(s)
    d = c.to_dict()["difference"]["lead_time_working_days"]
    assert d["mean"]["mean"] == 0.0
    assert d["p90"]["mean"] == 0.0
    frame = c.to_frame()
    before = frame[frame.state == "before"].drop(columns="state").reset_index(drop=True)
    after = frame[frame.state == "after"].drop(columns="state").reset_index(drop=True)
    assert before.equals(after)


def test_same_seed_same_results_other_seed_different():
    nodes = [{"id": "a", "servers": 2, "service": exp(1.0), "rework": 0.1}]
    s = network_scenario(nodes, rate_per_day=1.5, horizon=300, warmup=30, resubmission_delay=exp(1.0))
    one = _records(s, seed=7)
    two = _records(s, seed=7)
    other = _records(s, seed=8)
    assert one.records == two.records
    assert np.array_equal(one.lead_working_days, two.lead_working_days)
    assert not np.array_equal(one.lead_working_days[:50], other.lead_working_days[:50])


def test_unchanged_steps_keep_their_draws_under_reform():
    # Common random numbers: merging two later bureaus must not change what the
    # first step's applicants draw, so the first step's times are identical.
    nodes = [{"id": "a", "servers": 50, "service": exp(1.0)},
             {"id": "b", "servers": 50, "service": exp(1.0)},
             {"id": "c", "servers": 50, "service": exp(1.0)}]
    reforms = [{"op": "merge", "units": ["u_b", "u_c"], "into": {"id": "u_bc", "name": "合并局"}, "pooled": False}]
    s = network_scenario(nodes, rate_per_day=1.0, horizon=200, warmup=0.0 + 10, reforms=reforms)
    before = simulate(s, "before", keep_records=True)
    after = simulate(s, "after", keep_records=True)
    # Nobody waits (50 officers), so lead times are sums of the same draws.
    np.testing.assert_allclose(np.sort(before.lead_working_days), np.sort(after.lead_working_days))


def test_time_split_adds_up_to_the_lead_time():
    # Queueing, rework, sign-off and hand-offs all present, with parallel branches.
    nodes = [{"id": "f", "servers": 1, "service": exp(0.5), "signoff": 1},
             {"id": "a", "servers": 1, "service": exp(0.7), "rework": 0.3, "signoff": 2,
              "leaders": {"chief": 1, "deputies": 1}},
             {"id": "b", "servers": 2, "service": exp(1.5)}]
    steps = [{"id": "f", "function": "f"}, {"id": "a", "function": "a", "after": ["f"]},
             {"id": "b", "function": "b", "after": ["f"]}]
    s = network_scenario(nodes, rate_per_day=0.8, steps=steps, horizon=800, warmup=80,
                         signoff_time=exp(0.1), resubmission_delay=exp(1.0),
                         handoff={"between_units": exp(0.3)})
    run = simulate(s, "before")
    assert sum(run.component_days.values()) == pytest.approx(run.lead_working_days.mean(), rel=1e-9)
    assert run.component_days["rework"] > 0 and run.component_days["waiting"] > 0
