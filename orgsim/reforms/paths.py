"""Operators that rewrite approval paths and how files travel them: parallelize, merge_steps,
agency_service, coordinate."""

from __future__ import annotations

from dataclasses import replace

import networkx as nx

from orgsim.model import org as o
from orgsim.reforms._edit import Edit
from orgsim.reforms.changelog import Change
from orgsim.scenario import schema as s

__all__ = ["parallelize", "merge_steps", "agency_service", "coordinate"]


def _select_flows(ed: Edit, spec: s._PathSelector, steps: list[str]) -> list[int]:
    """Indexes of the flows the operator rewrites."""
    known = {f.id: i for i, f in enumerate(ed.org.flows)}
    if spec.project_types:
        for pt in spec.project_types:
            if pt not in known:
                raise ed.fail(f"project type {pt!r} does not exist")
        chosen = list(dict.fromkeys(known[pt] for pt in spec.project_types))
        for i in chosen:
            ids = {st.id for st in ed.org.flows[i].steps}
            missing = [x for x in steps if x not in ids]
            if missing:
                raise ed.fail(f"project type {ed.org.flows[i].id!r} has no step {missing[0]!r}")
        return chosen
    chosen = [i for i, f in enumerate(ed.org.flows) if set(steps) <= {st.id for st in f.steps}]
    if steps and not chosen:
        raise ed.fail(f"no project type has all of the steps {steps}")
    return chosen


def _check_no_detour(ed: Edit, flow: o.Flow, group: list[str]) -> None:
    """Steps joined by a path through a step outside the group cannot be joined."""
    dag = flow.dag()
    for a in group:
        for b in group:
            if a == b:
                continue
            for mid in nx.descendants(dag, a):
                if mid not in group and b in nx.descendants(dag, mid):
                    raise ed.fail(
                        f"in {flow.id!r}, step {b!r} waits for {a!r} through {mid!r}; "
                        f"include {mid!r} or rewrite the path"
                    )


def _regroup(flow: o.Flow, group: list[str], members_after: dict[str, list[str]]) -> tuple[tuple[str, str], ...]:
    """Dependencies with ``group`` rewired: outside predecessors shared, successors wait for all."""
    preds = sorted({a for a, b in flow.after if b in group and a not in group})
    succs = sorted({b for a, b in flow.after if a in group and b not in group})
    kept = [(a, b) for a, b in flow.after if a not in group and b not in group]
    new = []
    for member, firsts in members_after.items():
        new += [(p, member) for p in preds if p not in firsts]
        new += [(f, member) for f in firsts]
        new += [(member, x) for x in succs]
    return tuple(dict.fromkeys(kept + new))


def parallelize(org: o.Org, spec: s.Parallelize, phase: str | None = None) -> tuple[o.Org, list[Change]]:
    """Parallel approval (并联审批): the listed steps start together and all must end.

    Each step waits for every outside predecessor of the group; every step
    that waited for one of them waits for all of them.
    """
    ed = Edit(org, "parallelize", phase)
    flows = list(ed.org.flows)
    for i in _select_flows(ed, spec, spec.steps):
        flow = flows[i]
        _check_no_detour(ed, flow, spec.steps)
        after = _regroup(flow, spec.steps, {m: [] for m in spec.steps})
        if set(after) != set(flow.after):
            flows[i] = _rework_within_path(ed, replace(flow, after=after))
            ed.log("path_changed", flow.id, note=f"steps {', '.join(spec.steps)} run in parallel")
    ed.org.flows = tuple(flows)
    return ed.finish()


def merge_steps(org: o.Org, spec: s.MergeSteps, phase: str | None = None) -> tuple[o.Org, list[Change]]:
    """Merged approval (多评合一, 多审合一): the listed steps become one step.

    The merged step needs all their functions and queues where its first
    function is performed; its service time is the ``combine`` of theirs
    (sum, max, or a factor times the sum) and it is sent back if any of them
    would send the file back.
    """
    ed = Edit(org, "merge_steps", phase)
    flows = list(ed.org.flows)
    for i in _select_flows(ed, spec, spec.steps):
        flow = flows[i]
        if spec.into in {st.id for st in flow.steps} - set(spec.steps):
            raise ed.fail(f"project type {flow.id!r} already has a step {spec.into!r}")
        _check_no_detour(ed, flow, spec.steps)
        functions, needs = _merged_functions(ed, flow, spec.steps)
        merged = o.Step(spec.into, functions, spec.combine, needs=needs,
                        rework_to=_merged_rework_target(ed, flow, spec.steps))
        after = _regroup(flow, spec.steps, {spec.into: []})
        position = min(k for k, st in enumerate(flow.steps) if st.id in spec.steps)
        steps = [st if st.rework_to not in spec.steps else replace(st, rework_to=spec.into)
                 for st in flow.steps if st.id not in spec.steps]
        steps.insert(position, merged)
        flows[i] = replace(flow, steps=tuple(steps), after=after)
        ed.log("path_changed", flow.id, note=f"steps {', '.join(spec.steps)} merged into {spec.into!r}")
    ed.org.flows = tuple(flows)
    return ed.finish()


def _merged_functions(ed: Edit, flow: o.Flow, group: list[str]) -> tuple[tuple[str, ...], tuple[o.Need | None, ...]]:
    """The merged step's functions, each with when it is needed (a member's own condition)."""
    need_of: dict[str, o.Need | None] = {}
    owner: dict[str, str] = {}
    for sid in group:
        step = flow.step(sid)
        for k, f in enumerate(step.functions):
            need = step.need(k)
            if f in need_of and need_of[f] != need:
                raise ed.fail(
                    f"in {flow.id!r}, function {f!r} is needed by steps {owner[f]!r} and {sid!r} under different "
                    "conditions (probability or when); a merged step does each function once: give the steps "
                    "the same condition, or merge other steps")
            need_of.setdefault(f, need)
            owner.setdefault(f, sid)
    functions = tuple(need_of)
    needs = tuple(need_of.values())
    return functions, (needs if any(n is not None for n in needs) else ())


def _merged_rework_target(ed: Edit, flow: o.Flow, group: list[str]) -> str | None:
    """Where the merged step sends files back: the members' one target outside the group, or itself."""
    targets = list(dict.fromkeys(
        flow.step(sid).rework_to for sid in group if flow.step(sid).rework_to not in (None, *group)))
    if len(targets) > 1:
        raise ed.fail(f"in {flow.id!r}, steps {', '.join(group)} send files back to different steps "
                      f"({', '.join(map(repr, targets))}); a merged step returns files to one place")
    return targets[0] if targets else None


def _rework_within_path(ed: Edit, flow: o.Flow) -> o.Flow:
    """Files sent back to a step that no longer comes before the sender go back to the sender itself."""
    dag = flow.dag()
    steps = []
    for st in flow.steps:
        if st.rework_to is not None and st.rework_to not in nx.ancestors(dag, st.id):
            ed.log("path_changed", flow.id, note=f"step {st.rework_to!r} no longer comes before {st.id!r}: "
                   f"files sent back from {st.id!r} return to it")
            st = replace(st, rework_to=None)
        steps.append(st)
    return replace(flow, steps=tuple(steps))


def agency_service(org: o.Org, spec: s.AgencyService, phase: str | None = None) -> tuple[o.Org, list[Change]]:
    """Agency service (领办代办): staff prepare and chase the applicant's files.

    Rework probabilities of the chosen project types are multiplied by
    ``rework_factor`` and the applicant's resubmission delay by
    ``delay_factor``.
    """
    ed = Edit(org, "agency_service", phase)
    flows = list(ed.org.flows)
    for i in _select_flows(ed, spec, []):
        flow = flows[i]
        flows[i] = replace(
            flow,
            rework_factor=flow.rework_factor * spec.rework_factor,
            delay_factor=flow.delay_factor * spec.delay_factor,
        )
        ed.log("rework_changed", flow.id,
               note=f"rework x{spec.rework_factor}, resubmission delay x{spec.delay_factor}")
    ed.org.flows = tuple(flows)
    return ed.finish()


def coordinate(org: o.Org, spec: s.Coordinate, phase: str | None = None) -> tuple[o.Org, list[Change]]:
    """Coordination (功能区吹哨、部门报到; 直通车): hand-offs between two sides set or scaled.

    Each side is units (each with every unit below it, matched later by the
    ids they came from, so a merged unit stays covered) and jurisdictions.
    From now on every hand-off from a step at one side to a step at the other
    (and back, with ``both_ways``) takes ``factor`` times its delay, or a new
    delay ``handoff``; rules apply in the order they were made. The delays
    keep their random numbers' names, so a factor scales the same draws.
    """
    ed = Edit(org, "coordinate", phase)
    sides = []
    for side in spec.between:
        for u in side.units:
            ed.require_unit(u)
        sides.append(o.HandoffSide.resolve(ed.org, side.units, side.jurisdictions))
    rule = o.HandoffRule((sides[0], sides[1]), spec.both_ways, 1.0 if spec.factor is None else spec.factor,
                         spec.handoff)
    ed.org.handoff_rules = ed.org.handoff_rules + (rule,)
    crossing = [flow.id for flow in ed.org.flows for a, b in flow.after
                if rule.applies(ed.org, ed.org.owner(flow.step(a).functions[0]),
                                ed.org.owner(flow.step(b).functions[0]))]
    what = f"hand-offs x{spec.factor:g}" if spec.factor is not None else f"hand-offs now {spec.handoff}"
    where = " and ".join(_side_text(side) for side in spec.between)
    ed.log("handoff_changed", where, note=f"{what}{' both ways' if spec.both_ways else ''}; "
           + (f"paths crossing now: {', '.join(dict.fromkeys(crossing))}" if crossing else "no path crosses them now"))
    return ed.finish()


def _side_text(side: s.HandoffSide) -> str:
    return "+".join([*side.units, *side.jurisdictions])
