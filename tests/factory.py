"""Small scenarios built in code for the engine and theory tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from orgsim.scenario import parse_scenario
from orgsim.scenario.schema import Scenario


def exp(mean: float) -> dict[str, Any]:
    return {"dist": "exponential", "mean": mean, "unit": "days"}


def fixed(value: float) -> dict[str, Any]:
    return {"dist": "deterministic", "value": value, "unit": "days"}


def network_scenario(
    nodes: list[dict[str, Any]],
    *,
    rate_per_day: float,
    steps: list[dict[str, Any]] | None = None,
    horizon: float = 2000.0,
    warmup: float = 200.0,
    replications: int = 5,
    seed: int = 1,
    signoff_time: dict | None = None,
    resubmission_delay: dict | None = None,
    handoff: dict | None = None,
    reforms: list | None = None,
    calendar: dict | None = None,
    attributes: dict[str, float] | None = None,
    enforcement_cases: list[dict[str, Any]] | None = None,
    jurisdictions: dict[str, str] | None = None,
) -> Scenario:
    """One bureau per node under a committee; node = {id, servers, service, rework?, signoff?, leaders?}.

    Steps (by default one per node, in a chain) may carry any StepSpec field:
    ``probability``, ``when`` (an attribute of ``attributes``), ``rework_to``.
    ``jurisdictions`` puts nodes' bureaus in another jurisdiction (as city
    departments, for ``city``); ``enforcement_cases`` are the workload's.

    The committee has no leaders so sign-off chains stay inside each bureau.
    """
    units = [{"id": "committee", "name": "管委会", "kind": "committee", "leaders": {"chief": 0, "deputies": 0}}]
    functions = []
    for n in nodes:
        where = (jurisdictions or {}).get(n["id"], "zone")
        units.append({
            "id": f"u_{n['id']}", "name": f"局{n['id']}", "kind": "bureau" if where == "zone" else "city_department",
            "parent": "committee" if where == "zone" else None, "jurisdiction": where,
            "leaders": n.get("leaders", {"chief": 1, "deputies": 0}),
        })
        functions.append({
            "id": n["id"], "name": f"审批{n['id']}", "category": "licensing", "owner": f"u_{n['id']}",
            "officers": n["servers"], "service_time": n["service"],
            "signoff_levels": n.get("signoff", 0), "rework_probability": n.get("rework", 0.0),
        })
    if steps is None:
        steps = []
        for k, n in enumerate(nodes):
            step = {"id": f"s_{n['id']}", "function": n["id"]}
            if k:
                step["after"] = [f"s_{nodes[k - 1]['id']}"]
            steps.append(step)
    project_type: dict[str, Any] = {"id": "p", "name": "项目", "arrivals": {"rate": rate_per_day, "per": "day"},
                                    "steps": steps}
    if attributes:
        project_type["attributes"] = attributes
    workload: dict[str, Any] = {"project_types": [project_type]}
    if enforcement_cases:
        workload["enforcement_cases"] = enforcement_cases
    if signoff_time:
        workload["signoff_time"] = signoff_time
    if resubmission_delay:
        workload["resubmission_delay"] = resubmission_delay
    if handoff:
        workload["handoff"] = handoff
    doc = {
        "scenario": {"name": "test network"},
        "units": units,
        "functions": functions,
        "workload": workload,
        "reforms": reforms or [],
        "simulation": {
            "horizon_days": horizon, "warmup_days": warmup, "replications": replications, "seed": seed,
            "calendar": calendar or {"holidays": "none"},
        },
    }
    return parse_scenario(yaml.safe_dump(doc, allow_unicode=True), "<test>")


def dated_tutorial(**workforce: Any) -> Scenario:
    """The tutorial as a programme: its two phases dated (2020-06-01, 2021-03-01), a workforce
    (attrition, elimination, a re-appointment at phase "2020") and pay; ``workforce`` overrides fields."""
    import datetime as dt

    from orgsim.scenario import load_scenario
    from orgsim.scenario.schema import Pay, PayShares, Reappointment, Workforce

    s = load_scenario("scenarios/tutorial.yaml")
    reforms = [s.reforms[0].model_copy(update={"effective": dt.date(2020, 6, 1)}),
               s.reforms[1].model_copy(update={"effective": dt.date(2021, 3, 1)})]
    wf = Workforce(**{"attrition_per_year": 0.05, "elimination_per_year": 0.04, "replacement_lag": exp(20),
                      "learning": {"start": 0.5, "months_to_full": 6},
                      "reappointments": [Reappointment(
                          phase="2020", filled_at_once=0.7, time_to_fill=exp(20), reserved_share=0.25,
                          reserved_fill=exp(20), outside_share=0.385)],
                      **workforce})
    pay = Pay(annual_yuan={"leaders": 300000, "officers": 150000, "support": 100000},
              shares=[PayShares(effective=dt.date(2020, 1, 1), base=0.84, performance=0.16)], rank_lost_multiple=-0.2)
    return s.model_copy(update={"reforms": reforms, "workforce": wf, "pay": pay})


def assert_people_conserved_per_unit(programme: Any, stints: list[Any], posts: Sequence[dict[Any, str]]) -> None:
    """headcount(b) = headcount(a) + hires - exits, per unit, over intervals cut at the phase dates and
    between them; a person whose post moved with its function counts out of one unit and into the other.

    ``posts``: each phase's posts (and their units) that ``stints`` are counted over.
    """
    import numpy as np

    from orgsim.timeline.run import _in_post

    starts = np.array(programme.starts)

    def unit(x: Any, t: float, before: bool = True) -> str:  # the post's unit as t opens, or just after t's changes
        p = int(np.searchsorted(starts, t - 1e-9 if before and t > 0 else t, side="right") - 1)
        return posts[p][x.post]

    bounds = sorted({0.0, *programme.starts, 150.0, 300.0, 500.0, programme.horizon_days - 1})
    names = {u for m in posts for u in m.values()}
    for a, b in zip(bounds, bounds[1:], strict=False):
        change = dict.fromkeys(names, 0)
        for x in stints:
            hired = x.hired == x.start and a <= x.start < b
            gone = bool(x.cause) and a <= x.end < b
            entry = unit(x, a) if _in_post(x, a) else (unit(x, x.start, before=False) if hired else None)
            exit_ = unit(x, b) if _in_post(x, b) else (unit(x, x.end) if gone else None)
            if entry is not None and exit_ is not None and entry != exit_:  # moved with its function
                change[entry] -= 1
                change[exit_] += 1
        for u in names:
            head_a = sum(1 for x in stints if _in_post(x, a) and unit(x, a) == u)
            head_b = sum(1 for x in stints if _in_post(x, b) and unit(x, b) == u)
            hires = sum(1 for x in stints if x.hired == x.start and a <= x.start < b
                        and unit(x, x.start, before=False) == u)
            exits = sum(1 for x in stints if x.cause and a <= x.end < b and unit(x, x.end) == u)
            assert head_b == head_a + hires - exits + change[u], (u, a, b)
