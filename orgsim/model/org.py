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

from orgsim.distributions import Distribution

__all__ = [
    "NODE_TYPE", "UNIT", "FUNCTION", "EDGE_TYPE", "REPORTS_TO", "PERFORMS",
    "NAME", "NAME_EN", "KIND", "JURISDICTION", "CHIEF", "DEPUTIES", "SUPPORT", "POOLED",
    "NON_CASE_SHARE", "SUPPORT_HOURS_PER_CASE", "SUPPORT_HOURS_PER_OFFICER", "SUPPORT_WORK", "CATEGORY",
    "POWER_ITEMS", "OFFICERS", "SERVICE_TIME", "SIGNOFF_LEVELS", "REWORK_PROBABILITY", "STANDING_HOURS", "ORIGIN",
    "GOVERNMENT_JURISDICTIONS", "Need", "Step", "Flow", "HandoffSide", "HandoffRule", "RESOLUTIONS", "CaseFlow",
    "Ledger", "Org",
    "redo_steps", "rework_conflicts",
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
#: Support work a unit's officers need (None: the organisation's default, SUPPORT_WORK).
SUPPORT_HOURS_PER_CASE = "support_hours_per_case"
SUPPORT_HOURS_PER_OFFICER = "support_hours_per_officer_per_year"
#: Graph attribute: the default support work, (hours per case, hours per officer per year).
SUPPORT_WORK = "support_work"

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


def redo_steps(dag: nx.DiGraph, step: str, target: str | None) -> set[str]:
    """The steps on a path from ``target`` to ``step`` (both included); ``{step}`` without a target."""
    if target is None:
        return {step}
    return (nx.descendants(dag, target) | {target}) & (nx.ancestors(dag, step) | {step})


def rework_conflicts(dag: nx.DiGraph, targets: dict[str, str]) -> list[tuple[str, str, str]]:
    """Pairs of steps that may send one file back at once through a shared step: (a, b, first shared).

    ``targets`` maps each step that sends files back to an earlier one to
    that step. Two such steps conflict when neither comes before the other
    (both may be in progress) and the steps they would redo overlap: one
    step would be done again twice at once, and the model does not say how
    two returns of one file combine, so it refuses them.
    """
    steps = [s for s in dag if s in targets]
    order = list(dag)
    out = []
    for k, a in enumerate(steps):
        for b in steps[k + 1:]:
            if b in nx.ancestors(dag, a) or a in nx.ancestors(dag, b):
                continue
            shared = redo_steps(dag, a, targets[a]) & redo_steps(dag, b, targets[b])
            if shared:
                out.append((a, b, min(shared, key=order.index)))
    return out


@dataclass(frozen=True)
class Need:
    """When an application needs a step (or one function of a merged step): not always.

    It is needed when it has the attribute ``when`` (if given) and its own
    draw falls below ``probability``. The draw is named after ``source``, the
    step the scenario wrote the condition on, so it survives reforms that
    merge or move that step.
    """

    source: str
    probability: float = 1.0
    when: str | None = None


@dataclass(frozen=True)
class Step:
    """One step of an approval path: the functions it needs, done as one case."""

    id: str
    functions: tuple[str, ...]
    #: Service time of a merged step: "sum", "max", or a factor times the sum.
    combine: str | float = "sum"
    #: Per function, when it is needed (None: always); empty: every function always.
    needs: tuple[Need | None, ...] = ()
    #: The earlier step a file sent back from this one returns to (None: this step).
    rework_to: str | None = None

    def need(self, k: int) -> Need | None:
        """When the step's ``k``-th function is needed (None: always)."""
        return self.needs[k] if self.needs else None

    @property
    def optional(self) -> bool:
        """True when some applications skip the step (every function has a condition)."""
        return bool(self.needs) and all(n is not None for n in self.needs)


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
    #: Named attributes drawn once per application, (name, probability), for ``Need.when``.
    attributes: tuple[tuple[str, float], ...] = ()

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

    def redo(self, step_id: str) -> list[str]:
        """The steps a file sent back from ``step_id`` goes through again, in path order.

        Those on a path from its ``rework_to`` target to it (both included);
        just the step itself when it has no target.
        """
        dag = self.dag()
        between = redo_steps(dag, step_id, self.step(step_id).rework_to)
        return [s for s in nx.topological_sort(dag) if s in between]


@dataclass(frozen=True)
class HandoffSide:
    """One side of a coordination rule: units (by the ids they have or came from) and jurisdictions."""

    units: tuple[str, ...] = ()
    jurisdictions: tuple[str, ...] = ()

    @classmethod
    def resolve(cls, org: Org, units: Iterable[str], jurisdictions: Iterable[str]) -> HandoffSide:
        """``units`` (each with every unit below it in ``org``, by the ids they have and came from), ``jurisdictions``.

        Every unit must be in ``org``; the caller says what is wrong when one is not.
        """
        ids: set[str] = set()
        for u in units:
            for x in org.subtree(u):
                ids.add(x)
                ids.update(org.graph.nodes[x].get(ORIGIN, ()))
        return cls(tuple(sorted(ids)), tuple(dict.fromkeys(jurisdictions)))

    def holds(self, org: Org, unit: str) -> bool:
        d = org.graph.nodes[unit]
        return (d[JURISDICTION] in self.jurisdictions or unit in self.units
                or any(x in self.units for x in d.get(ORIGIN, ())))


@dataclass(frozen=True)
class HandoffRule:
    """Hand-offs between two sides set (``handoff``) or scaled (``factor``): the ``coordinate`` operator."""

    sides: tuple[HandoffSide, HandoffSide]
    both_ways: bool = True
    factor: float = 1.0
    #: A new delay distribution for these hand-offs (then ``factor`` is 1).
    handoff: Distribution | None = None

    def applies(self, org: Org, a: str, b: str) -> bool:
        """Whether a hand-off from a step at unit ``a`` to one at unit ``b`` is covered."""
        first, second = self.sides
        return (first.holds(org, a) and second.holds(org, b)) or (
            self.both_ways and second.holds(org, a) and first.holds(org, b))


#: How an enforcement case is resolved (the "721 method": 70% service, 20% management, 10% enforcement).
RESOLUTIONS: tuple[str, ...] = ("service", "management", "enforcement")


@dataclass(frozen=True)
class CaseFlow:
    """Enforcement cases (执法案件) arriving for a function, resolved by service, management or enforcement.

    Each way of resolving them is a case type of its own in the simulation:
    ``rate_per_day`` times its share, its own officer time; only enforcement
    climbs the function's sign-off chain.
    """

    id: str
    name: str
    name_en: str | None
    function: str
    rate_per_day: float
    #: Per resolution (RESOLUTIONS order): (share, officer time per case).
    resolutions: tuple[tuple[float, Distribution], ...]
    statutory_limit_days: float | None = None


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
        handoff_rules: Iterable[HandoffRule] = (),
        case_flows: Iterable[CaseFlow] = (),
    ) -> None:
        self.graph = graph
        self.flows: tuple[Flow, ...] = tuple(flows)
        self.ledger = ledger or Ledger()
        #: Hand-offs set or scaled between groups of units, in the order the reforms made them.
        self.handoff_rules: tuple[HandoffRule, ...] = tuple(handoff_rules)
        #: Enforcement cases, each handled by a function's officers.
        self.case_flows: tuple[CaseFlow, ...] = tuple(case_flows)

    # ------------------------------------------------------------ copies
    def mutable_copy(self) -> Org:
        """A copy whose graph can be changed without touching this one."""
        return Org(self.graph.copy(), self.flows, self.ledger, self.handoff_rules, self.case_flows)

    def with_flows(self, flows: Iterable[Flow]) -> Org:
        return Org(self.graph, flows, self.ledger, self.handoff_rules, self.case_flows)

    def case_functions(self) -> set[str]:
        """Functions that receive cases: on approval paths, or handling enforcement cases."""
        return {f for flow in self.flows for f in flow.functions()} | {c.function for c in self.case_flows}

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

    def support_work(self, unit: str) -> tuple[float, float]:
        """Support hours ``unit``'s officers need: (per case, per officer per year)."""
        d = self.graph.nodes[unit]
        per_case, per_officer = self.graph.graph.get(SUPPORT_WORK, (0.0, 0.0))
        own_case, own_officer = d.get(SUPPORT_HOURS_PER_CASE), d.get(SUPPORT_HOURS_PER_OFFICER)
        return (per_case if own_case is None else own_case, per_officer if own_officer is None else own_officer)

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
