"""Run one replication of a compiled organisation on an engine, and gather its result.

Two engines implement the same model and consume the same random numbers:

- ``"fifo"`` (the default, :mod:`orgsim.sim.fifo_engine`): every queue is
  first-in first-out, so when a file reaches a queue its start and end are
  known at once; only arrivals at queues are events. Several times faster.
- ``"simpy"`` (:mod:`orgsim.sim.simpy_engine`): the reference, on SimPy's
  event loop, with explicit queues and an event per activity.

Given the same seed they give the same lead times (tested), apart from
rounding in the last digits of utilisations and queue lengths, which they
integrate in a different order.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, get_args

import numpy as np

from orgsim.errors import SimulationError
from orgsim.scenario.schema import Engine
from orgsim.sim.flows import MAX_WORK_IN_PROGRESS, as_float_array
from orgsim.sim.plan import Plan
from orgsim.sim.results import COMPONENTS, RunResult
from orgsim.sim.streams import RandomStreams

if TYPE_CHECKING:
    from orgsim.sim.calendar import WorkingCalendar

__all__ = ["simulate_plan", "read_trace", "ENGINES", "Engine", "MAX_WORK_IN_PROGRESS"]

ENGINES: tuple[str, ...] = get_args(Engine)


def _run_class(engine: str) -> type:
    if engine == "fifo":
        from orgsim.sim.fifo_engine import FifoRun

        return FifoRun
    if engine == "simpy":
        from orgsim.sim.simpy_engine import SimPyRun

        return SimPyRun
    raise SimulationError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")


#: Lead times converted to calendar days per chunk, so temporaries stay small.
_CALENDAR_CHUNK = 65_536


def _calendar_days(calendar: "WorkingCalendar | None", t_start: np.ndarray, t_end: np.ndarray) -> np.ndarray:
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
    calendar: "WorkingCalendar | None" = None,
    engine: Engine = "fifo",
) -> RunResult:
    """Run one replication of one organisation state; see :func:`orgsim.simulate`."""
    run = _run_class(engine)(plan, streams, horizon, warmup, keep_records, arrival_times or {})
    run.run()
    window = horizon - warmup
    n = len(run.t_end)
    offered = plan.offered_load()
    overloaded = sorted(k for k, rho in offered.items() if rho >= 1.0)
    t_start = as_float_array(run.t_start)
    t_end = as_float_array(run.t_end)
    calendar_days = _calendar_days(calendar, t_start, t_end)
    return RunResult(
        arrived=run.arrived,
        completed=n,
        completed_in_window=run.completed_in_window,
        backlog_end=run.backlog,
        wip_samples=tuple(run.wip_samples),
        mean_in_system=run.wip_area / window,
        truncated=run.truncated,
        drained=run.drained,
        overloaded_pools=tuple(overloaded),
        t_start=t_start,
        t_end=t_end,
        lead_calendar_days=np.asarray(calendar_days, dtype=float),
        applicant_days=as_float_array(run.t_applicant),
        flow_index=np.frombuffer(run.flow_of, dtype=np.uint16) if n else np.empty(0, dtype=np.uint16),
        flow_limits=tuple(math.nan if f.statutory_limit_days is None else f.statutory_limit_days
                          for f in plan.flows),
        component_days={name: (v / n if n else math.nan) for name, v in zip(COMPONENTS, run.components)},
        handoffs_per_application=run.handoffs / n if n else math.nan,
        visits_per_application=run.visits / n if n else math.nan,
        pools=tuple(run.pool_stats),
        offered_load=offered,
        window_days=window,
        records=tuple(run.records),
    )
