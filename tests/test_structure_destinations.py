"""District and county governments, and social-affairs duties counted where they went."""

from __future__ import annotations

from orgsim.model.metrics import structure_metrics
from strategies import apply_checked, make_org


def _zone():
    return make_org(
        [{"id": "z", "kind": "committee"},
         {"id": "social", "kind": "bureau", "parent": "z", "support": 2},
         {"id": "street", "kind": "sub_district"},
         {"id": "yizheng", "kind": "county"},
         {"id": "district", "kind": "district"}],
        [{"id": "edu", "category": "social_affairs", "owner": "social", "officers": 4, "power_items": 120},
         {"id": "health", "category": "social_affairs", "owner": "social", "officers": 2, "power_items": 80},
         {"id": "culture", "category": "social_affairs", "owner": "social", "officers": 1, "power_items": 31}],
    )


def test_district_and_county_default_to_their_own_jurisdictions():
    org = _zone()
    assert org.attr("district", "jurisdiction") == "district"
    assert org.attr("yizheng", "jurisdiction") == "county"
    assert not org.in_zone_government("yizheng") and not org.in_zone_government("district")


def test_social_affairs_items_are_counted_where_they_went():
    org = _zone()
    before = structure_metrics(org)
    assert before.social_affairs_items_by_destination == {"zone": 231}
    assert before.social_affairs_functions_by_destination == {"zone": 3}
    org, _ = apply_checked(org, {"op": "strip", "functions": ["edu"], "to": "street"})
    org, _ = apply_checked(org, {"op": "strip", "functions": ["health"], "to": "yizheng"})
    org, _ = apply_checked(org, {"op": "strip", "functions": ["culture"], "to": "district"})
    after = structure_metrics(org)
    assert after.social_affairs_items_by_destination == {"counties": 80, "districts": 31, "sub_districts": 120}
    assert after.social_affairs_functions_by_destination == {"counties": 1, "districts": 1, "sub_districts": 1}
    # Staff that moved with them are counted apart for each kind of government.
    assert after.headcount_by_destination["counties"] == 2
    assert after.headcount_by_destination["districts"] == 1 + 1 + 2  # culture's officer, social's leader and support
    assert after.headcount_by_destination["sub_districts"] == 4
