# The C types of fifo_loop.py, read by Cython when setup.py compiles it (Cython's
# "pure Python mode" with an augmenting .pxd); plain Python never reads this file.
# Every attribute and every local of the hot methods is typed, so that the
# compiled loop does its arithmetic and indexing in C.

cimport cython

cdef struct Event:
    double t
    long long key  # the canonical order among simultaneous events
    int kind
    int a  # application slot, or project type for arrivals
    int b  # step within the project type
    int unused  # pads the struct to 32 bytes, as numpy lays out EVENT

cdef int NO_EVENT, TRACE_ARRIVAL, POISSON_ARRIVAL, DONE, OFFICERS, SIGNOFF
cdef long long RANK_DONE, RANK_ARRIVAL, RANK_OFFICERS, RANK_SIGNOFF
cdef int COMBINE_MAX, COMBINE_SUM, POISSON, TRACE

cpdef long long done_key(long long no) noexcept
cpdef long long arrival_key(long long flow) noexcept
cpdef long long officers_key(long long no, long long step) noexcept
cpdef long long signoff_key(long long no, long long step, long long level) noexcept

@cython.locals(c=int)
cdef inline void _copy5(double[::1] dst, Py_ssize_t d, double[::1] src, Py_ssize_t s) noexcept


@cython.final
cdef class FifoLoop:
    # --- the run
    cdef double horizon, warmup, t0
    cdef long long max_in_system
    cdef bint keep_records
    # --- queues: queue q's servers fall free at free_t[server_start[q]:server_start[q + 1]] (a heap)
    cdef double[::1] queue_stretch, busy, waiting, free_t
    cdef int[::1] server_start
    cdef list free  # in Python: one heapq list per queue
    # --- steps
    cdef int[::1] step_queue, step_combine, step_predecessors
    cdef double[::1] step_factor, rework_probability
    cdef int[::1] step_service_start, service_column, service_stream
    cdef int[::1] step_rework_start, rework_column, rework_stream
    cdef int[::1] step_signoff_start, signoff_queue, signoff_column
    cdef int[::1] step_successor_start, successor_step, successor_column
    cdef int[::1] step_reach_start, reach_step, reach_column, reach_redraw
    cdef int[::1] service_condition, rework_condition, signoff_redraw
    cdef int[::1] step_rework_to, step_redo_start, redo_step, redo_pending
    # --- project types
    cdef int n_flows
    cdef int[::1] flow_first_step, flow_root_start, root_step, flow_arrivals, trace_next, next_row
    cdef double[::1] flow_delay_factor, flow_first_arrival
    cdef long long[::1] flow_applicants
    cdef int[::1] flow_conditional, flow_simple, flow_pooled, flow_attribute_start, attribute_column, flow_condition_start
    cdef int[::1] condition_attribute, condition_column
    cdef double[::1] attribute_probability, condition_probability
    cdef list arrival_traces, first_visit, row_blocks, revisit_service, revisit_rework, resubmission, arrival_gaps
    cdef list redraw
    # --- applications in slots
    cdef Py_ssize_t width, steps
    cdef int n_slots, n_free
    cdef Py_ssize_t conds
    cdef int[::1] free_slots, a_flow, a_left, a_last, a_handoffs, a_crit, a_visits, a_pending
    cdef int[::1] a_needed, a_done, a_cond, a_fired
    cdef Py_ssize_t reach
    cdef long long[::1] a_k, a_no
    cdef double[::1] a_t_arrive, a_t_last, a_draws, a_comp, a_cand, a_t_ready, a_base_t, a_base_comp
    cdef tuple blank
    cdef list no_fired
    # --- scratch: a walk through skipped steps, a cascade of them
    cdef int[::1] attr_true, stack
    cdef long long[::1] mark, reached
    cdef long long walk
    # --- events
    cdef object ev_store
    cdef Event[::1] ev
    cdef Py_ssize_t n_ev
    cdef list heap  # in Python: a heapq list of tuples
    # --- accounts
    cdef long long admitted, wip, measured_left, in_system, arrived, completed_in_window, handoffs, visits
    cdef double wip_area, wip_last
    cdef bint admitting, truncated
    cdef double c_wait, c_proc, c_sign, c_hand, c_back
    cdef double[::1] c_flow  # per project type f: the five sums above, at 5 f ... 5 f + 4
    cdef double[::1] samples
    cdef int n_samples, next_sample
    cdef double next_sample_time
    cdef list wip_samples
    # --- output
    cdef Py_ssize_t n_out
    cdef double[::1] out_start, out_end, out_applicant
    cdef unsigned short[::1] out_flow
    cdef list records
    # --- event log (only when the run has an event sink)
    cdef bint log_on
    cdef object event_sink
    cdef Py_ssize_t log_n, log_size
    cdef long long[::1] log_case, log_k
    cdef double[::1] log_t0, log_t1, log_t2
    cdef int[::1] log_flow, log_step, log_other, log_kind
    # --- a programme over time (timed runs): phases, tenures, files held at a change
    cdef bint timed
    cdef int n_phases
    cdef double[::1] phase_start, flow_until, queue_stretch_at, tenure_to, tenure_hired
    cdef int[::1] flow_next, step_queue_at, signoff_queue_at
    # tenures: a heap per queue, of (free from, tenure) at ten_free/ten_k[ten_start[q]:ten_start[q] + ten_n[q]]
    cdef double[::1] ten_free
    cdef int[::1] ten_k, ten_start, ten_n
    cdef list tenures  # in Python: one heapq list per queue
    cdef double learn_start, learn_days
    cdef int[::1] a_held
    cdef double[::1] a_held_t, a_held_work, a_held_delay, a_ahead

    @cython.locals(n=Py_ssize_t)
    cdef void _log(self, int kind, int slot, int step, int other, double t0, double t1, double t2) except *
    @cython.locals(n=Py_ssize_t)
    cdef void _flush_log(self) except *
    cdef void _init_events(self) except *
    @cython.locals(i=Py_ssize_t, p=Py_ssize_t)
    cdef void _push(self, double t, long long key, int kind, int a, int b) except *
    @cython.locals(top=Event, last=Event, i=Py_ssize_t, c=Py_ssize_t, n=Py_ssize_t)
    cdef (double, long long, int, int, int) _pop_before(self, double until) except *
    cdef void _init_servers(self, servers) except *
    @cython.locals(off=Py_ssize_t, n=Py_ssize_t, i=Py_ssize_t, c=Py_ssize_t, s=double, e=double)
    cdef double _take_server(self, int q, double t, double work) except? -1
    @cython.locals(k=int, extra=Py_ssize_t, w=Py_ssize_t, s=Py_ssize_t)
    cdef void _grow(self, int n) except *
    @cython.locals(r=int, base=Py_ssize_t, c=Py_ssize_t, rows="double[:, ::1]")
    cdef void _take_row(self, int slot, int f) except *
    @cython.locals(b=Py_ssize_t, i=int, c=Py_ssize_t)
    cdef void _reset_slot(self, int slot, int g, int n, bint simple) except *
    @cython.locals(s=double, e=double, t0=double, horizon=double)
    cdef double _serve(self, int q, double t, double work) except? -1
    @cython.locals(e=double, t0=double, horizon=double)
    cdef inline void _account(self, int q, double t, double s, double work) noexcept
    cdef inline bint _needed(self, int slot, int c) noexcept
    @cython.locals(f=int, g=int, b=Py_ssize_t, d=Py_ssize_t, visit=int, lo=int, hi=int, m=int, end=int, q=int,
                   back=bint, work=double, delay=double, s=double, e=double, k=Py_ssize_t)
    cdef void _officers(self, double t, int slot, int i) except *
    @cython.locals(k=Py_ssize_t, e=double, visit=int)
    cdef inline void _officers_end(self, int slot, int i, int g, Py_ssize_t b, double t, double s, double work,
                            double delay) except *
    @cython.locals(total=double, best=double, x=double, m=int, seen=bint)
    cdef double _combined(self, int slot, int g, Py_ssize_t d, int lo, int hi, bint first) except? -1
    @cython.locals(f=int, g=int, m=int, b=Py_ssize_t, d=double, s=double, e=double)
    cdef void _signoff(self, double t, int slot, int i, int level) except *
    @cython.locals(e=double)
    cdef inline void _signoff_end(self, int slot, int i, int level, int g, int m, Py_ssize_t b, double t, double s,
                           double work) except *
    @cython.locals(b=Py_ssize_t, fb=Py_ssize_t, bj=Py_ssize_t, dst=Py_ssize_t, f=int, m=int, end=int, start=int, r0=int,
                   r=Py_ssize_t, j=int, first=bint)
    cdef void _step_done(self, double e, int slot, int i, int g) except *
    @cython.locals(w="long long", direct=int, k=int, r=int, r0=int, end=int)
    cdef void _walk(self, int slot, Py_ssize_t b, Py_ssize_t fb, int i, int g, double e, bint first) except *
    @cython.locals(w="long long", top=int, m=int, end=int, j=int, k=int)
    cdef long long _mark_reached(self, Py_ssize_t b, int g0, int g) noexcept
    @cython.locals(column=int, delay=double, at=double, bk=Py_ssize_t, dst=Py_ssize_t, x=Py_ssize_t)
    cdef inline void _hand(self, int slot, Py_ssize_t b, int i, int k, int r, double e, bint first,
                           bint simple) except *
    @cython.locals(b=Py_ssize_t, g0=int, fb=Py_ssize_t, top=int, bj=Py_ssize_t, dst=Py_ssize_t, at=double,
                   m=int, end=int, k=int, r=Py_ssize_t)
    cdef void _release(self, int slot, int j) except *
    @cython.locals(b=Py_ssize_t, g0=int, fb=Py_ssize_t, w="long long", start=int, m=int,
                   end=int, y=int, by=Py_ssize_t, r=int, rend=int)
    cdef void _send_back(self, int slot, int i, int g, double e, double delay) except *
    @cython.locals(since=double)
    cdef void _in_system_change(self, double now, long long delta) noexcept
    @cython.locals(slot=int, g=int, n=int, r=int, end=int, pooled=bint)
    cdef void _arrive(self, int f, double t) except *
    @cython.locals(d=Py_ssize_t, a=int, c=int, end=int, first=int, ok=int, at=int, column=int, b=Py_ssize_t,
                   left=int, i=int, need=int, m=int)
    cdef int _draw_needs(self, int slot, int f, int g, int n) except? -1
    @cython.locals(wait=double, proc=double, sign=double, hand=double, back=double, b=Py_ssize_t, i=Py_ssize_t,
                   end=Py_ssize_t, k=Py_ssize_t, f=int, visits=long, n=Py_ssize_t, more=Py_ssize_t, pooled=bint)
    cdef void _complete(self, double now, int slot, int last) except *
    cdef inline int _version(self, int f, double t) except? -1
    # --- a programme over time (timed runs)
    cdef void _init_timed(self, run) except *
    cdef void _init_tenures(self, run) except *
    @cython.locals(off=Py_ssize_t)
    cdef inline (double, int) _tenure_top(self, int q) except *
    @cython.locals(off=Py_ssize_t, n=Py_ssize_t)
    cdef inline void _tenure_pop(self, int q) noexcept
    @cython.locals(off=Py_ssize_t)
    cdef inline void _tenure_replace(self, int q, double free) noexcept
    @cython.locals(i=Py_ssize_t, c=Py_ssize_t)
    cdef void _tenure_sift(self, Py_ssize_t off, Py_ssize_t n, double free, int k) noexcept
    @cython.locals(p=int)
    cdef inline int _phase_at(self, double t) noexcept
    @cython.locals(free=double, k=int, s=double)
    cdef (double, int) _earliest(self, int q, double t) except *
    @cython.locals(stretch=double, x=double)
    cdef inline double _pace(self, int q, int p, int k, double s) noexcept
    @cython.locals(p=int, officers=bint, q=int, reached=double, s=double, k=int, n=int, change=double, work=double)
    cdef (double, double, double) _timed_place(self, double t, int slot, int i, Py_ssize_t b, int at, long long key,
                                               int kind, double raw, double delay, int g, bint ends_round) except *
    @cython.locals(b=Py_ssize_t, f=int, fb=Py_ssize_t, r=int, end=int, w="long long")
    cdef void _draw_ahead(self, int slot, int i, int g) except *
    @cython.locals(ends=bint, reached=double, s=double, work=double)
    cdef void _timed_officers(self, double t, int slot, int i, int g, Py_ssize_t b, double raw, double delay) except *
    @cython.locals(reached=double, s=double, work=double)
    cdef void _timed_signoff(self, double t, int slot, int i, int level, int g, int m, Py_ssize_t b,
                             double d) except *
    cdef void _poisson_arrival(self, double t, int f) except *
    @cython.locals(times="double[::1]", i=Py_ssize_t, n=Py_ssize_t)
    cdef void _trace_arrival(self, double t, int f) except *
    cdef void _take_sample(self) except *
    cdef void _take_samples(self, double upto) except *
    @cython.locals(t=double, key="long long", kind=int, a=int, b=int)
    cdef void _events(self, double until, bint drain) except *
