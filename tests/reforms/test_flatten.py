"""flatten: removing a layer (压减管理层级)."""

from __future__ import annotations

import pytest

from orgsim.model import org as o
from strategies import apply_checked, make_org, rejection


def _layered():
    """committee z > department d > office k > window w, with a function at each level."""
    return make_org(
        [
            {"id": "z", "kind": "committee", "leaders": {"chief": 1, "deputies": 2}, "support": 3},
            {"id": "d", "kind": "department", "parent": "z", "leaders": {"chief": 1, "deputies": 1}, "support": 2},
            {"id": "k", "kind": "office", "parent": "d", "support": 1},
            {"id": "w", "kind": "window", "parent": "k", "leaders": {"chief": 0, "deputies": 0}},
        ],
        [
            {"id": "fz", "owner": "z", "officers": 1, "signoff_levels": 3},
            {"id": "fd", "owner": "d", "officers": 2, "signoff_levels": 2},
            {"id": "fk", "owner": "k", "officers": 3, "signoff_levels": 3},
            {"id": "fw", "owner": "w", "officers": 1, "signoff_levels": 1},
            {"id": "f0", "owner": "w", "officers": 1, "signoff_levels": 0},
        ],
    )


def test_a_layer_goes_and_its_children_and_functions_move_up():
    org = _layered()
    new, _ = apply_checked(org, {"op": "flatten", "units": ["d"]})
    assert "d" not in new.graph
    assert new.parent("k") == "z"
    assert sorted(new.performed_by("z")) == ["fd", "fz"]
    # one sign-off cut for what moved up and for the subtrees of the children that moved up,
    # never below one (nor above zero when there was none)
    levels = {f: new.attr(f, o.SIGNOFF_LEVELS) for f in new.functions()}
    assert levels == {"fz": 3, "fd": 1, "fk": 2, "fw": 1, "f0": 0}
    # support joins the parent; leaders are released
    assert new.attr("z", o.SUPPORT) == 5
    assert (new.attr("z", o.CHIEF), new.attr("z", o.DEPUTIES)) == (1, 2)
    assert new.ledger.released == {"leaders": 2}
    assert org.depth("w") - new.depth("w") == 1


def test_kept_leaders_join_the_parent_as_deputies():
    new, _ = apply_checked(_layered(), {"op": "flatten", "units": ["d"], "leaders": "keep"})
    assert (new.attr("z", o.CHIEF), new.attr("z", o.DEPUTIES)) == (1, 4)
    assert new.ledger.released == {}


@pytest.mark.parametrize("cut, expected", [(0, 3), (2, 1), (5, 1)])
def test_signoff_cut(cut, expected):
    new, _ = apply_checked(_layered(), {"op": "flatten", "units": ["k"], "signoff_cut": cut})
    assert new.owner("fk") == "d"
    assert new.attr("fk", o.SIGNOFF_LEVELS) == expected
    assert new.attr("fd", o.SIGNOFF_LEVELS) == 2  # not moved: untouched


def test_two_layers_at_once():
    new, _ = apply_checked(_layered(), {"op": "flatten", "units": ["d", "k"], "signoff_cut": 1})
    assert new.parent("w") == "z"
    assert sorted(new.performed_by("z")) == ["fd", "fk", "fz"]
    assert new.attr("fk", o.SIGNOFF_LEVELS) == 1
    assert new.attr("z", o.SUPPORT) == 6


def test_tutorial_bureau_folds_into_the_committee(tutorial):
    new, _ = apply_checked(tutorial, {"op": "flatten", "units": ["planning"]})
    assert new.owner("planning_permit") == "committee"
    assert new.attr("planning_permit", o.SIGNOFF_LEVELS) == 1
    assert new.zone_headcount() == 87 - 3


def test_preconditions_name_the_offending_unit():
    org = _layered()
    assert "unit 'z' heads its hierarchy" in rejection(org, {"op": "flatten", "units": ["z"]})
    assert "unit 'd' listed twice" in rejection(org, {"op": "flatten", "units": ["d", "d"]})
    assert "unit 'ghost' does not exist" in rejection(org, {"op": "flatten", "units": ["ghost"]})
    assert "unit 'fd' does not exist (it is a function)" in rejection(org, {"op": "flatten", "units": ["fd"]})
