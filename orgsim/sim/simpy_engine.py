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
from heapq import heappop, heappush
from collections.abc import Callable
from typing import Any

import numpy as np
import simpy
from simpy.events import NORMAL, URGENT

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


class Urgent(_Call):
    """A call before every other event at its time (SimPy's URGENT priority; in order of scheduling)."""

    def __init__(self, env: simpy.Environment, at: float, fn: Callable[..., None], *args: object) -> None:
        super().__init__(env, at - env.now, lambda *a: fn(env.now, *a), args, URGENT)


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


#: Priority of a queue's dispatch: after every service end (NORMAL) at its time, before every
#: canonical event (requests), so that servers falling free at one time are all idle by then.
DISPATCH = NORMAL + 1


class _TimedQueue:
    """Servers that come and go (tenures), with a first-in first-out line (a timeline run).

    A server joins at its tenure's start and leaves at its end, or, when busy
    then, as it finishes its file. Idle servers are taken longest idle first,
    then lowest tenure; so servers falling free at one time (ends, joins) do
    not take waiting files one by one as their events come, but together in
    a dispatch after them (the FIFO loop's rule: earliest free, then lowest
    tenure; tenures differ in their learning curves). Line entries are
    ``(start, file, step, entered, what, at, key)``: ``start(now, entry, tenure)``
    is called when a server takes the file; ``at`` and ``key`` say where the
    file goes at a change of phase and in which order.
    """

    __slots__ = ("idle", "busy", "line", "last", "busy_area", "queue_area", "env", "dispatching")

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.dispatching = False
        self.idle: list[tuple[float, int]] = []
        self.busy = 0
        self.line: deque[tuple] = deque()
        self.last = 0.0
        self.busy_area = 0.0
        self.queue_area = 0.0

    def advance(self, now: float) -> None:
        dt = now - self.last
        if dt:
            self.busy_area += dt * self.busy
            self.queue_area += dt * len(self.line)
            self.last = now

    def request(self, now: float, entry: tuple) -> None:
        self.advance(now)
        if self.idle:
            _, k = heappop(self.idle)
            self.busy += 1
            entry[0](now, entry, k)
        else:
            self.line.append(entry)

    def _free(self, now: float, k: int) -> None:
        """Server ``k`` is idle from ``now``; waiting files are dispatched after every server freed now."""
        heappush(self.idle, (now, k))
        if self.line and not self.dispatching:
            self.dispatching = True
            _Call(self.env, 0.0, self._dispatch, (), DISPATCH)

    def _dispatch(self) -> None:
        now = self.env.now
        self.dispatching = False
        self.advance(now)
        while self.line and self.idle:
            _, k = heappop(self.idle)
            self.busy += 1
            entry = self.line.popleft()
            entry[0](now, entry, k)

    def join(self, now: float, k: int) -> None:
        self.advance(now)
        self._free(now, k)

    def leave(self, now: float, k: int) -> None:
        self.advance(now)
        self.idle = [x for x in self.idle if x[1] != k]  # busy: it leaves when it finishes
        self.idle.sort()

    def release(self, now: float, k: int, until: float) -> None:
        self.advance(now)
        self.busy -= 1
        if now < until:
            self._free(now, k)

    def reset(self, now: float) -> None:
        self.advance(now)
        self.busy_area = self.queue_area = 0.0


class _Step:
    """A step of a project type, read from the RunInput's arrays."""

    __slots__ = ("queue", "combine", "factor", "service", "rework", "signoff", "successors", "reach", "rework_to",
                 "redo", "every_service", "every_rework")

    def __init__(self, run: RunInput, g: int) -> None:
        def entries(start: np.ndarray, *columns: np.ndarray) -> list[tuple]:
            return list(zip(*(c[start[g]:start[g + 1]].tolist() for c in columns), strict=True))

        self.queue = int(run.step_queue[g])
        self.combine = int(run.step_combine[g])
        self.factor = float(run.step_factor[g])
        #: (column in the first-visit row, revisit stream, condition) per function
        self.service = entries(run.step_service_start, run.service_column, run.service_stream, run.service_condition)
        #: (column, revisit stream, probability, condition) per function that may send the file back
        self.rework = entries(run.step_rework_start, run.rework_column, run.rework_stream, run.rework_probability,
                              run.rework_condition)
        #: the same, for a file that needs every function: (column, stream), (column, stream, probability)
        self.every_service = [(column, stream) for column, stream, _ in self.service]
        self.every_rework = [(column, stream, p) for column, stream, p, _ in self.rework]
        #: (leaders' queue, column, second-round stream) per sign-off level, lowest first
        self.signoff = entries(run.step_signoff_start, run.signoff_queue, run.signoff_column, run.signoff_redraw)
        #: the steps that wait for this one
        self.successors = [j for j, _ in entries(run.step_successor_start, run.successor_step, run.successor_column)]
        #: every step a file may be handed to from this one, in the order of second-round draws:
        #: k -> (column of the delay or -1, second-round stream)
        self.reach = {k: (c, s) for k, c, s in entries(run.step_reach_start, run.reach_step, run.reach_column,
                                                        run.reach_redraw)}
        self.rework_to = int(run.step_rework_to[g])
        #: the steps done again when this one sends a file back to rework_to
        self.redo = [y for y, _ in entries(run.step_redo_start, run.redo_step, run.redo_pending)]


class _File:
    """One application in the system, with the path it takes through the steps it needs."""

    __slots__ = ("flow", "k", "no", "t_arrive", "draws", "needs", "needed", "after", "before", "pending", "fired",
                 "left", "comp", "cand", "visits", "rounds", "handoffs", "t_ready", "crit_pred", "t_last", "last",
                 "ahead")

    def __init__(self, flow: int, k: int, no: int, t_arrive: float, draws: list[float], needs: list[bool],
                 needed: list[bool], steps: list[_Step],
                 paths: tuple[list[list[int]], list[list[int]]]) -> None:
        n = len(steps)
        self.flow = flow
        self.k = k  # the k-th applicant of its project type
        self.no = no  # the no-th admitted in the run: orders simultaneous events
        self.t_arrive = t_arrive
        self.draws = draws  # its first-visit row
        self.needs = needs  # per condition of its project type: met or not
        self.needed = needed  # per step
        # after[i]: the needed steps the file goes to from needed step i (through
        # those it skips), in the order of the step's reach list; before[k]: the
        # needed steps it comes to k from (read only: shared by the files that need every step).
        self.after, self.before = paths
        self.pending = [len(self.before[i]) for i in range(n)]
        self.fired: set[tuple[int, int]] = set()  # pairs handed across (again after a send-back redoing both)
        self.left = sum(needed)
        # comp[i]: the parts (waiting, processing, sign-off, hand-off, applicant) of
        # the path up to where step i is; cand[i]: those through the step that handed
        # it the file last (crit_pred[i]), when it did (t_ready[i]).
        self.comp = [[0.0] * 5 for _ in range(n)]
        self.cand: list[list[float]] = [[]] * n  # each made by the hand-off that sets it
        self.visits = [0] * n
        self.rounds = [0] * n  # times each step was completed
        self.handoffs = 0
        self.t_ready = [-1.0] * n
        self.crit_pred = [-1] * n
        # The latest step end so far (last is that step); ties go to the lower
        # step index, so that the result does not depend on event order.
        self.t_last = -1.0
        self.last = -1
        # ahead[i]: the hand-offs (step, delay) step i makes when its round ends, drawn
        # when the file reached the queue whose end decides it.
        self.ahead: dict[int, list[tuple[int, float]]] = {}


def _paths(needed: list[bool], steps: list[_Step]) -> tuple[list[list[int]], list[list[int]]]:
    """For each step, the needed steps the file goes to from it (``after``) and comes to it from (``before``)."""
    n = len(steps)
    after: list[list[int]] = [[] for _ in range(n)]
    before: list[list[int]] = [[] for _ in range(n)]
    for i in range(n):
        if needed[i]:
            reached = _reached(i, needed, steps)
            after[i] = [x for x in steps[i].reach if x in reached]
            for x in after[i]:
                before[x].append(i)
    return after, before


def _reached(i: int, needed: list[bool], steps: list[_Step]) -> set[int]:
    """The needed steps a file reaches from step ``i``: its successors, and past those it skips."""
    out: set[int] = set()
    seen: set[int] = set()
    todo = list(steps[i].successors)
    while todo:
        j = todo.pop()
        if j in seen:
            continue
        seen.add(j)
        if needed[j]:
            out.add(j)
        else:
            todo.extend(steps[j].successors)
    return out


class _SimPyRun:
    """One replication on SimPy's event loop."""

    def __init__(self, run: RunInput) -> None:
        self.run_input = run
        self.env = _Clock()
        self.keys = fifo_engine.LOOP  # the canonical order of simultaneous events
        self.timed = run.timed
        self.queues: list[Any] = [_TimedQueue(self.env) for _ in range(run.n_queues)] if self.timed else \
            [_Queue(n) for n in run.queue_servers.tolist()]
        self.stretch = run.queue_stretch.tolist()
        first = run.flow_first_step.tolist()
        self.steps = [[_Step(run, g) for g in range(first[f], first[f + 1])] for f in range(run.n_flows)]
        self.roots = [run.root_step[run.flow_root_start[f]:run.flow_root_start[f + 1]].tolist()
                      for f in range(run.n_flows)]
        self.rows: list[list[list[float]]] = [[] for _ in range(run.n_flows)]
        # The paths of a file that needs every step, made once per project type.
        self.full_paths = [_paths([True] * len(steps), steps) for steps in self.steps]
        self.every_step = [[True] * len(steps) for steps in self.steps]
        self.reworks_none = [all(step.rework_to < 0 for step in steps) for steps in self.steps]
        self.applicants = [0] * run.n_flows
        # Attributes (column, probability) and conditions (attribute, column, probability) per project type.
        a, c = run.flow_attribute_start.tolist(), run.flow_condition_start.tolist()
        self.attributes = [list(zip(run.attribute_column[a[f]:a[f + 1]].tolist(),
                                    run.attribute_probability[a[f]:a[f + 1]].tolist(), strict=True))
                           for f in range(run.n_flows)]
        self.conditions = [list(zip(run.condition_attribute[c[f]:c[f + 1]].tolist(),
                                    run.condition_column[c[f]:c[f + 1]].tolist(),
                                    run.condition_probability[c[f]:c[f + 1]].tolist(), strict=True))
                           for f in range(run.n_flows)]
        # Accounts.
        self.admitted = 0
        self.wip = 0
        self.wip_area = 0.0
        self.wip_last = 0.0
        self.measured_left = 0
        self.in_system = 0
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

    def _version(self, f: int) -> int:
        """The version of project type ``f`` for an application filed now (a timeline's phase)."""
        run = self.run_input
        if self.timed:
            while run.flow_next[f] >= 0 and self.env.now >= run.flow_until[f]:
                f = int(run.flow_next[f])
        return f

    def _poisson_arrival(self, f: int) -> None:
        if self.env.now >= self.run_input.horizon:
            return
        self._arrive(self._version(f))
        gaps = self.run_input.arrival_gaps[f]
        assert gaps is not None  # a project type with Poisson arrivals
        self._at(gaps.take(), self.keys.arrival_key(f), self._poisson_arrival, f)

    def _trace_arrival(self, f: int, i: int) -> None:
        now, horizon = self.env.now, self.run_input.horizon
        times = self.run_input.arrival_traces[f]
        assert times is not None  # a project type with traced arrivals
        while i < len(times) and times[i] <= now:
            if times[i] < horizon:
                self._arrive(self._version(f))
            i += 1
        if i < len(times) and times[i] < horizon:
            self._at(float(times[i]) - now, self.keys.arrival_key(f), self._trace_arrival, f, i)

    def _wip_change(self, now: float, delta: int) -> None:
        warmup = self.run_input.warmup
        if now > warmup:
            self.wip_area += (now - max(self.wip_last, warmup)) * self.wip
        self.wip_last = now
        self.wip += delta

    def _needs(self, f: int, draws: list[float]) -> tuple[list[bool], list[bool]]:
        """Which conditions an application meets, and which steps it needs (from its row)."""
        true = [draws[column] < p for column, p in self.attributes[f]]
        needs = [(a < 0 or true[a]) and (column < 0 or draws[column] < p) for a, column, p in self.conditions[f]]
        needed = [any(c < 0 or needs[c] for _, _, c in step.service) for step in self.steps[f]]
        return needs, needed

    def _arrive(self, f: int) -> None:
        now = self.env.now
        k = self.applicants[f]
        self.applicants[f] += 1
        if not self.admitting:
            return
        if not self.rows[f]:  # the project type's first-visit rows, a block at a time, next one last
            self.rows[f] = self.run_input.first_visit[f].block().tolist()[::-1]
        draws = self.rows[f].pop()
        if self.conditions[f]:
            needs, needed = self._needs(f, draws)
        else:  # it needs every step (read only: shared by the project type's files)
            needs, needed = [], self.every_step[f]
        paths = self.full_paths[f] if all(needed) else _paths(needed, self.steps[f])
        file = _File(f, k, self.admitted, now, draws, needs, needed, self.steps[f], paths)
        self.admitted += 1
        # Approvals make the pooled accounts; case types are measured on their own. The
        # safety limit counts every file in the system.
        pooled = bool(self.run_input.flow_pooled[f])
        if pooled:
            self._wip_change(now, +1)
        if now >= self.run_input.warmup:
            self.arrived += pooled
            self.measured_left += 1
        self.in_system += 1
        if self.in_system >= self.run_input.max_in_system:
            self.admitting = False
            self.truncated = True
        if file.left == 0:  # it needs none of the steps
            self._at(0.0, self.keys.done_key(file.no), self._done, file)
            return
        # The first steps it needs: those it does not come to from another.
        for i in range(len(needed)):
            if needed[i] and not file.before[i]:
                self._queue_after(0.0, file, i)

    # ------------------------------------------------------------ one step
    def _queue_after(self, delay: float, file: _File, i: int) -> None:
        self._at(delay, self.keys.officers_key(file.no, i), self._request, file, i)

    def _request(self, file: _File, i: int) -> None:
        # The visit is drawn when the file reaches the queue; so are the hand-offs
        # it will make, when this queue's end is the end of the step's round.
        visit = self._visit(file, i)
        if visit[1] < 0 and not self.steps[file.flow][i].signoff:
            self._draw_ahead(file, i)
        if self.timed:
            g = int(self.run_input.flow_first_step[file.flow]) + i
            self._timed_request((self._t_serve, file, i, self.env.now, visit, ("step", g),
                                 self.keys.officers_key(file.no, i)))
            return
        self.queues[self.steps[file.flow][i].queue].request(self.env.now, self._serve, file, i, visit)

    def _visit(self, file: _File, i: int) -> tuple[float, float]:
        """Draw a visit of ``file`` to step ``i``: (working time, resubmission delay, or -1: the file goes on)."""
        run, step = self.run_input, self.steps[file.flow][i]
        first = file.visits[i] == 0
        file.visits[i] += 1
        if file.needs:  # only the functions this file needs
            service = [(column, stream) for column, stream, c in step.service if c < 0 or file.needs[c]]
            rework = [(column, stream, p) for column, stream, p, c in step.rework if c < 0 or file.needs[c]]
        else:
            service, rework = step.every_service, step.every_rework
        if first:  # from the application's row (common random numbers)
            times = [file.draws[column] for column, _ in service]
            back = any(file.draws[column] < p for column, _, p in rework)
        else:  # from the revisit streams, in the order files reach the queue
            times = [run.revisit_service[stream].take() for _, stream in service]
            draws = [run.revisit_rework[stream].take() < p for _, stream, p in rework]  # all of them, always
            back = any(draws)
        if len(times) == 1:
            work = times[0]
        elif step.combine == COMBINE_MAX:
            work = max(times)
        elif step.combine == COMBINE_SUM:
            work = sum(times)
        else:
            work = sum(times) * step.factor
        if not self.timed:
            work = work * self.stretch[step.queue]
        delay = -1.0
        if back:
            resubmission = run.resubmission[file.flow]
            delay = 0.0 if resubmission is None else resubmission.take() * float(run.flow_delay_factor[file.flow])
        return work, delay

    def _draw_ahead(self, file: _File, i: int) -> None:
        """The hand-offs step ``i`` will make at the end of this round, with their delays: to each step it
        reaches that it has not handed the file to (since a send-back that redoes both)."""
        step = self.steps[file.flow][i]
        first = file.rounds[i] == 0
        out = []
        for k in file.after[i]:
            if (i, k) in file.fired:
                continue
            file.fired.add((i, k))
            column, stream = step.reach[k]
            if column < 0:
                delay = 0.0
            elif first:
                delay = file.draws[column]
            else:
                delay = self.run_input.redraw[stream].take()
            out.append((k, delay))
        file.ahead[i] = out

    def _serve(self, now: float, file: _File, i: int, entered: float, visit: tuple[float, float]) -> None:
        work, delay = visit
        file.comp[i][0] += now - entered
        file.comp[i][1] += work
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
        self._after_service(now, file, i, delay)

    def _after_service(self, now: float, file: _File, i: int, delay: float) -> None:
        step = self.steps[file.flow][i]
        if delay >= 0:
            if step.rework_to < 0:  # back to the applicant, then to the same step
                file.comp[i][4] += delay
                self._queue_after(delay, file, i)
            else:
                self._send_back(file, i, delay)
        elif step.signoff:
            self._at(0.0, self.keys.signoff_key(file.no, i, 0), self._sign_request, file, i, 0)
        else:
            self._step_done(now, file, i)

    def _send_back(self, file: _File, i: int, delay: float) -> None:
        """Back to the applicant, then to an earlier step: the steps between start a new round.

        The file is handed across each pair of them again; pairs from other
        steps into them stay handed across (those steps are not done again).
        """
        base = list(file.comp[i])
        base[4] += delay
        again = [y for y in self.steps[file.flow][i].redo if file.needed[y]]
        file.left += len(again) - 1  # all done but this one, and to be done again
        redone = set(again)
        file.fired -= {(x, y) for x, y in file.fired if x in redone and y in redone}
        for y in again:
            file.t_ready[y] = -1.0
            file.crit_pred[y] = -1
        for y in again:
            file.pending[y] = sum(1 for x in file.before[y] if x in again)
        for y in again:
            if file.pending[y] == 0:  # the target, or the first steps after it that this file needs
                file.comp[y] = list(base)
                self._queue_after(delay, file, y)

    def _sign_request(self, file: _File, i: int, level: int) -> None:
        queue, column, stream = self.steps[file.flow][i].signoff[level]
        d = file.draws[column] if file.rounds[i] == 0 else self.run_input.redraw[stream].take()
        if level + 1 == len(self.steps[file.flow][i].signoff):
            self._draw_ahead(file, i)
        if self.timed:
            m = int(self.run_input.step_signoff_start[int(self.run_input.flow_first_step[file.flow]) + i]) + level
            self._timed_request((self._t_sign, file, i, self.env.now, (level, d), ("signoff", m),
                                 self.keys.signoff_key(file.no, i, level)))
            return
        self.queues[queue].request(self.env.now, self._sign_start, file, i, (level, d))

    def _sign_start(self, now: float, file: _File, i: int, entered: float, what: tuple[int, float]) -> None:
        level, d = what
        file.comp[i][2] += now - entered + d
        if self.log is not None:
            self.log.emit(SIGNOFF, file.no, file.k, file.flow, i, level, entered, now, now + d)
        self._after(d, self._signed, file, i, level)

    def _signed(self, file: _File, i: int, level: int) -> None:
        now = self.env.now
        signoff = self.steps[file.flow][i].signoff
        self.queues[signoff[level][0]].release(now)
        self._after_signoff(now, file, i, level)

    def _after_signoff(self, now: float, file: _File, i: int, level: int) -> None:
        signoff = self.steps[file.flow][i].signoff
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
        file.rounds[i] += 1
        # As it is now: after a send-back to an earlier step, the step may start again before a
        # hand-off arrives (a project type that sends none back never changes it again).
        path = file.comp[i] if self.reworks_none[file.flow] else list(file.comp[i])
        for k, delay in file.ahead.pop(i):
            file.handoffs += 1
            if self.log is not None:
                self.log.emit(HANDOFF, file.no, file.k, file.flow, i, k, now, now, now + delay)
            if self.steps[file.flow][i].reach[k][0] < 0:
                self._handed(file, i, k, 0.0, path)
            else:
                self._after(delay, self._handed, file, i, k, delay, path)

    def _handed(self, file: _File, i: int, k: int, delay: float, path: list[float]) -> None:
        now = self.env.now
        if now > file.t_ready[k] or (now == file.t_ready[k] and i < file.crit_pred[k]):
            file.t_ready[k] = now
            file.crit_pred[k] = i
            file.cand[k] = list(path)
            file.cand[k][3] += delay
        file.pending[k] -= 1
        if file.pending[k] == 0:
            file.comp[k] = file.cand[k]  # a new round's hand-off makes a new candidate list
            self._queue_after(0.0, file, k)

    def _done(self, file: _File) -> None:
        now = self.env.now
        run = self.run_input
        pooled = bool(run.flow_pooled[file.flow])
        self.in_system -= 1
        if pooled:
            self._wip_change(now, -1)
            if run.warmup <= now <= run.horizon:
                self.completed_in_window += 1
        if self.log is not None:
            self.log.emit(DONE, file.no, file.k, file.flow, file.last, -1, file.t_arrive, file.t_arrive, now)
        if file.t_arrive < run.warmup:
            return
        self.measured_left -= 1
        # The parts of the path through the last step: they add up to the lead time.
        parts = list(file.comp[file.last]) if file.last >= 0 else [0.0] * 5
        visits = sum(file.visits)
        mine = self.flow_components[file.flow]  # every type's own sums, case types too
        for c, v in enumerate(parts):
            mine[c] += v
        if pooled:
            for c, v in enumerate(parts):
                self.components[c] += v
            self.handoffs += file.handoffs
            self.visits += visits
        self.t_start.append(file.t_arrive)
        self.t_end.append(now)
        self.t_applicant.append(parts[4])
        self.flow_of.append(file.flow)
        if run.keep_records:
            self.records.append((file.flow, file.k, file.t_arrive, now, *parts, file.handoffs, visits))

    # ------------------------------------------------------------ a programme over time
    def _phase(self) -> int:
        run, now, p = self.run_input, self.env.now, 0
        while p + 1 < run.n_phases and run.phase_start[p + 1] <= now:
            p += 1
        return p

    def _queue_of(self, where: tuple[str, int], p: int) -> int:
        kind, index = where
        at = self.run_input.step_queue_at if kind == "step" else self.run_input.signoff_queue_at
        return int(at[index * self.run_input.n_phases + p])

    def _timed_request(self, entry: tuple) -> None:
        self.queues[self._queue_of(entry[5], self._phase())].request(self.env.now, entry)

    def _pace(self, q: int, k: int) -> float:
        """Elapsed time per unit of work at queue ``q`` now, on tenure ``k`` (the phase's pace, the learning curve)."""
        run, now = self.run_input, self.env.now
        stretch = float(run.queue_stretch_at[q * run.n_phases + self._phase()])
        if run.learn_days > 0:
            x = (now - float(run.tenure_hired[k])) / run.learn_days
            if x < 1:
                stretch = stretch / (run.learn_start + (1.0 - run.learn_start) * x)
        return stretch

    def _t_serve(self, now: float, entry: tuple, k: int) -> None:
        _, file, i, entered, (raw, delay), where, _ = entry
        q = self._queue_of(where, self._phase())
        work = raw * self._pace(q, k)
        file.comp[i][0] += now - entered
        file.comp[i][1] += work
        self._after(work, self._t_served, file, i, delay, q, k)

    def _t_served(self, file: _File, i: int, delay: float, q: int, k: int) -> None:
        now = self.env.now
        self.queues[q].release(now, k, float(self.run_input.tenure_to[k]))
        self._after_service(now, file, i, delay)

    def _t_sign(self, now: float, entry: tuple, k: int) -> None:
        _, file, i, entered, (level, d), where, _ = entry
        q = self._queue_of(where, self._phase())
        work = d * self._pace(q, k)
        file.comp[i][2] += now - entered + work
        self._after(work, self._t_signed, file, i, level, q, k)

    def _t_signed(self, file: _File, i: int, level: int, q: int, k: int) -> None:
        now = self.env.now
        self.queues[q].release(now, k, float(self.run_input.tenure_to[k]))
        self._after_signoff(now, file, i, level)

    def _change(self, now: float, p: int) -> None:
        """Phase ``p`` begins: files waiting where their function no longer is move to its new queue."""
        for q, queue in enumerate(self.queues):
            queue.advance(now)
            stay: deque[tuple] = deque()
            for entry in queue.line:
                if self._queue_of(entry[5], p) == q:
                    stay.append(entry)
                else:
                    self._at(0.0, entry[6], self._timed_request, entry)
            queue.line = stay

    def _start_timed(self) -> None:
        """Changes of phase first, then tenures joining and leaving: before anything else at their times."""
        run = self.run_input
        for p in range(1, run.n_phases):
            Urgent(self.env, float(run.phase_start[p]), self._change, p)
        for k, (q, start, end) in enumerate(zip(run.tenure_queue.tolist(), run.tenure_from.tolist(),
                                                 run.tenure_to.tolist(), strict=True)):
            Urgent(self.env, max(start, 0.0), self.queues[q].join, k)
            if end < float("inf"):
                Urgent(self.env, end, self.queues[q].leave, k)

    # ------------------------------------------------------------ the run
    def _reset_queues(self) -> None:
        for q in self.queues:
            q.reset(self.env.now)

    def _sample_wip(self, t: float) -> None:
        self.wip_samples.append((t, self.wip))

    def run(self) -> RunOutput:
        env, run = self.env, self.run_input
        if self.timed:
            self._start_timed()
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

