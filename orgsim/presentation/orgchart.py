"""The org chart as boxes: which units, in what order, with what names and headcounts, and what changed.

One model of the chart for every front end: the web app draws it as HTML
boxes (a click opens or closes a unit), the animation with matplotlib. A
large organisation (several zones of a dozen bureaus each) does not fit on a
projector, so :func:`collapsed_by_default` closes the deepest units with
children until the chart shows at most :data:`MAX_BOXES` boxes: each zone
then stands as one box with its total staff, and opens to its bureaus.

Loads only the model and the names (no simulation).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from orgsim.model import org as o
from orgsim.presentation.names import Names

__all__ = ["MAX_BOXES", "ChartUnit", "unit_order", "chart_units", "collapsed_by_default", "visible_units",
           "removed_units"]

#: Boxes a chart shows before it closes units (a projector's worth, at a readable size).
MAX_BOXES = 30

#: What happened to a unit since the previous state.
NEW, CHANGED, SAME = "new", "changed", ""


@dataclass(frozen=True)
class ChartUnit:
    """One box of the chart and the boxes under it."""

    id: str
    name: str
    #: The unit's kind (``bureau``, ``committee``...): :meth:`Names.kind` words it.
    kind: str
    headcount: int
    #: In the zone's government (else a city department, sub-district, company...).
    in_zone: bool
    children: tuple[ChartUnit, ...]
    #: :data:`NEW` (not in the previous state), :data:`CHANGED` (other staff or functions) or :data:`SAME`.
    change: str = SAME
    #: Headcount in the previous state, when the unit was there and its headcount changed.
    headcount_before: int | None = None

    @property
    def units_below(self) -> int:
        """Units under this one, at every level."""
        return sum(1 + c.units_below for c in self.children)

    @property
    def staff_below(self) -> int:
        """Staff of this unit and of every unit under it."""
        return self.headcount + sum(c.staff_below for c in self.children)

    @property
    def changed_below(self) -> bool:
        """Whether a unit under this one is new or changed (a closed box says so)."""
        return any(c.change != SAME or c.changed_below for c in self.children)

    def walk(self) -> Iterable[tuple[ChartUnit, int]]:
        """This unit and every unit under it, depth first, with the depth below this one."""
        stack: list[tuple[ChartUnit, int]] = [(self, 0)]
        while stack:
            unit, depth = stack.pop()
            yield unit, depth
            stack += [(c, depth + 1) for c in reversed(unit.children)]


def unit_order(states: Sequence[o.Org]) -> dict[str, float]:
    """A sort key per unit over ``states`` (the first is the start): the scenario's order, a unit made
    from others (a merger) where the first of them was."""
    key = {u: float(i) for i, u in enumerate(states[0].units())}
    n = len(key)
    for org in states[1:]:
        for u in org.units():
            if u in key:
                continue
            origins = [key[x] for x in org.graph.nodes[u].get(o.ORIGIN, ()) if x in key]
            key[u] = min(origins) + 0.5 if origins else float(n)
            n += 1
    return key


def _functions(org: o.Org, unit: str) -> frozenset[str]:
    return frozenset(org.performed_by(unit))


def chart_units(org: o.Org, names: Names, previous: o.Org | None = None,
                order: dict[str, float] | None = None) -> tuple[ChartUnit, ...]:
    """The chart of ``org``: its top units (the zone's government first), each with the units under it.

    With ``previous`` (the state before the last change), each box says whether
    the unit is new or changed, and its headcount before.
    """
    order = order if order is not None else unit_order([org])

    def key(u: str) -> tuple[float, str]:
        return (order.get(u, math.inf), u)

    def box(unit: str) -> ChartUnit:
        d = org.graph.nodes[unit]
        headcount = org.headcount(unit)
        change, before = SAME, None
        if previous is not None:
            if not previous.is_unit(unit):
                change = NEW
            else:
                was = previous.headcount(unit)
                if was != headcount:
                    change, before = CHANGED, was
                elif _functions(previous, unit) != _functions(org, unit):
                    change = CHANGED
        kids = tuple(box(c) for c in sorted(org.children(unit), key=key))
        return ChartUnit(unit, names.unit(unit), d[o.KIND], headcount, org.in_zone_government(unit), kids, change,
                         before)

    roots = sorted(org.roots(), key=lambda u: (not _holds_zone(org, u), *key(u)))
    return tuple(box(u) for u in roots)


def _holds_zone(org: o.Org, unit: str) -> bool:
    """Whether ``unit`` is in the zone's government or has a unit of it below (a city over its zones)."""
    if org.in_zone_government(unit):
        return True
    return any(_holds_zone(org, c) for c in org.children(unit))


def visible_units(roots: Sequence[ChartUnit], collapsed: Iterable[str]) -> int:
    """Boxes shown when the units in ``collapsed`` are closed."""
    closed = set(collapsed)

    def count(unit: ChartUnit) -> int:
        return 1 + (0 if unit.id in closed else sum(count(c) for c in unit.children))

    return sum(count(r) for r in roots)


def collapsed_by_default(roots: Sequence[ChartUnit], limit: int = MAX_BOXES) -> frozenset[str]:
    """Units to close so that at most ``limit`` boxes show: the deepest units with children first, a level
    at a time (every zone alike), never a top unit's own row."""
    by_depth: dict[int, list[str]] = {}
    for root in roots:
        for unit, depth in root.walk():
            if unit.children and depth > 0:
                by_depth.setdefault(depth, []).append(unit.id)
    closed: set[str] = set()
    for depth in sorted(by_depth, reverse=True):
        if visible_units(roots, closed) <= limit:
            break
        closed.update(by_depth[depth])
    if visible_units(roots, closed) > limit:
        # Still too many: the top units with children close too (a city over many zones).
        closed.update(r.id for r in roots if r.children)
    return frozenset(closed)


def removed_units(previous: o.Org, org: o.Org, names: Names) -> list[str]:
    """Names of the units of ``previous`` that ``org`` no longer has (merged, flattened or dissolved away)."""
    return [names.unit(u) for u in previous.units() if not org.is_unit(u)]
