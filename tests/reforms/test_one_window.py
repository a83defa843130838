"""one_window (一个窗口): one intake step in front of every approval path; approvals stay put."""

from __future__ import annotations

from orgsim.model import org as o
from orgsim.model.metrics import structure_metrics
from strategies import apply_checked, rejection

NEW_WINDOW = {"op": "one_window", "window": {"id": "service_hall", "name": "政务服务大厅"},
              "intake": {"id": "acceptance", "name": "综合受理", "officers": 3,
                         "service_time": {"dist": "exponential", "mean": 30, "unit": "minutes"}}}


def test_every_path_starts_at_the_window_and_the_approvals_stay(tutorial):
    owners = {f: tutorial.owner(f) for f in tutorial.functions()}
    new, changes = apply_checked(tutorial, NEW_WINDOW)
    flow = new.flows[0]
    assert flow.steps[0].id == "window" and flow.steps[0].functions == ("acceptance",)
    assert ("window", "filing") in flow.after
    assert {f: new.owner(f) for f in owners} == owners  # nothing moved
    assert new.owner("acceptance") == "service_hall" and new.parent("service_hall") == "committee"
    # The window is a new internal body with its officers and its chief hired.
    before, after = structure_metrics(tutorial), structure_metrics(new)
    assert after.internal_bodies == before.internal_bodies + 1
    assert after.headcount == before.headcount + 3 + 1
    assert new.attr("service_hall", o.KIND) == "window"
    assert [c.action for c in changes].count("staff_hired") == 2


def test_an_existing_intake_moves_to_an_existing_window(tutorial):
    new, _ = apply_checked(tutorial, {"op": "one_window", "window": "economy", "intake": "project_filing",
                                      "step": "intake"})
    # The path already starts with project filing: nothing to put in front of it.
    assert new.flows == tutorial.flows


def test_only_the_chosen_project_types(tutorial):
    assert "project type 'ghost' does not exist" in rejection(tutorial, {**NEW_WINDOW, "project_types": ["ghost"]})
    new, _ = apply_checked(tutorial, {**NEW_WINDOW, "project_types": ["industrial"]})
    assert new.flows[0].steps[0].id == "window"


def test_an_intake_without_a_service_time_is_refused(tutorial):
    assert "intake function 'investment' has no service_time" in rejection(
        tutorial, {"op": "one_window", "window": "economy", "intake": "investment"})
