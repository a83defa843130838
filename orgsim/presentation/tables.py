"""Tables as cells of text, and the structure table: what any front end shows, without the simulation.

:class:`Table` is a title, headers, rows of :class:`Cell` and a note: the CLI
prints it aligned (:func:`orgsim.cli._tables.render`), the report as HTML.
This module loads only the model (``show`` and ``apply`` use it); result
tables are in :mod:`orgsim.presentation.results`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from orgsim.i18n import N_, _, ngettext
from orgsim.model.metrics import STRUCTURE_ROWS, StructureMetrics

__all__ = ["Cell", "Table", "fmt", "ci_text", "pct", "text", "structure_table", "states_structure_table",
           "destinations_text", "social_affairs_text", "DESTINATION_LABELS"]


@dataclass(frozen=True)
class Cell:
    """A table cell: its text, and whether it is a number (right-aligned)."""

    text: str
    numeric: bool = False

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Table:
    """A table to show: title, column headers, rows of cells, a note under it."""

    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    note: str = ""
    #: Rows that start a group (drawn with a rule above in HTML).
    group_starts: frozenset[int] = field(default_factory=frozenset)


def fmt(x: float | int | None, digits: int = 1) -> Cell:
    """A number as a cell ("–" for none or NaN)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return Cell("–")
    if isinstance(x, int) and not isinstance(x, bool):
        return Cell(str(x), True)
    return Cell(f"{x:.{digits}f}", True)


def ci_text(ci: Sequence[float] | None, digits: int = 1) -> Cell:
    if not ci or any(v is None or math.isnan(v) for v in ci):
        return Cell("")
    return Cell(f"[{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]", True)


def pct(x: float | None, digits: int = 1) -> Cell:
    if x is None or math.isnan(x):
        return Cell("–")
    return Cell(f"{x:.{digits}%}", True)


def text(value: Any) -> Cell:
    return Cell("–" if value is None else str(value))



def structure_table(before: StructureMetrics, after: StructureMetrics | None = None) -> Table:
    """Structure metrics (bodies, headcount, posts, layers, powers), before and after with the change."""
    rows = []
    for label, indent, get in STRUCTURE_ROWS:
        name = Cell("  " * indent + _(label))
        b = get(before)
        if after is None:
            rows.append([name, Cell(str(b), isinstance(b, int))])
            continue
        a = get(after)
        rows.append([name, Cell(str(b), isinstance(b, int)), Cell(str(a), isinstance(a, int)),
                     Cell(_change(b, a), True)])
    if after is None:
        return Table(_("structure"), [_("metric"), _("value")], rows)
    return Table(_("structure and headcount"), [_("metric"), _("before"), _("after"), _("change")], rows)


def _change(b: object, a: object) -> str:
    if isinstance(a, int) and isinstance(b, int):
        return f"{a - b:+d}" + (f" ({(a - b) / b:+.1%})" if b else "")
    return ""


def states_structure_table(metrics: Mapping[str, StructureMetrics], labels: Mapping[str, str]) -> Table:
    """Structure metrics of several states side by side (``before`` first), each later one with its change."""
    names = list(metrics)
    first = metrics[names[0]]
    rows = []
    for label, indent, get in STRUCTURE_ROWS:
        b = get(first)
        row = [Cell("  " * indent + _(label)), Cell(str(b), isinstance(b, int))]
        for other in names[1:]:
            a = get(metrics[other])
            if isinstance(a, int) and isinstance(b, int):
                change = f"{a - b:+d}" + (f", {(a - b) / b:+.1%}" if b else "")
                row.append(Cell(f"{a} ({change})", True))
            else:
                row.append(Cell(str(a)))
        rows.append(row)
    return Table(_("structure and headcount"), [_("metric"), *(labels[n] for n in names)], rows,
                 note=_("In brackets: the change from {first}.").format(first=labels[names[0]]))


#: Where staff and duties are, as a reader calls each place (structure_metrics' destination groups).
DESTINATION_LABELS = {"zone": N_("the zone government"), "sub_districts": N_("sub-districts"),
                      "districts": N_("districts"), "counties": N_("counties"), "companies": N_("companies"),
                      "city": N_("the city"), "other": N_("elsewhere")}


def destinations_text(metrics: StructureMetrics) -> str:
    """Where the staff went, in words."""
    labels = {"zone": N_("kept in the zone government"), "sub_districts": N_("moved to sub-districts"),
              "districts": N_("moved to districts"), "counties": N_("moved to counties"),
              "companies": N_("moved to companies"), "city": N_("moved to the city"),
              "other": N_("moved elsewhere"), "released": N_("posts cut"), "hired": N_("hired"),
              "moved_in": N_("moved in")}
    parts = [f"{_(labels.get(k, k))} {v}" for k, v in metrics.headcount_by_destination.items() if v]
    return _("Where the staff went: {parts}.").format(parts=_("; ").join(parts))


def social_affairs_text(metrics: StructureMetrics) -> str:
    """Where the social-affairs duties are and how many items each place holds, in words ("" without any)."""
    items = metrics.social_affairs_items_by_destination
    duties = metrics.social_affairs_functions_by_destination
    if not duties:
        return ""
    parts = [_("{place}: {items} items in {duties}").format(
        place=_(DESTINATION_LABELS.get(k, k)), items=items.get(k, 0),
        duties=ngettext("{n} duty", "{n} duties", n).format(n=n)) for k, n in duties.items()]
    return _("Where the social-affairs duties are: {parts}.").format(parts=_("; ").join(parts))


