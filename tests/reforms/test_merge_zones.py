"""merge_zones: merging zones or sub-districts (整合, 托管)."""

from __future__ import annotations

from orgsim.model import org as o
from strategies import apply_checked, make_org, rejection


def _two_zones():
    return make_org(
        [
            {"id": "z1", "kind": "committee", "leaders": {"chief": 1, "deputies": 4}, "support": 6,
             "pooled": True},
            {"id": "z2", "kind": "committee", "leaders": {"chief": 1, "deputies": 3}, "support": 4},
            {"id": "b1", "kind": "bureau", "parent": "z1"},
            {"id": "b2", "kind": "bureau", "parent": "z2"},
            {"id": "s1", "kind": "sub_district", "parent": "z1", "jurisdiction": "district",
             "leaders": {"chief": 1, "deputies": 2}, "support": 3},
            {"id": "s2", "kind": "township", "parent": "z2", "jurisdiction": "district",
             "leaders": {"chief": 1, "deputies": 1}, "support": 2},
        ],
        [
            {"id": "f1", "owner": "z1", "officers": 2},
            {"id": "g1", "owner": "s1", "officers": 5, "category": "social_affairs"},
            {"id": "g2", "owner": "s2", "officers": 4, "category": "social_affairs"},
        ],
    )


def test_two_zones_become_one():
    org = _two_zones()
    new, _ = apply_checked(org, {"op": "merge_zones", "units": ["z1", "z2"],
                                 "into": {"id": "zone", "name": "合并区"}})
    assert "z1" not in new.graph and "z2" not in new.graph
    assert new.attr("zone", o.KIND) == "committee"  # kind of the first unit
    assert new.parent("zone") is None
    assert sorted(new.children("zone")) == ["b1", "b2", "s1", "s2"]
    assert new.performed_by("zone") == ["f1"]
    # 1 chief + the largest deputy count (4); 10 leaders -> 5
    assert (new.attr("zone", o.CHIEF), new.attr("zone", o.DEPUTIES)) == (1, 4)
    # the larger office (6) kept, half of the other (4) released
    assert new.attr("zone", o.SUPPORT) == 8
    assert new.ledger.released == {"leaders": 4, "support": 2}
    assert new.attr("zone", o.POOLED) is False
    assert new.roots() == ["zone"]


def test_sub_districts_merge_under_their_committee_outside_zone_headcount():
    org = _two_zones()
    new, _ = apply_checked(org, {
        "op": "merge_zones", "units": ["s1", "s2"], "into": {"id": "s12", "name": "街道"},
        "leadership": {"chief": 1, "deputies": 1}, "support_saving": 1.0,
    })
    assert new.attr("s12", o.KIND) == "sub_district"
    assert new.attr("s12", o.JURISDICTION) == "district"
    assert new.parent("s12") == "z1"
    assert sorted(new.performed_by("s12")) == ["g1", "g2"]
    # 5 leaders -> 2, support 3 + 2 -> 3: sub-district staff are not zone government
    assert new.ledger.released_outside == {"leaders": 3, "support": 2}
    assert new.ledger.released == {}
    assert new.zone_headcount() == org.zone_headcount()


def test_an_explicit_kind_wins():
    new, _ = apply_checked(_two_zones(), {
        "op": "merge_zones", "units": ["z1", "z2"],
        "into": {"id": "pc", "name": "党工委", "kind": "party_committee"},
    })
    assert new.attr("pc", o.KIND) == "party_committee"


def test_preconditions_name_the_offending_unit():
    org = _two_zones()

    def fails(units, into=None):
        return rejection(org, {"op": "merge_zones", "units": units, "into": into or {"id": "n", "name": "n"}})

    assert "unit 'b1' (bureau) is neither a zone's top unit nor a sub-district/township" in fails(["z2", "b1"])
    assert "unit 'ghost' does not exist" in fails(["z1", "ghost"])
    assert "unit 's1' reports to 'z1', also being merged" in fails(["z1", "s1"])
    assert "id 'b1' is already taken" in fails(["z1", "z2"], {"id": "b1", "name": "n"})
