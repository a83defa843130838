"""Operators that move functions between units: strip, devolve, one_stop, spin_off."""

from __future__ import annotations

from dataclasses import replace

from orgsim.model import org as o
from orgsim.reforms._edit import Edit
from orgsim.reforms.changelog import Change
from orgsim.scenario import schema as s

__all__ = ["strip", "devolve", "one_stop", "spin_off"]


def strip(org: o.Org, spec: s.Strip, phase: str | None = None) -> tuple[o.Org, list[Change]]:
    """Function stripping (剥离社会事务管理职能): functions leave for a receiving unit.

    Officers move with their function (``staff: move``) or are released. With
    ``remove_emptied``, a unit left with no function and no child unit is
    dissolved and its leaders and support follow the same rule.
    """
    ed = Edit(org, "strip", phase)
    target = ed.require_unit(spec.to, "receiving unit")
    chosen = ed.select_functions(spec)
    sources = [ed.org.owner(f) for f in chosen]
    for f, src in zip(chosen, sources, strict=True):
        if src == target:
            raise ed.fail(f"function {f!r} is already performed by {target!r}")
        ed.move_function(f, target, spec.staff)
    if spec.remove_emptied:
        ed.remove_emptied(sources, staff_to=target if spec.staff == "move" else None)
    return ed.finish()


def devolve(org: o.Org, spec: s.Devolve, phase: str | None = None) -> tuple[o.Org, list[Change]]:
    """Power devolution (行政权力下放): city powers move to a zone unit.

    "Delegate at once, accept in phases" (一次下放, 分步承接): only the powers
    in ``accept`` move now; the others stay with their city department, so a
    power never lacks an owner, and a later ``devolve`` accepts them.
    """
    ed = Edit(org, "devolve", phase)
    target = ed.require_unit(spec.to, "receiving unit")
    if not ed.org.in_zone_government(target):
        raise ed.fail(f"receiving unit {target!r} is not a zone government unit")
    chosen = ed.select_functions(spec)
    for f in chosen:
        owner = ed.org.owner(f)
        if ed.g.nodes[owner][o.JURISDICTION] != "city":
            raise ed.fail(f"function {f!r} is held by {owner!r}, not by a city unit")
    accepted = chosen if spec.accept == "all" else list(spec.accept)
    for f in accepted:
        if f not in chosen:
            raise ed.fail(f"accepted function {f!r} is not among the devolved functions")
    for f in chosen:
        if f not in accepted:
            ed.log("function_awaiting_acceptance", f, source=ed.org.owner(f), target=target,
                   note="delegated; stays with the city until accepted")
            continue
        ed.move_function(f, target, spec.staff)
        if spec.officers:
            ed.g.nodes[f][o.OFFICERS] += spec.officers
            ed.hire(target, "frontline", spec.officers, subject=f)
    return ed.finish()


def one_stop(org: o.Org, spec: s.OneStop, phase: str | None = None) -> tuple[o.Org, list[Change]]:
    """One-stop approval bureau (行政审批局): approvals move into one bureau.

    The bureau is created (with ``leadership`` and ``support`` hired, and the
    moving officers' former non-case share unless ``non_case_share`` is given)
    or an existing unit.
    Functions bring their officers; with ``pooled`` they share one queue. With
    ``intake``, that function moves in too and every affected approval path
    starts with one intake step at the bureau's window (只需跑一处).
    Only functions already in the bureau's jurisdiction may move: devolve
    city powers first.
    """
    ed = Edit(org, "one_stop", phase)
    chosen = ed.select_functions(spec)
    if spec.intake is not None:
        ed.require_function(spec.intake)
        if spec.intake not in chosen:
            chosen.append(spec.intake)
    if isinstance(spec.bureau, str):
        bureau = ed.require_unit(spec.bureau, "bureau")
        ed.g.nodes[bureau][o.POOLED] = spec.pooled
    else:
        ed.require_new_id(spec.bureau.id)
        first_owner = ed.org.owner(chosen[0])
        bureau = ed.create_unit(
            spec.bureau,
            default_parent=ed.zone_root(first_owner),
            default_jurisdiction=ed.g.nodes[first_owner][o.JURISDICTION],
            pooled=spec.pooled,
        )
        ed.set_leadership(bureau, spec.leadership.chief, spec.leadership.deputies)
        ed.g.nodes[bureau][o.SUPPORT] = spec.support
        ed.hire(bureau, "support", spec.support)
        ed.g.nodes[bureau][o.NON_CASE_SHARE] = (
            spec.non_case_share if spec.non_case_share is not None else _moved_share(ed, chosen)
        )
    jurisdiction = ed.g.nodes[bureau][o.JURISDICTION]
    for f in chosen:
        owner = ed.org.owner(f)
        if ed.g.nodes[owner][o.JURISDICTION] != jurisdiction:
            raise ed.fail(
                f"function {f!r} is held by {owner!r} ({ed.g.nodes[owner][o.JURISDICTION]}); "
                f"the bureau is in the {jurisdiction} jurisdiction: devolve it first"
            )
        ed.move_function(f, bureau)
    if spec.intake is not None:
        moved = set(chosen) - {spec.intake}
        flows = []
        for flow in ed.org.flows:
            if flow.functions() & moved and spec.intake not in flow.functions():
                flow = _prepend_intake(flow, spec.intake)
                ed.log("path_changed", flow.id, note=f"single intake step at {bureau!r}")
            flows.append(flow)
        ed.org.flows = tuple(flows)
    return ed.finish()


def _moved_share(ed: Edit, functions: list[str]) -> float:
    """Non-case share the moving officers had, weighted by their number."""
    weights = [(ed.g.nodes[f][o.OFFICERS], ed.g.nodes[ed.org.owner(f)][o.NON_CASE_SHARE]) for f in functions]
    total = sum(n for n, _ in weights)
    return sum(n * share for n, share in weights) / total if total else 0.0


def _prepend_intake(flow: o.Flow, intake: str) -> o.Flow:
    step_id = "intake"
    existing = {st.id for st in flow.steps}
    n = 1
    while step_id in existing:
        n += 1
        step_id = f"intake_{n}"
    firsts = [st.id for st in flow.steps if not flow.predecessors()[st.id]]
    return replace(
        flow,
        steps=(o.Step(step_id, (intake,)),) + flow.steps,
        after=tuple((step_id, f) for f in firsts) + flow.after,
    )


def spin_off(org: o.Org, spec: s.SpinOff, phase: str | None = None) -> tuple[o.Org, list[Change]]:
    """Spin-off to a company (政企分开, 管委会+公司): functions and staff leave government headcount."""
    ed = Edit(org, "spin_off", phase)
    chosen = ed.select_functions(spec)
    if isinstance(spec.company, str):
        company = ed.require_unit(spec.company, "company")
        if ed.g.nodes[company][o.KIND] != "company":
            raise ed.fail(f"unit {company!r} is a {ed.g.nodes[company][o.KIND]}, not a company")
    else:
        ed.require_new_id(spec.company.id)
        new = spec.company
        if "kind" not in new.model_fields_set:
            new = new.model_copy(update={"kind": "company"})
        if new.kind != "company":
            raise ed.fail(f"company {new.id!r} must be of kind company, not {new.kind}")
        company = ed.create_unit(new, default_parent=None, default_jurisdiction="company")
    sources = [ed.org.owner(f) for f in chosen]
    for f in chosen:
        ed.move_function(f, company)
    if spec.remove_emptied:
        ed.remove_emptied(sources, staff_to=company)
    return ed.finish()
