"""spin_off: separating government and enterprise (政企分开, 管委会+公司)."""

from __future__ import annotations

from orgsim.model import org as o
from orgsim.model.metrics import structure_metrics
from strategies import apply_checked, make_org, rejection

DEVCO = {"id": "devco", "name": "开发运营公司"}


def test_investment_attraction_goes_to_a_new_company_outside_zone_headcount(tutorial):
    new, _ = apply_checked(tutorial, {"op": "spin_off", "categories": ["investment_attraction"], "company": DEVCO})
    assert new.owner("investment") == "devco"
    assert new.attr("investment", o.OFFICERS) == 10
    assert new.attr("devco", o.KIND) == "company"
    assert new.attr("devco", o.JURISDICTION) == "company"
    assert new.parent("devco") is None
    assert not new.in_zone_government("devco")
    assert new.ledger.moved_out == {"company": 10}
    assert new.zone_headcount() == 87 - 10
    assert new.total_headcount() == tutorial.total_headcount()
    assert "economy" in new.graph  # still files investment projects
    assert structure_metrics(new).headcount_by_destination["companies"] == 10


def test_an_emptied_unit_is_dissolved_into_the_company(tutorial):
    new, _ = apply_checked(tutorial, {"op": "spin_off", "functions": ["investment", "project_filing"],
                                      "company": DEVCO})
    assert "economy" not in new.graph
    # economy's 3 leaders join as deputies, its 3 support staff follow
    assert (new.attr("devco", o.CHIEF), new.attr("devco", o.DEPUTIES)) == (0, 3)
    assert new.attr("devco", o.SUPPORT) == 3
    assert new.ledger.moved_out == {"company": 18}
    kept, _ = apply_checked(tutorial, {"op": "spin_off", "functions": ["investment", "project_filing"],
                                       "company": DEVCO, "remove_emptied": False})
    assert kept.headcount("economy") == 6


def _org():
    return make_org(
        [
            {"id": "z", "kind": "committee"},
            {"id": "b", "kind": "bureau", "parent": "z"},
            {"id": "co", "kind": "company", "jurisdiction": "company"},
        ],
        [{"id": "dev", "owner": "b", "officers": 4, "category": "development_operation"},
         {"id": "fin", "owner": "z", "officers": 2, "category": "development_operation"},
         {"id": "plan", "owner": "z", "officers": 1, "category": "economic_development"}],
    )


def test_an_existing_company_takes_the_functions():
    new, _ = apply_checked(_org(), {"op": "spin_off", "categories": ["development_operation"], "company": "co"})
    assert sorted(new.performed_by("co")) == ["dev", "fin"]
    assert "b" not in new.graph
    assert new.performed_by("z") == ["plan"]
    # the officers of both functions and the dissolved bureau's leader leave the zone
    assert new.ledger.moved_out == {"company": 4 + 2 + 1}


def test_preconditions_name_the_offending_unit():
    org = _org()

    def fails(company, **kw):
        return rejection(org, {"op": "spin_off", "functions": ["dev"], "company": company, **kw})

    assert "unit 'b' is a bureau, not a company" in fails("b")
    assert "company 'ghost' does not exist" in fails("ghost")
    assert "company 'nc' must be of kind company, not bureau" in fails({"id": "nc", "name": "x", "kind": "bureau"})
    assert "id 'co' is already taken" in fails({"id": "co", "name": "x"})
    assert "function 'ghost' does not exist" in rejection(
        org, {"op": "spin_off", "functions": ["ghost"], "company": "co"}
    )
