"""What a run simulates and what it measured, as flat arrays: the engines' one interface.

:func:`build_run_input` turns a compiled :class:`~orgsim.sim.plan.Plan`, a
replication's :class:`~orgsim.sim.streams.RandomStreams` and any arrival
traces into a :class:`RunInput`; an engine reads nothing else and returns a
:class:`RunOutput`, which :func:`orgsim.sim.engine.simulate_plan` reads into
a :class:`~orgsim.sim.results.RunResult`. Both engines (the FIFO loop of
:mod:`orgsim.sim.fifo_loop` and the SimPy reference) take their random
numbers from the streams and positions stated here, so they agree. It is
:func:`run_template` (everything that does not depend on the replication,
built once where runs share it, as a timeline's do) then
:func:`bind_streams` (the replication's streams).

Layout. Queues are numbered in the plan's order (``plan.pools``). Steps of
all project types are numbered together: step ``i`` of project type ``f`` is
``g = flow_first_step[f] + i``. A variable-length list per step (its
functions, rework chances, sign-off levels, successors) is stored CSR-style:
entries ``step_X_start[g]`` to ``step_X_start[g + 1]`` of the ``X`` arrays.
Successors name the step within the project type (``j``, not ``g``).

Random numbers follow the common-random-numbers discipline of
:mod:`orgsim.sim.streams`: the k-th applicant of a project type takes row k
of its first-visit :class:`~orgsim.sim.streams.RowStream`, whose columns
(service time and rework chance of each function, sign-off times, hand-off
delays) are each a source named after the project type and the function,
whatever the organisation looks like; :func:`_first_visit_layout` defines
which column is which, once. Second visits, resubmission delays and Poisson
gaps come from their own named streams, in the order an engine reaches them.

Routing. An application draws, on arrival, its attributes and the
conditions of the steps it may skip (first-visit columns named after the
attribute, or after the step that states the condition); a step is needed
when one of its functions' conditions holds. A file goes from each step it
does to each step it does next, through any it skips, paying the hand-off of
that pair (``step_reach``: every pair a file may be handed across, each
step's successors first, in the order both engines take their draws). A
step that sends a file back to an earlier one (``step_rework_to``) starts a
new round of the steps between (``redo_step``, with the number of their
predecessors among them); a file is handed across a pair of steps once per
round of the target: a step done again hands it on only to the steps done
again, and to those it never handed it to. A second round's sign-offs and
hand-offs draw from streams of their own (``redraw``, named after the first round's column), in the order
files reach the queue whose end decides them.

Adding to the model means adding here, then a few lines in the FIFO loop's
handlers and in the SimPy reference (which the tests hold to the same
numbers). Capacity that changes over time (a timeline, :mod:`orgsim.timeline`)
is given as tenures: each server of a queue exists from a time to a time;
with phases, a step's queue and a queue's pace depend on the phase.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np

# Applications in the system at which a run stops admitting new ones: defined
# with the resource budget, which counts on it.
from orgsim.budget import MAX_WORK_IN_PROGRESS
from orgsim.distributions import _Dist
from orgsim.errors import SimulationError
from orgsim.model.org import Need
from orgsim.sim.plan import FlowPlan, Plan, StepPlan
from orgsim.sim.streams import BLOCK, BlockStream, RandomStreams, RowStream, stream_key

__all__ = ["RunInput", "RunOutput", "RunTemplate", "build_run_input", "run_template", "bind_streams",
           "MAX_WORK_IN_PROGRESS",
           "COMBINE_SUM", "COMBINE_MAX", "COMBINE_FACTOR", "NO_ARRIVALS", "POISSON", "TRACE"]


#: Room in the output arrays: this share of the applications expected, plus
#: this many (a tuple, so that a test can shrink it to make them grow).
OUTPUT_ROOM = (1.02, 4096)

#: Work-in-progress samples across the measurement window (this many intervals).
N_WIP_SAMPLES = 20

# Limits of the canonical order of simultaneous events (orgsim.sim.fifo_loop.event_key).
MAX_STEPS = 4095
MAX_LEVELS = 15

# How a step with several functions combines their working times.
COMBINE_SUM, COMBINE_MAX, COMBINE_FACTOR = 0, 1, 2
# How applications of a project type arrive.
NO_ARRIVALS, POISSON, TRACE = 0, 1, 2

_Fill = Callable[[np.random.Generator, int], np.ndarray]
#: A named source: its sampler and its name among the replication's streams.
_Source = tuple[_Fill, tuple[str, ...]]

# Samplers are small picklable objects: a timeline sends its RunTemplate to worker processes.


@dataclass(frozen=True)
class _DistSampler:
    """``dist`` (a distribution of the scenario) in working days, times ``factor``."""

    dist: _Dist
    hours_per_day: float
    factor: float = 1.0

    def __call__(self, rng: np.random.Generator, n: int) -> np.ndarray:
        values = self.dist.draw(rng, n, self.hours_per_day)
        return values if self.factor == 1.0 else values * self.factor


@dataclass(frozen=True)
class _UniformSampler:
    def __call__(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.random(n)


@dataclass(frozen=True)
class _ExponentialSampler:
    mean: float

    def __call__(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.exponential(self.mean, n)


def _in_working_days(dist: _Dist, hours_per_day: float) -> _Fill:
    """A sampler of ``dist`` (a distribution of the scenario) in working days."""
    return _DistSampler(dist, hours_per_day)


_uniform = _UniformSampler()


def _exponential(mean: float) -> _Fill:
    return _ExponentialSampler(mean)


def _no_doubles() -> np.ndarray:
    return np.empty(0, dtype=np.float64)


def _no_ints() -> np.ndarray:
    return np.empty(0, dtype=np.int32)


@dataclass(frozen=True, eq=False)
class RunInput:
    """Everything one replication simulates: the organisation as flat arrays, and its random streams."""

    # --- the run
    horizon: float
    warmup: float
    #: Start of the window over which queues' busy time and length are integrated.
    window_start: float
    #: Times of the work-in-progress samples, ascending.
    sample_times: np.ndarray
    #: Applications in the system at which arrivals stop (MAX_WORK_IN_PROGRESS).
    max_in_system: int
    keep_records: bool
    #: Applications expected to finish: the room an engine makes for its output arrays.
    output_room: int
    #: Widest first-visit row, and most steps, of any project type.
    max_width: int
    max_steps: int
    # --- queues (int32 / float64 arrays over queues)
    queue_servers: np.ndarray
    #: Elapsed working time per unit of work at the queue (1 / availability).
    queue_stretch: np.ndarray
    # --- steps, g = flow_first_step[f] + i
    step_queue: np.ndarray
    step_combine: np.ndarray  # COMBINE_*
    step_factor: np.ndarray  # the factor of COMBINE_FACTOR (1.0 otherwise)
    step_predecessors: np.ndarray  # steps it waits for
    #: Each function of the step: its service time's column in the first-visit
    #: row and its stream among ``revisit_service`` (for second visits).
    step_service_start: np.ndarray
    service_column: np.ndarray
    service_stream: np.ndarray
    #: Each function that may send the file back: its rework chance's column,
    #: its stream among ``revisit_rework``, and the probability.
    step_rework_start: np.ndarray
    rework_column: np.ndarray
    rework_stream: np.ndarray
    rework_probability: np.ndarray
    #: Each sign-off level, lowest first: the leaders' queue and the time's column.
    step_signoff_start: np.ndarray
    signoff_queue: np.ndarray
    signoff_column: np.ndarray
    #: Each step that waits for this one: its index j in the project type and
    #: the hand-off delay's column (-1: no delay).
    step_successor_start: np.ndarray
    successor_step: np.ndarray
    successor_column: np.ndarray
    #: Each step a file may be handed to from this one (its successors first, in
    #: the same order, then those beyond successors some applications skip): its
    #: index k, the delay's column (-1: no delay) and its second-round stream (-1: none).
    step_reach_start: np.ndarray
    reach_step: np.ndarray
    reach_column: np.ndarray
    reach_redraw: np.ndarray
    #: Per function entry of a step (as service_*) and per rework entry: the
    #: condition (index within the project type) under which it is needed; -1: always.
    service_condition: np.ndarray
    rework_condition: np.ndarray
    #: Per sign-off entry: its second-round stream (-1: none).
    signoff_redraw: np.ndarray
    #: Where a file sent back from the step goes: j within the project type, or -1 (itself).
    step_rework_to: np.ndarray
    #: The steps done again after it sends a file back to ``step_rework_to`` (their
    #: index j and how many of their predecessors are among them).
    step_redo_start: np.ndarray
    redo_step: np.ndarray
    redo_pending: np.ndarray
    # --- project types
    flow_first_step: np.ndarray  # F + 1 entries
    flow_root_start: np.ndarray  # F + 1 entries into root_step
    root_step: np.ndarray  # steps that wait for nobody (index within the project type)
    flow_delay_factor: np.ndarray  # multiplies resubmission delays
    flow_arrivals: np.ndarray  # NO_ARRIVALS, POISSON or TRACE
    flow_first_arrival: np.ndarray  # time of the first arrival (inf: none)
    #: 1 when some applications skip some steps: needs are drawn on arrival.
    flow_conditional: np.ndarray
    #: 1 for a project type (counted in the pooled accounts: arrivals, work in progress,
    #: components, hand-offs, visits), 0 for a case type measured on its own.
    flow_pooled: np.ndarray
    #: Attributes drawn per application: column and probability (true when the draw is below it).
    flow_attribute_start: np.ndarray
    attribute_column: np.ndarray
    attribute_probability: np.ndarray
    #: Conditions: the attribute they need (index within the project type, -1: none) and
    #: their own draw's column (-1: none) and probability.
    flow_condition_start: np.ndarray
    condition_attribute: np.ndarray
    condition_column: np.ndarray
    condition_probability: np.ndarray
    #: Most attributes and conditions, and most entries of the reach lists, of any project type.
    max_attributes: int
    max_conditions: int
    max_reach: int
    # --- random numbers (named streams; see the module docstring)
    first_visit: tuple[RowStream, ...]  # per project type
    revisit_service: tuple[BlockStream, ...]
    revisit_rework: tuple[BlockStream, ...]
    resubmission: tuple[BlockStream | None, ...]  # per project type (None: no delay)
    redraw: tuple[BlockStream, ...]  # second-round sign-off and hand-off delays
    arrival_gaps: tuple[BlockStream | None, ...]  # per project type, Poisson arrivals
    arrival_traces: tuple[np.ndarray | None, ...]  # per project type, traced arrival times
    # --- optional: per-visit events for an event log (orgsim.eventlog.events); None: none recorded
    event_sink: Callable[[np.ndarray], None] | None = None
    # --- a programme over time (orgsim.timeline): phases and officers' tenures. timed False: a fixed
    # organisation, and the arrays below are empty.
    #: True when queues are served by tenures over phases (a timeline run).
    timed: bool = False
    #: Phase p runs from phase_start[p] (phase_start[0] = -inf); a project type's version of phase p
    #: takes the applications filed in it (flow_next: the next phase's version, -1 none; flow_until: its end).
    n_phases: int = 1
    phase_start: np.ndarray = field(default_factory=_no_doubles)
    flow_next: np.ndarray = field(default_factory=_no_ints)
    flow_until: np.ndarray = field(default_factory=_no_doubles)
    #: The queue of step g in phase p (``g * n_phases + p``), of sign-off entry m, and each queue's
    #: stretch (1 / availability) in each phase (``q * n_phases + p``).
    step_queue_at: np.ndarray = field(default_factory=_no_ints)
    signoff_queue_at: np.ndarray = field(default_factory=_no_ints)
    queue_stretch_at: np.ndarray = field(default_factory=_no_doubles)
    #: Servers as tenures: the queue, from (free from then), to (starts nothing at or after it), hired
    #: (the learning curve's origin). A newcomer works at learn_start of full pace, rising linearly to
    #: full pace over learn_days working days.
    tenure_queue: np.ndarray = field(default_factory=_no_ints)
    tenure_from: np.ndarray = field(default_factory=_no_doubles)
    tenure_to: np.ndarray = field(default_factory=_no_doubles)
    tenure_hired: np.ndarray = field(default_factory=_no_doubles)
    learn_start: float = 1.0
    learn_days: float = 0.0

    @property
    def n_queues(self) -> int:
        return len(self.queue_servers)

    @property
    def n_flows(self) -> int:
        return len(self.flow_delay_factor)


@dataclass(frozen=True, eq=False)
class RunOutput:
    """What an engine measured in one replication (read into a RunResult by simulate_plan)."""

    #: Per application that arrived in the window and finished, in order of finishing (every
    #: type; the other accounts count project types only, RunInput.flow_pooled).
    t_start: np.ndarray
    t_end: np.ndarray
    applicant_days: np.ndarray
    flow_index: np.ndarray  # uint16
    #: Sums over those applications of the COMPONENTS of their critical paths.
    component_totals: tuple[float, ...]
    #: The same sums per project type: shape (project types, COMPONENTS), row f summed
    #: over type f's applications in order of finishing.
    flow_component_totals: np.ndarray
    handoffs: int
    visits: int
    arrived: int
    completed_in_window: int
    #: Applications in the system at the horizon.
    backlog: int
    #: Integral of applications in the system over the window.
    in_system_area: float
    wip_samples: tuple[tuple[float, int], ...]
    truncated: bool
    drained: bool
    #: Per queue, integrals over [window_start, horizon] of busy servers and of files waiting.
    busy_area: np.ndarray
    queue_area: np.ndarray
    #: With keep_records: per finished application, (project type, applicant k,
    #: arrival, end, *COMPONENTS, hand-offs, visits).
    records: tuple[tuple, ...]


class _RowLayout(NamedTuple):
    """Which column of a project type's first-visit row holds which draw."""

    sources: list[tuple[_Fill, tuple[str, ...]]]  # per column: (sampler, source name)
    functions: dict[str, _Dist]  # the project type's functions, in order, with their service times
    service: list[int]  # per function
    rework: list[int]  # per function
    signoff: list[list[int]]  # per step, per level
    handoff: dict[tuple[int, int], int]  # per pair of steps a file may be handed across (-1: no delay)
    attribute: dict[str, int]  # per attribute a condition uses
    need: dict[str, int]  # per source of a condition with a probability below 1


def _first_visit_layout(flow: FlowPlan, plan: Plan) -> _RowLayout:
    """The columns of ``flow``'s first-visit row: the one definition of the row's layout.

    Sources are named after (project type, function), never after their
    position, so a reform that adds or merges steps keeps everyone else's draws.
    """
    h, fid = plan.hours_per_day, flow.id
    dists: dict[str, _Dist] = {}
    for st in flow.steps:
        for f, d in zip(st.functions, st.service, strict=True):
            dists.setdefault(f, d)
    sources: list[tuple[_Fill, tuple[str, ...]]] = []
    names: set[tuple[str, ...]] = set()

    def column(fill: _Fill, *name: str) -> int:
        base, n = name, 2
        while name in names:  # the same name twice in one project type: number the repeats
            name, n = base + (f"#{n}",), n + 1
        names.add(name)
        sources.append((fill, name))
        return len(sources) - 1

    service = [column(_in_working_days(dists[f], h), "service", fid, f) for f in dists]
    rework = [column(_uniform, "rework", fid, f) for f in dists]
    signoff: list[list[int]] = []
    for st in flow.steps:
        signoff.append([] if plan.signoff_time is None else [
            column(_in_working_days(plan.signoff_time, h), "signoff", fid, st.functions[0], str(level))
            for level in range(len(st.signoff))])
    handoff: dict[tuple[int, int], int] = {}
    for (i, k), hand in flow.handoffs.items():
        handoff[(i, k)] = -1 if hand.dist is None else column(
            _scaled(hand.dist, hand.factor, h), "handoff", fid, flow.steps[i].functions[0],
            flow.steps[k].functions[0], hand.kind)
    # Conditions: an attribute's draw and each conditional step's own draw, by name.
    attribute: dict[str, int] = {}
    need: dict[str, int] = {}
    for st in flow.steps:
        for n in st.needs:
            if n is None:
                continue
            if n.when is not None and n.when not in attribute:
                attribute[n.when] = column(_uniform, "attribute", fid, n.when)
            if n.probability < 1 and n.source not in need:
                need[n.source] = column(_uniform, "need", fid, n.source)
    return _RowLayout(sources, dists, service, rework, signoff, handoff, attribute, need)


def _scaled(dist: _Dist, factor: float, hours_per_day: float) -> _Fill:
    """A sampler of ``dist`` in working days, times ``factor`` (the same draws, scaled: CRN holds)."""
    return _DistSampler(dist, hours_per_day, factor)


def _ints(values: list[int]) -> np.ndarray:
    return np.asarray(values, dtype=np.int32).reshape(-1)


def _doubles(values: list[float]) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).reshape(-1)


@dataclass(frozen=True, eq=False)
class RunTemplate:
    """A run's input but its random streams: what is the same in every replication.

    ``base`` holds every array (its stream tuples empty, the first arrival of a Poisson project
    type unknown); the other fields name the streams :func:`bind_streams` makes for a replication,
    in the order it makes them, each a ``(sampler, name)``.
    """

    base: RunInput
    first_visit: tuple[tuple[_Source, ...], ...]  # per project type: its first-visit row's columns
    revisit_service: tuple[_Source, ...]
    revisit_rework: tuple[_Source, ...]
    redraw: tuple[_Source, ...]
    resubmission: tuple[_Source | None, ...]  # per project type
    arrival_gaps: tuple[_Source | None, ...]  # per project type with Poisson arrivals
    #: Per project type: its revisit, redraw entries (ranges of the tuples above), so that
    #: the streams are named in the same order as the project types.
    flow_streams: tuple[tuple[int, int, int, int], ...]
    #: Every stream's key (``stream_key`` of its name), computed once.
    keys: dict[tuple[str, ...], int] = field(default_factory=dict)
    #: Per project type: the first block of its first-visit rows and of its second-visit,
    #: second-round and resubmission streams (BLOCK unless a caller expects it to take few rows,
    #: as a timeline's version of a project type in a phase). Empty: BLOCK for every type.
    first_rows: tuple[int, ...] = ()

    def without_arrivals(self, flows: list[int]) -> RunTemplate:
        """The same run with no applications arriving at project types ``flows`` (their streams never made)."""
        arrivals = self.base.flow_arrivals.copy()
        first = self.base.flow_first_arrival.copy()
        arrivals[flows] = NO_ARRIVALS
        first[flows] = np.inf
        gaps = list(self.arrival_gaps)
        for f in flows:
            gaps[f] = None
        return replace(self, base=replace(self.base, flow_arrivals=arrivals, flow_first_arrival=first),
                       arrival_gaps=tuple(gaps))


def build_run_input(plan: Plan, streams: RandomStreams, horizon: float, warmup: float, keep_records: bool,
                    arrival_times: dict[str, np.ndarray],
                    event_sink: Callable[[np.ndarray], None] | None = None) -> RunInput:
    """The flat input of one replication: ``plan`` on ``streams``, ``arrival_times`` for traced project types.

    ``event_sink``, when given, receives the run's per-visit events in batches (:mod:`orgsim.eventlog.events`).
    """
    return bind_streams(run_template(plan, horizon, warmup, keep_records, arrival_times), streams, event_sink)


def bind_streams(template: RunTemplate, streams: RandomStreams,
                 event_sink: Callable[[np.ndarray], None] | None = None) -> RunInput:
    """``template`` on one replication's ``streams``: its random streams, and the first Poisson arrivals."""
    first_visit: list[RowStream] = []
    revisit_service: list[BlockStream] = []
    revisit_rework: list[BlockStream] = []
    redraw: list[BlockStream] = []
    resubmission: list[BlockStream | None] = []
    gaps: list[BlockStream | None] = []

    keys = template.keys

    def stream(source: _Source, first_block: int = BLOCK) -> BlockStream:
        return streams.stream(source[0], *source[1], first_block=first_block, key=keys.get(source[1]))

    for f, (r0, r1, d0, d1) in enumerate(template.flow_streams):
        # A project type expected to take few rows draws little from its other streams too.
        few = template.first_rows[f] if template.first_rows else BLOCK
        row = template.first_visit[f]
        first_visit.append(streams.rows(row, few, [keys[name] for _, name in row] if keys else None))
        for r in range(r0, r1):
            revisit_service.append(stream(template.revisit_service[r], few))
            revisit_rework.append(stream(template.revisit_rework[r], few))
        redraw.extend(stream(template.redraw[d], few) for d in range(d0, d1))
        rs = template.resubmission[f]
        resubmission.append(None if rs is None else stream(rs, few))
        gap = template.arrival_gaps[f]
        gaps.append(None if gap is None else stream(gap))
    # The first gaps once every stream is named: a stream's numbers depend on its name only, and
    # its generator is made at its first draw, with those of all the streams named until then.
    first_arrival = template.base.flow_first_arrival.copy()
    for f, gaps_f in enumerate(gaps):
        if gaps_f is not None:
            first_arrival[f] = gaps_f.take()
    return replace(
        template.base, flow_first_arrival=first_arrival, first_visit=tuple(first_visit),
        revisit_service=tuple(revisit_service), revisit_rework=tuple(revisit_rework),
        resubmission=tuple(resubmission), redraw=tuple(redraw), arrival_gaps=tuple(gaps), event_sink=event_sink)


def run_template(plan: Plan, horizon: float, warmup: float, keep_records: bool,
                 arrival_times: dict[str, np.ndarray]) -> RunTemplate:
    """The flat input of ``plan``'s runs, streams named but not made; ``arrival_times`` for traced project types."""
    h = plan.hours_per_day
    queue_index = {k: q for q, k in enumerate(plan.pools)}
    step_queue: list[int] = []
    combine: list[int] = []
    factor: list[float] = []
    predecessors: list[int] = []
    service_start, service_column, service_stream = [0], [], []
    rework_start, rework_column, rework_stream, rework_p = [0], [], [], []
    signoff_start, signoff_queue, signoff_column = [0], [], []
    successor_start, successor_step, successor_column = [0], [], []
    reach_start, reach_step, reach_column, reach_redraw = [0], [], [], []
    service_condition: list[int] = []
    rework_condition: list[int] = []
    signoff_redraw: list[int] = []
    rework_to: list[int] = []
    redo_start, redo_step, redo_pending = [0], [], []
    conditional: list[int] = []
    pooled: list[int] = []
    attribute_start, attribute_column, attribute_p = [0], [], []
    condition_start, condition_attribute, condition_column, condition_p = [0], [], [], []
    redraw: list[_Source] = []
    max_attributes = max_conditions = max_reach = 1
    first_step, root_start = [0], [0]
    roots: list[int] = []
    delay_factor: list[float] = []
    arrivals: list[int] = []
    first_arrival: list[float] = []
    first_visit: list[tuple[_Source, ...]] = []
    revisit_service: list[_Source] = []
    revisit_rework: list[_Source] = []
    resubmission: list[_Source | None] = []
    gaps: list[_Source | None] = []
    flow_streams: list[tuple[int, int, int, int]] = []
    traces: list[np.ndarray | None] = []
    max_width = max_steps = 1
    expected = 0.0
    for flow in plan.flows:
        fid = flow.id
        if len(flow.steps) > MAX_STEPS or any(len(st.signoff) > MAX_LEVELS for st in flow.steps):
            raise SimulationError(f"project type {fid!r}: more than {MAX_STEPS} steps or {MAX_LEVELS} "
                                  "sign-off levels in a step")
        layout = _first_visit_layout(flow, plan)
        first_visit.append(tuple(layout.sources))
        max_width = max(max_width, len(layout.sources))
        max_steps = max(max_steps, len(flow.steps))
        index_of = {f: k for k, f in enumerate(layout.functions)}
        revisit_base = len(revisit_service)
        redraw_base = len(redraw)
        for f, dist in layout.functions.items():
            revisit_service.append((_in_working_days(dist, h), ("revisit_service", fid, f)))
            revisit_rework.append((_uniform, ("revisit_rework", fid, f)))
        # Attributes and conditions of this project type, numbered within it.
        attributes = dict(flow.attributes)
        attribute_index = {name: a for a, name in enumerate(layout.attribute)}
        for name, column in layout.attribute.items():
            attribute_column.append(column)
            attribute_p.append(attributes[name])
        attribute_start.append(len(attribute_column))
        condition_index: dict[Need, int] = {}
        for st in flow.steps:
            for n in st.needs:
                if n is not None and n not in condition_index:
                    condition_index[n] = len(condition_index)
                    condition_attribute.append(-1 if n.when is None else attribute_index[n.when])
                    condition_column.append(layout.need[n.source] if n.probability < 1 else -1)
                    condition_p.append(n.probability)
        condition_start.append(len(condition_column))
        max_attributes = max(max_attributes, len(layout.attribute))
        max_conditions = max(max_conditions, len(condition_index))
        conditional.append(int(flow.optional))
        pooled.append(int(flow.kind == "approval"))
        # A second round of a step (after a file went back to an earlier one) draws its
        # sign-offs and hand-offs again, from streams named after the first round's columns.
        again: dict[int, int] = {}
        if flow.reworks_earlier:
            columns = [c for levels in layout.signoff for c in levels] + [c for c in layout.handoff.values() if c >= 0]
            for c in columns:
                fill, source = layout.sources[c]
                again[c] = len(redraw)
                redraw.append((fill, ("revisit", *source)))

        preds: list[list[int]] = [[] for _ in flow.steps]
        for a, succ in enumerate(flow.successors):
            for j, _ in succ:
                preds[j].append(a)

        def cond(st: StepPlan, k: int, condition_index: dict[Need, int] = condition_index) -> int:
            n = st.need_of(k)
            return -1 if n is None else condition_index[n]

        for i, st in enumerate(flow.steps):
            step_queue.append(queue_index[st.pool])
            if st.combine in ("sum", "max"):
                combine.append(COMBINE_SUM if st.combine == "sum" else COMBINE_MAX)
                factor.append(1.0)
            else:
                combine.append(COMBINE_FACTOR)
                factor.append(float(st.combine))
            predecessors.append(flow.n_predecessors[i])
            for k, f in enumerate(st.functions):
                service_column.append(layout.service[index_of[f]])
                service_stream.append(revisit_base + index_of[f])
                service_condition.append(cond(st, k))
            service_start.append(len(service_column))
            for k, (f, p) in enumerate(zip(st.functions, st.rework, strict=True)):
                if p > 0:
                    rework_column.append(layout.rework[index_of[f]])
                    rework_stream.append(revisit_base + index_of[f])
                    rework_p.append(p)
                    rework_condition.append(cond(st, k))
            rework_start.append(len(rework_column))
            for level, column in enumerate(layout.signoff[i]):
                signoff_queue.append(queue_index[st.signoff[level]])
                signoff_column.append(column)
                signoff_redraw.append(again.get(column, -1))
            signoff_start.append(len(signoff_column))
            for j, _ in flow.successors[i]:
                successor_step.append(j)
                successor_column.append(layout.handoff[(i, j)])
            successor_start.append(len(successor_step))
            for (a, k), column in layout.handoff.items():
                if a == i:
                    reach_step.append(k)
                    reach_column.append(column)
                    reach_redraw.append(again.get(column, -1))
            reach_start.append(len(reach_step))
            rework_to.append(st.rework_to)
            if st.rework_to >= 0:
                among = set(st.redo)
                for y in st.redo:
                    redo_step.append(y)
                    redo_pending.append(sum(1 for x in preds[y] if x in among))
            redo_start.append(len(redo_step))
        max_reach = max(max_reach, len(reach_step) - reach_start[first_step[-1]])
        first_step.append(len(step_queue))
        roots.extend(flow.roots)
        root_start.append(len(roots))
        delay_factor.append(flow.delay_factor)
        rs = plan.resubmission_delay
        resubmission.append(None if rs is None else (_in_working_days(rs, h), ("resubmission", fid)))
        flow_streams.append((revisit_base, len(revisit_service), redraw_base, len(redraw)))
        # The first arrival of each project type: its trace's first date, or a Poisson gap.
        times = arrival_times.get(fid)
        gap: _Source | None = None
        if times is not None:
            times = np.ascontiguousarray(times, dtype=np.float64)
            expected += len(times)
            kind, first = (TRACE, float(times[0])) if len(times) and times[0] < horizon else (NO_ARRIVALS, np.inf)
        elif flow.rate_per_day > 0:  # the first arrival after a gap drawn by bind_streams
            gap = (_exponential(1.0 / flow.rate_per_day), ("arrivals", fid))
            kind, first = POISSON, np.inf
        else:
            kind, first = NO_ARRIVALS, np.inf
        if flow.trace is None:
            expected += flow.rate_per_day * horizon
        arrivals.append(kind)
        first_arrival.append(first)
        gaps.append(gap)
        traces.append(times)
    pools = list(plan.pools.values())
    base = RunInput(
        horizon=horizon, warmup=warmup, window_start=warmup if warmup > 0 else 0.0,
        sample_times=_doubles([warmup + (horizon - warmup) * m / N_WIP_SAMPLES for m in range(N_WIP_SAMPLES + 1)]),
        max_in_system=MAX_WORK_IN_PROGRESS, keep_records=keep_records,
        output_room=int(expected * OUTPUT_ROOM[0]) + OUTPUT_ROOM[1],
        max_width=max_width, max_steps=max_steps,
        queue_servers=_ints([p.servers for p in pools]),
        queue_stretch=_doubles([1.0 / p.availability for p in pools]),
        step_queue=_ints(step_queue), step_combine=_ints(combine), step_factor=_doubles(factor),
        step_predecessors=_ints(predecessors),
        step_service_start=_ints(service_start), service_column=_ints(service_column),
        service_stream=_ints(service_stream),
        step_rework_start=_ints(rework_start), rework_column=_ints(rework_column),
        rework_stream=_ints(rework_stream), rework_probability=_doubles(rework_p),
        step_signoff_start=_ints(signoff_start), signoff_queue=_ints(signoff_queue),
        signoff_column=_ints(signoff_column),
        step_successor_start=_ints(successor_start), successor_step=_ints(successor_step),
        successor_column=_ints(successor_column),
        step_reach_start=_ints(reach_start), reach_step=_ints(reach_step), reach_column=_ints(reach_column),
        reach_redraw=_ints(reach_redraw), service_condition=_ints(service_condition),
        rework_condition=_ints(rework_condition), signoff_redraw=_ints(signoff_redraw),
        step_rework_to=_ints(rework_to), step_redo_start=_ints(redo_start), redo_step=_ints(redo_step),
        redo_pending=_ints(redo_pending),
        flow_conditional=_ints(conditional), flow_pooled=_ints(pooled), flow_attribute_start=_ints(attribute_start),
        attribute_column=_ints(attribute_column), attribute_probability=_doubles(attribute_p),
        flow_condition_start=_ints(condition_start), condition_attribute=_ints(condition_attribute),
        condition_column=_ints(condition_column), condition_probability=_doubles(condition_p),
        max_attributes=max_attributes, max_conditions=max_conditions, max_reach=max_reach,
        flow_first_step=_ints(first_step), flow_root_start=_ints(root_start), root_step=_ints(roots),
        flow_delay_factor=_doubles(delay_factor), flow_arrivals=_ints(arrivals),
        flow_first_arrival=_doubles(first_arrival),
        first_visit=(), revisit_service=(), revisit_rework=(), resubmission=(), redraw=(), arrival_gaps=(),
        arrival_traces=tuple(traces),
    )
    named = [name for row in first_visit for _, name in row]
    named += [source[1] for source in (*revisit_service, *revisit_rework, *redraw, *resubmission, *gaps) if source]
    return RunTemplate(base, tuple(first_visit), tuple(revisit_service), tuple(revisit_rework), tuple(redraw),
                       tuple(resubmission), tuple(gaps), tuple(flow_streams), {n: stream_key(*n) for n in named})
