"""Parameter sweeps: a grid over scenario fields, each point a before/after comparison.

:func:`sweep` is the entry point (:mod:`orgsim.sweep.api`); the lever path
language is in :mod:`orgsim.sweep.levers`, the points and how they run in
:mod:`orgsim.sweep.points`, and the resume journal in
:mod:`orgsim.sweep.journal`. ``orgsim.sweep(...)`` calls :func:`sweep` too.
"""

from __future__ import annotations

from orgsim._callable_module import callable_module
from orgsim.errors import SweepError
from orgsim.sweep.api import grid, sweep
from orgsim.sweep.journal import parts_directory, read_table
from orgsim.sweep.levers import (
    TOGGLE,
    Vary,
    parse_path,
    parse_value,
    parse_vary,
    resolve_path,
    resolve_vary,
    split_top,
)
from orgsim.sweep.points import TASKS_PER_WORKER

# The CLI's name for split_top, kept so that ``orgsim frontier`` keeps working unchanged.
_split_top = split_top

__all__ = [
    "SweepError",
    "Vary",
    "parse_path",
    "parse_vary",
    "parse_value",
    "resolve_path",
    "resolve_vary",
    "split_top",
    "grid",
    "sweep",
    "read_table",
    "parts_directory",
    "TOGGLE",
    "TASKS_PER_WORKER",
]


callable_module(__name__, sweep)
