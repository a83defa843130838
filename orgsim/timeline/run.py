"""``orgsim.timeline``: one run per replication spans the programme; each is reduced to periods in its worker.

Period k is ``[start_k, start_k+1)`` in calendar terms (months, quarters or
years from the calendar start). Per period and replication: posts, people in
post, vacancies at its start; hires and exits (by cause) during it;
newcomers still learning and officers at their desks per queue at its start;
applications arriving, completed, the backlog at its end; the mean and p90
lead time (working days) of the applications that arrived in it; the
payroll. Replications are then pooled: means, and a 95 % Student-t interval
of the mean lead time.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from orgsim.executors import Executor, open_executor
from orgsim.intervals import confidence_interval
from orgsim.scenario.schema import Scenario
from orgsim.sim.streams import RandomStreams, replication_seeds
from orgsim.timeline.pay import pay_ratio
from orgsim.timeline.programme import Programme, TimelineTemplate, prepare_programme, timeline_run, timeline_template
from orgsim.timeline.workforce import (
    EXIT_CAUSES,
    Post,
    Staffing,
    posts_in_scope,
    posts_of,
    scope_side,
    simulate_workforce,
    staffing,
    tenures_of,
    units_in_scope,
)

__all__ = ["timeline", "TimelineResult", "PERIODS", "PERIOD_MONTHS"]

Period = Literal["month", "quarter", "year"]
PERIODS: tuple[str, ...] = ("month", "quarter", "year")
#: Months in each kind of period.
PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def _period_dates(start: dt.date, months: int, calendar: Any, horizon: float) -> tuple[list[dt.date], np.ndarray]:
    dates, times = [], []
    y, m = start.year, start.month
    d = start
    while True:
        t = 0.0 if d == start else float(calendar.calendar_to_working(np.array([d], dtype="datetime64[D]"))[0])
        if t >= horizon:
            break
        dates.append(d)
        times.append(t)
        m += months
        y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
        d = dt.date(y, m, 1)
    return dates, np.array(times + [horizon])


@dataclass(frozen=True, eq=False)
class _Job:
    """One timeline's replications, prepared in the parent (picklable)."""

    scenario: Scenario
    programme: Programme
    calendar: Any
    bounds: np.ndarray
    seed: int
    replications: int
    #: Computed once here, the same in every replication: each phase's posts, the run's input but its
    #: streams and tenures, and which finished applications count (project types, not case types).
    posts: tuple[dict[Post, str], ...]
    shared: TimelineTemplate
    pooled: np.ndarray
    #: Each phase's posts in the workforce's scope (the ones counted).
    scoped: tuple[dict[Post, str], ...]
    #: The posts' lives and the posts that serve queues.
    staffing: Staffing


def _one(job_rep: tuple[_Job, int]) -> dict[str, Any]:
    """Replication r of the job, reduced to its periods (runs in a worker)."""
    from orgsim.sim.engine import _engine
    from orgsim.timeline.pay import payroll

    job, r = job_rep
    sc, prog, bounds = job.scenario, job.programme, job.bounds
    streams = RandomStreams(replication_seeds(job.seed, job.replications)[r])
    hours = sc.simulation.calendar.hours_per_day
    every_stint = simulate_workforce(prog, sc.workforce, streams, job.calendar, hours, posts=job.posts,
                                     scoped=job.scoped, plan=job.staffing)
    stints = [s for s in every_stint if s.in_scope]  # the counted ones; the others only serve their queues
    learn_days = job.shared.template.base.learn_days
    tenures = tenures_of(prog, every_stint, job.staffing)
    out = _engine(sc.simulation.engine)(timeline_run(job.shared, tenures, streams))
    lo, hi = bounds[:-1], bounds[1:]
    pooled = job.pooled[out.flow_index]
    start, end = out.t_start[pooled], out.t_end[pooled]
    lead = end - start
    k = np.searchsorted(bounds, start, side="right") - 1
    # Each period's lead times as one slice, in the order they finished (so each mean is summed as before).
    order = np.argsort(k, kind="stable")
    by_period = lead[order]
    cut = np.searchsorted(k[order], np.arange(len(lo) + 1), side="left")
    mean = np.full(len(lo), math.nan)
    p90 = np.full(len(lo), math.nan)
    for i in range(len(lo)):
        if cut[i + 1] > cut[i]:
            mean[i] = by_period[cut[i]:cut[i + 1]].mean()
            p90[i] = np.percentile(by_period[cut[i]:cut[i + 1]], 90)
    arrived = np.bincount(k[(k >= 0) & (k < len(lo))], minlength=len(lo))
    done_k = np.searchsorted(bounds, end, side="right") - 1
    completed = np.bincount(done_k[(done_k >= 0) & (done_k < len(lo))], minlength=len(lo))
    backlog = np.cumsum(arrived) - np.cumsum(completed)
    # People in post as a period opens, before its first day's changes: hires and exits at its
    # start are the period's own, so headcount(next) = headcount + hires - exits. Posts likewise:
    # a phase taking effect on a period's first working day counts from the next period.
    phase_at = np.maximum(np.searchsorted(np.array(prog.starts), lo, side="left") - 1, 0)
    n_posts = np.array([len(job.scoped[p]) for p in phase_at])
    # Stints x periods at once: each count is the number of stints meeting the condition in that period.
    s_start = np.array([s.start for s in stints], dtype=float)[:, None]
    s_end = np.array([s.end for s in stints], dtype=float)[:, None]
    s_hired = np.array([s.hired for s in stints], dtype=float)[:, None]
    causes = np.array([s.cause for s in stints], dtype=object)[:, None]
    t, a, b = lo[None, :], lo[None, :], hi[None, :]
    headcount = _holding(s_start, s_end, s_hired, t).sum(axis=0)
    hires = ((s_hired == s_start) & (a <= s_start) & (s_start < b)).sum(axis=0)
    exits = {c: ((causes == c) & (a <= s_end) & (s_end < b)).sum(axis=0) for c in EXIT_CAUSES}
    learn_until = learn_days if learn_days > 0 else 0.0
    learners = ((s_start <= t) & (t < s_end) & (t - s_hired < learn_until)).sum(axis=0)
    desks: dict[str, np.ndarray] = {}
    for key, a0, b0, _ in tenures:
        desks.setdefault(key, np.zeros(len(lo)))
        desks[key] += (a0 <= lo) & (lo < b0)
    share = np.zeros(len(lo))
    payroll_yuan = np.full(len(lo), math.nan)
    if sc.pay is not None:
        dates = [job.calendar.to_date(t) if t > 0 else prog.dates[0] for t in lo]
        for x in sc.pay.shares:
            share[[d >= x.effective for d in dates]] = x.performance
        payroll_yuan = payroll(sc.pay, stints, bounds, share)
    return {"mean": mean, "p90": p90, "arrived": arrived, "completed": completed, "backlog": backlog,
            "posts": n_posts, "headcount": headcount, "hires": hires, "exits": exits, "learners": learners,
            "desks": desks, "payroll": payroll_yuan, "drained": bool(out.drained)}


def _holding(start: Any, end: Any, hired: Any, t: Any) -> Any:
    """Whether a stint holds its post as time ``t`` opens (the staff on hand at the start at 0).

    Elementwise on arrays (stints x periods in ``_one``) or on numbers (``_in_post``).
    """
    return ((start < t) & (t <= end)) | ((t == 0.0) & (start == 0.0) & (hired == -math.inf) & (end > 0.0))


def _in_post(s: Any, t: float) -> bool:
    """Whether stint ``s`` holds its post as time ``t`` opens."""
    return bool(_holding(s.start, s.end, s.hired, t))


def _shared(scenario: Scenario, programme: Programme, calendar: Any) -> TimelineTemplate:
    """What every replication's run shares: the traced arrivals, the layout, the routes per phase."""
    from orgsim.experiment import _arrival_times

    learning = scenario.workforce.learning if scenario.workforce else None
    return timeline_template(programme, 0.0, _arrival_times(scenario, programme.plans[0], calendar)[0],
                             learn_start=learning.start if learning else 1.0,
                             learn_days=learning.months_to_full * 250.0 / 12 if learning else 0.0)


@dataclass(frozen=True)
class TimelineResult:
    """A programme's periods, pooled over replications (``periods``: one dict per period, JSON-ready)."""

    scenario: str
    seed: int
    replications: int
    period: str
    phases: tuple[dict[str, Any], ...]
    periods: tuple[dict[str, Any], ...]
    #: The first day after the horizon (ISO date): the last period ends there, often part-way through.
    end: str = ""
    #: Highest to lowest pay of a post a year, rank multiples included (None without a pay section).
    pay_ratio: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "seed": self.seed, "replications": self.replications,
                "period": self.period, "end": self.end, "pay_ratio": self.pay_ratio, "phases": list(self.phases),
                "periods": list(self.periods)}

    def to_frame(self) -> Any:
        """The periods as a pandas DataFrame (one row per period; nested fields flattened)."""
        import pandas as pd

        rows = []
        for p in self.periods:
            row = {k: v for k, v in p.items() if not isinstance(v, dict)}
            for k, v in p["lead_time_working_days"].items():
                row[f"lead_time_{k}"] = v
            for k, v in p["exits_by_cause"].items():
                row[f"exits_{k}"] = v
            rows.append(row)
        return pd.DataFrame(rows)


def _mean(x: np.ndarray) -> float | None:
    x = x[~np.isnan(x)]
    return float(x.mean()) if len(x) else None


def timeline(scenario: Scenario, *, seed: int | None = None, replications: int | None = None,
             period: Period = "month", executor: Executor | None = None) -> TimelineResult:
    """Simulate the scenario's programme over time; see :mod:`orgsim.timeline.run`."""
    from orgsim.experiment import _calendar

    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}")
    sim = scenario.simulation
    seed = sim.seed if seed is None else seed
    reps = replications or sim.replications
    calendar = _calendar(scenario)
    programme = prepare_programme(scenario, calendar)
    dates, bounds = _period_dates(programme.dates[0], PERIOD_MONTHS[period], calendar, programme.horizon_days)
    shared = _shared(scenario, programme, calendar)
    posts = tuple(posts_of(org) for org in programme.orgs)
    scoped = posts_in_scope(posts, units_in_scope(programme, scope_side(scenario)))
    job = _Job(scenario, programme, calendar, bounds, seed, reps, posts, shared,
               np.array([f.kind == "approval" for f in shared.union.flows]), scoped,
               staffing(programme, scenario.workforce, calendar, posts, scoped))
    with open_executor(executor) as ex:
        done = list(ex.map_unordered(_one, [(job, r) for r in range(reps)]))
    runs = [v for (_, r), v in sorted(done, key=lambda x: x[0][1])]  # in replication order, on every executor
    # Officers at desks per queue: periods x replications (each period's row contiguous, averaged
    # as a list of the replications' values would be), a queue a replication never staffed at 0.
    absent = np.zeros(len(dates))
    desks = {k: np.stack([r["desks"].get(k, absent) for r in runs], axis=1).mean(axis=1).tolist()
             for k in sorted({k for r in runs for k in r["desks"]})}
    periods = []
    for i, d in enumerate(dates):
        means = np.array([r["mean"][i] for r in runs])
        ci = confidence_interval(means[~np.isnan(means)].tolist())
        exits = {c: float(np.mean([r["exits"][c][i] for r in runs])) for c in EXIT_CAUSES}
        payroll = _mean(np.array([r["payroll"][i] for r in runs]))
        completed = float(np.mean([r["completed"][i] for r in runs]))
        headcount = float(np.mean([r["headcount"][i] for r in runs]))
        periods.append({
            "start": d.isoformat(),
            "start_working_day": float(bounds[i]),
            "in_warmup": bool(bounds[i] < sim.warmup_days),
            "phase": programme.names[int(np.searchsorted(np.array(programme.starts), bounds[i], side="right") - 1)],
            "posts": float(np.mean([r["posts"][i] for r in runs])),
            "headcount": headcount,
            "vacancies": float(np.mean([r["posts"][i] - r["headcount"][i] for r in runs])),
            "hires": float(np.mean([r["hires"][i] for r in runs])),
            "exits": float(sum(exits.values())),
            "exits_by_cause": exits,
            "learning": float(np.mean([r["learners"][i] for r in runs])),
            "officers_at_desks": {k: at[i] for k, at in desks.items()},
            "arrived": float(np.mean([r["arrived"][i] for r in runs])),
            "completed": completed,
            "backlog": float(np.mean([r["backlog"][i] for r in runs])),
            "lead_time_working_days": {
                "mean": _mean(means),
                "ci95": None if math.isnan(ci[0]) else [ci[0], ci[1]],
                "p90": _mean(np.array([r["p90"][i] for r in runs])),
            },
            "payroll_yuan": payroll,
            "payroll_per_head_yuan": None if payroll is None or not headcount else payroll / headcount,
            "cost_per_completed_yuan": None if payroll is None or not completed else payroll / completed,
        })
    english = scenario.phase_names_en()
    phases = tuple({"name": n, "name_en": english.get(n), "effective": d.isoformat(), "start_working_day": t}
                   for n, d, t in zip(programme.names, programme.dates, programme.starts, strict=True))
    end = calendar.to_date(programme.horizon_days).isoformat()
    ratio = None if scenario.pay is None else pay_ratio(scenario.pay)
    return TimelineResult(scenario.source_file, seed, reps, period, phases, tuple(periods), end,
                          None if ratio is None or math.isinf(ratio) else ratio)
