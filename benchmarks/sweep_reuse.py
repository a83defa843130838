"""What reusing runs saves a sweep over a reform lever: the same sweep with and without reuse.

Run on demand::

    python benchmarks/sweep_reuse.py                 # tutorial zone, 4 caps x 10 replications, 3,000 days
    python benchmarks/sweep_reuse.py --repeat 3

A sweep over reform levers meets the organisation *before* its reforms
unchanged at every point; :mod:`orgsim.sweep` simulates it once per
replication and reuses it (see docs/sweeps.md). This script runs the same
serial sweep with reuse turned off (a run cache of 0 bytes) and on (an empty
cache), in turn in one process, checks that the tables are identical, and
prints CPU times and their ratio. Every sweep gets a new cache, so no repeat
reads runs an earlier one made.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from orgsim.batches import RunCache
from orgsim.sweep import sweep

ROOT = Path(__file__).resolve().parent.parent
CAP = "reforms[phase=2021].reforms[op=cap_headcount]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--horizon", type=float, default=3000.0)
    parser.add_argument("--repeat", type=int, default=1, help="rounds of both (default 1); best of them")
    args = parser.parse_args(argv)
    vary = [f"{CAP}.cap=45,50,55,60", f"{CAP}.policy=frontline_first", f"simulation.horizon_days={args.horizon}"]
    best: dict[str, float] = {}
    tables: dict[str, pd.DataFrame] = {}
    for _ in range(args.repeat):
        for label, cache in (("without reuse", RunCache(max_bytes=0)), ("with reuse", RunCache())):
            start = time.process_time()
            tables[label] = sweep(ROOT / "scenarios" / "tutorial.yaml", vary, replications=args.replications,
                                  seed=1, progress=False, cache=cache)
            seconds = time.process_time() - start
            best[label] = min(best.get(label, seconds), seconds)
            print(f"{label:<14} {seconds:6.2f} s CPU, {cache.hits} runs reused", flush=True)
    same = tables["without reuse"].equals(tables["with reuse"])
    print(f"identical tables: {same}")
    print(f"without / with reuse: {best['without reuse'] / best['with reuse']:.2f}x (best of {args.repeat})")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
