"""Replications, the before/after comparison, and their statistics.

Every public entry point takes a ``seed``. Replication r of every state uses
``SeedSequence(seed).spawn(R)[r]`` with named streams inside, so the
organisation before and after the reforms meets the same applicants with the
same draws wherever a step is unchanged (common random numbers), and the
difference has a tight, paired confidence interval.

:func:`compare` and :func:`run_state` run their replications on an executor
(serial by default, local processes or Dask: :mod:`orgsim.executors`); each
run is reduced in the worker that simulated it to a
:class:`~orgsim.sim.summary.RunSummary`, and the results read those
summaries. :func:`simulate` and :func:`run_replications` return whole runs,
arrays included, simulated in this process.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from orgsim.batches import RunCache, RunRequest, StateSetup, run_groups, state_identity
from orgsim.errors import SimulationError
from orgsim.executors import Executor, open_executor
from orgsim.intervals import confidence_interval
from orgsim.model.metrics import StructureMetrics, structure_metrics
from orgsim.model.org import Org
from orgsim.reforms import ReformOutcome, reform_packages, reform_scenario
from orgsim.scenario.schema import Scenario
from orgsim.sim.plan import Plan, compile_plan
from orgsim.sim.results import PERCENTILES, RunResult
from orgsim.sim.streams import replication_seeds
from orgsim.sim.summary import CLOCKS, LeadTimeStats, RunSummary

if TYPE_CHECKING:  # imported where used: they load the holiday tables and pandas
    import pandas as pd

    from orgsim.sim.calendar import WorkingCalendar

__all__ = [
    "State", "simulate", "run_replications", "run_state", "compare", "simulate_states", "Comparison",
    "PackageComparison", "paired_difference",
    "StateResult", "Runner", "staffing_estimate", "confidence_interval",
]

State = Literal["before", "after"]
#: Per-project-type columns of replications.csv and of to_frame(): ``type.<id>.<statistic>``.
TYPE_COLUMN_PREFIX = "type."
Progress = Callable[[int, int], None]


def _calendar(scenario: Scenario) -> WorkingCalendar:
    from orgsim.sim.calendar import WorkingCalendar

    return WorkingCalendar.from_spec(scenario.simulation.calendar)


def _arrival_times(
    scenario: Scenario, plan: Plan, calendar: WorkingCalendar
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Traced arrival times per project type, and the SHA-256 of each trace file read."""
    from orgsim.scenario._traces import TraceProblem, read_trace

    times: dict[str, np.ndarray] = {}
    hashes: dict[str, str] = {}
    for flow in plan.flows:
        if flow.trace is None:
            continue
        # The trace the loader read, checked and hashed; a scenario built in code reads it here.
        trace = scenario.trace(flow.trace, flow.trace_column)
        if trace is None:
            try:
                trace = read_trace(scenario.base_dir or Path("."), flow.trace, flow.trace_column, allow_outside=True)
            except TraceProblem as exc:
                raise SimulationError(f"{scenario.source_file}: {exc}") from None
        hashes[flow.id] = trace.sha256
        times[flow.id] = np.sort(calendar.calendar_to_working(np.array(trace.dates, dtype="datetime64[D]")))
    return times, hashes


def _state_org(scenario: Scenario, state: State | str | Org, outcome: ReformOutcome | None) -> Org:
    if isinstance(state, Org):
        return state
    names = scenario.state_names()
    if state not in names:
        raise SimulationError(f"state must be one of {', '.join(names)}, got {state!r}")
    if scenario.packages:
        package = state if state != "before" else scenario.state_names()[1]  # every package starts from before
        outcome = outcome or reform_scenario(scenario, package=package)
    else:
        outcome = outcome or reform_scenario(scenario)
    return outcome.before if state == "before" else outcome.after


def _seed(scenario: Scenario, seed: int | None) -> int:
    return scenario.simulation.seed if seed is None else seed


def simulate(
    scenario: Scenario,
    state: State | str | Org = "after",
    *,
    seed: int | None = None,
    replication: int = 0,
    replications: int | None = None,
    keep_records: bool = False,
) -> RunResult:
    """Simulate one replication of one state of the scenario's organisation, in this process.

    ``seed`` defaults to the scenario's; replication ``r`` of ``R`` uses the
    r-th spawned seed sequence, exactly as :func:`compare` does. The result
    keeps every application's times (:class:`~orgsim.sim.results.RunResult`).
    """
    org = _state_org(scenario, state, None)
    runner = Runner(scenario, keep_records)
    n = replications or max(scenario.simulation.replications, replication + 1)
    seq = replication_seeds(_seed(scenario, seed), n)[replication]
    return runner.run(org, seq)


class Runner:
    """Prepares the states of one scenario for simulation: the calendar once, each state once.

    A state's :class:`~orgsim.batches.StateSetup` (its compiled plan, traced
    arrivals, calendar and settings) is made on first use and kept.
    """

    def __init__(self, scenario: Scenario, keep_records: bool = False, calendar: Any = None) -> None:
        self.scenario = scenario
        self.keep_records = keep_records
        # A calendar made for the same ``simulation.calendar`` may be shared (it is costly to build).
        self.calendar = calendar if calendar is not None else _calendar(scenario)
        # By id(org); the org is kept too, so that its id cannot be reused by another.
        self._setups: dict[int, tuple[Org, StateSetup]] = {}

    def setup(self, org: Org) -> StateSetup:
        """The state ``org`` prepared for simulation, compiled once."""
        key = id(org)
        if key not in self._setups:
            sim = self.scenario.simulation
            plan = compile_plan(org, self.scenario)
            arrivals, trace_sha256 = _arrival_times(self.scenario, plan, self.calendar)
            settings = (sim.horizon_days, sim.warmup_days, sim.engine, sim.calendar)
            identity = state_identity(plan, settings, trace_sha256)
            self._setups[key] = (org, StateSetup(plan, arrivals, self.calendar, sim.horizon_days, sim.warmup_days,
                                                 sim.engine, identity))
        return self._setups[key][1]

    def plan(self, org: Org) -> tuple[Plan, dict[str, np.ndarray]]:
        """The compiled organisation and its traced arrival times, compiled once."""
        setup = self.setup(org)
        return setup.plan, dict(setup.arrival_times)

    def run(self, org: Org, seed_seq: np.random.SeedSequence) -> RunResult:
        """One run of ``org`` in this process, with its arrays."""
        return self.setup(org).simulate(seed_seq, self.keep_records)

    def requests(self, org: Org, seed: int, replications: int, runs: range | None = None,
                 event_log: Any = None) -> list[RunRequest]:
        """Replications ``runs`` (default: all) of ``replications`` of ``org``, as requests for an executor.

        ``event_log`` (an :class:`orgsim.eventlog.writer.LogSpec`) makes each run write its part of a log.
        """
        setup = self.setup(org)
        return [RunRequest(setup, seed, replications, r, self.keep_records, event_log)
                for r in (runs if runs is not None else range(replications))]


def run_replications(
    scenario: Scenario,
    state: State | str | Org = "after",
    *,
    replications: int | None = None,
    seed: int | None = None,
    keep_records: bool = False,
    progress: Progress | None = None,
) -> list[RunResult]:
    """``replications`` independent runs of one state, simulated in this process, arrays included.

    For the statistics alone, :func:`run_state` is lighter (each run reduced
    to its summary) and runs on any executor.
    """
    org = _state_org(scenario, state, None)
    n = replications or scenario.simulation.replications
    runner = Runner(scenario, keep_records)
    out = []
    for r, seq in enumerate(replication_seeds(_seed(scenario, seed), n)):
        out.append(runner.run(org, seq))
        if progress:
            progress(r + 1, n)
    return out


@dataclass(frozen=True)
class StateResult:
    """One state's structure and its replications (each a :class:`~orgsim.sim.summary.RunSummary`)."""

    name: str
    org: Org
    structure: StructureMetrics
    runs: tuple[RunSummary, ...]
    #: The compiled organisation the runs simulated.
    plan: Plan | None = None
    scenario: Scenario | None = None
    seed: int | None = None
    #: Unit -> officers it has and needs at the scenario's utilisation target, estimated
    #: (Erlang C) from ``plan`` when the runs were made; see :meth:`staffing`.
    staffing_by_unit: Mapping[str, Mapping[str, int]] | None = None

    @property
    def stable(self) -> bool:
        return all(r.stable for r in self.runs)

    def instability(self) -> list[str]:
        return sorted({why for r in self.runs for why in r.instability})

    def metric(self, key: str) -> np.ndarray:
        """One flat statistic (a column of the replication table) per replication."""
        return np.array([r.stats[key] for r in self.runs], dtype=float)

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

    @cached_property
    def _bottlenecks(self) -> tuple[dict[str, Any], ...]:
        rows: dict[str, dict[str, Any]] = {}
        for run in self.runs:
            for p in run.pools:
                row = rows.setdefault(p.key, {"pool": p.key, "unit": p.unit, "role": p.role,
                                              "servers": p.servers, "utilisation": 0.0, "mean_queue": 0.0})
                row["utilisation"] += p.utilisation / len(self.runs)
                row["mean_queue"] += p.mean_queue / len(self.runs)
        return tuple(sorted(rows.values(), key=lambda r: (-r["utilisation"], r["pool"])))

    def bottlenecks(self) -> list[dict[str, Any]]:
        """Queues ranked by mean utilisation, highest first."""
        return [dict(row) for row in self._bottlenecks]

    def staffing(self, scenario: Scenario | None = None) -> dict[str, dict[str, int]]:
        """Officers each unit has, and needs to keep utilisation at or below the target.

        Read from :attr:`staffing_by_unit`, estimated once when the runs were
        made; a ``scenario`` other than the state's own (another utilisation
        target) is estimated from the plan again.
        """
        if self.staffing_by_unit is not None and (scenario is None or scenario is self.scenario):
            return {u: dict(row) for u, row in self.staffing_by_unit.items()}
        scenario = scenario or self.scenario
        if scenario is None:
            raise ValueError("staffing needs the scenario (its utilisation target): staffing(scenario)")
        return staffing_estimate(self._plan(scenario), scenario.simulation.utilisation_target)

    def _plan(self, scenario: Scenario) -> Plan:
        return self.plan if self.plan is not None else compile_plan(self.org, scenario)

    # ------------------------------------------------------------ lead times

    def lead_time_runs(self, clock: str = "working", project_type: str | None = None) -> list[LeadTimeStats]:
        """Each replication's lead-time statistics on ``clock`` (all applications, or one project type)."""
        if clock not in CLOCKS:
            raise ValueError(f"clock must be one of {', '.join(CLOCKS)}, got {clock!r}")
        if project_type is None:
            return [r.lead[clock] for r in self.runs]
        return [r.project_type(project_type).lead[clock] for r in self.runs]

    def lead_time(
        self, calendar: bool = False, *, clock: str | None = None, project_type: str | None = None
    ) -> dict[str, Any]:
        """Mean with its 95% CI, and mean percentiles across replications (None if unstable).

        ``clock`` is ``working`` (the default), ``calendar`` (also ``calendar=True``)
        or ``statutory``; ``project_type`` restricts it to one project type.
        """
        if not self.stable:
            return {"mean": None, "ci95": None, **{f"p{p}": None for p in PERCENTILES}, "max": None}
        # Runs in which no application arrived in the window measured nothing (their
        # statistics are NaN): they are left out; with none left, every figure is None.
        runs = [s for s in self.lead_time_runs(clock or ("calendar" if calendar else "working"), project_type)
                if s.count]
        means = np.array([s.mean for s in runs], dtype=float)
        out: dict[str, Any] = {"mean": _mean_or_none(means), "ci95": _interval(means)}
        for p in PERCENTILES:
            out[f"p{p}"] = _mean_or_none(np.array([getattr(s, f"p{p}") for s in runs], dtype=float))
        out["max"] = float(np.max(np.array([s.max for s in runs], dtype=float))) if runs else None
        return out

    def lead_time_distribution(
        self, clock: str = "working", project_type: str | None = None
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """The lead-time distribution of all replications pooled: ``(days, share done within, applications)``.

        Drawn from each run's quantile sketches (per project type), weighted
        by their counts; ``days`` runs over every quantile kept, so the curve
        follows the distribution to within 1/200 of each part's applications.
        Pooled (``project_type`` None), it is the project types'; case types
        (enforcement cases) are drawn by name only.
        """
        if clock not in CLOCKS:
            raise ValueError(f"clock must be one of {', '.join(CLOCKS)}, got {clock!r}")
        sketches = [t.sketches[clock] for r in self.runs for t in r.project_types
                    if t.count and (t.project_type == project_type if project_type is not None
                                    else t.kind == "approval")]
        if not sketches:
            return np.empty(0), np.empty(0), 0
        days = np.unique(np.concatenate([s.quantiles for s in sketches]))
        total = sum(s.count for s in sketches)
        share = np.zeros(len(days))
        for s in sketches:
            share += s.count * s.cdf(days)
        return days, share / total, total

    def project_types(self, kind: str | None = None) -> list[str]:
        """Ids of the project types, in the scenario's order, then the case types of enforcement cases.

        ``kind``: only those of this kind, ``approval`` (the project types) or ``enforcement``.
        """
        if not self.runs:
            return []
        return [t.project_type for t in self.runs[0].project_types if kind is None or t.kind == kind]

    def by_project_type(self) -> dict[str, dict[str, Any]]:
        """The state's results per project type, by id: lead times, limit, share over it, throughput, time split.

        Case types (enforcement cases, each way of resolving them) follow the
        project types, with ``kind`` "enforcement"; they are not in the pooled figures.

        Lead times as :meth:`lead_time` gives them (None when the state is
        unstable); other figures are means over replications. The same fields
        as the state's own in ``compare --json``, plus the type's names, its
        statutory limit and its applications per replication.
        """
        out: dict[str, dict[str, Any]] = {}
        names = self._project_type_names()
        for type_id in self.project_types():
            parts = [r.project_type(type_id) for r in self.runs]
            splits = [p.time_split for p in parts]
            name, name_en = names.get(type_id, (None, None))
            out[type_id] = {
                "name": name,
                "name_en": name_en,
                "kind": parts[0].kind,
                "applications_per_replication": float(np.mean([p.count for p in parts])),
                "statutory_limit_days": parts[0].statutory_limit_days,
                "lead_time_working_days": self.lead_time(project_type=type_id),
                "lead_time_calendar_days": self.lead_time(clock="calendar", project_type=type_id),
                "lead_time_statutory_days": self.lead_time(clock="statutory", project_type=type_id),
                "share_over_statutory_limit": (_mean_or_none(np.array([p.share_over_limit for p in parts]))
                                               if self.stable else None),
                "throughput_per_working_day": float(np.mean([p.throughput_per_working_day for p in parts])),
                "time_split_working_days": (
                    {k: _mean_or_none(np.array([s[k] for s in splits], dtype=float)) for k in splits[0]}
                    if self.stable and splits else None),
            }
        return out

    def _project_type_names(self) -> dict[str, tuple[str, str | None]]:
        scenario = self.scenario
        if scenario is None or scenario.workload is None:
            return {}
        from orgsim.sim.plan import RESOLUTION_NAMES, case_type_id, case_type_names

        out = {t.id: (t.name, t.name_en) for t in scenario.workload.project_types}
        for c in scenario.workload.enforcement_cases:  # each way of resolving them is a case type
            for way in RESOLUTION_NAMES:
                out[case_type_id(c.id, way)] = case_type_names(c.name, c.name_en, way)
        return out

    def project_type_metric(self, project_type: str, key: str) -> np.ndarray:
        """One flat statistic of one project type (its ``replications.csv`` column) per replication."""
        return np.array([r.project_type(project_type).stats[key] for r in self.runs], dtype=float)

    # ------------------------------------------------------------ documents

    def summary_dict(self) -> dict[str, Any]:
        """This state's part of the ``compare --json`` document (docs/compare-json.md)."""
        m = self.structure
        stable = self.stable
        ranked = self._bottlenecks
        return {
            "headcount": m.headcount,
            "units": m.units,
            "internal_bodies": m.internal_bodies,
            "layers": m.layers,
            "leaders": m.leadership_posts,
            "stable": stable,
            "instability": self.instability(),
            "throughput_per_working_day": float(np.mean(self.metric("throughput_per_working_day"))),
            "utilisation": self.utilisation(),
            "lead_time_working_days": self.lead_time(),
            "lead_time_calendar_days": self.lead_time(calendar=True),
            "share_over_statutory_limit": _mean_or_none(self.metric("share_over_limit")) if stable else None,
            "time_split_working_days": {
                k: _mean_or_none(np.array([r.time_split[k] for r in self.runs], dtype=float))
                for k in self.runs[0].time_split
            } if stable and self.runs else None,
            "backlog_end": float(np.mean(self.metric("backlog_end"))),
            "backlog_growth_per_100_days": float(np.mean(self.metric("backlog_growth_per_100_days"))),
            "bottleneck": ranked[0]["pool"] if ranked else None,
            "staffing": self.staffing(),
            "structure": m.to_dict(),
            "by_project_type": self.by_project_type(),
        }

    def to_dict(self) -> dict[str, Any]:
        """The ``orgsim run --json`` document: this state, its scenario, seed and version, and its busiest queues."""
        from orgsim import __version__

        scenario = self.scenario
        if scenario is None:
            raise ValueError("to_dict needs the state's scenario (StateResult.scenario)")
        return {
            "scenario": scenario.scenario.name,
            "state": self.name,
            "seed": self.seed,
            "replications": len(self.runs),
            "orgsim_version": __version__,
            "scenario_sha256": scenario.sha256,
            **self.summary_dict(),
            "bottlenecks": self.bottlenecks()[:5],
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per replication, with the seed, scenario hash and version (``replications.csv``)."""
        import pandas as pd

        return pd.DataFrame(self._rows())

    def _rows(self, seed: int | None = None, scenario: Scenario | None = None) -> list[dict[str, Any]]:
        from orgsim import __version__

        seed = self.seed if seed is None else seed
        scenario = scenario or self.scenario
        sha = scenario.sha256 if scenario is not None else None
        return [{"state": self.name, "replication": r, "seed": seed, "scenario_sha256": sha,
                 "orgsim_version": __version__, "headcount": self.structure.headcount, **run.stats,
                 **{f"{TYPE_COLUMN_PREFIX}{t.project_type}.{k}": v for t in run.project_types
                    for k, v in t.stats.items()}}
                for r, run in enumerate(self.runs)]


def staffing_estimate(plan: Plan, utilisation_target: float) -> dict[str, dict[str, int]]:
    """Per unit in ``plan``: case officers, and the fewest that keep each queue at or below the target
    (Erlang C); support staff, and those who would do all its support work (``plan.support``)."""
    from orgsim.sim.estimate import estimate_plan

    est = estimate_plan(plan, utilisation_target)
    out: dict[str, dict[str, int]] = {}
    for p in est.pools:
        if p.role == "officers":
            row = out.setdefault(p.unit, {"officers": 0, "needed": 0})
            row["officers"] += p.servers
            row["needed"] += p.servers_needed
    for unit, s in plan.support.items():
        row = out.setdefault(unit, {"officers": 0, "needed": 0})
        row["support"] = s.staff
        row["support_needed"] = s.needed
    return dict(sorted(out.items()))


def paired_difference(before: StateResult, after: StateResult, key: str) -> dict[str, Any]:
    """``after`` minus ``before`` of a per-replication metric: mean and paired 95% CI (None if either is unstable)."""
    if not (before.stable and after.stable):
        return {"mean": None, "ci95": None}
    d = after.metric(key) - before.metric(key)
    return {"mean": _mean_or_none(d), "ci95": _interval(d)}


def _difference_dict(before: StateResult, after: StateResult) -> dict[str, Any]:
    """The ``difference`` object of ``compare --json``: ``after`` against ``before``, paired by replication."""
    return {
        "headcount": after.structure.headcount - before.structure.headcount,
        "lead_time_working_days": {
            "mean": paired_difference(before, after, "lead_working_mean"),
            **{f"p{p}": paired_difference(before, after, f"lead_working_p{p}") for p in PERCENTILES},
        },
        "lead_time_calendar_days": {
            "mean": paired_difference(before, after, "lead_calendar_mean"),
            **{f"p{p}": paired_difference(before, after, f"lead_calendar_p{p}") for p in PERCENTILES},
        },
        "by_project_type": difference_by_project_type(before, after),
    }


def difference_by_project_type(before: StateResult, after: StateResult) -> dict[str, dict[str, Any]]:
    """Per project type (in both states), ``after`` minus ``before``: lead times and share over the limit, paired."""
    out: dict[str, dict[str, Any]] = {}
    both = [t for t in after.project_types() if t in set(before.project_types())]
    stable = before.stable and after.stable
    for type_id in both:
        def diff(key: str, type_id: str = type_id) -> dict[str, Any]:
            if not stable:
                return {"mean": None, "ci95": None}
            d = after.project_type_metric(type_id, key) - before.project_type_metric(type_id, key)
            d = d[~np.isnan(d)]  # replications in which the type had no application in a state
            return {"mean": _mean_or_none(d), "ci95": _interval(d)}

        out[type_id] = {
            "lead_time_working_days": {"mean": diff("lead_working_mean"),
                                       **{f"p{p}": diff(f"lead_working_p{p}") for p in PERCENTILES}},
            "lead_time_calendar_days": {"mean": diff("lead_calendar_mean"),
                                        **{f"p{p}": diff(f"lead_calendar_p{p}") for p in PERCENTILES}},
            "share_over_statutory_limit": diff("share_over_limit"),
        }
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

    @property
    def states(self) -> dict[str, StateResult]:
        """The states by name: ``before`` and ``after``."""
        return {"before": self.before, "after": self.after}

    def difference(self, key: str) -> dict[str, Any]:
        """After minus before of a per-replication metric: mean and paired 95% CI."""
        return paired_difference(self.before, self.after, key)

    def difference_by_project_type(self) -> dict[str, dict[str, Any]]:
        """Per project type (in both states), after minus before: lead times and share over the limit, paired."""
        return difference_by_project_type(self.before, self.after)

    def to_frame(self) -> pd.DataFrame:
        """One row per state and replication, with the seed, scenario hash and version.

        Pooled statistics as in :attr:`~orgsim.sim.summary.RunSummary.stats`,
        then each project type's as ``type.<id>.<statistic>`` columns.
        """
        import pandas as pd

        return pd.DataFrame(self.before._rows(self.seed, self.scenario) + self.after._rows(self.seed, self.scenario))

    def to_dict(self) -> dict[str, Any]:
        """The documented ``compare --json`` contract (docs/compare-json.md)."""
        before, after = self.before.summary_dict(), self.after.summary_dict()
        return {
            **_document_head(self.scenario, self.seed, self.replications),
            "before": before,
            "after": after,
            "states": {"before": before, "after": after},
            "difference": _difference_dict(self.before, self.after),
        }


@dataclass(frozen=True)
class PackageComparison:
    """The organisation before its reforms and after each of several packages, on common random numbers.

    Every state meets the same applicants with the same draws wherever a step
    is unchanged, so each package's difference from ``before`` is paired, and
    ``package(name)`` is exactly the comparison a scenario with that package
    alone as its ``reforms`` gives.
    """

    scenario: Scenario
    #: ``before``, then each package in the scenario's order.
    states: dict[str, StateResult]
    seed: int
    replications: int
    outcomes: dict[str, ReformOutcome]

    @property
    def before(self) -> StateResult:
        return self.states["before"]

    @property
    def packages(self) -> list[str]:
        return [name for name in self.states if name != "before"]

    def package(self, name: str) -> Comparison:
        """Before against one package, as a :class:`Comparison` (for tables, figures and the report)."""
        if name not in self.outcomes:
            raise KeyError(f"no package {name!r}; packages: {', '.join(self.packages)}")
        return Comparison(self.scenario, self.before, self.states[name], self.seed, self.replications,
                          self.outcomes[name])

    def difference(self, name: str, key: str) -> dict[str, Any]:
        """Package ``name`` minus before of a per-replication metric: mean and paired 95% CI."""
        return paired_difference(self.before, self.states[name], key)

    def to_frame(self) -> pd.DataFrame:
        """One row per state and replication (``state`` is ``before`` or a package's name)."""
        import pandas as pd

        return pd.DataFrame([row for state in self.states.values() for row in state._rows(self.seed, self.scenario)])

    def to_dict(self) -> dict[str, Any]:
        """The ``compare --json`` document of a scenario with packages (docs/compare-json.md)."""
        states = {name: state.summary_dict() for name, state in self.states.items()}
        return {
            **_document_head(self.scenario, self.seed, self.replications),
            "packages": self.packages,
            "before": states["before"],
            "states": states,
            "difference": {name: _difference_dict(self.before, self.states[name]) for name in self.packages},
        }


def _document_head(scenario: Scenario, seed: int, replications: int) -> dict[str, Any]:
    """What every ``compare --json`` document starts with: the scenario, seed, replications, version and hash."""
    from orgsim import __version__

    return {"scenario": scenario.scenario.name, "seed": seed, "replications": replications,
            "orgsim_version": __version__, "scenario_sha256": scenario.sha256}


def _mean_or_none(values: np.ndarray) -> float | None:
    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else None


def _interval(values: np.ndarray) -> list[float] | None:
    """The 95% confidence interval of the mean, or None with fewer than two values (docs/compare-json.md)."""
    low, high = confidence_interval(values)
    return None if math.isnan(low) else [low, high]


def simulate_states(
    scenario: Scenario,
    orgs: dict[str, Org],
    *,
    replications: int,
    seed: int,
    keep_records: bool = False,
    progress: Progress | None = None,
    executor: str | Executor | None = None,
    workers: int | None = None,
    address: str | None = None,
    cache: RunCache | None = None,
    event_log: str | Path | None = None,
) -> dict[str, StateResult]:
    """Replications of each named state, paired on common random numbers, on an executor.

    ``event_log``: also write the runs' event log to this file (.csv, .parquet or .xes;
    :mod:`orgsim.eventlog.writer`), whole or not at all: each run writes its part where it is
    simulated, into a folder beside the file, and the parts are joined here, states in order,
    replications in order, so the log is the same on every executor.
    """
    if event_log is None:
        return _simulate_states(scenario, orgs, replications, seed, keep_records, progress, executor, workers,
                                address, cache, None)
    from orgsim.eventlog.writer import LogSpec, assemble, log_format, parts_folder

    fmt = log_format(event_log)
    if address is not None:
        raise SimulationError("an event log is written by the workers into a folder beside it: run it here or on "
                              "local processes (--executor serial or processes), not on a remote Dask scheduler")
    with parts_folder(event_log) as folder:
        specs = {name: (folder, fmt) for name in orgs}
        states = _simulate_states(scenario, orgs, replications, seed, keep_records, progress, executor, workers,
                                  address, cache, specs)
        parts = [LogSpec(str(folder), fmt, name, (), 0.0).part_path(r) for name in orgs for r in range(replications)]
        assemble(event_log, parts, fmt, title=scenario.scenario.name)
    return states


def _simulate_states(scenario: Scenario, orgs: dict[str, Org], replications: int, seed: int, keep_records: bool,
                     progress: Progress | None, executor: str | Executor | None, workers: int | None,
                     address: str | None, cache: RunCache | None,
                     event_log: dict[str, tuple[Path, str]] | None) -> dict[str, StateResult]:
    # The executor first: worker processes start while the states are prepared.
    with open_executor(executor, address=address, workers=workers, error=SimulationError) as ex:
        runner = Runner(scenario, keep_records)
        names = list(orgs)
        specs: dict[str, Any] = {name: None for name in names}
        if event_log is not None:
            from orgsim.eventlog.writer import LogSpec

            specs = {name: LogSpec.of(runner.setup(orgs[name]).plan, folder, fmt, name,
                                      scenario.simulation.warmup_days)
                     for name, (folder, fmt) in event_log.items()}
        # Replication by replication, each state in turn: the order of today's serial runs.
        requests = [q for r in range(replications) for name in names
                    for q in runner.requests(orgs[name], seed, replications, range(r, r + 1), specs[name])]
        total = len(requests)
        done = 0

        def on_runs(k: int) -> None:
            nonlocal done
            done += k
            if progress:
                progress(done, total)

        ((_, summaries),) = run_groups([(None, requests)], ex, cache=cache, on_runs=on_runs)
    k = len(names)
    target = scenario.simulation.utilisation_target
    return {
        name: StateResult(name, org, structure_metrics(org), tuple(summaries[i::k]),
                          plan=runner.setup(org).plan, scenario=scenario, seed=seed,
                          staffing_by_unit=staffing_estimate(runner.setup(org).plan, target))
        for i, (name, org) in enumerate(orgs.items())
    }


def run_state(
    scenario: Scenario,
    state: State | str | Org = "after",
    *,
    replications: int | None = None,
    seed: int | None = None,
    keep_records: bool = False,
    progress: Progress | None = None,
    executor: str | Executor | None = None,
    workers: int | None = None,
    address: str | None = None,
    name: str | None = None,
    event_log: str | Path | None = None,
) -> StateResult:
    """Simulate one state of the scenario's organisation: ``replications`` runs, each reduced to its summary.

    ``executor`` (``"serial"``, the default, ``"processes"``, ``"dask"``, or an
    open :class:`~orgsim.executors.Executor`), ``workers`` and ``address`` as
    for :func:`compare`. ``name`` labels the result (default: the state's
    name, or ``"custom"`` for an organisation given directly).
    """
    org = _state_org(scenario, state, None)
    label = name or (state if isinstance(state, str) else "custom")
    states = simulate_states(
        scenario, {label: org}, replications=replications or scenario.simulation.replications,
        seed=_seed(scenario, seed), keep_records=keep_records, progress=progress, executor=executor,
        workers=workers, address=address, event_log=event_log,
    )
    return states[label]


def compare(
    scenario: Scenario,
    *,
    replications: int | None = None,
    seed: int | None = None,
    keep_records: bool = False,
    progress: Progress | None = None,
    executor: str | Executor | None = None,
    workers: int | None = None,
    address: str | None = None,
    event_log: str | Path | None = None,
) -> Comparison | PackageComparison:
    """Simulate the organisation before and after its reforms, paired replication by replication.

    A scenario with ``packages`` gives a :class:`PackageComparison`: before
    and after each package, all on the same random numbers.

    Parameters
    ----------
    replications, seed
        By default the scenario's ``simulation.replications`` and ``simulation.seed``.
    keep_records
        Keep every application's record (``StateResult.runs[r].records``).
    progress
        Called as ``progress(done, total)`` as runs finish.
    executor, workers, address
        Where the runs go: ``"serial"`` (in this process, the default),
        ``"processes"`` (``workers`` local processes; the default when
        ``workers`` > 1) or ``"dask"`` (a LocalCluster, or a running
        scheduler at ``address``), or an open :class:`~orgsim.executors.Executor`.
        The numbers are the same on every executor.
    event_log
        Also write the runs' event log to this file: .csv, .parquet or .xes
        (:mod:`orgsim.eventlog.writer`, docs/data.md).
    """
    n = replications or scenario.simulation.replications
    seed = _seed(scenario, seed)
    outcomes = reform_packages(scenario)
    orgs = {"before": next(iter(outcomes.values())).before} | {name: o.after for name, o in outcomes.items()}
    states = simulate_states(
        scenario, orgs, replications=n, seed=seed,
        keep_records=keep_records, progress=progress, executor=executor, workers=workers, address=address,
        event_log=event_log,
    )
    if scenario.packages:
        return PackageComparison(scenario, states, seed, n, outcomes)
    return Comparison(scenario, states["before"], states["after"], seed, n, outcomes["after"])
