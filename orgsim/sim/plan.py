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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from orgsim.distributions import _Dist
from orgsim.errors import SimulationError
from orgsim.model import org as o
from orgsim.model.org import Need
from orgsim.scenario.schema import WORKING_DAYS_PER, Scenario, officers_for_cases
from orgsim.sim.routing import Routing, routing_of

__all__ = ["PoolPlan", "StepPlan", "HandoffPlan", "FlowPlan", "SupportPlan", "Plan", "support_plans", "compile_plan",
           "HANDOFF_KINDS", "CRITICAL_LOAD_RTOL", "at_capacity", "ROLE_SEPARATOR", "role_pool"]

HANDOFF_KINDS = ("within_unit", "between_units", "between_jurisdictions")

#: A queue offered at least ``1 - CRITICAL_LOAD_RTOL`` of its capacity is unstable. The offered
#: load is a sum of products that may land a few units in the last place below 1 when it is
#: exactly 1 (0.9999999999999997): such a queue is at capacity, and its queue grows without
#: bound; a relative tolerance of 1e-9 is far above rounding and far below any real margin.
CRITICAL_LOAD_RTOL = 1e-9


def at_capacity(load: float) -> bool:
    """True when a queue offered ``load`` (busy servers / servers) is at or beyond its capacity."""
    return load >= 1.0 - CRITICAL_LOAD_RTOL


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
    #: Per function, when an application needs it (None: always).
    needs: tuple[Need | None, ...] = ()
    #: Where a file sent back from this step goes: a step index, or -1 for this step.
    rework_to: int = -1
    #: The steps done again after a file is sent back (path order): those on a path from
    #: ``rework_to`` to this step, or this step alone.
    redo: tuple[int, ...] = ()

    def need_of(self, k: int) -> Need | None:
        return self.needs[k] if self.needs else None

    @property
    def optional(self) -> bool:
        """True when some applications skip this step."""
        return bool(self.needs) and all(n is not None for n in self.needs)


@dataclass(frozen=True)
class HandoffPlan:
    """The hand-off between two steps: its kind and its delay (drawn from ``dist``, times ``factor``)."""

    kind: str
    dist: _Dist | None
    factor: float = 1.0


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
    #: Named attributes drawn once per application: (name, probability).
    attributes: tuple[tuple[str, float], ...] = ()
    #: (i, k) -> the hand-off from step i to step k, for every pair a file can be handed
    #: across: each step and its successors, and a step and the steps after others it may skip.
    handoffs: Mapping[tuple[int, int], HandoffPlan] = field(default_factory=dict)
    #: Expected visits, sign-off rounds and hand-offs per application (orgsim.sim.routing).
    routing: Routing | None = None
    #: "approval" (a project type: counted in the pooled lead times) or "enforcement" (enforcement
    #: cases resolved one way, a case type of its own: not counted with the approvals).
    kind: str = "approval"

    @property
    def optional(self) -> bool:
        """True when some applications skip some steps."""
        return any(st.optional for st in self.steps)

    @property
    def reworks_earlier(self) -> bool:
        """True when some step sends files back to an earlier step."""
        return any(st.rework_to >= 0 for st in self.steps)


@dataclass(frozen=True)
class SupportPlan:
    """A unit's support work a year, and the part its support staff cannot do (done by its officers)."""

    unit: str
    #: Not in the repr, which identifies a state's runs (batches.state_identity): support staff
    #: beyond the need change nothing a run sees, so runs are reused across such cuts.
    staff: int = field(repr=False)
    cases_per_year: float
    need_hours_per_year: float
    shortfall_hours_per_year: float
    hours_per_year: float

    @property
    def needed(self) -> int:
        """Support staff who would do all of the unit's support work."""
        return math.ceil(self.need_hours_per_year / self.hours_per_year - 1e-9) if self.need_hours_per_year else 0


@dataclass(frozen=True)
class Plan:
    pools: dict[str, PoolPlan]
    flows: tuple[FlowPlan, ...]
    handoff: dict[str, _Dist | None]
    signoff_time: _Dist | None
    resubmission_delay: _Dist | None
    hours_per_day: float
    units: dict[str, str] = field(default_factory=dict)  # unit id -> name
    #: Unit -> its support work and shortfall (units with support work).
    support: dict[str, SupportPlan] = field(default_factory=dict)

    def offered_busy_servers(self) -> dict[str, float]:
        """Expected busy servers per pool, from the routing of each project type (theory).

        A project type's arrival rate times, per step, the expected working
        time per application at its officers (over availability) and, per
        sign-off round, one sign-off of each leader pool of the step.
        Project types arriving from a trace are measured, not known in advance.
        """
        busy: dict[str, float] = {k: 0.0 for k in self.pools}
        signoff = self.signoff_time.mean_days(self.hours_per_day) if self.signoff_time is not None else 0.0
        for flow in self.flows:
            lam = flow.rate_per_day
            if flow.trace is not None or flow.routing is None:
                continue
            for i, step in enumerate(flow.steps):
                work = flow.routing.work[i]
                if work:
                    busy[step.pool] += lam * work / self.pools[step.pool].availability
                if signoff:
                    for leader in step.signoff:
                        busy[leader] += lam * flow.routing.rounds[i] * signoff
        return busy

    def offered_load(self) -> dict[str, float]:
        """Expected busy servers per pool divided by servers (utilisation, from theory)."""
        busy = self.offered_busy_servers()
        return {k: busy[k] / p.servers for k, p in self.pools.items()}



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
    """Pools, sign-off chains and step DAGs of ``org``, ready to simulate.

    Two passes: the steps and their routing first (how often each step is
    visited, :mod:`orgsim.sim.routing`), which give each unit its cases a
    year and so its support work (:func:`support_plans`); then the queues,
    whose officers do the support work their unit's support staff cannot.
    """
    if scenario.workload is None:
        raise SimulationError(f"{scenario.source_file}: the scenario has no workload section to simulate")
    g = org.graph
    hours_per_day = scenario.simulation.calendar.hours_per_day
    hours_per_year = WORKING_DAYS_PER["year"] * hours_per_day
    w = scenario.workload
    handoff = {k: getattr(w.handoff, k) for k in HANDOFF_KINDS}

    # Pass 1: steps (queues left blank), their paths and routing.
    drafts: list[_Draft] = []
    for flow in org.flows:
        index = {s.id: i for i, s in enumerate(flow.steps)}
        redo = {s.id: tuple(index[x] for x in flow.redo(s.id)) for s in flow.steps}
        steps = []
        for s in flow.steps:
            unit = org.owner(s.functions[0])
            steps.append(
                StepPlan(
                    id=s.id,
                    functions=s.functions,
                    combine=s.combine,
                    pool="",
                    unit=unit,
                    jurisdiction=g.nodes[unit][o.JURISDICTION],
                    service=tuple(g.nodes[f][o.SERVICE_TIME] for f in s.functions),
                    rework=tuple(min(1.0, g.nodes[f][o.REWORK_PROBABILITY] * flow.rework_factor) for f in s.functions),
                    signoff=(),
                    needs=tuple(s.need(k) for k in range(len(s.functions))) if s.needs else (),
                    rework_to=-1 if s.rework_to is None else index[s.rework_to],
                    redo=redo[s.id],
                )
            )
        successors: list[list[tuple[int, str]]] = [[] for _ in steps]
        n_pred = [0] * len(steps)
        for a, b in flow.after:
            i, j = index[a], index[b]
            successors[i].append((j, _handoff_kind(steps[i], steps[j])))
            n_pred[j] += 1
        levels = [max(g.nodes[f][o.SIGNOFF_LEVELS] for f in s.functions) for s in flow.steps]
        drafts.append(_Draft(flow.id, flow.name, flow.rate_per_day, flow.trace, flow.trace_column,
                             flow.statutory_limit_days, flow.delay_factor, flow.attributes, "approval", steps,
                             tuple(tuple(x) for x in successors), n_pred, levels))
    drafts += _case_drafts(org)
    routings = [routing_of(d.steps, d.successors, d.attributes, hours_per_day) for d in drafts]
    cases: dict[str, float] = {}
    for d, routing in zip(drafts, routings, strict=True):
        if d.trace is None:
            for i, st in enumerate(d.steps):
                cases[st.unit] = cases.get(st.unit, 0.0) + d.rate_per_day * WORKING_DAYS_PER["year"] * routing.visits[i]
    support = support_plans(org, cases, hours_per_year)

    # Pass 2: the queues, in the order the steps meet them.
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
            # Support work the unit's support staff cannot do falls on its officers, in
            # proportion to their number, like a standing duty.
            shortfall = support[unit].shortfall_hours_per_year * officers / org.frontline(unit) if unit in support \
                and org.frontline(unit) else 0.0
            # Standing duties take whole officers (who do them full time); the
            # rest serve cases, each losing the unit's non_case_share to meetings
            # and the like. A fractional officer left over is spread over the
            # case servers as a slower pace, so capacity is kept exactly.
            for_cases = officers_for_cases(officers, standing + shortfall, hours_per_day)
            if officers == 0 or for_cases <= 0:
                why = "has no officers" if officers == 0 else (
                    f"has no time left for cases: standing duties take {standing:,.0f}"
                    + (f" and support work its support staff cannot do {shortfall:,.0f}" if shortfall else "")
                    + f" of its {officers * hours_per_year:,.0f} officer-hours a year"
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
    for d, routing in zip(drafts, routings, strict=True):
        steps = []
        for st, n_levels in zip(d.steps, d.levels, strict=True):
            pool = officer_pool(st.functions[0])
            signoff = tuple(leader_pool(k) for k in _signoff_chain(org, st.unit, n_levels))
            steps.append(replace(st, pool=pool, signoff=signoff))
        pairs = {
            (i, k): _handoff_plan(org, steps[i], steps[k], kind, handoff)
            for i in range(len(steps)) for k, kind in _handed_to(i, steps, d.successors)
        }
        flows.append(
            FlowPlan(
                id=d.id,
                name=d.name,
                rate_per_day=d.rate_per_day,
                trace=d.trace,
                trace_column=d.trace_column,
                steps=tuple(steps),
                successors=d.successors,
                n_predecessors=tuple(d.n_predecessors),
                roots=tuple(i for i, n in enumerate(d.n_predecessors) if n == 0),
                statutory_limit_days=d.statutory_limit_days,
                delay_factor=d.delay_factor,
                attributes=d.attributes,
                handoffs=pairs,
                routing=routing,
                kind=d.kind,
            )
        )
    return Plan(
        pools=pools,
        flows=tuple(flows),
        handoff=handoff,
        signoff_time=w.signoff_time,
        resubmission_delay=w.resubmission_delay,
        hours_per_day=hours_per_day,
        units={u: org.label(u) for u in org.units()},
        support=support,
    )


def support_plans(org: o.Org, cases_per_year: Mapping[str, float], hours_per_year: float) -> dict[str, SupportPlan]:
    """Each unit's support work, staff and shortfall (units with support work).

    A unit's support work is its cases a year times its hours per case, plus
    its frontline officers times their hours a year; its support staff give
    ``hours_per_year`` each. What they cannot give is the shortfall, which
    its officers do instead of cases.
    """
    out: dict[str, SupportPlan] = {}
    for unit in org.units():
        per_case, per_officer = org.support_work(unit)
        cases = cases_per_year.get(unit, 0.0)
        need = cases * per_case + org.frontline(unit) * per_officer
        staff = org.graph.nodes[unit][o.SUPPORT]
        if need > 0:
            out[unit] = SupportPlan(unit, staff, cases, need, max(0.0, need - staff * hours_per_year), hours_per_year)
    return out


class _Draft(NamedTuple):
    """A project type (or a case type) after the first pass of compile_plan: steps without queues."""

    id: str
    name: str
    rate_per_day: float
    trace: str | None
    trace_column: str
    statutory_limit_days: float | None
    delay_factor: float
    attributes: tuple[tuple[str, float], ...]
    kind: str
    steps: list[StepPlan]
    successors: tuple[tuple[tuple[int, str], ...], ...]
    n_predecessors: list[int]
    levels: list[int]  # sign-off levels per step


#: Enforcement cases resolved each way, in Chinese (for the case types' names).
RESOLUTION_NAMES = {"service": "服务解决", "management": "管理解决", "enforcement": "执法解决"}


def case_type_id(cases: str, way: str) -> str:
    """The id of the case type of enforcement cases ``cases`` resolved ``way`` (``RESOLUTION_NAMES``)."""
    return f"{cases}.{way}"


def case_type_names(name: str, name_en: str | None, way: str) -> tuple[str, str | None]:
    """The scenario's names of a case type: the cases' names with the way they are resolved."""
    return f"{name}（{RESOLUTION_NAMES[way]}）", (f"{name_en} ({way})" if name_en else None)


def _case_drafts(org: o.Org) -> list[_Draft]:
    """Each way of resolving each flow of enforcement cases, as a case type of one step.

    Its rate is the cases' rate times the share resolved that way, its time
    that way's officer time; only enforcement climbs the function's sign-off
    chain (service and management are an officer's own work).
    """
    g = org.graph
    out = []
    for case in org.case_flows:
        unit = org.owner(case.function)
        for name, (share, time) in zip(o.RESOLUTIONS, case.resolutions, strict=True):
            if share <= 0:
                continue
            step = StepPlan(id=name, functions=(case.function,), combine="sum", pool="", unit=unit,
                            jurisdiction=g.nodes[unit][o.JURISDICTION], service=(time,), rework=(0.0,), signoff=(),
                            redo=(0,))
            levels = g.nodes[case.function][o.SIGNOFF_LEVELS] if name == "enforcement" else 0
            out.append(_Draft(case_type_id(case.id, name), case_type_names(case.name, case.name_en, name)[0],
                              case.rate_per_day * share,
                              None, "date", case.statutory_limit_days, 1.0, (), "enforcement", [step], ((),), [0],
                              [levels]))
    return out


def _handoff_plan(org: o.Org, a: StepPlan, b: StepPlan, kind: str, handoff: Mapping[str, _Dist | None]) -> HandoffPlan:
    """The hand-off from step ``a`` to step ``b``: its kind's delay, with the coordination rules applied in order."""
    dist, factor = handoff[kind], 1.0
    for rule in org.handoff_rules:
        if rule.applies(org, a.unit, b.unit):
            if rule.handoff is not None:
                dist, factor = rule.handoff, 1.0
            else:
                factor *= rule.factor
    return HandoffPlan(kind, dist, factor)


def _handoff_kind(a: StepPlan, b: StepPlan) -> str:
    if a.unit == b.unit:
        return "within_unit"
    if a.jurisdiction == b.jurisdiction:
        return "between_units"
    return "between_jurisdictions"


def _handed_to(i: int, steps: Sequence[StepPlan],
               successors: Sequence[Sequence[tuple[int, str]]]) -> list[tuple[int, str]]:
    """Every step a file may go to from step ``i``, with its hand-off kind.

    Its successors, and beyond a successor that some applications skip, the
    steps after it (a skipped step hands nothing over: the file goes from
    the step it last did to the next one it will do), successors first.
    """
    out = [(j, kind) for j, kind in successors[i]]
    seen = {j for j, _ in out}
    visited: set[int] = set()
    stack = [j for j, _ in reversed(successors[i]) if steps[j].optional]
    while stack:
        j = stack.pop()
        if j in visited:
            continue
        visited.add(j)
        for k, _ in successors[j]:
            if k not in seen:
                seen.add(k)
                out.append((k, _handoff_kind(steps[i], steps[k])))
            if steps[k].optional:
                stack.append(k)
    return out
