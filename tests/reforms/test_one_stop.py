"""one_stop: the one-stop approval bureau (行政审批局, 只需跑一处)."""

from __future__ import annotations

from orgsim.model import org as o
from strategies import apply_checked, make_org, rejection

BUREAU = {"id": "approvals", "name": "行政审批局"}


def _org():
    return make_org(
        [
            {"id": "z", "kind": "committee"},
            {"id": "b1", "kind": "bureau", "parent": "z"},
            {"id": "b2", "kind": "bureau", "parent": "z"},
            {"id": "office", "kind": "office", "parent": "z"},
            {"id": "c", "kind": "city_department", "jurisdiction": "city"},
        ],
        [
            {"id": "a1", "owner": "b1", "officers": 2, "service_time": True},
            {"id": "a2", "owner": "b2", "officers": 3, "service_time": True},
            {"id": "other", "owner": "b2", "officers": 1, "category": "penalty"},
            {"id": "reception", "owner": "office", "officers": 2, "service_time": True, "category": "service"},
            {"id": "cp", "owner": "c", "officers": 1, "service_time": True},
        ],
        [
            {"id": "t", "steps": [{"id": "s1", "function": "a1"}, {"id": "s2", "function": "a2", "after": ["s1"]}]},
            {"id": "u", "steps": [{"id": "x", "function": "cp"}]},
            {"id": "v", "steps": [{"id": "intake", "function": "a1"}, {"id": "y", "function": "a2"}]},
        ],
    )


def test_approvals_move_into_a_new_bureau_with_one_intake_window():
    org = _org()
    new, _ = apply_checked(org, {"op": "one_stop", "functions": ["a1", "a2"], "bureau": BUREAU,
                                 "intake": "reception"})
    assert sorted(new.performed_by("approvals")) == ["a1", "a2", "reception"]
    assert new.parent("approvals") == "z"  # the zone's committee, by default
    assert new.attr("approvals", o.POOLED) is True
    # default leadership 1 + 2, hired
    assert (new.attr("approvals", o.CHIEF), new.attr("approvals", o.DEPUTIES)) == (1, 2)
    assert new.ledger.hired == {"leaders": 3}
    # officers come with their functions; emptied units are not dissolved here
    assert new.frontline("approvals") == 7
    assert "b1" in new.graph and new.performed_by("b1") == []
    flows = {f.id: f for f in new.flows}
    t = flows["t"]
    assert [st.id for st in t.steps] == ["intake", "s1", "s2"]
    assert t.step("intake").functions == ("reception",)
    assert set(t.after) == {("intake", "s1"), ("s1", "s2")}
    # a path without a moved function is left alone
    assert flows["u"] == org.flows[1]
    # a path that has a step called "intake" gets "intake_2", before each of its first steps
    v = flows["v"]
    assert v.steps[0].id == "intake_2"
    assert set(v.after) == {("intake_2", "intake"), ("intake_2", "y")}


def test_a_path_that_already_has_the_intake_function_is_not_changed():
    org = _org()
    new, _ = apply_checked(org, {"op": "one_stop", "functions": ["a2"], "bureau": BUREAU, "intake": "a1"})
    assert new.flows == org.flows


def test_an_existing_bureau_takes_the_functions_and_its_pooling():
    org = _org()
    new, changes = apply_checked(org, {"op": "one_stop", "categories": ["licensing"], "within": "z",
                                       "bureau": "b1", "pooled": False})
    assert sorted(new.performed_by("b1")) == ["a1", "a2"]
    assert new.attr("b1", o.POOLED) is False
    assert new.ledger.hired == {}
    assert not any(c.action == "unit_created" for c in changes)
    assert new.flows == org.flows  # no intake: paths unchanged


def test_tutorial_licensing_bureau(tutorial):
    new, _ = apply_checked(tutorial, {"op": "one_stop", "categories": ["licensing"], "within": "committee",
                                      "bureau": BUREAU, "leadership": {"chief": 1, "deputies": 1}})
    assert sorted(new.performed_by("approvals")) == ["eia", "land_supply", "planning_permit"]
    assert new.zone_headcount() == 87 + 2


def test_preconditions_name_the_offending_unit_or_function(tutorial):
    def fails(**kw):
        return rejection(tutorial, {"op": "one_stop", "bureau": BUREAU, **kw})

    # the city's construction permit must be devolved first
    assert (
        "function 'construction_permit' is held by 'city_housing' (city); "
        "the bureau is in the zone jurisdiction: devolve it first"
    ) in fails(categories=["licensing"])
    assert "bureau 'ghost' does not exist" in fails(functions=["eia"], bureau="ghost")
    assert "id 'economy' is already taken" in fails(functions=["eia"], bureau={"id": "economy", "name": "x"})
    assert "function 'ghost' does not exist" in fails(functions=["eia"], intake="ghost")
    assert "function 'ghost' does not exist" in fails(functions=["ghost"])
    assert "parent unit 'ghost' does not exist" in fails(functions=["eia"], bureau={**BUREAU, "parent": "ghost"})
