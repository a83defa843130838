"""Build the initial :class:`~orgsim.model.org.Org` from a validated scenario."""

from __future__ import annotations

import networkx as nx

from orgsim.model import org as o
from orgsim.scenario.schema import Scenario

__all__ = ["build_org"]


def build_org(scenario: Scenario) -> o.Org:
    """The organisation a scenario describes, before any reform."""
    g: nx.DiGraph[str] = nx.DiGraph(name=scenario.scenario.name)
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
            steps = tuple(
                o.Step(
                    s.id,
                    tuple(s.function) if isinstance(s.function, list) else (s.function,),
                    s.combine,
                )
                for s in pt.steps
            )
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
                )
            )
    return o.Org(g, flows)
