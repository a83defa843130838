"""Enforcement cases: resolved by service, management or enforcement, taking officers' time.

Each way of resolving a flow of cases is a case type of its own (reported
per type, not pooled with the approvals); the comprehensive enforcement
bureau gathers the powers in one pooled bureau and may change the shares
(Yizheng's 721 method: 70% service, 20% management, 10% enforcement).
"""

from __future__ import annotations

import numpy as np
import pytest

from orgsim.experiment import run_state, simulate
from orgsim.model import build_org
from orgsim.reforms import reform_scenario
from orgsim.sim.estimate import estimate_plan
from orgsim.sim.plan import compile_plan
from factory import exp, fixed, network_scenario

HOURS = 8.0


def _cases(rate: float = 200.0, shares=(0.3, 0.3, 0.4), times=(2.0, 8.0, 40.0), per: str = "year") -> dict:
    """Safety problems: service 2 hours, management a day, enforcement five days (fixed)."""
    return {"id": "safety", "name": "安全生产问题", "function": "a", "rate": rate, "per": per,
            "resolution": {r: {"share": s, "time": {"dist": "deterministic", "value": h, "unit": "hours"}}
                           for r, s, h in zip(("service", "management", "enforcement"), shares, times, strict=True)}}


def _scenario(reforms=None, servers: int = 50, **kw):
    nodes = [{"id": "a", "servers": servers, "service": fixed(1.0), "signoff": 1,
              "leaders": {"chief": 50, "deputies": 0}}, {"id": "b", "servers": 50, "service": fixed(1.0)}]
    return network_scenario(nodes, rate_per_day=0.8, horizon=400, warmup=40, signoff_time=fixed(0.25),
                            enforcement_cases=[_cases(**kw)], reforms=reforms or [])


def test_each_resolution_is_a_case_type_measured_on_its_own():
    run = simulate(_scenario(), "before", keep_records=True)
    by_type = {}
    for r in run.records:
        by_type.setdefault(r["project_type"], []).append(r["lead_time_working_days"])
    assert set(by_type) == {"p", "safety.service", "safety.management", "safety.enforcement"}
    # Nobody waits: service 2 hours, management 1 day, enforcement 5 days plus its sign-off.
    np.testing.assert_allclose(by_type["safety.service"], 0.25, atol=1e-12)
    np.testing.assert_allclose(by_type["safety.management"], 1.0, atol=1e-12)
    np.testing.assert_allclose(by_type["safety.enforcement"], 5.25, atol=1e-12)
    # The pooled figures are the approvals': 1 + 0.25 + 1 days, the project type's count.
    assert run.completed == len(by_type["p"])
    assert run.summary()["lead_working_mean"] == pytest.approx(2.25)
    assert run.visits_per_application == 2


def test_the_shares_split_the_arrivals():
    state = run_state(_scenario(rate=1000.0), "before", replications=2)
    counts = {t: np.mean([r.project_type(t).count for r in state.runs])
              for t in ("safety.service", "safety.management", "safety.enforcement")}
    total = sum(counts.values())
    # 1,000 a year over a 360-day window: 1,440 cases a replication, 30/30/40 (3 sigma bounds).
    assert total == pytest.approx(1440, rel=0.05)
    assert counts["safety.enforcement"] / total == pytest.approx(0.4, abs=0.04)


def test_cases_take_the_officers_time_and_the_offered_load_counts_them():
    s = _scenario(servers=2)
    plan = compile_plan(build_org(s), s)
    per_day = 200 / 250
    work = per_day * (0.3 * 2 + 0.3 * 8 + 0.4 * 40) / HOURS + 0.8 * 1.0
    assert plan.offered_load()["u_a/a"] == pytest.approx(work / 2)
    # and the support work counts them as cases of the unit
    est = estimate_plan(plan)
    assert {f.id: f.kind for f in est.flows}["safety.enforcement"] == "enforcement"
    assert est.mean_lead_time_days == pytest.approx(
        next(f.mean_lead_time_days for f in est.flows if f.id == "p"))


def test_the_721_method_cuts_officer_time_and_lead_times():
    # 40% of cases by enforcement before; the bureau resolves 70% by service, 20% by management,
    # 10% by enforcement: officer time per case falls from 19.0 to 6.6 hours, and the approvals
    # queueing at the same (pooled) officers wait less.
    reform = [{"op": "enforcement_bureau", "functions": ["a"], "categories": [],
               "bureau": {"id": "eb", "name": "综合执法局"}, "leadership": {"chief": 50, "deputies": 0},
               "resolution": {"service": 0.7, "management": 0.2, "enforcement": 0.1}}]
    s = _scenario(reforms=reform, servers=4, rate=300.0)
    outcome = reform_scenario(s)
    (case,) = outcome.after.case_flows
    assert [share for share, _ in case.resolutions] == [0.7, 0.2, 0.1]
    before = compile_plan(outcome.before, s).offered_load()
    after = compile_plan(outcome.after, s).offered_load()
    assert after["eb:officers"] < before["u_a/a"]
    b, a = run_state(s, "before", replications=3), run_state(s, "after", replications=3)
    assert a.lead_time()["mean"] < b.lead_time()["mean"]


def test_enforcement_cases_need_a_staffed_power():
    from orgsim.errors import ScenarioError

    with pytest.raises(ScenarioError) as info:
        network_scenario([{"id": "a", "servers": 1, "service": exp(1.0)}], rate_per_day=0.1,
                         enforcement_cases=[{**_cases(), "function": "ghost"}])
    assert [p.message for p in info.value.problems] == ["unknown function 'ghost'"]


def test_enforcement_cases_count_in_the_resource_budget_which_points_at_them():
    """Cases take the engine's memory like applications: a flow of them too large to run is refused, located."""
    from orgsim.budget import estimate_memory
    from orgsim.errors import ScenarioError

    few, more = _scenario(rate=200.0), _scenario(rate=1000.0)
    # 800 more cases a year over the 400-day horizon (250 working days a year), one step each
    assert estimate_memory(more).applications - estimate_memory(few).applications == pytest.approx(800 * 400 / 250)
    with pytest.raises(ScenarioError) as caught:
        _scenario(rate=1e5, per="day")  # 40 million cases a replication: about 5 GiB, over the 4 GiB budget
    (problem,) = caught.value.problems
    assert problem.path == "workload.enforcement_cases[0]" and "the limit is 4.0 GiB" in problem.message
