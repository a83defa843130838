# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The FIFO engine's event loop compiled to C: same steps, same numbers, C data.

:class:`orgsim.sim.fifo_engine.FifoRun` states the algorithm in Python; this
module runs exactly the same steps, in the same order and with the same
floating-point operations, on C arrays: an event heap of structs, each
queue's server free times as a heap in one flat array, applications in
fixed-width slots. Random numbers still come from the run's named streams:
first-visit draws a block of rows at a time, second visits and resubmission
delays one value at a time from Python (they are rare). The tests require
the two to give identical results.

It is an optional extension: built when ``pip install`` finds a C compiler,
otherwise the Python statement of the algorithm runs, slower, with the same
results.
"""

import numpy as np

from libc.stdlib cimport malloc, realloc, free

from orgsim.sim import flows as _flows
from orgsim.sim.flows import MAX_WORK_IN_PROGRESS


#: Room in the output arrays: this share of the applications expected, plus
#: this many (a tuple, so that a test can shrink it to make them grow).
OUTPUT_ROOM = (1.02, 4096)


cdef struct Event:
    double t
    long long key  # orgsim.sim.flows.event_key: the order among simultaneous events
    int kind
    int a  # application slot, or project type for arrivals
    int b  # step within the project type


cdef enum:
    TRACE_ARRIVAL = -3
    POISSON_ARRIVAL = -2
    DONE = -1
    OFFICERS = 0
    SIGNOFF = 1  # a sign-off at level L is SIGNOFF + L

# Ranks of orgsim.sim.flows.event_key (checked against it below).
cdef enum:
    RANK_DONE = 1
    RANK_ARRIVAL = 2
    RANK_OFFICERS = 3
    RANK_SIGNOFF = 4

if (RANK_DONE, RANK_ARRIVAL, RANK_OFFICERS, RANK_SIGNOFF) != (_flows.DONE, _flows.ARRIVAL, _flows.OFFICERS, _flows.SIGNOFF):
    raise ImportError("orgsim.sim._fifo_kernel is out of date with orgsim.sim.flows: rebuild it (pip install -e .)")


cdef inline long long _key(long long rank, long long who, long long step, long long level) noexcept nogil:
    return (rank << 56) | (who << 16) | (step << 4) | level


cdef enum:
    COMBINE_SUM = 0
    COMBINE_MAX = 1
    COMBINE_FACTOR = 2


cdef inline bint _before(Event* x, Event* y) noexcept nogil:
    return x.t < y.t or (x.t == y.t and x.key < y.key)


cdef inline double _fmin(double a, double b) noexcept nogil:
    return a if a <= b else b


cdef inline double _fmax(double a, double b) noexcept nogil:
    return a if a >= b else b


def _ints(values):
    return np.asarray(values, dtype=np.int32) if len(values) else np.zeros(1, dtype=np.int32)


def _doubles(values):
    return np.asarray(values, dtype=np.float64) if len(values) else np.zeros(1, dtype=np.float64)


cdef class _Kernel:
    # --- events
    cdef Event* ev
    cdef Py_ssize_t n_ev, cap_ev
    cdef long long admitted
    # --- queues: queue q's servers fall free at free_t[qoff[q] : qoff[q] + qn[q]] (a heap)
    cdef double[::1] free_t, busy, waiting
    cdef int[::1] qoff, qn
    # --- steps, by global index g = fl_base[flow] + step
    cdef int[::1] st_combine, st_svc_off, st_svc_n, st_rw_off, st_rw_n, st_lead_off, st_lead_n
    cdef int[::1] st_succ_off, st_succ_n, st_npred, st_queue
    cdef double[::1] st_stretch, st_factor
    cdef int[::1] svc_pos, svc_stream, rw_pos, rw_stream, lead_queue, so_pos, succ_j, succ_k
    cdef double[::1] rw_p
    # --- project types
    cdef int n_flows
    cdef int[::1] fl_base, fl_nsteps, fl_root_off, fl_root_n, roots, fl_next_row, fl_trace_i
    cdef long long[::1] fl_n
    cdef double[::1] fl_delay_factor
    cdef list fl_rows, fl_first_visit, fl_gaps, fl_resubmit, fl_trace, revisit_service, revisit_rework
    # --- applications in slots
    cdef int W, S, n_slots, n_free
    cdef int[::1] free_slots, a_flow, a_left, a_last, a_handoffs
    cdef long long[::1] a_k, a_no
    cdef double[::1] a_t_arrive, a_t_last
    cdef double[:, ::1] a_draws, a_acc, a_handoff_in, a_t_ready
    cdef int[:, ::1] a_crit, a_visits, a_pending
    # --- the run's accounts
    cdef double horizon, warmup, t0
    cdef long long wip, measured_left, arrived, completed_in_window, handoffs, visits
    cdef double wip_area, wip_last
    cdef bint admitting, truncated, keep_records
    cdef double[5] components
    cdef double[::1] samples
    cdef int next_sample
    cdef list wip_samples
    cdef double[::1] out_start, out_end, out_applicant
    cdef unsigned short[::1] out_flow
    cdef Py_ssize_t n_out
    cdef object run_obj

    def __cinit__(self):
        self.ev = NULL

    def __dealloc__(self):
        if self.ev != NULL:
            free(self.ev)

    def __init__(self, run):
        cdef int q, g
        self.horizon = run.horizon
        self.warmup = run.warmup
        self.t0 = run.t0
        self.cap_ev = 1024
        self.ev = <Event*> malloc(self.cap_ev * sizeof(Event))
        if self.ev == NULL:
            raise MemoryError()
        self.n_ev = 0
        self.admitted = 0
        # Queues, numbered in the run's order.
        queues = list(run.pools.values())
        qindex = {id(x): k for k, x in enumerate(queues)}
        offsets, counts = [], []
        total = 0
        for x in queues:
            offsets.append(total)
            counts.append(x.plan.servers)
            total += x.plan.servers
        self.qoff, self.qn = _ints(offsets), _ints(counts)
        self.free_t = np.zeros(max(total, 1))
        self.busy = np.zeros(max(len(queues), 1))
        self.waiting = np.zeros(max(len(queues), 1))
        # Steps and project types, flattened.
        combine, svc_off, svc_n, rw_off, rw_n, lead_off, lead_n, succ_off, succ_n, npred, squeue = ([] for _ in range(11))
        stretch, factor = [], []
        svc_pos, svc_stream, rw_pos, rw_stream, rw_p, lead_queue, so_pos, succ_j, succ_k = ([] for _ in range(9))
        fl_base, fl_nsteps, root_off, root_n, roots, delay_factor = [], [], [], [], [], []
        self.fl_first_visit, self.fl_gaps, self.fl_resubmit, self.fl_trace = [], [], [], []
        self.revisit_service, self.revisit_rework = [], []
        width = 0
        for flow in run.flows:
            base_service = len(self.revisit_service)
            self.revisit_service.extend(flow.revisit_service)
            self.revisit_rework.extend(flow.revisit_rework)
            fl_base.append(len(combine))
            fl_nsteps.append(flow.n_steps)
            root_off.append(len(roots))
            root_n.append(len(flow.plan.roots))
            roots.extend(flow.plan.roots)
            delay_factor.append(flow.plan.delay_factor)
            self.fl_first_visit.append(flow.first_visit)
            self.fl_resubmit.append(flow.resubmit)
            width = max(width, flow.first_visit.width)
            times = run.arrival_times.get(flow.plan.id)
            self.fl_trace.append(None if times is None else np.ascontiguousarray(times, dtype=np.float64))
            self.fl_gaps.append(None)
            for i, step in enumerate(flow.steps):
                if step.combine == "sum":
                    combine.append(COMBINE_SUM)
                    factor.append(1.0)
                elif step.combine == "max":
                    combine.append(COMBINE_MAX)
                    factor.append(1.0)
                else:
                    combine.append(COMBINE_FACTOR)
                    factor.append(float(step.combine))
                stretch.append(step.stretch)
                squeue.append(qindex[id(step.pool)])
                svc_off.append(len(svc_pos))
                svc_n.append(len(step.svc))
                svc_pos.extend(step.svc)
                svc_stream.extend(base_service + f for f in step.fidx)
                rw_off.append(len(rw_pos))
                rw_n.append(len(step.rework))
                for k, f, p in step.rework:
                    rw_pos.append(k)
                    rw_stream.append(base_service + f)
                    rw_p.append(p)
                lead_off.append(len(lead_queue))
                lead_n.append(len(step.leaders))
                lead_queue.extend(qindex[id(x)] for x in step.leaders)
                so_pos.extend(step.so)
                succ_off.append(len(succ_j))
                succ_n.append(len(flow.successors[i]))
                for j, k in flow.successors[i]:
                    succ_j.append(j)
                    succ_k.append(k)
                npred.append(flow.n_predecessors[i])
        self.st_combine, self.st_svc_off, self.st_svc_n = _ints(combine), _ints(svc_off), _ints(svc_n)
        self.st_rw_off, self.st_rw_n = _ints(rw_off), _ints(rw_n)
        self.st_lead_off, self.st_lead_n = _ints(lead_off), _ints(lead_n)
        self.st_succ_off, self.st_succ_n = _ints(succ_off), _ints(succ_n)
        self.st_npred, self.st_queue = _ints(npred), _ints(squeue)
        self.st_stretch, self.st_factor = _doubles(stretch), _doubles(factor)
        self.svc_pos, self.svc_stream = _ints(svc_pos), _ints(svc_stream)
        self.rw_pos, self.rw_stream, self.rw_p = _ints(rw_pos), _ints(rw_stream), _doubles(rw_p)
        self.lead_queue, self.so_pos = _ints(lead_queue), _ints(so_pos)
        self.succ_j, self.succ_k = _ints(succ_j), _ints(succ_k)
        self.n_flows = len(run.flows)
        self.fl_base, self.fl_nsteps = _ints(fl_base), _ints(fl_nsteps)
        self.fl_root_off, self.fl_root_n, self.roots = _ints(root_off), _ints(root_n), _ints(roots)
        self.fl_delay_factor = _doubles(delay_factor)
        self.fl_n = np.zeros(max(self.n_flows, 1), dtype=np.int64)
        self.fl_next_row = np.zeros(max(self.n_flows, 1), dtype=np.int32)
        self.fl_trace_i = np.zeros(max(self.n_flows, 1), dtype=np.int32)
        self.fl_rows = [None] * self.n_flows
        # Applications: fixed-width slots, grown by doubling.
        self.W = max(width, 1)
        self.S = max(fl_nsteps + [1])
        self.n_slots = 0
        self.n_free = 0
        self._grow(1024)
        # Accounts.
        self.wip = self.measured_left = self.arrived = self.completed_in_window = 0
        self.handoffs = self.visits = 0
        self.wip_area = self.wip_last = 0.0
        self.admitting = True
        self.truncated = False
        self.keep_records = run.keep_records
        for q in range(5):
            self.components[q] = 0.0
        self.samples = _doubles(run.sample_times())
        self.next_sample = 0
        self.wip_samples = []
        # Room for the applications expected (a little more), so that the
        # output arrays rarely grow: growing holds old and new copies at once.
        expected = sum(f.plan.rate_per_day for f in run.flows if f.plan.trace is None) * self.horizon
        expected += sum(len(t) for t in run.arrival_times.values())
        capacity = int(expected * OUTPUT_ROOM[0]) + OUTPUT_ROOM[1]
        self.out_start = np.empty(capacity)
        self.out_end = np.empty(capacity)
        self.out_applicant = np.empty(capacity)
        self.out_flow = np.empty(capacity, dtype=np.uint16)
        self.n_out = 0
        self.run_obj = run

    # ------------------------------------------------------------ storage
    def _grow(self, int n):
        cdef int old = self.n_slots, k
        W, S = self.W, self.S

        def grown(view, shape, dtype):
            new = np.zeros(shape, dtype=dtype)
            if old:
                new[:old] = np.asarray(view)[:old]
            return new

        self.a_flow = grown(self.a_flow, n, np.int32) if old else np.zeros(n, dtype=np.int32)
        self.a_left = grown(self.a_left, n, np.int32) if old else np.zeros(n, dtype=np.int32)
        self.a_last = grown(self.a_last, n, np.int32) if old else np.zeros(n, dtype=np.int32)
        self.a_handoffs = grown(self.a_handoffs, n, np.int32) if old else np.zeros(n, dtype=np.int32)
        self.a_k = grown(self.a_k, n, np.int64) if old else np.zeros(n, dtype=np.int64)
        self.a_no = grown(self.a_no, n, np.int64) if old else np.zeros(n, dtype=np.int64)
        self.a_t_arrive = grown(self.a_t_arrive, n, np.float64) if old else np.zeros(n)
        self.a_t_last = grown(self.a_t_last, n, np.float64) if old else np.zeros(n)
        self.a_draws = grown(self.a_draws, (n, W), np.float64) if old else np.zeros((n, W))
        self.a_acc = grown(self.a_acc, (n, 4 * S), np.float64) if old else np.zeros((n, 4 * S))
        self.a_handoff_in = grown(self.a_handoff_in, (n, S), np.float64) if old else np.zeros((n, S))
        self.a_t_ready = grown(self.a_t_ready, (n, S), np.float64) if old else np.zeros((n, S))
        self.a_crit = grown(self.a_crit, (n, S), np.int32) if old else np.zeros((n, S), dtype=np.int32)
        self.a_visits = grown(self.a_visits, (n, S), np.int32) if old else np.zeros((n, S), dtype=np.int32)
        self.a_pending = grown(self.a_pending, (n, S), np.int32) if old else np.zeros((n, S), dtype=np.int32)
        free_slots = np.zeros(n, dtype=np.int32)
        if old:
            free_slots[:self.n_free] = np.asarray(self.free_slots)[:self.n_free]
        # New slots go on the free list, lowest last so that it is used first.
        for k in range(n - 1, old - 1, -1):
            free_slots[self.n_free] = k
            self.n_free += 1
        self.free_slots = free_slots
        self.n_slots = n

    cdef void _push(self, double t, long long key, int kind, int a, int b) except *:
        cdef Py_ssize_t i, p
        cdef Event x
        cdef Event* grown
        if self.n_ev == self.cap_ev:
            grown = <Event*> realloc(self.ev, 2 * self.cap_ev * sizeof(Event))
            if grown == NULL:
                raise MemoryError()
            self.ev = grown
            self.cap_ev *= 2
        x.t = t
        x.key = key
        x.kind = kind
        x.a = a
        x.b = b
        i = self.n_ev
        self.n_ev += 1
        while i > 0:
            p = (i - 1) >> 1
            if _before(&x, &self.ev[p]):
                self.ev[i] = self.ev[p]
                i = p
            else:
                break
        self.ev[i] = x

    cdef Event _pop(self) noexcept:
        cdef Event top = self.ev[0]
        cdef Event last
        cdef Py_ssize_t i = 0, c, n
        self.n_ev -= 1
        n = self.n_ev
        if n > 0:
            last = self.ev[n]
            while True:
                c = 2 * i + 1
                if c >= n:
                    break
                if c + 1 < n and _before(&self.ev[c + 1], &self.ev[c]):
                    c += 1
                if _before(&self.ev[c], &last):
                    self.ev[i] = self.ev[c]
                    i = c
                else:
                    break
            self.ev[i] = last
        return top

    cdef double _serve(self, int q, double t, double work) noexcept:
        """The FIFO recursion: start at the later of ``t`` and the first free server; returns the end."""
        cdef Py_ssize_t off = self.qoff[q], n = self.qn[q], i = 0, c
        cdef double s = self.free_t[off], e
        if s < t:
            s = t
        e = s + work
        # heapreplace: the earliest free time becomes e, then sift down.
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
        if s >= self.t0 and e <= self.horizon:
            self.busy[q] += work
        elif e > self.t0 and s < self.horizon:
            self.busy[q] += _fmin(e, self.horizon) - _fmax(s, self.t0)
        if s > t and s > self.t0 and t < self.horizon:
            self.waiting[q] += _fmin(s, self.horizon) - _fmax(t, self.t0)
        return s

    # ------------------------------------------------------------ queues
    cdef void _officers(self, double t, int slot, int i) except *:
        cdef int f = self.a_flow[slot]
        cdef int g = self.fl_base[f] + i
        cdef int visit = self.a_visits[slot, i]
        cdef int n = self.st_svc_n[g], off = self.st_svc_off[g], m, roff = self.st_rw_off[g]
        cdef double work, x, delay, s, e
        cdef bint back = False
        self.a_visits[slot, i] = visit + 1
        if visit == 0:
            if n == 1:
                work = self.a_draws[slot, self.svc_pos[off]]
            else:
                work = self._combine(g, slot, off, n, True)
            for m in range(roff, roff + self.st_rw_n[g]):
                if self.a_draws[slot, self.rw_pos[m]] < self.rw_p[m]:
                    back = True
        else:
            if n == 1:
                work = self.revisit_service[self.svc_stream[off]].take()
            else:
                work = self._combine(g, slot, off, n, False)
            for m in range(roff, roff + self.st_rw_n[g]):
                if self.revisit_rework[self.rw_stream[m]].take() < self.rw_p[m]:
                    back = True
        delay = -1.0
        if back:
            resubmit = self.fl_resubmit[f]
            delay = 0.0 if resubmit is None else resubmit.take() * self.fl_delay_factor[f]
        work = work * self.st_stretch[g]
        s = self._serve(self.st_queue[g], t, work)
        e = s + work
        self.a_acc[slot, 4 * i] += s - t
        self.a_acc[slot, 4 * i + 1] += work
        if delay >= 0:
            self.a_acc[slot, 4 * i + 3] += delay
            self._push(e + delay, _key(RANK_OFFICERS, self.a_no[slot], i, 0), OFFICERS, slot, i)
        elif self.st_lead_n[g]:
            self._push(e, _key(RANK_SIGNOFF, self.a_no[slot], i, 0), SIGNOFF, slot, i)
        else:
            self._step_done(e, slot, i)

    cdef double _combine(self, int g, int slot, int off, int n, bint first) except *:
        cdef double total = 0.0, x, best = 0.0
        cdef int m
        for m in range(off, off + n):
            x = self.a_draws[slot, self.svc_pos[m]] if first else self.revisit_service[self.svc_stream[m]].take()
            if m == off or x > best:
                best = x
            total = total + x
        if self.st_combine[g] == COMBINE_MAX:
            return best
        if self.st_combine[g] == COMBINE_SUM:
            return total
        return total * self.st_factor[g]

    cdef void _signoff(self, double t, int slot, int i, int level) except *:
        cdef int f = self.a_flow[slot]
        cdef int g = self.fl_base[f] + i
        cdef int lo = self.st_lead_off[g] + level
        cdef double d = self.a_draws[slot, self.so_pos[lo]]
        cdef double s = self._serve(self.lead_queue[lo], t, d)
        cdef double e = s + d
        self.a_acc[slot, 4 * i + 2] += s - t + d
        if level + 1 < self.st_lead_n[g]:
            self._push(e, _key(RANK_SIGNOFF, self.a_no[slot], i, level + 1), SIGNOFF + level + 1, slot, i)
        else:
            self._step_done(e, slot, i)

    cdef void _step_done(self, double e, int slot, int i) except *:
        cdef int f = self.a_flow[slot]
        cdef int g = self.fl_base[f] + i
        cdef int m, j, k
        cdef double d, a
        # App.step_ends and App.hand_over: ties go to the lower step index.
        if e > self.a_t_last[slot] or (e == self.a_t_last[slot] and i < self.a_last[slot]):
            self.a_t_last[slot] = e
            self.a_last[slot] = i
        self.a_left[slot] -= 1
        if self.a_left[slot] == 0:
            self._push(self.a_t_last[slot], _key(RANK_DONE, self.a_no[slot], 0, 0), DONE, slot, self.a_last[slot])
            return
        for m in range(self.st_succ_off[g], self.st_succ_off[g] + self.st_succ_n[g]):
            j = self.succ_j[m]
            k = self.succ_k[m]
            self.a_handoffs[slot] += 1
            d = self.a_draws[slot, k] if k >= 0 else 0.0
            a = e + d
            if a > self.a_t_ready[slot, j] or (a == self.a_t_ready[slot, j] and i < self.a_crit[slot, j]):
                self.a_t_ready[slot, j] = a
                self.a_crit[slot, j] = i
                self.a_handoff_in[slot, j] = d
            self.a_pending[slot, j] -= 1
            if self.a_pending[slot, j] == 0:
                self._push(self.a_t_ready[slot, j], _key(RANK_OFFICERS, self.a_no[slot], j, 0), OFFICERS, slot, j)

    # ------------------------------------------------------------ accounts
    cdef void _wip_change(self, double now, int delta) noexcept:
        cdef double since
        if now > self.warmup:
            since = self.wip_last if self.wip_last > self.warmup else self.warmup
            self.wip_area += (now - since) * self.wip
        self.wip_last = now
        self.wip += delta

    cdef void _arrive(self, int f, double t) except *:
        cdef int slot, i, W, r, g
        cdef double[:, ::1] rows
        self.fl_n[f] += 1
        if not self.admitting:
            return
        if self.n_free == 0:
            self._grow(2 * self.n_slots)
        self.n_free -= 1
        slot = self.free_slots[self.n_free]
        r = self.fl_next_row[f]
        if self.fl_rows[f] is None or r == self.fl_rows[f].shape[0]:
            self.fl_rows[f] = np.ascontiguousarray(self.fl_first_visit[f].block(), dtype=np.float64)
            r = 0
        rows = self.fl_rows[f]
        for i in range(rows.shape[1]):
            self.a_draws[slot, i] = rows[r, i]
        self.fl_next_row[f] = r + 1
        self.a_flow[slot] = f
        self.a_k[slot] = self.fl_n[f] - 1
        self.a_no[slot] = self.admitted
        self.admitted += 1
        self.a_t_arrive[slot] = t
        self.a_left[slot] = self.fl_nsteps[f]
        self.a_handoffs[slot] = 0
        self.a_t_last[slot] = -1.0
        self.a_last[slot] = -1
        g = self.fl_base[f]
        for i in range(self.fl_nsteps[f]):
            self.a_acc[slot, 4 * i] = 0.0
            self.a_acc[slot, 4 * i + 1] = 0.0
            self.a_acc[slot, 4 * i + 2] = 0.0
            self.a_acc[slot, 4 * i + 3] = 0.0
            self.a_handoff_in[slot, i] = 0.0
            self.a_t_ready[slot, i] = -1.0
            self.a_crit[slot, i] = -1
            self.a_visits[slot, i] = 0
            self.a_pending[slot, i] = self.st_npred[g + i]
        self._wip_change(t, 1)
        if t >= self.warmup:
            self.arrived += 1
            self.measured_left += 1
        if self.wip >= MAX_WORK_IN_PROGRESS:
            self.admitting = False
            self.truncated = True
        for r in range(self.fl_root_off[f], self.fl_root_off[f] + self.fl_root_n[f]):
            self._push(t, _key(RANK_OFFICERS, self.a_no[slot], self.roots[r], 0), OFFICERS, slot, self.roots[r])

    cdef void _complete(self, double now, int slot, int last) except *:
        cdef double wait = 0.0, proc = 0.0, sign = 0.0, hand = 0.0, back = 0.0
        cdef int i = last, b, f = self.a_flow[slot], visits = 0
        cdef Py_ssize_t n
        self._wip_change(now, -1)
        if self.warmup <= now <= self.horizon:
            self.completed_in_window += 1
        if self.a_t_arrive[slot] < self.warmup:
            self.free_slots[self.n_free] = slot
            self.n_free += 1
            return
        self.measured_left -= 1
        while i >= 0:
            b = 4 * i
            wait += self.a_acc[slot, b]
            proc += self.a_acc[slot, b + 1]
            sign += self.a_acc[slot, b + 2]
            back += self.a_acc[slot, b + 3]
            hand += self.a_handoff_in[slot, i]
            i = self.a_crit[slot, i]
        self.components[0] += wait
        self.components[1] += proc
        self.components[2] += sign
        self.components[3] += hand
        self.components[4] += back
        self.handoffs += self.a_handoffs[slot]
        for i in range(self.fl_nsteps[f]):
            visits += self.a_visits[slot, i]
        self.visits += visits
        n = self.n_out
        if n == self.out_end.shape[0]:
            more = n // 2 + 1
            self.out_start = np.concatenate([self.out_start, np.empty(more)])
            self.out_end = np.concatenate([self.out_end, np.empty(more)])
            self.out_applicant = np.concatenate([self.out_applicant, np.empty(more)])
            self.out_flow = np.concatenate([self.out_flow, np.empty(more, dtype=np.uint16)])
        self.out_start[n] = self.a_t_arrive[slot]
        self.out_end[n] = now
        self.out_applicant[n] = back
        self.out_flow[n] = f
        self.n_out = n + 1
        if self.keep_records:
            self.run_obj.record(self.run_obj.flows[f], self.a_k[slot], self.a_t_arrive[slot], now,
                                (wait, proc, sign, hand, back), self.a_handoffs[slot], visits)
        self.free_slots[self.n_free] = slot
        self.n_free += 1

    # ------------------------------------------------------------ the run
    cdef void _take_samples(self, double upto) except *:
        while self.next_sample < self.samples.shape[0] and self.samples[self.next_sample] <= upto:
            self.wip_samples.append((float(self.samples[self.next_sample]), int(self.wip)))
            self.next_sample += 1

    cdef void _events(self, double until, bint drain) except *:
        cdef Event x
        cdef double next_sample
        cdef int n_samples = self.samples.shape[0]
        cdef int f, i
        next_sample = self.samples[self.next_sample] if self.next_sample < n_samples else float("inf")
        while self.n_ev > 0 and self.ev[0].t < until:
            if drain and self.measured_left <= 0:
                break
            x = self._pop()
            while x.t >= next_sample:
                self.wip_samples.append((float(self.samples[self.next_sample]), int(self.wip)))
                self.next_sample += 1
                next_sample = self.samples[self.next_sample] if self.next_sample < n_samples else float("inf")
            if x.kind == OFFICERS:
                self._officers(x.t, x.a, x.b)
            elif x.kind >= SIGNOFF:
                self._signoff(x.t, x.a, x.b, x.kind - SIGNOFF)
            elif x.kind == DONE:
                self._complete(x.t, x.a, x.b)
            elif x.kind == POISSON_ARRIVAL:
                if x.t < self.horizon:
                    self._arrive(x.a, x.t)
                    self._push(x.t + self.fl_gaps[x.a].take(), _key(RANK_ARRIVAL, x.a, 0, 0), POISSON_ARRIVAL, x.a, 0)
            else:
                self._trace_arrival(x.t, x.a)

    cdef void _trace_arrival(self, double t, int f) except *:
        cdef double[::1] times = self.fl_trace[f]
        cdef Py_ssize_t i = self.fl_trace_i[f], n = times.shape[0]
        while i < n and times[i] <= t:
            if times[i] < self.horizon:
                self._arrive(f, t)
            i += 1
        self.fl_trace_i[f] = i
        if i < n and times[i] < self.horizon:
            self._push(times[i], _key(RANK_ARRIVAL, f, 0, 0), TRACE_ARRIVAL, f, 0)

    def run(self):
        """Run the replication and write its accounts onto the run object."""
        cdef int f
        cdef double horizon = self.horizon
        run = self.run_obj
        for t, flow, source in run.first_arrivals(run.arrival_times):
            f = flow.index
            if isinstance(source, np.ndarray):
                self._push(t, _key(RANK_ARRIVAL, f, 0, 0), TRACE_ARRIVAL, f, 0)
            else:
                self.fl_gaps[f] = source
                self._push(t, _key(RANK_ARRIVAL, f, 0, 0), POISSON_ARRIVAL, f, 0)
        self._events(horizon, False)
        self._take_samples(np.nextafter(horizon, -np.inf))
        self._wip_change(horizon, 0)
        for q, x in enumerate(run.pools.values()):
            x.busy_area = self.busy[q]
            x.queue_area = self.waiting[q]
        run.wip = self.wip
        run.close_window()
        if self.measured_left > 0:
            self._take_samples(horizon)
            self._events(horizon + (horizon - self.warmup), True)
        run.drained = self.measured_left == 0
        n = self.n_out
        # Views, not copies: at a million applications a copy would double the memory.
        run.t_start = np.asarray(self.out_start)[:n]
        run.t_end = np.asarray(self.out_end)[:n]
        run.t_applicant = np.asarray(self.out_applicant)[:n]
        run.flow_of = np.asarray(self.out_flow)[:n]
        run.components = [self.components[i] for i in range(5)]
        run.handoffs = self.handoffs
        run.visits = self.visits
        run.wip = self.wip
        run.wip_area = self.wip_area
        run.wip_samples = self.wip_samples
        run.arrived = self.arrived
        run.completed_in_window = self.completed_in_window
        run.measured_left = self.measured_left
        run.truncated = self.truncated
        run.admitting = self.admitting
        for f, flow in enumerate(run.flows):
            flow.n = self.fl_n[f]


def run(fifo_run):
    """Run ``fifo_run`` (a :class:`~orgsim.sim.fifo_engine.FifoRun`) in the compiled loop."""
    _Kernel(fifo_run).run()
