"""cap_headcount: posts capped (员额); leaders never cut here."""

from __future__ import annotations

import pytest

from orgsim.model import org as o
from strategies import apply_checked, graph_dump, make_org, rejection


def _org():
    """Zone headcount 25 (4 leaders, 10 support, 11 officers) plus a sub-district outside it."""
    return make_org(
        [
            {"id": "z", "kind": "committee", "support": 4},
            {"id": "a", "kind": "bureau", "parent": "z", "leaders": {"chief": 1, "deputies": 1}, "support": 6},
            {"id": "b", "kind": "bureau", "parent": "z"},
            {"id": "s", "kind": "sub_district", "parent": "z", "jurisdiction": "district", "support": 3},
        ],
        [
            {"id": "fa1", "owner": "a", "officers": 4, "service_time": True},
            {"id": "fa2", "owner": "a", "officers": 6, "category": "investment_attraction"},
            {"id": "fb", "owner": "b", "officers": 1, "service_time": True},
            {"id": "g", "owner": "s", "officers": 2, "category": "social_affairs"},
        ],
        [{"id": "t", "steps": [{"id": "x", "function": "fa1"}, {"id": "y", "function": "fb", "after": ["x"]}]}],
    )


def _staff(org):
    return (
        {u: org.attr(u, o.SUPPORT) for u in ("z", "a", "b", "s")},
        {f: org.attr(f, o.OFFICERS) for f in ("fa1", "fa2", "fb", "g")},
    )


@pytest.mark.parametrize("policy, support, officers", [
    # support first: 5 support posts shared 4:6 over z and a
    ("support_first", {"z": 2, "a": 3, "b": 0, "s": 3}, {"fa1": 4, "fa2": 6, "fb": 1, "g": 2}),
    # frontline first: 5 officers shared 3:6 over what fa1 (keeps 1) and fa2 can lose; fb keeps its only one
    ("frontline_first", {"z": 4, "a": 6, "b": 0, "s": 3}, {"fa1": 2, "fa2": 3, "fb": 1, "g": 2}),
    # proportional: 5 cuts shared 10:9 (3 support, 2 officers), then as above within each
    ("proportional", {"z": 3, "a": 4, "b": 0, "s": 3}, {"fa1": 3, "fa2": 5, "fb": 1, "g": 2}),
])
def test_policies_hit_the_cap_exactly(policy, support, officers):
    org = _org()
    assert org.zone_headcount() == 25
    new, _ = apply_checked(org, {"op": "cap_headcount", "within": "z", "cap": 20, "policy": policy})
    assert new.zone_headcount() == 20
    assert _staff(new) == (support, officers)
    assert [new.leaders(u) for u in ("z", "a", "b")] == [1, 2, 1]
    cut_support = sum(_staff(org)[0].values()) - sum(support.values())
    assert new.ledger.released == {k: v for k, v in
                                   {"support": cut_support, "frontline": 5 - cut_support}.items() if v}


def test_the_lowest_cap_keeps_leaders_and_one_officer_per_case_function():
    new, _ = apply_checked(_org(), {"op": "cap_headcount", "within": "z", "cap": 6, "policy": "proportional"})
    assert new.zone_headcount() == 6
    assert _staff(new) == ({"z": 0, "a": 0, "b": 0, "s": 3}, {"fa1": 1, "fa2": 0, "fb": 1, "g": 2})
    message = rejection(_org(), {"op": "cap_headcount", "within": "z", "cap": 5})
    assert ("cap 5 for 'z' cannot be met: 4 leaders and one officer per case function "
            "leave at least 6 posts") in message


def test_a_subtree_cap_touches_only_the_subtree():
    new, _ = apply_checked(_org(), {"op": "cap_headcount", "within": "a", "cap": 10})
    assert _staff(new) == ({"z": 4, "a": 0, "b": 0, "s": 3}, {"fa1": 3, "fa2": 5, "fb": 1, "g": 2})
    assert new.headcount("a") == 10


@pytest.mark.parametrize("cap", [25, 40])
def test_a_cap_already_met_changes_nothing(cap):
    org = _org()
    new, changes = apply_checked(org, {"op": "cap_headcount", "within": "z", "cap": cap})
    assert graph_dump(new) == graph_dump(org)
    assert [c.action for c in changes] == ["no_change"]
    assert "already within cap" in changes[0].note


def test_a_pooled_unit_keeps_one_officer_for_cases_served_from_its_pool():
    org = make_org(
        [{"id": "z", "kind": "committee"},
         {"id": "a", "kind": "bureau", "parent": "z", "pooled": True, "support": 1}],
        [{"id": "cases", "owner": "a", "officers": 0, "service_time": True},
         {"id": "duty", "owner": "a", "officers": 3, "category": "penalty"}],
        [{"id": "t", "steps": [{"id": "x", "function": "cases"}]}],
    )
    for policy in ("frontline_first", "proportional", "support_first"):
        new, _ = apply_checked(org, {"op": "cap_headcount", "within": "z", "cap": 3, "policy": policy})
        assert new.frontline("a") == 1 and new.zone_headcount() == 3
    assert "leave at least 3 posts" in rejection(org, {"op": "cap_headcount", "within": "z", "cap": 2})


def test_tutorial_cap(tutorial):
    new, _ = apply_checked(tutorial, {"op": "cap_headcount", "within": "committee", "cap": 60})
    assert new.zone_headcount() == 60
    # 27 cuts: all 25 support posts first, then 2 officers
    assert new.ledger.released == {"support": 25, "frontline": 2}


def test_unknown_root_is_named():
    assert "within unit 'ghost' does not exist" in rejection(
        _org(), {"op": "cap_headcount", "within": "ghost", "cap": 1}
    )


def test_cap_over_several_roots_counts_them_together():
    # Two zones capped together: the cap applies to their sum, cuts shared by size.
    import yaml

    from orgsim.reforms import reform_scenario
    from orgsim.model import structure_metrics
    from orgsim.scenario import parse_scenario

    doc = {
        "scenario": {"name": "two zones"},
        "units": [
            {"id": "za", "name": "甲区", "kind": "committee", "support": 10},
            {"id": "zb", "name": "乙区", "kind": "committee", "support": 30},
        ],
        "reforms": [{"op": "cap_headcount", "within": ["za", "zb"], "cap": 22}],
    }
    outcome = reform_scenario(parse_scenario(yaml.safe_dump(doc, allow_unicode=True)))
    assert structure_metrics(outcome.after).headcount == 22
    g = outcome.after.graph
    # 20 support posts go, in proportion 10:30.
    assert (g.nodes["za"]["support"], g.nodes["zb"]["support"]) == (5, 15)
