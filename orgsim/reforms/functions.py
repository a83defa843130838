"""Operators that move functions between units: strip, devolve, one_stop, spin_off, one_window,
enforcement_bureau."""

from __future__ import annotations

from dataclasses import replace

from orgsim.model import org as o
from orgsim.reforms._edit import Edit
from orgsim.reforms.changelog import Change
from orgsim.scenario import schema as s

__all__ = ["strip", "devolve", "one_stop", "spin_off", "one_window", "enforcement_bureau"]


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
    bureau = _gather(ed, spec, chosen)
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


def _gather(ed: Edit, spec: s.OneStop | s.EnforcementBureau, chosen: list[str]) -> str:
    """Move ``chosen`` into ``spec.bureau`` (created, with its leadership and support hired): the bureau."""
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
    return bureau


def enforcement_bureau(org: o.Org, spec: s.EnforcementBureau, phase: str | None = None) -> tuple[o.Org, list[Change]]:
    """Comprehensive enforcement bureau (综合执法局): enforcement powers gathered in one bureau.

    Penalty and coercion powers (by default; any selection of functions or
    categories) move with their officers into a new or existing bureau, as
    ``one_stop`` moves approvals: powers held by another jurisdiction must be
    devolved first. Their officers share one queue (``pooled``), so the
    enforcement cases of every gathered power are served together. With
    ``resolution``, the bureau resolves those cases with new shares of
    service, management and enforcement (the 721 method: 0.7, 0.2, 0.1),
    each way keeping its officer time.
    """
    ed = Edit(org, "enforcement_bureau", phase)
    chosen = ed.select_functions(spec)
    first_owner = ed.org.owner(chosen[0])
    if not isinstance(spec.bureau, str) and spec.bureau.jurisdiction is None and \
            not ed.org.in_zone_government(first_owner):
        raise ed.fail(f"the new bureau would be in the {ed.g.nodes[first_owner][o.JURISDICTION]} jurisdiction of "
                      f"{first_owner!r}, which holds {chosen[0]!r}: devolve the powers first, name `within` to "
                      "leave them alone, or give the bureau a jurisdiction")
    bureau = _gather(ed, spec, chosen)
    if spec.resolution is not None:
        shares = tuple(getattr(spec.resolution, r) for r in o.RESOLUTIONS)
        flows = []
        for case in ed.org.case_flows:
            if case.function in chosen:
                case = replace(case, resolutions=tuple(
                    (share, time) for share, (_, time) in zip(shares, case.resolutions, strict=True)))
                ed.log("resolution_changed", case.id, target=bureau, note=", ".join(
                    f"{r} {share:.0%}" for r, share in zip(o.RESOLUTIONS, shares, strict=True)))
            flows.append(case)
        ed.org.case_flows = tuple(flows)
    return ed.finish()


def one_window(org: o.Org, spec: s.OneWindow, phase: str | None = None) -> tuple[o.Org, list[Change]]:
    """One window (一个窗口, 一窗受理): one intake step in front of every approval path.

    The window is a new unit (kind ``window``, under the zone's top unit, its
    leadership and support hired) or an existing one. Its intake function is
    new (its officers hired) or an existing one, moved to the window with its
    officers. Every chosen project type (all by default) that does not start
    with the intake function gets an intake step in front of its first steps;
    the approvals stay with their departments (``one_stop`` moves them too).
    """
    ed = Edit(org, "one_window", phase)
    known = {f.id for f in ed.org.flows}
    for pt in spec.project_types:
        if pt not in known:
            raise ed.fail(f"project type {pt!r} does not exist")
    if isinstance(spec.intake, str):
        ed.require_function(spec.intake)
        if ed.g.nodes[spec.intake][o.SERVICE_TIME] is None:
            raise ed.fail(f"intake function {spec.intake!r} has no service_time")
    else:
        ed.require_new_id(spec.intake.id)
    if isinstance(spec.window, str):
        window = ed.require_unit(spec.window, "window")
    else:
        ed.require_new_id(spec.window.id)
        new = (spec.window if "kind" in spec.window.model_fields_set
               else spec.window.model_copy(update={"kind": "window"}))
        anchor = ed.org.owner(spec.intake) if isinstance(spec.intake, str) else None
        roots = [r for r in ed.org.roots() if ed.org.in_zone_government(r)]
        if anchor is None and new.parent is None and len(roots) != 1:
            raise ed.fail(f"say where the window reports (window.parent): the organisation has {len(roots)} "
                          "zone top units")
        window = ed.create_unit(new, default_parent=ed.zone_root(anchor) if anchor is not None else roots[0],
                                default_jurisdiction="zone")
        ed.set_leadership(window, spec.leadership.chief, spec.leadership.deputies)
        ed.g.nodes[window][o.SUPPORT] = spec.support
        ed.hire(window, "support", spec.support)
    if isinstance(spec.intake, str):
        intake = spec.intake
        ed.move_function(intake, window)
    else:
        f = spec.intake
        intake = f.id
        ed.g.add_node(intake, **{
            o.NODE_TYPE: o.FUNCTION, o.NAME: f.name, o.NAME_EN: f.name_en, o.CATEGORY: f.category, o.POWER_ITEMS: 0,
            o.OFFICERS: f.officers, o.SERVICE_TIME: f.service_time, o.SIGNOFF_LEVELS: f.signoff_levels,
            o.REWORK_PROBABILITY: f.rework_probability, o.STANDING_HOURS: 0.0,
        })
        ed.g.add_edge(window, intake, **{o.EDGE_TYPE: o.PERFORMS})
        ed.log("function_created", intake, target=window, note=f"{f.category} {f.name}")
        ed.hire(window, "frontline", f.officers, subject=intake)
    flows = []
    for flow in ed.org.flows:
        if (not spec.project_types or flow.id in spec.project_types) and intake not in flow.functions():
            flow = _prepend_intake(flow, intake, spec.step)
            ed.log("path_changed", flow.id, note=f"single intake step {spec.step!r} at {window!r}; approvals stay put")
        flows.append(flow)
    ed.org.flows = tuple(flows)
    return ed.finish()


def _moved_share(ed: Edit, functions: list[str]) -> float:
    """Non-case share the moving officers had, weighted by their number."""
    weights = [(ed.g.nodes[f][o.OFFICERS], ed.g.nodes[ed.org.owner(f)][o.NON_CASE_SHARE]) for f in functions]
    total = sum(n for n, _ in weights)
    return sum(n * share for n, share in weights) / total if total else 0.0


def _prepend_intake(flow: o.Flow, intake: str, step_id: str = "intake") -> o.Flow:
    existing = {st.id for st in flow.steps}
    base, n = step_id, 1
    while step_id in existing:
        n += 1
        step_id = f"{base}_{n}"
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
