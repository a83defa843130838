"""Compile an organisation state into what the engine needs: pools, sign-off chains, paths.

Where a function sits decides which queue its step joins: the officers of
its function, or of its unit's shared pool when the unit is pooled. Standing
duties (``standing_hours_per_year``) take whole officers away from the queue;
the officers left serve cases at ``availability`` = 1 - the unit's
``non_case_share`` (times any fraction of an officer left over), so a case
takes ``service / availability`` of elapsed working time and the queue's
capacity in officer-time is exactly what the scenario says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from orgsim.distributions import _Dist
from orgsim.errors import SimulationError
from orgsim.model import org as o
from orgsim.scenario.schema import WORKING_DAYS_PER, Scenario, officers_for_cases

__all__ = ["PoolPlan", "StepPlan", "FlowPlan", "Plan", "compile_plan", "HANDOFF_KINDS", "ROLE_SEPARATOR", "role_pool"]

HANDOFF_KINDS = ("within_unit", "between_units", "between_jurisdictions")


@dataclass(frozen=True)
class PoolPlan:
    """A queue served by identical servers: officers of a function or unit, or leaders."""

    key: str
    unit: str
    role: str  # "officers", "deputies" or "chief"
    servers: int
    availability: float = 1.0
    functions: tuple[str, ...] = ()


@dataclass(frozen=True)
class StepPlan:
    id: str
    functions: tuple[str, ...]
    combine: str | float
    pool: str
    unit: str
    jurisdiction: str
    #: Per function: service-time distribution and rework probability (after agency service).
    service: tuple[_Dist, ...]
    rework: tuple[float, ...]
    #: Leader pools that sign the case off, lowest first.
    signoff: tuple[str, ...]


@dataclass(frozen=True)
class FlowPlan:
    id: str
    name: str
    rate_per_day: float
    trace: str | None
    trace_column: str
    steps: tuple[StepPlan, ...]
    #: successors[i]: (step index, hand-off kind) for each step that waits for step i.
    successors: tuple[tuple[tuple[int, str], ...], ...]
    n_predecessors: tuple[int, ...]
    roots: tuple[int, ...]
    statutory_limit_days: float | None
    delay_factor: float


@dataclass(frozen=True)
class Plan:
    pools: dict[str, PoolPlan]
    flows: tuple[FlowPlan, ...]
    handoff: dict[str, _Dist | None]
    signoff_time: _Dist | None
    resubmission_delay: _Dist | None
    hours_per_day: float
    units: dict[str, str] = field(default_factory=dict)  # unit id -> name

    def offered_load(self) -> dict[str, float]:
        """Expected busy servers per pool divided by servers (utilisation, from theory)."""
        busy: dict[str, float] = {k: 0.0 for k in self.pools}
        h = self.hours_per_day
        for flow in self.flows:
            lam = flow.rate_per_day
            if flow.trace is not None:
                continue  # measured, not known in advance
            for step in flow.steps:
                p_back = 1.0 - math.prod(1.0 - p for p in step.rework)
                visits = 1.0 / (1.0 - p_back) if p_back < 1 else float("inf")
                pool = self.pools[step.pool]
                work = _combine_means([d.mean_days(h) for d in step.service], step.combine)
                busy[step.pool] += lam * visits * work / pool.availability
                if self.signoff_time is not None:
                    for leader in step.signoff:
                        busy[leader] += lam * self.signoff_time.mean_days(h)
        return {k: busy[k] / p.servers for k, p in self.pools.items()}


def _combine_means(means: list[float], combine: str | float) -> float:
    # The mean of a max is not the max of means; this is the lower bound used
    # for load estimates only.
    if combine == "max":
        return max(means)
    total = sum(means)
    return total if combine == "sum" else total * float(combine)


#: Keys of queues: ``unit/function`` for a function's officers, ``unit:role``
#: for a unit's shared officers and its leaders (``unit:officers``,
#: ``unit:deputies``, ``unit:chief``). Ids cannot contain ``:``, so a function
#: called ``deputies`` never shares the leaders' queue.
ROLE_SEPARATOR = ":"


def role_pool(unit: str, role: str) -> str:
    """The key of a unit's shared officers' or leaders' queue."""
    return f"{unit}{ROLE_SEPARATOR}{role}"


def _signoff_chain(org: o.Org, unit: str, levels: int) -> tuple[str, ...]:
    chain: list[str] = []
    for u in org.chain(unit):
        d = org.graph.nodes[u]
        if d[o.DEPUTIES] > 0:
            chain.append(role_pool(u, "deputies"))
        if d[o.CHIEF] > 0:
            chain.append(role_pool(u, "chief"))
        if len(chain) >= levels:
            break
    return tuple(chain[:levels])


def compile_plan(org: o.Org, scenario: Scenario) -> Plan:
    """Pools, sign-off chains and step DAGs of ``org``, ready to simulate."""
    if scenario.workload is None:
        raise SimulationError(f"{scenario.source_file}: the scenario has no workload section to simulate")
    g = org.graph
    hours_per_day = scenario.simulation.calendar.hours_per_day
    hours_per_year = WORKING_DAYS_PER["year"] * hours_per_day
    pools: dict[str, PoolPlan] = {}

    def officer_pool(function: str) -> str:
        unit = org.owner(function)
        d = g.nodes[unit]
        if d[o.POOLED]:
            key, members = role_pool(unit, "officers"), tuple(org.performed_by(unit))
        else:
            key, members = f"{unit}/{function}", (function,)
        if key not in pools:
            officers = sum(g.nodes[f][o.OFFICERS] for f in members)
            standing = sum(g.nodes[f][o.STANDING_HOURS] for f in members)
            # Standing duties take whole officers (who do them full time); the
            # rest serve cases, each losing the unit's non_case_share to meetings
            # and the like. A fractional officer left over is spread over the
            # case servers as a slower pace, so capacity is kept exactly.
            for_cases = officers_for_cases(officers, standing, hours_per_day)
            if officers == 0 or for_cases <= 0:
                why = "has no officers" if officers == 0 else (
                    f"has no time left for cases: standing duties take {standing:,.0f} of its "
                    f"{officers * hours_per_year:,.0f} officer-hours a year"
                )
                raise SimulationError(
                    f"{scenario.source_file}: function {function!r} in unit {unit!r} receives cases but {why}"
                )
            servers = max(1, math.ceil(for_cases - 1e-9))
            availability = (1.0 - d[o.NON_CASE_SHARE]) * for_cases / servers
            pools[key] = PoolPlan(key, unit, "officers", servers, availability, members)
        return key

    def leader_pool(key: str) -> str:
        if key not in pools:
            unit, role = key.rsplit(ROLE_SEPARATOR, 1)
            servers = g.nodes[unit][o.DEPUTIES if role == "deputies" else o.CHIEF]
            pools[key] = PoolPlan(key, unit, role, servers)
        return key

    flows = []
    for flow in org.flows:
        index = {s.id: i for i, s in enumerate(flow.steps)}
        steps = []
        for s in flow.steps:
            lead = s.functions[0]
            unit = org.owner(lead)
            levels = max(g.nodes[f][o.SIGNOFF_LEVELS] for f in s.functions)
            steps.append(
                StepPlan(
                    id=s.id,
                    functions=s.functions,
                    combine=s.combine,
                    pool=officer_pool(lead),
                    unit=unit,
                    jurisdiction=g.nodes[unit][o.JURISDICTION],
                    service=tuple(g.nodes[f][o.SERVICE_TIME] for f in s.functions),
                    rework=tuple(min(1.0, g.nodes[f][o.REWORK_PROBABILITY] * flow.rework_factor) for f in s.functions),
                    signoff=tuple(leader_pool(k) for k in _signoff_chain(org, unit, levels)),
                )
            )
        successors: list[list[tuple[int, str]]] = [[] for _ in steps]
        n_pred = [0] * len(steps)
        for a, b in flow.after:
            i, j = index[a], index[b]
            if steps[i].unit == steps[j].unit:
                kind = "within_unit"
            elif steps[i].jurisdiction == steps[j].jurisdiction:
                kind = "between_units"
            else:
                kind = "between_jurisdictions"
            successors[i].append((j, kind))
            n_pred[j] += 1
        flows.append(
            FlowPlan(
                id=flow.id,
                name=flow.name,
                rate_per_day=flow.rate_per_day,
                trace=flow.trace,
                trace_column=flow.trace_column,
                steps=tuple(steps),
                successors=tuple(tuple(x) for x in successors),
                n_predecessors=tuple(n_pred),
                roots=tuple(i for i, n in enumerate(n_pred) if n == 0),
                statutory_limit_days=flow.statutory_limit_days,
                delay_factor=flow.delay_factor,
            )
        )
    w = scenario.workload
    return Plan(
        pools=pools,
        flows=tuple(flows),
        handoff={k: getattr(w.handoff, k) for k in HANDOFF_KINDS},
        signoff_time=w.signoff_time,
        resubmission_delay=w.resubmission_delay,
        hours_per_day=hours_per_day,
        units={u: org.label(u) for u in org.units()},
    )
