"""This checkout's engines side by side with another orgsim checkout's (a peer): CPU time per run.

Run on demand, from the repository root, with a peer checkout that has its
own virtual environment with orgsim installed (``pip install -e .`` there)::

    git worktree add /tmp/orgsim-peer 36a7763    # or: git archive 36a7763 | tar -x -C /tmp/orgsim-peer
    (cd /tmp/orgsim-peer && python3 -m venv .venv && .venv/bin/pip install -e .)
    python benchmarks/engine_vs_peer.py --peer /tmp/orgsim-peer --rounds 5

Workloads are those of ``peers.py`` and ``scale.py`` in *this* checkout,
built the same way for both trees: the tandem of M/M/c desks (100,000
applicants), and one replication of the Jinan-size zone before its reforms
(800 working days, about 320,000 applicants; 120 working days for the slower
modes). Modes: ``compiled`` (the FIFO loop compiled), ``python`` (the FIFO
loop as Python) and ``simpy`` (the reference engine). Every measurement is a
fresh process; each round runs every (workload, mode) in this tree and the
peer back to back, alternating which goes first, so that both see the same
machine. The table shows the median CPU time of ``simulate`` (imports and
the scenario build excluded) and the ratio this / peer, with the range of
the per-round ratios. Seeds are the same in both trees; whether the results
are the same numbers is printed too (not when the random streams differ).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKLOADS = {  # name: (workload, mode)
    "tandem compiled": ("tandem", "compiled"),
    "tandem python": ("tandem", "python"),
    "tandem simpy": ("tandem", "simpy"),
    "jinan compiled": ("jinan", "compiled"),
    "jinan python": ("jinan-short", "python"),
    "jinan simpy": ("jinan-short", "simpy"),
}


def _child(workload: str, mode: str, seed: int) -> None:
    """Run one workload in this process's orgsim and print its measurements as JSON."""
    sys.path.insert(0, str(HERE))
    import orgsim
    import orgsim.experiment
    from orgsim.experiment import simulate
    from orgsim.sim import fifo_engine

    if mode == "python":
        if hasattr(fifo_engine, "python_loop"):  # one source, loaded as Python
            fifo_engine.LOOP = fifo_engine.python_loop()
        else:  # up to 36a7763: the Python statement of the loop
            fifo_engine.FifoRun.use_compiled = False
    compiled = mode == "compiled" and fifo_engine.compiled()
    engine = "simpy" if mode == "simpy" else "fifo"
    if workload == "tandem":
        import peers

        scenario = peers.tandem_scenario(peers.N_APPLICANTS, seed, engine)
    else:
        import scale

        days = (scale.WARMUP_DAYS + scale.YEARS * scale.WORKING_DAYS_PER_YEAR) if workload == "jinan" else 120.0
        doc = scale.jinan_like(horizon_days=days, warmup_days=scale.WARMUP_DAYS if workload == "jinan" else 10.0,
                               replications=1, seed=seed)
        doc["simulation"]["engine"] = engine
        scenario = scale._parse(doc)
    org = orgsim.reform_scenario(scenario).before
    wall, cpu = time.perf_counter(), time.process_time()
    run = simulate(scenario, org, seed=seed, replications=1)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(json.dumps({"cpu": cpu, "wall": wall, "completed": run.completed, "compiled": compiled,
                      "mean_lead": float(run.lead_working_days.mean()), "orgsim": orgsim.__file__}))


def _measure(python: str, workload: str, mode: str, seed: int) -> dict:
    out = subprocess.run([python, __file__, "--child", workload, mode, str(seed)], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def _git(tree: Path) -> str:
    try:
        return subprocess.run(["git", "-C", str(tree), "describe", "--always", "--dirty"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peer", type=Path, help="the other orgsim checkout")
    parser.add_argument("--peer-python", help="its Python (default PEER/.venv/bin/python)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2024, help="seed of round 0 (round r uses seed + r)")
    parser.add_argument("--only", default=",".join(WORKLOADS),
                        help=f"comma-separated subset of: {', '.join(WORKLOADS)}")
    parser.add_argument("--child", nargs=3, metavar=("WORKLOAD", "MODE", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child[0], args.child[1], int(args.child[2]))
        return 0
    if args.peer is None:
        parser.error("--peer is required")
    peer_python = args.peer_python or str(args.peer / ".venv" / "bin" / "python")
    chosen = [w.strip() for w in args.only.split(",") if w.strip()]
    unknown = sorted(set(chosen) - set(WORKLOADS))
    if unknown:
        parser.error(f"unknown workload(s): {', '.join(unknown)}")
    trees = {"this": sys.executable, "peer": peer_python}
    print(f"# engine_vs_peer.py  {' '.join(sys.argv[1:])}")
    print(f"# this: {HERE.parent} ({_git(HERE.parent)}), {sys.executable}")
    print(f"# peer: {args.peer} ({_git(args.peer)}), {peer_python}")
    print(f"# {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start", flush=True)
    results: dict[tuple[str, str], list[dict]] = {}
    for r in range(args.rounds):
        for name in chosen:
            workload, mode = WORKLOADS[name]
            order = ["this", "peer"] if r % 2 == 0 else ["peer", "this"]
            for tree in order:
                results.setdefault((name, tree), []).append(_measure(trees[tree], workload, mode, args.seed + r))
            a, b = results[(name, "this")][-1], results[(name, "peer")][-1]
            print(f"  round {r} {name:16s} this {a['cpu']:7.3f} s  peer {b['cpu']:7.3f} s  "
                  f"ratio {a['cpu'] / b['cpu']:.3f}", flush=True)
    print(f"# load average {os.getloadavg()[0]:.2f} at the end\n")
    print("| workload | mode | this: median CPU s | peer: median CPU s | this / peer (median) | per-round ratios | "
          "applicants | same numbers |")
    print("|---|---|---:|---:|---:|---|---:|---|")
    for name in chosen:
        mine, peer = results[(name, "this")], results[(name, "peer")]
        ratios = [a["cpu"] / b["cpu"] for a, b in zip(mine, peer, strict=True)]
        same = all(a["mean_lead"] == b["mean_lead"] and a["completed"] == b["completed"]
                   for a, b in zip(mine, peer, strict=True))
        workload, mode = WORKLOADS[name]
        compiled = {m["compiled"] for m in mine + peer}
        label = mode if mode != "compiled" or compiled == {True} else f"{mode} (NOT compiled in one tree)"
        print(f"| {workload} | {label} | {statistics.median(m['cpu'] for m in mine):.3f} | "
              f"{statistics.median(m['cpu'] for m in peer):.3f} | {statistics.median(ratios):.3f} | "
              f"{min(ratios):.2f}-{max(ratios):.2f} | {mine[0]['completed']:,} | {'yes' if same else 'no'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
