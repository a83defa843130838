"""The FIFO engine's event loop, written once: plain Python, or compiled by Cython.

Every queue serves in order of arrival with identical servers, and a visit's
working time is drawn when the file arrives. So the moment a file reaches a
queue, its start is known: the later of its arrival and the earliest time a
server falls free (the multi-server FIFO recursion). Its end follows, and
with it when the file reaches its next queue. Only arrivals at queues (and
new applications, and finished ones) are events; service starts, ends and
hand-offs are arithmetic. Arrivals at a queue must be taken in time order for
the recursion to hold, so events still go through one heap ordered by time,
simultaneous ones in the canonical order of the ``*_key`` functions below
(the SimPy reference engine uses the same keys). Utilisation and queue length
are integrals over the measurement window: each service interval and each
wait is clipped to the window and added.

The loop reads a :class:`~orgsim.sim.run_io.RunInput` and returns a
:class:`~orgsim.sim.run_io.RunOutput`; it touches nothing else. This file is
Cython's "pure Python mode": ``fifo_loop.pxd`` beside it gives the C types,
and ``setup.py`` compiles the pair when a C compiler is present (the FIFO
engine then runs 10-20 times faster); otherwise, or when the compiled
module is older than this source, it runs as it stands. Where C and Python
want different data structures the difference is confined to the helpers
marked STORAGE below (a ``cython.compiled`` branch each): the event heap (C
structs in an array, or ``heapq`` on tuples), each queue's heap of server
free times, the per-application arrays (numpy, or lists), and copying a row
of draws. Everything else is the algorithm, stated once.

Applications in the system live in numbered slots: per-slot values in flat
arrays, per-step values at ``slot * max_steps + step`` (``4 *`` that for the
four time accounts), draws at ``slot * max_width + column``. Loops over a
range of entries are ``while`` loops: the same C compiled, and in Python
they spare a ``range`` object per call on the hottest paths.
"""

from __future__ import annotations

import math
from array import array
from heapq import heapify, heappop, heappush, heapreplace
from typing import Any

import numpy as np

from orgsim.eventlog.events import APPLICANT as LOG_APPLICANT
from orgsim.eventlog.events import BATCH_EVENTS, EVENT_DTYPE
from orgsim.eventlog.events import DONE as LOG_DONE
from orgsim.eventlog.events import HANDOFF as LOG_HANDOFF
from orgsim.eventlog.events import SERVICE as LOG_SERVICE
from orgsim.eventlog.events import SIGNOFF as LOG_SIGNOFF
from orgsim.sim.run_io import COMBINE_MAX, COMBINE_SUM, POISSON, TRACE, RunInput, RunOutput

try:
    import cython
except ImportError:  # no Cython at run time: this module runs as plain Python
    from orgsim.sim import _cython_stub as cython

__all__ = ["FifoLoop", "COMPILED", "done_key", "arrival_key", "officers_key", "signoff_key"]

#: True when this module is the compiled extension.
COMPILED = cython.compiled

# What an event is (its `kind`); a sign-off at level L is SIGNOFF + L.
NO_EVENT = -4
TRACE_ARRIVAL = -3
POISSON_ARRIVAL = -2
DONE = -1
OFFICERS = 0
SIGNOFF = 1

# Ranks of the canonical order among simultaneous events: finished
# applications, new ones, arrivals at officers, at sign-off.
RANK_DONE = 1
RANK_ARRIVAL = 2
RANK_OFFICERS = 3
RANK_SIGNOFF = 4

#: The compiled event heap's entries (fifo_loop.pxd's Event).
EVENT = np.dtype([("t", "f8"), ("key", "i8"), ("kind", "i4"), ("a", "i4"), ("b", "i4"), ("unused", "i4")])


# ---------------------------------------------------------------- canonical order
# Events that fall at the same time (zero hand-off delays, fixed times, several
# applications on one trace date) are taken in one order, by key, in every
# engine: then engines agree however they came to schedule them. A key fits in
# 63 bits: rank, then application (its admission number, below 2**40) or project
# type, step (below 4096), sign-off level (below 16).

def done_key(no: int) -> int:
    """Application ``no`` (its admission number) is finished."""
    return (RANK_DONE << 56) | (no << 16)


def arrival_key(flow: int) -> int:
    """A new application of project type ``flow`` arrives."""
    return (RANK_ARRIVAL << 56) | (flow << 16)


def officers_key(no: int, step: int) -> int:
    """Application ``no`` reaches the officers of its step ``step``."""
    return (RANK_OFFICERS << 56) | (no << 16) | (step << 4)


def signoff_key(no: int, step: int, level: int) -> int:
    """Application ``no``'s step ``step`` reaches its sign-off at ``level``."""
    return (RANK_SIGNOFF << 56) | (no << 16) | (step << 4) | level


# ---------------------------------------------------------------- STORAGE: arrays
# Compiled, arrays are numpy arrays read through typed memoryviews; in Python,
# lists (indexing a numpy array from Python is several times slower). Typecodes
# as in the array module: "d" double, "i" int, "q" long long, "H" unsigned short.

def _local(values: np.ndarray) -> Any:
    """An input array in the storage of this mode."""
    if cython.compiled:
        return values
    else:
        return values.tolist()


def _zeros(n: int, typecode: str) -> Any:
    if cython.compiled:
        return np.zeros(n, dtype=typecode)
    else:
        return [0.0 if typecode == "d" else 0] * n


def _grown(values: Any, extra: int, typecode: str) -> Any:
    """``values`` followed by ``extra`` zeros."""
    if cython.compiled:
        return np.concatenate((np.asarray(values), np.zeros(extra, dtype=typecode)))
    elif isinstance(values, list):
        return values + _zeros(extra, typecode)
    else:
        return values + _output_zeros(extra, typecode)


def _output_zeros(n: int, typecode: str) -> Any:
    """Room for ``n`` values of an output array (in Python an array.array: read without a copy)."""
    if cython.compiled:
        return np.zeros(n, dtype=typecode)
    else:
        return array(typecode, bytes(n * array(typecode).itemsize))


def _copy5(dst: Any, d: int, src: Any, s: int) -> None:
    """The five parts of a path from ``src[s:s + 5]`` to ``dst[d:d + 5]``."""
    if cython.compiled:
        for c in range(5):
            dst[d + c] = src[s + c]
    else:
        dst[d:d + 5] = src[s:s + 5]


def _array(values: Any, n: int, typecode: str) -> np.ndarray:
    """The first ``n`` values of an output array as a numpy array (a view, no copy)."""
    return np.asarray(values)[:n] if cython.compiled else np.frombuffer(values, dtype=typecode)[:n]


class FifoLoop:
    """One replication by the FIFO recursion: ``FifoLoop(run_input).run()`` returns its RunOutput."""

    def __init__(self, run: RunInput) -> None:
        self.horizon = run.horizon
        self.warmup = run.warmup
        self.t0 = run.window_start
        self.max_in_system = run.max_in_system
        self.keep_records = run.keep_records
        # Queues.
        self.queue_stretch = _local(run.queue_stretch)
        self.busy = _zeros(run.n_queues, "d")
        self.waiting = _zeros(run.n_queues, "d")
        self._init_servers(run.queue_servers)
        # Steps.
        self.step_queue = _local(run.step_queue)
        self.step_combine = _local(run.step_combine)
        self.step_factor = _local(run.step_factor)
        self.step_predecessors = _local(run.step_predecessors)
        self.step_service_start = _local(run.step_service_start)
        self.service_column = _local(run.service_column)
        self.service_stream = _local(run.service_stream)
        self.step_rework_start = _local(run.step_rework_start)
        self.rework_column = _local(run.rework_column)
        self.rework_stream = _local(run.rework_stream)
        self.rework_probability = _local(run.rework_probability)
        self.step_signoff_start = _local(run.step_signoff_start)
        self.signoff_queue = _local(run.signoff_queue)
        self.signoff_column = _local(run.signoff_column)
        self.step_successor_start = _local(run.step_successor_start)
        self.successor_step = _local(run.successor_step)
        self.successor_column = _local(run.successor_column)
        self.step_reach_start = _local(run.step_reach_start)
        self.reach_step = _local(run.reach_step)
        self.reach_column = _local(run.reach_column)
        self.reach_redraw = _local(run.reach_redraw)
        self.service_condition = _local(run.service_condition)
        self.rework_condition = _local(run.rework_condition)
        self.signoff_redraw = _local(run.signoff_redraw)
        self.step_rework_to = _local(run.step_rework_to)
        self.step_redo_start = _local(run.step_redo_start)
        self.redo_step = _local(run.redo_step)
        self.redo_pending = _local(run.redo_pending)
        # Project types.
        self.n_flows = run.n_flows
        self.flow_first_step = _local(run.flow_first_step)
        self.flow_root_start = _local(run.flow_root_start)
        self.root_step = _local(run.root_step)
        self.flow_delay_factor = _local(run.flow_delay_factor)
        self.flow_arrivals = _local(run.flow_arrivals)
        self.flow_first_arrival = _local(run.flow_first_arrival)
        self.flow_conditional = _local(run.flow_conditional)
        self.flow_pooled = _local(run.flow_pooled)
        # A simple project type needs every step and sends no file back to an earlier one: its files
        # take the direct paths (no record of pairs handed across, of rounds, or of steps needed).
        simple = [int(c == 0) for c in run.flow_conditional.tolist()]
        first = run.flow_first_step.tolist()
        for f in range(run.n_flows):
            if (run.step_rework_to[first[f]:first[f + 1]] >= 0).any():
                simple[f] = 0
        self.flow_simple = _local(np.array(simple, dtype=np.int32))
        self.flow_attribute_start = _local(run.flow_attribute_start)
        self.attribute_column = _local(run.attribute_column)
        self.attribute_probability = _local(run.attribute_probability)
        self.flow_condition_start = _local(run.flow_condition_start)
        self.condition_attribute = _local(run.condition_attribute)
        self.condition_column = _local(run.condition_column)
        self.condition_probability = _local(run.condition_probability)
        self.flow_applicants = _zeros(run.n_flows, "q")  # arrived so far, admitted or not
        self.trace_next = _zeros(run.n_flows, "i")
        self.arrival_traces: list[Any] = [None if x is None else _local(x) for x in run.arrival_traces]
        # Random numbers.
        self.first_visit: list[Any] = list(run.first_visit)
        self.row_blocks: list[Any] = [None] * run.n_flows  # each project type's current block of first-visit rows
        self.next_row = _zeros(run.n_flows, "i")
        self.revisit_service: list[Any] = list(run.revisit_service)
        self.revisit_rework: list[Any] = list(run.revisit_rework)
        self.resubmission: list[Any] = list(run.resubmission)
        self.redraw: list[Any] = list(run.redraw)
        self.arrival_gaps: list[Any] = list(run.arrival_gaps)
        # Applications in slots.
        self.width = run.max_width
        self.steps = run.max_steps
        self.n_slots = 0
        self.n_free = 0
        self.free_slots = _zeros(0, "i")
        self.a_flow = _zeros(0, "i")
        self.a_left = _zeros(0, "i")
        self.a_last = _zeros(0, "i")
        self.a_handoffs = _zeros(0, "i")
        self.a_k = _zeros(0, "q")
        self.a_no = _zeros(0, "q")
        self.a_t_arrive = _zeros(0, "d")
        self.a_t_last = _zeros(0, "d")
        self.a_draws = _zeros(0, "d")
        self.a_comp = _zeros(0, "d")
        self.a_cand = _zeros(0, "d")
        self.a_t_ready = _zeros(0, "d")
        self.a_crit = _zeros(0, "i")
        self.a_visits = _zeros(0, "i")
        self.a_pending = _zeros(0, "i")
        self.a_needed = _zeros(0, "i")
        self.a_done = _zeros(0, "i")
        self.a_cond = _zeros(0, "i")
        self.a_fired = _zeros(0, "i")
        self.a_base_t = _zeros(0, "d")
        self.a_base_comp = _zeros(0, "d")
        self.conds = run.max_conditions
        self.reach = run.max_reach
        s = run.max_steps
        # For _reset_slot in Python: the whole per-step stride at once.
        self.blank = ([0.0] * (5 * s), [-1.0] * s, [0] * s, [-1] * s, [1] * s)
        self.no_fired = [0] * run.max_reach
        # Scratch for one walk through skipped steps, or one cascade of them.
        self.attr_true = _zeros(run.max_attributes, "i")
        self.mark = _zeros(s, "q")
        self.reached = _zeros(s, "q")
        self.walk = 0
        self.stack = _zeros(s, "i")
        self.timed = run.timed
        self.a_held = _zeros(0, "i")
        self.a_held_t = _zeros(0, "d")
        self.a_held_work = _zeros(0, "d")
        self.a_held_delay = _zeros(0, "d")
        self.a_ahead = _zeros(0, "d")  # per slot and reach entry: a held file's hand-off delay drawn ahead, or -1
        if self.timed:
            self._init_timed(run)
        self._grow(1024)
        self._init_events()
        # Accounts.
        self.admitted = 0
        self.wip = 0
        self.wip_area = 0.0
        self.wip_last = 0.0
        self.measured_left = 0  # applications that arrived in the window and are not done
        self.in_system = 0  # applications and cases of every type: the safety limit counts them all
        self.arrived = 0
        self.completed_in_window = 0
        self.handoffs = 0
        self.visits = 0
        self.admitting = True
        self.truncated = False
        self.c_wait = self.c_proc = self.c_sign = self.c_hand = self.c_back = 0.0
        # The same five sums per project type (f's at 5 f ... 5 f + 4), added in the same order.
        self.c_flow = _zeros(5 * self.n_flows, "d")
        self.samples = _local(run.sample_times)
        self.n_samples = len(run.sample_times)
        self.next_sample = 0
        self.next_sample_time = self.samples[0] if self.n_samples else math.inf
        self.wip_samples: list[tuple[float, int]] = []
        # Output: room for the applications expected, so that the arrays rarely grow.
        self.n_out = 0
        self.out_start = _output_zeros(run.output_room, "d")
        self.out_end = _output_zeros(run.output_room, "d")
        self.out_applicant = _output_zeros(run.output_room, "d")
        self.out_flow = _output_zeros(run.output_room, "H")
        self.records: list[tuple] = []
        # Per-visit events for an event log, only when asked (a flag test on the hot path otherwise).
        self.log_on = run.event_sink is not None
        self.event_sink: Any = run.event_sink
        self.log_n = 0
        self.log_size = BATCH_EVENTS if self.log_on else 0
        self.log_case = _output_zeros(self.log_size, "q")
        self.log_k = _output_zeros(self.log_size, "q")
        self.log_t0 = _output_zeros(self.log_size, "d")
        self.log_t1 = _output_zeros(self.log_size, "d")
        self.log_t2 = _output_zeros(self.log_size, "d")
        self.log_flow = _output_zeros(self.log_size, "i")
        self.log_step = _output_zeros(self.log_size, "i")
        self.log_other = _output_zeros(self.log_size, "i")
        self.log_kind = _output_zeros(self.log_size, "i")

    # ------------------------------------------------------------ STORAGE: the event heap
    def _init_events(self) -> None:
        if cython.compiled:
            self.ev_store = np.zeros(1024, dtype=EVENT)
            self.ev = self.ev_store
            self.n_ev = 0
        else:
            self.heap: list[tuple[float, int, int, int, int]] = []

    def _push(self, t: float, key: int, kind: int, a: int, b: int) -> None:
        """Schedule event ``kind`` at ``t`` (``a``: slot or project type, ``b``: step)."""
        if cython.compiled:
            if self.n_ev == self.ev.shape[0]:
                self.ev_store = np.concatenate((self.ev_store, np.zeros(self.n_ev, dtype=EVENT)))
                self.ev = self.ev_store
            i = self.n_ev
            self.n_ev += 1
            while i > 0:  # sift up
                p = (i - 1) >> 1
                if t < self.ev[p].t or (t == self.ev[p].t and key < self.ev[p].key):
                    self.ev[i] = self.ev[p]
                    i = p
                else:
                    break
            self.ev[i].t = t
            self.ev[i].key = key
            self.ev[i].kind = kind
            self.ev[i].a = a
            self.ev[i].b = b
        else:
            heappush(self.heap, (t, key, kind, a, b))

    def _pop_before(self, until: float) -> tuple[float, int, int, int, int]:
        """The next event if it falls before ``until``, else one of kind NO_EVENT."""
        if cython.compiled:
            if self.n_ev == 0 or self.ev[0].t >= until:
                return until, 0, NO_EVENT, 0, 0
            top = self.ev[0]
            self.n_ev -= 1
            n = self.n_ev
            if n > 0:  # the last entry goes to the root and sifts down
                last = self.ev[n]
                i = 0
                while True:
                    c = 2 * i + 1
                    if c >= n:
                        break
                    if c + 1 < n and (self.ev[c + 1].t < self.ev[c].t or (
                            self.ev[c + 1].t == self.ev[c].t and self.ev[c + 1].key < self.ev[c].key)):
                        c += 1
                    if self.ev[c].t < last.t or (self.ev[c].t == last.t and self.ev[c].key < last.key):
                        self.ev[i] = self.ev[c]
                        i = c
                    else:
                        break
                self.ev[i] = last
            return top.t, top.key, top.kind, top.a, top.b
        else:
            heap = self.heap
            if heap and heap[0][0] < until:
                return heappop(heap)
            return until, 0, NO_EVENT, 0, 0

    # ------------------------------------------------------------ STORAGE: servers
    def _init_servers(self, servers: np.ndarray) -> None:
        """Every server of every queue is free from time 0."""
        if cython.compiled:
            self.server_start = np.concatenate(([0], np.cumsum(servers))).astype(np.int32)
            self.free_t = np.zeros(int(servers.sum()))
        else:
            self.free = [[0.0] * n for n in servers.tolist()]

    def _take_server(self, q: int, t: float, work: float) -> float:
        """A file arriving at queue ``q`` at ``t`` needing ``work``: its start (the FIFO recursion).

        The start is the later of ``t`` and the earliest time a server of the
        queue falls free; that server is then busy until start + work.
        """
        if cython.compiled:
            # The queue's free times are a binary heap in free_t[off:off + n]:
            # the earliest becomes start + work and sifts down.
            off = self.server_start[q]
            n = self.server_start[q + 1] - off
            s = self.free_t[off]
            if s < t:
                s = t
            e = s + work
            i = 0
            while True:
                c = 2 * i + 1
                if c >= n:
                    break
                if c + 1 < n and self.free_t[off + c + 1] < self.free_t[off + c]:
                    c += 1
                if self.free_t[off + c] < e:
                    self.free_t[off + i] = self.free_t[off + c]
                    i = c
                else:
                    break
            self.free_t[off + i] = e
            return s
        else:
            free = self.free[q]
            s = free[0]
            if s < t:
                s = t
            heapreplace(free, s + work)
            return s

    # ------------------------------------------------------------ STORAGE: slots and rows
    def _grow(self, n: int) -> None:
        """Room for ``n`` applications in the system at once (new slots go on the free list)."""
        extra = n - self.n_slots
        w, s = self.width, self.steps
        self.a_flow = _grown(self.a_flow, extra, "i")
        self.a_left = _grown(self.a_left, extra, "i")
        self.a_last = _grown(self.a_last, extra, "i")
        self.a_handoffs = _grown(self.a_handoffs, extra, "i")
        self.a_k = _grown(self.a_k, extra, "q")
        self.a_no = _grown(self.a_no, extra, "q")
        self.a_t_arrive = _grown(self.a_t_arrive, extra, "d")
        self.a_t_last = _grown(self.a_t_last, extra, "d")
        self.a_draws = _grown(self.a_draws, extra * w, "d")
        self.a_comp = _grown(self.a_comp, extra * 5 * s, "d")
        self.a_cand = _grown(self.a_cand, extra * 5 * s, "d")
        self.a_t_ready = _grown(self.a_t_ready, extra * s, "d")
        self.a_crit = _grown(self.a_crit, extra * s, "i")
        self.a_visits = _grown(self.a_visits, extra * s, "i")
        self.a_pending = _grown(self.a_pending, extra * s, "i")
        self.a_needed = _grown(self.a_needed, extra * s, "i")
        self.a_done = _grown(self.a_done, extra * s, "i")
        self.a_cond = _grown(self.a_cond, extra * self.conds, "i")
        self.a_fired = _grown(self.a_fired, extra * self.reach, "i")
        self.a_base_t = _grown(self.a_base_t, extra, "d")
        self.a_base_comp = _grown(self.a_base_comp, extra * 5, "d")
        if self.timed:
            self.a_held = _grown(self.a_held, extra * s, "i")
            self.a_held_t = _grown(self.a_held_t, extra * s, "d")
            self.a_held_work = _grown(self.a_held_work, extra * s, "d")
            self.a_held_delay = _grown(self.a_held_delay, extra * s, "d")
            self.a_ahead = _grown(self.a_ahead, extra * self.reach, "d")
            for k in range(self.n_slots * self.reach, n * self.reach):
                self.a_ahead[k] = -1.0
        self.free_slots = _grown(self.free_slots, extra, "i")
        for k in range(n - 1, self.n_slots - 1, -1):  # lowest last, so that it is used first
            self.free_slots[self.n_free] = k
            self.n_free += 1
        self.n_slots = n

    def _take_row(self, slot: int, f: int) -> None:
        """The next first-visit row of project type ``f`` into ``slot``'s draws (rows come by the block)."""
        r = self.next_row[f]
        block = self.row_blocks[f]
        if block is None or r == len(block):
            if cython.compiled:
                block = np.ascontiguousarray(self.first_visit[f].block(), dtype=np.float64)
            else:
                block = self.first_visit[f].block().tolist()
            self.row_blocks[f] = block
            r = 0
        self.next_row[f] = r + 1
        base = slot * self.width
        if cython.compiled:
            rows = block
            for c in range(rows.shape[1]):
                self.a_draws[base + c] = rows[r, c]
        else:
            row = block[r]
            self.a_draws[base:base + len(row)] = row

    def _reset_slot(self, slot: int, g: int, n: int, simple: bool) -> None:
        """Clear ``slot``'s per-step accounts for ``n`` steps, which wait for step_predecessors[g:g + n].

        A simple project type's files read none of the routing's accounts (steps needed,
        rounds, pairs handed across, the base of a new round): those are left as they are.
        """
        b = slot * self.steps
        if cython.compiled:
            for i in range(n):
                for c in range(5):
                    self.a_comp[5 * (b + i) + c] = 0.0
                self.a_t_ready[b + i] = -1.0
                self.a_crit[b + i] = -1
                self.a_visits[b + i] = 0
                self.a_pending[b + i] = self.step_predecessors[g + i]
                if not simple:
                    self.a_done[b + i] = 0
                    self.a_needed[b + i] = 1
        else:  # the whole stride at once, from lists made once
            s = self.steps
            zeros5, minus_ones, int_zeros, int_minus_ones, ones = self.blank
            self.a_comp[5 * b:5 * (b + s)] = zeros5
            self.a_t_ready[b:b + s] = minus_ones
            self.a_crit[b:b + s] = int_minus_ones
            self.a_visits[b:b + s] = int_zeros
            self.a_pending[b:b + n] = self.step_predecessors[g:g + n]
            if not simple:
                self.a_done[b:b + s] = int_zeros
                self.a_needed[b:b + s] = ones
        if simple:
            return
        if cython.compiled:
            for c in range(self.reach):
                self.a_fired[slot * self.reach + c] = 0
            for c in range(5):
                self.a_base_comp[5 * slot + c] = 0.0
        else:
            self.a_fired[slot * self.reach:(slot + 1) * self.reach] = self.no_fired
            self.a_base_comp[5 * slot:5 * slot + 5] = self.blank[0][:5]
        self.a_base_t[slot] = 0.0
        if self.timed:  # hand-off delays drawn ahead are used by the held file; a slot reused starts clear
            for c in range(self.reach):
                self.a_ahead[slot * self.reach + c] = -1.0

    # ------------------------------------------------------------ event log
    def _log(self, kind: int, slot: int, step: int, other: int, t0: float, t1: float, t2: float) -> None:
        """Record one event of the application in ``slot`` (orgsim.eventlog.events); hand on a full batch."""
        n = self.log_n
        self.log_case[n] = self.a_no[slot]
        self.log_k[n] = self.a_k[slot]
        self.log_flow[n] = self.a_flow[slot]
        self.log_step[n] = step
        self.log_other[n] = other
        self.log_kind[n] = kind
        self.log_t0[n] = t0
        self.log_t1[n] = t1
        self.log_t2[n] = t2
        self.log_n = n + 1
        if self.log_n == self.log_size:
            self._flush_log()

    def _flush_log(self) -> None:
        n = self.log_n
        if n == 0:
            return
        batch = np.zeros(n, dtype=EVENT_DTYPE)
        batch["case"] = _array(self.log_case, n, "q")
        batch["k"] = _array(self.log_k, n, "q")
        batch["t_enable"] = _array(self.log_t0, n, "d")
        batch["t_start"] = _array(self.log_t1, n, "d")
        batch["t_end"] = _array(self.log_t2, n, "d")
        batch["flow"] = _array(self.log_flow, n, "i")
        batch["step"] = _array(self.log_step, n, "i")
        batch["other"] = _array(self.log_other, n, "i")
        batch["kind"] = _array(self.log_kind, n, "i")
        self.log_n = 0
        self.event_sink(batch)

    # ------------------------------------------------------------ queues
    def _serve(self, q: int, t: float, work: float) -> float:
        """A file reaches queue ``q`` at ``t`` needing ``work``: its start; the integrals, clipped to the window."""
        s = self._take_server(q, t, work)
        self._account(q, t, s, work)
        return s

    def _account(self, q: int, t: float, s: float, work: float) -> None:
        """A file reached queue ``q`` at ``t``, started at ``s``, works ``work``: the integrals, within the window."""
        e = s + work
        t0, horizon = self.t0, self.horizon
        if s >= t0 and e <= horizon:
            self.busy[q] += work
        elif e > t0 and s < horizon:
            self.busy[q] += min(e, horizon) - max(s, t0)
        if s > t and s > t0 and t < horizon:
            self.waiting[q] += min(s, horizon) - max(t, t0)

    def _needed(self, slot: int, c: int) -> bool:
        """Whether the application in ``slot`` meets condition ``c`` of its project type (-1: always)."""
        return c < 0 or self.a_cond[slot * self.conds + c] != 0

    def _officers(self, t: float, slot: int, i: int) -> None:
        """The application in ``slot`` reaches the officers of its step ``i`` at ``t``."""
        f = self.a_flow[slot]
        g = self.flow_first_step[f] + i
        b = slot * self.steps + i
        d = slot * self.width
        if self.timed and self.a_held[b] != 0:  # held at a change: moves to its function's new queue
            self._timed_officers(t, slot, i, g, b, self.a_held_work[b], self.a_held_delay[b])
            return
        visit = self.a_visits[b]
        self.a_visits[b] = visit + 1
        lo, hi = self.step_service_start[g], self.step_service_start[g + 1]
        back = False
        if visit == 0:  # the first visit's draws are in the application's row
            if hi - lo == 1:
                work = self.a_draws[d + self.service_column[lo]]
            else:
                work = self._combined(slot, g, d, lo, hi, True)
            m, end = self.step_rework_start[g], self.step_rework_start[g + 1]
            while m < end:
                if self.a_draws[d + self.rework_column[m]] < self.rework_probability[m] and (
                        self.flow_conditional[f] == 0 or self._needed(slot, self.rework_condition[m])):
                    back = True
                m += 1
        else:
            if hi - lo == 1:
                work = self.revisit_service[self.service_stream[lo]].take()
            else:
                work = self._combined(slot, g, d, lo, hi, False)
            m, end = self.step_rework_start[g], self.step_rework_start[g + 1]
            while m < end:
                # Draw for every function needed (no short cut) so stream positions never depend on order.
                if (self.flow_conditional[f] == 0 or self._needed(slot, self.rework_condition[m])) and (
                        self.revisit_rework[self.rework_stream[m]].take() < self.rework_probability[m]):
                    back = True
                m += 1
        delay = -1.0
        if back:
            resubmission = self.resubmission[f]
            delay = 0.0 if resubmission is None else resubmission.take() * self.flow_delay_factor[f]
        if self.timed:
            self._timed_officers(t, slot, i, g, b, work, delay)
            return
        q = self.step_queue[g]
        work = work * self.queue_stretch[q]
        s = self._serve(q, t, work)
        self._officers_end(slot, i, g, b, t, s, work, delay)

    def _officers_end(self, slot: int, i: int, g: int, b: int, t: float, s: float, work: float,
                      delay: float) -> None:
        """Step ``i`` of the application in ``slot``, reached at ``t``, started at ``s`` and worked ``work``: on."""
        e = s + work
        k = 5 * b  # the path's parts so far: waiting, processing, sign-off, hand-off, applicant
        self.a_comp[k] += s - t
        self.a_comp[k + 1] += work
        if self.log_on:
            visit = self.a_visits[b] - 1
            self._log(LOG_SERVICE, slot, i, visit, t, s, e)
            if delay >= 0:
                self._log(LOG_APPLICANT, slot, i, visit, e, e, e + delay)
        if delay >= 0:
            if self.step_rework_to[g] < 0:  # back to the applicant, then to the same step
                self.a_comp[k + 4] += delay
                self._push(e + delay, officers_key(self.a_no[slot], i), OFFICERS, slot, i)
            else:  # back to the applicant, then to an earlier step
                self._send_back(slot, i, g, e, delay)
        elif self.step_signoff_start[g + 1] > self.step_signoff_start[g]:
            self._push(e, signoff_key(self.a_no[slot], i, 0), SIGNOFF, slot, i)
        else:
            self._step_done(e, slot, i, g)

    def _combined(self, slot: int, g: int, d: int, lo: int, hi: int, first: bool) -> float:
        """The working time of step ``g`` with several functions: the times of those needed, combined."""
        total = best = 0.0
        seen = False
        for m in range(lo, hi):
            if not self._needed(slot, self.service_condition[m]):
                continue
            if first:
                x = self.a_draws[d + self.service_column[m]]
            else:
                x = self.revisit_service[self.service_stream[m]].take()
            if not seen or x > best:
                best = x
            seen = True
            total = total + x
        if self.step_combine[g] == COMBINE_MAX:
            return best
        if self.step_combine[g] == COMBINE_SUM:
            return total
        return total * self.step_factor[g]

    def _signoff(self, t: float, slot: int, i: int, level: int) -> None:
        """The application in ``slot``: its step ``i`` reaches its sign-off at ``level`` at ``t``."""
        f = self.a_flow[slot]
        g = self.flow_first_step[f] + i
        m = self.step_signoff_start[g] + level
        b = slot * self.steps + i
        if self.timed and self.a_held[b] != 0:
            d = self.a_held_work[b]
        elif self.flow_simple[f] or self.a_done[b] == 0:  # the first round's sign-offs are in the application's row
            d = self.a_draws[slot * self.width + self.signoff_column[m]]
        else:
            d = self.redraw[self.signoff_redraw[m]].take()
        if self.timed:
            self._timed_signoff(t, slot, i, level, g, m, b, d)
            return
        s = self._serve(self.signoff_queue[m], t, d)
        self._signoff_end(slot, i, level, g, m, b, t, s, d)

    def _signoff_end(self, slot: int, i: int, level: int, g: int, m: int, b: int, t: float, s: float,
                     work: float) -> None:
        """The sign-off at ``level``, reached at ``t``, started at ``s`` and took ``work``: the next level, or on."""
        e = s + work
        self.a_comp[5 * b + 2] += s - t + work
        if self.log_on:
            self._log(LOG_SIGNOFF, slot, i, level, t, s, e)
        if m + 1 < self.step_signoff_start[g + 1]:
            self._push(e, signoff_key(self.a_no[slot], i, level + 1), SIGNOFF + level + 1, slot, i)
        else:
            self._step_done(e, slot, i, g)

    def _step_done(self, e: float, slot: int, i: int, g: int) -> None:
        """Step ``i`` (``g`` of all steps) of the application in ``slot`` ends at ``e``.

        Hand the file on, or finish it. The file is handed across a pair of
        steps once (``a_fired``), and again after a send-back that redoes
        both; a step the application skips passes it on to the steps after
        it, each paying the hand-off from this step.
        """
        # The latest step end so far: ties go to the lower step index, so that
        # the result does not depend on the order of simultaneous events.
        if e > self.a_t_last[slot] or (e == self.a_t_last[slot] and i < self.a_last[slot]):
            self.a_t_last[slot] = e
            self.a_last[slot] = i
        self.a_left[slot] -= 1
        if self.a_left[slot] == 0:
            self._push(self.a_t_last[slot], done_key(self.a_no[slot]), DONE, slot, self.a_last[slot])
            return
        b = slot * self.steps
        f = self.a_flow[slot]
        start, end = self.step_successor_start[g], self.step_successor_start[g + 1]
        r0 = self.step_reach_start[g]
        if self.flow_simple[f]:
            # Every step is needed, each done once: hand over to each successor and queue the
            # file there once the last hand-off is in, with the parts of the path through it.
            m = start
            while m < end:  # successors come first in the reach list, in the same order
                j = self.successor_step[m]
                self._hand(slot, b, i, j, r0 + m - start, e, True, True)
                bj = b + j
                self.a_pending[bj] -= 1
                if self.a_pending[bj] == 0:  # the parts through the last to hand over, and its hand-off
                    dst = 5 * bj
                    _copy5(self.a_comp, dst, self.a_comp, 5 * (b + self.a_crit[bj]))
                    self.a_comp[dst + 3] += self.a_cand[dst + 3]
                    self._push(self.a_t_ready[bj], officers_key(self.a_no[slot], j), OFFICERS, slot, j)
                m += 1
            return
        fb = slot * self.reach - self.step_reach_start[self.flow_first_step[f]]  # a_fired[fb + r]: reach entry r
        first = self.a_done[b + i] == 0
        self.a_done[b + i] += 1
        if self.flow_conditional[f] == 0:
            # Every step is needed: hand over to each successor and count it done for it at once.
            m = start
            while m < end:  # successors come first in the reach list, in the same order
                j = self.successor_step[m]
                r = fb + r0 + m - start
                if self.a_fired[r] == 0:
                    self._hand(slot, b, i, j, r0 + m - start, e, first, False)
                    self.a_fired[r] = 1
                    self.a_pending[b + j] -= 1
                    if self.a_pending[b + j] == 0:
                        self._release(slot, j)
                m += 1
            return
        self._walk(slot, b, fb, i, g, e, first)
        m = start
        while m < end:  # the successors: one predecessor fewer to wait for
            j = self.successor_step[m]
            r = fb + r0 + m - start
            if self.a_fired[r] == 0:
                self.a_fired[r] = 1
                self.a_pending[b + j] -= 1
                if self.a_pending[b + j] == 0:
                    self._release(slot, j)
            m += 1

    def _walk(self, slot: int, b: int, fb: int, i: int, g: int, e: float, first: bool) -> None:
        """Hand the file from step ``i`` to the steps it reaches through those the application skips."""
        w = self._mark_reached(b, g - i, g)
        direct = self.step_successor_start[g + 1] - self.step_successor_start[g]
        r, end = self.step_reach_start[g], self.step_reach_start[g + 1]
        r0 = r
        while r < end:  # in the order of the reach list: the order of second-round draws
            k = self.reach_step[r]
            if self.reached[k] == w and self.a_fired[fb + r] == 0:
                self._hand(slot, b, i, k, r, e, first, False)
                if r - r0 >= direct:  # past a skipped step (a successor is marked with its predecessors)
                    self.a_fired[fb + r] = 1
            r += 1

    def _mark_reached(self, b: int, g0: int, g: int) -> int:
        """Mark (``reached[k] == w``, w returned) the needed steps a file reaches from step ``g`` past skipped ones."""
        self.walk += 1
        w = self.walk
        top = 0
        m, end = self.step_successor_start[g], self.step_successor_start[g + 1]
        while m < end:
            j = self.successor_step[m]
            if self.mark[j] != w:
                self.mark[j] = w
                self.stack[top] = j
                top += 1
            m += 1
        while top > 0:
            top -= 1
            j = self.stack[top]
            if self.a_needed[b + j]:
                self.reached[j] = w
                continue
            m, end = self.step_successor_start[g0 + j], self.step_successor_start[g0 + j + 1]
            while m < end:
                k = self.successor_step[m]
                if self.mark[k] != w:
                    self.mark[k] = w
                    self.stack[top] = k
                    top += 1
                m += 1
        return w

    def _hand(self, slot: int, b: int, i: int, k: int, r: int, e: float, first: bool, simple: bool) -> None:
        """Step ``i``, ended at ``e``, hands the file to step ``k`` (entry ``r`` of its reach list).

        The candidate parts of the path to step ``k`` are those through step
        ``i`` plus the hand-off; in a ``simple`` project type step ``i``'s parts
        are final once it is done, so only the hand-off is kept and step ``k``
        adds it to them when it is queued.
        """
        column = self.reach_column[r]
        if column < 0:
            delay = 0.0
        elif first:
            delay = self.a_draws[slot * self.width + column]
        else:
            x = slot * self.reach + r - self.step_reach_start[self.flow_first_step[self.a_flow[slot]]]
            if self.timed and self.a_ahead[x] >= 0:  # drawn when the file, held at a change, reached its queue
                delay = self.a_ahead[x]
                self.a_ahead[x] = -1.0
            else:
                delay = self.redraw[self.reach_redraw[r]].take()
        self.a_handoffs[slot] += 1
        at = e + delay
        if self.log_on:
            self._log(LOG_HANDOFF, slot, i, k, e, e, at)
        bk = b + k
        # When each step's last predecessor hands over (ties to the lower step
        # index), and the parts of the path through it.
        if at > self.a_t_ready[bk] or (at == self.a_t_ready[bk] and i < self.a_crit[bk]):
            self.a_t_ready[bk] = at
            self.a_crit[bk] = i
            dst = 5 * bk
            if simple:
                self.a_cand[dst + 3] = delay
            else:
                _copy5(self.a_cand, dst, self.a_comp, 5 * (b + i))
                self.a_cand[dst + 3] += delay

    def _release(self, slot: int, j: int) -> None:
        """Every predecessor of step ``j`` has handed over (or it has none): queue the file, or pass it on.

        A step the application needs is queued when its last hand-off
        arrives, with the parts of the path through it; one without a hand-off
        (no step done before it in this round) gets the file from the
        applicant, at the slot's base time. A step it skips counts as done
        for the successors that wait for it in this round.
        """
        b = slot * self.steps
        g0 = self.flow_first_step[self.a_flow[slot]]
        fb = slot * self.reach - self.step_reach_start[g0]
        self.stack[0] = j
        top = 1
        while top > 0:
            top -= 1
            j = self.stack[top]
            bj = b + j
            if self.a_needed[bj]:
                dst = 5 * bj
                if self.a_crit[bj] < 0:
                    at = self.a_base_t[slot]
                    _copy5(self.a_comp, dst, self.a_base_comp, 5 * slot)
                else:
                    at = self.a_t_ready[bj]
                    _copy5(self.a_comp, dst, self.a_cand, dst)
                self._push(at, officers_key(self.a_no[slot], j), OFFICERS, slot, j)
                continue
            m, end = self.step_successor_start[g0 + j], self.step_successor_start[g0 + j + 1]
            r = fb + self.step_reach_start[g0 + j] - m
            while m < end:
                k = self.successor_step[m]
                if self.a_fired[r + m] == 0:
                    self.a_fired[r + m] = 1
                    self.a_pending[b + k] -= 1
                    if self.a_pending[b + k] == 0:
                        self.stack[top] = k
                        top += 1
                m += 1

    def _send_back(self, slot: int, i: int, g: int, e: float, delay: float) -> None:
        """Step ``i`` sends the file back at ``e``; after ``delay`` it goes to the step's ``rework_to`` target.

        The steps on a path from the target to step ``i`` start a new round,
        waiting for their predecessors among them (the file is handed across
        each pair of them again; pairs from other steps stay handed across),
        and draw their visits, sign-offs and hand-offs again; the path goes on
        from step ``i``'s, plus the applicant's time.
        """
        b = slot * self.steps
        g0 = g - i
        fb = slot * self.reach - self.step_reach_start[g0]
        _copy5(self.a_base_comp, 5 * slot, self.a_comp, 5 * (b + i))
        self.a_base_comp[5 * slot + 4] += delay
        self.a_base_t[slot] = e + delay
        self.walk += 1
        w = self.walk
        start, end = self.step_redo_start[g], self.step_redo_start[g + 1]
        m = start
        while m < end:
            y = self.redo_step[m]
            self.mark[y] = w
            by = b + y
            if y != i and self.a_needed[by]:
                self.a_left[slot] += 1  # done, and to be done again
            self.a_pending[by] = self.redo_pending[m]
            self.a_t_ready[by] = -1.0
            self.a_crit[by] = -1
            m += 1
        m = start
        while m < end:  # the pairs within the steps done again are handed across again
            y = self.redo_step[m]
            r, rend = self.step_reach_start[g0 + y], self.step_reach_start[g0 + y + 1]
            while r < rend:
                if self.mark[self.reach_step[r]] == w:
                    self.a_fired[fb + r] = 0
                r += 1
            m += 1
        self._release(slot, self.step_rework_to[g])

    # ------------------------------------------------------------ a programme over time (timed runs)
    # Servers are tenures (from, to, hired): a file arriving at t takes, among the servers whose
    # tenure is not over, the one with the earliest max(free, t) (ties: the earlier free, then the
    # lower tenure); a server whose max(free, t) reaches its `to` can never start again (arrivals
    # come in time order) and is dropped. The work is stretched by the queue's pace in the phase
    # at the start and by the server's learning curve then. A file whose start would fall at or
    # after the next change of phase, where its step's queue changes, is held: at the change it
    # joins the new queue (in the canonical order), with the draws it took when it arrived.
    def _init_timed(self, run: RunInput) -> None:
        self.n_phases = run.n_phases
        self.phase_start = _local(run.phase_start)
        self.flow_next = _local(run.flow_next)
        self.flow_until = _local(run.flow_until)
        self.step_queue_at = _local(run.step_queue_at)
        self.signoff_queue_at = _local(run.signoff_queue_at)
        self.queue_stretch_at = _local(run.queue_stretch_at)
        self.tenure_to = _local(run.tenure_to)
        self.tenure_hired = _local(run.tenure_hired)
        self.learn_start = run.learn_start
        self.learn_days = run.learn_days
        self._init_tenures(run)

    # STORAGE: each queue's tenures, a heap ordered by (free from, tenure): compiled, flat arrays
    # (queue q's heap at ten_free/ten_k[ten_start[q]:ten_start[q] + ten_n[q]]); in Python, one heapq
    # list of tuples per queue. Tenures are distinct, so the top is the same in both.
    def _init_tenures(self, run: RunInput) -> None:
        if cython.compiled:
            order = np.lexsort((np.arange(len(run.tenure_queue)), run.tenure_from, run.tenure_queue))
            self.ten_free = np.ascontiguousarray(run.tenure_from[order], dtype=np.float64)  # sorted: a heap
            self.ten_k = order.astype(np.int32)
            counts = np.bincount(run.tenure_queue, minlength=run.n_queues).astype(np.int32)
            self.ten_start = np.concatenate(([0], np.cumsum(counts))).astype(np.int32)
            self.ten_n = counts
        else:
            heaps: list[list[tuple[float, int]]] = [[] for _ in range(run.n_queues)]
            for k, (q, start) in enumerate(zip(run.tenure_queue.tolist(), run.tenure_from.tolist(), strict=True)):
                heaps[q].append((start, k))
            for h in heaps:
                heapify(h)
            self.tenures = heaps

    def _tenure_top(self, q: int) -> tuple[float, int]:
        """Queue ``q``'s tenure free soonest (lowest first among equals), or (inf, -1): none left."""
        if cython.compiled:
            if self.ten_n[q] == 0:
                return math.inf, -1
            off = self.ten_start[q]
            return self.ten_free[off], self.ten_k[off]
        else:
            h = self.tenures[q]
            return h[0] if h else (math.inf, -1)

    def _tenure_pop(self, q: int) -> None:
        """Drop queue ``q``'s top tenure (over: it can start nothing more)."""
        if cython.compiled:
            n = self.ten_n[q] - 1
            self.ten_n[q] = n
            off = self.ten_start[q]
            self._tenure_sift(off, n, self.ten_free[off + n], self.ten_k[off + n])
        else:
            heappop(self.tenures[q])

    def _tenure_replace(self, q: int, free: float) -> None:
        """Queue ``q``'s top tenure is next free at ``free``."""
        if cython.compiled:
            off = self.ten_start[q]
            self._tenure_sift(off, self.ten_n[q], free, self.ten_k[off])
        else:
            h = self.tenures[q]
            heapreplace(h, (free, h[0][1]))

    def _tenure_sift(self, off: int, n: int, free: float, k: int) -> None:
        """Compiled only: put (free, k) at the root of the heap at ``off`` of ``n`` entries and sift it down."""
        i = 0
        while True:
            c = 2 * i + 1
            if c >= n:
                break
            if c + 1 < n and (self.ten_free[off + c + 1] < self.ten_free[off + c] or (
                    self.ten_free[off + c + 1] == self.ten_free[off + c]
                    and self.ten_k[off + c + 1] < self.ten_k[off + c])):
                c += 1
            if self.ten_free[off + c] < free or (self.ten_free[off + c] == free and self.ten_k[off + c] < k):
                self.ten_free[off + i] = self.ten_free[off + c]
                self.ten_k[off + i] = self.ten_k[off + c]
                i = c
            else:
                break
        if n > 0:
            self.ten_free[off + i] = free
            self.ten_k[off + i] = k

    def _phase_at(self, t: float) -> int:
        p = 0
        while p + 1 < self.n_phases and self.phase_start[p + 1] <= t:
            p += 1
        return p

    def _earliest(self, q: int, t: float) -> tuple[float, int]:
        """When a file arriving at queue ``q`` at ``t`` would start, and on which tenure (inf, -1: never)."""
        while True:
            free, k = self._tenure_top(q)
            if k < 0:
                return math.inf, -1
            s = free if free > t else t
            if s < self.tenure_to[k]:
                return s, k
            self._tenure_pop(q)

    def _pace(self, q: int, p: int, k: int, s: float) -> float:
        """Elapsed working time per unit of work at queue ``q`` in phase ``p`` on tenure ``k`` starting at ``s``."""
        stretch = self.queue_stretch_at[q * self.n_phases + p]
        if self.learn_days > 0:
            x = (s - self.tenure_hired[k]) / self.learn_days
            if x < 1:
                stretch = stretch / (self.learn_start + (1.0 - self.learn_start) * x)
        return stretch

    def _timed_place(self, t: float, slot: int, i: int, b: int, at: int, key: int, kind: int,
                     raw: float, delay: float, g: int, ends_round: bool) -> tuple[float, float, float]:
        """Serve a visit (``raw`` work) whose queue in phase p is ``queues_at[at + p]``; or hold it.

        ``ends_round``: the visit, when served, ends the round of step ``i`` (``g`` of all
        steps) and hands the file on. Returns (reached, start, work); start < 0 when the
        file is held (or never served).
        """
        p = self._phase_at(t)
        officers = kind == OFFICERS
        q = self.step_queue_at[at + p] if officers else self.signoff_queue_at[at + p]
        reached = self.a_held_t[b] if self.a_held[b] != 0 else t
        s, k = self._earliest(q, t)
        n = p + 1
        while n < self.n_phases and s >= self.phase_start[n]:
            if k < 0 or (self.step_queue_at[at + n] if officers else self.signoff_queue_at[at + n]) != q:
                # it would still wait at the change n: held until then
                change = self.phase_start[n]
                self._account(q, t, change, 0.0)  # waiting in the old queue until the change
                if self.a_held[b] == 0 and ends_round:
                    self._draw_ahead(slot, i, g)
                self.a_held[b] = 1
                self.a_held_t[b] = reached
                self.a_held_work[b] = raw
                self.a_held_delay[b] = delay
                self._push(change, key, kind, slot, i)
                return reached, -1.0, 0.0
            n += 1
        self.a_held[b] = 0
        if k < 0:  # no one will ever serve this queue: the file never leaves it
            self._account(q, t, math.inf, 0.0)
            return reached, -1.0, 0.0
        work = raw * self._pace(q, self._phase_at(s), k, s)
        self._tenure_replace(q, s + work)
        self._account(q, t, s, work)
        return reached, s, work

    def _draw_ahead(self, slot: int, i: int, g: int) -> None:
        """The second-round hand-off delays of a file held at the visit that ends step ``i``'s round.

        Every draw of a visit is taken when the file reaches the queue, in the
        order files reach queues (the SimPy engine draws hand-offs there too);
        a held file hands on only after the change, so its delays wait in
        ``a_ahead`` (for ``_hand``). First-round delays are in the application's row.
        """
        b = slot * self.steps
        f = self.a_flow[slot]
        if self.flow_simple[f] or self.a_done[b + i] == 0:  # a simple type's round is always its first
            return
        fb = slot * self.reach - self.step_reach_start[self.flow_first_step[f]]
        r, end = self.step_reach_start[g], self.step_reach_start[g + 1]
        w = -1
        if self.flow_conditional[f] == 0:  # every step needed: the successors, first in the reach list
            end = r + self.step_successor_start[g + 1] - self.step_successor_start[g]
        else:
            w = self._mark_reached(b, g - i, g)
        while r < end:  # in the order of the reach list, as _hand takes them
            if (w < 0 or self.reached[self.reach_step[r]] == w) and self.a_fired[fb + r] == 0 \
                    and self.reach_column[r] >= 0:
                self.a_ahead[fb + r] = self.redraw[self.reach_redraw[r]].take()
            r += 1

    def _timed_officers(self, t: float, slot: int, i: int, g: int, b: int, raw: float, delay: float) -> None:
        ends = delay < 0 and self.step_signoff_start[g + 1] == self.step_signoff_start[g]
        reached, s, work = self._timed_place(t, slot, i, b, g * self.n_phases, officers_key(self.a_no[slot], i),
                                             OFFICERS, raw, delay, g, ends)
        if s >= 0:
            self._officers_end(slot, i, g, b, reached, s, work, delay)

    def _timed_signoff(self, t: float, slot: int, i: int, level: int, g: int, m: int, b: int, d: float) -> None:
        reached, s, work = self._timed_place(t, slot, i, b, m * self.n_phases,
                                             signoff_key(self.a_no[slot], i, level), SIGNOFF + level, d, -1.0,
                                             g, m + 1 == self.step_signoff_start[g + 1])
        if s >= 0:
            self._signoff_end(slot, i, level, g, m, b, reached, s, work)

    # ------------------------------------------------------------ applications
    def _in_system_change(self, now: float, delta: int) -> None:
        if now > self.warmup:
            since = self.wip_last if self.wip_last > self.warmup else self.warmup
            self.wip_area += (now - since) * self.wip
        self.wip_last = now
        self.wip += delta

    def _arrive(self, f: int, t: float) -> None:
        """A new application of project type ``f`` at ``t`` (unless arrivals are stopped)."""
        self.flow_applicants[f] += 1
        if not self.admitting:
            return
        if self.n_free == 0:
            self._grow(2 * self.n_slots)
        self.n_free -= 1
        slot = self.free_slots[self.n_free]
        self._take_row(slot, f)
        g = self.flow_first_step[f]
        n = self.flow_first_step[f + 1] - g
        self._reset_slot(slot, g, n, self.flow_simple[f] != 0)
        self.a_base_t[slot] = t
        self.a_flow[slot] = f
        self.a_k[slot] = self.flow_applicants[f] - 1  # the k-th applicant of its project type
        self.a_no[slot] = self.admitted  # the no-th admitted in the run: orders simultaneous events
        self.admitted += 1
        self.a_t_arrive[slot] = t
        self.a_left[slot] = n if self.flow_conditional[f] == 0 else self._draw_needs(slot, f, g, n)
        self.a_handoffs[slot] = 0
        self.a_t_last[slot] = -1.0
        self.a_last[slot] = -1
        # The pooled accounts (work in progress, arrivals, ...) count approvals; every
        # type is measured and counts towards the safety limit.
        pooled = self.flow_pooled[f] != 0
        if pooled:
            self._in_system_change(t, 1)
        if t >= self.warmup:
            if pooled:
                self.arrived += 1
            self.measured_left += 1
        self.in_system += 1
        if self.in_system >= self.max_in_system:  # unstable: more would only cost memory
            self.admitting = False
            self.truncated = True
        if self.a_left[slot] == 0:  # it needs none of the steps
            self._push(t, done_key(self.a_no[slot]), DONE, slot, -1)
            return
        r, end = self.flow_root_start[f], self.flow_root_start[f + 1]
        while r < end:
            if self.flow_conditional[f] == 0:  # from the applicant, with no parts yet (the slot's are zero)
                self._push(t, officers_key(self.a_no[slot], self.root_step[r]), OFFICERS, slot, self.root_step[r])
            else:
                self._release(slot, self.root_step[r])
            r += 1

    def _draw_needs(self, slot: int, f: int, g: int, n: int) -> int:
        """Which of its ``n`` steps the new application in ``slot`` needs (from its row); how many."""
        d = slot * self.width
        a, end = self.flow_attribute_start[f], self.flow_attribute_start[f + 1]
        first = a
        while a < end:
            drawn = self.a_draws[d + self.attribute_column[a]]
            self.attr_true[a - first] = 1 if drawn < self.attribute_probability[a] else 0
            a += 1
        c, end = self.flow_condition_start[f], self.flow_condition_start[f + 1]
        first = c
        while c < end:
            ok = 1
            at = self.condition_attribute[c]
            if at >= 0 and self.attr_true[at] == 0:
                ok = 0
            column = self.condition_column[c]
            if ok == 1 and column >= 0 and not self.a_draws[d + column] < self.condition_probability[c]:
                ok = 0
            self.a_cond[slot * self.conds + c - first] = ok
            c += 1
        b = slot * self.steps
        left = 0
        for i in range(n):
            need = 0
            m, end = self.step_service_start[g + i], self.step_service_start[g + i + 1]
            while m < end:
                if self._needed(slot, self.service_condition[m]):
                    need = 1
                    break
                m += 1
            self.a_needed[b + i] = need
            left += need
        return left

    def _complete(self, now: float, slot: int, last: int) -> None:
        """The application in ``slot`` is finished at ``now`` with step ``last``: book it, free its slot."""
        f = self.a_flow[slot]
        pooled = self.flow_pooled[f] != 0
        self.in_system -= 1
        if pooled:
            self._in_system_change(now, -1)
            if self.warmup <= now <= self.horizon:
                self.completed_in_window += 1
        if self.log_on:
            self._log(LOG_DONE, slot, last, -1, self.a_t_arrive[slot], self.a_t_arrive[slot], now)
        if self.a_t_arrive[slot] >= self.warmup:  # arrived in the window: measured
            self.measured_left -= 1
            # The parts of the path through the last step: they add up to the lead time.
            wait = proc = sign = hand = back = 0.0
            b = slot * self.steps
            if last >= 0:
                k = 5 * (b + last)
                wait = self.a_comp[k]
                proc = self.a_comp[k + 1]
                sign = self.a_comp[k + 2]
                hand = self.a_comp[k + 3]
                back = self.a_comp[k + 4]
            k = 5 * f  # every type's own sums, case types too
            self.c_flow[k] += wait
            self.c_flow[k + 1] += proc
            self.c_flow[k + 2] += sign
            self.c_flow[k + 3] += hand
            self.c_flow[k + 4] += back
            visits = 0
            i, end = b, b + self.flow_first_step[f + 1] - self.flow_first_step[f]
            while i < end:
                visits += self.a_visits[i]
                i += 1
            if pooled:
                self.c_wait += wait
                self.c_proc += proc
                self.c_sign += sign
                self.c_hand += hand
                self.c_back += back
                self.handoffs += self.a_handoffs[slot]
                self.visits += visits
            n = self.n_out
            if n == len(self.out_end):
                more = n // 2 + 1
                self.out_start = _grown(self.out_start, more, "d")
                self.out_end = _grown(self.out_end, more, "d")
                self.out_applicant = _grown(self.out_applicant, more, "d")
                self.out_flow = _grown(self.out_flow, more, "H")
            self.out_start[n] = self.a_t_arrive[slot]
            self.out_end[n] = now
            self.out_applicant[n] = back
            self.out_flow[n] = f
            self.n_out = n + 1
            if self.keep_records:  # only when asked: records cost memory per application
                self.records.append((f, self.a_k[slot], self.a_t_arrive[slot], now, wait, proc, sign, hand, back,
                                     self.a_handoffs[slot], visits))
        self.free_slots[self.n_free] = slot
        self.n_free += 1

    # ------------------------------------------------------------ arrivals
    def _version(self, f: int, t: float) -> int:
        """The version of project type ``f`` in force at ``t`` (a timeline's phase; else ``f``)."""
        if self.timed:
            while self.flow_next[f] >= 0 and t >= self.flow_until[f]:
                f = self.flow_next[f]
        return f

    def _poisson_arrival(self, t: float, f: int) -> None:
        if t < self.horizon:
            self._arrive(self._version(f, t), t)
            self._push(t + self.arrival_gaps[f].take(), arrival_key(f), POISSON_ARRIVAL, f, 0)

    def _trace_arrival(self, t: float, f: int) -> None:
        """The trace's applications dated ``t`` (several may share a date), then the next date."""
        times = self.arrival_traces[f]
        i = self.trace_next[f]
        n = len(times)
        while i < n and times[i] <= t:
            if times[i] < self.horizon:
                self._arrive(self._version(f, t), t)
            i += 1
        self.trace_next[f] = i
        if i < n and times[i] < self.horizon:
            self._push(times[i], arrival_key(f), TRACE_ARRIVAL, f, 0)

    # ------------------------------------------------------------ the run
    def _take_sample(self) -> None:
        self.wip_samples.append((self.samples[self.next_sample], self.wip))
        self.next_sample += 1
        self.next_sample_time = self.samples[self.next_sample] if self.next_sample < self.n_samples else math.inf

    def _take_samples(self, upto: float) -> None:
        while self.next_sample_time <= upto:
            self._take_sample()

    def _events(self, until: float, drain: bool) -> None:
        """Take events before ``until``; when draining, stop once every measured application is done."""
        while not (drain and self.measured_left <= 0):
            t, key, kind, a, b = self._pop_before(until)
            if kind == NO_EVENT:
                break
            while t >= self.next_sample_time:
                self._take_sample()
            if kind == OFFICERS:
                self._officers(t, a, b)
            elif kind >= SIGNOFF:
                self._signoff(t, a, b, kind - SIGNOFF)
            elif kind == DONE:
                self._complete(t, a, b)
            elif kind == POISSON_ARRIVAL:
                self._poisson_arrival(t, a)
            else:
                self._trace_arrival(t, a)

    def run(self) -> RunOutput:
        horizon = self.horizon
        for f in range(self.n_flows):
            if self.flow_arrivals[f] == POISSON:
                self._push(self.flow_first_arrival[f], arrival_key(f), POISSON_ARRIVAL, f, 0)
            elif self.flow_arrivals[f] == TRACE:
                self._push(self.flow_first_arrival[f], arrival_key(f), TRACE_ARRIVAL, f, 0)
        self._events(horizon, False)
        self._take_samples(math.nextafter(horizon, -math.inf))
        self._in_system_change(horizon, 0)
        backlog = self.wip
        busy = np.array(self.busy, dtype=np.float64)
        waiting = np.array(self.waiting, dtype=np.float64)
        # Let the applications that arrived in the window finish, so that lead
        # times are not censored; a stable system drains well within a window.
        if self.measured_left > 0:
            self._take_samples(horizon)
            self._events(horizon + (horizon - self.warmup), True)
        if self.log_on:
            self._flush_log()
        n = self.n_out
        return RunOutput(
            t_start=_array(self.out_start, n, "d"), t_end=_array(self.out_end, n, "d"),
            applicant_days=_array(self.out_applicant, n, "d"), flow_index=_array(self.out_flow, n, "H"),
            component_totals=(self.c_wait, self.c_proc, self.c_sign, self.c_hand, self.c_back),
            flow_component_totals=np.array(self.c_flow, dtype=np.float64).reshape(self.n_flows, 5),
            handoffs=self.handoffs, visits=self.visits, arrived=self.arrived,
            completed_in_window=self.completed_in_window, backlog=backlog, in_system_area=self.wip_area,
            wip_samples=tuple(self.wip_samples), truncated=self.truncated, drained=self.measured_left == 0,
            busy_area=busy, queue_area=waiting, records=tuple(self.records),
        )
