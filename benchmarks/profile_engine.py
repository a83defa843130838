"""Where the engine spends its time: cProfile and py-spy on a benchmark workload.

Run on demand::

    python benchmarks/profile_engine.py                      # cProfile, tandem, sorted by tottime
    python benchmarks/profile_engine.py --workload jinan     # the Jinan-size zone (110 working days)
    pip install py-spy
    python benchmarks/profile_engine.py --py-spy             # sampled self time per line, low overhead

cProfile's overhead is per Python call, so it inflates small functions; py-spy
samples the running process (``--rate`` a second) and is closer to the truth.
Both count only the simulation (``orgsim.experiment.simulate``), not the
imports or the scenario build.

``--engine`` picks what is profiled: ``fifo-python`` (default), the FIFO
loop's source run as Python, whose profile says where the compiled loop's
work is too (it is the same source); ``fifo``, the compiled loop (one opaque
call to these profilers: its time shows as ``FifoLoop.run``); ``simpy``, the
reference engine.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _workload(name: str, state: str, engine: str):  # noqa: ANN202 - (scenario, org)
    sys.path.insert(0, str(HERE))
    import orgsim
    import orgsim.experiment  # noqa: F401 - imported before profiling starts

    if name == "tandem":
        import peers

        scenario = peers.tandem_scenario(peers.N_APPLICANTS, 2024)
    else:
        import scale

        scenario = scale._parse(scale.jinan_like(horizon_days=110.0, warmup_days=10.0, replications=1))
    from orgsim.sim import fifo_engine

    if engine == "fifo-python":
        fifo_engine.LOOP = fifo_engine.python_loop()
    scenario = scenario.model_copy(update={"simulation": scenario.simulation.model_copy(
        update={"engine": "simpy" if engine == "simpy" else "fifo"})})
    outcome = orgsim.reform_scenario(scenario)
    return scenario, getattr(outcome, state)


def _simulate(scenario, org, repeats: int) -> None:  # noqa: ANN001
    from orgsim.experiment import simulate

    for r in range(repeats):
        simulate(scenario, org, seed=2024 + r, replications=1)


def aggregate_raw(path: Path, top: int) -> None:
    """Self time per function and per line inside simulate_plan, from py-spy's raw (collapsed) output."""
    by_line: collections.Counter[str] = collections.Counter()
    by_fn: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, n = line.rsplit(" ", 1)
        frames = stack.split(";")
        if not any("simulate_plan" in f for f in frames):
            continue
        total += int(n)
        by_line[frames[-1]] += int(n)
        by_fn[re.sub(r":\d+\)", ")", frames[-1])] += int(n)
        for f in {re.sub(r":\d+\)", ")", f) for f in frames}:
            inclusive[f] += int(n)
    print(f"{total} samples inside simulate_plan\n")
    for title, counter in (("self time by function", by_fn), ("self time by line", by_line),
                           ("inclusive time by function", inclusive)):
        print(f"{title} (% of simulate_plan)")
        for k, v in counter.most_common(top):
            print(f"  {100 * v / total:5.1f}%  {k}")
        print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workload", choices=("tandem", "jinan"), default="tandem")
    parser.add_argument("--state", choices=("before", "after"), default="after")
    parser.add_argument("--engine", choices=("fifo-python", "fifo", "simpy"), default="fifo-python",
                        help="what to profile (default fifo-python: the FIFO loop as Python)")
    parser.add_argument("--repeats", type=int, default=1, help="simulations to profile (default 1)")
    parser.add_argument("--top", type=int, default=25, help="rows to print (default 25)")
    parser.add_argument("--py-spy", action="store_true", help="sample with py-spy instead of cProfile")
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples a second (default 200)")
    parser.add_argument("--run-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.py_spy:
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        if not Path(spy).exists() and shutil.which(spy) is None:
            parser.error("py-spy not found: pip install py-spy")
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / "raw.txt"
            cmd = [spy, "record", "--rate", str(args.rate), "--format", "raw", "-o", str(raw), "--",
                   sys.executable, __file__, "--run-only", "--workload", args.workload, "--state", args.state,
                   "--engine", args.engine, "--repeats", str(args.repeats)]
            subprocess.run(cmd, check=True, capture_output=True)
            print(f"py-spy, {args.workload} ({args.state}), engine {args.engine}, {args.repeats} run(s)")
            aggregate_raw(raw, args.top)
        return 0

    scenario, org = _workload(args.workload, args.state, args.engine)
    if args.run_only:
        _simulate(scenario, org, args.repeats)
        return 0
    profiler = cProfile.Profile()
    profiler.runcall(_simulate, scenario, org, args.repeats)
    print(f"cProfile, {args.workload} ({args.state}), engine {args.engine}, {args.repeats} run(s)")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
