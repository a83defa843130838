"""Replications, the before/after comparison, and their statistics.

Every public entry point takes a ``seed``. Replication r of every state uses
``SeedSequence(seed).spawn(R)[r]`` with named streams inside, so the
organisation before and after the reforms meets the same applicants with the
same draws wherever a step is unchanged (common random numbers), and the
difference has a tight, paired confidence interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from orgsim.errors import SimulationError
from orgsim.model.metrics import StructureMetrics, structure_metrics
from orgsim.model.org import Org
from orgsim.reforms import ReformOutcome, reform_scenario
from orgsim.scenario.schema import Scenario
from orgsim.sim.engine import read_trace, simulate_plan
from orgsim.sim.plan import Plan, compile_plan
from orgsim.sim.results import PERCENTILES, RunResult
from orgsim.sim.streams import RandomStreams, replication_seeds

__all__ = [
    "State", "simulate", "run_replications", "compare", "Comparison", "StateResult",
    "confidence_interval",
]

State = Literal["before", "after"]
Progress = Callable[[int, int], None]


def confidence_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """Student-t confidence interval of the mean of ``values`` (NaN when fewer than 2)."""
    x = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
    if len(x) < 2:
        return (math.nan, math.nan)
    # scipy.special's Student-t quantile: the same number as scipy.stats.t.ppf
    # without loading scipy.stats (tens of MB); imported here, not at the top,
    # so that a process that only simulates does not load scipy (16 MB) at all.
    from scipy.special import stdtrit

    half = stdtrit(len(x) - 1, 0.5 + level / 2) * x.std(ddof=1) / math.sqrt(len(x))
    return (float(x.mean() - half), float(x.mean() + half))


def _calendar(scenario: Scenario):  # noqa: ANN202 - imported lazily: it loads the holiday tables
    from orgsim.sim.calendar import WorkingCalendar

    return WorkingCalendar.from_spec(scenario.simulation.calendar)


def _arrival_times(scenario: Scenario, plan: Plan, calendar) -> dict[str, np.ndarray]:  # noqa: ANN001
    out = {}
    for flow in plan.flows:
        if flow.trace is None:
            continue
        base = scenario.base_dir or Path(".")
        dates = read_trace(base / flow.trace, flow.trace_column)
        try:
            out[flow.id] = np.sort(calendar.calendar_to_working(np.array(dates, dtype="datetime64[D]")))
        except ValueError as exc:
            raise SimulationError(f"{base / flow.trace}: column {flow.trace_column!r}: not a date: {exc}") from None
    return out


def _state_org(scenario: Scenario, state: State | Org, outcome: ReformOutcome | None) -> Org:
    if isinstance(state, Org):
        return state
    if state not in ("before", "after"):
        raise SimulationError(f"state must be 'before' or 'after', got {state!r}")
    outcome = outcome or reform_scenario(scenario)
    return outcome.before if state == "before" else outcome.after


def simulate(
    scenario: Scenario,
    state: State | Org = "after",
    *,
    seed: int | None = None,
    replication: int = 0,
    replications: int | None = None,
    keep_records: bool = False,
) -> RunResult:
    """Simulate one replication of one state of the scenario's organisation.

    ``seed`` defaults to the scenario's; replication ``r`` of ``R`` uses the
    r-th spawned seed sequence, exactly as :func:`compare` does.
    """
    org = _state_org(scenario, state, None)
    runner = Runner(scenario, keep_records)
    n = replications or max(scenario.simulation.replications, replication + 1)
    seq = replication_seeds(scenario.simulation.seed if seed is None else seed, n)[replication]
    return runner.run(org, seq)


class Runner:
    """Simulates states of one scenario; built once, used for every replication."""

    def __init__(self, scenario: Scenario, keep_records: bool = False) -> None:
        self.scenario = scenario
        self.keep_records = keep_records
        self.calendar = _calendar(scenario)
        # By id(org); the org is kept too, so that its id cannot be reused by another.
        self._plans: dict[int, tuple[Org, Plan, dict[str, np.ndarray]]] = {}

    def plan(self, org: Org) -> tuple[Plan, dict[str, np.ndarray]]:
        """The compiled organisation and its traced arrival times, compiled once."""
        key = id(org)
        if key not in self._plans:
            plan = compile_plan(org, self.scenario)
            self._plans[key] = (org, plan, _arrival_times(self.scenario, plan, self.calendar))
        _, plan, arrivals = self._plans[key]
        return plan, arrivals

    def run(self, org: Org, seed_seq: np.random.SeedSequence) -> RunResult:
        plan, arrivals = self.plan(org)
        sim = self.scenario.simulation
        return simulate_plan(
            plan, RandomStreams(seed_seq), sim.horizon_days, sim.warmup_days,
            keep_records=self.keep_records, arrival_times=arrivals, calendar=self.calendar,
            engine=sim.engine,
        )


def run_replications(
    scenario: Scenario,
    state: State | Org = "after",
    *,
    replications: int | None = None,
    seed: int | None = None,
    keep_records: bool = False,
    progress: Progress | None = None,
) -> list[RunResult]:
    """``replications`` independent runs of one state."""
    org = _state_org(scenario, state, None)
    n = replications or scenario.simulation.replications
    runner = Runner(scenario, keep_records)
    out = []
    for r, seq in enumerate(replication_seeds(scenario.simulation.seed if seed is None else seed, n)):
        out.append(runner.run(org, seq))
        if progress:
            progress(r + 1, n)
    return out


@dataclass(frozen=True)
class StateResult:
    """One state's structure and its replications."""

    name: str
    org: Org
    structure: StructureMetrics
    runs: tuple[RunResult, ...]

    @property
    def stable(self) -> bool:
        return all(r.stable for r in self.runs)

    def instability(self) -> list[str]:
        return sorted({why for r in self.runs for why in r.instability()})

    def metric(self, key: str) -> np.ndarray:
        return np.array([r.summary()[key] for r in self.runs], dtype=float)

    def utilisation(self, role: str = "officers") -> dict[str, float]:
        """Mean utilisation per unit (officer pools pooled by unit), across replications."""
        busy: dict[str, float] = {}
        servers: dict[str, float] = {}
        for run in self.runs:
            for p in run.pools:
                if p.role == role or (role == "leaders" and p.role in ("chief", "deputies")):
                    busy[p.unit] = busy.get(p.unit, 0.0) + p.utilisation * p.servers
                    servers[p.unit] = servers.get(p.unit, 0.0) + p.servers
        return {u: busy[u] / servers[u] for u in sorted(busy) if servers[u]}

    def bottlenecks(self) -> list[dict[str, Any]]:
        """Queues ranked by mean utilisation, highest first."""
        rows: dict[str, dict[str, Any]] = {}
        for run in self.runs:
            for p in run.pools:
                row = rows.setdefault(p.key, {"pool": p.key, "unit": p.unit, "role": p.role,
                                              "servers": p.servers, "utilisation": 0.0, "mean_queue": 0.0})
                row["utilisation"] += p.utilisation / len(self.runs)
                row["mean_queue"] += p.mean_queue / len(self.runs)
        return sorted(rows.values(), key=lambda r: (-r["utilisation"], r["pool"]))

    def staffing(self, scenario: Scenario) -> dict[str, dict[str, int]]:
        """Officers each unit has, and needs to keep utilisation at or below the target."""
        from orgsim.sim.estimate import estimate_plan

        est = estimate_plan(compile_plan(self.org, scenario), scenario.simulation.utilisation_target)
        out: dict[str, dict[str, int]] = {}
        for p in est.pools:
            if p.role == "officers":
                row = out.setdefault(p.unit, {"officers": 0, "needed": 0})
                row["officers"] += p.servers
                row["needed"] += p.servers_needed
        return dict(sorted(out.items()))

    def lead_time(self, calendar: bool = False) -> dict[str, Any]:
        """Mean with its 95% CI, and mean percentiles across replications (None if unstable)."""
        if not self.stable:
            return {"mean": None, "ci95": None, **{f"p{p}": None for p in PERCENTILES}, "max": None}
        label = "calendar" if calendar else "working"
        means = self.metric(f"lead_{label}_mean")
        out: dict[str, Any] = {"mean": float(np.mean(means)), "ci95": list(confidence_interval(means))}
        for p in PERCENTILES:
            out[f"p{p}"] = float(np.mean(self.metric(f"lead_{label}_p{p}")))
        out["max"] = float(np.max(self.metric(f"lead_{label}_max")))
        return out


@dataclass(frozen=True)
class Comparison:
    """The organisation before and after its reforms, simulated on common random numbers."""

    scenario: Scenario
    before: StateResult
    after: StateResult
    seed: int
    replications: int
    outcome: ReformOutcome

    def difference(self, key: str) -> dict[str, Any]:
        """After minus before of a per-replication metric: mean and paired 95% CI."""
        if not (self.before.stable and self.after.stable):
            return {"mean": None, "ci95": None}
        d = self.after.metric(key) - self.before.metric(key)
        return {"mean": float(np.mean(d)), "ci95": list(confidence_interval(d))}

    def to_frame(self):  # noqa: ANN201 - pandas imported lazily
        """One row per state and replication, with the seed, scenario hash and version."""
        import pandas as pd

        from orgsim import __version__

        rows = []
        for state in (self.before, self.after):
            for r, run in enumerate(state.runs):
                rows.append({
                    "state": state.name, "replication": r, "seed": self.seed,
                    "scenario_sha256": self.scenario.sha256, "orgsim_version": __version__,
                    "headcount": state.structure.headcount, **run.summary(),
                })
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """The documented ``compare --json`` contract (docs/compare-json.md)."""
        from orgsim import __version__

        def state(s: StateResult) -> dict[str, Any]:
            m = s.structure
            return {
                "headcount": m.headcount,
                "units": m.units,
                "internal_bodies": m.internal_bodies,
                "layers": m.layers,
                "leaders": m.leadership_posts,
                "stable": s.stable,
                "instability": s.instability(),
                "throughput_per_working_day": float(np.mean(s.metric("throughput_per_working_day"))),
                "utilisation": s.utilisation(),
                "lead_time_working_days": s.lead_time(),
                "lead_time_calendar_days": s.lead_time(calendar=True),
                "share_over_statutory_limit": _mean_or_none(s.metric("share_over_limit")) if s.stable else None,
                "time_split_working_days": {
                    k.removeprefix("time_").removesuffix("_days"): _mean_or_none(s.metric(k))
                    for k in s.runs[0].summary() if k.startswith("time_")
                } if s.stable else None,
                "backlog_end": float(np.mean(s.metric("backlog_end"))),
                "backlog_growth_per_100_days": float(np.mean(s.metric("backlog_growth_per_100_days"))),
                "bottleneck": s.bottlenecks()[0]["pool"] if s.bottlenecks() else None,
                "staffing": s.staffing(self.scenario),
                "structure": m.to_dict(),
            }

        return {
            "scenario": self.scenario.scenario.name,
            "seed": self.seed,
            "replications": self.replications,
            "orgsim_version": __version__,
            "scenario_sha256": self.scenario.sha256,
            "before": state(self.before),
            "after": state(self.after),
            "difference": {
                "headcount": self.after.structure.headcount - self.before.structure.headcount,
                "lead_time_working_days": {
                    "mean": self.difference("lead_working_mean"),
                    **{f"p{p}": self.difference(f"lead_working_p{p}") for p in PERCENTILES},
                },
                "lead_time_calendar_days": {
                    "mean": self.difference("lead_calendar_mean"),
                    **{f"p{p}": self.difference(f"lead_calendar_p{p}") for p in PERCENTILES},
                },
            },
        }


def _mean_or_none(values: np.ndarray) -> float | None:
    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else None


def compare(
    scenario: Scenario,
    *,
    replications: int | None = None,
    seed: int | None = None,
    keep_records: bool = False,
    progress: Progress | None = None,
) -> Comparison:
    """Simulate the organisation before and after its reforms, paired replication by replication."""
    outcome = reform_scenario(scenario)
    n = replications or scenario.simulation.replications
    seed = scenario.simulation.seed if seed is None else seed
    runner = Runner(scenario, keep_records)
    seqs = replication_seeds(seed, n)
    runs: dict[str, list[RunResult]] = {"before": [], "after": []}
    done = 0
    for seq in seqs:
        for name, org in (("before", outcome.before), ("after", outcome.after)):
            runs[name].append(runner.run(org, seq))
            done += 1
            if progress:
                progress(done, 2 * n)
    states = {
        name: StateResult(name, org, structure_metrics(org), tuple(runs[name]))
        for name, org in (("before", outcome.before), ("after", outcome.after))
    }
    return Comparison(scenario, states["before"], states["after"], seed, n, outcome)
