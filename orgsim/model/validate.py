"""Invariants of an organisation, checked after loading and after every reform."""

from __future__ import annotations

import networkx as nx

from orgsim.errors import OrgValidationError, Problem
from orgsim.model import org as o

__all__ = ["org_problems", "org_problem_locations", "check_org", "ROOT_KINDS_IN_ZONE"]

#: A zone unit without a parent must be one of these: a zone is run by its committee.
ROOT_KINDS_IN_ZONE = frozenset({"committee", "party_committee"})


def org_problems(org: o.Org) -> list[Problem]:
    """Every broken invariant of ``org``, collected, not just the first."""
    return [Problem(".".join(map(str, loc)), message) for loc, message in org_problem_locations(org)]


def org_problem_locations(org: o.Org) -> list[tuple[tuple[str, ...], str]]:
    """Every broken invariant of ``org`` as ``(location, message)``.

    A location names the node by id: ``("units", "social", "parent")``,
    ``("functions", "eia", "owner")``, ``("workload", "industrial", "steps")``;
    :func:`orgsim.reforms.reform_scenario` turns it into the file's path
    (``units[3].parent``) and line.
    """
    g = org.graph
    problems: list[tuple[tuple[str, ...], str]] = []

    def add(loc: tuple[str, ...], message: str) -> None:
        problems.append((loc, message))

    for a, b, d in g.edges(data=True):
        kind = d.get(o.EDGE_TYPE)
        if kind == o.REPORTS_TO and not (org.is_unit(a) and org.is_unit(b)):
            add(("units", a), f"reports_to edge {a!r} -> {b!r} must join two units")
        elif kind == o.PERFORMS and not (org.is_unit(a) and org.is_function(b)):
            add(("functions", b), f"performs edge {a!r} -> {b!r} must go from a unit to a function")
        elif kind not in (o.REPORTS_TO, o.PERFORMS):
            add((a,), f"edge {a!r} -> {b!r} has unknown type {kind!r}")

    hierarchy: nx.DiGraph[str] = nx.DiGraph()
    for u in org.units():
        hierarchy.add_node(u)
        d = g.nodes[u]
        parents = [p for _, p, e in g.out_edges(u, data=True) if e[o.EDGE_TYPE] == o.REPORTS_TO]
        if len(parents) > 1:
            add(("units", u, "parent"), f"unit {u!r} reports to {len(parents)} units: {sorted(parents)}")
        hierarchy.add_edges_from((u, p) for p in parents)
        if not parents and d[o.JURISDICTION] == "zone" and d[o.KIND] not in ROOT_KINDS_IN_ZONE:
            add(("units", u, "parent"),
                f"zone unit {u!r} ({d[o.KIND]}) has no parent; only a committee may head a zone",
            )
        for key in (o.CHIEF, o.DEPUTIES, o.SUPPORT):
            if d[key] < 0:
                add(("units", u, key), f"negative headcount {d[key]}")
        if not 0 <= d[o.NON_CASE_SHARE] < 1:
            add(("units", u, "non_case_share"), f"must be in [0, 1), got {d[o.NON_CASE_SHARE]}")
    try:
        cycle = nx.find_cycle(hierarchy)
        add(("units", cycle[0][0], "parent"), "reporting cycle: " + " -> ".join([a for a, _ in cycle] + [cycle[0][0]]))
    except nx.NetworkXNoCycle:
        pass

    case_functions = org.case_functions()
    for f in org.functions():
        d = g.nodes[f]
        owners = [u for u, _, e in g.in_edges(f, data=True) if e[o.EDGE_TYPE] == o.PERFORMS]
        if len(owners) != 1:
            add(("functions", f, "owner"),
                f"function {f!r} has {len(owners)} owners {sorted(owners)}; it needs exactly one")
        if d[o.OFFICERS] < 0:
            add(("functions", f, "officers"), f"negative headcount {d[o.OFFICERS]}")
        if f in case_functions and len(owners) == 1:
            owner = owners[0]
            capacity = d[o.OFFICERS] or (g.nodes[owner][o.POOLED] and org.frontline(owner))
            if not capacity:
                add(("functions", f, "officers"), f"function {f!r} receives work but has no officers in {owner!r}")
            if d[o.SERVICE_TIME] is None and any(f in flow.functions() for flow in org.flows):
                add(("functions", f, "service_time"), f"function {f!r} receives work but has no service_time")

    for flow in org.flows:
        ids = [s.id for s in flow.steps]
        if len(set(ids)) != len(ids):
            add(("workload", flow.id, "steps"), "duplicate step ids")
        for s in flow.steps:
            for f in s.functions:
                if not org.is_function(f):
                    add(("workload", flow.id, "steps", s.id, "function"), f"unknown function {f!r}")
        for a, b in flow.after:
            if a not in ids or b not in ids:
                add(("workload", flow.id, "steps"), f"dependency {a!r} -> {b!r} names an unknown step")
        dag = flow.dag()
        if not nx.is_directed_acyclic_graph(dag):
            add(("workload", flow.id, "steps"), "approval path has a cycle")
            continue
        attributes = {name for name, _ in flow.attributes}
        for s in flow.steps:
            for need in s.needs:
                if need is not None and need.when is not None and need.when not in attributes:
                    add(("workload", flow.id, "steps", s.id, "when"), f"unknown attribute {need.when!r}")
            if s.rework_to is not None and (s.rework_to not in dag or s.rework_to not in nx.ancestors(dag, s.id)):
                add(("workload", flow.id, "steps", s.id, "rework_to"),
                    f"step {s.rework_to!r} does not come before {s.id!r} on the path")
        targets = {s.id: s.rework_to for s in flow.steps if s.rework_to is not None}
        for a, b, shared in o.rework_conflicts(dag, targets):
            add(("workload", flow.id, "steps", b, "rework_to"),
                f"in {flow.id!r}, steps {a!r} and {b!r} may both be in progress and both send files back "
                f"through {shared!r}")
    return problems


def check_org(org: o.Org, context: str = "organisation") -> None:
    """Raise :class:`OrgValidationError` listing every broken invariant."""
    problems = org_problems(org)
    if problems:
        raise OrgValidationError(f"{context}: {len(problems)} invariant(s) broken", problems)
