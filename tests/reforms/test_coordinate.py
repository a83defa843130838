"""coordinate (功能区吹哨、部门报到; 直通车): hand-offs between named units or jurisdictions set or scaled."""

from __future__ import annotations

import numpy as np
import pytest

from orgsim.experiment import simulate
from orgsim.reforms import reform_scenario
from orgsim.sim.plan import compile_plan
from strategies import apply_checked
from factory import exp, fixed, network_scenario


def _zone_and_city(reforms=None, **kw):
    # zone bureau a (1 day) -> city department c (1 day) -> zone bureau b (1 day); a hand-off
    # between the zone and the city takes 4 days, between zone bureaus 1 day.
    nodes = [{"id": x, "servers": 100, "service": fixed(1.0)} for x in ("a", "c", "b")]
    return network_scenario(nodes, rate_per_day=1.0, horizon=200, warmup=20, jurisdictions={"c": "city"},
                            handoff={"between_units": fixed(1.0), "between_jurisdictions": fixed(4.0)},
                            reforms=reforms or [], **kw)


def test_the_whistle_halves_the_hand_offs_between_the_zone_and_the_city():
    s = _zone_and_city([{"op": "coordinate", "label": "功能区吹哨、部门报到",
                         "between": [{"jurisdictions": ["zone"]}, {"jurisdictions": ["city"]}], "factor": 0.5}])
    before, after = simulate(s, "before"), simulate(s, "after")
    np.testing.assert_allclose(before.lead_working_days, 3 + 4 + 4, atol=1e-9)
    np.testing.assert_allclose(after.lead_working_days, 3 + 2 + 2, atol=1e-9)


def test_a_direct_line_one_way_sets_a_new_delay():
    s = _zone_and_city([{"op": "coordinate", "between": [{"units": ["committee"]}, {"units": ["u_c"]}],
                         "handoff": fixed(0.5), "both_ways": False}])
    after = simulate(s, "after")
    # Only zone -> city (a -> c) is on the direct line; c -> b keeps its 4 days.
    np.testing.assert_allclose(after.lead_working_days, 3 + 0.5 + 4, atol=1e-9)


def test_a_factor_scales_the_same_random_draws():
    nodes = [{"id": x, "servers": 100, "service": fixed(1.0)} for x in ("a", "c")]
    s = network_scenario(nodes, rate_per_day=1.0, horizon=200, warmup=20, jurisdictions={"c": "city"},
                         handoff={"between_jurisdictions": exp(3.0)},
                         reforms=[{"op": "coordinate", "between": [{"jurisdictions": ["zone"]},
                                                                   {"jurisdictions": ["city"]}], "factor": 0.25}])
    before, after = simulate(s, "before", keep_records=True), simulate(s, "after", keep_records=True)
    by_applicant = [{r["applicant"]: r["handoff_days"] for r in run.records} for run in (before, after)]
    assert by_applicant[0].keys() == by_applicant[1].keys()
    hand_before = np.array([by_applicant[0][k] for k in sorted(by_applicant[0])])
    hand_after = np.array([by_applicant[1][k] for k in sorted(by_applicant[0])])
    assert len(hand_before) > 100
    np.testing.assert_allclose(hand_after, 0.25 * hand_before, rtol=1e-12)  # common random numbers


def test_merged_units_stay_covered_and_later_rules_apply_in_order(tutorial):
    org, _ = apply_checked(tutorial, {"op": "coordinate", "between": [{"units": ["land"]}, {"units": ["planning"]}],
                                      "factor": 0.5})
    org, _ = apply_checked(org, {"op": "coordinate", "between": [{"units": ["land"]}, {"units": ["planning"]}],
                                 "factor": 0.5})
    (rule, _) = org.handoff_rules
    assert rule.applies(org, "land", "planning") and rule.applies(org, "planning", "land")
    assert not rule.applies(org, "land", "environment")
    merged, _ = apply_checked(org, {"op": "merge", "units": ["land", "construction"],
                                    "into": {"id": "lc", "name": "国土建设局"}})
    assert rule.applies(merged, "lc", "planning")  # lc came from land


def test_the_change_log_says_which_paths_cross(tutorial):
    _, changes = apply_checked(tutorial, {"op": "coordinate",
                                          "between": [{"jurisdictions": ["zone"]}, {"jurisdictions": ["city"]}],
                                          "factor": 0.4})
    (change,) = changes
    assert change.action == "handoff_changed" and change.subject == "zone and city"
    assert change.note == "hand-offs x0.4 both ways; paths crossing now: industrial"


def test_the_plan_scales_only_the_pairs_between_the_sides():
    s = _zone_and_city([{"op": "coordinate", "between": [{"units": ["u_a"]}, {"units": ["u_c"]}], "factor": 0.5}])
    plan = compile_plan(reform_scenario(s).after, s)
    (flow,) = plan.flows
    assert {pair: (h.kind, h.factor) for pair, h in flow.handoffs.items()} == {
        (0, 1): ("between_jurisdictions", 0.5), (1, 2): ("between_jurisdictions", 1.0)}


def test_unknown_units_are_refused(tutorial):
    from strategies import rejection

    assert "unit 'ghost' does not exist" in rejection(
        tutorial, {"op": "coordinate", "between": [{"units": ["ghost"]}, {"jurisdictions": ["city"]}], "factor": 0.5})


def test_exactly_one_of_factor_and_handoff():
    from pydantic import ValidationError

    from strategies import spec

    with pytest.raises(ValidationError, match="exactly one of 'factor'"):
        spec({"op": "coordinate", "between": [{"jurisdictions": ["zone"]}, {"jurisdictions": ["city"]}]})
    with pytest.raises(ValidationError, match="give 'units' or 'jurisdictions'"):
        spec({"op": "coordinate", "between": [{}, {"jurisdictions": ["city"]}], "factor": 0.5})
