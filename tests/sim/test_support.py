"""Support staff serve the officers: a shortfall is done by the officers, instead of cases.

A unit needs ``support_hours_per_case`` for each case at its officers and
``support_hours_per_officer_per_year`` for each frontline officer; its
support staff give 250 x hours_per_day hours a year each. Support capacity
beyond the need changes nothing; a shortfall takes officer time away from
cases (like a standing duty), so lead times rise.
"""

from __future__ import annotations

import numpy as np
import pytest

from orgsim.experiment import simulate, staffing_estimate
from orgsim.model import build_org
from orgsim.scenario.schema import Scenario
from orgsim.sim.estimate import estimate_plan
from orgsim.sim.plan import compile_plan
from factory import exp, fixed, network_scenario


def _desk(support: int, service=None, servers: int = 10, rate: float = 0.5, per_case: float = 0.0,
          per_officer: float = 100.0, **kw) -> Scenario:
    s = network_scenario([{"id": "a", "servers": servers, "service": service or fixed(1.0)}],
                         rate_per_day=rate, horizon=400, warmup=40, **kw)
    doc = s.model_dump(mode="json")
    doc["units"][1]["support"] = support
    doc["workload"]["support_work"] = {"hours_per_case": per_case, "hours_per_officer_per_year": per_officer}
    return Scenario.model_validate(doc)


def test_the_need_is_cases_and_officers_and_the_shortfall_falls_on_the_officers():
    # 10 officers x 100 h + 0.5 a day x 250 days x 2 h = 1,250 support hours a year;
    # no support staff: the officers give 1,250 of their 20,000 hours, so 9.375
    # officer-equivalents serve cases: 10 servers at 0.9375 pace.
    s = _desk(support=0, per_case=2.0)
    plan = compile_plan(build_org(s), s)
    support = plan.support["u_a"]
    assert support.cases_per_year == pytest.approx(125.0)
    assert support.need_hours_per_year == pytest.approx(1250.0)
    assert support.shortfall_hours_per_year == pytest.approx(1250.0) and support.needed == 1
    (pool,) = [p for p in plan.pools.values() if p.role == "officers"]
    assert (pool.servers, pool.availability) == (10, pytest.approx(0.9375))
    # Nobody waits (10 servers, 0.5 a day): every case takes 1 / 0.9375 days.
    run = simulate(s, "before")
    np.testing.assert_allclose(run.lead_working_days, 1 / 0.9375, rtol=1e-12)


def test_support_above_the_need_changes_nothing():
    a = simulate(_desk(support=1, service=exp(1.0), servers=2, rate=1.5), "before")
    b = simulate(_desk(support=7, service=exp(1.0), servers=2, rate=1.5), "before")
    np.testing.assert_array_equal(a.t_end, b.t_end)
    assert a.pools == b.pools


def test_support_below_the_need_raises_every_lead_time():
    # Common random numbers and first-come first-served: slower officers make
    # no application earlier, and the mean later.
    full = simulate(_desk(support=1, service=exp(1.0), servers=2, rate=1.5), "before")
    short = simulate(_desk(support=0, service=exp(1.0), servers=2, rate=1.5), "before")
    assert len(full.t_end) > 400
    order = np.argsort(full.t_start)
    assert np.array_equal(full.t_start[order], np.sort(short.t_start))
    lead_full = full.lead_working_days[order]
    lead_short = short.lead_working_days[np.argsort(short.t_start)]
    assert np.all(lead_short >= lead_full - 1e-12)
    assert lead_short.mean() > 1.05 * lead_full.mean()


def test_the_estimate_and_the_staffing_table_say_how_many_support_staff_are_needed():
    s = _desk(support=0, per_case=2.0, servers=10)
    plan = compile_plan(build_org(s), s)
    (support,) = estimate_plan(plan).support
    assert (support.unit, support.support_staff, support.support_needed) == ("u_a", 0, 1)
    assert support.shortfall_hours_per_year == pytest.approx(1250.0)
    assert staffing_estimate(plan, 0.85)["u_a"] == {"officers": 10, "needed": 1, "support": 0, "support_needed": 1}


def test_a_unit_gives_its_own_support_work():
    s = _desk(support=0, per_officer=100.0)
    doc = s.model_dump(mode="json")
    doc["units"][1]["support_hours_per_officer_per_year"] = 300.0
    doc["units"][1]["support_hours_per_case"] = 4.0
    s = Scenario.model_validate(doc)
    need = compile_plan(build_org(s), s).support["u_a"].need_hours_per_year
    assert need == pytest.approx(10 * 300.0 + 125 * 4.0)


def test_a_merged_unit_keeps_the_officer_weighted_support_work():
    from strategies import apply_checked, make_org

    org = make_org(
        [{"id": "z", "kind": "committee"}, {"id": "a", "kind": "bureau", "parent": "z",
                                             "support_hours_per_officer_per_year": 300.0},
         {"id": "b", "kind": "bureau", "parent": "z"}],
        [{"id": "fa", "owner": "a", "officers": 3}, {"id": "fb", "owner": "b", "officers": 1}],
    )
    org.graph.graph["support_work"] = (1.0, 100.0)
    new, _ = apply_checked(org, {"op": "merge", "units": ["a", "b"], "into": {"id": "ab", "name": "ab"}})
    assert new.support_work("ab") == pytest.approx((1.0, (3 * 300.0 + 1 * 100.0) / 4))
    # Without overrides the merged unit keeps the default.
    plain = make_org(
        [{"id": "z", "kind": "committee"}, {"id": "a", "kind": "bureau", "parent": "z"},
         {"id": "b", "kind": "bureau", "parent": "z"}],
        [{"id": "fa", "owner": "a", "officers": 3}, {"id": "fb", "owner": "b", "officers": 1}],
    )
    new, _ = apply_checked(plain, {"op": "merge", "units": ["a", "b"], "into": {"id": "ab", "name": "ab"}})
    assert new.graph.nodes["ab"].get("support_hours_per_officer_per_year") is None


def test_a_shortfall_larger_than_the_officers_is_a_clear_error():
    from orgsim.errors import SimulationError

    s = _desk(support=0, servers=1, per_officer=1900.0, per_case=20.0)
    with pytest.raises(SimulationError, match="support work its support staff cannot do"):
        compile_plan(build_org(s), s)
