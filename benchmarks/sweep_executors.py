"""Speed-up of `orgsim sweep` on local processes and on Dask, against serial.

Runs the same sweep (by default the issue's 4 x 3 grid over the tutorial
zone: headcount cap x arrival rate, 5 replications) serially, on a pool of
local worker processes and on a Dask LocalCluster, checks that the three
tables are identical, and prints wall times and speed-ups. Each parallel
executor is timed twice: as a user meets it (starting its workers included)
and with its workers already running (the sweep alone). Every timed sweep
starts from an empty run cache of its own (``cache=RunCache()``), so a
repeat simulates everything again instead of reading what the last one left.

    python benchmarks/sweep_executors.py                 # 2 workers, the issue's grid
    python benchmarks/sweep_executors.py --workers 4 --replications 10 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pandas as pd

from orgsim.batches import RunCache
from orgsim.executors import DaskExecutor, ProcessExecutor, SerialExecutor
from orgsim.sweep import sweep

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "tutorial.yaml"
CAP = "reforms[phase=2021].reforms[op=cap_headcount]"
GRID = [
    f"{CAP}.cap=45,50,55,60",
    f"{CAP}.policy=frontline_first",
    "workload.project_types[id=industrial].arrivals.rate=80,110,140",
]


def provenance() -> str:
    """Date, command, versions and the orgsim tree measured (git commit, uncommitted changes)."""
    import platform
    import subprocess
    import sys

    import orgsim

    try:
        import distributed
        dask_version = distributed.__version__
    except ImportError:
        dask_version = "not installed"
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "orgsim"], cwd=root, capture_output=True,
                               text=True, check=True).stdout.strip()
        tree = f"git {head}{' + uncommitted changes in orgsim/' if dirty else ''}"
    except (OSError, subprocess.CalledProcessError):
        tree = "not a git checkout"
    return (f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}; {' '.join(sys.argv)}\n"
            f"Python {platform.python_version()}, orgsim {orgsim.__version__}, pandas {pd.__version__}, "
            f"dask.distributed {dask_version}; {tree}")


def cpu_seconds() -> float:
    """CPU time of this process and all its descendants, living or reaped (psutil, when installed)."""
    t = os.times()
    total = t.user + t.system + t.children_user + t.children_system
    try:
        import psutil
    except ImportError:  # only reaped children are counted then
        return total
    for child in psutil.Process().children(recursive=True):
        try:
            c = child.cpu_times()
            total += c.user + c.system + c.children_user + c.children_system
        except psutil.Error:
            pass
    return total


def timed(run) -> tuple[float, float, pd.DataFrame]:  # noqa: ANN001
    cpu, start = cpu_seconds(), time.perf_counter()
    frame = run()
    return time.perf_counter() - start, cpu_seconds() - cpu, frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--replications", type=int, default=5)
    parser.add_argument("--horizon", type=float, default=None, help="working days (default: the scenario's, 750)")
    parser.add_argument("--repeat", type=int, default=1, help="time each executor this many times; keep the best")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()

    vary = list(GRID) + ([f"simulation.horizon_days={args.horizon}"] if args.horizon else [])

    def sweep_fresh(**extra) -> pd.DataFrame:  # noqa: ANN003
        """The sweep from an empty run cache: nothing reused from an earlier repeat."""
        return sweep(SCENARIO, vary, replications=args.replications, seed=args.seed, cache=RunCache(), **extra)

    def best(make) -> tuple[tuple[float, float], pd.DataFrame]:  # noqa: ANN001
        runs = [timed(make) for _ in range(args.repeat)]
        wall, cpu, frame = min(runs, key=lambda r: r[0])
        return (wall, cpu), frame

    load_before = os.getloadavg()[0]
    results: dict[str, tuple[float, float]] = {}
    t, reference = best(lambda: sweep_fresh(executor=SerialExecutor()))
    results["serial"] = t

    def with_startup(make_executor):  # noqa: ANN001, ANN202
        def run() -> pd.DataFrame:
            with make_executor() as ex:
                return sweep_fresh(executor=ex)
        return run

    for name, make in (("processes", lambda: ProcessExecutor(args.workers)),
                       ("dask", lambda: DaskExecutor(workers=args.workers))):
        t, frame = best(with_startup(make))
        pd.testing.assert_frame_equal(frame, reference)
        results[f"{name} (with start-up)"] = t
        with make() as ex:
            sweep(SCENARIO, [f"{CAP}.cap=60", *vary[1:]], executor=ex, replications=2, seed=1)  # warm up
            t, frame = best(lambda: sweep_fresh(executor=ex))  # noqa: B023
        pd.testing.assert_frame_equal(frame, reference)
        results[f"{name} (workers running)"] = t

    points = len(reference["point"].unique())
    print(provenance())
    print(f"sweep: {points} points x {args.replications} replications x 2 states, "
          f"horizon {args.horizon or 'scenario'}; {args.workers} workers; {os.cpu_count()} CPUs; "
          f"best of {args.repeat}")
    print(f"load average (1 min) before/after: {load_before:.1f} / {os.getloadavg()[0]:.1f} "
          "(other work on the machine takes CPUs from the workers; compare on an idle machine)")
    print("identical tables on every executor: yes")
    width = max(map(len, results))
    print(f"{'executor':<{width}}  {'wall':>8}  {'speed-up':>8}  {'CPU':>8}  {'CPUs busy':>9}")
    for name, (wall, cpu) in results.items():
        print(f"{name:<{width}}  {wall:7.2f}s  {results['serial'][0] / wall:7.2f}x  {cpu:7.2f}s  {cpu / wall:9.2f}")
    print("CPU: seconds of CPU used by the sweep and its workers; CPUs busy = CPU / wall. Where CPUs busy stays")
    print("near 1 (or below) with 2 workers, the machine is not giving the workers a second CPU: other work")
    print("is running (Linux shares CPUs between sessions first, then between a session's processes).")


if __name__ == "__main__":
    main()
