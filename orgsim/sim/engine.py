"""The discrete-event engine: applicants flow through approval paths on SimPy's clock.

The clock runs in working days. Work is driven by callbacks on SimPy events
rather than one generator process per step: a step is a handful of
callbacks (queue, serve, sign off, hand off), which keeps the engine lean.
The engine does no I/O and no plotting.

Random numbers follow the common-random-numbers discipline of
:mod:`orgsim.sim.streams`: the k-th applicant of a project type draws its
first-visit service time and rework chance of function f, and its sign-off
times at each level, from streams named after (project type, function), at
position k, whatever the organisation looks like.
"""

from __future__ import annotations

import csv
import math
from array import array
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import simpy

from orgsim.errors import SimulationError
from orgsim.sim.plan import FlowPlan, Plan, PoolPlan, StepPlan
from orgsim.sim.results import COMPONENTS, PoolStats, RunResult
from orgsim.sim.streams import RandomStreams

if TYPE_CHECKING:
    from orgsim.sim.calendar import WorkingCalendar

__all__ = ["simulate_plan", "MAX_WORK_IN_PROGRESS"]

#: Applications in the system at which a run stops admitting new ones: the
#: system is unstable and more would only cost memory.
MAX_WORK_IN_PROGRESS = 200_000
# Indexes into an application's per-step time accounts.
_WAIT, _PROC, _SIGN, _REWORK = range(4)


class _Pool:
    """Identical servers with a FIFO queue, integrating busy servers and queue length."""

    __slots__ = ("plan", "env", "free", "queue", "last", "busy_area", "queue_area", "t0")

    def __init__(self, plan: PoolPlan, env: simpy.Environment) -> None:
        self.plan = plan
        self.env = env
        self.free = plan.servers
        self.queue: deque[Callable[[], None]] = deque()
        self.last = 0.0
        self.busy_area = 0.0
        self.queue_area = 0.0
        self.t0 = 0.0

    def _advance(self) -> None:
        now = self.env.now
        dt = now - self.last
        if dt:
            self.busy_area += dt * (self.plan.servers - self.free)
            self.queue_area += dt * len(self.queue)
            self.last = now

    def request(self, start: Callable[[], None]) -> None:
        self._advance()
        if self.free:
            self.free -= 1
            start()
        else:
            self.queue.append(start)

    def release(self) -> None:
        self._advance()
        if self.queue:
            self.queue.popleft()()
        else:
            self.free += 1

    def reset(self) -> None:
        self._advance()
        self.busy_area = self.queue_area = 0.0
        self.t0 = self.env.now


class _App:
    """One application in the system."""

    __slots__ = ("flow", "k", "t_arrive", "pending", "left", "service", "rework_u",
                 "signoff", "account", "handoff_in", "crit_pred", "finish", "visits", "handoffs")

    def __init__(self, flow: "_Flow", k: int, t_arrive: float) -> None:
        n = len(flow.plan.steps)
        self.flow = flow
        self.k = k
        self.t_arrive = t_arrive
        self.pending = list(flow.plan.n_predecessors)
        self.left = n
        self.account = [[0.0, 0.0, 0.0, 0.0] for _ in range(n)]
        self.handoff_in = [0.0] * n
        self.crit_pred = [-1] * n
        self.finish = [0.0] * n
        self.visits = [0] * n
        self.handoffs = 0


class _Flow:
    """Run-time state of one project type: its plan and its named streams."""

    def __init__(self, plan: FlowPlan, run: "_Run") -> None:
        self.plan = plan
        self.n = 0
        streams, h = run.streams, run.plan.hours_per_day
        fid = plan.id

        def draw(dist):  # noqa: ANN001, ANN202 - small local helper
            return lambda rng, n: dist.draw(rng, n, h)

        functions = {f: dist for s in plan.steps for f, dist in zip(s.functions, s.service)}
        self.service = {f: streams.stream(draw(d), "service", fid, f) for f, d in functions.items()}
        self.rework = {f: streams.stream(lambda rng, n: rng.random(n), "rework", fid, f) for f in functions}
        self.revisit_service = {f: streams.stream(draw(d), "revisit_service", fid, f) for f, d in functions.items()}
        self.revisit_rework = {f: streams.stream(lambda rng, n: rng.random(n), "revisit_rework", fid, f) for f in functions}
        so = run.plan.signoff_time
        self.signoff = None if so is None else {
            (f, level): streams.stream(draw(so), "signoff", fid, f, str(level))
            for s in plan.steps for f in s.functions[:1] for level in range(len(s.signoff))
        }
        rs = run.plan.resubmission_delay
        self.resubmit = None if rs is None else streams.stream(draw(rs), "resubmission", fid)
        self.handoff = {}
        for i, succ in enumerate(plan.successors):
            for j, kind in succ:
                dist = run.plan.handoff[kind]
                if dist is not None:
                    name = ("handoff", fid, plan.steps[i].functions[0], plan.steps[j].functions[0], kind)
                    self.handoff[(i, j)] = streams.stream(draw(dist), *name)


class _Run:
    def __init__(self, plan: Plan, streams: RandomStreams, horizon: float, warmup: float,
                 keep_records: bool, arrival_times: dict[str, np.ndarray]) -> None:
        self.plan = plan
        self.streams = streams
        self.horizon = horizon
        self.warmup = warmup
        self.keep_records = keep_records
        self.env = simpy.Environment()
        self.pools = {k: _Pool(p, self.env) for k, p in plan.pools.items()}
        self.flows = [_Flow(f, self) for f in plan.flows]
        self.arrival_times = arrival_times
        self.wip = 0
        self.wip_area = 0.0
        self.wip_last = 0.0
        self.measured_left = 0  # post-warm-up applications not yet done
        self.admitting = True
        self.truncated = False
        self.arrived = 0
        self.completed_in_window = 0
        self.t_start = array("d")
        self.t_end = array("d")
        self.t_applicant = array("d")
        self.limit = array("d")
        self.components = [0.0] * len(COMPONENTS)
        self.handoffs = 0
        self.visits = 0
        self.records: list[dict] = []
        self.wip_samples: list[tuple[float, int]] = []

    # ------------------------------------------------------------ helpers
    def after(self, delay: float, then: Callable[[], None]) -> None:
        if delay <= 0:
            then()
        else:
            self.env.timeout(delay).callbacks.append(lambda _e: then())

    def _wip_change(self, delta: int) -> None:
        now = self.env.now
        if now > self.warmup:
            self.wip_area += (now - max(self.wip_last, self.warmup)) * self.wip
        self.wip_last = now
        self.wip += delta

    # ------------------------------------------------------------ arrivals
    def start_arrivals(self) -> None:
        for flow in self.flows:
            times = self.arrival_times.get(flow.plan.id)
            if times is not None:
                self._trace_arrival(flow, times, 0)
            elif flow.plan.rate_per_day > 0:
                gaps = self.streams.stream(
                    lambda rng, n, rate=flow.plan.rate_per_day: rng.exponential(1.0 / rate, n),
                    "arrivals", flow.plan.id,
                )
                self.after(gaps.take(), lambda f=flow, g=gaps: self._poisson_arrival(f, g))

    def _poisson_arrival(self, flow: _Flow, gaps) -> None:  # noqa: ANN001
        if self.env.now >= self.horizon:
            return
        self._arrive(flow)
        self.env.timeout(gaps.take()).callbacks.append(lambda _e: self._poisson_arrival(flow, gaps))

    def _trace_arrival(self, flow: _Flow, times: np.ndarray, i: int) -> None:
        while i < len(times) and times[i] <= self.env.now:
            if times[i] < self.horizon:
                self._arrive(flow)
            i += 1
        if i < len(times) and times[i] < self.horizon:
            self.env.timeout(times[i] - self.env.now).callbacks.append(
                lambda _e: self._trace_arrival(flow, times, i)
            )

    def _arrive(self, flow: _Flow) -> None:
        k = flow.n
        flow.n += 1
        if not self.admitting:
            return
        app = _App(flow, k, self.env.now)
        # First-visit draws at position k of each named stream (common random numbers).
        app.service = {f: s.take() for f, s in flow.service.items()}
        app.rework_u = {f: s.take() for f, s in flow.rework.items()}
        app.signoff = None if flow.signoff is None else {key: s.take() for key, s in flow.signoff.items()}
        self._wip_change(+1)
        if self.env.now >= self.warmup:
            self.arrived += 1
            self.measured_left += 1
        if self.wip >= MAX_WORK_IN_PROGRESS:
            self.admitting = False
            self.truncated = True
        for i in flow.plan.roots:
            self._queue(app, i)

    # ------------------------------------------------------------ one step
    def _queue(self, app: _App, i: int) -> None:
        step = app.flow.plan.steps[i]
        entered = self.env.now
        self.pools[step.pool].request(lambda: self._serve(app, i, entered))

    def _serve(self, app: _App, i: int, entered: float) -> None:
        step = app.flow.plan.steps[i]
        flow = app.flow
        first = app.visits[i] == 0
        app.visits[i] += 1
        if first:
            times = [app.service[f] for f in step.functions]
        else:
            times = [flow.revisit_service[f].take() for f in step.functions]
        work = _combine(times, step.combine) / self.plan.pools[step.pool].availability
        account = app.account[i]
        account[_WAIT] += self.env.now - entered
        account[_PROC] += work
        self.after(work, lambda: self._served(app, i, first))

    def _served(self, app: _App, i: int, first: bool) -> None:
        step = app.flow.plan.steps[i]
        flow = app.flow
        self.pools[step.pool].release()
        back = False
        for f, p in zip(step.functions, step.rework):
            if p > 0:
                u = app.rework_u[f] if first else flow.revisit_rework[f].take()
                if u < p:
                    back = True
        if back:
            delay = 0.0 if flow.resubmit is None else flow.resubmit.take() * flow.plan.delay_factor
            app.account[i][_REWORK] += delay
            self.after(delay, lambda: self._queue(app, i))
        else:
            self._sign(app, i, 0)

    def _sign(self, app: _App, i: int, level: int) -> None:
        step = app.flow.plan.steps[i]
        if level == len(step.signoff) or app.signoff is None:
            self._step_done(app, i)
            return
        entered = self.env.now
        pool = self.pools[step.signoff[level]]

        def start() -> None:
            d = app.signoff[(step.functions[0], level)]  # type: ignore[index]
            app.account[i][_SIGN] += self.env.now - entered + d
            self.after(d, lambda: (pool.release(), self._sign(app, i, level + 1)))

        pool.request(start)

    def _step_done(self, app: _App, i: int) -> None:
        now = self.env.now
        app.finish[i] = now
        app.left -= 1
        if app.left == 0:
            self._app_done(app, i)
            return
        flow = app.flow
        for j, _kind in flow.plan.successors[i]:
            stream = flow.handoff.get((i, j))
            delay = stream.take() if stream is not None else 0.0
            app.handoffs += 1
            self.after(delay, lambda j=j, d=delay: self._handed(app, i, j, d))

    def _handed(self, app: _App, i: int, j: int, delay: float) -> None:
        app.pending[j] -= 1
        if app.pending[j] == 0:
            app.crit_pred[j] = i
            app.handoff_in[j] = delay
            self._queue(app, j)

    # ------------------------------------------------------------ completion
    def _app_done(self, app: _App, last: int) -> None:
        self._wip_change(-1)
        if self.warmup <= self.env.now <= self.horizon:
            self.completed_in_window += 1
        if app.t_arrive < self.warmup:
            return
        self.measured_left -= 1
        parts = [0.0] * len(COMPONENTS)  # waiting, processing, sign-off, hand-off, rework
        i = last
        while i >= 0:
            acc = app.account[i]
            parts[0] += acc[_WAIT]
            parts[1] += acc[_PROC]
            parts[2] += acc[_SIGN]
            parts[3] += app.handoff_in[i]
            parts[4] += acc[_REWORK]
            i = app.crit_pred[i]
        for c in range(len(parts)):
            self.components[c] += parts[c]
        self.handoffs += app.handoffs
        self.visits += sum(app.visits)
        now = self.env.now
        self.t_start.append(app.t_arrive)
        self.t_end.append(now)
        self.t_applicant.append(parts[4])
        limit = app.flow.plan.statutory_limit_days
        self.limit.append(math.nan if limit is None else limit)
        if self.keep_records:  # only when asked: records cost memory per application
            self.records.append({
                "project_type": app.flow.plan.id, "applicant": app.k,
                "arrival_working_day": app.t_arrive, "done_working_day": now,
                "lead_time_working_days": now - app.t_arrive,
                **{f"{name}_days": v for name, v in zip(COMPONENTS, parts)},
                "handoffs": app.handoffs, "visits": sum(app.visits),
            })

    # ------------------------------------------------------------ the run
    def run(self) -> None:
        env = self.env
        self.start_arrivals()
        if self.warmup > 0:
            env.timeout(self.warmup).callbacks.append(lambda _e: [p.reset() for p in self.pools.values()])
        n_samples = 20
        for m in range(n_samples + 1):
            t = self.warmup + (self.horizon - self.warmup) * m / n_samples
            env.timeout(t).callbacks.append(lambda _e, t=t: self.wip_samples.append((t, self.wip)))
        env.run(until=self.horizon)
        for p in self.pools.values():
            p._advance()
        self._wip_change(0)
        self.pool_stats = [
            PoolStats(
                key=k, unit=p.plan.unit, role=p.plan.role, servers=p.plan.servers,
                utilisation=p.busy_area / ((self.horizon - p.t0) * p.plan.servers),
                mean_queue=p.queue_area / (self.horizon - p.t0),
            )
            for k, p in self.pools.items()
        ]
        self.backlog = self.wip
        # Let the applications that arrived in the window finish, so that lead
        # times are not censored; a stable system drains well within a horizon.
        drain_until = self.horizon + (self.horizon - self.warmup)
        while self.measured_left > 0 and env.peek() < drain_until:
            env.step()
        self.drained = self.measured_left == 0


def _combine(times: list[float], combine: str | float) -> float:
    if len(times) == 1:
        return times[0]
    if combine == "max":
        return max(times)
    total = sum(times)
    return total if combine == "sum" else total * float(combine)


def read_trace(path: Path, column: str) -> list[str]:
    """Dates from one column of a CSV trace."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or column not in reader.fieldnames:
                raise SimulationError(f"{path}: no column {column!r} (columns: {reader.fieldnames})")
            return [row[column] for row in reader if row[column].strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise SimulationError(f"{path}: cannot read trace: {exc}") from None


def simulate_plan(
    plan: Plan,
    streams: RandomStreams,
    horizon: float,
    warmup: float,
    keep_records: bool = False,
    arrival_times: dict[str, np.ndarray] | None = None,
    calendar: "WorkingCalendar | None" = None,
) -> RunResult:
    """Run one replication of one organisation state; see :func:`orgsim.simulate`."""
    run = _Run(plan, streams, horizon, warmup, keep_records, arrival_times or {})
    run.run()
    window = horizon - warmup
    n = len(run.t_end)
    offered = plan.offered_load()
    overloaded = sorted(k for k, rho in offered.items() if rho >= 1.0)
    t_start = np.frombuffer(run.t_start, dtype=float) if n else np.empty(0)
    t_end = np.frombuffer(run.t_end, dtype=float) if n else np.empty(0)
    calendar_days = (
        calendar.working_to_calendar_days(t_start, t_end) if calendar is not None and n else t_end - t_start
    )
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
        applicant_days=np.frombuffer(run.t_applicant, dtype=float) if n else np.empty(0),
        limit_days=np.frombuffer(run.limit, dtype=float) if n else np.empty(0),
        component_days={name: (v / n if n else math.nan) for name, v in zip(COMPONENTS, run.components)},
        handoffs_per_application=run.handoffs / n if n else math.nan,
        visits_per_application=run.visits / n if n else math.nan,
        pools=tuple(run.pool_stats),
        offered_load=offered,
        window_days=window,
        records=tuple(run.records),
    )
