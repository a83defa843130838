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

from orgsim.sim.plan import Plan, StepPlan, _combine_means
from orgsim.theory import allen_cunneen_wait, servers_needed

__all__ = ["PoolEstimate", "FlowEstimate", "Estimate", "estimate_plan"]


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


@dataclass(frozen=True)
class Estimate:
    pools: tuple[PoolEstimate, ...]
    flows: tuple[FlowEstimate, ...]
    caveats: tuple[str, ...] = field(default=())
    #: The same caveats as (kind, subject, step): kind is trace, merged_step, not_exponential,
    #: mixture or parallel; subject a project type id or a queue key; for front ends to word them.
    caveat_items: tuple[tuple[str, str, str], ...] = field(default=())

    @property
    def stable(self) -> bool:
        return all(p.utilisation < 1 for p in self.pools)

    @property
    def mean_lead_time_days(self) -> float:
        """Arrival-weighted mean over project types (inf when unstable)."""
        total = sum(f.rate_per_day for f in self.flows)
        if not total:
            return math.nan
        return sum(f.rate_per_day * f.mean_lead_time_days for f in self.flows) / total

    def to_dict(self) -> dict:
        from dataclasses import asdict

        def clean(x: float) -> float | None:
            return None if isinstance(x, float) and not math.isfinite(x) else x

        return {
            "stable": self.stable,
            "mean_lead_time_working_days": clean(self.mean_lead_time_days),
            "project_types": [{k: clean(v) for k, v in asdict(f).items()} for f in self.flows],
            "queues": [{k: clean(v) for k, v in asdict(p).items()} for p in self.pools],
            "caveats": list(self.caveats),
        }


def estimate_plan(plan: Plan, utilisation_target: float = 0.85) -> Estimate:
    """Erlang-C / Jackson estimate of every queue and every project type's mean lead time."""
    h = plan.hours_per_day
    caveats: set[tuple[str, str, str]] = set()
    lam: dict[str, float] = {k: 0.0 for k in plan.pools}
    work: dict[str, float] = {k: 0.0 for k in plan.pools}  # rate-weighted service time
    scv: dict[str, float] = {k: 0.0 for k in plan.pools}
    means_seen: dict[str, set[float]] = {k: set() for k in plan.pools}

    def visits(step: StepPlan) -> float:
        p_back = 1.0 - math.prod(1.0 - p for p in step.rework)
        return 1.0 / (1.0 - p_back) if p_back < 1 else math.inf

    for flow in plan.flows:
        if flow.trace is not None:
            caveats.add(("trace", flow.id, ""))
            continue
        for step in flow.steps:
            v = visits(step)
            s_mean = _combine_means([d.mean_days(h) for d in step.service], step.combine)
            s_scv = step.service[0].scv() if len(step.service) == 1 else 1.0
            if len(step.service) > 1:
                caveats.add(("merged_step", flow.id, step.id))
            rate = flow.rate_per_day * v
            lam[step.pool] += rate
            work[step.pool] += rate * s_mean / plan.pools[step.pool].availability
            scv[step.pool] += rate * s_scv
            means_seen[step.pool].add(round(s_mean, 9))
            if plan.signoff_time is not None:
                for leader in step.signoff:
                    lam[leader] += flow.rate_per_day
                    work[leader] += flow.rate_per_day * plan.signoff_time.mean_days(h)
                    scv[leader] += flow.rate_per_day * plan.signoff_time.scv()

    pools = {}
    for key, pool in plan.pools.items():
        rate = lam[key]
        if rate == 0:
            continue
        mean_s = work[key] / rate
        cs2 = scv[key] / rate
        if abs(cs2 - 1) > 1e-9:
            caveats.add(("not_exponential", key, ""))
        if len(means_seen[key]) > 1:
            caveats.add(("mixture", key, ""))
        rho = rate * mean_s / pool.servers
        wait = allen_cunneen_wait(rate, mean_s, pool.servers, cs2) if rho < 1 else math.inf
        pools[key] = PoolEstimate(
            key, pool.unit, pool.role, pool.servers, rate, mean_s, rho, wait,
            servers_needed(rate * mean_s, utilisation_target),
        )

    flows = []
    for flow in plan.flows:
        if flow.trace is not None:
            continue
        duration = []
        for step in flow.steps:
            v = visits(step)
            est = pools[step.pool]
            working = _combine_means([d.mean_days(h) for d in step.service], step.combine)
            t = v * (est.mean_wait_days + working / plan.pools[step.pool].availability)
            if plan.resubmission_delay is not None and v > 1:
                t += (v - 1) * plan.resubmission_delay.mean_days(h) * flow.delay_factor
            if plan.signoff_time is not None:
                for leader in step.signoff:
                    t += pools[leader].mean_wait_days + plan.signoff_time.mean_days(h)
            duration.append(t)
        dag: nx.DiGraph[int] = nx.DiGraph()
        dag.add_nodes_from(range(len(flow.steps)))
        for i, succ in enumerate(flow.successors):
            for j, kind in succ:
                dist = plan.handoff[kind]
                dag.add_edge(i, j, weight=dist.mean_days(h) if dist is not None else 0.0)
        parallel = any(len(s) > 1 for s in flow.successors) or len(flow.roots) > 1
        if parallel:
            caveats.add(("parallel", flow.id, ""))
        longest: dict[int, float] = {}
        for node in nx.topological_sort(dag):
            preds = [longest[p] + dag.edges[p, node]["weight"] for p in dag.predecessors(node)]
            longest[node] = max(preds, default=0.0) + duration[node]
        total = max(longest.values(), default=0.0)
        exact = not parallel and all(
            abs(d.scv() - 1) < 1e-9 for st in flow.steps for d in st.service
        )
        flows.append(FlowEstimate(flow.id, flow.rate_per_day, total, exact))
    items = sorted(caveats, key=caveat_english)
    return Estimate(tuple(pools.values()), tuple(flows), tuple(caveat_english(c) for c in items), tuple(items))


def caveat_english(item: tuple[str, str, str]) -> str:
    """A caveat in words, with ids (the ``caveats`` of ``estimate --json``)."""
    kind, subject, step = item
    return {
        "trace": f"{subject}: arrivals from a trace are not included in the estimate",
        "merged_step": f"{subject}.{step}: merged step, its time distribution is approximated",
        "not_exponential": f"{subject}: service times are not exponential (Allen-Cunneen approximation)",
        "mixture": f"{subject}: pooled functions with different service times (mixture treated as one)",
        "parallel": (f"{subject}: parallel steps; the mean of the longest branch is at least the longest mean "
                     "branch, so the estimate is low"),
    }[kind]
