"""The organisation: a graph of units and functions, plus its approval paths.

Nodes are units (committee, bureau, sub-district, city department, company ...)
and functions (approval powers, penalty powers, social-affairs duties ...).
Edges are ``reports_to`` (child unit -> parent unit) and ``performs``
(unit -> function). Attribute keys are the constants below; nothing else in
orgsim spells them as string literals.

An :class:`Org` is treated as immutable: reform operators work on
:meth:`Org.mutable_copy` and return a new one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import networkx as nx

__all__ = [
    "NODE_TYPE", "UNIT", "FUNCTION", "EDGE_TYPE", "REPORTS_TO", "PERFORMS",
    "NAME", "NAME_EN", "KIND", "JURISDICTION", "CHIEF", "DEPUTIES", "SUPPORT", "POOLED",
    "NON_CASE_SHARE", "CATEGORY", "POWER_ITEMS", "OFFICERS", "SERVICE_TIME", "SIGNOFF_LEVELS",
    "REWORK_PROBABILITY", "STANDING_HOURS", "ORIGIN",
    "GOVERNMENT_JURISDICTIONS", "Step", "Flow", "Ledger", "Org",
]

# node and edge types
NODE_TYPE = "node_type"
UNIT = "unit"
FUNCTION = "function"
EDGE_TYPE = "edge_type"
REPORTS_TO = "reports_to"
PERFORMS = "performs"

# shared node attributes
NAME = "name"
NAME_EN = "name_en"
#: Where a node came from: the id it had in the scenario, kept through merges.
ORIGIN = "origin"

# unit attributes
KIND = "kind"
JURISDICTION = "jurisdiction"
CHIEF = "chief"
DEPUTIES = "deputies"
SUPPORT = "support"
POOLED = "pooled"
NON_CASE_SHARE = "non_case_share"

# function attributes
CATEGORY = "category"
POWER_ITEMS = "power_items"
OFFICERS = "officers"
SERVICE_TIME = "service_time"
SIGNOFF_LEVELS = "signoff_levels"
REWORK_PROBABILITY = "rework_probability"
STANDING_HOURS = "standing_hours_per_year"

STAFF_CATEGORIES: tuple[str, ...] = ("leaders", "frontline", "support")
#: Headcount counts as government staff of the zone in these jurisdictions.
GOVERNMENT_JURISDICTIONS = frozenset({"zone"})


@dataclass(frozen=True)
class Step:
    """One step of an approval path: the functions it needs, done as one case."""

    id: str
    functions: tuple[str, ...]
    #: Service time of a merged step: "sum", "max", or a factor times the sum.
    combine: str | float = "sum"


@dataclass(frozen=True)
class Flow:
    """A project type's approval path: a DAG of steps, and how applicants arrive."""

    id: str
    name: str
    name_en: str | None
    rate_per_day: float
    trace: str | None
    trace_column: str
    steps: tuple[Step, ...]
    #: Dependencies as (before, after) pairs of step ids.
    after: tuple[tuple[str, str], ...]
    statutory_limit_days: float | None = None
    #: Multipliers set by agency service (领办代办).
    rework_factor: float = 1.0
    delay_factor: float = 1.0

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def dag(self) -> nx.DiGraph:
        g: nx.DiGraph[str] = nx.DiGraph()
        g.add_nodes_from(s.id for s in self.steps)
        g.add_edges_from(self.after)
        return g

    def predecessors(self) -> dict[str, tuple[str, ...]]:
        preds: dict[str, list[str]] = {s.id: [] for s in self.steps}
        for a, b in self.after:
            preds[b].append(a)
        return {k: tuple(v) for k, v in preds.items()}

    def functions(self) -> set[str]:
        return {f for s in self.steps for f in s.functions}


@dataclass(frozen=True)
class Ledger:
    """Staff that reforms released, hired or moved across the zone's boundary.

    ``released`` and ``hired`` count zone government staff by category;
    ``released_outside`` and ``hired_outside`` the same for units outside it
    (city departments, sub-districts, companies). With these, headcount is
    conserved exactly::

        zone before + moved_in + hired = zone after + moved_out + released
        all before + hired + hired_outside = all after + released + released_outside
    """

    released: dict[str, int] = field(default_factory=dict)
    hired: dict[str, int] = field(default_factory=dict)
    released_outside: dict[str, int] = field(default_factory=dict)
    hired_outside: dict[str, int] = field(default_factory=dict)
    #: Zone staff moved to units outside the zone's government, by destination kind.
    moved_out: dict[str, int] = field(default_factory=dict)
    #: Staff moved into the zone from outside, by origin kind.
    moved_in: dict[str, int] = field(default_factory=dict)

    def add(self, what: str, key: str, n: int) -> Ledger:
        if n == 0:
            return self
        counts = dict(getattr(self, what))
        counts[key] = counts.get(key, 0) + n
        return replace(self, **{what: counts})

    def total(self, what: str) -> int:
        return sum(getattr(self, what).values())


class Org:
    """An organisation state: structure graph, approval paths and staff ledger."""

    def __init__(
        self,
        graph: nx.DiGraph,
        flows: Iterable[Flow] = (),
        ledger: Ledger | None = None,
    ) -> None:
        self.graph = graph
        self.flows: tuple[Flow, ...] = tuple(flows)
        self.ledger = ledger or Ledger()

    # ------------------------------------------------------------ copies
    def mutable_copy(self) -> Org:
        """A copy whose graph can be changed without touching this one."""
        return Org(self.graph.copy(), self.flows, self.ledger)

    def with_flows(self, flows: Iterable[Flow]) -> Org:
        return Org(self.graph, flows, self.ledger)

    # ------------------------------------------------------------ nodes
    def is_unit(self, node: str) -> bool:
        return self.graph.nodes.get(node, {}).get(NODE_TYPE) == UNIT

    def is_function(self, node: str) -> bool:
        return self.graph.nodes.get(node, {}).get(NODE_TYPE) == FUNCTION

    def units(self) -> list[str]:
        return [n for n, d in self.graph.nodes(data=True) if d[NODE_TYPE] == UNIT]

    def functions(self) -> list[str]:
        return [n for n, d in self.graph.nodes(data=True) if d[NODE_TYPE] == FUNCTION]

    def attr(self, node: str, key: str) -> Any:
        return self.graph.nodes[node][key]

    def label(self, node: str, english: bool = False) -> str:
        d = self.graph.nodes[node]
        return (d.get(NAME_EN) or d[NAME]) if english else d[NAME]

    # ------------------------------------------------------------ hierarchy
    def parent(self, unit: str) -> str | None:
        for _, p, d in self.graph.out_edges(unit, data=True):
            if d[EDGE_TYPE] == REPORTS_TO:
                return p
        return None

    def children(self, unit: str) -> list[str]:
        return [c for c, _, d in self.graph.in_edges(unit, data=True) if d[EDGE_TYPE] == REPORTS_TO]

    def roots(self) -> list[str]:
        return [u for u in self.units() if self.parent(u) is None]

    def subtree(self, unit: str) -> list[str]:
        """``unit`` and every unit below it, parents before children."""
        out, stack = [], [unit]
        while stack:
            u = stack.pop()
            out.append(u)
            stack.extend(reversed(self.children(u)))
        return out

    def depth(self, unit: str) -> int:
        """Layers above ``unit`` (0 for a root)."""
        d, p = 0, self.parent(unit)
        while p is not None:
            d, p = d + 1, self.parent(p)
        return d

    def chain(self, unit: str) -> Iterator[str]:
        """``unit``, its parent, its parent's parent ... up to the root."""
        u: str | None = unit
        while u is not None:
            yield u
            u = self.parent(u)

    # ------------------------------------------------------------ functions
    def owner(self, function: str) -> str:
        for u, _, d in self.graph.in_edges(function, data=True):
            if d[EDGE_TYPE] == PERFORMS:
                return u
        raise KeyError(f"function {function!r} has no owner")

    def performed_by(self, unit: str) -> list[str]:
        return [f for _, f, d in self.graph.out_edges(unit, data=True) if d[EDGE_TYPE] == PERFORMS]

    # ------------------------------------------------------------ staff
    def leaders(self, unit: str) -> int:
        d = self.graph.nodes[unit]
        return d[CHIEF] + d[DEPUTIES]

    def frontline(self, unit: str) -> int:
        return sum(self.graph.nodes[f][OFFICERS] for f in self.performed_by(unit))

    def headcount(self, unit: str) -> int:
        return self.leaders(unit) + self.frontline(unit) + self.graph.nodes[unit][SUPPORT]

    def staff_by_category(self, unit: str) -> dict[str, int]:
        return {
            "leaders": self.leaders(unit),
            "frontline": self.frontline(unit),
            "support": self.graph.nodes[unit][SUPPORT],
        }

    def in_zone_government(self, unit: str) -> bool:
        d = self.graph.nodes[unit]
        return d[JURISDICTION] in GOVERNMENT_JURISDICTIONS and d[KIND] != "company"

    def zone_units(self) -> list[str]:
        return [u for u in self.units() if self.in_zone_government(u)]

    def total_headcount(self) -> int:
        """Staff in every unit of the graph, inside the zone or not."""
        return sum(self.headcount(u) for u in self.units())

    def zone_headcount(self) -> int:
        return sum(self.headcount(u) for u in self.zone_units())

    def __repr__(self) -> str:
        return (
            f"Org({len(self.units())} units, {len(self.functions())} functions, "
            f"{len(self.flows)} project types, zone headcount {self.zone_headcount()})"
        )
