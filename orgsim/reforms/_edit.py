"""Shared editing steps for reform operators, each recording its change.

An :class:`Edit` wraps a mutable copy of an organisation. Operators check
their preconditions with the ``require_*`` helpers (which raise
:class:`ReformError` naming the unit or function), change the copy through
the other helpers (which keep the staff ledger and the change log), then
call :meth:`Edit.finish`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from orgsim.errors import ReformError
from orgsim.model import org as o
from orgsim.reforms.changelog import Change
from orgsim.scenario import schema as s

__all__ = ["Edit", "apportion"]

#: Units that remove_emptied never dissolves.
_NEVER_EMPTIED = frozenset({"committee", "party_committee"})


def apportion(total: int, capacities: Sequence[int]) -> list[int]:
    """Split ``total`` over holders in proportion to ``capacities``, never above one.

    Largest-remainder rounding, so the parts add up to ``total`` exactly and
    ties go to the earlier holder (deterministic).
    """
    cap_sum = sum(capacities)
    if total > cap_sum:
        raise ValueError(f"cannot take {total} from {cap_sum}")
    if total == 0 or cap_sum == 0:
        return [0] * len(capacities)
    exact = [total * c / cap_sum for c in capacities]
    parts = [min(c, math.floor(x)) for c, x in zip(capacities, exact, strict=True)]
    order = sorted(range(len(capacities)), key=lambda i: (-(exact[i] - parts[i]), i))
    left = total - sum(parts)
    while left:
        for i in order:
            if left and parts[i] < capacities[i]:
                parts[i] += 1
                left -= 1
    return parts


class Edit:
    """A mutable copy of an organisation plus the change log of one operator."""

    def __init__(self, org: o.Org, op: str, phase: str | None = None) -> None:
        self.org = org.mutable_copy()
        self.g = self.org.graph
        self.op = op
        self.phase = phase
        self.changes: list[Change] = []

    # ------------------------------------------------------------ recording
    def log(self, action: str, subject: str, **kw: object) -> None:
        self.changes.append(Change(self.op, action, subject, phase=self.phase, **kw))  # type: ignore[arg-type]  # kw: Change's optional fields, typed there

    def fail(self, message: str) -> ReformError:
        return ReformError(f"{self.op}: {message}")

    def finish(self) -> tuple[o.Org, list[Change]]:
        if not self.changes:
            self.log("no_change", "-", note="the operator found nothing to change")
        return self.org, self.changes

    # ------------------------------------------------------------ preconditions
    def require_unit(self, unit: str, role: str = "unit") -> str:
        if not self.org.is_unit(unit):
            hint = " (it is a function)" if self.org.is_function(unit) else ""
            raise self.fail(f"{role} {unit!r} does not exist{hint}")
        return unit

    def require_function(self, function: str) -> str:
        if not self.org.is_function(function):
            hint = " (it is a unit)" if self.org.is_unit(function) else ""
            raise self.fail(f"function {function!r} does not exist{hint}")
        return function

    def require_new_id(self, node: str, reusable: Iterable[str] = ()) -> None:
        if node in self.g and node not in set(reusable):
            raise self.fail(f"id {node!r} is already taken")

    def select_functions(self, sel: s._FunctionSelector) -> list[str]:
        """Functions named by id or by category (within a subtree), in graph order."""
        for f in sel.functions:
            self.require_function(f)
        scope: set[str] | None = None
        if sel.within is not None:
            scope = set(self.org.subtree(self.require_unit(sel.within, "within unit")))
        chosen = list(dict.fromkeys(sel.functions))
        if sel.categories:
            for f in self.org.functions():
                if (self.g.nodes[f][o.CATEGORY] in sel.categories and f not in chosen
                        and (scope is None or self.org.owner(f) in scope)):
                    chosen.append(f)
        if scope is not None:
            outside = [f for f in sel.functions if self.org.owner(f) not in scope]
            if outside:
                raise self.fail(f"function {outside[0]!r} is not within {sel.within!r}")
        if not chosen:
            raise self.fail(
                f"selects no function (functions={sel.functions}, categories={sel.categories}, within={sel.within})"
            )
        return chosen

    # ------------------------------------------------------------ staff
    def _count(self, unit: str, what: str, category: str, n: int) -> None:
        zone = self.org.in_zone_government(unit)
        field = what if zone else f"{what}_outside"
        self.org.ledger = self.org.ledger.add(field, category, n)

    def release(self, unit: str, category: str, n: int, subject: str | None = None) -> None:
        if n <= 0:
            return
        self._count(unit, "released", category, n)
        self.log("staff_released", subject or unit, source=unit, staff=n, category=category)

    def hire(self, unit: str, category: str, n: int, subject: str | None = None) -> None:
        if n <= 0:
            return
        self._count(unit, "hired", category, n)
        self.log("staff_hired", subject or unit, target=unit, staff=n, category=category)

    def account_move(self, source: str, target: str, category: str, n: int, subject: str) -> None:
        """Record ``n`` staff moving between units, across the zone boundary or not."""
        if n <= 0 or source == target:
            return
        src_zone = self.org.in_zone_government(source)
        dst_zone = self.org.in_zone_government(target)
        if src_zone and not dst_zone:
            self.org.ledger = self.org.ledger.add("moved_out", self.g.nodes[target][o.KIND], n)
        elif dst_zone and not src_zone:
            self.org.ledger = self.org.ledger.add("moved_in", self.g.nodes[source][o.KIND], n)
        self.log("staff_moved", subject, source=source, target=target, staff=n, category=category)

    def set_leadership(self, unit: str, chief: int, deputies: int) -> None:
        d = self.g.nodes[unit]
        before = d[o.CHIEF] + d[o.DEPUTIES]
        d[o.CHIEF], d[o.DEPUTIES] = chief, deputies
        self.log("leadership_set", unit, note=f"{chief} chief + {deputies} deputies")
        self.hire(unit, "leaders", chief + deputies - before)
        self.release(unit, "leaders", before - chief - deputies)

    # ------------------------------------------------------------ structure
    def move_function(self, function: str, target: str, staff: str = "move") -> None:
        """Give ``function`` to ``target``; its officers move, or are released."""
        source = self.org.owner(function)
        if source == target:
            return
        self.g.remove_edge(source, function)
        self.g.add_edge(target, function, **{o.EDGE_TYPE: o.PERFORMS})
        self.log("function_moved", function, source=source, target=target)
        officers = self.g.nodes[function][o.OFFICERS]
        if staff == "move":
            # Officers are counted against the unit that performs the function,
            # so the graph change above already moved them; record it.
            self.account_move(source, target, "frontline", officers, function)
        elif staff == "release":
            self.g.nodes[function][o.OFFICERS] = 0
            self.release(source, "frontline", officers, function)
        else:  # pragma: no cover - guarded by the schema
            raise ValueError(staff)

    def reparent(self, unit: str, parent: str | None) -> None:
        old = self.org.parent(unit)
        if old == parent:
            return
        if old is not None:
            self.g.remove_edge(unit, old)
        if parent is not None:
            self.g.add_edge(unit, parent, **{o.EDGE_TYPE: o.REPORTS_TO})
        self.log("unit_reparented", unit, source=old, target=parent)

    def create_unit(
        self,
        spec: s.NewUnit,
        *,
        default_parent: str | None,
        default_jurisdiction: str,
        origin: tuple[str, ...] = (),
        pooled: bool = False,
        non_case_share: float = 0.0,
    ) -> str:
        parent = spec.parent if spec.parent is not None else default_parent
        if parent is not None:
            self.require_unit(parent, "parent unit")
        self.g.add_node(
            spec.id,
            **{
                o.NODE_TYPE: o.UNIT,
                o.NAME: spec.name,
                o.NAME_EN: spec.name_en,
                o.KIND: spec.kind,
                o.JURISDICTION: spec.jurisdiction or default_jurisdiction,
                o.CHIEF: 0,
                o.DEPUTIES: 0,
                o.SUPPORT: 0,
                o.POOLED: pooled,
                o.NON_CASE_SHARE: non_case_share,
                o.ORIGIN: origin or (spec.id,),
            },
        )
        if parent is not None:
            self.g.add_edge(spec.id, parent, **{o.EDGE_TYPE: o.REPORTS_TO})
        self.log("unit_created", spec.id, target=parent, note=f"{spec.kind} {spec.name}")
        return spec.id

    def remove_unit(self, unit: str, staff_to: str | None) -> None:
        """Dissolve an empty unit; its leaders and support move to ``staff_to`` or are released.

        Leaders who move become deputies: a unit keeps a single chief.
        """
        if self.org.performed_by(unit) or self.org.children(unit):
            raise self.fail(f"unit {unit!r} still has functions or children")  # pragma: no cover
        d = self.g.nodes[unit]
        leaders, support = d[o.CHIEF] + d[o.DEPUTIES], d[o.SUPPORT]
        if staff_to is None:
            self.release(unit, "leaders", leaders)
            self.release(unit, "support", support)
        else:
            self.g.nodes[staff_to][o.DEPUTIES] += leaders
            self.g.nodes[staff_to][o.SUPPORT] += support
            d[o.CHIEF] = d[o.DEPUTIES] = d[o.SUPPORT] = 0
            self.account_move(unit, staff_to, "leaders", leaders, unit)
            self.account_move(unit, staff_to, "support", support, unit)
        self.reparent(unit, None)
        self.g.remove_node(unit)
        self.log("unit_removed", unit)

    def remove_emptied(self, units: Iterable[str], staff_to: str | None) -> None:
        """Dissolve units an operator left with no function and no child unit."""
        for u in dict.fromkeys(units):
            if not self.org.is_unit(u) or self.g.nodes[u][o.KIND] in _NEVER_EMPTIED:
                continue  # a committee heads its zone even with nothing left below it
            if not self.org.performed_by(u) and not self.org.children(u):
                self.remove_unit(u, staff_to)

    def zone_root(self, unit: str) -> str:
        *_, root = self.org.chain(unit)
        return root
