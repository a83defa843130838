"""parallelize (并联审批) and merge_steps (多评合一, 多审合一): approval paths rewired."""

from __future__ import annotations

import pytest

from orgsim.model.org import Step
from strategies import apply_checked, graph_dump, make_org, rejection

CHAIN = ["filing", "land", "planning", "environment", "permit", "completion"]


def _after(org, flow_id="industrial"):
    return set(next(f for f in org.flows if f.id == flow_id).after)


def _org():
    """Two project types; ``t`` is a diamond a -> (b, c) -> d plus b -> e."""
    fs = [{"id": x, "owner": "z", "officers": 1, "service_time": True} for x in ("fa", "fb", "fc", "fd", "fe")]
    return make_org(
        [{"id": "z", "kind": "committee"}],
        fs,
        [
            {"id": "t", "steps": [
                {"id": "a", "function": "fa"},
                {"id": "b", "function": "fb", "after": ["a"]},
                {"id": "c", "function": "fc", "after": ["a"]},
                {"id": "d", "function": "fd", "after": ["b", "c"]},
                {"id": "e", "function": "fe", "after": ["b"]},
            ]},
            {"id": "u", "steps": [
                {"id": "b", "function": "fb"},
                {"id": "c", "function": "fc", "after": ["b"]},
            ]},
        ],
    )


# ---------------------------------------------------------------- parallelize


def test_planning_and_environment_review_run_in_parallel(tutorial):
    new, changes = apply_checked(tutorial, {"op": "parallelize", "steps": ["planning", "environment"]})
    assert _after(new) == {
        ("filing", "land"), ("land", "planning"), ("land", "environment"),
        ("planning", "permit"), ("environment", "permit"), ("permit", "completion"),
    }
    assert [s.id for s in new.flows[0].steps] == CHAIN
    assert graph_dump(new) == graph_dump(tutorial)
    assert [c.action for c in changes] == ["path_changed"]


def test_every_successor_waits_for_every_member():
    new, _ = apply_checked(_org(), {"op": "parallelize", "steps": ["b", "c"], "project_types": ["t"]})
    # e waited for b only; now it waits for c as well
    assert _after(new, "t") == {("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("b", "e"), ("c", "e")}
    assert _after(new, "u") == {("b", "c")}


def test_without_project_types_every_path_with_the_steps_changes():
    new, _ = apply_checked(_org(), {"op": "parallelize", "steps": ["b", "c"]})
    assert _after(new, "u") == set()
    assert ("c", "e") in _after(new, "t")


def test_steps_already_parallel_change_nothing():
    org = _org()
    new, changes = apply_checked(org, {"op": "parallelize", "steps": ["b", "c"], "project_types": ["t", "t"]})
    again, changes = apply_checked(new, {"op": "parallelize", "steps": ["b", "c"], "project_types": ["t"]})
    assert again.flows == new.flows
    assert [c.action for c in changes] == ["no_change"]


# ---------------------------------------------------------------- merge_steps


@pytest.mark.parametrize("combine", ["max", "sum", 0.8])
def test_two_reviews_become_one_step(tutorial, combine):
    new, _ = apply_checked(tutorial, {"op": "merge_steps", "steps": ["planning", "environment"],
                                      "into": "joint_review", "combine": combine})
    flow = new.flows[0]
    assert [s.id for s in flow.steps] == ["filing", "land", "joint_review", "permit", "completion"]
    assert flow.step("joint_review") == Step("joint_review", ("planning_permit", "eia"), combine)
    assert set(flow.after) == {
        ("filing", "land"), ("land", "joint_review"), ("joint_review", "permit"), ("permit", "completion"),
    }
    assert graph_dump(new) == graph_dump(tutorial)


def test_merged_step_may_keep_a_member_id_and_inherits_all_links():
    new, _ = apply_checked(_org(), {"op": "merge_steps", "steps": ["c", "b"], "into": "c",
                                    "project_types": ["t", "t"]})
    flow = new.flows[0]
    assert [s.id for s in flow.steps] == ["a", "c", "d", "e"]
    assert flow.step("c").functions == ("fc", "fb")
    assert set(flow.after) == {("a", "c"), ("c", "d"), ("c", "e")}
    assert new.flows[1] == _org().flows[1]


def test_steps_joined_through_an_outside_step_cannot_be_joined(tutorial):
    message = "in 'industrial', step 'environment' waits for 'land' through 'planning'; include 'planning'"
    for op in ({"op": "parallelize"}, {"op": "merge_steps", "into": "m"}):
        assert message in rejection(tutorial, {**op, "steps": ["land", "environment"]})
    new, _ = apply_checked(tutorial, {"op": "parallelize", "steps": ["land", "planning", "environment"]})
    assert ("filing", "environment") in _after(new)


def test_preconditions_name_the_offending_step_or_project_type(tutorial):
    for op in ({"op": "parallelize"}, {"op": "merge_steps", "into": "m"}):
        assert "no project type has all of the steps ['land', 'ghost']" in rejection(
            tutorial, {**op, "steps": ["land", "ghost"]}
        )
        assert "project type 'ghost' does not exist" in rejection(
            tutorial, {**op, "steps": ["land", "planning"], "project_types": ["ghost"]}
        )
    assert "project type 'u' has no step 'a'" in rejection(
        _org(), {"op": "parallelize", "steps": ["a", "b"], "project_types": ["t", "u"]}
    )
    assert "project type 'industrial' already has a step 'permit'" in rejection(
        tutorial, {"op": "merge_steps", "steps": ["planning", "environment"], "into": "permit"}
    )


# ---------------------------------------------------------------- conditions and send-backs


def _conditional_org():
    """intake -> design -> (eia | fire) -> permit; eia for heavy industry only, fire for 60%;
    permit sends files back to design."""
    fs = [{"id": x, "owner": "z", "officers": 1, "service_time": True, "rework_probability": 0.2}
          for x in ("fi", "fd", "fe", "ff", "fp")]
    return make_org(
        [{"id": "z", "kind": "committee"}],
        fs,
        [{"id": "t", "attributes": {"heavy": 0.3}, "steps": [
            {"id": "intake", "function": "fi"},
            {"id": "design", "function": "fd", "after": ["intake"]},
            {"id": "eia", "function": "fe", "after": ["design"], "when": "heavy"},
            {"id": "fire", "function": "ff", "after": ["design"], "probability": 0.6},
            {"id": "permit", "function": "fp", "after": ["eia", "fire"], "rework_to": "design"},
        ]}],
    )


def test_a_merged_step_keeps_each_function_s_condition():
    new, _ = apply_checked(_conditional_org(), {"op": "merge_steps", "steps": ["eia", "fire"], "into": "joint"})
    joint = new.flows[0].step("joint")
    assert joint.functions == ("fe", "ff")
    assert [(n.source, n.probability, n.when) for n in joint.needs] == [("eia", 1.0, "heavy"), ("fire", 0.6, None)]
    assert joint.optional and new.flows[0].step("permit").rework_to == "design"


def test_merging_a_step_with_its_target_keeps_the_send_back_inside():
    new, _ = apply_checked(_conditional_org(), {"op": "merge_steps", "steps": ["eia", "fire", "permit"],
                                                "into": "permit"})
    assert new.flows[0].step("permit").rework_to == "design"
    new, _ = apply_checked(_conditional_org(), {"op": "merge_steps", "steps": ["design", "eia", "fire", "permit"],
                                                "into": "joint"})
    assert new.flows[0].step("joint").rework_to is None  # its target is inside: back to itself


def test_a_step_sent_back_to_by_others_keeps_them_when_merged():
    org = make_org(
        [{"id": "z", "kind": "committee"}],
        [{"id": x, "owner": "z", "officers": 1, "service_time": True} for x in ("f1", "f2", "f3")],
        [{"id": "t", "steps": [{"id": "a", "function": "f1"}, {"id": "b", "function": "f2", "after": ["a"]},
                               {"id": "c", "function": "f3", "after": ["b"], "rework_to": "a"}]}],
    )
    new, _ = apply_checked(org, {"op": "merge_steps", "steps": ["a", "b"], "into": "ab"})
    assert new.flows[0].step("c").rework_to == "ab"


def test_one_function_under_two_conditions_cannot_be_merged():
    org = make_org(
        [{"id": "z", "kind": "committee"}],
        [{"id": x, "owner": "z", "officers": 1, "service_time": True} for x in ("f1", "f2")],
        [{"id": "t", "steps": [{"id": "a", "function": "f1"},
                               {"id": "b", "function": "f2", "after": ["a"], "probability": 0.5},
                               {"id": "c", "function": "f2", "after": ["a"]}]}],
    )
    message = rejection(org, {"op": "merge_steps", "steps": ["b", "c"], "into": "bc"})
    assert "function 'f2' is needed by steps 'b' and 'c' under different conditions" in message


def test_members_sending_files_to_different_steps_cannot_be_merged():
    org = make_org(
        [{"id": "z", "kind": "committee"}],
        [{"id": x, "owner": "z", "officers": 1, "service_time": True} for x in ("f1", "f2", "f3", "f4")],
        [{"id": "t", "steps": [{"id": "a", "function": "f1"}, {"id": "b", "function": "f2", "after": ["a"]},
                               {"id": "c", "function": "f3", "after": ["b"], "rework_to": "a"},
                               {"id": "d", "function": "f4", "after": ["c"], "rework_to": "b"}]}],
    )
    assert "send files back to different steps ('a', 'b')" in rejection(
        org, {"op": "merge_steps", "steps": ["c", "d"], "into": "cd"})


def test_parallelizing_a_step_with_its_target_sends_files_back_to_itself():
    org = make_org(
        [{"id": "z", "kind": "committee"}],
        [{"id": x, "owner": "z", "officers": 1, "service_time": True} for x in ("f1", "f2", "f3")],
        [{"id": "t", "steps": [{"id": "a", "function": "f1"}, {"id": "b", "function": "f2", "after": ["a"]},
                               {"id": "c", "function": "f3", "after": ["b"], "rework_to": "b"}]}],
    )
    new, changes = apply_checked(org, {"op": "parallelize", "steps": ["b", "c"]})
    assert new.flows[0].step("c").rework_to is None
    assert any("files sent back from 'c' return to it" in c.note for c in changes)


def test_parallelizing_two_steps_that_send_back_through_one_step_is_refused():
    from orgsim.errors import OrgValidationError
    from orgsim.reforms import apply_reform
    from strategies import spec

    org = make_org(
        [{"id": "z", "kind": "committee"}],
        [{"id": x, "owner": "z", "officers": 1, "service_time": True} for x in ("f1", "f2", "f3")],
        [{"id": "t", "steps": [{"id": "a", "function": "f1"},
                               {"id": "b", "function": "f2", "after": ["a"], "rework_to": "a"},
                               {"id": "c", "function": "f3", "after": ["b"], "rework_to": "a"}]}],
    )
    with pytest.raises(OrgValidationError, match="steps 'b' and 'c' may both be in progress"):
        apply_reform(org, spec({"op": "parallelize", "steps": ["b", "c"]}))
