"""A reform as a programme over time: the organisation of each dated phase, compiled, and one run's input.

Phase 0 is the organisation before the first dated phase (the scenario's
organisation with every operator listed before that phase applied); phase p
is the organisation after the p-th dated phase's operators (and any undated
ones after it, up to the next dated phase), in force from its ``effective``
date. :func:`timeline_input` makes one :class:`~orgsim.sim.run_io.RunInput`
of the whole programme: each project type in a version per phase (the
applications filed in a phase follow its procedure), each step's queue and
sign-off leaders per phase (whoever performs the function when the file gets
there), and the queues' servers as tenures. Its parts that are the same in
every replication (:func:`timeline_template`) are made once per timeline; a
replication adds its streams and tenures (:func:`timeline_run`).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from orgsim.errors import Problem, ScenarioError, SimulationError
from orgsim.model.org import Org
from orgsim.scenario.schema import Phase, Scenario
from orgsim.sim.plan import Plan, PoolPlan, compile_plan
from orgsim.sim.run_io import RunInput, RunTemplate, bind_streams, run_template
from orgsim.sim.streams import BLOCK, RandomStreams

if TYPE_CHECKING:
    from orgsim.sim.calendar import WorkingCalendar

__all__ = ["Programme", "Tenure", "TimelineTemplate", "prepare_programme", "fixed_tenures", "timeline_input",
           "timeline_template", "timeline_run", "dated"]

#: A server of a queue: (queue key, from, to, hired) in working days.
Tenure = tuple[str, float, float, float]


def dated(scenario: Scenario) -> bool:
    """True when some phase of the scenario's reforms carries an ``effective`` date."""
    return any(isinstance(item, Phase) and item.effective is not None for item in scenario.reforms)


@dataclass(frozen=True, eq=False)
class Programme:
    """The organisations of a programme's phases, their plans, and when each takes effect."""

    names: tuple[str, ...]  # "before", then each dated phase's name
    dates: tuple[dt.date, ...]  # the calendar start, then each effective date
    starts: tuple[float, ...]  # working day each phase starts (0.0 first)
    orgs: tuple[Org, ...]
    plans: tuple[Plan, ...]
    horizon_days: float

    @property
    def n_phases(self) -> int:
        return len(self.orgs)


def _problem(scenario: Scenario, loc: tuple, message: str) -> ScenarioError:
    from orgsim.scenario.loader import format_path

    where = format_path(loc)
    return ScenarioError(f"{scenario.source_file}: {where}: {message}",
                         [Problem(where, message, scenario.source_file, scenario.line_of(loc))])


def prepare_programme(scenario: Scenario, calendar: WorkingCalendar) -> Programme:
    """Each phase's organisation and plan; dates out of order, before the start or beyond the horizon are refused."""
    from orgsim.reforms import reform_scenario

    if scenario.packages:
        raise _problem(scenario, ("packages",), "a timeline follows one reform list, not packages")
    start = scenario.simulation.calendar.start
    horizon = scenario.simulation.horizon_days
    # Operators are counted in order; a dated phase's first operator starts a new phase.
    cuts: list[tuple[int, str, dt.date, int]] = []  # first operator, phase, date, index in reforms
    k = 0
    last: dt.date | None = None
    for i, item in enumerate(scenario.reforms):
        if isinstance(item, Phase) and item.effective is not None:
            loc = ("reforms", i, "effective")
            if item.effective <= start:
                raise _problem(scenario, loc, f"{item.effective} is not after the calendar start {start}")
            if last is not None and item.effective <= last:
                raise _problem(scenario, loc, f"{item.effective} is not after the previous phase's date {last}")
            at = float(calendar.calendar_to_working(np.array([item.effective], dtype="datetime64[D]"))[0])
            if at >= horizon:
                raise _problem(scenario, loc, f"{item.effective} is beyond the horizon ({horizon:g} working days "
                               f"from {start}, working day {at:g})")
            cuts.append((k, item.phase, item.effective, i))
            last = item.effective
        k += len(item.reforms) if isinstance(item, Phase) else 1
    outcome = reform_scenario(scenario)
    # outcome.states[j] is the organisation after operator j.
    orgs = [outcome.before if not cuts or cuts[0][0] == 0 else outcome.states[cuts[0][0] - 1][1]]
    for n in range(len(cuts)):
        upto = cuts[n + 1][0] if n + 1 < len(cuts) else len(outcome.states)
        orgs.append(outcome.states[upto - 1][1] if upto > 0 else outcome.before)
    names = ("before", *(c[1] for c in cuts))
    dates = (start, *(c[2] for c in cuts))
    starts = (0.0, *(float(calendar.calendar_to_working(np.array([c[2]], dtype="datetime64[D]"))[0]) for c in cuts))
    plans = tuple(compile_plan(org, scenario) for org in orgs)
    _check_routes(scenario, plans, names, dates, [("reforms", c[3], "effective") for c in cuts])
    return Programme(names, dates, starts, tuple(orgs), plans, horizon)


def _function_pools(plan: Plan) -> dict[str, str]:
    return {f: key for key, pool in plan.pools.items() if pool.role == "officers" for f in pool.functions}


def _routes(plans: tuple[Plan, ...], v: int, plan: Plan) -> list[list[list[str]]]:
    """Where the steps of phase ``v``'s project types are served in each phase: per project type and
    step, [officers' queue per phase, then each sign-off level's leaders' queue per phase].

    Up to phase ``v`` a step is served where its procedure says; from a later phase on by
    whoever performs its function then (the queue of its function's officers, the leaders of
    the sign-off chain of a step with that function), or where it was before when the later
    organisation does not say (the function no longer receives cases there).
    """
    n = len(plans)
    fpools = [_function_pools(p) for p in plans]
    chains: list[dict[str, tuple[str, ...]]] = []
    for later in plans:
        by_function: dict[str, tuple[str, ...]] = {}
        for flow in later.flows:
            for st in flow.steps:
                by_function.setdefault(st.functions[0], st.signoff)
        chains.append(by_function)
    out = []
    for flow in plan.flows:
        for st in flow.steps:
            key = st.pool
            officers = []
            for p in range(n):
                if p > v:
                    key = fpools[p].get(st.functions[0], key)
                officers.append(st.pool if p <= v else key)
            route = [officers]
            for level, leader in enumerate(st.signoff):
                key = leader
                leaders = []
                for p in range(n):
                    chain = chains[p].get(st.functions[0]) if p > v else None
                    if chain:
                        key = chain[min(level, len(chain) - 1)]
                    leaders.append(leader if p <= v else key)
                route.append(leaders)
            out.append(route)
    return out


def _check_routes(scenario: Scenario, programme_plans: tuple[Plan, ...], names: tuple[str, ...],
                  dates: tuple[dt.date, ...], locs: list[tuple]) -> None:
    """Every step of every phase's procedure has a queue with people in every later phase (else files strand)."""
    for v, plan in enumerate(programme_plans):
        routes = _routes(programme_plans, v, plan)
        steps = [(flow, st) for flow in plan.flows for st in flow.steps]
        for (flow, st), route in zip(steps, routes, strict=True):
            for level, keys in enumerate(route):
                for p in range(v + 1, len(programme_plans)):
                    if keys[p] in programme_plans[p].pools:
                        continue
                    who = f"the officers of function {st.functions[0]!r}" if level == 0 else \
                        f"the sign-off leaders ({keys[p]}) of function {st.functions[0]!r}"
                    raise _problem(scenario, locs[p - 1],
                                   f"phase {names[p]!r} (from {dates[p]}) leaves no queue for {who}: applications "
                                   f"of project type {flow.id.split('@')[0]!r} filed in phase {names[v]!r} still need "
                                   f"step {st.id!r} ({keys[p]} no longer serves cases), and would wait forever; "
                                   f"let a step of this phase's procedure keep the function")


def fixed_tenures(programme: Programme) -> list[Tenure]:
    """Every post filled all the time: server k of a queue serves over each run of phases that has a k-th server."""
    keys = list(dict.fromkeys(k for plan in programme.plans for k in plan.pools))
    out: list[Tenure] = []
    ends = (*programme.starts[1:], math.inf)
    for key in keys:
        servers = [plan.pools[key].servers if key in plan.pools else 0 for plan in programme.plans]
        for k in range(max(servers)):
            p = 0
            while p < len(servers):
                if servers[p] > k:
                    q = p
                    while q + 1 < len(servers) and servers[q + 1] > k:
                        q += 1
                    out.append((key, programme.starts[p], ends[q], -math.inf))
                    p = q + 1
                else:
                    p += 1
    return out


def _rows_for(expected: float) -> int:
    """A first block of rows for a source expected to be drawn ``expected`` times: a power of two, 32 to BLOCK,
    with room for the Poisson spread (more rows come in a second block, the same numbers)."""
    size = 32
    while size < 1.5 * expected + 8 and size < BLOCK:
        size *= 2
    return size


@dataclass(frozen=True, eq=False)
class TimelineTemplate:
    """A programme's run input but the replication's streams and tenures (made once per timeline)."""

    union: Plan  # every phase's pools, and each project type in a version per phase (for reading the result)
    template: RunTemplate
    queue_index: dict[str, int]


def timeline_template(programme: Programme, warmup: float, arrival_times: dict[str, np.ndarray],
                      learn_start: float = 1.0, learn_days: float = 0.0,
                      keep_records: bool = False) -> TimelineTemplate:
    """The union plan of the programme and what its runs share: layout, routes per phase, arrivals."""
    plans = programme.plans
    n = len(plans)
    pools: dict[str, PoolPlan] = {}
    for plan in plans:
        for key, pool in plan.pools.items():
            pools.setdefault(key, pool)
    # Project types in a version per phase: a later phase's versions draw from streams of their own.
    flows = []
    version: list[tuple[int, str]] = []
    for p, plan in enumerate(plans):
        for flow in plan.flows:
            flows.append(flow if p == 0 else replace(flow, id=f"{flow.id}@{p}"))
            version.append((p, flow.id))
    union = replace(plans[0], pools=pools, flows=tuple(flows))
    traced = {f.id: arrival_times[f.id.split("@")[0]] for f in flows if f.id.split("@")[0] in arrival_times}
    template = run_template(union, programme.horizon_days, warmup, keep_records, traced)
    index = {v: i for i, v in enumerate(version)}
    flow_next = [index.get((p + 1, fid), -1) for p, fid in version]
    flow_until = [programme.starts[p + 1] if p + 1 < n else math.inf for p, _ in version]
    # A project type's earlier version takes the arrivals and hands them on: a later one has none.
    template = template.without_arrivals([i for i, (p, fid) in enumerate(version) if p > 0 and (p - 1, fid) in index])
    # Each version takes a row for each application filed in its phase: blocks of about that many first.
    ends = (*programme.starts[1:], programme.horizon_days)
    expected = []
    for flow, (p, fid) in zip(flows, version, strict=True):
        times = arrival_times.get(fid)
        a, b = programme.starts[p], ends[p]
        expected.append(float(np.count_nonzero((times >= a) & (times < b))) if times is not None
                        else flow.rate_per_day * (b - a))
    template = replace(template, first_rows=tuple(_rows_for(n) for n in expected))
    queue_index = {k: q for q, k in enumerate(pools)}
    step_at: list[int] = []
    signoff_at: list[int] = []
    for v, plan in enumerate(plans):
        for officers, *leaders in _routes(plans, v, plan):  # per step: officers, then each sign-off level
            step_at.extend(queue_index[k] for k in officers)
            for keys in leaders:
                signoff_at.extend(queue_index[k] for k in keys)
    stretch = [1.0 / plans[p].pools[k].availability if k in plans[p].pools else 1.0 for k in pools for p in range(n)]
    base = replace(
        template.base, timed=True, n_phases=n, phase_start=np.array([-math.inf, *programme.starts[1:]]),
        flow_next=np.array(flow_next, dtype=np.int32), flow_until=np.array(flow_until),
        step_queue_at=np.array(step_at, dtype=np.int32), signoff_queue_at=np.array(signoff_at, dtype=np.int32),
        queue_stretch_at=np.array(stretch), learn_start=learn_start, learn_days=learn_days,
    )
    return TimelineTemplate(union, replace(template, base=base), queue_index)


def timeline_run(shared: TimelineTemplate, tenures: list[Tenure], streams: RandomStreams) -> RunInput:
    """One replication's run of the programme: ``shared`` on its streams, its queues served by ``tenures``."""
    queue_index = shared.queue_index
    known = [t for t in tenures if t[0] in queue_index and t[2] > t[1]]
    missing = sorted(set(t[0] for t in tenures) - set(queue_index))
    if missing:
        raise SimulationError(f"tenures for queues that no phase has: {', '.join(missing)}")
    run = bind_streams(shared.template, streams)
    return replace(
        run, tenure_queue=np.array([queue_index[t[0]] for t in known], dtype=np.int32),
        tenure_from=np.array([t[1] for t in known]), tenure_to=np.array([t[2] for t in known]),
        tenure_hired=np.array([t[3] for t in known]),
    )


def timeline_input(programme: Programme, tenures: list[Tenure], streams: RandomStreams, warmup: float,
                   arrival_times: dict[str, np.ndarray], learn_start: float = 1.0, learn_days: float = 0.0,
                   keep_records: bool = False) -> tuple[Plan, RunInput]:
    """One run of the whole programme: the union plan (for reading the result) and its input."""
    shared = timeline_template(programme, warmup, arrival_times, learn_start, learn_days, keep_records)
    return shared.union, timeline_run(shared, tenures, streams)
