"""Structure metrics as a text table, for ``show``, ``apply`` and ``compare``."""

from __future__ import annotations

from orgsim._format import table
from orgsim.model.metrics import STRUCTURE_ROWS, StructureMetrics

__all__ = ["structure_table", "states_table"]

_METRIC_ROWS = [("  " * indent + label, get) for label, indent, get in STRUCTURE_ROWS]


def structure_table(before: StructureMetrics, after: StructureMetrics | None = None) -> str:
    """Structure metrics as a text table, with a change column when ``after`` is given."""
    if after is None:
        return table(["metric", "value"], [[name, get(before)] for name, get in _METRIC_ROWS])
    rows = []
    for name, get in _METRIC_ROWS:
        b, a = get(before), get(after)
        change = f"{a - b:+d}" if isinstance(a, int) and isinstance(b, int) else ""
        if isinstance(a, int) and isinstance(b, int) and b:
            change += f" ({(a - b) / b:+.1%})"
        rows.append([name, b, a, change])
    return table(["metric", "before", "after", "change"], rows)


def states_table(metrics: dict[str, StructureMetrics]) -> str:
    """Structure metrics of several states side by side; each state after the first with its change from it."""
    names = list(metrics)
    first = metrics[names[0]]
    rows = []
    for name, get in _METRIC_ROWS:
        b = get(first)
        row: list[object] = [name, b]
        for other in names[1:]:
            a = get(metrics[other])
            row.append(f"{a} ({a - b:+d})" if isinstance(a, int) and isinstance(b, int) else a)
        rows.append(row)
    return table(["metric", *names], rows)
