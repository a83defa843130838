"""A reform as a programme over time (``orgsim timeline``): dated phases, the workforce and its pay, in one run.

:func:`timeline` (:mod:`orgsim.timeline.run`) is the entry point; the phases
are prepared in :mod:`orgsim.timeline.programme`, people in posts simulated in
:mod:`orgsim.timeline.workforce`, pay in :mod:`orgsim.timeline.pay`.
``orgsim.timeline(...)`` calls :func:`timeline` too.
"""

from __future__ import annotations

from orgsim._callable_module import callable_module
from orgsim.timeline.run import PERIODS, TimelineResult, timeline

__all__ = ["timeline", "TimelineResult", "PERIODS"]

callable_module(__name__, timeline)
