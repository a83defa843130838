"""Test helpers: hypothesis strategies for random organisations and reform operators.

``scenarios()`` draws a random valid :class:`~orgsim.scenario.schema.Scenario`:
one or two zones (a committee over a random forest of internal bodies), city
departments, sub-districts or townships, perhaps a platform company, functions
spread over all of them, and up to two approval paths (random DAGs of steps).
Every function that handles cases has a service time and at least one officer
(or, with ``pooled_cases``, may rely on its pooled unit's officers).

``operator_specs(org, op)`` draws a spec for operator ``op`` that references
ids existing in ``org`` *now* and meets the operator's preconditions as far as
they can be computed from outside; ``applicable(org)`` lists the operators
for which such a spec exists. ``wild_specs(org)`` draws specs with less care:
near misses of valid specs (``mutated_specs``: an id replaced, duplicated or
added) and specs whose ids are drawn from everything, for robustness.

The module also holds the small deterministic helpers the example tests share:
``make_org`` (an organisation from compact dicts), ``spec`` (an operator spec
from a dict), ``graph_dump``/``org_dump`` (comparable snapshots),
``check_step`` (every invariant and conservation law across one operator),
``apply_checked`` (apply an operator and run ``check_step`` and a purity
check) and ``rejection`` (the message of the ReformError an operator raises).
"""

from __future__ import annotations

import itertools
from typing import Any

import networkx as nx
import pytest
from hypothesis import strategies as st
from pydantic import TypeAdapter

from orgsim.errors import ReformError
from orgsim.model import org as o
from orgsim.model.build import build_org
from orgsim.model.validate import org_problems
from orgsim.reforms import OPERATORS
from orgsim.reforms.changelog import ACTIONS
from orgsim.scenario import schema as s

__all__ = [
    "OPERATOR_NAMES", "LEDGER_FIELDS", "scenarios", "orgs", "applicable", "weighted",
    "operator_specs", "mutated_specs", "wild_specs", "cap_room",
    "make_org", "spec", "apply_checked", "rejection", "graph_dump", "org_dump", "check_step",
    "dated_networks",
]

OPERATOR_NAMES = (
    "merge", "merge_zones", "strip", "devolve", "flatten", "one_stop", "parallelize",
    "merge_steps", "agency_service", "spin_off", "cap_headcount", "set_leadership",
    "coordinate", "one_window", "enforcement_bureau",
)
LEDGER_FIELDS = ("released", "hired", "released_outside", "hired_outside", "moved_out", "moved_in")
INTERNAL_KINDS = ("bureau", "department", "office", "centre", "park", "institution", "window")
_REFORM_OP = TypeAdapter(s.ReformOp)
_SERVICE = {"dist": "exponential", "mean": 1.0, "unit": "days"}


# ---------------------------------------------------------------- deterministic helpers


def spec(data: dict[str, Any]) -> Any:
    """An operator spec from a dict, validated by the scenario schema."""
    return _REFORM_OP.validate_python(data)


def make_org(
    units: list[dict[str, Any]],
    functions: list[dict[str, Any]] = (),  # type: ignore[assignment]
    project_types: list[dict[str, Any]] = (),  # type: ignore[assignment]
) -> o.Org:
    """An organisation from compact dicts; ``name`` defaults to the id.

    A function with ``service_time: True`` gets a one-day exponential service
    time; a project type gets a Poisson arrival rate of 10 a year.
    """
    us = [{"name": u["id"], **u} for u in units]
    fs = []
    for f in functions:
        f = {"name": f["id"], "category": "licensing", **f}
        if f.get("service_time") is True:
            f["service_time"] = _SERVICE
        fs.append(f)
    data: dict[str, Any] = {"scenario": {"name": "test"}, "units": us, "functions": fs}
    if project_types:
        data["workload"] = {
            "project_types": [
                {"name": p["id"], "arrivals": {"rate": 10, "per": "year"}, **p} for p in project_types
            ]
        }
    org = build_org(s.Scenario.model_validate(data))
    problems = org_problems(org)
    assert problems == [], problems
    return org


def graph_dump(org: o.Org) -> tuple:
    """Every node and edge of the graph with its data, sorted: equal iff the graphs are."""
    g = org.graph
    nodes = sorted((n, sorted((k, repr(v)) for k, v in d.items())) for n, d in g.nodes(data=True))
    edges = sorted((a, b, sorted((k, repr(v)) for k, v in d.items())) for a, b, d in g.edges(data=True))
    return (repr(sorted(g.graph.items())), nodes, edges)


def org_dump(org: o.Org) -> tuple:
    """Graph, approval paths, ledger, hand-off rules and case flows of an organisation, comparable with ``==``."""
    return (graph_dump(org), repr(org.flows), repr(org.ledger), repr(org.handoff_rules), repr(org.case_flows))


def _ledger(org: o.Org, name: str) -> int:
    return org.ledger.total(name)


def _is_forest(org: o.Org) -> bool:
    h = nx.DiGraph()
    h.add_nodes_from(org.units())
    h.add_edges_from(
        (b, a) for a, b, d in org.graph.edges(data=True) if d[o.EDGE_TYPE] == o.REPORTS_TO
    )
    return nx.is_branching(h)


def check_step(before: o.Org, after: o.Org, changes: list) -> None:
    """Assert every invariant of ``after`` and every conservation law from ``before``."""
    assert org_problems(after) == []
    # the same functions (one_window may add its intake), each with exactly one owner (a unit)
    assert set(after.functions()) >= set(before.functions())
    assert set(after.functions()) == set(before.functions()) or all(c.op == "one_window" for c in changes)
    for f in after.functions():
        owners = [u for u, _, d in after.graph.in_edges(f, data=True) if d[o.EDGE_TYPE] == o.PERFORMS]
        assert len(owners) == 1 and after.is_unit(owners[0]), (f, owners)
    # the hierarchy is a forest; approval paths are DAGs of known functions that lost none
    assert _is_forest(after)
    assert [f.id for f in after.flows] == [f.id for f in before.flows]
    for old, new in zip(before.flows, after.flows, strict=True):
        assert nx.is_directed_acyclic_graph(new.dag())
        assert new.functions() >= old.functions()
        assert all(after.is_function(f) for f in new.functions())
    # headcount conservation, in the zone and overall (ledger differences of this step)
    d = {k: _ledger(after, k) - _ledger(before, k) for k in LEDGER_FIELDS}
    assert all(v >= 0 for v in d.values()), d
    assert (
        before.zone_headcount() + d["moved_in"] + d["hired"]
        == after.zone_headcount() + d["moved_out"] + d["released"]
    ), d
    assert (
        before.total_headcount() + d["hired"] + d["hired_outside"]
        == after.total_headcount() + d["released"] + d["released_outside"]
    ), d
    # the change log agrees with the ledger
    assert all(c.action in ACTIONS for c in changes)
    released = sum(c.staff for c in changes if c.action == "staff_released")
    hired = sum(c.staff for c in changes if c.action == "staff_hired")
    assert released == d["released"] + d["released_outside"]
    assert hired == d["hired"] + d["hired_outside"]


def apply_checked(org: o.Org, data: dict[str, Any]) -> tuple[o.Org, list]:
    """Apply the operator ``data`` describes; check invariants, conservation and purity."""
    snapshot = org_dump(org)
    new, changes = OPERATORS[data["op"]](org, spec(data))
    assert org_dump(org) == snapshot, f"{data['op']} changed its input"
    check_step(org, new, changes)
    return new, changes


def rejection(org: o.Org, data: dict[str, Any]) -> str:
    """The message of the ReformError the operator ``data`` describes raises on ``org``."""
    snapshot = org_dump(org)
    with pytest.raises(ReformError) as info:
        OPERATORS[data["op"]](org, spec(data))
    assert org_dump(org) == snapshot
    message = str(info.value)
    assert message.startswith(f"{data['op']}: ")
    return message


# ---------------------------------------------------------------- random organisations


def _leaders(draw: Any) -> dict[str, int]:
    return {"chief": draw(st.integers(0, 1)), "deputies": draw(st.integers(0, 4))}


def _unit(draw: Any, uid: str, kind: str, parent: str | None, jurisdiction: str) -> dict[str, Any]:
    return {
        "id": uid,
        "name": uid,
        "kind": kind,
        "parent": parent,
        "jurisdiction": jurisdiction,
        "leaders": _leaders(draw),
        "support": draw(st.integers(0, 8)),
        "pooled": draw(st.booleans()),
        "non_case_share": draw(st.sampled_from([0.0, 0.1, 0.3])),
    }


@st.composite
def scenarios(
    draw: Any, max_internal: int = 9, max_functions: int = 12, pooled_cases: bool = False
) -> s.Scenario:
    """A random valid scenario (see the module docstring).

    With ``pooled_cases``, a function without officers of its own may handle
    cases too when its unit is pooled and has officers on other functions.
    """
    units: list[dict[str, Any]] = []
    zone_ids: list[str] = []
    committees = [f"z{i}" for i in range(draw(st.integers(1, 2)))]
    for z in committees:
        kind = draw(st.sampled_from(["committee", "committee", "party_committee"]))
        units.append(_unit(draw, z, kind, None, "zone"))
        zone_ids.append(z)
    for i in range(draw(st.integers(0, max_internal))):
        uid = f"u{i}"
        parent = draw(st.sampled_from(zone_ids))
        units.append(_unit(draw, uid, draw(st.sampled_from(INTERNAL_KINDS)), parent, "zone"))
        zone_ids.append(uid)
    for i in range(draw(st.integers(0, 3))):
        units.append(_unit(draw, f"c{i}", "city_department", None, "city"))
    for i in range(draw(st.integers(0, 2))):
        parent = draw(st.one_of(st.none(), st.sampled_from(committees)))
        kind = draw(st.sampled_from(["sub_district", "township"]))
        units.append(_unit(draw, f"s{i}", kind, parent, "district"))
    company = draw(st.sampled_from(["none", "none", "outside", "in_zone"]))
    if company == "outside":
        units.append(_unit(draw, "p0", "company", None, "company"))
    elif company == "in_zone":  # a company kept under the committee: not zone government
        units.append(_unit(draw, "p0", "company", draw(st.sampled_from(committees)), "zone"))

    unit_ids = [u["id"] for u in units]
    functions: list[dict[str, Any]] = []
    timed_ids: list[str] = []
    for i in range(draw(st.integers(1, max_functions))):
        fid = f"f{i}"
        officers = draw(st.sampled_from([0, 0, 1, 2, 4]) if pooled_cases else st.integers(0, 6))
        timed = draw(st.sampled_from([True, True, False]))
        functions.append(
            {
                "id": fid,
                "name": fid,
                "category": draw(st.sampled_from(s.FUNCTION_CATEGORIES)),
                "owner": draw(st.sampled_from(unit_ids)),
                "power_items": draw(st.integers(0, 20)),
                "officers": officers,
                "service_time": _SERVICE if timed else None,
                "signoff_levels": draw(st.integers(0, 3)),
                "rework_probability": draw(st.sampled_from([0.0, 0.1, 0.5])),
            }
        )
        if timed:
            timed_ids.append(fid)
    pooled = {u["id"] for u in units if u["pooled"]}
    staffed = {f["owner"] for f in functions if f["officers"] > 0}
    by_id = {f["id"]: f for f in functions}
    capable = [
        f for f in timed_ids
        if by_id[f]["officers"] >= 1
        or (pooled_cases and by_id[f]["owner"] in pooled and by_id[f]["owner"] in staffed)
    ]

    data: dict[str, Any] = {"scenario": {"name": "random"}, "units": units, "functions": functions}
    if capable:
        project_types = []
        for t in range(draw(st.sampled_from([0, 1, 1, 2, 2]))):
            steps = []
            above: dict[str, set[str]] = {}
            for k in range(draw(st.integers(1, 5))):
                fn = draw(st.one_of(
                    st.sampled_from(capable),
                    st.lists(st.sampled_from(capable), min_size=2, max_size=2, unique=True)
                    if len(capable) >= 2 else st.sampled_from(capable),
                ))
                earlier = [f"s{j}" for j in range(k)]
                after = draw(st.lists(st.sampled_from(earlier), unique=True, max_size=2)) if earlier else []
                # step ids repeat across project types, so a path operator may hit several
                step: dict[str, Any] = {"id": f"s{k}", "function": fn, "after": after}
                # steps not every application needs, and files sent back to an earlier step
                step["probability"] = draw(st.sampled_from([1.0, 1.0, 1.0, 0.5]))
                if draw(st.integers(0, 4)) == 0:
                    step["when"] = "heavy"
                above[step["id"]] = set(after).union(*(above[a] for a in after))
                if above[step["id"]] and draw(st.integers(0, 3)) == 0:
                    step["rework_to"] = draw(st.sampled_from(sorted(above[step["id"]])))
                steps.append(step)
            _drop_rework_conflicts(steps)
            project_types.append(
                {"id": f"t{t}", "name": f"t{t}", "arrivals": {"rate": 10, "per": "year"}, "steps": steps,
                 "attributes": {"heavy": 0.4}}
            )
        if project_types:
            data["workload"] = {"project_types": project_types}
    if pooled_cases and draw(st.sampled_from([True, True, True, False])):
        # make sure of one pooled unit whose case function has no officers of its own
        host = draw(st.sampled_from(zone_ids))
        next(u for u in units if u["id"] == host)["pooled"] = True
        functions += [
            {"id": "fp", "name": "fp", "category": "licensing", "owner": host, "officers": 0,
             "service_time": _SERVICE},
            {"id": "fq", "name": "fq", "category": "penalty", "owner": host,
             "officers": draw(st.integers(1, 4))},
        ]
        pooled_type = {"id": "tp", "name": "tp", "arrivals": {"rate": 10, "per": "year"},
                       "steps": [{"id": "s0", "function": "fp"}]}
        data.setdefault("workload", {"project_types": []})["project_types"].append(pooled_type)
    staffed_functions = [f["id"] for f in functions if f["officers"] > 0]
    if "workload" in data and staffed_functions and draw(st.booleans()):
        # enforcement cases for one or two powers, resolved three ways
        data["workload"]["enforcement_cases"] = [
            {"id": f"e{k}", "name": f"e{k}", "function": fid, "rate": 20, "per": "year",
             "resolution": {"service": {"share": 0.3, "time": _SERVICE}, "management": {"share": 0.3, "time": _SERVICE},
                            "enforcement": {"share": 0.4, "time": _SERVICE}}}
            for k, fid in enumerate(draw(st.lists(st.sampled_from(staffed_functions), min_size=1, max_size=2,
                                                  unique=True)))
        ]
    return s.Scenario.model_validate(data)


def _drop_rework_conflicts(steps: list[dict[str, Any]]) -> None:
    """Send files back to the step itself where two steps in progress at once would share a send-back."""
    dag = nx.DiGraph()
    dag.add_nodes_from(s["id"] for s in steps)
    dag.add_edges_from((a, s["id"]) for s in steps for a in s["after"])
    for step in steps:
        targets = {x["id"]: x["rework_to"] for x in steps if "rework_to" in x}
        if any(b == step["id"] for _, b, _ in o.rework_conflicts(dag, targets)):
            del step["rework_to"]


def orgs(**kw: Any) -> st.SearchStrategy[o.Org]:
    return scenarios(**kw).map(build_org)


# ---------------------------------------------------------------- facts about an org


def _case_functions(org: o.Org) -> set[str]:
    return org.case_functions()


def _related(org: o.Org, a: str, b: str) -> bool:
    return a in org.chain(b) or b in org.chain(a)


def _unrelated_pairs(org: o.Org, units: list[str]) -> list[tuple[str, str]]:
    return [(a, b) for a, b in itertools.permutations(units, 2) if not _related(org, a, b)]


def _fresh(org: o.Org, prefix: str = "n") -> str:
    for i in itertools.count():
        if f"{prefix}{i}" not in org.graph:
            return f"{prefix}{i}"
    raise AssertionError  # pragma: no cover


def _select(org: o.Org, functions: list[str], categories: list[str], within: str | None) -> list[str]:
    """The functions a selector picks (as ``Edit.select_functions`` does, without its checks)."""
    chosen = list(dict.fromkeys(functions))
    scope = set(org.subtree(within)) if within is not None else None
    for f in org.functions():
        if org.attr(f, o.CATEGORY) in categories and f not in chosen and (scope is None or org.owner(f) in scope):
            chosen.append(f)
    return chosen


def _city_functions(org: o.Org) -> list[str]:
    return [f for f in org.functions() if org.attr(org.owner(f), o.JURISDICTION) == "city"]


def _one_stop_groups(org: o.Org) -> dict[str, list[str]]:
    """Functions by the jurisdiction of their owner."""
    groups: dict[str, list[str]] = {}
    for f in org.functions():
        groups.setdefault(org.attr(org.owner(f), o.JURISDICTION), []).append(f)
    return groups


def _detour(flow: o.Flow, group: list[str]) -> bool:
    """True when the group cannot be parallelised or merged in ``flow``.

    A path between two members through an outside step; a function needed
    by two members under different conditions, or members sending files
    back to different outside steps (merge_steps refuses both); or two
    steps left in progress at once that send files back through a shared
    step (parallelize would break the path).
    """
    dag = flow.dag()
    for a in group:
        for mid in nx.descendants(dag, a):
            if mid not in group and any(b in nx.descendants(dag, mid) for b in group if b != a):
                return True
    need_of: dict[str, object] = {}
    for sid in group:
        step = flow.step(sid)
        for k, f in enumerate(step.functions):
            if need_of.setdefault(f, step.need(k)) != step.need(k):
                return True
    if len({flow.step(sid).rework_to for sid in group} - {None, *group}) > 1:
        return True
    together = nx.DiGraph(dag)
    preds = {p for x in group for p in dag.predecessors(x) if p not in group}
    succs = {s for x in group for s in dag.successors(x) if s not in group}
    together.remove_edges_from([(a, b) for a, b in dag.edges if a in group or b in group])
    together.add_edges_from((p, x) for p in preds for x in group)
    together.add_edges_from((x, s) for x in group for s in succs)
    targets = {s.id: s.rework_to for s in flow.steps
               if s.rework_to is not None and s.rework_to in nx.ancestors(together, s.id)}
    if o.rework_conflicts(together, targets):
        return True
    merged = dag
    for x in group[1:]:
        merged = nx.contracted_nodes(merged, group[0], x, self_loops=False)
    outside = {flow.step(sid).rework_to for sid in group} - {None, *group}
    targets = {s.id: (group[0] if s.rework_to in group else s.rework_to) for s in flow.steps
               if s.rework_to is not None and s.id not in group}
    if outside:
        targets[group[0]] = outside.pop()
    return bool(o.rework_conflicts(merged, targets))


def _step_groups(org: o.Org) -> list[tuple[str, tuple[str, ...]]]:
    """(project type, steps) that can be parallelised or merged in that project type."""
    out = []
    for flow in org.flows:
        ids = [st_.id for st_ in flow.steps]
        for k in (2, 3):
            for group in itertools.combinations(ids, k):
                if not _detour(flow, list(group)):
                    out.append((flow.id, group))
    return out


def cap_room(org: o.Org, within: str) -> tuple[int, int]:
    """(current headcount, lowest reachable cap) of the zone units under ``within``.

    Leaders stay; so does one officer per case function that has officers,
    and one in the pool of a pooled unit whose case functions have none.
    """
    case = _case_functions(org)
    units = [u for u in org.subtree(within) if org.in_zone_government(u)]
    current = sum(org.headcount(u) for u in units)
    keep = sum(org.leaders(u) for u in units)
    for u in units:
        cases = [f for f in org.performed_by(u) if f in case]
        staffed = [f for f in cases if org.attr(f, o.OFFICERS) > 0]
        keep += len(staffed)
        if cases and not staffed and org.attr(u, o.POOLED) and org.frontline(u) > 0:
            keep += 1
    return current, keep


def applicable(org: o.Org) -> list[str]:
    """Operators for which :func:`operator_specs` can draw a spec in ``org``."""
    units = org.units()
    out = ["set_leadership", "cap_headcount", "spin_off", "coordinate", "one_window"]
    if _unrelated_pairs(org, units):
        out.append("merge")
    heads = [u for u in units if org.parent(u) is None or org.attr(u, o.KIND) in ("sub_district", "township")]
    if _unrelated_pairs(org, heads):
        out.append("merge_zones")
    if len(units) >= 2:
        out.append("strip")
    if _city_functions(org) and org.zone_units():
        out.append("devolve")
    if any(org.parent(u) is not None for u in units):
        out.append("flatten")
    if org.functions():
        out += ["one_stop", "enforcement_bureau"]
    if org.flows:
        out.append("agency_service")
    if _step_groups(org):
        out += ["parallelize", "merge_steps"]
    return [op for op in OPERATOR_NAMES if op in out]


def weighted(ops: list[str]) -> list[str]:
    """``ops`` with the operators that are applicable less often listed three times."""
    rare = ("devolve", "parallelize", "merge_steps", "agency_service", "coordinate", "one_window",
            "enforcement_bureau")
    return ops + [op for op in ops if op in rare] * 2


# ---------------------------------------------------------------- valid operator specs


def _new_unit(org: o.Org, **extra: Any) -> dict[str, Any]:
    uid = _fresh(org)
    return {"id": uid, "name": f"新{uid}", **extra}


@st.composite
def _merge(draw: Any, org: o.Org) -> Any:
    a, b = draw(st.sampled_from(_unrelated_pairs(org, org.units())))
    units = [a, b]
    third = [u for u in org.units() if u not in units and not any(_related(org, u, x) for x in units)]
    if third and draw(st.booleans()):
        units.append(draw(st.sampled_from(third)))
    uid = draw(st.sampled_from([_fresh(org), *units]))
    below = {x for u in units for x in org.subtree(u)}
    outside = [u for u in org.units() if u not in below]
    parent = draw(st.sampled_from(outside)) if outside and draw(st.integers(0, 3)) == 0 else None
    effective = parent if parent is not None else org.parent(units[0])
    if effective is None and org.attr(units[0], o.JURISDICTION) == "zone":
        kind = draw(st.sampled_from(["committee", "party_committee"]))
    else:
        kind = draw(st.sampled_from(INTERNAL_KINDS))
    leadership = draw(st.one_of(st.none(), st.builds(dict, chief=st.integers(0, 1), deputies=st.integers(0, 4))))
    return spec({
        "op": "merge", "units": units,
        "into": {"id": uid, "name": "合并", "kind": kind, "parent": parent},
        "leadership": leadership, "support_saving": draw(st.sampled_from([0.0, 0.3, 0.5, 1.0])),
        "pooled": draw(st.booleans()),
    })


@st.composite
def _merge_zones(draw: Any, org: o.Org) -> Any:
    heads = [u for u in org.units() if org.parent(u) is None or org.attr(u, o.KIND) in ("sub_district", "township")]
    units = list(draw(st.sampled_from(_unrelated_pairs(org, heads))))
    uid = draw(st.sampled_from([_fresh(org), *units]))
    leadership = draw(st.one_of(st.none(), st.builds(dict, chief=st.integers(0, 1), deputies=st.integers(0, 5))))
    return spec({
        "op": "merge_zones", "units": units, "into": {"id": uid, "name": "合并区"},
        "leadership": leadership, "support_saving": draw(st.sampled_from([0.0, 0.5, 1.0])),
    })


@st.composite
def _strip(draw: Any, org: o.Org) -> Any:
    receivers = [u for u in org.units() if org.attr(u, o.KIND) in ("sub_district", "township", "city_department")]
    to = draw(st.sampled_from(receivers or org.units()))
    movable = [f for f in org.functions() if org.owner(f) != to]
    categories: list[str] = []
    within = None
    functions: list[str] = []
    if movable and draw(st.booleans()):
        functions = draw(st.lists(st.sampled_from(movable), min_size=1, max_size=3, unique=True))
    else:
        within = draw(st.one_of(st.none(), st.sampled_from(org.units())))
        scope = set(org.subtree(within)) if within is not None else set(org.units())
        ok = sorted({org.attr(f, o.CATEGORY) for f in org.functions() if org.owner(f) in scope}
                    - {org.attr(f, o.CATEGORY) for f in org.performed_by(to)})
        if not ok:  # nothing to select by category: fall back to a named function
            functions = [draw(st.sampled_from(movable))] if movable else [org.functions()[0]]
            within = None
        else:
            categories = draw(st.lists(st.sampled_from(ok), min_size=1, max_size=2, unique=True))
    chosen = _select(org, functions, categories, within)
    release_ok = not (set(chosen) & _case_functions(org))
    staff = draw(st.sampled_from(["move", "release"])) if release_ok else "move"
    return spec({
        "op": "strip", "to": to, "functions": functions, "categories": categories, "within": within,
        "staff": staff, "remove_emptied": draw(st.booleans()),
    })


@st.composite
def _devolve(draw: Any, org: o.Org) -> Any:
    city = _city_functions(org)
    functions = draw(st.lists(st.sampled_from(city), min_size=1, max_size=3, unique=True))
    accept: Any = draw(st.one_of(
        st.just("all"), st.lists(st.sampled_from(functions), unique=True, max_size=len(functions))
    ))
    accepted = functions if accept == "all" else accept
    officers = draw(st.one_of(st.none(), st.integers(0, 3)))
    release_ok = bool(officers) or not (set(accepted) & _case_functions(org))
    staff = draw(st.sampled_from(["move", "release"])) if release_ok else "move"
    return spec({
        "op": "devolve", "functions": functions, "to": draw(st.sampled_from(org.zone_units())),
        "accept": accept, "staff": staff, "officers": officers,
    })


@st.composite
def _flatten(draw: Any, org: o.Org) -> Any:
    layered = [u for u in org.units() if org.parent(u) is not None]
    return spec({
        "op": "flatten",
        "units": draw(st.lists(st.sampled_from(layered), min_size=1, max_size=2, unique=True)),
        "signoff_cut": draw(st.integers(0, 3)),
        "leaders": draw(st.sampled_from(["release", "keep"])),
    })


@st.composite
def _one_stop(draw: Any, org: o.Org) -> Any:
    groups = _one_stop_groups(org)
    jurisdiction = draw(st.sampled_from(sorted(groups)))
    pool = groups[jurisdiction]
    functions = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4, unique=True))
    intakes = [f for f in pool if org.attr(f, o.SERVICE_TIME) is not None and org.attr(f, o.OFFICERS) >= 1]
    intake = draw(st.one_of(st.none(), st.sampled_from(intakes))) if intakes else None
    existing = [u for u in org.units() if org.attr(u, o.JURISDICTION) == jurisdiction]
    if existing and draw(st.booleans()):
        bureau: Any = draw(st.sampled_from(existing))
    else:
        bureau = _new_unit(org, kind=draw(st.sampled_from(["bureau", "window"])))
    return spec({
        "op": "one_stop", "functions": functions, "bureau": bureau, "intake": intake,
        "pooled": draw(st.booleans()),
        "leadership": draw(st.builds(dict, chief=st.integers(0, 1), deputies=st.integers(0, 3))),
    })


def _path_target(draw: Any, org: o.Org) -> tuple[list[str], list[str]]:
    flow_id, group = draw(st.sampled_from(_step_groups(org)))
    steps = list(group)
    hits = [f for f in org.flows if set(steps) <= {x.id for x in f.steps}]
    everywhere = not any(_detour(f, steps) for f in hits)
    project_types = [] if everywhere and draw(st.booleans()) else [flow_id]
    return steps, project_types


@st.composite
def _parallelize(draw: Any, org: o.Org) -> Any:
    steps, project_types = _path_target(draw, org)
    return spec({"op": "parallelize", "steps": steps, "project_types": project_types})


@st.composite
def _merge_steps(draw: Any, org: o.Org) -> Any:
    steps, project_types = _path_target(draw, org)
    used = {x.id for f in org.flows for x in f.steps}
    fresh = next(f"m{i}" for i in itertools.count() if f"m{i}" not in used)
    return spec({
        "op": "merge_steps", "steps": steps, "project_types": project_types,
        "into": draw(st.sampled_from([fresh, steps[0], steps[-1]])),
        "combine": draw(st.sampled_from(["sum", "max", 0.7])),
    })


@st.composite
def _agency_service(draw: Any, org: o.Org) -> Any:
    ids = [f.id for f in org.flows]
    return spec({
        "op": "agency_service",
        "project_types": draw(st.lists(st.sampled_from(ids), unique=True, max_size=len(ids))),
        "rework_factor": draw(st.sampled_from([0.0, 0.5, 1.0])),
        "delay_factor": draw(st.sampled_from([0.25, 0.6, 1.0])),
    })


@st.composite
def _spin_off(draw: Any, org: o.Org) -> Any:
    functions = draw(st.lists(st.sampled_from(org.functions()), min_size=1, max_size=3, unique=True))
    companies = [u for u in org.units() if org.attr(u, o.KIND) == "company"]
    if companies and draw(st.booleans()):
        company: Any = draw(st.sampled_from(companies))
    else:
        company = _new_unit(org)
    return spec({"op": "spin_off", "functions": functions, "company": company,
                 "remove_emptied": draw(st.booleans())})


@st.composite
def _cap_headcount(draw: Any, org: o.Org) -> Any:
    roots = org.roots()
    within = draw(st.sampled_from(roots + org.units()))
    current, lowest = cap_room(org, within)
    cap = draw(st.one_of(st.integers(lowest, current + 2), st.just(lowest)))
    return spec({"op": "cap_headcount", "within": within, "cap": cap,
                 "policy": draw(st.sampled_from(["proportional", "support_first", "frontline_first"]))})


@st.composite
def _set_leadership(draw: Any, org: o.Org) -> Any:
    kinds = sorted({org.attr(u, o.KIND) for u in org.zone_units()})
    units = draw(st.lists(st.sampled_from(org.units()), unique=True, max_size=3))
    chosen_kinds = draw(st.lists(st.sampled_from(kinds), unique=True, max_size=2)) if kinds else []
    if not units and not chosen_kinds:
        units = [draw(st.sampled_from(org.units()))]
    return spec({"op": "set_leadership", "units": units, "kinds": chosen_kinds,
                 "chief": draw(st.integers(0, 1)), "deputies": draw(st.integers(0, 5))})


@st.composite
def _coordinate(draw: Any, org: o.Org) -> Any:
    jurisdictions = sorted({org.attr(u, o.JURISDICTION) for u in org.units()})

    def side() -> dict[str, Any]:
        if draw(st.booleans()):
            return {"units": draw(st.lists(st.sampled_from(org.units()), min_size=1, max_size=2, unique=True))}
        return {"jurisdictions": draw(st.lists(st.sampled_from(jurisdictions), min_size=1, max_size=2, unique=True))}

    how = draw(st.sampled_from(["factor", "handoff"]))
    data: dict[str, Any] = {"op": "coordinate", "between": [side(), side()], "both_ways": draw(st.booleans())}
    if how == "factor":
        data["factor"] = draw(st.sampled_from([0.0, 0.4, 1.5]))
    else:
        data["handoff"] = {"dist": "deterministic", "value": draw(st.sampled_from([0.0, 1.0])), "unit": "days"}
    return spec(data)


@st.composite
def _one_window(draw: Any, org: o.Org) -> Any:
    zone = org.zone_units()
    intakes = [f for f in org.functions() if org.attr(f, o.SERVICE_TIME) is not None and org.attr(f, o.OFFICERS) >= 1]
    if intakes and draw(st.booleans()):
        intake: Any = draw(st.sampled_from(intakes))
    else:
        intake = {"id": _fresh(org, "w"), "name": "受理", "officers": draw(st.integers(1, 3)), "service_time": _SERVICE}
    if zone and draw(st.booleans()):
        window: Any = draw(st.sampled_from(zone))
    else:
        window = _new_unit(org, parent=draw(st.sampled_from(zone)) if zone else None)
    ids = [f.id for f in org.flows]
    return spec({"op": "one_window", "window": window, "intake": intake,
                 "project_types": draw(st.lists(st.sampled_from(ids), unique=True, max_size=len(ids))) if ids else [],
                 "support": draw(st.integers(0, 2))})


@st.composite
def _enforcement_bureau(draw: Any, org: o.Org) -> Any:
    groups = _one_stop_groups(org)
    pool = groups[draw(st.sampled_from(sorted(groups)))]
    functions = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
    jurisdiction = org.attr(org.owner(functions[0]), o.JURISDICTION)
    existing = [u for u in org.units() if org.attr(u, o.JURISDICTION) == jurisdiction]
    bureau: Any = draw(st.sampled_from(existing)) if existing and draw(st.booleans()) else _new_unit(org)
    resolution = draw(st.sampled_from([None, {"service": 0.7, "management": 0.2, "enforcement": 0.1}]))
    return spec({"op": "enforcement_bureau", "functions": functions, "categories": [], "bureau": bureau,
                 "pooled": draw(st.booleans()), "resolution": resolution})


_SPECS = {
    "merge": _merge, "merge_zones": _merge_zones, "strip": _strip, "devolve": _devolve,
    "flatten": _flatten, "one_stop": _one_stop, "parallelize": _parallelize,
    "merge_steps": _merge_steps, "agency_service": _agency_service, "spin_off": _spin_off,
    "cap_headcount": _cap_headcount, "set_leadership": _set_leadership,
    "coordinate": _coordinate, "one_window": _one_window, "enforcement_bureau": _enforcement_bureau,
}


def operator_specs(org: o.Org, op: str) -> st.SearchStrategy[Any]:
    """A spec for ``op`` that refers to what exists in ``org`` (``op`` must be applicable)."""
    return _SPECS[op](org)


# ---------------------------------------------------------------- careless operator specs


_ID_KEYS = frozenset({
    "units", "functions", "within", "to", "accept", "bureau", "intake", "company", "steps",
    "project_types", "into", "id", "parent", "kinds", "window",
})


def _id_slots(data: Any, out: list, key: str | None = None) -> list:
    """(container, key) of every id or list of ids in a dumped spec."""
    items = data.items() if isinstance(data, dict) else []
    for k, v in items:
        if k not in _ID_KEYS:
            continue
        if isinstance(v, dict):
            _id_slots(v, out)
        elif isinstance(v, (str, list)) or (v is None and k in ("parent", "within", "intake")):
            out.append((data, k))
    return out


def _id_pools(org: o.Org) -> dict[str, list[str]]:
    """Ids a mutation may put in each field: mostly of the right sort, some of the wrong one."""
    units, functions = org.units(), org.functions()
    steps = sorted({x.id for f in org.flows for x in f.steps})
    flows = [f.id for f in org.flows]
    unit_like = units + functions[:1] + ["ghost"]
    function_like = functions + units[:1] + ["ghost"]
    return {
        "units": unit_like, "within": unit_like, "to": unit_like, "parent": unit_like,
        "bureau": unit_like, "company": unit_like, "window": unit_like, "id": units + functions + ["fresh_id"],
        "functions": function_like, "accept": function_like, "intake": function_like,
        "steps": steps + ["ghost"], "into": steps + ["ghost"], "project_types": flows + ["ghost"],
        "kinds": list(s.UNIT_KINDS),
    }


@st.composite
def mutated_specs(draw: Any, org: o.Org) -> Any:
    """A valid spec with one or two ids replaced, duplicated or added (a near miss)."""
    op = draw(st.sampled_from(weighted(applicable(org))))
    data = draw(operator_specs(org, op)).model_dump()
    pools = _id_pools(org)
    for _ in range(draw(st.integers(1, 2))):
        slots = _id_slots(data, [])
        if not slots:
            break
        container, key = draw(st.sampled_from(slots))
        value = container[key]
        if isinstance(value, list):
            how = draw(st.sampled_from(["duplicate", "add"] if value else ["add"]))
            extra = draw(st.sampled_from(value if how == "duplicate" else pools[key]))
            container[key] = value + [extra]
        else:
            container[key] = draw(st.sampled_from(pools[key]))
    try:
        return spec(data)
    except ValueError:  # pydantic refused the mutation (e.g. an id where a unit is needed)
        return draw(operator_specs(org, op))


@st.composite
def wild_specs(draw: Any, org: o.Org) -> Any:
    """A schema-valid spec: a near miss of a valid one, or ids drawn from everything."""
    if draw(st.booleans()):
        return draw(mutated_specs(org))
    units = org.units() + ["ghost"]
    functions = org.functions() + ["ghost"]
    unit_id = st.sampled_from(units + functions[:1])
    function_id = st.sampled_from(functions + units[:1])
    steps = sorted({x.id for f in org.flows for x in f.steps} | {"ghost_step"})
    flows = [f.id for f in org.flows] + ["ghost_type"]
    some = lambda x, lo=0, hi=3: st.lists(x, min_size=lo, max_size=hi)  # noqa: E731
    new_unit = st.builds(
        dict, id=st.sampled_from([_fresh(org), *units, *functions]), name=st.just("新"),
        kind=st.sampled_from(s.UNIT_KINDS), parent=st.one_of(st.none(), unit_id),
        jurisdiction=st.one_of(st.none(), st.sampled_from(s.JURISDICTIONS)),
    )
    selector = {
        "functions": draw(some(function_id)),
        "categories": draw(some(st.sampled_from(s.FUNCTION_CATEGORIES), hi=2)),
        "within": draw(st.one_of(st.none(), unit_id)),
    }
    op = draw(st.sampled_from(OPERATOR_NAMES))
    leadership = st.one_of(st.none(), st.builds(dict, chief=st.integers(0, 2), deputies=st.integers(0, 3)))
    if op in ("merge", "merge_zones"):
        data = {"units": draw(some(unit_id, 2, 3)), "into": draw(new_unit), "leadership": draw(leadership)}
    elif op == "strip":
        data = {**selector, "to": draw(unit_id), "staff": draw(st.sampled_from(["move", "release"])),
                "remove_emptied": draw(st.booleans())}
    elif op == "devolve":
        data = {**selector, "to": draw(unit_id), "staff": draw(st.sampled_from(["move", "release"])),
                "accept": draw(st.one_of(st.just("all"), some(function_id))),
                "officers": draw(st.one_of(st.none(), st.integers(0, 2)))}
    elif op == "flatten":
        data = {"units": draw(some(unit_id, 1, 3)), "signoff_cut": draw(st.integers(0, 2)),
                "leaders": draw(st.sampled_from(["release", "keep"]))}
    elif op == "one_stop":
        data = {**selector, "bureau": draw(st.one_of(unit_id, new_unit)),
                "intake": draw(st.one_of(st.none(), function_id)), "pooled": draw(st.booleans())}
    elif op in ("parallelize", "merge_steps"):
        data = {"steps": draw(some(st.sampled_from(steps), 2, 3)),
                "project_types": draw(some(st.sampled_from(flows), 0, 2))}
        if op == "merge_steps":
            data["into"] = draw(st.sampled_from(steps + ["m0"]))
    elif op == "agency_service":
        data = {"project_types": draw(some(st.sampled_from(flows), 0, 2))}
    elif op == "spin_off":
        data = {**selector, "company": draw(st.one_of(unit_id, new_unit)),
                "remove_emptied": draw(st.booleans())}
    elif op == "cap_headcount":
        data = {"within": draw(unit_id), "cap": draw(st.integers(0, 80)),
                "policy": draw(st.sampled_from(["proportional", "support_first", "frontline_first"]))}
    elif op == "coordinate":
        data = {"between": [{"units": draw(some(unit_id, 1, 2))}, {"units": draw(some(unit_id, 1, 2))}],
                "factor": 0.5}
    elif op == "one_window":
        data = {"window": draw(st.one_of(unit_id, new_unit)),
                "intake": draw(st.one_of(function_id, st.builds(
                    dict, id=st.sampled_from([_fresh(org, "w"), *functions]), name=st.just("受理"),
                    service_time=st.just(_SERVICE)))),
                "project_types": draw(some(st.sampled_from(flows), 0, 2))}
    elif op == "enforcement_bureau":
        data = {**selector, "bureau": draw(st.one_of(unit_id, new_unit))}
    else:
        data = {"units": draw(some(unit_id)), "kinds": draw(some(st.sampled_from(s.UNIT_KINDS), 1, 2)),
                "deputies": draw(st.integers(0, 3))}
    return spec({"op": op, **data})


# ---------------------------------------------------------------- timed runs (a programme over time)
_TIMED_SERVICE = st.sampled_from([
    {"dist": "exponential", "mean": 1.0, "unit": "days"},
    {"dist": "gamma", "mean": 0.8, "cv": 0.5, "unit": "days"},
])
_EXP = {"dist": "exponential", "mean": 0.5, "unit": "days"}


@st.composite
def dated_networks(draw: Any) -> s.Scenario:
    """A small network (2-4 desks, one bureau each) whose bureaus merge at one or two dates mid-run.

    Steps some applications skip (probability, attribute), files sent back to
    earlier steps, sign-offs, and random hand-off and resubmission delays, so
    that files held at a change carry second-round draws of every kind.
    """
    from factory import network_scenario

    n = draw(st.integers(2, 4))
    nodes = [{"id": f"n{k}", "servers": draw(st.integers(1, 2)), "service": draw(_TIMED_SERVICE),
              "rework": draw(st.sampled_from([0.0, 0.3, 0.5])), "signoff": draw(st.integers(0, 2)),
              "leaders": {"chief": 1, "deputies": draw(st.integers(1, 2))}} for k in range(n)]
    steps: list[dict[str, Any]] = []
    above: list[set[str]] = []
    for k in range(draw(st.integers(2, 5))):
        after = draw(st.lists(st.sampled_from([f"s{j}" for j in range(k)]), unique=True, min_size=1, max_size=2)) \
            if k else []
        step: dict[str, Any] = {"id": f"s{k}", "function": draw(st.sampled_from([x["id"] for x in nodes])),
                                "after": after, "probability": draw(st.sampled_from([1.0, 1.0, 0.6]))}
        if draw(st.integers(0, 3)) == 0:
            step["when"] = "a0"
        reach = set(after).union(*(above[int(a[1:])] for a in after))
        above.append(reach)
        if reach and draw(st.booleans()):
            step["rework_to"] = draw(st.sampled_from(sorted(reach)))
        steps.append(step)
    _drop_rework_conflicts(steps)
    merged = draw(st.lists(st.sampled_from([x["id"] for x in nodes]), unique=True, min_size=2, max_size=n))
    phases = [{"phase": "first", "effective": "2020-02-14", "reforms": [
        {"op": "merge", "units": [f"u_{x}" for x in merged], "into": {"id": "m1", "name": "合一"},
         "pooled": draw(st.booleans())}]}]
    rest = [x["id"] for x in nodes if x["id"] not in merged]
    if rest and draw(st.booleans()):
        phases.append({"phase": "second", "effective": "2020-04-01", "reforms": [
            {"op": "merge", "units": ["m1", f"u_{rest[0]}"], "into": {"id": "m2", "name": "合二"}}]})
    return network_scenario(
        nodes, steps=steps, rate_per_day=draw(st.sampled_from([0.4, 0.8, 1.2])), horizon=120.0, warmup=0.0,
        signoff_time=draw(st.sampled_from([None, _EXP])), resubmission_delay=_EXP,
        handoff={"between_units": _EXP, "within_unit": {"dist": "exponential", "mean": 0.2, "unit": "days"}},
        attributes={"a0": 0.5}, reforms=phases,
    )
