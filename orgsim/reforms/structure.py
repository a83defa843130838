"""Operators that reshape units: merge, merge_zones, flatten, set_leadership, cap_headcount."""

from __future__ import annotations

import math
from dataclasses import replace

import networkx as nx

from orgsim.model import org as o
from orgsim.reforms._edit import Edit, apportion
from orgsim.reforms.changelog import Change
from orgsim.scenario import schema as s

__all__ = ["merge", "merge_zones", "flatten", "set_leadership", "cap_headcount"]


def _merge_units(
    ed: Edit,
    units: list[str],
    into: s.NewUnit,
    leadership: s.Leadership | None,
    support_saving: float,
    pooled: bool,
    default_kind: str | None = None,
) -> str:
    g, org = ed.g, ed.org
    for u in units:
        ed.require_unit(u)
    if len(set(units)) != len(units):
        raise ed.fail(f"unit listed twice in {units}")
    for u in units:
        ancestors = set(org.chain(u)) - {u}
        clash = ancestors & set(units)
        if clash:
            raise ed.fail(f"unit {u!r} reports to {sorted(clash)[0]!r}, also being merged; flatten first")
    ed.require_new_id(into.id, reusable=units)
    first = units[0]
    parent = into.parent if into.parent is not None else org.parent(first)
    if parent in units:
        raise ed.fail(f"parent {parent!r} is being merged")
    for u in units:
        if parent is not None and parent in org.subtree(u):
            raise ed.fail(f"parent {parent!r} reports to {u!r}, which is being merged")

    data = {u: dict(g.nodes[u]) for u in units}
    functions = {u: org.performed_by(u) for u in units}
    children = {u: org.children(u) for u in units}
    frontline = {u: org.frontline(u) for u in units}

    # Detach the old units first so that the new unit may reuse one of their ids.
    staging = f"__merging_{into.id}"
    spec = into
    if default_kind is not None and "kind" not in into.model_fields_set:
        spec = into.model_copy(update={"kind": default_kind})
    weights = sum(frontline.values())
    share = (
        sum(data[u][o.NON_CASE_SHARE] * frontline[u] for u in units) / weights
        if weights
        else max(data[u][o.NON_CASE_SHARE] for u in units)
    )
    ed.create_unit(
        spec.model_copy(update={"id": staging}),
        default_parent=parent,
        default_jurisdiction=data[first][o.JURISDICTION],
        origin=tuple(x for u in units for x in data[u][o.ORIGIN]),
        pooled=pooled,
        non_case_share=share,
    )
    ed.changes.pop()  # logged again below under its final id
    _merged_support_work(ed, staging, units, data, frontline)
    for u in units:
        for f in functions[u]:
            ed.move_function(f, staging)
        for c in children[u]:
            ed.reparent(c, staging)

    old_leaders = sum(data[u][o.CHIEF] + data[u][o.DEPUTIES] for u in units)
    if leadership is None:
        leadership = s.Leadership(chief=1, deputies=max(data[u][o.DEPUTIES] for u in units))
    supports = [data[u][o.SUPPORT] for u in units]
    largest = max(supports)
    rest = sum(supports) - largest
    # Half-up rounding, stated in the docs (Python's round() would round halves to even).
    kept_support = largest + math.floor((1 - support_saving) * rest + 0.5)

    for u in units:
        # Staff join the new unit; surpluses are released below, from the new unit.
        ed.account_move(u, staging, "leaders", data[u][o.CHIEF] + data[u][o.DEPUTIES], u)
        ed.account_move(u, staging, "support", data[u][o.SUPPORT], u)
        g.nodes[u][o.CHIEF] = g.nodes[u][o.DEPUTIES] = g.nodes[u][o.SUPPORT] = 0
        ed.reparent(u, None)
        g.remove_node(u)
        ed.log("unit_merged", u, target=into.id)

    g.nodes[staging][o.CHIEF] = 0
    g.nodes[staging][o.DEPUTIES] = old_leaders
    g.nodes[staging][o.SUPPORT] = sum(supports)
    nx.relabel_nodes(g, {staging: into.id}, copy=False)
    ed.changes[:] = [_rename(c, staging, into.id) for c in ed.changes]
    ed.log("unit_created", into.id, target=parent, note=f"merged from {', '.join(units)}")
    ed.set_leadership(into.id, leadership.chief, leadership.deputies)
    g.nodes[into.id][o.SUPPORT] = kept_support
    ed.release(into.id, "support", sum(supports) - kept_support, subject=f"{into.id} support")
    return into.id


def _merged_support_work(ed: Edit, unit: str, units: list[str], data: dict[str, dict],
                         frontline: dict[str, int]) -> None:
    """The merged unit's support work: the default when every merged unit had it, else their
    officer-weighted mean (the largest, without officers)."""
    keys = (o.SUPPORT_HOURS_PER_CASE, o.SUPPORT_HOURS_PER_OFFICER)
    if all(data[u].get(k) is None for u in units for k in keys):
        return
    default = ed.g.graph.get(o.SUPPORT_WORK, (0.0, 0.0))
    weights = sum(frontline.values())
    for k, key in enumerate(keys):
        values = {u: default[k] if data[u].get(key) is None else data[u][key] for u in units}
        ed.g.nodes[unit][key] = (sum(values[u] * frontline[u] for u in units) / weights if weights
                                 else max(values.values()))


def _rename(change: Change, old: str, new: str) -> Change:
    return replace(
        change,
        subject=new if change.subject == old else change.subject,
        source=new if change.source == old else change.source,
        target=new if change.target == old else change.target,
    )


def merge(org: o.Org, spec: s.Merge, phase: str | None = None) -> tuple[o.Org, list[Change]]:
    """Big-department consolidation (大部制): ``spec.units`` become ``spec.into``.

    Functions and their officers move in; child units re-parent to the new
    unit. Leadership is ``spec.leadership``, by default 1 chief and the
    largest deputy count among the merged units; surplus leaders are released.
    Support staff: the largest unit's office is kept whole and
    ``support_saving`` of the others' support staff is released, because a
    merged unit needs one office, not several.
    """
    ed = Edit(org, "merge", phase)
    _merge_units(ed, spec.units, spec.into, spec.leadership, spec.support_saving, spec.pooled)
    return ed.finish()


def merge_zones(org: o.Org, spec: s.MergeZones, phase: str | None = None) -> tuple[o.Org, list[Change]]:
    """Merge zones (their committees) or sub-districts (整合, 托管) into one.

    Same rules as :func:`merge`; each unit must head its hierarchy or be a
    sub-district or township.
    """
    ed = Edit(org, "merge_zones", phase)
    for u in spec.units:
        ed.require_unit(u)
        kind = ed.g.nodes[u][o.KIND]
        if ed.org.parent(u) is not None and kind not in ("sub_district", "township"):
            raise ed.fail(f"unit {u!r} ({kind}) is neither a zone's top unit nor a sub-district/township")
    default_kind = ed.g.nodes[spec.units[0]][o.KIND]
    _merge_units(ed, spec.units, spec.into, spec.leadership, spec.support_saving, False, default_kind)
    return ed.finish()


def flatten(org: o.Org, spec: s.Flatten, phase: str | None = None) -> tuple[o.Org, list[Change]]:
    """Remove a layer (压减层级): each listed unit goes; children and functions move up.

    The functions that move up, and those in the subtrees of the children that
    move up, lose ``signoff_cut`` sign-off levels (never below one). Support
    staff move to the parent; leaders are released or join it as deputies.
    """
    ed = Edit(org, "flatten", phase)
    g = ed.g
    for u in spec.units:
        ed.require_unit(u)
        if ed.org.parent(u) is None:
            raise ed.fail(f"unit {u!r} heads its hierarchy; there is no layer above to move up to")
    for u in spec.units:
        if not ed.org.is_unit(u):
            raise ed.fail(f"unit {u!r} listed twice")
        parent = ed.org.parent(u)
        assert parent is not None
        touched = list(ed.org.performed_by(u))
        for c in ed.org.children(u):
            touched += [f for x in ed.org.subtree(c) for f in ed.org.performed_by(x)]
            ed.reparent(c, parent)
        for f in ed.org.performed_by(u):
            ed.move_function(f, parent)
        for f in touched:
            levels = g.nodes[f][o.SIGNOFF_LEVELS]
            new = max(min(levels, 1), levels - spec.signoff_cut)
            if new != levels:
                g.nodes[f][o.SIGNOFF_LEVELS] = new
                ed.log("signoff_changed", f, note=f"{levels} -> {new} levels")
        d = g.nodes[u]
        if spec.leaders == "release":
            ed.release(u, "leaders", d[o.CHIEF] + d[o.DEPUTIES])
            d[o.CHIEF] = d[o.DEPUTIES] = 0
        ed.remove_unit(u, staff_to=parent)
    return ed.finish()


def set_leadership(org: o.Org, spec: s.SetLeadership, phase: str | None = None) -> tuple[o.Org, list[Change]]:
    """Set leadership posts (1 正 + N 副) on named units and on zone units of given kinds."""
    ed = Edit(org, "set_leadership", phase)
    targets = [ed.require_unit(u) for u in spec.units]
    if spec.kinds:
        by_kind = [u for u in ed.org.zone_units() if ed.g.nodes[u][o.KIND] in spec.kinds]
        if not by_kind:
            raise ed.fail(f"no zone unit of kind {', '.join(spec.kinds)}")
        targets += by_kind
    for u in dict.fromkeys(targets):
        d = ed.g.nodes[u]
        if (d[o.CHIEF], d[o.DEPUTIES]) != (spec.chief, spec.deputies):
            ed.set_leadership(u, spec.chief, spec.deputies)
    return ed.finish()


def cap_headcount(org: o.Org, spec: s.CapHeadcount, phase: str | None = None) -> tuple[o.Org, list[Change]]:
    """Cap posts (员额) in the zone units of a subtree (or of several) at ``spec.cap``.

    Leaders are never cut here (use ``set_leadership``). ``support_first``
    cuts support staff before officers, ``frontline_first`` the reverse,
    ``proportional`` both in proportion to what can be cut. Within a
    category cuts are shared in proportion to each holder's staff, and every
    function that receives cases keeps at least one officer (in its pool, for
    a pooled unit whose case functions have no officers of their own).
    """
    ed = Edit(org, "cap_headcount", phase)
    g = ed.g
    roots = [spec.within] if isinstance(spec.within, str) else list(dict.fromkeys(spec.within))
    for r in roots:
        ed.require_unit(r, "within unit")
    root = ", ".join(roots)
    units = list(dict.fromkeys(
        u for r in roots for u in ed.org.subtree(r) if ed.org.in_zone_government(u)
    ))
    current = sum(ed.org.headcount(u) for u in units)
    excess = current - spec.cap
    if excess <= 0:
        ed.log("no_change", root, note=f"headcount {current} already within cap {spec.cap}")
        return ed.finish()
    case_functions = ed.org.case_functions()
    support_holders = [(u, g.nodes[u][o.SUPPORT]) for u in units]
    officer_holders = []
    for u in units:
        functions = ed.org.performed_by(u)
        cases = [f for f in functions if f in case_functions]
        # A pooled unit whose case functions have no officers of their own keeps one in its pool.
        pool_keep = g.nodes[u][o.POOLED] and not any(g.nodes[f][o.OFFICERS] for f in cases) and bool(cases)
        for f in functions:
            keep = 1 if f in case_functions and g.nodes[f][o.OFFICERS] > 0 else 0
            if pool_keep and g.nodes[f][o.OFFICERS] > 0:
                keep, pool_keep = 1, False
            officer_holders.append((f, g.nodes[f][o.OFFICERS] - keep))
    support_room = sum(n for _, n in support_holders)
    officer_room = sum(n for _, n in officer_holders)
    if excess > support_room + officer_room:
        leaders = sum(ed.org.leaders(u) for u in units)
        raise ed.fail(
            f"cap {spec.cap} for {root!r} cannot be met: {leaders} leaders and one officer per "
            f"case function leave at least {current - support_room - officer_room} posts"
        )
    if spec.policy == "support_first":
        cut_support = min(excess, support_room)
    elif spec.policy == "frontline_first":
        cut_support = excess - min(excess, officer_room)
    else:
        cut_support = apportion(excess, [support_room, officer_room])[0]
    cut_officers = excess - cut_support
    for (u, _), n in zip(support_holders, apportion(cut_support, [n for _, n in support_holders]), strict=True):
        g.nodes[u][o.SUPPORT] -= n
        ed.release(u, "support", n)
    for (f, _), n in zip(officer_holders, apportion(cut_officers, [n for _, n in officer_holders]), strict=True):
        g.nodes[f][o.OFFICERS] -= n
        ed.release(ed.org.owner(f), "frontline", n, subject=f)
    return ed.finish()
