"""strip: function stripping (剥离社会事务管理职能)."""

from __future__ import annotations

from orgsim.model import org as o
from strategies import apply_checked, make_org, rejection

SOCIAL = {"op": "strip", "categories": ["social_affairs"], "to": "subdistrict"}


def test_social_affairs_leave_with_their_staff(tutorial):
    new, _ = apply_checked(tutorial, SOCIAL)
    assert new.owner("education") == new.owner("civil_affairs") == "subdistrict"
    assert new.attr("education", o.OFFICERS) == 6 and new.attr("civil_affairs", o.OFFICERS) == 5
    # the emptied social bureau is dissolved; its 3 leaders (as deputies) and 3 support follow
    assert "social" not in new.graph
    assert (new.attr("subdistrict", o.CHIEF), new.attr("subdistrict", o.DEPUTIES)) == (1, 6)
    assert new.attr("subdistrict", o.SUPPORT) == 8
    assert new.ledger.moved_out == {"sub_district": 17}
    assert new.ledger.released == {}
    assert new.zone_headcount() == 87 - 17
    assert new.total_headcount() == tutorial.total_headcount()


def test_released_staff_leave_the_organisation(tutorial):
    new, _ = apply_checked(tutorial, {**SOCIAL, "staff": "release"})
    assert new.attr("education", o.OFFICERS) == 0 and new.attr("civil_affairs", o.OFFICERS) == 0
    assert new.ledger.released == {"frontline": 11, "leaders": 3, "support": 3}
    assert new.ledger.moved_out == {}
    assert new.headcount("subdistrict") == tutorial.headcount("subdistrict")


def test_emptied_unit_is_kept_without_remove_emptied(tutorial):
    new, _ = apply_checked(tutorial, {**SOCIAL, "remove_emptied": False})
    assert new.performed_by("social") == []
    assert new.headcount("social") == 6
    assert new.ledger.moved_out == {"sub_district": 11}


def test_within_limits_a_category_to_a_subtree(tutorial):
    new, _ = apply_checked(tutorial, {
        "op": "strip", "categories": ["licensing"], "within": "environment", "to": "city_housing",
    })
    assert new.owner("eia") == "city_housing"
    assert new.owner("land_supply") == "land"
    assert "environment" not in new.graph
    assert new.ledger.moved_out == {"city_department": 7}


def test_a_unit_with_children_is_not_dissolved():
    org = make_org(
        [
            {"id": "z", "kind": "committee"},
            {"id": "a", "kind": "bureau", "parent": "z"},
            {"id": "a1", "kind": "office", "parent": "a"},
            {"id": "s", "kind": "township", "jurisdiction": "district"},
        ],
        [{"id": "f", "owner": "a", "officers": 2, "category": "social_affairs"}],
    )
    new, _ = apply_checked(org, {"op": "strip", "functions": ["f"], "to": "s"})
    assert "a" in new.graph and new.children("a") == ["a1"]
    assert new.ledger.moved_out == {"township": 2}


def test_preconditions_name_the_offending_unit_or_function(tutorial):
    def fails(**kw):
        return rejection(tutorial, {"op": "strip", "to": "subdistrict", **kw})

    assert "receiving unit 'ghost' does not exist" in fails(functions=["education"], to="ghost")
    assert "receiving unit 'eia' does not exist (it is a function)" in fails(functions=["education"], to="eia")
    assert "function 'ghost' does not exist" in fails(functions=["ghost"])
    assert "function 'social' does not exist (it is a unit)" in fails(functions=["social"])
    assert "function 'education' is already performed by 'social'" in fails(functions=["education"], to="social")
    assert "function 'eia' is not within 'social'" in fails(functions=["eia"], within="social")
    assert "within unit 'ghost' does not exist" in fails(categories=["social_affairs"], within="ghost")
    assert "selects no function" in fails(categories=["levy"])
