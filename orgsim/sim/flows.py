"""What both engines share: project types and applications at run time, and the accounts.

An engine decides *when* things happen; this module decides *what* an
application draws and how a finished one is booked, so the two engines
(:mod:`orgsim.sim.fifo_engine`, the default, and :mod:`orgsim.sim.simpy_engine`,
the reference) consume the same random numbers in the same order and give
the same results.

Random numbers follow the common-random-numbers discipline of
:mod:`orgsim.sim.streams`: the k-th applicant of a project type draws its
first-visit service time and rework chance of function f, its sign-off times
and its hand-off delays from streams named after the project type and the
function, at position k, whatever the organisation looks like. Draws for a
second visit and resubmission delays come from their own streams in the
order in which applications reach the queue.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping

import numpy as np

from orgsim.errors import SimulationError
from orgsim.sim.plan import FlowPlan, Plan, StepPlan
from orgsim.sim.results import COMPONENTS
from orgsim.sim.streams import BlockStream, RandomStreams

__all__ = ["Step", "Flow", "App", "Accounts", "arrival_gaps", "event_key", "MAX_WORK_IN_PROGRESS",
           "DONE", "ARRIVAL", "OFFICERS", "SIGNOFF"]

#: Applications in the system at which a run stops admitting new ones: the
#: system is unstable and more would only cost memory.
MAX_WORK_IN_PROGRESS = 50_000

# Events that fall at the same time (zero hand-off delays, fixed times, several
# applications on one trace date) are taken in one canonical order, by
# event_key, in every engine: the engines then agree however they came to
# schedule them. Ranks: finished applications, new ones, arrivals at officers,
# at sign-off.
DONE, ARRIVAL, OFFICERS, SIGNOFF = 1, 2, 3, 4
MAX_STEPS = 4095
MAX_LEVELS = 15


def event_key(rank: int, who: int, step: int = 0, level: int = 0) -> int:
    """The order among simultaneous events: rank, then application (or project type), step, level.

    Fits in 63 bits: ``who`` (the application's admission number) below 2**40.
    """
    return (rank << 56) | (who << 16) | (step << 4) | level


class Step:
    """Run-time form of a step: its queue, leaders, and where its draws are, resolved once.

    ``svc`` and ``so`` are positions in an application's row of first-visit
    draws (see :class:`Flow`); ``rework`` holds (position of the rework
    chance, function index, probability) for each function that may send
    the file back; ``fidx`` indexes the flow's revisit streams.
    """

    __slots__ = ("plan", "pool", "fidx", "svc", "single", "combine", "stretch", "rework", "leaders", "so")

    def __init__(self, plan: StepPlan, pool: object, fidx: tuple[int, ...], svc: tuple[int, ...],
                 rework: tuple[tuple[int, int, float], ...], leaders: tuple[object, ...],
                 so: tuple[int, ...], availability: float) -> None:
        self.plan = plan
        self.pool = pool
        self.fidx = fidx
        self.svc = svc
        self.single = len(fidx) == 1
        self.combine = plan.combine
        self.stretch = 1.0 / availability
        self.rework = rework
        self.leaders = leaders
        self.so = so


class Flow:
    """Run-time state of one project type: its steps and its named streams.

    The first-visit draws of an application (service time and rework chance
    of each function, sign-off times, hand-off delays) are one row of a
    :class:`~orgsim.sim.streams.RowStream`, each column a named source.
    ``pools`` maps pool keys to the engine's own queue objects, which the
    steps carry so that an engine finds its queue without a lookup.
    """

    def __init__(self, plan: FlowPlan, run_plan: Plan, streams: RandomStreams, pools: Mapping[str, object],
                 index: int) -> None:
        self.plan = plan
        self.index = index
        self.n = 0
        h, fid = run_plan.hours_per_day, plan.id

        def draw(dist):  # noqa: ANN001, ANN202 - sampler in working days
            return lambda rng, n: dist.draw(rng, n, h)

        def uniform(rng, n):  # noqa: ANN001, ANN202
            return rng.random(n)

        dists: dict[str, object] = {}
        for st in plan.steps:
            for f, d in zip(st.functions, st.service):
                dists.setdefault(f, d)
        functions = list(dists)
        nf = len(functions)
        index_of = {f: k for k, f in enumerate(functions)}
        # Sources are named after (project type, function), never after their
        # position, so a reform that adds or merges steps keeps everyone else's draws.
        sources: list[tuple[object, tuple[str, ...]]] = []
        names: set[tuple[str, ...]] = set()

        def column(fill, *name: str) -> int:  # noqa: ANN001
            base, n = name, 2
            while name in names:  # the same name twice in one project type: number the repeats
                name, n = base + (f"#{n}",), n + 1
            names.add(name)
            sources.append((fill, name))
            return len(sources) - 1

        for f in functions:
            column(draw(dists[f]), "service", fid, f)
        for f in functions:
            column(uniform, "rework", fid, f)
        self.revisit_service = [streams.stream(draw(dists[f]), "revisit_service", fid, f) for f in functions]
        self.revisit_rework = [streams.stream(uniform, "revisit_rework", fid, f) for f in functions]
        so = run_plan.signoff_time
        self.steps: list[Step] = []
        for st in plan.steps:
            so_pos: list[int] = []
            leaders: tuple[object, ...] = ()
            if so is not None:
                leaders = tuple(pools[k] for k in st.signoff)
                so_pos = [column(draw(so), "signoff", fid, st.functions[0], str(level))
                          for level in range(len(st.signoff))]
            fidx = tuple(index_of[f] for f in st.functions)
            rework = tuple((nf + f, f, p) for f, p in zip(fidx, st.rework) if p > 0)
            self.steps.append(Step(
                st, pools[st.pool], fidx, fidx, rework, leaders, tuple(so_pos),
                run_plan.pools[st.pool].availability,
            ))
        #: successors[i]: (step j, position of the hand-off delay in the row, or -1 for none).
        self.successors: list[tuple[tuple[int, int], ...]] = []
        for i, succ in enumerate(plan.successors):
            out = []
            for j, kind in succ:
                dist = run_plan.handoff[kind]
                k = -1
                if dist is not None:
                    k = column(draw(dist), "handoff", fid, plan.steps[i].functions[0], plan.steps[j].functions[0], kind)
                out.append((j, k))
            self.successors.append(tuple(out))
        self.first_visit = streams.rows(sources)  # type: ignore[arg-type]
        rs = run_plan.resubmission_delay
        self.resubmit = None if rs is None else streams.stream(draw(rs), "resubmission", fid)
        self.n_steps = len(plan.steps)
        self.n_predecessors = list(plan.n_predecessors)
        if self.n_steps > MAX_STEPS or any(len(st.leaders) > MAX_LEVELS for st in self.steps):
            raise SimulationError(f"project type {fid!r}: more than {MAX_STEPS} steps or {MAX_LEVELS} "
                                  "sign-off levels in a step")

    def visit(self, app: "App", i: int) -> tuple[float, float]:
        """Draw one visit of ``app`` to step ``i``: (working time, resubmission delay or -1).

        A delay of -1 means the file is complete and goes on; otherwise it
        comes back to the same step after that delay.
        """
        step = self.steps[i]
        visit = app.visits[i]
        app.visits[i] = visit + 1
        d = app.draws
        if visit == 0:
            if step.single:
                work = d[step.svc[0]]
            else:
                work = _combine([d[k] for k in step.svc], step.combine)
            back = False
            for k, _, p in step.rework:
                if d[k] < p:
                    back = True
        else:
            if step.single:
                work = self.revisit_service[step.fidx[0]].take()
            else:
                work = _combine([self.revisit_service[f].take() for f in step.fidx], step.combine)
            back = False
            for _, f, p in step.rework:
                # Draw for every function (no short cut) so stream positions never depend on order.
                if self.revisit_rework[f].take() < p:
                    back = True
        delay = -1.0
        if back:
            delay = 0.0 if self.resubmit is None else self.resubmit.take() * self.plan.delay_factor
        return work * step.stretch, delay


def _combine(times: list[float], combine: str | float) -> float:
    if combine == "max":
        return max(times)
    total = sum(times)
    return total if combine == "sum" else total * float(combine)


class App:
    """One application in the system; per-step accounts live in flat lists."""

    __slots__ = ("flow", "k", "no", "t_arrive", "pending", "left", "draws",
                 "acc", "handoff_in", "crit_pred", "visits", "handoffs", "t_ready", "t_last", "last")

    def __init__(self, flow: Flow, k: int, no: int, t_arrive: float) -> None:
        n = flow.n_steps
        self.flow = flow
        self.k = k  # the k-th applicant of its project type
        self.no = no  # the no-th admitted in the run: orders simultaneous events
        self.t_arrive = t_arrive
        self.pending = flow.n_predecessors.copy()
        self.left = n
        self.draws = flow.first_visit.take()  # all first-visit draws (common random numbers)
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

    def hand_over(self, i: int, j: int, at: float, delay: float) -> bool:
        """Step i hands the file to step j, arriving ``at``; True when j has all it waits for."""
        if at > self.t_ready[j] or (at == self.t_ready[j] and i < self.crit_pred[j]):
            self.t_ready[j] = at
            self.crit_pred[j] = i
            self.handoff_in[j] = delay
        self.pending[j] -= 1
        return self.pending[j] == 0

    def step_ends(self, i: int, at: float) -> bool:
        """Step i ends ``at``; True when it is the application's last step to end."""
        if at > self.t_last or (at == self.t_last and i < self.last):
            self.t_last = at
            self.last = i
        self.left -= 1
        return self.left == 0


def arrival_gaps(streams: RandomStreams, flow: FlowPlan) -> BlockStream:
    """Exponential gaps between arrivals of a project type with Poisson arrivals."""
    rate = flow.rate_per_day
    return streams.stream(lambda rng, n: rng.exponential(1.0 / rate, n), "arrivals", flow.id)


class Accounts:
    """What a run measures, and the booking of each finished application.

    Both engines subclass this, so a finished application is booked by the
    same code whichever engine ran it.
    """

    def __init__(self, plan: Plan, streams: RandomStreams, horizon: float, warmup: float,
                 keep_records: bool, pools: Mapping[str, object]) -> None:
        self.plan = plan
        self.streams = streams
        self.horizon = horizon
        self.warmup = warmup
        self.keep_records = keep_records
        self.pools = pools
        self.flows = [Flow(f, plan, streams, pools, k) for k, f in enumerate(plan.flows)]
        self.admitted = 0
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
        self.backlog = 0
        self.drained = False
        self.pool_stats: list = []

    def first_arrivals(self, arrival_times: dict[str, np.ndarray]) -> list[tuple[float, Flow, object]]:
        """(first arrival time, project type, its trace times or its Poisson gaps), per project type."""
        out: list[tuple[float, Flow, object]] = []
        for flow in self.flows:
            times = arrival_times.get(flow.plan.id)
            if times is not None:
                if len(times) and times[0] < self.horizon:
                    out.append((float(times[0]), flow, times))
            elif flow.plan.rate_per_day > 0:
                gaps = arrival_gaps(self.streams, flow.plan)
                out.append((gaps.take(), flow, gaps))
        return out

    def sample_times(self, n_samples: int = 20) -> list[float]:
        """Times of the work-in-progress samples across the window."""
        return [self.warmup + (self.horizon - self.warmup) * m / n_samples for m in range(n_samples + 1)]

    def wip_change(self, now: float, delta: int) -> None:
        if now > self.warmup:
            since = self.wip_last if self.wip_last > self.warmup else self.warmup
            self.wip_area += (now - since) * self.wip
        self.wip_last = now
        self.wip += delta

    def admit(self, flow: Flow, now: float) -> App | None:
        """A new application of ``flow`` at ``now``, or None once arrivals are stopped."""
        k = flow.n
        flow.n += 1
        if not self.admitting:
            return None
        app = App(flow, k, self.admitted, now)
        self.admitted += 1
        self.wip_change(now, +1)
        if now >= self.warmup:
            self.arrived += 1
            self.measured_left += 1
        if self.wip >= MAX_WORK_IN_PROGRESS:
            self.admitting = False
            self.truncated = True
        return app

    def complete(self, now: float, app: App, last: int) -> None:
        """Book ``app``, finished at ``now`` with step ``last``."""
        self.wip_change(now, -1)
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
            self.record(app.flow, app.k, app.t_arrive, now, (wait, proc, sign, hand, back), app.handoffs, visits)

    def record(self, flow: Flow, k: int, t_arrive: float, now: float, parts: tuple[float, ...],
               handoffs: int, visits: int) -> None:
        """Keep one finished application's record (``parts``: its time split, as COMPONENTS)."""
        self.records.append({
            "project_type": flow.plan.id, "applicant": k,
            "arrival_working_day": t_arrive, "done_working_day": now,
            "lead_time_working_days": now - t_arrive,
            **{f"{name}_days": v for name, v in zip(COMPONENTS, parts)},
            "handoffs": handoffs, "visits": visits,
        })


def as_float_array(values: array) -> np.ndarray:
    return np.frombuffer(values, dtype=float) if len(values) else np.empty(0)
