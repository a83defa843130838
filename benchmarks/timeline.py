"""The Qingdao timeline beside ``compare`` on the same scenario: the cost of a programme over time (issue 14).

Run on demand, never in the test suite, from the repository root::

    python benchmarks/timeline.py                 # 5 rounds
    python benchmarks/timeline.py --profile       # also: where the timeline's time goes (cProfile)

The workload: ``scenarios/qingdao_functional_zones_2020.yaml`` as bundled,
its horizon of 750 working days (2019-01-02 to early 2022: three years) and
20 replications, serial, records off. Two measurements, back to back in one
process, alternating which goes first, each round on a fresh seed:

- ``compare``: :func:`orgsim.experiment.compare` (before and after, 20
  replications each, each state reduced to its summaries);
- ``timeline``: :func:`orgsim.timeline` (one run per replication spans the
  programme: the workforce simulated, the five dated phases, the timed FIFO
  loop, reduced to monthly periods).

The table gives each one's median wall and process CPU time and the ratio
timeline / compare, per round (from the same round: the same machine) and
its median; the issue's target is a ratio of at most 1.5. With
``--profile``, one more timeline run under cProfile lists the functions with
the most time of their own.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as _dt
import io
import os
import platform
import pstats
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QINGDAO = ROOT / "scenarios" / "qingdao_functional_zones_2020.yaml"
TARGET_RATIO = 1.5


def _header() -> str:
    import numpy as np

    import orgsim
    from orgsim.sim import fifo_engine

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "orgsim"], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit, dirty = "unknown", ""
    loop = "compiled" if fifo_engine.compiled() else "as Python"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"# timeline.py  {_dt.date.today().isoformat()}  {' '.join(sys.argv)}\n"
            f"# orgsim {orgsim.__version__}, git {commit}{' (orgsim/ modified)' if dirty else ''}, FIFO loop {loop}; "
            f"Python {platform.python_version()}, numpy {np.__version__}; {os.cpu_count()} CPUs, "
            f"load average {load:.2f} at start")


def _timed(fn: object) -> tuple[float, float, object]:
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()  # type: ignore[operator]
    return time.perf_counter() - t0, time.process_time() - c0, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2020, help="seed of round 0 (round r uses seed + r)")
    parser.add_argument("--profile", action="store_true", help="also profile one timeline run (cProfile)")
    args = parser.parse_args()

    import orgsim
    from orgsim.experiment import compare
    from orgsim.scenario import load_scenario

    print(_header())
    scenario = load_scenario(QINGDAO)
    sim = scenario.simulation
    print(f"# {QINGDAO.name}: horizon {sim.horizon_days:g} working days from {sim.calendar.start}, "
          f"{args.replications} replications, serial; {args.rounds} rounds")
    # Warm both paths once (imports, the calendar's caches), untimed.
    compare(scenario, replications=1, seed=args.seed - 1)
    orgsim.timeline(scenario, replications=1, seed=args.seed - 1)

    rows: dict[str, list[tuple[float, float]]] = {"compare": [], "timeline": []}
    ratios_wall, ratios_cpu = [], []
    for r in range(args.rounds):
        seed = args.seed + r
        jobs = {
            "compare": lambda seed=seed: compare(scenario, replications=args.replications, seed=seed),
            "timeline": lambda seed=seed: orgsim.timeline(scenario, replications=args.replications, seed=seed),
        }
        order = ["compare", "timeline"] if r % 2 == 0 else ["timeline", "compare"]
        got = {}
        for name in order:
            wall, cpu, _out = _timed(jobs[name])
            got[name] = (wall, cpu)
            rows[name].append((wall, cpu))
        ratios_wall.append(got["timeline"][0] / got["compare"][0])
        ratios_cpu.append(got["timeline"][1] / got["compare"][1])
        print(f"round {r}  compare {got['compare'][0]:6.2f} s wall {got['compare'][1]:6.2f} s CPU   "
              f"timeline {got['timeline'][0]:6.2f} s wall {got['timeline'][1]:6.2f} s CPU   "
              f"ratio {ratios_wall[-1]:.2f} wall {ratios_cpu[-1]:.2f} CPU")

    print()
    print("| run | median wall s | median CPU s | ratio to compare (wall / CPU), median of rounds [range] |")
    print("|---|---:|---:|---|")
    for name in ("compare", "timeline"):
        wall = statistics.median(w for w, _ in rows[name])
        cpu = statistics.median(c for _, c in rows[name])
        ratio = "1" if name == "compare" else (
            f"{statistics.median(ratios_wall):.2f} [{min(ratios_wall):.2f}-{max(ratios_wall):.2f}] / "
            f"{statistics.median(ratios_cpu):.2f} [{min(ratios_cpu):.2f}-{max(ratios_cpu):.2f}]")
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {ratio} |")
    met = statistics.median(ratios_cpu) <= TARGET_RATIO
    print(f"\ntarget: timeline <= {TARGET_RATIO}x compare (CPU, median of rounds): {'met' if met else 'MISSED'}")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        orgsim.timeline(scenario, replications=args.replications, seed=args.seed)
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(15)
        print("\n# cProfile of one timeline run, by time in the function itself (tottime):")
        print("\n".join(line for line in text.getvalue().splitlines() if line.strip())[:6000])
    return 0


if __name__ == "__main__":
    sys.exit(main())
