"""devolve: power devolution (行政权力下放), accepted in phases (一次下放, 分步承接)."""

from __future__ import annotations

import pytest

from orgsim.errors import OrgValidationError
from orgsim.model import org as o
from orgsim.reforms import apply_reform
from strategies import apply_checked, make_org, rejection, spec


def test_the_construction_permit_comes_to_the_zone_with_its_officers(tutorial):
    new, _ = apply_checked(tutorial, {"op": "devolve", "functions": ["construction_permit"], "to": "land"})
    assert new.owner("construction_permit") == "land"
    assert new.attr("construction_permit", o.OFFICERS) == 3
    assert new.performed_by("city_housing") == []
    assert "city_housing" in new.graph  # a city department is not dissolved
    assert new.ledger.moved_in == {"city_department": 3}
    assert new.zone_headcount() == 87 + 3


def _city_org(pooled: bool = False):
    return make_org(
        [
            {"id": "z", "kind": "committee"},
            {"id": "b", "kind": "bureau", "parent": "z", "pooled": pooled},
            {"id": "c", "kind": "city_department", "jurisdiction": "city"},
        ],
        [
            {"id": "own", "owner": "b", "officers": 4, "service_time": True},
            {"id": "p1", "owner": "c", "officers": 2, "service_time": True},
            {"id": "p2", "owner": "c", "officers": 3, "service_time": True, "category": "penalty"},
        ],
        [{"id": "t", "steps": [{"id": "a", "function": "own"}, {"id": "b", "function": "p1", "after": ["a"]}]}],
    )


def test_unaccepted_powers_stay_with_the_city_until_a_later_devolve():
    org = _city_org()
    new, changes = apply_checked(org, {"op": "devolve", "functions": ["p1", "p2"], "to": "b", "accept": ["p1"]})
    assert new.owner("p1") == "b"
    assert new.owner("p2") == "c"
    waiting = [c for c in changes if c.action == "function_awaiting_acceptance"]
    assert [(c.subject, c.source, c.target) for c in waiting] == [("p2", "c", "b")]
    later, _ = apply_checked(new, {"op": "devolve", "functions": ["p2"], "to": "b"})
    assert later.owner("p2") == "b"
    assert later.ledger.moved_in == {"city_department": 5}


def test_accepting_nothing_moves_nothing():
    org = _city_org()
    new, changes = apply_checked(org, {"op": "devolve", "categories": ["licensing", "penalty"],
                                       "within": "c", "to": "b", "accept": []})
    assert new.owner("p1") == new.owner("p2") == "c"
    assert sorted(c.subject for c in changes if c.action == "function_awaiting_acceptance") == ["p1", "p2"]


def test_released_city_officers_and_zone_hires():
    org = _city_org()
    new, _ = apply_checked(org, {"op": "devolve", "functions": ["p1"], "to": "b", "staff": "release", "officers": 1})
    # the city releases its 2 officers (outside the zone); the zone hires 1 for the power
    assert new.attr("p1", o.OFFICERS) == 1
    assert new.ledger.released_outside == {"frontline": 2}
    assert new.ledger.hired == {"frontline": 1}
    assert new.ledger.moved_in == {}


def test_hires_come_on_top_of_moved_officers_once_per_power():
    org = _city_org()
    new, changes = apply_checked(org, {"op": "devolve", "functions": ["p1", "p2"], "to": "b",
                                       "accept": ["p1", "p1", "p2"], "officers": 2})
    assert new.attr("p1", o.OFFICERS) == 4 and new.attr("p2", o.OFFICERS) == 5
    assert new.ledger.hired == {"frontline": 4}
    assert sum(c.staff for c in changes if c.action == "staff_hired") == 4


def test_a_released_power_is_handled_by_the_zone_pool():
    # staff: release, no hires: fine where the receiving unit pools its officers ...
    new, _ = apply_checked(_city_org(pooled=True),
                           {"op": "devolve", "functions": ["p1"], "to": "b", "staff": "release"})
    assert new.attr("p1", o.OFFICERS) == 0 and new.frontline("b") == 4
    # ... and refused by apply_reform, naming the power, where it does not
    with pytest.raises(OrgValidationError, match="function 'p1' receives work but has no officers in 'b'"):
        apply_reform(_city_org(), spec({"op": "devolve", "functions": ["p1"], "to": "b", "staff": "release"}))


def test_preconditions_name_the_offending_unit_or_function(tutorial):
    def fails(**kw):
        return rejection(tutorial, {"op": "devolve", "functions": ["construction_permit"], "to": "land", **kw})

    assert "receiving unit 'ghost' does not exist" in fails(to="ghost")
    assert "receiving unit 'subdistrict' is not a zone government unit" in fails(to="subdistrict")
    assert "receiving unit 'city_housing' is not a zone government unit" in fails(to="city_housing")
    assert "function 'eia' is held by 'environment', not by a city unit" in fails(functions=["eia"])
    assert "function 'ghost' does not exist" in fails(functions=["ghost"])
    assert "accepted function 'eia' is not among the devolved functions" in fails(accept=["eia"])
