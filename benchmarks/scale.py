"""orgsim at the size of a real zone: a synthetic organisation as large as Jinan's.

Run on demand, never in the test suite::

    python benchmarks/scale.py                  # 20 replications before and after, 2 workers,
                                                # then 1,000,000 applicants in a child process
    python benchmarks/scale.py --skip-million   # the replications only
    python benchmarks/scale.py --describe       # the synthetic zone's size and loads, no simulation

The zone is built in code (:func:`jinan_like`), deterministically from a
fixed seed, as a scenario document that goes through the public loader like
any file. Its size follows the Jinan High-tech Zone figures (3,250 power items
from 47 city departments in the 2016 reform):

- a zone committee with 12 bodies (11 bureaus and a service centre) under it;
  40 city departments holding 100 functions and 3,000 power items; 2
  sub-districts outside the zone: 55 units, 3,000+ power items;
- 12 project types, each with a 5- to 8-step approval path containing one
  group of 2 or 3 parallel steps; sign-offs, rework with resubmission, and
  hand-off delays within units, between units and between jurisdictions;
- 100,000 applicants a year: 400 a working day (250 working days a year),
  3 years: horizon 750 working days after a 50-day warm-up;
- officers and deputies sized so that every queue runs at 0.7-0.8 utilisation
  before and after the reforms;
- a reform package: merge three bureaus (大部制), devolve the powers of six
  city departments, a one-stop approval bureau (行政审批局), parallel
  approval of steps 2 and 3, and a headcount cap.

Part 1 runs ``--replications`` replications (default 20) of the organisation
before and after its reforms, paired on common random numbers as
:func:`orgsim.experiment.compare` pairs them, spread over ``--workers``
processes (default 2) with :class:`concurrent.futures.ProcessPoolExecutor`;
it reports wall time, per-replication times and peak memory (the parent's and
the largest worker's peak RSS).

Part 2 simulates ``--million`` applicants (default 1,000,000: 2,500 working
days at 400 a day) of the reformed organisation with records off, once in a
child process for its peak RSS (``getrusage(RUSAGE_CHILDREN).ru_maxrss``,
with the RSS after imports and after set-up for reference) and once more
under :mod:`tracemalloc` for the peak of Python allocations (slower;
``--no-tracemalloc`` skips it).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import multiprocessing
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

RATE_PER_YEAR = 100_000
WORKING_DAYS_PER_YEAR = 250
YEARS = 3
WARMUP_DAYS = 50.0
SEED = 2016
STRUCTURE_SEED = 20160101  # the synthetic organisation, not the simulation
TARGET_UTILISATION = 0.8
LEADER_UTILISATION = 0.7
HOURS_PER_DAY = 8.0
SIGNOFF_MINUTES = 5.0
CITY_POWER_ITEMS = 3000

BUREAUS = [  # id, name, name_en
    ("economy", "经济发展局", "Economic development bureau"),
    ("planning", "规划局", "Planning bureau"),
    ("land", "国土资源局", "Land resources bureau"),
    ("construction", "建设管理局", "Construction bureau"),
    ("environment", "环境保护局", "Environment bureau"),
    ("market", "市场监管局", "Market regulation bureau"),
    ("safety", "安全生产监管局", "Work safety bureau"),
    ("finance", "财政局", "Finance bureau"),
    ("science", "科技局", "Science and technology bureau"),
    ("social", "社会事务局", "Social affairs bureau"),
    ("enforcement", "综合执法局", "Law enforcement bureau"),
]
CITY = [
    "发改委", "规划局", "国土局", "住建委", "环保局", "交通委", "水务局", "园林局", "人防办", "消防支队",
    "气象局", "文物局", "卫计委", "教育局", "民政局", "人社局", "商务局", "工商局", "质监局", "食药监局",
    "安监局", "公安局", "财政局", "税务局", "统计局", "林业局", "农业局", "科技局", "经信委", "文广新局",
    "旅游局", "体育局", "城管局", "市政局", "房管局", "地震局", "档案局", "民宗委", "司法局", "审计局",
]
#: Bureaus merged into the big land-planning-construction bureau.
MERGED = ("planning", "land", "construction")
#: City departments (index into CITY) whose powers are devolved, and to whom.
DEVOLVED = {1: "lpc", 2: "lpc", 3: "lpc", 17: "market", 18: "market", 19: "market"}
#: Bureaus whose case functions move to the one-stop approval bureau.
ONE_STOP = ("economy", "environment", "safety", "science")
CATEGORIES = ["licensing"] * 6 + ["confirmation"] * 2 + ["inspection", "other_power"]


def _service(rng: np.random.Generator) -> dict[str, Any]:
    mean = float(np.round(rng.uniform(1.0, 6.0), 2))
    kind = rng.integers(3)
    if kind == 0:
        return {"dist": "exponential", "mean": mean, "unit": "hours"}
    cv = float(np.round(rng.uniform(0.4, 1.2), 2))
    return {"dist": "lognormal" if kind == 1 else "gamma", "mean": mean, "cv": cv, "unit": "hours"}


def jinan_like(
    *, horizon_days: float = WARMUP_DAYS + YEARS * WORKING_DAYS_PER_YEAR, warmup_days: float = WARMUP_DAYS,
    replications: int = 20, seed: int = SEED,
) -> dict[str, Any]:
    """The synthetic Jinan-size zone as a scenario document (a dict, as YAML would give)."""
    rng = np.random.default_rng(STRUCTURE_SEED)
    units: list[dict[str, Any]] = [
        {"id": "committee", "name": "管委会", "name_en": "Zone committee", "kind": "committee",
         "leaders": {"chief": 1, "deputies": 4}, "support": 12},
    ]
    for uid, name, name_en in BUREAUS:
        units.append({"id": uid, "name": name, "name_en": name_en, "kind": "bureau", "parent": "committee",
                      "support": 4, "non_case_share": 0.1})
    units.append({"id": "service_centre", "name": "政务服务中心", "name_en": "Service centre", "kind": "centre",
                  "parent": "committee", "support": 3})
    for k, name in enumerate(CITY):
        units.append({"id": f"city_{k:02d}", "name": f"市{name}", "kind": "city_department",
                      "jurisdiction": "city", "support": 5})
    for k in range(2):
        units.append({"id": f"street_{k}", "name": f"{'甲乙'[k]}街道", "kind": "sub_district",
                      "jurisdiction": "district", "support": 5})
    unit = {u["id"]: u for u in units}

    # Functions: 100 of the city (2 or 3 a department, 3,000 power items), 3 case
    # functions and a duty for each zone bureau but social affairs, an intake window.
    functions: list[dict[str, Any]] = []
    per_dept = [2] * len(CITY)
    for k in rng.choice(len(CITY), 100 - 2 * len(CITY), replace=False):
        per_dept[k] = 3
    weights = rng.uniform(0.3, 1.7, sum(per_dept))
    items = np.floor(weights / weights.sum() * CITY_POWER_ITEMS).astype(int)
    items[: CITY_POWER_ITEMS - items.sum()] += 1
    j = 0
    for k, n in enumerate(per_dept):
        for m in range(n):
            functions.append({"id": f"c{k:02d}_{m}", "name": f"市{CITY[k]}事项{m + 1}",
                              "category": CATEGORIES[rng.integers(len(CATEGORIES))], "owner": f"city_{k:02d}",
                              "power_items": int(items[j]), "service_time": _service(rng),
                              "rework_probability": float(np.round(rng.uniform(0.0, 0.2), 2))})
            j += 1
    for uid, _name, _en in BUREAUS:
        if uid == "social":
            continue
        for m in range(3):
            functions.append({"id": f"{uid}_{m}", "name": f"{unit[uid]['name']}审批{m + 1}",
                              "category": "licensing" if m < 2 else "confirmation", "owner": uid,
                              "power_items": int(rng.integers(5, 30)), "service_time": _service(rng),
                              "rework_probability": float(np.round(rng.uniform(0.0, 0.2), 2))})
        functions.append({"id": f"{uid}_duty", "name": f"{unit[uid]['name']}日常工作",
                          "category": "investment_attraction" if uid == "economy" else "economic_development",
                          "owner": uid, "power_items": 0, "officers": int(rng.integers(3, 9)),
                          "standing_hours_per_year": 1500.0})
    for m, cat in enumerate(("social_affairs", "social_affairs")):
        functions.append({"id": f"social_duty{m}", "name": f"社会事务{m + 1}", "category": cat, "owner": "social",
                          "power_items": 0, "officers": 8, "standing_hours_per_year": 12000.0})
    functions.append({"id": "intake", "name": "综合受理窗口", "category": "service", "owner": "service_centre",
                      "power_items": 0, "officers": 6, "service_time": {"dist": "deterministic", "value": 30,
                                                                        "unit": "minutes"}})
    fun = {f["id"]: f for f in functions}

    # Project types: a filing step, then 4-7 steps of which 2-3 run in parallel.
    zone_case = [f["id"] for f in functions if f["owner"] in unit and unit[f["owner"]]["kind"] == "bureau"
                 and "service_time" in f and not f["id"].startswith("economy_")]
    city_case = [f["id"] for f in functions if f["owner"].startswith("city_")]
    shares = rng.dirichlet(np.full(12, 2.0))
    project_types = []
    rate_per_day: dict[str, float] = {f: 0.0 for f in fun}
    for t in range(12):
        n = int(rng.integers(5, 9))
        picks = [f"economy_{t % 3}"]
        n_zone = int(rng.integers(1, 4))
        picks += list(rng.choice(zone_case, n_zone, replace=False))
        picks += list(rng.choice(city_case, n - 1 - n_zone, replace=False))
        width = int(rng.integers(2, 4))
        start = int(rng.integers(3, n - width + 1)) if n - width >= 3 else 3
        steps = []
        for i, f in enumerate(picks, start=1):
            if i == 1:
                after = []
            elif start <= i < start + width:
                after = [f"s{start - 1}"]
            elif i == start + width:
                after = [f"s{q}" for q in range(start, start + width)]
            else:
                after = [f"s{i - 1}"]
            steps.append({"id": f"s{i}", "function": str(f), **({"after": after} if after else {})})
        rate = float(np.round(RATE_PER_YEAR * shares[t], 1))
        project_types.append({"id": f"type{t:02d}", "name": f"项目类型{t + 1}",
                              "arrivals": {"rate": rate, "per": "year"}, "steps": steps})
        for f in picks:
            rate_per_day[str(f)] += rate / WORKING_DAYS_PER_YEAR
    # Officers: enough for TARGET_UTILISATION with the 0.9 availability of a zone
    # bureau (where devolved powers go), counting the visits that rework adds.
    for fid, f in fun.items():
        if "service_time" not in f or fid == "intake":
            continue
        visits = 1.0 / (1.0 - f["rework_probability"])
        busy = rate_per_day[fid] * visits * f["service_time"]["mean"] / HOURS_PER_DAY / 0.9
        f["officers"] = max(1, math.ceil(busy / TARGET_UTILISATION))
        f["signoff_levels"] = 1
    # Deputies sign every case off (one level): size them for each unit's load in
    # every state, before and after the reforms.
    signoff_days = SIGNOFF_MINUTES / 60 / HOURS_PER_DAY
    load: dict[str, float] = {}
    for fid, f in fun.items():
        load[f["owner"]] = load.get(f["owner"], 0.0) + rate_per_day[fid] * signoff_days

    def deputies(busy: float) -> int:
        return max(1, math.ceil(busy / LEADER_UTILISATION))

    for u in units:
        if u["kind"] != "committee":
            u["leaders"] = {"chief": 1, "deputies": deputies(load.get(u["id"], 0.0))}
    devolved = {to: [f["id"] for f in functions
                     if f["owner"] in {f"city_{k:02d}" for k, t in DEVOLVED.items() if t == to}]
                for to in ("lpc", "market")}
    lpc_load = sum(load.get(u, 0.0) for u in MERGED) + sum(rate_per_day[f] * signoff_days for f in devolved["lpc"])
    market_after = load["market"] + sum(rate_per_day[f] * signoff_days for f in devolved["market"])
    unit["market"]["leaders"]["deputies"] = deputies(max(load["market"], market_after))
    one_stop = [f["id"] for f in functions if f["owner"] in ONE_STOP and "service_time" in f]
    one_stop_load = sum(rate_per_day[f] * signoff_days for f in one_stop)

    reforms = [
        {"phase": "2016", "reforms": [
            {"op": "merge", "label": "国土规划建设局 (大部制)", "units": list(MERGED),
             "into": {"id": "lpc", "name": "国土规划建设局", "name_en": "Land, planning and construction bureau"},
             "leadership": {"chief": 1, "deputies": deputies(lpc_load)}},
            {"op": "devolve", "label": "city powers to the big bureau", "functions": devolved["lpc"], "to": "lpc"},
            {"op": "devolve", "label": "city powers to market regulation", "functions": devolved["market"],
             "to": "market"},
            {"op": "one_stop", "functions": one_stop,
             "bureau": {"id": "approval_bureau", "name": "行政审批局", "name_en": "Administrative approval bureau"},
             "leadership": {"chief": 1, "deputies": deputies(one_stop_load)}},
        ]},
        {"phase": "2017", "reforms": [
            {"op": "parallelize", "steps": ["s2", "s3"]},
            {"op": "cap_headcount", "within": "committee", "cap": 0, "policy": "support_first"},  # set below
        ]},
    ]
    doc = {
        "scenario": {
            "name": "济南规模的合成开发区（性能基准）",
            "name_en": "Synthetic Jinan-size zone (benchmark)",
            "description": "Built by benchmarks/scale.py: the size of Jinan High-tech Zone's 2016 reform, "
                           "every number assumed.",
            "assumptions": [{"about": "every number", "reason": "assumed; synthetic benchmark organisation, "
                             f"generated from seed {STRUCTURE_SEED}"}],
        },
        "units": units,
        "functions": functions,
        "workload": {
            "statutory_limit_days": 20,
            "signoff_time": {"dist": "exponential", "mean": SIGNOFF_MINUTES, "unit": "minutes"},
            "resubmission_delay": {"dist": "exponential", "mean": 3, "unit": "days"},
            "handoff": {
                "within_unit": {"dist": "deterministic", "value": 1, "unit": "hours"},
                "between_units": {"dist": "deterministic", "value": 0.5, "unit": "days"},
                "between_jurisdictions": {"dist": "uniform", "low": 1, "high": 3, "unit": "days"},
            },
            "project_types": project_types,
        },
        "reforms": reforms,
        "simulation": {"horizon_days": horizon_days, "warmup_days": warmup_days, "replications": replications,
                       "seed": seed, "calendar": {"start": "2016-01-04", "hours_per_day": HOURS_PER_DAY,
                                                  "holidays": "china"}},
    }
    # The cap: 30 posts below the zone's headcount after the other reforms (support goes first).
    import orgsim

    cap_op = reforms[1]["reforms"][1]
    reforms[1]["reforms"].pop()
    headcount = orgsim.structure_metrics(orgsim.reform_scenario(_parse(doc)).after).headcount
    cap_op["cap"] = headcount - 30
    reforms[1]["reforms"].append(cap_op)
    return doc


def _parse(doc: dict[str, Any]):  # noqa: ANN202 - orgsim.Scenario
    import yaml

    import orgsim

    return orgsim.parse_scenario(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), "<jinan-like>")


def describe(doc: dict[str, Any]) -> dict[str, Any]:
    """Size of the synthetic zone and the highest offered load in each state."""
    import orgsim
    from orgsim.sim.plan import compile_plan

    scenario = _parse(doc)
    outcome = orgsim.reform_scenario(scenario)
    out: dict[str, Any] = {
        "units": len(doc["units"]),
        "functions": len(doc["functions"]),
        "power_items": sum(f.get("power_items", 1) for f in doc["functions"]),
        "project_types": len(doc["workload"]["project_types"]),
        "steps": sorted({len(p["steps"]) for p in doc["workload"]["project_types"]}),
        "applicants_per_working_day": sum(p["arrivals"]["rate"] for p in doc["workload"]["project_types"])
        / WORKING_DAYS_PER_YEAR,
        "reforms": [op["op"] for ph in doc["reforms"] for op in ph["reforms"]],
    }
    for name, org in (("before", outcome.before), ("after", outcome.after)):
        m = orgsim.structure_metrics(org)
        plan = compile_plan(org, scenario)
        load = plan.offered_load()
        officers = [v for k, v in load.items() if plan.pools[k].role == "officers"]
        leaders = [v for k, v in load.items() if plan.pools[k].role != "officers"]
        out[name] = {"headcount": m.headcount, "pools": len(plan.pools),
                     "officer_load_range": (round(min(officers), 3), round(max(officers), 3)),
                     "officer_load_mean": round(float(np.mean(officers)), 3),
                     "leader_load_max": round(max(leaders), 3)}
    return out


# ------------------------------------------------------------------ part 1: replications
_WORKER: dict[str, Any] = {}


def _init_worker(doc: dict[str, Any]) -> None:
    import orgsim

    scenario = _parse(doc)
    _WORKER["scenario"] = scenario
    _WORKER["outcome"] = orgsim.reform_scenario(scenario)


def _replication(r: int, n: int, seed: int) -> dict[str, Any]:
    """Replication r of n, before and after, on the same seed (as compare() pairs them)."""
    from orgsim.experiment import simulate

    scenario, outcome = _WORKER["scenario"], _WORKER["outcome"]
    out: dict[str, Any] = {"replication": r, "pid": os.getpid()}
    for name, org in (("before", outcome.before), ("after", outcome.after)):
        t0, c0 = time.perf_counter(), time.process_time()
        run = simulate(scenario, org, seed=seed, replication=r, replications=n)
        out[f"{name}_seconds"] = time.perf_counter() - t0
        out[f"{name}_cpu_seconds"] = time.process_time() - c0
        out[name] = run.summary()
    out["worker_maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def replications(doc: dict[str, Any], n: int, workers: int, seed: int) -> dict[str, Any]:
    from orgsim.experiment import confidence_interval

    t0 = time.perf_counter()
    # spawn, not fork: each worker's peak RSS is then its own, not pages shared with the parent.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                             initargs=(doc,)) as pool:
        results = []
        for x in pool.map(_replication, range(n), [n] * n, [seed] * n):
            results.append(x)
            print(f"  replication {x['replication']:>2}: before {x['before_seconds']:6.1f} s wall "
                  f"({x['before_cpu_seconds']:5.1f} s CPU), after {x['after_seconds']:6.1f} s wall "
                  f"({x['after_cpu_seconds']:5.1f} s CPU), lead {x['before']['lead_working_mean']:.3f} -> "
                  f"{x['after']['lead_working_mean']:.3f} d  [{time.perf_counter() - t0:5.0f} s]", flush=True)
    wall = time.perf_counter() - t0
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results.sort(key=lambda x: x["replication"])
    out: dict[str, Any] = {"wall_seconds": wall, "replications": n, "workers": workers,
                           "parent_maxrss_mb": parent, "children_maxrss_mb": children,
                           "worker_maxrss_mb": max(x["worker_maxrss_mb"] for x in results)}
    for name in ("before", "after"):
        secs = [x[f"{name}_seconds"] for x in results]
        cpus = [x[f"{name}_cpu_seconds"] for x in results]
        lead = [x[name]["lead_working_mean"] for x in results]
        out[name] = {
            "seconds_median": statistics.median(secs), "seconds_total": sum(secs),
            "cpu_median": statistics.median(cpus), "cpu_total": sum(cpus),
            "arrived_mean": float(np.mean([x[name]["arrived"] for x in results])),
            "completed_mean": float(np.mean([x[name]["completed"] for x in results])),
            "stable": all(x[name]["stable"] for x in results),
            "lead_mean": float(np.mean(lead)), "lead_ci95": confidence_interval(lead),
            "lead_p90": float(np.mean([x[name]["lead_working_p90"] for x in results])),
        }
    diff = [x["after"]["lead_working_mean"] - x["before"]["lead_working_mean"] for x in results]
    out["difference"] = {"mean": float(np.mean(diff)), "ci95": confidence_interval(diff)}
    return out


# ------------------------------------------------------------------ part 2: a million applicants
def _child_million(applicants: int, state: str, use_tracemalloc: bool, engine: str) -> None:
    """In a child process: one long run, records off; print JSON on the last line."""
    rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # noqa: E731
    if use_tracemalloc:
        import tracemalloc

        tracemalloc.start()
    import orgsim  # noqa: F401 - import cost measured here
    from orgsim.experiment import simulate

    after_import = rss()
    horizon = applicants / (RATE_PER_YEAR / WORKING_DAYS_PER_YEAR)
    doc = jinan_like(horizon_days=horizon, warmup_days=0.0, replications=1)
    doc["simulation"]["engine"] = engine
    scenario = _parse(doc)
    outcome = orgsim.reform_scenario(scenario)
    after_setup = rss()
    if use_tracemalloc:
        tracemalloc.reset_peak()
        base_traced = tracemalloc.get_traced_memory()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    run = simulate(scenario, getattr(outcome, state), seed=SEED, replication=0, replications=1, keep_records=False)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    out = {"applicants_arrived": run.arrived, "completed": run.completed, "stable": run.stable,
           "seconds": seconds, "cpu_seconds": cpu,
           "maxrss_after_import_mb": after_import, "maxrss_after_setup_mb": after_setup,
           "lead_working_mean": float(run.lead_working_days.mean())}
    out["maxrss_end_mb"] = rss()  # after the line above, whose temporary arrays count too
    if use_tracemalloc:
        current, peak = tracemalloc.get_traced_memory()
        out["tracemalloc_peak_mb"] = peak / 2**20
        out["tracemalloc_peak_over_setup_mb"] = (peak - base_traced) / 2**20
        out["tracemalloc_current_mb"] = current / 2**20
    print(json.dumps(out))


def million(applicants: int, state: str, use_tracemalloc: bool, engine: str) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child-million", str(applicants), "--million-state", state, "--engine", engine]
    if use_tracemalloc:
        cmd.append("--tracemalloc")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode}):\n{proc.stderr}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # RUSAGE_CHILDREN is the largest of all waited-for children: exact if this child is the largest so far.
    out["rusage_children_maxrss_mb"] = after / 1024
    out["rusage_children_grew"] = after > before
    out["child_wall_seconds"] = wall
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replications", type=int, default=20, help="replications per state (default 20)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--years", type=float, default=YEARS, help="simulated years after the warm-up (default 3)")
    parser.add_argument("--million", type=int, default=1_000_000, help="applicants of part 2 (default 1,000,000)")
    parser.add_argument("--million-state", choices=("before", "after"), default="after")
    parser.add_argument("--skip-million", action="store_true", help="skip part 2")
    parser.add_argument("--skip-replications", action="store_true", help="skip part 1")
    parser.add_argument("--no-tracemalloc", action="store_true", help="part 2: skip the tracemalloc run")
    parser.add_argument("--describe", action="store_true", help="print the synthetic zone's size and loads only")
    parser.add_argument("--engine", choices=("fifo", "simpy"), default="fifo",
                        help="orgsim's engine (simulation.engine; default fifo)")
    parser.add_argument("--child-million", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--tracemalloc", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_million:
        _child_million(args.child_million, args.million_state, args.tracemalloc, args.engine)
        return 0

    import orgsim

    print(f"# scale.py  {_dt.date.today().isoformat()}  {' '.join(sys.argv)}")
    from peers import code_version

    print(f"# Python {platform.python_version()}, orgsim {orgsim.__version__}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"# {code_version()}")
    t0 = time.perf_counter()
    doc = jinan_like(horizon_days=WARMUP_DAYS + args.years * WORKING_DAYS_PER_YEAR, replications=args.replications,
                     seed=args.seed)
    doc["simulation"]["engine"] = args.engine
    info = describe(doc)
    print(f"synthetic zone built and checked in {time.perf_counter() - t0:.2f} s:")
    for k, v in info.items():
        print(f"  {k}: {v}")
    if args.describe:
        return 0

    if not args.skip_replications:
        print(f"\n## Part 1: {args.replications} replications x (before, after), {args.workers} workers, "
              f"engine {args.engine}", flush=True)
        r = replications(doc, args.replications, args.workers, args.seed)
        cpu_total = r["before"]["cpu_total"] + r["after"]["cpu_total"]
        print(f"wall time: {r['wall_seconds']:.1f} s   (target < 120 s on 2 cores); simulation CPU "
              f"{cpu_total:.0f} s in all, i.e. {cpu_total / args.workers:.0f} s on {args.workers} idle cores; "
              f"load average now {os.getloadavg()[0]:.2f}")
        for name in ("before", "after"):
            s = r[name]
            lo, hi = s["lead_ci95"]
            print(f"  {name:<6}: one replication {s['seconds_median']:.2f} s wall, {s['cpu_median']:.2f} s CPU "
                  f"(medians; CPU total {s['cpu_total']:.0f} s); {s['arrived_mean']:,.0f} applicants arrived "
                  f"in the window, "
                  f"{s['completed_mean']:,.0f} completed; stable={s['stable']}; mean lead time "
                  f"{s['lead_mean']:.3f} working days (95% CI {lo:.3f}-{hi:.3f}), p90 {s['lead_p90']:.2f}")
        d = r["difference"]
        print(f"  after - before: {d['mean']:+.3f} working days (paired 95% CI {d['ci95'][0]:+.3f} to "
              f"{d['ci95'][1]:+.3f})")
        print(f"peak RSS: parent {r['parent_maxrss_mb']:.0f} MB; largest worker {r['worker_maxrss_mb']:.0f} MB "
              f"(getrusage RUSAGE_CHILDREN: {r['children_maxrss_mb']:.0f} MB)")

    if not args.skip_million:
        print(f"\n## Part 2: {args.million:,} applicants, state '{args.million_state}', records off, child process",
              flush=True)
        m = million(args.million, args.million_state, False, args.engine)
        print(f"applicants arrived {m['applicants_arrived']:,}, completed {m['completed']:,}, stable={m['stable']}, "
              f"mean lead time {m['lead_working_mean']:.2f} working days; simulate() {m['seconds']:.1f} s wall, "
              f"{m['cpu_seconds']:.1f} s CPU")
        if m["rusage_children_grew"]:  # RUSAGE_CHILDREN covers the child's whole life, exit included
            print(f"peak RSS of the child: {m['rusage_children_maxrss_mb']:.0f} MB (getrusage RUSAGE_CHILDREN; "
                  f"its own ru_maxrss read after the run: {m['maxrss_end_mb']:.0f} MB)  (target < 150 MB)")
        else:
            print(f"peak RSS of the child: {m['maxrss_end_mb']:.0f} MB (its own ru_maxrss after the run; "
                  f"RUSAGE_CHILDREN still holds an earlier child's larger peak, "
                  f"{m['rusage_children_maxrss_mb']:.0f} MB)  (target < 150 MB)")
        print(f"  of which: after imports {m['maxrss_after_import_mb']:.0f} MB, after scenario set-up "
              f"{m['maxrss_after_setup_mb']:.0f} MB")
        if not args.no_tracemalloc:
            t = million(args.million, args.million_state, True, args.engine)
            print(f"tracemalloc (separate run, {t['seconds']:.1f} s under tracing): peak of Python allocations "
                  f"{t['tracemalloc_peak_mb']:.1f} MB, of which {t['tracemalloc_peak_over_setup_mb']:.1f} MB "
                  f"above the set-up; still allocated at the end {t['tracemalloc_current_mb']:.1f} MB "
                  f"(tracing starts before the imports, so both include them)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
