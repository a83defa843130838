"""What an engine tells an event log: per-visit events in working time, in fixed-size batches.

An engine given an event sink (``RunInput.event_sink``) records, for every
application it admits:

==============  =============================================================  ===========================
kind            what                                                           step / other
==============  =============================================================  ===========================
``SERVICE``     a visit to the officers of a step: ``t_enable`` the file       step / visit (0: first)
                reaches the queue, ``t_start`` an officer takes it,
                ``t_end`` the officer is done
``SIGNOFF``     a sign-off: reaches the leaders' queue, a leader takes it,     step / level (0: lowest)
                signed
``APPLICANT``   the file is back with the applicant for completion: from the   step / visit it follows
                visit's end (``t_enable = t_start``) until it is back at the
                queue (``t_end``)
``HANDOFF``     the file travels from one step to the next: from the step's    from step / to step
                end until it reaches the next step
``DONE``        the application is finished: ``t_enable = t_start`` its        last step / -1
                arrival, ``t_end`` the end of its last step
==============  =============================================================  ===========================

Times are working days of the run's clock. ``case`` is the application's
admission number in the run (unique in a replication), ``k`` the applicant's
number within its project type (the same applicant before and after the
reforms, on common random numbers), ``flow`` its project type's index.

Events are stored in the engine as they happen and handed to the sink in
batches of at most :data:`BATCH_EVENTS`, each a numpy structured array of
:data:`EVENT_DTYPE` (a copy the sink may keep), and a last, shorter batch
when the run ends: memory does not grow with the run. Events of one case
come in time order of when the engine learns of them, and its ``DONE``
event comes after all its others. Both engines emit the same events (tested
as multisets: the FIFO loop learns of a service when the file reaches the
queue, SimPy when the officer starts); :mod:`orgsim.eventlog.writer` orders
them by case and time, so the log is the same from either engine.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["EVENT_DTYPE", "SERVICE", "SIGNOFF", "APPLICANT", "HANDOFF", "DONE", "KIND_NAMES", "BATCH_EVENTS",
           "EventSink", "EventBuffer"]

SERVICE, SIGNOFF, APPLICANT, HANDOFF, DONE = 0, 1, 2, 3, 4
KIND_NAMES = ("service", "signoff", "applicant", "handoff", "done")

#: Events an engine keeps before handing them to the sink.
BATCH_EVENTS = 65_536

EVENT_DTYPE = np.dtype([
    ("case", "i8"), ("k", "i8"),
    ("t_enable", "f8"), ("t_start", "f8"), ("t_end", "f8"),
    ("flow", "i4"), ("step", "i4"), ("other", "i4"), ("kind", "i4"),
])

#: Receives each batch of events (a structured array of EVENT_DTYPE).
EventSink = Callable[[np.ndarray], None]


class EventBuffer:
    """Events in a fixed-size buffer, handed to ``sink`` whenever it fills and at :meth:`flush`.

    The SimPy engine records through this; the compiled FIFO loop keeps typed
    columns of its own and builds the same batches.
    """

    __slots__ = ("sink", "buffer", "n")

    def __init__(self, sink: EventSink, size: int = BATCH_EVENTS) -> None:
        self.sink = sink
        self.buffer = np.zeros(size, dtype=EVENT_DTYPE)
        self.n = 0

    def emit(self, kind: int, case: int, k: int, flow: int, step: int, other: int,
             t_enable: float, t_start: float, t_end: float) -> None:
        self.buffer[self.n] = (case, k, t_enable, t_start, t_end, flow, step, other, kind)
        self.n += 1
        if self.n == len(self.buffer):
            self.flush()

    def flush(self) -> None:
        if self.n:
            self.sink(self.buffer[:self.n].copy())
            self.n = 0
