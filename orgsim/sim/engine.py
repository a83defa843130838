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
from simpy.events import NORMAL

from orgsim.errors import SimulationError
from orgsim.sim.plan import FlowPlan, Plan, PoolPlan, StepPlan
from orgsim.sim.results import COMPONENTS, PoolStats, RunResult
from orgsim.sim.streams import BlockStream, RandomStreams

if TYPE_CHECKING:
    from orgsim.sim.calendar import WorkingCalendar

__all__ = ["simulate_plan", "MAX_WORK_IN_PROGRESS"]

#: Applications in the system at which a run stops admitting new ones: the
#: system is unstable and more would only cost memory.
MAX_WORK_IN_PROGRESS = 50_000


class _Call(simpy.Event):
    """A SimPy event that calls ``fn(*args)`` when the clock reaches it.

    One small object per timed activity, instead of a generator process per
    step: the engine's main saving over an idiomatic SimPy model.
    """

    def __init__(self, env: simpy.Environment, fn: Callable[..., None], args: tuple) -> None:
        # Event.__init__ inlined, as simpy.Timeout does, for speed.
        self.env = env
        self.callbacks = [_fire]
        self._value = None
        self._ok = True
        self.fn = fn
        self.args = args


def _fire(event: _Call) -> None:
    event.fn(*event.args)


class _Pool:
    """Identical servers with a FIFO queue, integrating busy servers and queue length.

    ``start(now, app, step, entered, level)`` is called when a server is free
    for a request: the officers' pools start service, the leaders' sign-off.
    """

    __slots__ = ("plan", "servers", "free", "queue", "last", "busy_area", "queue_area", "t0", "start")

    def __init__(self, plan: PoolPlan, start: Callable[..., None]) -> None:
        self.plan = plan
        self.servers = plan.servers
        self.free = plan.servers
        self.queue: deque[tuple] = deque()
        self.last = 0.0
        self.busy_area = 0.0
        self.queue_area = 0.0
        self.t0 = 0.0
        self.start = start

    def advance(self, now: float) -> None:
        dt = now - self.last
        if dt:
            self.busy_area += dt * (self.servers - self.free)
            self.queue_area += dt * len(self.queue)
            self.last = now

    def request(self, now: float, app: "_App", step: int, level: int) -> None:
        dt = now - self.last  # advance(now), inlined: this is the engine's hottest path
        if dt:
            self.busy_area += dt * (self.servers - self.free)
            self.queue_area += dt * len(self.queue)
            self.last = now
        if self.free:
            self.free -= 1
            self.start(now, app, step, now, level)
        else:
            self.queue.append((app, step, now, level))

    def release(self, now: float) -> None:
        dt = now - self.last
        if dt:
            self.busy_area += dt * (self.servers - self.free)
            self.queue_area += dt * len(self.queue)
            self.last = now
        if self.queue:
            app, step, entered, level = self.queue.popleft()
            self.start(now, app, step, entered, level)
        else:
            self.free += 1

    def reset(self, now: float) -> None:
        self.advance(now)
        self.busy_area = self.queue_area = 0.0
        self.t0 = now


class _Step:
    """Run-time form of a step: its pools, streams and draw indexes resolved once."""

    __slots__ = ("plan", "pool", "fidx", "single", "combine", "stretch", "rework", "leaders", "so_idx")

    def __init__(self, plan: StepPlan, pool: _Pool, fidx: tuple[int, ...], leaders: tuple[_Pool, ...],
                 so_idx: tuple[int, ...], availability: float) -> None:
        self.plan = plan
        self.pool = pool
        self.fidx = fidx
        self.single = len(fidx) == 1
        self.combine = plan.combine
        self.stretch = 1.0 / availability
        self.rework = tuple((f, p) for f, p in zip(fidx, plan.rework) if p > 0)
        self.leaders = leaders
        self.so_idx = so_idx


class _Flow:
    """Run-time state of one project type: its steps and its named streams."""

    def __init__(self, plan: FlowPlan, run: "_Run", index: int) -> None:
        self.plan = plan
        self.index = index
        self.n = 0
        streams, h, fid = run.streams, run.plan.hours_per_day, plan.id

        def draw(dist):  # noqa: ANN001, ANN202 - sampler in working days
            return lambda rng, n: dist.draw(rng, n, h)

        def uniform(rng, n):  # noqa: ANN001, ANN202
            return rng.random(n)

        dists: dict[str, object] = {}
        for st in plan.steps:
            for f, d in zip(st.functions, st.service):
                dists.setdefault(f, d)
        self.functions = list(dists)
        index = {f: k for k, f in enumerate(self.functions)}
        # Streams are named after (project type, function), never after their
        # position, so a reform that adds or merges steps keeps everyone else's draws.
        self.service = [streams.stream(draw(dists[f]), "service", fid, f) for f in self.functions]
        self.rework = [streams.stream(uniform, "rework", fid, f) for f in self.functions]
        self.revisit_service = [streams.stream(draw(dists[f]), "revisit_service", fid, f) for f in self.functions]
        self.revisit_rework = [streams.stream(uniform, "revisit_rework", fid, f) for f in self.functions]
        so = run.plan.signoff_time
        self.signoff = []
        self.steps = []
        for st in plan.steps:
            so_idx = []
            leaders: tuple[_Pool, ...] = ()
            if so is not None:
                leaders = tuple(run.pools[k] for k in st.signoff)
                for level in range(len(st.signoff)):
                    so_idx.append(len(self.signoff))
                    self.signoff.append(streams.stream(draw(so), "signoff", fid, st.functions[0], str(level)))
            self.steps.append(_Step(
                st, run.pools[st.pool], tuple(index[f] for f in st.functions), leaders, tuple(so_idx),
                run.plan.pools[st.pool].availability,
            ))
        rs = run.plan.resubmission_delay
        self.resubmit = None if rs is None else streams.stream(draw(rs), "resubmission", fid)
        self.successors = []
        for i, succ in enumerate(plan.successors):
            out = []
            for j, kind in succ:
                dist = run.plan.handoff[kind]
                stream = None
                if dist is not None:
                    name = ("handoff", fid, plan.steps[i].functions[0], plan.steps[j].functions[0], kind)
                    stream = streams.stream(draw(dist), *name)
                out.append((j, stream))
            self.successors.append(tuple(out))
        self.n_steps = len(plan.steps)
        self.n_predecessors = list(plan.n_predecessors)


class _App:
    """One application in the system; per-step accounts live in flat lists."""

    __slots__ = ("flow", "k", "t_arrive", "pending", "left", "svc", "rw", "so",
                 "acc", "handoff_in", "crit_pred", "visits", "handoffs")

    def __init__(self, flow: _Flow, k: int, t_arrive: float) -> None:
        n = flow.n_steps
        self.flow = flow
        self.k = k
        self.t_arrive = t_arrive
        self.pending = flow.n_predecessors.copy()
        self.left = n
        # First-visit draws at position k of each named stream (common random numbers).
        self.svc = [s.take() for s in flow.service]
        self.rw = [s.take() for s in flow.rework]
        self.so = [s.take() for s in flow.signoff]
        # acc[4 i + c]: waiting, processing, sign-off and applicant time of step i.
        self.acc = [0.0] * (4 * n)
        self.handoff_in = [0.0] * n
        self.crit_pred = [-1] * n
        self.visits = [0] * n
        self.handoffs = 0


class _Run:
    def __init__(self, plan: Plan, streams: RandomStreams, horizon: float, warmup: float,
                 keep_records: bool, arrival_times: dict[str, np.ndarray]) -> None:
        self.plan = plan
        self.streams = streams
        self.horizon = horizon
        self.warmup = warmup
        self.keep_records = keep_records
        self.env = simpy.Environment()
        self.pools = {
            k: _Pool(p, self._serve if p.role == "officers" else self._sign_start)
            for k, p in plan.pools.items()
        }
        self.flows = [_Flow(f, self, k) for k, f in enumerate(plan.flows)]
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
        self.flow_of = array("H")  # project type of each completed application
        self.components = [0.0] * len(COMPONENTS)
        self.handoffs = 0
        self.visits = 0
        self.records: list[dict] = []
        self.wip_samples: list[tuple[float, int]] = []

    # ------------------------------------------------------------ helpers
    def _after(self, delay: float, fn: Callable[..., None], *args: object) -> None:
        self.env.schedule(_Call(self.env, fn, args), NORMAL, delay)

    def _wip_change(self, now: float, delta: int) -> None:
        if now > self.warmup:
            since = self.wip_last if self.wip_last > self.warmup else self.warmup
            self.wip_area += (now - since) * self.wip
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
                self._after(gaps.take(), self._poisson_arrival, flow, gaps)

    def _poisson_arrival(self, flow: _Flow, gaps: BlockStream) -> None:
        if self.env.now >= self.horizon:
            return
        self._arrive(flow)
        self._after(gaps.take(), self._poisson_arrival, flow, gaps)

    def _trace_arrival(self, flow: _Flow, times: np.ndarray, i: int) -> None:
        now = self.env.now
        while i < len(times) and times[i] <= now:
            if times[i] < self.horizon:
                self._arrive(flow)
            i += 1
        if i < len(times) and times[i] < self.horizon:
            self._after(float(times[i]) - now, self._trace_arrival, flow, times, i)

    def _arrive(self, flow: _Flow) -> None:
        k = flow.n
        flow.n += 1
        if not self.admitting:
            return
        now = self.env.now
        app = _App(flow, k, now)
        self._wip_change(now, +1)
        if now >= self.warmup:
            self.arrived += 1
            self.measured_left += 1
        if self.wip >= MAX_WORK_IN_PROGRESS:
            self.admitting = False
            self.truncated = True
        steps = flow.steps
        for i in flow.plan.roots:
            steps[i].pool.request(now, app, i, 0)

    # ------------------------------------------------------------ one step
    def _queue(self, app: _App, i: int) -> None:
        app.flow.steps[i].pool.request(self.env.now, app, i, 0)

    def _serve(self, now: float, app: _App, i: int, entered: float, _level: int) -> None:
        flow = app.flow
        step = flow.steps[i]
        visit = app.visits[i]
        app.visits[i] = visit + 1
        if step.single:
            f = step.fidx[0]
            work = app.svc[f] if visit == 0 else flow.revisit_service[f].take()
        else:
            times = [app.svc[f] if visit == 0 else flow.revisit_service[f].take() for f in step.fidx]
            work = _combine(times, step.combine)
        work *= step.stretch
        acc = app.acc
        acc[4 * i] += now - entered
        acc[4 * i + 1] += work
        self.env.schedule(_Call(self.env, self._served, (app, i, visit)), NORMAL, work)

    def _served(self, app: _App, i: int, visit: int) -> None:
        now = self.env.now
        flow = app.flow
        step = flow.steps[i]
        step.pool.release(now)
        back = False
        for f, p in step.rework:
            # Draw for every function (no short cut) so stream positions never depend on order.
            u = app.rw[f] if visit == 0 else flow.revisit_rework[f].take()
            if u < p:
                back = True
        if back:
            delay = 0.0 if flow.resubmit is None else flow.resubmit.take() * flow.plan.delay_factor
            app.acc[4 * i + 3] += delay
            if delay > 0:
                self._after(delay, self._queue, app, i)
            else:
                step.pool.request(now, app, i, 0)
        elif step.leaders:
            step.leaders[0].request(now, app, i, 0)
        else:
            self._step_done(now, app, i)

    def _sign_start(self, now: float, app: _App, i: int, entered: float, level: int) -> None:
        step = app.flow.steps[i]
        d = app.so[step.so_idx[level]]
        app.acc[4 * i + 2] += now - entered + d
        self.env.schedule(_Call(self.env, self._signed, (app, i, level)), NORMAL, d)

    def _signed(self, app: _App, i: int, level: int) -> None:
        now = self.env.now
        leaders = app.flow.steps[i].leaders
        leaders[level].release(now)
        if level + 1 < len(leaders):
            leaders[level + 1].request(now, app, i, level + 1)
        else:
            self._step_done(now, app, i)

    def _step_done(self, now: float, app: _App, i: int) -> None:
        app.left -= 1
        if app.left == 0:
            self._app_done(now, app, i)
            return
        for j, stream in app.flow.successors[i]:
            app.handoffs += 1
            if stream is None:
                self._handed(app, i, j, 0.0)
            else:
                delay = stream.take()
                self._after(delay, self._handed, app, i, j, delay)

    def _handed(self, app: _App, i: int, j: int, delay: float) -> None:
        app.pending[j] -= 1
        if app.pending[j] == 0:
            app.crit_pred[j] = i
            app.handoff_in[j] = delay
            app.flow.steps[j].pool.request(self.env.now, app, j, 0)

    # ------------------------------------------------------------ completion
    def _app_done(self, now: float, app: _App, last: int) -> None:
        self._wip_change(now, -1)
        if self.warmup <= now <= self.horizon:
            self.completed_in_window += 1
        if app.t_arrive < self.warmup:
            return
        self.measured_left -= 1
        # Walk the critical path back from the last step: its parts add up to the lead time.
        wait = proc = sign = hand = back = 0.0
        acc, handoff_in, crit = app.acc, app.handoff_in, app.crit_pred
        i = last
        while i >= 0:
            b = 4 * i
            wait += acc[b]
            proc += acc[b + 1]
            sign += acc[b + 2]
            back += acc[b + 3]
            hand += handoff_in[i]
            i = crit[i]
        c = self.components
        c[0] += wait
        c[1] += proc
        c[2] += sign
        c[3] += hand
        c[4] += back
        self.handoffs += app.handoffs
        visits = sum(app.visits)
        self.visits += visits
        self.t_start.append(app.t_arrive)
        self.t_end.append(now)
        self.t_applicant.append(back)
        self.flow_of.append(app.flow.index)
        if self.keep_records:  # only when asked: records cost memory per application
            self.records.append({
                "project_type": app.flow.plan.id, "applicant": app.k,
                "arrival_working_day": app.t_arrive, "done_working_day": now,
                "lead_time_working_days": now - app.t_arrive,
                **{f"{name}_days": v for name, v in zip(COMPONENTS, (wait, proc, sign, hand, back))},
                "handoffs": app.handoffs, "visits": visits,
            })

    # ------------------------------------------------------------ the run
    def _reset_pools(self) -> None:
        for p in self.pools.values():
            p.reset(self.env.now)

    def _sample_wip(self, t: float) -> None:
        self.wip_samples.append((t, self.wip))

    def run(self) -> None:
        env = self.env
        self.start_arrivals()
        if self.warmup > 0:
            self._after(self.warmup, self._reset_pools)
        n_samples = 20
        for m in range(n_samples + 1):
            t = self.warmup + (self.horizon - self.warmup) * m / n_samples
            self._after(t, self._sample_wip, t)
        env.run(until=self.horizon)
        for p in self.pools.values():
            p.advance(self.horizon)
        self._wip_change(self.horizon, 0)
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
        # times are not censored; a stable system drains well within a window.
        drain_until = self.horizon + (self.horizon - self.warmup)
        while self.measured_left > 0 and env.peek() < drain_until:
            env.step()
        self.drained = self.measured_left == 0


def _combine(times: list[float], combine: str | float) -> float:
    if combine == "max":
        return max(times)
    total = sum(times)
    return total if combine == "sum" else total * float(combine)


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
        applicant_days=np.frombuffer(run.t_applicant, dtype=float) if n else np.empty(0),
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
