"""The reference engine: applicants flow through approval paths on SimPy's clock.

The clock runs in working days. Work is driven by callbacks on SimPy events
rather than one generator process per step: a step is a handful of
callbacks (queue, serve, sign off, hand off). Every queue is an explicit FIFO
of waiting applications and every activity an event, which makes this engine
the plain statement of the model that :mod:`orgsim.sim.fifo_engine` (the
default, several times faster) is tested against. Both draw their random
numbers through :mod:`orgsim.sim.flows`, in the same order, so they agree.
The engine does no I/O and no plotting.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import numpy as np
import simpy
from simpy.events import NORMAL

from orgsim.sim.flows import ARRIVAL, DONE, OFFICERS, SIGNOFF, Accounts, App, Flow, event_key
from orgsim.sim.plan import Plan, PoolPlan
from orgsim.sim.results import PoolStats
from orgsim.sim.streams import BlockStream, RandomStreams

__all__ = ["SimPyRun"]


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

    ``start(now, app, step, entered, what)`` is called when a server is free
    for a request: the officers' pools start service (``what`` is the drawn
    visit), the leaders' sign-off (``what`` is the sign-off level).
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

    def request(self, now: float, app: App, step: int, what: object) -> None:
        dt = now - self.last  # advance(now), inlined: this is the engine's hottest path
        if dt:
            self.busy_area += dt * (self.servers - self.free)
            self.queue_area += dt * len(self.queue)
            self.last = now
        if self.free:
            self.free -= 1
            self.start(now, app, step, now, what)
        else:
            self.queue.append((app, step, now, what))

    def release(self, now: float) -> None:
        dt = now - self.last
        if dt:
            self.busy_area += dt * (self.servers - self.free)
            self.queue_area += dt * len(self.queue)
            self.last = now
        if self.queue:
            app, step, entered, what = self.queue.popleft()
            self.start(now, app, step, entered, what)
        else:
            self.free += 1

    def reset(self, now: float) -> None:
        self.advance(now)
        self.busy_area = self.queue_area = 0.0
        self.t0 = now


class SimPyRun(Accounts):
    """One replication on SimPy's event loop."""

    def __init__(self, plan: Plan, streams: RandomStreams, horizon: float, warmup: float,
                 keep_records: bool, arrival_times: dict[str, np.ndarray]) -> None:
        pools = {
            k: _Pool(p, self._serve if p.role == "officers" else self._sign_start)
            for k, p in plan.pools.items()
        }
        super().__init__(plan, streams, horizon, warmup, keep_records, pools)
        self.env = simpy.Environment()
        self.arrival_times = arrival_times

    def _after(self, delay: float, fn: Callable[..., None], *args: object) -> None:
        self.env.schedule(_Call(self.env, fn, args), NORMAL, delay)

    def _at(self, delay: float, key: int, fn: Callable[..., None], *args: object) -> None:
        """Schedule a canonical event: at equal times these run after the NORMAL ones, by ``key``."""
        self.env.schedule(_Call(self.env, fn, args), key, delay)

    # ------------------------------------------------------------ arrivals
    def start_arrivals(self) -> None:
        for t, flow, source in self.first_arrivals(self.arrival_times):
            key = event_key(ARRIVAL, flow.index)
            if isinstance(source, np.ndarray):
                self._at(t, key, self._trace_arrival, flow, source, 0)
            else:
                self._at(t, key, self._poisson_arrival, flow, source)

    def _poisson_arrival(self, flow: Flow, gaps: BlockStream) -> None:
        if self.env.now >= self.horizon:
            return
        self._arrive(flow)
        self._at(gaps.take(), event_key(ARRIVAL, flow.index), self._poisson_arrival, flow, gaps)

    def _trace_arrival(self, flow: Flow, times: np.ndarray, i: int) -> None:
        now = self.env.now
        while i < len(times) and times[i] <= now:
            if times[i] < self.horizon:
                self._arrive(flow)
            i += 1
        if i < len(times) and times[i] < self.horizon:
            self._at(float(times[i]) - now, event_key(ARRIVAL, flow.index), self._trace_arrival, flow, times, i)

    def _arrive(self, flow: Flow) -> None:
        app = self.admit(flow, self.env.now)
        if app is not None:
            for i in flow.plan.roots:
                self._queue_after(0.0, app, i)

    # ------------------------------------------------------------ one step
    def _queue_after(self, delay: float, app: App, i: int) -> None:
        self._at(delay, event_key(OFFICERS, app.no, i), self._request, app, i)

    def _request(self, app: App, i: int) -> None:
        # The visit is drawn when the file reaches the queue, as the FIFO engine draws it.
        app.flow.steps[i].pool.request(self.env.now, app, i, app.flow.visit(app, i))

    def _serve(self, now: float, app: App, i: int, entered: float, visit: tuple[float, float]) -> None:
        work, delay = visit
        acc = app.acc
        acc[4 * i] += now - entered
        acc[4 * i + 1] += work
        self.env.schedule(_Call(self.env, self._served, (app, i, delay)), NORMAL, work)

    def _served(self, app: App, i: int, delay: float) -> None:
        now = self.env.now
        step = app.flow.steps[i]
        step.pool.release(now)
        if delay >= 0:  # back to the applicant, then to the same step
            app.acc[4 * i + 3] += delay
            self._queue_after(delay, app, i)
        elif step.leaders:
            self._at(0.0, event_key(SIGNOFF, app.no, i, 0), self._sign_request, app, i, 0)
        else:
            self._step_done(now, app, i)

    def _sign_request(self, app: App, i: int, level: int) -> None:
        app.flow.steps[i].leaders[level].request(self.env.now, app, i, level)

    def _sign_start(self, now: float, app: App, i: int, entered: float, level: int) -> None:
        step = app.flow.steps[i]
        d = app.draws[step.so[level]]
        app.acc[4 * i + 2] += now - entered + d
        self.env.schedule(_Call(self.env, self._signed, (app, i, level)), NORMAL, d)

    def _signed(self, app: App, i: int, level: int) -> None:
        now = self.env.now
        leaders = app.flow.steps[i].leaders
        leaders[level].release(now)
        if level + 1 < len(leaders):
            self._at(0.0, event_key(SIGNOFF, app.no, i, level + 1), self._sign_request, app, i, level + 1)
        else:
            self._step_done(now, app, i)

    def _step_done(self, now: float, app: App, i: int) -> None:
        if app.step_ends(i, now):
            self._at(0.0, event_key(DONE, app.no), self._done, app)
            return
        for j, k in app.flow.successors[i]:
            app.handoffs += 1
            if k < 0:
                self._handed(app, i, j, 0.0)
            else:
                delay = app.draws[k]
                self._after(delay, self._handed, app, i, j, delay)

    def _handed(self, app: App, i: int, j: int, delay: float) -> None:
        if app.hand_over(i, j, self.env.now, delay):
            self._queue_after(0.0, app, j)

    def _done(self, app: App) -> None:
        self.complete(self.env.now, app, app.last)

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
        for t in self.sample_times():
            self._after(t, self._sample_wip, t)
        env.run(until=self.horizon)
        for p in self.pools.values():
            p.advance(self.horizon)
        self.wip_change(self.horizon, 0)
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
