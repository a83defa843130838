"""A whole ``orgsim run`` process against a whole hand-written SimPy script, on the tandem.

Run on demand, never in the test suite::

    python benchmarks/whole_process.py --repeats 7

``peers.py`` times the simulations inside one Python process; a planner times
the command. This script times both sides as a user would run them, each a
fresh process started from the shell:

- ``orgsim``: ``orgsim run tandem.yaml -r 1 --json``, the tandem of
  ``peers.py`` (three M/M/c desks, 100,000 applicants) written as a scenario
  file: start-up, reading and checking the file, compiling, simulating,
  summarising and printing the JSON summary.
- ``simpy``: a stand-alone script holding the idiomatic SimPy model of
  ``peers.py`` (one process per applicant, one ``simpy.Resource`` per desk,
  numpy for the draws), printing its mean sojourn.
- ``python``: ``python -c pass``, the floor of any Python command.
- ``imports``: ``python -c "import numpy, networkx, pydantic, click, yaml"``,
  the floor of any orgsim command that reads a scenario: its core
  dependencies imported and nothing else (no orgsim code, no scenario
  models, no file, no simulation).

The three run in turn, ``--repeats`` rounds; the table gives median wall and
CPU seconds of each whole process (CPU: user + system of the child, from
``os.wait4``) and the ratio orgsim / simpy, which issue 13 wants at most 0.12.
Both mean sojourns are printed beside the Jackson-network value so that the
two are seen to compute the same thing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers  # noqa: E402 - the tandem's parameters and its Jackson value, defined once

TARGET = 0.12

SIMPY_SCRIPT = '''\
"""The tandem of benchmarks/peers.py, written by hand in SimPy: a whole program."""
import sys

import numpy as np
import simpy

ARRIVAL_RATE_PER_DAY = {rate!r}
SERVERS = {servers!r}
SERVICE_RATES_PER_DAY = {mus!r}


def main(n, seed):
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1.0 / ARRIVAL_RATE_PER_DAY, n).tolist()
    services = [rng.exponential(1.0 / mu, n).tolist() for mu in SERVICE_RATES_PER_DAY]
    env = simpy.Environment()
    desks = [simpy.Resource(env, capacity=c) for c in SERVERS]
    sojourn = [0.0] * n

    def applicant(i):
        arrived = env.now
        for desk, service in zip(desks, services):
            with desk.request() as req:
                yield req
                yield env.timeout(service[i])
        sojourn[i] = env.now - arrived

    def source():
        for i, gap in enumerate(gaps):
            yield env.timeout(gap)
            env.process(applicant(i))

    env.process(source())
    env.run()
    print(sum(sojourn) / n)


main(int(sys.argv[1]), int(sys.argv[2]))
'''


def _tandem_file(folder: Path, n: int, seed: int) -> Path:
    """The tandem scenario as a YAML file (the document peers.py builds)."""
    import yaml

    scenario = peers.tandem_scenario(n, seed)
    doc = scenario.model_dump(mode="json", exclude_unset=True)
    path = folder / "tandem.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _timed(cmd: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall and CPU seconds of one whole process, and what it printed."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err)
        # wait4, not wait: the child's own CPU time, from the kernel.
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            err.seek(0)
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err.read().decode()}")
        out.seek(0)
        return wall, usage.ru_utime + usage.ru_stime, out.read().decode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="rounds of the three commands (default 5)")
    parser.add_argument("--applicants", type=int, default=peers.N_APPLICANTS, help="applicants (default 100,000)")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)

    orgsim_cmd = shutil.which("orgsim")
    if orgsim_cmd is None:
        raise SystemExit("orgsim is not on PATH: install it (pip install -e .) in this environment")
    folder = Path(tempfile.mkdtemp(prefix="orgsim-whole-"))
    scenario = _tandem_file(folder, args.applicants, args.seed)
    script = folder / "simpy_tandem.py"
    script.write_text(SIMPY_SCRIPT.format(rate=peers.ARRIVAL_RATE_PER_DAY, servers=peers.SERVERS,
                                          mus=peers.SERVICE_RATES_PER_DAY), encoding="utf-8")
    commands = {
        "orgsim": [orgsim_cmd, "run", str(scenario), "-r", "1", "--json"],
        "simpy": [sys.executable, str(script), str(args.applicants), str(args.seed)],
        "python": [sys.executable, "-c", "pass"],
        "imports": [sys.executable, "-c", "import numpy, networkx, pydantic, click, yaml"],
    }
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in commands}
    printed: dict[str, str] = {}
    from orgsim.sim.fifo_engine import compiled

    print(f"tandem, {args.applicants:,} applicants, {args.repeats} rounds; orgsim's loop "
          f"{'compiled' if compiled() else 'in Python'}; load average {os.getloadavg()[0]:.1f}", flush=True)
    for r in range(args.repeats):
        order = list(commands) if r % 2 == 0 else list(reversed(commands))
        for name in order:
            wall, cpu, out = _timed(commands[name], folder)
            times[name].append((wall, cpu))
            printed[name] = out
    shutil.rmtree(folder, ignore_errors=True)

    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in times.items()}
    print(f"{'command':<8} {'wall s':>8} {'CPU s':>8}")
    for name, (wall, cpu) in med.items():
        print(f"{name:<8} {wall:8.3f} {cpu:8.3f}")
    ratio_wall = med["orgsim"][0] / med["simpy"][0]
    ratio_cpu = med["orgsim"][1] / med["simpy"][1]
    verdict = "met" if max(ratio_wall, ratio_cpu) <= TARGET else "NOT met"
    print(f"orgsim / simpy, whole processes: {ratio_wall:.3f}x wall, {ratio_cpu:.3f}x CPU "
          f"(target <= {TARGET}x: {verdict})")
    floor = med["imports"][1] / med["simpy"][1]
    print(f"the core dependencies' imports alone / simpy: {floor:.3f}x CPU (what any scenario-reading command pays)")
    summary = json.loads(printed["orgsim"])
    mean = summary["lead_time_working_days"]["mean"]
    print(f"mean sojourn: orgsim {mean:.3f} days (lead time, working days), simpy {float(printed['simpy']):.3f}, "
          f"Jackson {peers.jackson_sojourn_days():.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
