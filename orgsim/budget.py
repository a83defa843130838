"""The resource budget: what a run may cost, estimated and checked before it starts.

A valid scenario can still ask for more than a machine has: thousands of
parallel steps, millions of applications kept as records, a horizon that
needs calendar years the holiday tables do not hold. :func:`check_budget`
finds these from the scenario alone (``orgsim validate`` runs it), and
:func:`check_run_budget` again with a command's options (workers, records),
before any simulation, each problem located at the field to change.

The memory estimate (docs/model.md, "Resource budget") is an upper bound
built from measurements of the FIFO engine:

- each application of a run: about ``BYTES_PER_APPLICATION`` (its times,
  its summary's sorted lead times);
- each application in flight, for each step of its project type: about
  ``BYTES_PER_SLOT_STEP``; the engine holds at least ``MIN_SLOTS`` and at most
  :data:`MAX_WORK_IN_PROGRESS` applications at once (more means the queue is
  unstable, and it stops admitting);
- with records (``--records``), ``BYTES_PER_RECORD`` per application, for
  every replication of every state, all kept until they are written;
- ``BASE_BYTES`` for Python and the libraries, once per process.

Runs at once multiply the per-run part: one in this process, or one per worker.

A timeline (``orgsim timeline``) is one run per replication over the whole
horizon, of one state, with a version of every project type per phase
(before the first dated phase, then each dated phase): its steps are counted
as adding up over the phases, an upper bound. Its per-period arrays are small
beside the applications and not counted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orgsim.scenario.schema import Scenario

__all__ = [
    "MAX_WORK_IN_PROGRESS", "DEFAULT_MAX_MEMORY_BYTES", "MAX_WORKERS", "MAX_GRID_POINTS", "MemoryEstimate",
    "estimate_memory", "check_budget", "check_run_budget", "parse_size",
]

#: Applications in the system at which a run stops admitting new ones: the
#: system is unstable and more would only cost memory.
MAX_WORK_IN_PROGRESS = 50_000
#: The engine's table of applications in flight starts with this many slots.
MIN_SLOTS = 1024
#: Measured (peak RSS of one run in a fresh process, tests/test_robustness.py):
#: 40-110 bytes per application, 65-250 bytes per application in flight and
#: step, 1.2-1.5 KB per record, 61 MB for a process with the simulation
#: imported; rounded up.
BYTES_PER_APPLICATION = 128
BYTES_PER_SLOT_STEP = 256
BYTES_PER_RECORD = 1_800
BASE_BYTES = 100 * 2**20

#: The memory a command may plan to use, unless --max-memory says otherwise.
DEFAULT_MAX_MEMORY_BYTES = 4 * 2**30
#: Worker processes at most (each costs a Python process and a run's memory).
MAX_WORKERS = 256
#: Points of a sweep's grid at most (the grid is counted before it is made).
MAX_GRID_POINTS = 100_000

#: Years that every supported version of the holidays library covers for
#: China (it holds 1950-2100): a calendar inside them needs no further check;
#: one reaching outside is built once by ``validate`` to find out.
_SAFE_YEARS = (1951, 2099)
#: Fewest working days a calendar year can have (for the years a run spans).
_MIN_WORKING_DAYS_PER_YEAR = 240

Loc = tuple[Any, ...]


class MemoryEstimate:
    """The memory a run of a scenario is expected to need, in bytes, and its parts."""

    def __init__(self, applications: float, steps: int, replications: int, states: int = 2) -> None:
        self.applications = applications
        self.steps = steps
        in_flight = max(MIN_SLOTS, min(applications, MAX_WORK_IN_PROGRESS))
        #: One run: its applications, and the applications in flight times their steps.
        self.per_run = BYTES_PER_APPLICATION * applications + BYTES_PER_SLOT_STEP * in_flight * steps
        #: Every record of every replication of every state (with --records).
        self.records = BYTES_PER_RECORD * applications * replications * states

    def total(self, runs_at_once: int = 1, records: bool = False) -> float:
        """Bytes for ``runs_at_once`` runs at a time, each in its own process beyond the first, with records or not."""
        processes = max(1, runs_at_once)
        return BASE_BYTES * processes + self.per_run * processes + (self.records if records else 0.0)


#: Where a part of the workload is written, its applications (or enforcement cases) per replication, its steps.
_Part = tuple[Loc, float, int]


def _applications(scenario: Scenario, traces: Mapping[tuple[str, str], Any]) -> tuple[float, list[_Part]]:
    """Expected applications per replication, and each project type's and flow of enforcement cases' share."""
    workload = scenario.workload
    if workload is None:
        return 0.0, []
    horizon = scenario.simulation.horizon_days
    parts: list[_Part] = []
    for t, pt in enumerate(workload.project_types):
        loc = ("workload", "project_types", t)
        if pt.arrivals.rate is not None:
            parts.append((loc, pt.arrivals.rate_per_day() * horizon, len(pt.steps)))
        else:
            trace = traces.get((pt.arrivals.trace or "", pt.arrivals.column))
            parts.append((loc, float(len(trace.dates)) if trace is not None else 0.0, len(pt.steps)))
    for k, cases in enumerate(workload.enforcement_cases):  # one step each, in the engine like applications
        parts.append((("workload", "enforcement_cases", k), cases.rate_per_day() * horizon, 1))
    return sum(n for _, n, _ in parts), parts


def _steps(scenario: Scenario) -> int:
    """Most steps an application can have: the longest path, plus an intake window a reform may add."""
    if scenario.workload is None:
        return 0
    longest = max(len(pt.steps) for pt in scenario.workload.project_types)
    operators = [op for package in (None, *scenario.packages) for _, op in scenario.operators(package)]
    intake = any(getattr(op, "intake", None) for op in operators)
    return longest + int(intake)


def estimate_memory(scenario: Scenario, traces: Mapping[tuple[str, str], Any] | None = None,
                    replications: int | None = None) -> MemoryEstimate:
    """The memory a comparison of ``scenario`` is expected to need (see the module notes)."""
    applications, _ = _applications(scenario, traces if traces is not None else scenario.traces)
    return MemoryEstimate(applications, _steps(scenario), replications or scenario.simulation.replications,
                          len(scenario.state_names()))


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def _memory_problem(scenario: Scenario, estimate: MemoryEstimate, need: float, limit: float,
                    parts: list[_Part], what: str) -> tuple[Loc, str]:
    # Point at the project type (or flow of enforcement cases) that brings the most applications times steps.
    loc: Loc = max(parts, key=lambda p: p[1] * p[2])[0] if parts else ("simulation", "horizon_days")
    return loc, (
        f"{what} would need about {_gib(need)} of memory ({estimate.applications:,.0f} applications per "
        f"replication, up to {estimate.steps:,} steps each); the limit is {_gib(limit)}: shorten the horizon, "
        "lower the arrival rate or the steps, or raise the limit with --max-memory"
    )


def check_budget(scenario: Scenario, traces: Mapping[tuple[str, str], Any],
                 max_memory_bytes: float | None = None) -> list[tuple[Loc, str]]:
    """What a run of ``scenario`` would need beyond the budget, located (the scenario alone: one run at a time)."""
    problems: list[tuple[Loc, str]] = []
    if scenario.workload is None:
        return problems
    limit = DEFAULT_MAX_MEMORY_BYTES if max_memory_bytes is None else max_memory_bytes
    applications, parts = _applications(scenario, traces)
    estimate = MemoryEstimate(applications, _steps(scenario), scenario.simulation.replications,
                              len(scenario.state_names()))
    need = estimate.total(1)
    if need > limit:
        problems.append(_memory_problem(scenario, estimate, need, limit, parts, "a run"))
    problems += _calendar_problems(scenario, traces)
    return problems


def _phases(scenario: Scenario) -> int:
    """The phases of a timeline: the organisation before the first dated phase, then each dated phase."""
    from orgsim.scenario.schema import Phase

    return 1 + sum(1 for item in scenario.reforms if isinstance(item, Phase) and item.effective is not None)


def check_run_budget(scenario: Scenario, *, replications: int, runs_at_once: int, records: bool,
                     max_memory_bytes: float | None = None, states: int = 2,
                     timeline: bool = False) -> list[tuple[Loc, str]]:
    """The memory problem of a command's runs (workers at once, records kept), located; [] when it fits.

    ``timeline``: the runs are a timeline's (one state; the steps of every phase's version add up).
    """
    if scenario.workload is None:
        return []
    limit = DEFAULT_MAX_MEMORY_BYTES if max_memory_bytes is None else max_memory_bytes
    applications, parts = _applications(scenario, scenario.traces)
    phases = _phases(scenario) if timeline else 1
    states = 1 if timeline else states
    estimate = MemoryEstimate(applications, _steps(scenario) * phases, replications, states)
    need = estimate.total(runs_at_once, records)
    if need <= limit:
        return []
    what = ((f"a timeline of {phases} phase(s), {replications} replication(s)" if timeline
             else f"{replications} replication(s) of {states} state(s)")
            + (f", {runs_at_once} at once" if runs_at_once > 1 else "") + (", with records" if records else ""))
    return [_memory_problem(scenario, estimate, need, limit, parts, what)]


def _calendar_problems(scenario: Scenario, traces: Mapping[tuple[str, str], Any]) -> list[tuple[Loc, str]]:
    """A run's calendar needs years the calendar cannot give: found as the simulation would find it."""
    sim = scenario.simulation
    # Events run until the horizon plus one window (the drain), and a time converts to the next working day.
    last_working_time = 2 * sim.horizon_days - sim.warmup_days + 2
    start = sim.calendar.start
    last_year = start.year + math.ceil(last_working_time / _MIN_WORKING_DAYS_PER_YEAR) + 1
    dates = [d for trace in traces.values() for d in trace.dates[-1:]]
    last_year = max([last_year] + [int(d[:4]) + 1 for d in dates])
    if _SAFE_YEARS[0] <= start.year and last_year <= _SAFE_YEARS[1]:
        return []
    from orgsim.errors import SimulationError
    from orgsim.sim.calendar import WorkingCalendar

    try:
        calendar = WorkingCalendar.from_spec(sim.calendar, horizon_working_days=last_working_time)
        if dates:
            import numpy as np

            calendar.calendar_to_working(np.array([max(dates)], dtype="datetime64[D]"))
    except SimulationError as exc:
        return [(("simulation", "horizon_days"), f"a run of {sim.horizon_days:g} working days (and up to "
                 f"{sim.horizon_days - sim.warmup_days:g} more to let the window's applications finish) "
                 f"from {start.isoformat()}: {exc}")]
    return []


def parse_size(text: str) -> int:
    """``4G``, ``512M``, ``2.5GiB``, ``1000000`` (bytes) -> bytes; ValueError if it is not a size."""
    units = {"": 1, "b": 1, "k": 2**10, "kb": 2**10, "kib": 2**10, "m": 2**20, "mb": 2**20, "mib": 2**20,
             "g": 2**30, "gb": 2**30, "gib": 2**30, "t": 2**40, "tb": 2**40, "tib": 2**40}
    cleaned = text.strip().lower().replace(" ", "")
    number = cleaned.rstrip("kmgtib")
    unit = cleaned[len(number):]
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"{text!r} is not a size; write e.g. 8G, 512M or 2.5GiB") from None
    if unit not in units or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{text!r} is not a size; write e.g. 8G, 512M or 2.5GiB")
    return int(value * units[unit])
