"""Analytic estimate of lead times: each queue as M/M/c (Erlang C), paths as a Jackson network.

For quick what-ifs and as a cross-check of the simulation. It is exact for an
open Jackson network: Poisson arrivals, exponential service at every officer
and leader queue, rework as Bernoulli feedback through the applicant, serial
paths. Elsewhere it is an approximation, and :attr:`Estimate.caveats` says
where: parallel branches (the mean of a maximum is at least the maximum of
the means, so the estimate is low), non-exponential times (Allen-Cunneen
correction), pooled functions with different service times, arrival traces.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import networkx as nx

from orgsim.sim.plan import FlowPlan, Plan, at_capacity
from orgsim.sim.routing import Pattern, _independent, patterns
from orgsim.theory import allen_cunneen_wait, servers_needed

__all__ = ["PoolEstimate", "FlowEstimate", "SupportEstimate", "Estimate", "estimate_plan"]


@dataclass(frozen=True)
class PoolEstimate:
    key: str
    unit: str
    role: str
    servers: int
    arrival_rate_per_day: float
    mean_service_days: float
    utilisation: float
    mean_wait_days: float
    servers_needed: int


@dataclass(frozen=True)
class FlowEstimate:
    id: str
    rate_per_day: float
    mean_lead_time_days: float
    exact: bool
    #: "approval" (a project type) or "enforcement" (a case type, not in the pooled mean).
    kind: str = "approval"


@dataclass(frozen=True)
class SupportEstimate:
    """A unit's support work a year, its support staff and those who would do it all."""

    unit: str
    support_staff: int
    support_needed: int
    cases_per_year: float
    support_hours_per_year: float
    #: Support hours its officers do instead of cases (their availability falls by as much).
    shortfall_hours_per_year: float


@dataclass(frozen=True)
class Estimate:
    pools: tuple[PoolEstimate, ...]
    flows: tuple[FlowEstimate, ...]
    caveats: tuple[str, ...] = field(default=())
    support: tuple[SupportEstimate, ...] = field(default=())
    #: The same caveats as (kind, subject, step): kind is trace, independent, merged_step,
    #: not_exponential, mixture or parallel; subject a project type id or a queue key; for front ends to word them.
    caveat_items: tuple[tuple[str, str, str], ...] = field(default=())

    @property
    def stable(self) -> bool:
        return not any(at_capacity(p.utilisation) for p in self.pools)

    @property
    def mean_lead_time_days(self) -> float:
        """Arrival-weighted mean over project types (inf when unstable); case types are not in it."""
        flows = [f for f in self.flows if f.kind == "approval"]
        total = sum(f.rate_per_day for f in flows)
        if not total:
            return math.nan
        if not self.stable:
            return math.inf
        return sum(f.rate_per_day * f.mean_lead_time_days for f in flows) / total

    def to_dict(self) -> dict:
        from dataclasses import asdict

        def clean(x: float) -> float | None:
            return None if isinstance(x, float) and not math.isfinite(x) else x

        return {
            "stable": self.stable,
            "mean_lead_time_working_days": clean(self.mean_lead_time_days),
            "project_types": [{k: clean(v) for k, v in asdict(f).items()} for f in self.flows],
            "queues": [{k: clean(v) for k, v in asdict(p).items()} for p in self.pools],
            "support": [asdict(s) for s in self.support],
            "caveats": list(self.caveats),
        }


def estimate_plan(plan: Plan, utilisation_target: float = 0.85) -> Estimate:
    """Erlang-C / Jackson estimate of every queue and every project type's mean lead time.

    Arrival rates at each queue, and each step's visits, sign-off rounds,
    returned files and hand-offs, come from the project types' routing
    (:mod:`orgsim.sim.routing`): steps not every application needs, and files
    sent back to earlier steps, are weighted by how often they happen.
    """
    h = plan.hours_per_day
    caveats: set[tuple[str, str, str]] = set()
    busy = plan.offered_busy_servers()  # one source with the simulation's stability check
    lam: dict[str, float] = {k: 0.0 for k in plan.pools}
    scv: dict[str, float] = {k: 0.0 for k in plan.pools}
    means_seen: dict[str, set[float]] = {k: set() for k in plan.pools}
    signoff = plan.signoff_time

    for flow in plan.flows:
        if flow.trace is not None:
            caveats.add(("trace", flow.id, ""))
            continue
        routing = flow.routing
        assert routing is not None
        if not routing.exact:
            caveats.add(("independent", flow.id, ""))
        for i, step in enumerate(flow.steps):
            rate = flow.rate_per_day * routing.visits[i]
            if rate == 0:
                continue
            if len(step.service) > 1:
                caveats.add(("merged_step", flow.id, step.id))
            lam[step.pool] += rate
            scv[step.pool] += rate * (step.service[0].scv() if len(step.service) == 1 else 1.0)
            if math.isfinite(rate):
                means_seen[step.pool].add(round(routing.work[i] / routing.visits[i], 9))
            if signoff is not None:
                for leader in step.signoff:
                    lam[leader] += flow.rate_per_day * routing.rounds[i]
                    scv[leader] += flow.rate_per_day * routing.rounds[i] * signoff.scv()

    pools = {}
    for key, pool in plan.pools.items():
        rate = lam[key]
        if rate == 0:
            continue
        if not math.isfinite(rate):  # a step sends every file back: it never ends
            pools[key] = PoolEstimate(key, pool.unit, pool.role, pool.servers, rate, math.nan, math.inf, math.inf,
                                      pool.servers)
            continue
        mean_s = busy[key] / rate
        cs2 = scv[key] / rate
        if abs(cs2 - 1) > 1e-9:
            caveats.add(("not_exponential", key, ""))
        if len(means_seen[key]) > 1:
            caveats.add(("mixture", key, ""))
        rho = rate * mean_s / pool.servers
        wait = math.inf if at_capacity(rho) else allen_cunneen_wait(rate, mean_s, pool.servers, cs2)
        pools[key] = PoolEstimate(
            key, pool.unit, pool.role, pool.servers, rate, mean_s, rho, wait,
            servers_needed(rate * mean_s, utilisation_target),
        )

    flows = []
    for flow in plan.flows:
        if flow.trace is not None:
            continue
        parallel = any(len(s) > 1 for s in flow.successors) or len(flow.roots) > 1
        if parallel:
            caveats.add(("parallel", flow.id, ""))
        total = sum(pat.probability * _longest_path(plan, flow, pools, pat) for pat in _patterns(flow, h))
        exact = not parallel and flow.routing is not None and flow.routing.exact and all(
            abs(d.scv() - 1) < 1e-9 for st in flow.steps for d in st.service
        )
        flows.append(FlowEstimate(flow.id, flow.rate_per_day, total, exact, flow.kind))
    support = tuple(
        SupportEstimate(s.unit, s.staff, s.needed, s.cases_per_year, s.need_hours_per_year, s.shortfall_hours_per_year)
        for s in plan.support.values() if s.need_hours_per_year > 0
    )
    items = sorted(caveats, key=caveat_english)
    return Estimate(tuple(pools.values()), tuple(flows), tuple(caveat_english(c) for c in items), support,
                    tuple(items))


def caveat_english(item: tuple[str, str, str]) -> str:
    """A caveat in words, with ids (the ``caveats`` of ``estimate --json``)."""
    kind, subject, step = item
    return {
        "trace": f"{subject}: arrivals from a trace are not included in the estimate",
        "independent": (f"{subject}: too many conditional steps to enumerate; each step is taken as needed "
                        "independently of the others"),
        "merged_step": f"{subject}.{step}: merged step, its time distribution is approximated",
        "not_exponential": f"{subject}: service times are not exponential (Allen-Cunneen approximation)",
        "mixture": f"{subject}: pooled functions with different service times (mixture treated as one)",
        "parallel": (f"{subject}: parallel steps; the mean of the longest branch is at least the longest mean "
                     "branch, so the estimate is low"),
    }[kind]


def _patterns(flow: FlowPlan, h: float) -> list[Pattern]:
    """The patterns of needed steps to average the lead time over (one, when too many to enumerate)."""
    try:
        return list(patterns(flow.steps, flow.successors, flow.attributes, h))
    except ValueError:
        return [_independent(flow.steps, flow.successors, flow.attributes, h)]


def _longest_path(plan: Plan, flow: FlowPlan, pools: dict[str, PoolEstimate], pat: Pattern) -> float:
    """Mean lead time of one pattern: the longest path of mean step times and hand-offs.

    A step takes its visits x (wait + working time), its rounds x its
    sign-offs (wait + time at each level), and the applicant's resubmission
    delay for each file it sends back; a hand-off, its mean times how often
    it is made. On a serial path this is the exact mean (a sum of means).
    """
    h = plan.hours_per_day
    signoff = plan.signoff_time.mean_days(h) if plan.signoff_time is not None else 0.0
    delay = plan.resubmission_delay.mean_days(h) * flow.delay_factor if plan.resubmission_delay is not None else 0.0
    duration: dict[int, float] = {}
    for i, step in enumerate(flow.steps):
        if not pat.needed[i]:
            continue
        visits = pat.visits[i]
        if not math.isfinite(visits):
            return math.inf
        t = visits * (pools[step.pool].mean_wait_days + pat.work[i] / plan.pools[step.pool].availability)
        t += pat.reworks[i] * delay
        if plan.signoff_time is not None:
            t += pat.rounds[i] * sum(pools[leader].mean_wait_days + signoff for leader in step.signoff)
        duration[i] = t
    dag: nx.DiGraph[int] = nx.DiGraph()
    dag.add_nodes_from(duration)
    for (i, k), fired in pat.handoffs.items():
        hand = flow.handoffs[(i, k)]
        mean = hand.dist.mean_days(h) * hand.factor if hand.dist is not None else 0.0
        dag.add_edge(i, k, weight=mean * fired)
    longest: dict[int, float] = {}
    for node in nx.topological_sort(dag):
        preds = [longest[p] + dag.edges[p, node]["weight"] for p in dag.predecessors(node)]
        longest[node] = max(preds, default=0.0) + duration[node]
    return max(longest.values(), default=0.0)
