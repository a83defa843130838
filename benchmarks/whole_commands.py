"""Whole `orgsim compare` processes, as a user times them, against the time of their own simulations.

Run on demand, never in the test suite::

    python benchmarks/whole_commands.py                     # both parts below
    python benchmarks/whole_commands.py --skip-jinan        # the tutorial only (seconds)
    python benchmarks/whole_commands.py --baseline DIR      # the same commands on another orgsim
                                                            # checkout (built), side by side

Part 1, the tutorial: ``orgsim compare scenarios/tutorial.yaml`` (10
replications, serial), ``--rounds`` times; medians. Each process reports,
from inside, where its time went: the interpreter and every import, the
simulations (``simulate_plan``), the summaries (``summarise_run``) and the
rest (parsing, reforms, calendar, structure, statistics, the tables), without
the command's imports (made before it, to count them apart: a first process
lists the modules the command loads, and the measured ones import exactly
those first). ``orgsim --version`` and a bare ``python -c pass`` are timed
beside it as the start-up floor.

Part 2, a zone the size of Jinan's (``benchmarks/scale.py``'s scenario,
written to a temporary file): ``orgsim compare FILE -r 20 --jobs 2``, once:
wall time and CPU of the whole process tree, and peak memory as the parent's
``ru_maxrss`` and the largest worker's (``getrusage(RUSAGE_CHILDREN)`` read in
the parent after its workers are reaped). With ``--baseline`` the baseline
runs the same command without ``--jobs`` if it does not know the option.

After the command, the peer: ``scale.py``'s part 1 on the same zone, seeds
and number of workers (``simulate()`` on a pool of spawned workers, no CLI,
no summaries kept), run right after in this script, so that the ratio of
the whole command to its simulations alone is read on the same machine in
the same minutes (``--skip-peer`` leaves it out).

Every figure is of whole processes unless it says "in-process".
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "scenarios" / "tutorial.yaml"

#: Runs the orgsim CLI in this process, timing its phases from inside; the figures go to the file
#: named by ORGSIM_BENCH_OUT. Works on any orgsim that has orgsim.sim.engine.simulate_plan.
WRAPPER = r"""
import json, os, resource, sys, time
t_begin = time.perf_counter()
acc = {"simulate": 0.0, "simulate_calls": 0, "summarise": 0.0, "parse": 0.0, "reforms": 0.0, "calendar": 0.0}

def timed(real, key):
    def run(*args, **kwargs):
        t = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            acc[key] += time.perf_counter() - t
            if key == "simulate":
                acc["simulate_calls"] += 1
    return run

from orgsim.cli import main
for name in json.loads(os.environ.get("ORGSIM_BENCH_PRELOAD", "[]")):
    try:
        __import__(name)
    except Exception:
        pass
t_imported = time.perf_counter()
import orgsim.sim.engine as engine
patched = timed(engine.simulate_plan, "simulate")
engine.simulate_plan = patched
import orgsim.experiment as experiment
if hasattr(experiment, "simulate_plan"):   # an orgsim whose experiment module bound the name at import
    experiment.simulate_plan = patched
try:
    import orgsim.sim.summary as summary
    summary.summarise_run = timed(summary.summarise_run, "summarise")
except ImportError:
    pass
try:  # the CLI as a package (since issue 13), or the older single modules
    import orgsim.cli.simulate as cli_simulate
except ImportError:
    import orgsim.cli_simulate as cli_simulate
cli_simulate.load_scenario = timed(cli_simulate.load_scenario, "parse")
experiment.reform_scenario = timed(experiment.reform_scenario, "reforms")
experiment._calendar = timed(experiment._calendar, "calendar")
t_main = time.perf_counter()
code = 0
try:
    main(sys.argv[1:], prog_name="orgsim")
except SystemExit as exc:
    code = exc.code or 0
t_end = time.perf_counter()
self_usage, children_usage = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
out = dict(acc, imports=t_imported - t_begin, patching=t_main - t_imported, command=t_end - t_main,
           in_process=t_end - t_begin, code=code,
           cpu_parent=self_usage.ru_utime + self_usage.ru_stime,
           cpu_workers=children_usage.ru_utime + children_usage.ru_stime,
           maxrss_parent_mb=self_usage.ru_maxrss / 1024,
           maxrss_largest_worker_mb=children_usage.ru_maxrss / 1024,
           modules=sorted(sys.modules))
with open(os.environ["ORGSIM_BENCH_OUT"], "w") as fh:
    json.dump(out, fh)
sys.exit(code)
"""


def provenance(root: Path) -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "orgsim"], cwd=root, capture_output=True,
                               text=True, check=True).stdout.strip()
        return f"git {head}{' + uncommitted changes in orgsim/' if dirty else ''}"
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"


def compiled(root: Path) -> bool:
    # fifo_loop: the loop's one source, compiled in place; _fifo_kernel: its older, separate kernel.
    sim = root / "orgsim" / "sim"
    return any(sim.glob("fifo_loop*.so")) or any(sim.glob("_fifo_kernel*.so"))


def run_process(args: list[str], root: Path, wrapped: bool = True, preload: list[str] | None = None) -> dict[str, Any]:
    """One whole process: wall and CPU (its tree) from outside; phases and memory from inside.

    ``preload``: modules to import before the command starts (those it imports anyway), so that
    the in-process time of the command is its work, not its imports.
    """
    env = dict(os.environ, PYTHONPATH=str(root), ORGSIM_BENCH_PRELOAD=json.dumps(preload or []))
    with tempfile.TemporaryDirectory() as tmp:
        out_file = Path(tmp) / "figures.json"
        env["ORGSIM_BENCH_OUT"] = str(out_file)
        cmd = [sys.executable, "-c", WRAPPER, *args] if wrapped else [sys.executable, *args]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
        figures = json.loads(out_file.read_text()) if wrapped else {}
    figures["wall"] = wall
    figures["cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return figures


def tutorial(root: Path, rounds: int) -> dict[str, Any]:
    # A first process lists the modules the command loads; the measured ones load them before
    # the command (no more, no fewer), so "interpreter + imports" holds every import.
    first = run_process(["compare", str(TUTORIAL)], root)
    modules = [m for m in first["modules"] if not m.startswith("__")]
    runs = [run_process(["compare", str(TUTORIAL)], root, preload=modules) for _ in range(rounds)]
    version = [run_process(["-c", "from orgsim.cli import main; main(['--version'])"], root, wrapped=False)
               for _ in range(rounds)]
    bare = [run_process(["-c", "pass"], root, wrapped=False) for _ in range(rounds)]
    med = {k: statistics.median(r[k] for r in runs) for k in
           ("wall", "cpu", "imports", "command", "simulate", "summarise", "in_process", "parse", "reforms",
            "calendar")}
    med["simulate_calls"] = runs[0]["simulate_calls"]
    med["version_wall"] = statistics.median(r["wall"] for r in version)
    med["bare_wall"] = statistics.median(r["wall"] for r in bare)
    med["rest"] = med["command"] - med["simulate"] - med["summarise"]
    # What the rest holds besides structure, statistics and tables.
    med["other"] = med["rest"] - med["parse"] - med["reforms"] - med["calendar"]
    return med


def _jinan_file(tmp: str, replications: int) -> Path:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import yaml
    from scale import jinan_like

    path = Path(tmp) / "jinan_like.yaml"
    path.write_text(yaml.safe_dump(jinan_like(replications=replications), allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path


def jinan(root: Path, replications: int, jobs: int, use_jobs: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = _jinan_file(tmp, replications)
        args = ["compare", str(path), "-r", str(replications)] + (["--jobs", str(jobs)] if use_jobs else [])
        return run_process(args, root)


SAMPLE_CHILD = r"""
import json, sys, time
import orgsim
from orgsim.sim.engine import simulate_plan
from orgsim.sim.plan import compile_plan
from orgsim.sim.streams import RandomStreams, replication_seeds
from orgsim.sim.calendar import WorkingCalendar
scenario = orgsim.load_scenario(sys.argv[1])
outcome = orgsim.reform_scenario(scenario)
sim = scenario.simulation
calendar = WorkingCalendar.from_spec(sim.calendar)
n, k = int(sys.argv[2]), int(sys.argv[3])
cpu = 0.0
for org in (outcome.before, outcome.after):
    plan = compile_plan(org, scenario)
    for seq in replication_seeds(sim.seed, n)[:k]:
        t = time.process_time()
        simulate_plan(plan, RandomStreams(seq), sim.horizon_days, sim.warmup_days, calendar=calendar)
        cpu += time.process_time() - t
print(json.dumps({"per_run_cpu": cpu / (2 * k)}))
"""


def jinan_simulation_cpu(root: Path, replications: int, sample: int) -> float:
    """CPU seconds of one simulation (simulate_plan alone, the mean of ``sample`` per state), in a child."""
    with tempfile.TemporaryDirectory() as tmp:
        path = _jinan_file(tmp, replications)
        env = dict(os.environ, PYTHONPATH=str(root))
        out = subprocess.run([sys.executable, "-c", SAMPLE_CHILD, str(path), str(replications), str(sample)],
                             cwd=root, env=env, capture_output=True, text=True, check=True).stdout
        return float(json.loads(out.strip().splitlines()[-1])["per_run_cpu"])


def simulations_peer(replications: int, jobs: int) -> dict[str, Any]:
    """scale.py's part 1, in this process (orgsim of this checkout): the simulations alone on a pool."""
    import contextlib
    import io

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from scale import SEED, jinan_like
    from scale import replications as run_replications

    with contextlib.redirect_stdout(io.StringIO()):
        return run_replications(jinan_like(replications=replications), replications, jobs, SEED)


def knows_jobs(root: Path) -> bool:
    env = dict(os.environ, PYTHONPATH=str(root))
    out = subprocess.run([sys.executable, "-c", "from orgsim.cli import main; main(['compare', '--help'])"],
                         cwd=root, env=env, capture_output=True, text=True, check=False).stdout
    return "--jobs" in out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="tutorial processes per checkout (median)")
    parser.add_argument("--replications", type=int, default=20, help="Jinan-size replications per state")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--skip-jinan", action="store_true")
    parser.add_argument("--sample", type=int, default=2, help="Jinan-size runs per state timed alone (CPU)")
    parser.add_argument("--skip-peer", action="store_true",
                        help="leave out the peer: scale.py's simulations alone on the same pool")
    parser.add_argument("--baseline", type=Path, help="another orgsim checkout (built in place) run side by side")
    args = parser.parse_args(argv)

    checkouts = {"this": ROOT}
    if args.baseline:
        checkouts["baseline"] = args.baseline.resolve()
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}; {' '.join(sys.argv)}; load average {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} CPUs")
    for name, root in checkouts.items():
        print(f"  {name}: {root} ({provenance(root)}; compiled loop: {compiled(root)})")

    print("\nPart 1: orgsim compare scenarios/tutorial.yaml (10 replications x 2 states, serial); "
          f"medians of {args.rounds} whole processes")
    results = {name: tutorial(root, args.rounds) for name, root in checkouts.items()}
    rows = [
        ("whole process, wall (s)", "wall"), ("whole process, CPU (s)", "cpu"),
        ("  in-process: interpreter + every import the command makes (s)", "imports"),
        ("  in-process: simulations, simulate_plan (s)", "simulate"),
        ("  in-process: summaries, summarise_run (s)", "summarise"),
        ("  in-process: the rest of the command (s)", "rest"),
        ("    of which: reading the scenario file (s)", "parse"),
        ("    of which: the reform operators (s)", "reforms"),
        ("    of which: the working calendar (holiday tables) (s)", "calendar"),
        ("    of which: the rest (structure, statistics, tables) (s)", "other"),
        ("orgsim --version, wall (s)", "version_wall"), ("python -c pass, wall (s)", "bare_wall"),
    ]
    names = list(results)
    print(f"{'':<58}" + "".join(f"{n:>12}" for n in names))
    for label, key in rows:
        print(f"{label:<58}" + "".join(f"{results[n][key]:>12.3f}" for n in names))
    for n in names:
        r = results[n]
        print(f"{n}: whole / simulations {r['wall'] / r['simulate']:.1f}x; (whole - orgsim --version) / simulations "
              f"{(r['wall'] - r['version_wall']) / r['simulate']:.2f}x; (summaries + rest) / simulations "
              f"{(r['summarise'] + r['rest']) / r['simulate']:.2f}x; (summaries + structure, statistics, tables) "
              f"/ simulations {(r['summarise'] + r['other']) / r['simulate']:.2f}x; {r['simulate_calls']} simulations")
    if len(names) == 2:
        a, b = (results[n] for n in names)
        print(f"this / baseline, whole wall: {a['wall'] / b['wall']:.2f}x; the rest of the command: "
              f"{(a['rest'] + a['summarise']) / (b['rest'] + b['summarise']):.2f}x")

    if not args.skip_jinan:
        print(f"\nPart 2: orgsim compare JINAN_LIKE.yaml -r {args.replications} --jobs {args.jobs} "
              "(one whole process each)")
        for name, root in checkouts.items():
            use = knows_jobs(root)
            load = os.getloadavg()[0]
            r = jinan(root, args.replications, args.jobs, use)
            per_run = jinan_simulation_cpu(root, args.replications, args.sample)
            sims = per_run * 2 * args.replications
            how = f"--jobs {args.jobs}" if use else "serial (no --jobs)"
            print(f"{name} ({how}): wall {r['wall']:.1f} s (load average {load:.2f} before, "
                  f"{os.getloadavg()[0]:.2f} after); CPU of the process tree {r['cpu']:.1f} s "
                  f"(parent {r['cpu_parent']:.1f} s, workers {r['cpu_workers']:.1f} s), CPUs busy "
                  f"{r['cpu'] / r['wall']:.2f}")
            print(f"  simulations alone: {per_run:.2f} s CPU a run (mean of {args.sample} per state, in another "
                  f"process), {sims:.0f} s for {2 * args.replications}; process-tree CPU / simulations "
                  f"{r['cpu'] / sims:.2f}x; wall on {args.jobs} CPUs at best: {r['cpu'] / args.jobs:.0f} s")
            parent, worker = r["maxrss_parent_mb"], r["maxrss_largest_worker_mb"]
            print(f"  peak RSS: parent {parent:.0f} MB, largest worker {worker:.0f} MB "
                  f"(together {parent + worker:.0f} MB)")
        if not args.skip_peer:
            load = os.getloadavg()[0]
            peer = simulations_peer(args.replications, args.jobs)
            print(f"peer, simulations only (scale.py part 1: simulate() on a pool of {args.jobs} spawned workers, "
                  f"no CLI, no summaries kept): wall {peer['wall_seconds']:.1f} s (load average {load:.2f} before, "
                  f"{os.getloadavg()[0]:.2f} after); simulation CPU "
                  f"{peer['before']['cpu_total'] + peer['after']['cpu_total']:.1f} s; peak RSS parent "
                  f"{peer['parent_maxrss_mb']:.0f} MB, largest worker {peer['worker_maxrss_mb']:.0f} MB")
            peer_cpu = peer["before"]["cpu_total"] + peer["after"]["cpu_total"]
            print(f"  this / peer: wall {r['wall'] / peer['wall_seconds']:.2f}x, CPU (process tree against the peer's "
                  f"simulations) {r['cpu'] / peer_cpu:.2f}x: the whole command against its simulations alone")
    return 0


if __name__ == "__main__":
    sys.exit(main())
