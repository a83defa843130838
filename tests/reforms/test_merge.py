"""merge: big-department consolidation (大部制)."""

from __future__ import annotations

import pytest

from orgsim.model import org as o
from strategies import apply_checked, make_org, rejection

LPC = {"id": "lpc", "name": "国土规划建设局"}


def test_tutorial_big_bureau(tutorial):
    new, changes = apply_checked(tutorial, {
        "op": "merge", "units": ["land", "planning", "construction"], "into": LPC,
        "leadership": {"chief": 1, "deputies": 3},
    })
    for gone in ("land", "planning", "construction"):
        assert gone not in new.graph
    assert sorted(new.performed_by("lpc")) == [
        "completion", "construction_penalty", "land_supply", "planning_permit"
    ]
    # officers move with their functions, unchanged
    assert {f: new.attr(f, o.OFFICERS) for f in new.performed_by("lpc")} == {
        "land_supply": 4, "planning_permit": 3, "completion": 3, "construction_penalty": 4
    }
    assert new.parent("lpc") == "committee"
    assert (new.attr("lpc", o.CHIEF), new.attr("lpc", o.DEPUTIES)) == (1, 3)
    # 9 leaders become 4; one office of 3 kept whole, half of the other 6 support staff released
    assert new.attr("lpc", o.SUPPORT) == 6
    assert new.ledger.released == {"leaders": 5, "support": 3}
    assert new.zone_headcount() == tutorial.zone_headcount() - 8 == 79
    assert new.attr("lpc", o.POOLED) is True
    assert new.attr("lpc", o.ORIGIN) == ("land", "planning", "construction")
    assert new.attr("lpc", o.NON_CASE_SHARE) == pytest.approx(0.2)
    merged = [c.subject for c in changes if c.action == "unit_merged"]
    assert merged == ["land", "planning", "construction"]


def test_default_leadership_is_one_chief_and_the_largest_deputy_count(tutorial):
    new, _ = apply_checked(tutorial, {"op": "merge", "units": ["environment", "economy"], "into": LPC})
    # environment 1+1, economy 1+2 -> 1+2; three of the five leaders released
    assert (new.attr("lpc", o.CHIEF), new.attr("lpc", o.DEPUTIES)) == (1, 2)
    assert new.ledger.released["leaders"] == 2


@pytest.mark.parametrize("saving, kept", [(0.0, 12), (0.5, 9), (1.0, 6)])
def test_support_saving_spares_the_largest_office(saving, kept):
    org = make_org([
        {"id": "z", "kind": "committee"},
        {"id": "a", "kind": "bureau", "parent": "z", "support": 2},
        {"id": "b", "kind": "bureau", "parent": "z", "support": 6},
        {"id": "c", "kind": "bureau", "parent": "z", "support": 4},
    ])
    new, _ = apply_checked(org, {
        "op": "merge", "units": ["a", "b", "c"], "into": {"id": "abc", "name": "abc"},
        "support_saving": saving,
    })
    assert new.attr("abc", o.SUPPORT) == kept
    assert new.ledger.released.get("support", 0) == 12 - kept


def test_support_kept_rounds_a_half_up():
    org = make_org([
        {"id": "z", "kind": "committee"},
        {"id": "a", "kind": "bureau", "parent": "z", "support": 3},
        {"id": "b", "kind": "bureau", "parent": "z", "support": 3},
        {"id": "c", "kind": "bureau", "parent": "z", "support": 2},
    ])
    new, _ = apply_checked(org, {"op": "merge", "units": ["a", "b", "c"], "into": {"id": "abc", "name": "abc"}})
    # one office of 3 kept; of the other 5, 2.5 stay: rounded up to 3
    assert new.attr("abc", o.SUPPORT) == 6
    assert new.ledger.released["support"] == 2


def _nested_org():
    return make_org(
        [
            {"id": "z", "kind": "committee"},
            {"id": "a", "kind": "bureau", "parent": "z", "leaders": {"chief": 1, "deputies": 1}},
            {"id": "b", "kind": "bureau", "parent": "z", "non_case_share": 0.5},
            {"id": "a1", "kind": "office", "parent": "a"},
            {"id": "b1", "kind": "centre", "parent": "b"},
            {"id": "c", "kind": "city_department", "jurisdiction": "city", "support": 2},
        ],
        [
            {"id": "fa", "owner": "a", "officers": 3},
            {"id": "fb", "owner": "b", "officers": 1},
            {"id": "fc", "owner": "c", "officers": 2},
        ],
    )


def test_children_are_reparented_to_the_new_unit():
    org = _nested_org()
    new, _ = apply_checked(org, {"op": "merge", "units": ["a", "b"], "into": {"id": "ab", "name": "ab"}})
    assert sorted(new.children("ab")) == ["a1", "b1"]
    assert new.children("z") == ["ab"]
    # the new unit's non-case share is the frontline-weighted mean of the merged ones'
    assert new.attr("ab", o.NON_CASE_SHARE) == pytest.approx((0 * 3 + 0.5 * 1) / 4)


def test_the_new_unit_may_reuse_a_merged_id_and_take_a_kind_and_parent():
    org = _nested_org()
    new, _ = apply_checked(org, {
        "op": "merge", "units": ["a1", "b1"],
        "into": {"id": "a1", "name": "a1", "kind": "department", "parent": "b"},
    })
    assert new.attr("a1", o.KIND) == "department"
    assert new.parent("a1") == "b"
    assert "b1" not in new.graph


def test_staff_merged_in_from_the_city_count_as_moved_in():
    org = _nested_org()
    new, _ = apply_checked(org, {
        "op": "merge", "units": ["a", "c"], "into": {"id": "ac", "name": "ac"},
        "leadership": {"chief": 1, "deputies": 1},
    })
    # c: 1 leader, 2 support, 2 officers join a zone unit
    assert new.attr("ac", o.JURISDICTION) == "zone"
    assert new.ledger.moved_in == {"city_department": 5}
    assert new.owner("fc") == "ac"


def test_preconditions_name_the_offending_unit(tutorial):
    def fails(units, into=LPC):
        return rejection(tutorial, {"op": "merge", "units": units, "into": into})

    assert "unit 'ghost' does not exist" in fails(["land", "ghost"])
    assert "unit 'eia' does not exist (it is a function)" in fails(["land", "eia"])
    assert "unit listed twice in ['land', 'land']" in fails(["land", "land"])
    assert "unit 'land' reports to 'committee', also being merged" in fails(["committee", "land"])
    assert "id 'economy' is already taken" in fails(["land", "planning"], {"id": "economy", "name": "x"})
    assert "id 'eia' is already taken" in fails(["land", "planning"], {"id": "eia", "name": "x"})
    assert "parent unit 'nowhere' does not exist" in fails(
        ["land", "planning"], {"id": "lp", "name": "x", "parent": "nowhere"}
    )
    assert "parent 'land' is being merged" in fails(
        ["land", "planning"], {"id": "lp", "name": "x", "parent": "land"}
    )


def test_the_new_unit_cannot_report_inside_a_merged_unit():
    # it would report to its own child: a reporting cycle
    message = rejection(_nested_org(), {
        "op": "merge", "units": ["a", "b"], "into": {"id": "ab", "name": "ab", "parent": "a1"},
    })
    assert "parent 'a1' reports to 'a', which is being merged" in message
