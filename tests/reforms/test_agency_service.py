"""agency_service: staff prepare and chase applicants' files (领办代办)."""

from __future__ import annotations

import pytest

from strategies import apply_checked, graph_dump, make_org, rejection


def _org():
    return make_org(
        [{"id": "z", "kind": "committee"}],
        [{"id": "f", "owner": "z", "officers": 1, "service_time": True, "rework_probability": 0.4}],
        [{"id": t, "steps": [{"id": "s", "function": "f"}]} for t in ("t", "u")],
    )


def test_factors_multiply_rework_and_resubmission_delay(tutorial):
    new, changes = apply_checked(tutorial, {"op": "agency_service", "rework_factor": 0.5, "delay_factor": 0.6})
    flow = new.flows[0]
    assert (flow.rework_factor, flow.delay_factor) == (0.5, 0.6)
    assert flow.steps == tutorial.flows[0].steps and flow.after == tutorial.flows[0].after
    assert graph_dump(new) == graph_dump(tutorial)  # function rework probabilities are untouched
    assert [(c.action, c.subject) for c in changes] == [("rework_changed", "industrial")]
    again, _ = apply_checked(new, {"op": "agency_service", "rework_factor": 0.5, "delay_factor": 0.6})
    assert again.flows[0].rework_factor == pytest.approx(0.25)
    assert again.flows[0].delay_factor == pytest.approx(0.36)


def test_defaults_halve_both():
    new, _ = apply_checked(_org(), {"op": "agency_service"})
    assert [(f.rework_factor, f.delay_factor) for f in new.flows] == [(0.5, 0.5), (0.5, 0.5)]


def test_only_the_named_project_types_each_once():
    new, _ = apply_checked(_org(), {"op": "agency_service", "project_types": ["u", "u"], "rework_factor": 0.2})
    assert [f.rework_factor for f in new.flows] == [1.0, 0.2]


def test_without_project_types_nothing_to_change():
    org = make_org([{"id": "z", "kind": "committee"}])
    new, changes = apply_checked(org, {"op": "agency_service"})
    assert new.flows == () and [c.action for c in changes] == ["no_change"]


def test_unknown_project_type_is_named():
    assert "project type 'ghost' does not exist" in rejection(
        _org(), {"op": "agency_service", "project_types": ["t", "ghost"]}
    )
