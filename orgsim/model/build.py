"""Build the initial :class:`~orgsim.model.org.Org` from a validated scenario."""

from __future__ import annotations

import networkx as nx

from orgsim.model import org as o
from orgsim.scenario.schema import Scenario, StepSpec

__all__ = ["build_org"]


def build_org(scenario: Scenario) -> o.Org:
    """The organisation a scenario describes, before any reform."""
    g: nx.DiGraph[str] = nx.DiGraph(name=scenario.scenario.name)
    if scenario.workload is not None:
        work = scenario.workload.support_work
        g.graph[o.SUPPORT_WORK] = (work.hours_per_case, work.hours_per_officer_per_year)
    for u in scenario.units:
        g.add_node(
            u.id,
            **{
                o.NODE_TYPE: o.UNIT,
                o.NAME: u.name,
                o.NAME_EN: u.name_en,
                o.KIND: u.kind,
                o.JURISDICTION: u.jurisdiction,
                o.CHIEF: u.leaders.chief,
                o.DEPUTIES: u.leaders.deputies,
                o.SUPPORT: u.support,
                o.POOLED: u.pooled,
                o.NON_CASE_SHARE: u.non_case_share,
                o.SUPPORT_HOURS_PER_CASE: u.support_hours_per_case,
                o.SUPPORT_HOURS_PER_OFFICER: u.support_hours_per_officer_per_year,
                o.ORIGIN: (u.id,),
            },
        )
    for u in scenario.units:
        if u.parent is not None:
            g.add_edge(u.id, u.parent, **{o.EDGE_TYPE: o.REPORTS_TO})
    for f in scenario.functions:
        g.add_node(
            f.id,
            **{
                o.NODE_TYPE: o.FUNCTION,
                o.NAME: f.name,
                o.NAME_EN: f.name_en,
                o.CATEGORY: f.category,
                o.POWER_ITEMS: f.power_items,
                o.OFFICERS: f.officers,
                o.SERVICE_TIME: f.service_time,
                o.SIGNOFF_LEVELS: f.signoff_levels,
                o.REWORK_PROBABILITY: f.rework_probability,
                o.STANDING_HOURS: f.standing_hours_per_year,
            },
        )
        g.add_edge(f.owner, f.id, **{o.EDGE_TYPE: o.PERFORMS})

    flows = []
    if scenario.workload is not None:
        default_limit = scenario.workload.statutory_limit_days
        for pt in scenario.workload.project_types:
            steps = tuple(_step(s) for s in pt.steps)
            after = tuple((dep, s.id) for s in pt.steps for dep in s.after)
            flows.append(
                o.Flow(
                    id=pt.id,
                    name=pt.name,
                    name_en=pt.name_en,
                    rate_per_day=pt.arrivals.rate_per_day(),
                    trace=pt.arrivals.trace,
                    trace_column=pt.arrivals.column,
                    steps=steps,
                    after=after,
                    statutory_limit_days=pt.statutory_limit_days or default_limit,
                    attributes=tuple(pt.attributes.items()),
                )
            )
    cases = []
    if scenario.workload is not None:
        for c in scenario.workload.enforcement_cases:
            cases.append(o.CaseFlow(
                id=c.id, name=c.name, name_en=c.name_en, function=c.function, rate_per_day=c.rate_per_day(),
                resolutions=tuple((getattr(c.resolution, r).share, getattr(c.resolution, r).time)
                                  for r in o.RESOLUTIONS),
                statutory_limit_days=c.statutory_limit_days,
            ))
    return o.Org(g, flows, case_flows=cases)


def _step(s: StepSpec) -> o.Step:
    functions = tuple(s.function) if isinstance(s.function, list) else (s.function,)
    conditional = s.probability < 1 or s.when is not None
    need = o.Need(s.id, s.probability, s.when) if conditional else None
    return o.Step(s.id, functions, s.combine, needs=(need,) * len(functions) if conditional else (),
                  rework_to=s.rework_to)
