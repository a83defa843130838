"""Each run reduced once, where it was simulated, to what every consumer reads.

:func:`summarise_run` turns a :class:`~orgsim.sim.results.RunResult` (with
its arrays of one entry per application) into a :class:`RunSummary` of fixed
size: the flat statistics of a replication table, lead-time statistics per
clock, stability, the queues, work-in-progress samples, the time split, and
the same lead-time statistics per project type with a quantile sketch of each
distribution (enough to draw it). The arrays are then dropped: a summary of a
run of 300,000 applications is a few tens of kilobytes, and it is what crosses
from a worker process back to the parent.

Consumers (tables, JSON, figures, the report) read a summary's fields; they
never recompute a statistic from arrays.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from orgsim.sim.results import PERCENTILES, PoolStats, RunResult

if TYPE_CHECKING:
    from orgsim.sim.plan import Plan

__all__ = [
    "CLOCKS",
    "SKETCH_POINTS",
    "SKETCH_LEVELS",
    "LeadTimeStats",
    "QuantileSketch",
    "ProjectTypeSummary",
    "RunSummary",
    "summarise_run",
    "flat_statistics",
]

#: The clocks a lead time is measured on: working days, calendar days, and
#: working days with the statutory clock stopped while a file is back with the applicant.
CLOCKS = ("working", "calendar", "statutory")

#: Quantiles kept per distribution: levels 0, 0.005, ..., 1 (min and max included).
SKETCH_POINTS = 201
SKETCH_LEVELS = np.linspace(0.0, 1.0, SKETCH_POINTS)


@dataclass(frozen=True)
class LeadTimeStats:
    """Lead times of one group of applications on one clock, in days."""

    count: int
    mean: float
    p50: float
    p90: float
    p95: float
    max: float

    def to_dict(self) -> dict[str, float]:
        """``mean``, ``p50``, ``p90``, ``p95``, ``max`` (the flat statistics' suffixes)."""
        return {"mean": self.mean, **{f"p{p}": getattr(self, f"p{p}") for p in PERCENTILES}, "max": self.max}


@dataclass(frozen=True, eq=False)
class QuantileSketch:
    """A lead-time distribution in fixed size: its count and quantiles at :data:`SKETCH_LEVELS`.

    Quantiles interpolate linearly between order statistics (numpy's default
    method); the first is the minimum and the last the maximum. Empty when
    ``count`` is 0.
    """

    count: int
    quantiles: np.ndarray

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QuantileSketch):
            return NotImplemented
        return self.count == other.count and np.array_equal(self.quantiles, other.quantiles)

    __hash__ = None  # type: ignore[assignment]  # unhashable (arrays compared); typeshed types it as a method

    def cdf(self, x: Any) -> np.ndarray:
        """Share of the applications done within ``x`` days (linear between the quantiles)."""
        x = np.asarray(x, dtype=float)
        if self.count == 0:
            return np.full(x.shape, math.nan)
        return np.interp(x, self.quantiles, SKETCH_LEVELS, left=0.0, right=1.0)


@dataclass(frozen=True)
class ProjectTypeSummary:
    """One project type's applications in one run (those that arrived in the window)."""

    #: The project type's id in the scenario.
    project_type: str
    #: Applications of this type that arrived in the window and were completed.
    count: int
    #: Statutory limit in working days (None: the type has none).
    statutory_limit_days: float | None
    #: Clock (:data:`CLOCKS`) -> lead-time statistics.
    lead: Mapping[str, LeadTimeStats]
    #: Clock -> quantile sketch of the lead-time distribution.
    sketches: Mapping[str, QuantileSketch]
    #: Share whose statutory time passed the limit (NaN without a limit or an application).
    share_over_limit: float
    #: Completed applications of the window per working day of the window (in a run that
    #: drained, the type's arrivals in the window per working day).
    throughput_per_working_day: float
    #: Mean working days per application on each part of the critical path (COMPONENTS),
    #: from the engine's per-type sums (NaN for a type without applications).
    time_split: Mapping[str, float]
    #: "approval" (a project type: in the pooled figures) or "enforcement" (a case type of its own).
    kind: str = "approval"

    @property
    def stats(self) -> dict[str, float]:
        """Flat statistics of this type in this run (the per-type columns of ``replications.csv``)."""
        out: dict[str, float] = {
            "applications": self.count,
            "throughput_per_working_day": self.throughput_per_working_day,
            "share_over_limit": self.share_over_limit,
        }
        for clock in CLOCKS:
            for k, v in self.lead[clock].to_dict().items():
                out[f"lead_{clock}_{k}"] = v
        for name, v in self.time_split.items():
            out[f"time_{name}_days"] = v
        return out


@dataclass(frozen=True)
class RunSummary:
    """One replication of one organisation state, reduced to its statistics.

    :attr:`stats` is the flat row of a replication table (the columns of
    ``replications.csv`` and of sweep tables); the other fields carry what
    the JSON summary, the figures and the report read.
    """

    arrived: int
    completed: int
    completed_in_window: int
    backlog_end: int
    backlog_growth_per_100_days: float
    throughput_per_working_day: float
    mean_in_system: float
    handoffs_per_application: float
    visits_per_application: float
    #: Share of all applications over their type's statutory limit (NaN without limits).
    share_over_limit: float
    #: Clock (:data:`CLOCKS`) -> lead times of all applications of the window.
    lead: Mapping[str, LeadTimeStats]
    #: Mean working days per application on each part of the critical path (COMPONENTS).
    time_split: Mapping[str, float]
    stable: bool
    #: Why the run is unstable, in words (empty when stable).
    instability: tuple[str, ...]
    overloaded_pools: tuple[str, ...]
    truncated: bool
    drained: bool
    pools: tuple[PoolStats, ...]
    offered_load: Mapping[str, float]
    #: (working day, applications in the system) at 21 points across the window.
    wip_samples: tuple[tuple[float, int], ...]
    window_days: float
    #: One per project type of the plan, in the plan's order.
    project_types: tuple[ProjectTypeSummary, ...] = ()
    #: Per-application records, kept only when asked for (``keep_records``).
    records: tuple[dict, ...] = field(default=(), repr=False)

    @cached_property
    def stats(self) -> dict[str, float]:
        """Flat statistics: one row of a replication table (the keys of ``RunResult.summary()``)."""
        out: dict[str, float] = {
            "arrived": self.arrived,
            "completed": self.completed,
            "backlog_end": self.backlog_end,
            "backlog_growth_per_100_days": self.backlog_growth_per_100_days,
            "stable": float(self.stable),
            "throughput_per_working_day": self.throughput_per_working_day,
            "mean_in_system": self.mean_in_system,
            "handoffs_per_application": self.handoffs_per_application,
            "share_over_limit": self.share_over_limit,
        }
        for clock in ("working", "calendar"):
            for k, v in self.lead[clock].to_dict().items():
                out[f"lead_{clock}_{k}"] = v
        for name, v in self.time_split.items():
            out[f"time_{name}_days"] = v
        return out

    def project_type(self, project_type: str) -> ProjectTypeSummary:
        """The summary of one project type, by id."""
        for t in self.project_types:
            if t.project_type == project_type:
                return t
        known = ", ".join(t.project_type for t in self.project_types)
        raise KeyError(f"no project type {project_type!r} (project types: {known})")


def flat_statistics(run: RunResult) -> dict[str, float]:
    """The flat statistics of ``run`` alone (:meth:`RunResult.summary`), without per-type work."""
    return summarise_run(run, None).stats


def summarise_run(run: RunResult, plan: Plan | None) -> RunSummary:
    """Reduce one run to its summary; with ``plan``, also per project type (in the plan's order).

    One clock at a time, and each temporary array freed as soon as it is
    read, so that summarising adds little to the memory the run took.
    """
    working = run.t_end - run.t_start
    statutory = working - run.applicant_days
    over, counts = _over_limit(statutory, run)
    pooled = run.flow_pooled or (True,) * len(run.flow_limits)
    limited = [k for k, limit in enumerate(run.flow_limits) if not math.isnan(limit) and pooled[k]]
    total = sum(counts[k] for k in limited)
    # As the share of a boolean array: whole counts divided once, the same number.
    share = sum(over[k] for k in limited) / total if total else math.nan
    if all(pooled):
        lead = {"working": _stats(working), "calendar": _stats(run.lead_calendar_days), "statutory": _stats(statutory)}
    else:  # the pooled lead times are the project types'; case types are measured on their own
        mask = np.asarray(pooled)[run.flow_index] if len(run.flow_index) else np.zeros(0, bool)
        lead = {"working": _stats(working[mask]), "calendar": _stats(run.lead_calendar_days[mask]),
                "statutory": _stats(statutory[mask])}
    types: tuple[ProjectTypeSummary, ...] = ()
    if plan is not None:
        clocks = {"working": working, "calendar": run.lead_calendar_days, "statutory": statutory}
        del working, statutory
        types = _by_project_type(run, [f.id for f in plan.flows], clocks, over)
    return RunSummary(
        arrived=run.arrived,
        completed=run.completed,
        completed_in_window=run.completed_in_window,
        backlog_end=run.backlog_end,
        backlog_growth_per_100_days=run.backlog_growth_per_100_days,
        throughput_per_working_day=run.throughput_per_working_day,
        mean_in_system=run.mean_in_system,
        handoffs_per_application=run.handoffs_per_application,
        visits_per_application=run.visits_per_application,
        share_over_limit=share,
        lead=lead,
        time_split=dict(run.component_days),
        stable=run.stable,
        instability=tuple(run.instability()),
        overloaded_pools=tuple(run.overloaded_pools),
        truncated=run.truncated,
        drained=run.drained,
        pools=tuple(run.pools),
        offered_load=dict(run.offered_load),
        wip_samples=tuple(run.wip_samples),
        window_days=run.window_days,
        project_types=types,
        records=tuple(run.records),
    )


#: The percentiles as fractions, as numpy.percentile divides them.
_FRACTIONS = np.asarray(PERCENTILES) / 100


def _percentiles(values: np.ndarray, ordered: np.ndarray | None) -> np.ndarray:
    """numpy.percentile(values, PERCENTILES), by the same arithmetic, read from ``ordered`` when sorted.

    numpy's default method: the virtual index (n - 1) q, its floor and the next
    index, and numpy's two-sided linear interpolation (``_lerp``). Without the
    per-call overhead of numpy.percentile, which would be most of the cost of
    summarising a small run; a test holds the two equal to the last bit.
    """
    n = len(values)
    virtual = (n - 1) * _FRACTIONS
    below = np.floor(virtual).astype(np.intp)
    above = below + 1
    last = virtual >= n - 1
    below[last] = n - 1
    above[last] = n - 1
    if ordered is None:
        ordered = np.partition(values, np.concatenate((below, above)))
    gamma = virtual - below
    a, b = ordered[below], ordered[above]
    diff = b - a
    out = a + diff * gamma
    high = gamma >= 0.5
    out[high] = b[high] - diff[high] * (1 - gamma[high])
    return out


def _stats(values: np.ndarray, ordered: np.ndarray | None = None) -> LeadTimeStats:
    """Count, mean, percentiles (numpy's linear interpolation) and max of ``values``.

    ``ordered``, when given, is ``values`` sorted: the percentiles and the
    maximum are read from it (they do not depend on the order); the mean is
    summed in the order of ``values``, so a group's mean is the same number
    however it was found.
    """
    if len(values) == 0:
        return LeadTimeStats(0, math.nan, math.nan, math.nan, math.nan, math.nan)
    p50, p90, p95 = (float(v) for v in _percentiles(values, ordered))
    top = ordered[-1] if ordered is not None else values.max()
    return LeadTimeStats(len(values), float(values.mean()), p50, p90, p95, float(top))


def _over_limit(statutory: np.ndarray, run: RunResult) -> tuple[list[int], list[int]]:
    """Per project type: applications whose statutory time passed the type's limit, and applications."""
    over, counts = [], []
    for k, limit in enumerate(run.flow_limits):
        mine = statutory[run.flow_index == k]
        counts.append(len(mine))
        over.append(0 if math.isnan(limit) else int(np.count_nonzero(mine > limit)))
    return over, counts


def _sketch(ordered: np.ndarray) -> QuantileSketch:
    """Quantiles at SKETCH_LEVELS of a sorted array (linear between order statistics)."""
    n = len(ordered)
    if n == 0:
        return QuantileSketch(0, np.empty(0))
    position = SKETCH_LEVELS * (n - 1)
    low = np.floor(position).astype(np.intp)
    high = np.minimum(low + 1, n - 1)
    q = ordered[low] + (position - low) * (ordered[high] - ordered[low])
    q[-1] = ordered[-1]  # the maximum exactly, whatever the rounding above
    q.setflags(write=False)
    return QuantileSketch(n, q)


def _by_project_type(
    run: RunResult, ids: Sequence[str], clocks: dict[str, np.ndarray], over: Sequence[int]
) -> tuple[ProjectTypeSummary, ...]:
    """Each project type's statistics and sketches; ``clocks`` is emptied as it is read."""
    # One stable sort by project type: each type's applications are then a
    # contiguous slice, in the order they finished.
    order = np.argsort(run.flow_index, kind="stable")
    counts = np.bincount(run.flow_index, minlength=len(ids)) if len(run.flow_index) else np.zeros(len(ids), int)
    parts = [slice(int(a), int(b)) for a, b in zip(np.r_[0, np.cumsum(counts)[:-1]], np.cumsum(counts), strict=True)]
    lead: list[dict[str, LeadTimeStats]] = [{} for _ in ids]
    sketches: list[dict[str, QuantileSketch]] = [{} for _ in ids]
    for clock in CLOCKS:
        grouped = clocks.pop(clock)[order]
        for k, part in enumerate(parts):
            mine = grouped[part]
            ordered = np.sort(mine)
            lead[k][clock] = _stats(mine, ordered)
            sketches[k][clock] = _sketch(ordered)
        del grouped
    return tuple(
        ProjectTypeSummary(
            project_type=type_id,
            count=int(counts[k]),
            statutory_limit_days=None if math.isnan(run.flow_limits[k]) else float(run.flow_limits[k]),
            lead=lead[k],
            sketches=sketches[k],
            share_over_limit=(math.nan if math.isnan(run.flow_limits[k]) or not counts[k]
                              else over[k] / int(counts[k])),
            throughput_per_working_day=int(counts[k]) / run.window_days,
            time_split=dict(run.component_days_by_flow[k]),
            kind="approval" if not run.flow_pooled or run.flow_pooled[k] else "enforcement",
        )
        for k, type_id in enumerate(ids)
    )
