"""Every operator returns a new organisation and leaves its input as it was."""

from __future__ import annotations

import pytest

from orgsim.reforms import OPERATORS
from strategies import graph_dump, org_dump, spec

SPECS = {
    "merge": {"op": "merge", "units": ["land", "planning"], "into": {"id": "land", "name": "国土规划局"}},
    "merge_zones": {"op": "merge_zones", "units": ["committee", "subdistrict"], "into": {"id": "z", "name": "z"}},
    "strip": {"op": "strip", "categories": ["social_affairs"], "to": "subdistrict"},
    "devolve": {"op": "devolve", "functions": ["construction_permit"], "to": "construction", "officers": 1},
    "flatten": {"op": "flatten", "units": ["environment"]},
    "one_stop": {"op": "one_stop", "functions": ["eia", "land_supply"], "bureau": {"id": "ab", "name": "ab"},
                 "intake": "project_filing"},
    "parallelize": {"op": "parallelize", "steps": ["planning", "environment"]},
    "merge_steps": {"op": "merge_steps", "steps": ["planning", "environment"], "into": "review"},
    "agency_service": {"op": "agency_service"},
    "spin_off": {"op": "spin_off", "functions": ["investment"], "company": {"id": "co", "name": "co"}},
    "cap_headcount": {"op": "cap_headcount", "within": "committee", "cap": 50, "policy": "proportional"},
    "set_leadership": {"op": "set_leadership", "kinds": ["bureau"], "deputies": 1},
    "coordinate": {"op": "coordinate", "between": [{"units": ["committee"]}, {"jurisdictions": ["city"]}],
                   "factor": 0.5},
    "one_window": {"op": "one_window", "window": {"id": "w", "name": "政务服务窗口"},
                   "intake": {"id": "acceptance", "name": "综合受理", "officers": 2,
                              "service_time": {"dist": "exponential", "mean": 30, "unit": "minutes"}}},
    "enforcement_bureau": {"op": "enforcement_bureau", "within": "committee",
                           "bureau": {"id": "eb", "name": "综合执法局"},
                           "resolution": {"service": 0.7, "management": 0.2, "enforcement": 0.1}},
}


def test_every_operator_is_covered():
    assert sorted(SPECS) == sorted(OPERATORS)


@pytest.mark.parametrize("op", sorted(SPECS))
def test_input_is_untouched(tutorial, op):
    before = org_dump(tutorial)
    flows, ledger = tutorial.flows, tutorial.ledger
    new, changes = OPERATORS[op](tutorial, spec(SPECS[op]))
    assert org_dump(tutorial) == before
    assert tutorial.flows is flows and tutorial.ledger is ledger
    # not vacuous: the operator did change something, in a graph of its own
    assert new is not tutorial and new.graph is not tutorial.graph
    assert org_dump(new) != before
    assert changes and all(c.op == op for c in changes)
    # and changing the result does not reach back either
    new.graph.nodes["economy"]["support"] = -99
    assert graph_dump(tutorial) == before[0]
