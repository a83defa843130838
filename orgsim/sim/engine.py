"""Run one replication of a compiled organisation on an engine, and gather its result.

Two engines implement the same model and consume the same random numbers:

- ``"fifo"`` (the default, :mod:`orgsim.sim.fifo_engine`): every queue is
  first-in first-out, so when a file reaches a queue its start and end are
  known at once; only arrivals at queues are events. Many times faster.
- ``"simpy"`` (:mod:`orgsim.sim.simpy_engine`): the reference, on SimPy's
  event loop, with explicit queues and an event per activity.

Both read one :class:`~orgsim.sim.run_io.RunInput` (built here from the plan
and the streams) and return a :class:`~orgsim.sim.run_io.RunOutput`, which
:func:`read_result` turns into a :class:`~orgsim.sim.results.RunResult`.
Given the same seed they give the same lead times (tested), apart from
rounding in the last digits of utilisations and queue lengths, which they
integrate in a different order.
"""

from __future__ import annotations

import math
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, get_args

import numpy as np

from orgsim.errors import SimulationError
from orgsim.scenario.schema import Engine
from orgsim.sim.plan import Plan, at_capacity
from orgsim.sim.results import COMPONENTS, PoolStats, RunResult
from orgsim.sim.run_io import MAX_WORK_IN_PROGRESS, RunInput, RunOutput, build_run_input
from orgsim.sim.streams import RandomStreams

if TYPE_CHECKING:
    from orgsim.sim.calendar import WorkingCalendar

__all__ = ["simulate_plan", "read_result", "read_trace", "ENGINES", "Engine", "MAX_WORK_IN_PROGRESS"]

ENGINES: tuple[str, ...] = get_args(Engine)


def _engine(engine: str) -> Callable[[RunInput], RunOutput]:
    if engine == "fifo":
        from orgsim.sim.fifo_engine import run_fifo

        return run_fifo
    if engine == "simpy":
        from orgsim.sim.simpy_engine import run_simpy

        return run_simpy
    raise SimulationError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")


#: Lead times converted to calendar days per chunk, so temporaries stay small.
_CALENDAR_CHUNK = 65_536


def _calendar_days(calendar: WorkingCalendar | None, t_start: np.ndarray, t_end: np.ndarray) -> np.ndarray:
    if calendar is None or not len(t_start):
        return t_end - t_start
    out = np.empty(len(t_start))
    for k in range(0, len(t_start), _CALENDAR_CHUNK):
        window = slice(k, k + _CALENDAR_CHUNK)
        out[window] = calendar.working_to_calendar_days(t_start[window], t_end[window])
    return out


def read_trace(path: Path, column: str) -> list[str]:
    """Dates from one column of a CSV trace (:func:`orgsim.sim.traces.read_trace_file`)."""
    from orgsim.sim.traces import read_trace_file

    return read_trace_file(path, column)[0]


def simulate_plan(
    plan: Plan,
    streams: RandomStreams,
    horizon: float,
    warmup: float,
    keep_records: bool = False,
    arrival_times: dict[str, np.ndarray] | None = None,
    calendar: WorkingCalendar | None = None,
    engine: Engine = "fifo",
    event_sink: Callable[[np.ndarray], None] | None = None,
) -> RunResult:
    """Run one replication of one organisation state; see :func:`orgsim.simulate`.

    ``event_sink`` receives the run's per-visit events in batches (:mod:`orgsim.eventlog.events`).
    """
    run = build_run_input(plan, streams, horizon, warmup, keep_records, arrival_times or {}, event_sink)
    return read_result(plan, run, _engine(engine)(run), calendar)


def read_result(plan: Plan, run: RunInput, out: RunOutput, calendar: WorkingCalendar | None = None) -> RunResult:
    """What an engine measured in ``run`` of ``plan``, as a RunResult."""
    window = run.horizon - run.warmup
    span = run.horizon - run.window_start  # the queues' measurement window
    pooled = tuple(f.kind == "approval" for f in plan.flows)
    # The pooled figures are the project types' (case types are measured on their own).
    n = len(out.t_end) if all(pooled) else int(np.count_nonzero(np.asarray(pooled)[out.flow_index]))
    offered = plan.offered_load()
    overloaded = sorted(k for k, rho in offered.items() if at_capacity(rho))
    calendar_days = _calendar_days(calendar, out.t_start, out.t_end)
    return RunResult(
        arrived=out.arrived,
        completed=n,
        completed_in_window=out.completed_in_window,
        backlog_end=out.backlog,
        wip_samples=out.wip_samples,
        mean_in_system=out.in_system_area / window,
        truncated=out.truncated,
        drained=out.drained,
        overloaded_pools=tuple(overloaded),
        t_start=out.t_start,
        t_end=out.t_end,
        lead_calendar_days=np.asarray(calendar_days, dtype=float),
        applicant_days=out.applicant_days,
        flow_index=out.flow_index,
        flow_limits=tuple(math.nan if f.statutory_limit_days is None else f.statutory_limit_days
                          for f in plan.flows),
        flow_pooled=pooled,
        component_days={name: (v / n if n else math.nan)
                        for name, v in zip(COMPONENTS, out.component_totals, strict=True)},
        component_days_by_flow=_per_flow_components(out, len(plan.flows)),
        handoffs_per_application=out.handoffs / n if n else math.nan,
        visits_per_application=out.visits / n if n else math.nan,
        pools=tuple(
            PoolStats(key=k, unit=p.unit, role=p.role, servers=p.servers,
                      utilisation=float(out.busy_area[q]) / (span * p.servers),
                      mean_queue=float(out.queue_area[q]) / span)
            for q, (k, p) in enumerate(plan.pools.items())
        ),
        offered_load=offered,
        window_days=window,
        records=tuple(_record(plan, r) for r in out.records),
    )


def _per_flow_components(out: RunOutput, n_flows: int) -> tuple[dict[str, float], ...]:
    """Each project type's mean critical-path parts: the engine's per-type sums over its count."""
    counts = np.bincount(out.flow_index, minlength=n_flows) if len(out.flow_index) else np.zeros(n_flows, int)
    return tuple(
        {name: (float(out.flow_component_totals[f, c]) / int(counts[f]) if counts[f] else math.nan)
         for c, name in enumerate(COMPONENTS)}
        for f in range(n_flows)
    )


def _record(plan: Plan, record: tuple) -> dict:
    """One finished application's record.

    From an engine's (project type, k, arrival, end, *COMPONENTS, hand-offs, visits).
    """
    flow, k, t_arrive, now, *parts, handoffs, visits = record
    return {
        "project_type": plan.flows[flow].id, "applicant": k,
        "arrival_working_day": t_arrive, "done_working_day": now,
        "lead_time_working_days": now - t_arrive,
        **{f"{name}_days": v for name, v in zip(COMPONENTS, parts, strict=True)},
        "handoffs": handoffs, "visits": visits,
    }
