"""set_leadership: leadership posts, 1 chief + N deputies (1正 + N副)."""

from __future__ import annotations

from orgsim.model import org as o
from strategies import apply_checked, rejection

BUREAUS = ("planning", "land", "construction", "environment", "economy", "social")


def _posts(org, unit):
    return org.attr(unit, o.CHIEF), org.attr(unit, o.DEPUTIES)


def test_named_unit(tutorial):
    new, changes = apply_checked(tutorial, {"op": "set_leadership", "units": ["economy"], "deputies": 1})
    assert _posts(new, "economy") == (1, 1)
    assert new.ledger.released == {"leaders": 1}
    assert [c.action for c in changes] == ["leadership_set", "staff_released"]


def test_by_kind_only_zone_units(tutorial):
    new, _ = apply_checked(tutorial, {"op": "set_leadership", "kinds": ["bureau"], "deputies": 1})
    assert all(_posts(new, b) == (1, 1) for b in BUREAUS)
    assert _posts(new, "committee") == (1, 4)
    assert _posts(new, "city_housing") == (1, 3)
    # 17 bureau leaders -> 12
    assert new.ledger.released == {"leaders": 5}


def test_units_and_kinds_together_count_a_unit_once(tutorial):
    new, _ = apply_checked(tutorial, {"op": "set_leadership", "units": ["economy", "committee"],
                                      "kinds": ["bureau", "committee"], "chief": 1, "deputies": 5})
    assert _posts(new, "economy") == (1, 5) and _posts(new, "committee") == (1, 5)
    # bureaus gain 3+3+3+4+3+3 deputies, the committee 1
    assert new.ledger.hired == {"leaders": 20}


def test_units_outside_the_zone_by_name(tutorial):
    new, _ = apply_checked(tutorial, {"op": "set_leadership", "units": ["city_housing"], "deputies": 1})
    assert _posts(new, "city_housing") == (1, 1)
    assert new.ledger.released_outside == {"leaders": 2}
    assert new.zone_headcount() == tutorial.zone_headcount()


def test_posts_already_right_change_nothing(tutorial):
    new, changes = apply_checked(tutorial, {"op": "set_leadership", "units": ["environment"], "deputies": 1})
    assert [c.action for c in changes] == ["no_change"]
    assert new.ledger.total("released") == new.ledger.total("hired") == 0


def test_preconditions_name_the_unit_or_kind(tutorial):
    assert "unit 'ghost' does not exist" in rejection(
        tutorial, {"op": "set_leadership", "units": ["ghost"], "deputies": 1}
    )
    assert "no zone unit of kind city_department" in rejection(
        tutorial, {"op": "set_leadership", "kinds": ["city_department"], "deputies": 1}
    )
