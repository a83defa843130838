"""Results of one simulated run: lead times, where time goes, queues, stability."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["COMPONENTS", "PoolStats", "RunResult", "PERCENTILES"]

#: Where an application's time goes, along its critical path.
COMPONENTS = ("waiting", "processing", "signoff", "handoff", "rework")
PERCENTILES = (50, 90, 95)


@dataclass(frozen=True)
class PoolStats:
    """One queue's measurements over the measurement window (after warm-up)."""

    key: str
    unit: str
    role: str
    servers: int
    utilisation: float
    mean_queue: float


@dataclass(frozen=True)
class RunResult:
    """One replication of one organisation state.

    Lead times cover the applications that arrived in the measurement window
    (after warm-up, before the horizon); the run goes on after the horizon,
    admitting nobody new, until they are all done, so long lead times are not
    cut off. ``backlog_end`` is the number in the system at the horizon.
    """

    arrived: int
    completed: int
    completed_in_window: int
    backlog_end: int
    #: (working day, applications in the system) at 21 points across the window.
    wip_samples: tuple[tuple[float, int], ...]
    #: Time-average number of applications in the system over the window.
    mean_in_system: float
    truncated: bool
    drained: bool
    overloaded_pools: tuple[str, ...]
    t_start: np.ndarray
    t_end: np.ndarray
    lead_calendar_days: np.ndarray
    #: Applicant time (files back for completion) per application, in working days.
    applicant_days: np.ndarray
    #: Project type (index into the plan's flows) of each application.
    flow_index: np.ndarray
    #: Statutory limit of each project type in working days (NaN: none).
    flow_limits: tuple[float, ...]
    component_days: dict[str, float]
    #: The same per project type (in the plan's order): mean working days of each
    #: component over that type's applications (NaN for a type with none).
    component_days_by_flow: tuple[dict[str, float], ...]
    handoffs_per_application: float
    visits_per_application: float
    pools: tuple[PoolStats, ...]
    offered_load: dict[str, float]
    window_days: float
    records: tuple[dict, ...] = field(default=(), repr=False)
    #: Per project type (index into the plan's flows): True for an approval type, counted in the
    #: pooled figures; False for a case type (enforcement cases), measured on its own. The arrays
    #: above hold every type; ``completed`` and the per-application figures count the pooled ones.
    flow_pooled: tuple[bool, ...] = ()

    # ------------------------------------------------------------ stability
    @property
    def stable(self) -> bool:
        """False when a queue is loaded at or beyond capacity or the backlog did not clear."""
        return not (self.overloaded_pools or self.truncated or not self.drained)

    def instability(self) -> list[str]:
        """Why the run is unstable, in words (empty when stable)."""
        why = []
        for key in self.overloaded_pools:
            why.append(f"{key} is loaded at {self.offered_load[key]:.0%} of capacity")
        if self.truncated:
            why.append("work in progress passed the safety limit; arrivals were stopped")
        if not self.drained:
            why.append("applications from the window were still waiting a full window after the horizon")
        return why

    @property
    def backlog_growth_per_100_days(self) -> float:
        """Slope of applications in the system over the window, per 100 working days."""
        if len(self.wip_samples) < 2:
            return 0.0
        t, w = np.array(self.wip_samples, dtype=float).T
        if np.ptp(t) == 0:
            return 0.0
        return float(np.polyfit(t, w, 1)[0] * 100)

    # ------------------------------------------------------------ lead times
    @property
    def lead_working_days(self) -> np.ndarray:
        return self.t_end - self.t_start

    @property
    def statutory_days(self) -> np.ndarray:
        """Lead time with the statutory clock stopped while the file is back with the applicant."""
        return self.lead_working_days - self.applicant_days

    @property
    def limit_days(self) -> np.ndarray:
        """Statutory limit of each application's project type (NaN where there is none)."""
        return np.asarray(self.flow_limits, dtype=float)[self.flow_index] if len(self.flow_index) else np.empty(0)

    def share_over_limit(self) -> float:
        """Share of applications whose statutory time passed their limit (NaN without a limit)."""
        return self.summary()["share_over_limit"]

    @property
    def throughput_per_working_day(self) -> float:
        return self.completed_in_window / self.window_days

    @property
    def arrival_rate_per_working_day(self) -> float:
        return self.arrived / self.window_days

    def summary(self) -> dict[str, float]:
        """Flat statistics of this run (one row of a replication table).

        The same numbers as :attr:`orgsim.sim.summary.RunSummary.stats`, by the
        same code; a summary made once is cheaper to read than this, which
        reduces the arrays again at every call.
        """
        from orgsim.sim.summary import flat_statistics

        return flat_statistics(self)
