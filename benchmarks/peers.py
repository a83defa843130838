"""orgsim against its peers on one workload: a tandem of three M/M/c queues.

Run on demand, never in the test suite::

    pip install -r benchmarks/requirements.txt     # Ciw, pinned
    python benchmarks/peers.py --repeats 3

The workload: Poisson arrivals at rate 1 a day; three desks in series with
2, 3 and 1 servers and exponential service at rates 0.6, 0.45 and 1.25 a day
(utilisation 0.83, 0.74, 0.80); 100,000 applicants. Five engines compute it:

- ``orgsim``: the workload as a scenario, simulated through the public API
  (:func:`orgsim.experiment.simulate`, one replication, records off) with
  its default engine (the FIFO recursion; compiled or not, the header says).
  The scenario's horizon is 100,000 working days with no warm-up, so about
  100,000 applicants arrive; the number actually simulated is printed.
- ``orgsim-simpy``: the same, on orgsim's reference engine
  (``simulation.engine: simpy``), which gives identical sojourns.
- ``simpy``: a hand-written SimPy model, written the idiomatic way: one
  generator process per applicant, one ``simpy.Resource`` per desk.
- ``ciw``: the same network in Ciw, run until 100,000 applicants have
  completed their journey.
- ``heap``: FIFO multi-server recursion (Kiefer-Wolfowitz) with a heap of
  server free times per desk, applicants in arrival order: no event list at
  all, the floor for this workload in Python.

orgsim, simpy and heap draw their random numbers with numpy in blocks, inside
the timed region; Ciw draws with its own samplers. Each engine runs in turn,
``--repeats`` times (round robin, a fresh seed each round); the table shows
median wall times, the ratios the issue targets, and each engine's mean
sojourn with a batch-means 95% confidence interval beside the Jackson-network
value (sum over the desks of the M/M/c sojourn), so that all five are seen to
compute the same thing.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import heapq
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

ARRIVAL_RATE_PER_DAY = 1.0
SERVERS = (2, 3, 1)
SERVICE_RATES_PER_DAY = (0.6, 0.45, 1.25)
N_APPLICANTS = 100_000
BATCHES = 20  # batch means for the sojourn confidence interval
ENGINES = ("orgsim", "orgsim-simpy", "simpy", "ciw", "heap")


@dataclass
class Outcome:
    """One engine's run: wall time of the simulation, what it simulated."""

    engine: str
    seconds: float
    applicants: int
    sojourn_days: np.ndarray  # per applicant, in arrival order
    setup_seconds: float = 0.0
    cpu_seconds: float = 0.0  # process CPU time of the same region: less sensitive to a busy machine


class _Stopwatch:
    """Wall and process CPU time between start() and stop()."""

    def start(self) -> None:
        self.t0, self.c0 = time.perf_counter(), time.process_time()

    def stop(self) -> tuple[float, float]:
        return time.perf_counter() - self.t0, time.process_time() - self.c0


def jackson_sojourn_days() -> float:
    """Mean time in the tandem: the sum over desks of the M/M/c sojourn."""
    from orgsim.theory import mmc_sojourn

    return sum(mmc_sojourn(ARRIVAL_RATE_PER_DAY, mu, c) for c, mu in zip(SERVERS, SERVICE_RATES_PER_DAY, strict=True))


def batch_means_rounds(rounds: list[np.ndarray], batches: int = BATCHES) -> tuple[float, float]:
    """Batch means pooled over independent rounds: mean and 95% half-width."""
    from scipy import stats

    b = np.concatenate([x[: len(x) // batches * batches].reshape(batches, -1).mean(axis=1) for x in rounds])
    half = stats.t.ppf(0.975, len(b) - 1) * b.std(ddof=1) / math.sqrt(len(b))
    return float(b.mean()), float(half)


# ------------------------------------------------------------------ orgsim
def tandem_scenario(n: int, seed: int, engine: str = "fifo"):  # noqa: ANN201 - orgsim.Scenario
    """The tandem as an orgsim scenario: one bureau per desk, nothing but queues."""
    import yaml

    from orgsim import parse_scenario

    units = [{"id": "committee", "name": "管委会", "kind": "committee", "leaders": {"chief": 0, "deputies": 0}}]
    functions, steps = [], []
    for k, (c, mu) in enumerate(zip(SERVERS, SERVICE_RATES_PER_DAY, strict=True)):
        units.append({"id": f"bureau{k}", "name": f"局{k}", "kind": "bureau", "parent": "committee",
                      "leaders": {"chief": 1, "deputies": 0}})
        functions.append({"id": f"desk{k}", "name": f"审批{k}", "category": "licensing", "owner": f"bureau{k}",
                          "officers": c, "signoff_levels": 0, "rework_probability": 0.0,
                          "service_time": {"dist": "exponential", "mean": 1.0 / mu, "unit": "days"}})
        step = {"id": f"s{k}", "function": f"desk{k}"}
        if k:
            step["after"] = [f"s{k - 1}"]
        steps.append(step)
    doc = {
        "scenario": {"name": "tandem benchmark"},
        "units": units,
        "functions": functions,
        "workload": {"project_types": [{"id": "p", "name": "项目",
                                        "arrivals": {"rate": ARRIVAL_RATE_PER_DAY, "per": "day"},
                                        "steps": steps}]},
        "simulation": {"horizon_days": n / ARRIVAL_RATE_PER_DAY, "warmup_days": 0, "replications": 1,
                       "seed": seed, "calendar": {"holidays": "none"}, "engine": engine},
    }
    return parse_scenario(yaml.safe_dump(doc, allow_unicode=True), "<tandem>")


def run_orgsim(n: int, seed: int, engine: str = "fifo") -> Outcome:
    from orgsim.experiment import simulate

    clock = _Stopwatch()
    clock.start()
    scenario = tandem_scenario(n, seed, engine)
    setup, _ = clock.stop()
    clock.start()
    run = simulate(scenario, "before", seed=seed, replications=1)
    wall, cpu = clock.stop()
    order = np.argsort(run.t_start, kind="stable")
    return Outcome("orgsim" if engine == "fifo" else f"orgsim-{engine}", wall, run.completed,
                   run.lead_working_days[order], setup, cpu)


def run_orgsim_simpy(n: int, seed: int) -> Outcome:
    """orgsim's reference engine (``simulation.engine: simpy``) on the same scenario."""
    return run_orgsim(n, seed, "simpy")


# ------------------------------------------------------------------ SimPy by hand
def run_simpy(n: int, seed: int) -> Outcome:
    import simpy

    clock = _Stopwatch()
    clock.start()
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1.0 / ARRIVAL_RATE_PER_DAY, n).tolist()
    services = [rng.exponential(1.0 / mu, n).tolist() for mu in SERVICE_RATES_PER_DAY]
    env = simpy.Environment()
    desks = [simpy.Resource(env, capacity=c) for c in SERVERS]
    sojourn = [0.0] * n

    def applicant(i: int):  # noqa: ANN202 - a SimPy process
        arrived = env.now
        for desk, service in zip(desks, services, strict=True):
            with desk.request() as req:
                yield req
                yield env.timeout(service[i])
        sojourn[i] = env.now - arrived

    def source():  # noqa: ANN202
        for i, gap in enumerate(gaps):
            yield env.timeout(gap)
            env.process(applicant(i))

    env.process(source())
    env.run()
    wall, cpu = clock.stop()
    return Outcome("simpy", wall, n, np.array(sojourn), cpu_seconds=cpu)


# ------------------------------------------------------------------ Ciw
def run_ciw(n: int, seed: int) -> Outcome:
    import ciw

    clock = _Stopwatch()
    clock.start()
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(ARRIVAL_RATE_PER_DAY), None, None],
        service_distributions=[ciw.dists.Exponential(mu) for mu in SERVICE_RATES_PER_DAY],
        routing=[[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]],
        number_of_servers=list(SERVERS),
    )
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    sim.simulate_until_max_customers(n, method="Complete")
    wall, cpu = clock.stop()
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    for r in sim.get_all_records():
        if r.record_type != "service":
            continue
        if r.node == 1:
            first[r.id_number] = r.arrival_date
        elif r.node == len(SERVERS):
            last[r.id_number] = r.exit_date
    ids = sorted(i for i in last if i in first)
    return Outcome("ciw", wall, len(ids), np.array([last[i] - first[i] for i in ids]), cpu_seconds=cpu)


# ------------------------------------------------------------------ the floor
def run_heap(n: int, seed: int) -> Outcome:
    """FIFO c-server recursion: start = max(arrival, earliest free server)."""
    clock = _Stopwatch()
    clock.start()
    rng = np.random.default_rng(seed)
    arrived = np.cumsum(rng.exponential(1.0 / ARRIVAL_RATE_PER_DAY, n)).tolist()
    at = arrived
    order = range(n)
    for c, mu in zip(SERVERS, SERVICE_RATES_PER_DAY, strict=True):
        service = rng.exponential(1.0 / mu, n).tolist()
        free = [0.0] * c
        done = [0.0] * n
        for i in order:
            a = at[i]
            f = free[0]
            end = (a if a > f else f) + service[i]
            heapq.heapreplace(free, end)
            done[i] = end
        at = done
        order = sorted(range(n), key=done.__getitem__)
    sojourn = [d - a for d, a in zip(at, arrived, strict=True)]
    wall, cpu = clock.stop()
    return Outcome("heap", wall, n, np.array(sojourn), cpu_seconds=cpu)


RUNNERS: dict[str, Callable[[int, int], Outcome]] = {
    "orgsim": run_orgsim, "orgsim-simpy": run_orgsim_simpy, "simpy": run_simpy, "ciw": run_ciw, "heap": run_heap,
}


def code_version() -> str:
    """The orgsim tree measured: git commit, whether it is modified, the engines' checksum, compiled or not."""
    import hashlib
    import subprocess
    from pathlib import Path

    from orgsim.sim import fifo_engine

    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "orgsim"], cwd=root, capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        head, dirty = "unknown", ""
    sim = Path(fifo_engine.__file__).resolve().parent
    engines = hashlib.sha256()
    for name in ("run_io.py", "fifo_loop.py", "fifo_loop.pxd", "fifo_engine.py", "simpy_engine.py", "engine.py"):
        engines.update(name.encode() + b"\0" + (sim / name).read_bytes())
    tree = hashlib.sha256()
    package = sim.parent
    for path in sorted([*package.rglob("*.py"), *package.rglob("*.pxd"), *package.rglob("*.pyx")]):
        tree.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    loop = "compiled FIFO loop" if fifo_engine.compiled() else "FIFO loop in Python (not compiled)"
    return (f"git {head}{' + uncommitted changes in orgsim/' if dirty else ''}, engine sources sha256 "
            f"{engines.hexdigest()[:12]}, orgsim tree sha256 {tree.hexdigest()[:12]}, {loop}")


def _versions() -> str:
    import simpy

    import orgsim

    parts = [f"Python {platform.python_version()}", f"orgsim {orgsim.__version__}", f"simpy {simpy.__version__}",
             f"numpy {np.__version__}"]
    try:
        import ciw

        parts.append(f"ciw {ciw.__version__}")
    except ImportError:
        pass
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="rounds of all engines (default 3)")
    parser.add_argument("--applicants", type=int, default=N_APPLICANTS, help="applicants (default 100,000)")
    parser.add_argument("--seed", type=int, default=2024, help="seed of the first round (default 2024)")
    parser.add_argument("--engines", default=",".join(ENGINES), help=f"comma-separated subset of {','.join(ENGINES)}")
    args = parser.parse_args(argv)
    if "orgsim" in args.engines and not 0 < args.applicants <= 100_000:
        parser.error("--applicants: orgsim's horizon is at most 100,000 working days (1 applicant a day)")
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = sorted(set(engines) - set(RUNNERS))
    if unknown:
        parser.error(f"unknown engine(s): {', '.join(unknown)}")

    jackson = jackson_sojourn_days()
    print(f"# peers.py  {_dt.date.today().isoformat()}  {' '.join(sys.argv)}")
    print(f"# {_versions()}")
    print(f"# {code_version()}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    print(f"# tandem M/M/c: lambda={ARRIVAL_RATE_PER_DAY}/day, servers={SERVERS}, mu={SERVICE_RATES_PER_DAY}/day, "
          f"{args.applicants:,} applicants, {args.repeats} round(s)")
    results: dict[str, list[Outcome]] = {e: [] for e in engines}
    for rnd in range(args.repeats):
        for e in engines:
            gc.collect()
            out = RUNNERS[e](args.applicants, args.seed + rnd)
            results[e].append(out)
            extra = f"  (scenario build {out.setup_seconds:.3f} s)" if out.setup_seconds else ""
            print(f"round {rnd + 1}  {e:<7} {out.seconds:7.3f} s (CPU {out.cpu_seconds:6.3f} s)  "
                  f"{out.applicants:>8,} applicants  "
                  f"mean sojourn {out.sojourn_days.mean():7.3f} d{extra}", flush=True)

    med = {e: statistics.median(o.seconds for o in results[e]) for e in engines}
    cpu = {e: statistics.median(o.cpu_seconds for o in results[e]) for e in engines}
    print()
    print(f"Jackson-network mean sojourn (sum of M/M/c sojourns, orgsim.theory.mmc_sojourn): {jackson:.4f} days")
    print()
    print("| engine | median wall s | median CPU s | wall per round (s) | applicants | "
          "mean sojourn (d) ± 95% CI | Jackson in CI | vs Jackson |")
    print("|---|---:|---:|---|---:|---|---|---:|")
    for e in engines:
        runs = ", ".join(f"{o.seconds:.2f}" for o in results[e])
        m, h = batch_means_rounds([o.sojourn_days for o in results[e]])
        applicants = "/".join(f"{o.applicants:,}" for o in results[e])
        print(f"| {e} | {med[e]:.3f} | {cpu[e]:.3f} | {runs} | {applicants} | {m:.3f} ± {h:.3f} | "
              f"{'yes' if abs(m - jackson) <= h else 'NO'} | {m / jackson - 1:+.1%} |")
    print(f"\n(95% CI by batch means: {BATCHES} batches of consecutive applicants per round, pooled over rounds.)")
    if "simpy" in results and "heap" in results:
        same = all(np.allclose(a.sojourn_days, b.sojourn_days, rtol=0, atol=1e-9)
                   for a, b in zip(results["simpy"], results["heap"], strict=True))
        print(f"SimPy-by-hand and heap use the same draws: per-applicant sojourns identical: {same}")
    if "orgsim" in results:
        setup = statistics.median(o.setup_seconds for o in results["orgsim"])
        print(f"orgsim scenario build (parse + validate; not in its time above): {setup:.3f} s median")
    print()
    for a, b, target in (("orgsim", "simpy", "target <= 1.0x"), ("ciw", "orgsim", "target >= 3x"),
                         ("orgsim", "heap", "the floor"), ("orgsim-simpy", "orgsim", "orgsim's two engines"),
                         ("orgsim-simpy", "simpy", "the reference engine against SimPy by hand")):
        if a in med and b in med:
            print(f"{a} / {b}: {med[a] / med[b]:6.2f}x wall, {cpu[a] / cpu[b]:6.2f}x CPU   ({target})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
