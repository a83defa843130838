"""Arrival traces: dates read from a column of a CSV file, with the file's SHA-256.

The reading and checking is :func:`orgsim.scenario._traces.read_trace` (the
loader reads every trace once, when the scenario is loaded); this is the
same for a path given directly.
"""

from __future__ import annotations

from pathlib import Path

from orgsim.errors import SimulationError

__all__ = ["read_trace_file"]


def read_trace_file(path: Path, column: str) -> tuple[list[str], str]:
    """The non-blank values of ``column`` in the CSV file ``path``, and the SHA-256 (hex) of the file."""
    from orgsim.scenario._traces import TraceProblem, read_trace

    path = Path(path)
    try:
        trace = read_trace(path.parent, path.name, column, allow_outside=True)
    except TraceProblem as exc:
        raise SimulationError(f"{path}: {exc}") from None
    return list(trace.dates), trace.sha256
