"""Structure metrics of an organisation state: bodies, headcount, layers, powers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from orgsim.i18n import N_
from orgsim.model import org as o
from orgsim.scenario.schema import POWER_CATEGORIES

__all__ = ["StructureMetrics", "structure_metrics", "INTERNAL_BODY_KINDS", "STRUCTURE_ROWS"]

#: Kinds counted as internal bodies (内设机构) of a zone committee.
INTERNAL_BODY_KINDS = frozenset({"department", "bureau", "office", "centre", "window"})
_DESTINATION_GROUPS = {
    "sub_district": "sub_districts",
    "township": "sub_districts",
    "district": "districts",
    "county": "counties",
    "company": "companies",
    "city_department": "city",
}


def _destination(org: o.Org, unit: str, zone: set[str]) -> str:
    """Where a unit is, as the destination groups count it: the zone government, or a kind of receiver."""
    if unit in zone:
        return "zone"
    return _DESTINATION_GROUPS.get(org.graph.nodes[unit][o.KIND], "other")


@dataclass(frozen=True)
class StructureMetrics:
    """What a planner counts in an organisation (zone government only, unless named)."""

    units: int
    units_by_kind: dict[str, int]
    internal_bodies: int
    institutions: int
    parks: int
    headcount: int
    headcount_by_category: dict[str, int]
    #: Where staff are, cumulatively: kept in the zone, moved to sub-districts,
    #: companies or the city, released, and hired by reforms.
    headcount_by_destination: dict[str, int]
    leadership_posts: int
    chiefs: int
    deputies: int
    layers: int
    span_of_control_mean: float
    span_of_control_max: int
    functions_zone: int
    power_items_zone: int
    power_items_city: int
    power_items_elsewhere: int
    #: Social-affairs duties (社会事务) by where they are: zone (government), sub_districts,
    #: districts, counties, city, companies, other: their items (power_items) and functions.
    social_affairs_items_by_destination: dict[str, int] = field(default_factory=dict)
    social_affairs_functions_by_destination: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _layers(org: o.Org, zone: set[str]) -> int:
    depth: dict[str, int] = {}
    for u in zone:
        d, p = 1, org.parent(u)
        while p is not None and p in zone:
            d, p = d + 1, org.parent(p)
        depth[u] = d
    return max(depth.values(), default=0)


def structure_metrics(org: o.Org) -> StructureMetrics:
    """Count bodies, staff, layers, spans and power items of ``org``."""
    g = org.graph
    zone = org.zone_units()
    zone_set = set(zone)
    kinds = Counter(g.nodes[u][o.KIND] for u in zone)
    by_category = Counter[str]()
    for u in zone:
        by_category.update(org.staff_by_category(u))
    spans = [n for n in (sum(1 for c in org.children(u) if c in zone_set) for u in zone) if n > 0]

    items = Counter[str]()
    social_items = Counter[str]()
    social_functions = Counter[str]()
    functions_zone = 0
    for f in org.functions():
        owner = org.owner(f)
        if owner in zone_set:
            functions_zone += 1
        if g.nodes[f][o.CATEGORY] == "social_affairs":
            where = _destination(org, owner, zone_set)
            social_items[where] += g.nodes[f][o.POWER_ITEMS]
            social_functions[where] += 1
        if g.nodes[f][o.CATEGORY] not in POWER_CATEGORIES:
            continue
        where = "zone" if owner in zone_set else (
            "city" if g.nodes[owner][o.JURISDICTION] == "city" else "elsewhere"
        )
        items[where] += g.nodes[f][o.POWER_ITEMS]

    destination = Counter[str]({"zone": sum(by_category.values())})
    for kind, n in org.ledger.moved_out.items():
        destination[_DESTINATION_GROUPS.get(kind, "other")] += n
    destination["released"] = org.ledger.total("released")
    destination["hired"] = org.ledger.total("hired")
    destination["moved_in"] = org.ledger.total("moved_in")

    return StructureMetrics(
        units=len(zone),
        units_by_kind=dict(sorted(kinds.items())),
        internal_bodies=sum(n for k, n in kinds.items() if k in INTERNAL_BODY_KINDS),
        institutions=kinds.get("institution", 0),
        parks=kinds.get("park", 0),
        headcount=sum(by_category.values()),
        headcount_by_category={k: by_category.get(k, 0) for k in o.STAFF_CATEGORIES},
        headcount_by_destination=dict(destination),
        leadership_posts=by_category.get("leaders", 0),
        chiefs=sum(g.nodes[u][o.CHIEF] for u in zone),
        deputies=sum(g.nodes[u][o.DEPUTIES] for u in zone),
        layers=_layers(org, zone_set),
        span_of_control_mean=round(sum(spans) / len(spans), 3) if spans else 0.0,
        span_of_control_max=max(spans, default=0),
        functions_zone=functions_zone,
        power_items_zone=items.get("zone", 0),
        power_items_city=items.get("city", 0),
        power_items_elsewhere=items.get("elsewhere", 0),
        social_affairs_items_by_destination=dict(sorted(social_items.items())),
        social_affairs_functions_by_destination=dict(sorted(social_functions.items())),
    )


#: The metrics a before/after table shows, in order: label (English, translated where shown), indent level, getter.
STRUCTURE_ROWS: list[tuple[str, int, Callable[[StructureMetrics], object]]] = [
    (N_("units (zone government)"), 0, lambda m: m.units),
    (N_("internal bodies"), 0, lambda m: m.internal_bodies),
    (N_("institutions"), 0, lambda m: m.institutions),
    (N_("parks"), 0, lambda m: m.parks),
    (N_("headcount"), 0, lambda m: m.headcount),
    (N_("leaders"), 1, lambda m: m.headcount_by_category["leaders"]),
    (N_("frontline officers"), 1, lambda m: m.headcount_by_category["frontline"]),
    (N_("support staff"), 1, lambda m: m.headcount_by_category["support"]),
    (N_("leadership posts (chiefs + deputies)"), 0, lambda m: f"{m.chiefs} + {m.deputies}"),
    (N_("hierarchy layers"), 0, lambda m: m.layers),
    (N_("span of control (mean / max)"), 0, lambda m: f"{m.span_of_control_mean:g} / {m.span_of_control_max}"),
    (N_("functions held by the zone"), 0, lambda m: m.functions_zone),
    (N_("power items held by the zone"), 0, lambda m: m.power_items_zone),
    (N_("power items held by the city"), 0, lambda m: m.power_items_city),
    (N_("social-affairs items held by the zone"), 0, lambda m: m.social_affairs_items_by_destination.get("zone", 0)),
    (N_("social-affairs duties held by the zone"), 0,
     lambda m: m.social_affairs_functions_by_destination.get("zone", 0)),
]
