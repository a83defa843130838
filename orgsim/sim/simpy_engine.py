"""The reference engine: applications flow through approval paths on SimPy's clock.

The clock runs in working days. Every queue is an explicit first-in
first-out line of waiting files in front of identical servers, and every
activity is a SimPy event: a service end, a sign-off end, a hand-off. That
makes this engine the plain statement of the model that the FIFO loop
(:mod:`orgsim.sim.fifo_loop`, the default, many times faster) is tested
against. It reads the same :class:`~orgsim.sim.run_io.RunInput` (the same
named random streams, the same columns of each application's first-visit
row) and returns the same :class:`~orgsim.sim.run_io.RunOutput`, but states
everything between on its own. It uses only SimPy's public API, and does no
I/O and no plotting.

Work is driven by callbacks on SimPy events rather than one generator
process per step: a step is a handful of callbacks (queue, serve, sign off,
hand off).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
import simpy
from simpy.events import NORMAL

from orgsim.eventlog.events import APPLICANT, DONE, HANDOFF, SERVICE, SIGNOFF, EventBuffer
from orgsim.sim import fifo_engine
from orgsim.sim.run_io import COMBINE_MAX, COMBINE_SUM, POISSON, TRACE, RunInput, RunOutput

__all__ = ["run_simpy"]


class _Clock(simpy.Environment):
    """SimPy's environment, where an event may carry its own priority: its ``order``.

    :meth:`simpy.Environment.schedule` is the public method through which
    every event reaches the clock's queue. Events that fall at the same time
    are taken by priority: SimPy's own (NORMAL and URGENT) first, then the
    events carrying the canonical order of simultaneous events (the FIFO
    loop's keys, all larger than NORMAL), smallest first, so that both
    engines take simultaneous events in one order.
    """

    def schedule(self, event: simpy.Event, priority: Any = NORMAL, delay: Any = 0) -> None:
        super().schedule(event, getattr(event, "order", priority), delay)


class _Call(simpy.Timeout):
    """A timeout that calls ``fn(*args)`` when the clock reaches it (in canonical ``order`` when given)."""

    def __init__(self, env: simpy.Environment, delay: float, fn: Callable[..., None], args: tuple,
                 order: int = NORMAL) -> None:
        self.order = order
        self.fn = fn
        self.args = args
        super().__init__(env, delay)
        self.callbacks.append(_fire)


def _fire(event: _Call) -> None:
    event.fn(*event.args)


class _Queue:
    """Identical servers with a first-in first-out line, integrating busy servers and line length.

    A request names what to do when a server takes the file:
    ``start(now, file, step, entered, what)``, where officers start service
    (``what`` is the drawn visit) and leaders sign off (``what`` is the level).
    """

    __slots__ = ("servers", "free", "line", "last", "busy_area", "queue_area")

    def __init__(self, servers: int) -> None:
        self.servers = servers
        self.free = servers
        self.line: deque[tuple] = deque()
        self.last = 0.0
        self.busy_area = 0.0
        self.queue_area = 0.0

    def advance(self, now: float) -> None:
        dt = now - self.last
        if dt:
            self.busy_area += dt * (self.servers - self.free)
            self.queue_area += dt * len(self.line)
            self.last = now

    def request(self, now: float, start: Callable[..., None], file: _File, step: int, what: object) -> None:
        self.advance(now)
        if self.free:
            self.free -= 1
            start(now, file, step, now, what)
        else:
            self.line.append((start, file, step, now, what))

    def release(self, now: float) -> None:
        self.advance(now)
        if self.line:
            start, file, step, entered, what = self.line.popleft()
            start(now, file, step, entered, what)
        else:
            self.free += 1

    def reset(self, now: float) -> None:
        """Start measuring at ``now``."""
        self.advance(now)
        self.busy_area = self.queue_area = 0.0


class _Step:
    """A step of a project type, read from the RunInput's arrays."""

    __slots__ = ("queue", "combine", "factor", "service", "rework", "signoff", "successors", "predecessors")

    def __init__(self, run: RunInput, g: int) -> None:
        def entries(start: np.ndarray, *columns: np.ndarray) -> list[tuple]:
            return list(zip(*(c[start[g]:start[g + 1]].tolist() for c in columns), strict=True))

        self.queue = int(run.step_queue[g])
        self.combine = int(run.step_combine[g])
        self.factor = float(run.step_factor[g])
        self.predecessors = int(run.step_predecessors[g])
        #: (column in the first-visit row, revisit stream) per function
        self.service = entries(run.step_service_start, run.service_column, run.service_stream)
        #: (column, revisit stream, probability) per function that may send the file back
        self.rework = entries(run.step_rework_start, run.rework_column, run.rework_stream, run.rework_probability)
        #: (leaders' queue, column) per sign-off level, lowest first
        self.signoff = entries(run.step_signoff_start, run.signoff_queue, run.signoff_column)
        #: (step index, column of the hand-off delay or -1) per step that waits for this one
        self.successors = entries(run.step_successor_start, run.successor_step, run.successor_column)


class _File:
    """One application in the system."""

    __slots__ = ("flow", "k", "no", "t_arrive", "draws", "pending", "left", "acc", "handoff_in", "crit_pred",
                 "visits", "handoffs", "t_ready", "t_last", "last")

    def __init__(self, flow: int, k: int, no: int, t_arrive: float, draws: list[float], steps: list[_Step]) -> None:
        n = len(steps)
        self.flow = flow
        self.k = k  # the k-th applicant of its project type
        self.no = no  # the no-th admitted in the run: orders simultaneous events
        self.t_arrive = t_arrive
        self.draws = draws  # its first-visit row
        self.pending = [s.predecessors for s in steps]
        self.left = n
        # acc[4 i + c]: waiting, processing, sign-off and applicant time of step i.
        self.acc = [0.0] * (4 * n)
        self.handoff_in = [0.0] * n
        self.crit_pred = [-1] * n
        self.visits = [0] * n
        self.handoffs = 0
        # When step i's last predecessor hands over (crit_pred[i] is that one),
        # and the latest step end so far (last is that step); ties go to the
        # lower step index, so that the result does not depend on event order.
        self.t_ready = [-1.0] * n
        self.t_last = -1.0
        self.last = -1


class _SimPyRun:
    """One replication on SimPy's event loop."""

    def __init__(self, run: RunInput) -> None:
        self.run_input = run
        self.env = _Clock()
        self.keys = fifo_engine.LOOP  # the canonical order of simultaneous events
        self.queues = [_Queue(n) for n in run.queue_servers.tolist()]
        self.stretch = run.queue_stretch.tolist()
        first = run.flow_first_step.tolist()
        self.steps = [[_Step(run, g) for g in range(first[f], first[f + 1])] for f in range(run.n_flows)]
        self.roots = [run.root_step[run.flow_root_start[f]:run.flow_root_start[f + 1]].tolist()
                      for f in range(run.n_flows)]
        self.rows: list[list[list[float]]] = [[] for _ in range(run.n_flows)]
        self.applicants = [0] * run.n_flows
        # Accounts.
        self.admitted = 0
        self.wip = 0
        self.wip_area = 0.0
        self.wip_last = 0.0
        self.measured_left = 0
        self.admitting = True
        self.truncated = False
        self.arrived = 0
        self.completed_in_window = 0
        self.components = [0.0] * 5
        # The same five sums per project type, added in the same order.
        self.flow_components = [[0.0] * 5 for _ in range(run.n_flows)]
        self.handoffs = 0
        self.visits = 0
        self.t_start: list[float] = []
        self.t_end: list[float] = []
        self.t_applicant: list[float] = []
        self.flow_of: list[int] = []
        self.records: list[tuple] = []
        self.wip_samples: list[tuple[float, int]] = []
        self.log = None if run.event_sink is None else EventBuffer(run.event_sink)

    # ------------------------------------------------------------ scheduling
    def _after(self, delay: float, fn: Callable[..., None], *args: object) -> None:
        _Call(self.env, delay, fn, args)

    def _at(self, delay: float, order: int, fn: Callable[..., None], *args: object) -> None:
        """Schedule a canonical event: at equal times these run after SimPy's own, by ``order``."""
        _Call(self.env, delay, fn, args, order)

    # ------------------------------------------------------------ arrivals
    def _start_arrivals(self) -> None:
        run = self.run_input
        for f in range(run.n_flows):
            t = float(run.flow_first_arrival[f])
            if run.flow_arrivals[f] == POISSON:
                self._at(t, self.keys.arrival_key(f), self._poisson_arrival, f)
            elif run.flow_arrivals[f] == TRACE:
                self._at(t, self.keys.arrival_key(f), self._trace_arrival, f, 0)

    def _poisson_arrival(self, f: int) -> None:
        if self.env.now >= self.run_input.horizon:
            return
        self._arrive(f)
        gaps = self.run_input.arrival_gaps[f]
        assert gaps is not None  # a project type with Poisson arrivals
        self._at(gaps.take(), self.keys.arrival_key(f), self._poisson_arrival, f)

    def _trace_arrival(self, f: int, i: int) -> None:
        now, horizon = self.env.now, self.run_input.horizon
        times = self.run_input.arrival_traces[f]
        assert times is not None  # a project type with traced arrivals
        while i < len(times) and times[i] <= now:
            if times[i] < horizon:
                self._arrive(f)
            i += 1
        if i < len(times) and times[i] < horizon:
            self._at(float(times[i]) - now, self.keys.arrival_key(f), self._trace_arrival, f, i)

    def _wip_change(self, now: float, delta: int) -> None:
        warmup = self.run_input.warmup
        if now > warmup:
            self.wip_area += (now - max(self.wip_last, warmup)) * self.wip
        self.wip_last = now
        self.wip += delta

    def _arrive(self, f: int) -> None:
        now = self.env.now
        k = self.applicants[f]
        self.applicants[f] += 1
        if not self.admitting:
            return
        if not self.rows[f]:  # the project type's first-visit rows, a block at a time, next one last
            self.rows[f] = self.run_input.first_visit[f].block().tolist()[::-1]
        file = _File(f, k, self.admitted, now, self.rows[f].pop(), self.steps[f])
        self.admitted += 1
        self._wip_change(now, +1)
        if now >= self.run_input.warmup:
            self.arrived += 1
            self.measured_left += 1
        if self.wip >= self.run_input.max_in_system:
            self.admitting = False
            self.truncated = True
        for i in self.roots[f]:
            self._queue_after(0.0, file, i)

    # ------------------------------------------------------------ one step
    def _queue_after(self, delay: float, file: _File, i: int) -> None:
        self._at(delay, self.keys.officers_key(file.no, i), self._request, file, i)

    def _request(self, file: _File, i: int) -> None:
        # The visit is drawn when the file reaches the queue.
        self.queues[self.steps[file.flow][i].queue].request(self.env.now, self._serve, file, i, self._visit(file, i))

    def _visit(self, file: _File, i: int) -> tuple[float, float]:
        """Draw a visit of ``file`` to step ``i``: (working time, resubmission delay, or -1: the file goes on)."""
        run, step = self.run_input, self.steps[file.flow][i]
        first = file.visits[i] == 0
        file.visits[i] += 1
        if first:  # from the application's row (common random numbers)
            times = [file.draws[column] for column, _ in step.service]
            back = any(file.draws[column] < p for column, _, p in step.rework)
        else:  # from the revisit streams, in the order files reach the queue
            times = [run.revisit_service[stream].take() for _, stream in step.service]
            draws = [run.revisit_rework[stream].take() < p for _, stream, p in step.rework]  # all of them, always
            back = any(draws)
        if len(times) == 1:
            work = times[0]
        elif step.combine == COMBINE_MAX:
            work = max(times)
        elif step.combine == COMBINE_SUM:
            work = sum(times)
        else:
            work = sum(times) * step.factor
        work = work * self.stretch[step.queue]
        delay = -1.0
        if back:
            resubmission = run.resubmission[file.flow]
            delay = 0.0 if resubmission is None else resubmission.take() * float(run.flow_delay_factor[file.flow])
        return work, delay

    def _serve(self, now: float, file: _File, i: int, entered: float, visit: tuple[float, float]) -> None:
        work, delay = visit
        file.acc[4 * i] += now - entered
        file.acc[4 * i + 1] += work
        if self.log is not None:
            end = now + work
            self.log.emit(SERVICE, file.no, file.k, file.flow, i, file.visits[i] - 1, entered, now, end)
            if delay >= 0:
                self.log.emit(APPLICANT, file.no, file.k, file.flow, i, file.visits[i] - 1, end, end, end + delay)
        self._after(work, self._served, file, i, delay)

    def _served(self, file: _File, i: int, delay: float) -> None:
        now = self.env.now
        step = self.steps[file.flow][i]
        self.queues[step.queue].release(now)
        if delay >= 0:  # back to the applicant, then to the same step
            file.acc[4 * i + 3] += delay
            self._queue_after(delay, file, i)
        elif step.signoff:
            self._at(0.0, self.keys.signoff_key(file.no, i, 0), self._sign_request, file, i, 0)
        else:
            self._step_done(now, file, i)

    def _sign_request(self, file: _File, i: int, level: int) -> None:
        queue, _ = self.steps[file.flow][i].signoff[level]
        self.queues[queue].request(self.env.now, self._sign_start, file, i, level)

    def _sign_start(self, now: float, file: _File, i: int, entered: float, level: int) -> None:
        _, column = self.steps[file.flow][i].signoff[level]
        d = file.draws[column]
        file.acc[4 * i + 2] += now - entered + d
        if self.log is not None:
            self.log.emit(SIGNOFF, file.no, file.k, file.flow, i, level, entered, now, now + d)
        self._after(d, self._signed, file, i, level)

    def _signed(self, file: _File, i: int, level: int) -> None:
        now = self.env.now
        signoff = self.steps[file.flow][i].signoff
        self.queues[signoff[level][0]].release(now)
        if level + 1 < len(signoff):
            self._at(0.0, self.keys.signoff_key(file.no, i, level + 1), self._sign_request, file, i, level + 1)
        else:
            self._step_done(now, file, i)

    def _step_done(self, now: float, file: _File, i: int) -> None:
        if now > file.t_last or (now == file.t_last and i < file.last):
            file.t_last = now
            file.last = i
        file.left -= 1
        if file.left == 0:
            self._at(0.0, self.keys.done_key(file.no), self._done, file)
            return
        for j, column in self.steps[file.flow][i].successors:
            file.handoffs += 1
            if self.log is not None:
                self.log.emit(HANDOFF, file.no, file.k, file.flow, i, j, now, now,
                              now + (file.draws[column] if column >= 0 else 0.0))
            if column < 0:
                self._handed(file, i, j, 0.0)
            else:
                delay = file.draws[column]
                self._after(delay, self._handed, file, i, j, delay)

    def _handed(self, file: _File, i: int, j: int, delay: float) -> None:
        now = self.env.now
        if now > file.t_ready[j] or (now == file.t_ready[j] and i < file.crit_pred[j]):
            file.t_ready[j] = now
            file.crit_pred[j] = i
            file.handoff_in[j] = delay
        file.pending[j] -= 1
        if file.pending[j] == 0:
            self._queue_after(0.0, file, j)

    def _done(self, file: _File) -> None:
        now = self.env.now
        run = self.run_input
        self._wip_change(now, -1)
        if self.log is not None:
            self.log.emit(DONE, file.no, file.k, file.flow, file.last, -1, file.t_arrive, file.t_arrive, now)
        if run.warmup <= now <= run.horizon:
            self.completed_in_window += 1
        if file.t_arrive < run.warmup:
            return
        self.measured_left -= 1
        # Walk the critical path back from the last step: its parts add up to the lead time.
        parts = [0.0] * 5  # waiting, processing, sign-off, hand-off, applicant
        i = file.last
        while i >= 0:
            parts[0] += file.acc[4 * i]
            parts[1] += file.acc[4 * i + 1]
            parts[2] += file.acc[4 * i + 2]
            parts[4] += file.acc[4 * i + 3]
            parts[3] += file.handoff_in[i]
            i = file.crit_pred[i]
        mine = self.flow_components[file.flow]
        for c, v in enumerate(parts):
            self.components[c] += v
            mine[c] += v
        visits = sum(file.visits)
        self.handoffs += file.handoffs
        self.visits += visits
        self.t_start.append(file.t_arrive)
        self.t_end.append(now)
        self.t_applicant.append(parts[4])
        self.flow_of.append(file.flow)
        if run.keep_records:
            self.records.append((file.flow, file.k, file.t_arrive, now, *parts, file.handoffs, visits))

    # ------------------------------------------------------------ the run
    def _reset_queues(self) -> None:
        for q in self.queues:
            q.reset(self.env.now)

    def _sample_wip(self, t: float) -> None:
        self.wip_samples.append((t, self.wip))

    def run(self) -> RunOutput:
        env, run = self.env, self.run_input
        self._start_arrivals()
        if run.window_start > 0:
            self._after(run.window_start, self._reset_queues)
        for t in run.sample_times.tolist():
            self._after(t, self._sample_wip, t)
        env.run(until=run.horizon)
        for q in self.queues:
            q.advance(run.horizon)
        self._wip_change(run.horizon, 0)
        backlog = self.wip
        busy = np.array([q.busy_area for q in self.queues])
        waiting = np.array([q.queue_area for q in self.queues])
        # Let the applications that arrived in the window finish, so that lead
        # times are not censored; a stable system drains well within a window.
        drain_until = run.horizon + (run.horizon - run.warmup)
        while self.measured_left > 0 and env.peek() < drain_until:
            env.step()
        if self.log is not None:
            self.log.flush()
        return RunOutput(
            t_start=np.array(self.t_start, dtype=float), t_end=np.array(self.t_end, dtype=float),
            applicant_days=np.array(self.t_applicant, dtype=float),
            flow_index=np.array(self.flow_of, dtype=np.uint16),
            component_totals=tuple(self.components),
            flow_component_totals=np.array(self.flow_components, dtype=np.float64).reshape(-1, 5),
            handoffs=self.handoffs, visits=self.visits,
            arrived=self.arrived, completed_in_window=self.completed_in_window, backlog=backlog,
            in_system_area=self.wip_area, wip_samples=tuple(self.wip_samples), truncated=self.truncated,
            drained=self.measured_left == 0, busy_area=busy, queue_area=waiting, records=tuple(self.records),
        )


def run_simpy(run: RunInput) -> RunOutput:
    """One replication of ``run`` on SimPy's clock."""
    return _SimPyRun(run).run()

