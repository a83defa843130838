"""The default engine: first-in first-out queues computed by recursion, not by events.

Every queue in the model serves in order of arrival with identical servers,
and a visit's working time is drawn when the file arrives. So the moment a
file reaches a queue, its start is known: the later of its arrival and the
earliest time a server falls free (the multi-server FIFO recursion). Its end
follows, and with it when the file reaches its next queue. Only arrivals at
queues (and new applications, and finished ones) are events; service
starts, ends and hand-offs are arithmetic (about 16 events an application in
the Jinan-size benchmark zone), where :mod:`orgsim.sim.simpy_engine` also
schedules every service end, sign-off end and hand-off, each a heavier SimPy
event. As Python this is about 2 times faster than the SimPy engine;
compiled (:mod:`orgsim.sim._fifo_kernel`, used when installed) 20-30 times
(benchmarks/README.md). All three give the same results.

Arrivals at a queue must be taken in time order for the recursion to hold,
so events still go through one heap ordered by time (simultaneous ones in the
canonical order of :func:`orgsim.sim.flows.event_key`, as in every engine).
Utilisation and queue length are integrals over the measurement window: each
service interval and each wait is clipped to the window and added.
"""

from __future__ import annotations

import warnings
from heapq import heappop, heappush, heapreplace
from pathlib import Path

import numpy as np

from orgsim.sim.flows import ARRIVAL, DONE, OFFICERS, SIGNOFF, Accounts, App, Flow, event_key
from orgsim.sim.plan import Plan, PoolPlan
from orgsim.sim.results import PoolStats
from orgsim.sim.streams import RandomStreams

def _load_compiled():  # noqa: ANN202 - the module, or None
    """The same loop compiled to C, when pip install found a compiler and it is up to date."""
    try:
        from orgsim.sim import _fifo_kernel
    except ImportError:  # pragma: no cover - depends on the installation
        return None
    # In a checkout (an editable install), a loop compiled before its source
    # last changed would run old code: say so and run the Python loop.
    source = Path(__file__).with_name("_fifo_kernel.pyx")
    checkout = (Path(__file__).parents[2] / "setup.py").exists()
    if checkout and source.exists() and source.stat().st_mtime > Path(_fifo_kernel.__file__).stat().st_mtime:
        warnings.warn("orgsim's compiled event loop is older than orgsim/sim/_fifo_kernel.pyx; running the "
                      "Python loop instead (same results, slower). Rebuild it: pip install -e .",
                      RuntimeWarning, stacklevel=2)
        return None
    return _fifo_kernel


_fifo_kernel = _load_compiled()

__all__ = ["FifoRun", "compiled"]


def compiled() -> bool:
    """True when the compiled event loop is installed (otherwise the Python one runs, slower)."""
    return _fifo_kernel is not None


# What an event is (its heap entry is (time, event_key, kind, app or flow, step or payload));
# a sign-off at level L is kind _SIGNOFF + L.
_TRACE_ARRIVAL = -3
_POISSON_ARRIVAL = -2
_DONE = -1
_OFFICERS = 0
_SIGNOFF = 1


class _Queue:
    """Identical servers taking files in order of arrival: when each falls free, and the integrals."""

    __slots__ = ("plan", "free", "busy_area", "queue_area")

    def __init__(self, plan: PoolPlan) -> None:
        self.plan = plan
        self.free = [0.0] * plan.servers  # a heap of the times each server falls free
        self.busy_area = 0.0
        self.queue_area = 0.0

    def serve(self, t: float, work: float, t0: float, horizon: float) -> float:
        """A file arriving at ``t`` needing ``work``: its start (the FIFO recursion).

        The server it takes is busy until start + work; the busy time and the
        wait, clipped to the window [t0, horizon], go into the integrals.
        """
        free = self.free
        s = free[0]
        if s < t:
            s = t
        e = s + work
        heapreplace(free, e)
        if s >= t0 and e <= horizon:
            self.busy_area += work
        elif e > t0 and s < horizon:
            self.busy_area += min(e, horizon) - max(s, t0)
        if s > t and s > t0 and t < horizon:
            self.queue_area += min(s, horizon) - max(t, t0)
        return s


class FifoRun(Accounts):
    """One replication by the FIFO recursion.

    :meth:`run` uses the compiled loop of :mod:`orgsim.sim._fifo_kernel` when
    it is installed and ``use_compiled`` is true; the methods below state the
    algorithm and run it otherwise. Both give identical results.
    """

    use_compiled = True

    def __init__(self, plan: Plan, streams: RandomStreams, horizon: float, warmup: float,
                 keep_records: bool, arrival_times: dict[str, np.ndarray]) -> None:
        super().__init__(plan, streams, horizon, warmup, keep_records,
                         {k: _Queue(p) for k, p in plan.pools.items()})
        self.arrival_times = arrival_times
        self.heap: list[tuple] = []
        # Utilisation and queue length are measured over [t0, horizon].
        self.t0 = warmup if warmup > 0 else 0.0

    # ------------------------------------------------------------ queues
    def _officers(self, t: float, app: App, i: int) -> None:
        """``app`` reaches step ``i``'s officers at ``t``."""
        flow = app.flow
        step = flow.steps[i]
        work, delay = flow.visit(app, i)
        s = step.pool.serve(t, work, self.t0, self.horizon)
        e = s + work
        acc = app.acc
        acc[4 * i] += s - t
        acc[4 * i + 1] += work
        if delay >= 0:  # back to the applicant, then to the same step
            acc[4 * i + 3] += delay
            heappush(self.heap, (e + delay, event_key(OFFICERS, app.no, i), _OFFICERS, app, i))
        elif step.leaders:
            heappush(self.heap, (e, event_key(SIGNOFF, app.no, i), _SIGNOFF, app, i))
        else:
            self._step_done(e, app, i)

    def _signoff(self, t: float, app: App, i: int, level: int) -> None:
        """``app``'s step ``i`` reaches its sign-off at ``level`` at ``t``."""
        step = app.flow.steps[i]
        d = app.draws[step.so[level]]
        s = step.leaders[level].serve(t, d, self.t0, self.horizon)
        e = s + d
        app.acc[4 * i + 2] += s - t + d
        if level + 1 < len(step.leaders):
            heappush(self.heap, (e, event_key(SIGNOFF, app.no, i, level + 1), _SIGNOFF + level + 1, app, i))
        else:
            self._step_done(e, app, i)

    def _step_done(self, e: float, app: App, i: int) -> None:
        """Step ``i`` of ``app`` will end at ``e``: hand the file on, or finish it."""
        if app.step_ends(i, e):
            heappush(self.heap, (app.t_last, event_key(DONE, app.no), _DONE, app, app.last))
            return
        for j, k in app.flow.successors[i]:
            app.handoffs += 1
            d = app.draws[k] if k >= 0 else 0.0
            if app.hand_over(i, j, e + d, d):
                heappush(self.heap, (app.t_ready[j], event_key(OFFICERS, app.no, j), _OFFICERS, app, j))

    # ------------------------------------------------------------ arrivals
    def _arrive(self, flow: Flow, t: float) -> None:
        app = self.admit(flow, t)
        if app is not None:
            for i in flow.plan.roots:
                heappush(self.heap, (t, event_key(OFFICERS, app.no, i), _OFFICERS, app, i))

    def _start_arrivals(self) -> None:
        for t, flow, source in self.first_arrivals(self.arrival_times):
            key = event_key(ARRIVAL, flow.index)
            if isinstance(source, np.ndarray):
                heappush(self.heap, (t, key, _TRACE_ARRIVAL, flow, (source, 0)))
            else:
                heappush(self.heap, (t, key, _POISSON_ARRIVAL, flow, source))

    def _trace_arrival(self, t: float, flow: Flow, times: np.ndarray, i: int) -> None:
        while i < len(times) and times[i] <= t:
            if times[i] < self.horizon:
                self._arrive(flow, t)
            i += 1
        if i < len(times) and times[i] < self.horizon:
            heappush(self.heap, (float(times[i]), event_key(ARRIVAL, flow.index), _TRACE_ARRIVAL, flow, (times, i)))

    # ------------------------------------------------------------ the run
    def _events(self, until: float, drain: bool) -> None:
        """Take events before ``until``; when draining, stop once every measured file is done."""
        heap = self.heap
        horizon = self.horizon
        samples = self.samples_due
        next_sample = samples[-1] if samples else float("inf")
        officers, signoff, complete = self._officers, self._signoff, self.complete
        while heap and heap[0][0] < until:
            if drain and self.measured_left <= 0:
                break
            t, _, kind, app, i = heappop(heap)
            while t >= next_sample:
                self.wip_samples.append((samples.pop(), self.wip))
                next_sample = samples[-1] if samples else float("inf")
            if kind == _OFFICERS:
                officers(t, app, i)
            elif kind >= _SIGNOFF:
                signoff(t, app, i, kind - _SIGNOFF)
            elif kind == _DONE:
                complete(t, app, i)
            elif kind == _POISSON_ARRIVAL:
                if t < horizon:
                    self._arrive(app, t)
                    heappush(heap, (t + i.take(), event_key(ARRIVAL, app.index), _POISSON_ARRIVAL, app, i))
            else:
                self._trace_arrival(t, app, *i)

    def _take_samples(self, upto: float) -> None:
        samples = self.samples_due
        while samples and samples[-1] <= upto:
            self.wip_samples.append((samples.pop(), self.wip))

    def close_window(self) -> None:
        """At the horizon: the queues' measurements and the backlog."""
        span = self.horizon - self.t0
        self.pool_stats = [
            PoolStats(
                key=k, unit=q.plan.unit, role=q.plan.role, servers=q.plan.servers,
                utilisation=q.busy_area / (span * q.plan.servers), mean_queue=q.queue_area / span,
            )
            for k, q in self.pools.items()
        ]
        self.backlog = self.wip

    def run(self) -> None:
        if _fifo_kernel is not None and self.use_compiled:
            _fifo_kernel.run(self)
            return
        horizon = self.horizon
        self.samples_due = self.sample_times()[::-1]  # next due last
        self._start_arrivals()
        self._events(horizon, drain=False)
        self._take_samples(np.nextafter(horizon, -np.inf))
        self.wip_change(horizon, 0)
        self.close_window()
        # Let the applications that arrived in the window finish, so that lead
        # times are not censored; a stable system drains well within a window.
        if self.measured_left > 0:
            self._take_samples(horizon)
            self._events(horizon + (horizon - self.warmup), drain=True)
        self.drained = self.measured_left == 0
