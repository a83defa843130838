"""Start-up: whole ``orgsim`` commands as a planner runs them, beside a bare ``python -c pass``.

Run on demand, from the repository root with orgsim installed::

    python benchmarks/startup.py                # 21 rounds
    python benchmarks/startup.py --repeat 41 --breakdown

Each command runs as its own process, the way a user types it (the
``orgsim`` console script of this environment), with output thrown away.
The commands run in turn, round after round, in a shuffled order (fixed
seed), after one warm-up round; the table shows the median wall time and the
median CPU time (user + system, from ``wait4``) of each, and their ratio to
a bare ``python -c pass`` run in the same rounds. Every figure is a whole
process: interpreter start, imports, the work, exit.

Two reference processes are measured beside them: the libraries ``orgsim
validate`` cannot do without (click, PyYAML, pydantic, networkx) imported
and nothing else, and the same plus the scenario format (building its
pydantic models): the floor under ``validate`` and ``show``.

``--base TREE`` also runs the orgsim commands from another source tree
(for instance an older commit, ``git archive COMMIT | tar -x -C TREE``) on
the same interpreter and libraries, through ``PYTHONPATH``, in the same
rounds: the speed-up side by side.

``--breakdown`` then runs ``validate``'s steps in fresh processes, timed
one by one (imports by library, reading the YAML, the schema, the reforms),
to show where its time goes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JINAN = "scenarios/jinan_hitech_2016.yaml"
#: What a command may cost, as a multiple of a bare interpreter (issue 13).
TARGETS = {"orgsim --version": 5.0, f"orgsim validate {JINAN}": 8.0}
FLOOR = "import click, yaml, pydantic, networkx"
FLOOR_WITH_FORMAT = FLOOR + "; import orgsim.scenario.schema"

_BREAKDOWN = """
import gc, json, sys, time
clock = time.process_time
t = [clock()]
import click; t.append(clock())
import yaml; t.append(clock())
import pydantic; t.append(clock())
import networkx; t.append(clock())
import orgsim.scenario.schema; t.append(clock())
import orgsim.cli.structure; t.append(clock())
from orgsim.reforms import reform_scenario
from orgsim.scenario import loader
from orgsim.scenario.schema import Scenario
gc.freeze()  # as orgsim's command group does before running a command
text = open(sys.argv[1], encoding="utf-8").read(); t.append(clock())
node, dupes, data = loader._read_yaml(text, sys.argv[1]); t.append(clock())
Scenario.model_validate(data); t.append(clock())
scenario = loader.parse_scenario(text, sys.argv[1]); t.append(clock())
reform_scenario(scenario); t.append(clock())
steps = ["import click", "import PyYAML", "import pydantic", "import networkx",
         "scenario format (building its pydantic models)", "rest of orgsim (model, reforms, loader, CLI)",
         "read the file", "YAML (libyaml)", "schema validation (pydantic)",
         "parse_scenario again (all of the above, and the reference checks)", "reforms (24 operators, each checked)"]
print(json.dumps(dict(zip(steps, (1000 * (b - a) for a, b in zip(t, t[1:]))))))
"""


ORGSIM_COMMANDS = [["--version"], ["--help"], ["schema"], ["validate", JINAN], ["show", JINAN]]
#: What the ``orgsim`` console script does, for a source tree on PYTHONPATH.
_LAUNCH = "import sys; from orgsim.cli import main; sys.exit(main())"


def _commands(base: Path | None) -> dict[str, tuple[list[str], dict[str, str] | None]]:
    """Each measured process: its argv and, for the base tree, its environment."""
    orgsim = Path(sys.executable).with_name("orgsim")
    if not orgsim.exists():
        sys.exit(f"{orgsim} not found: install orgsim in this environment (pip install -e .)")
    python = sys.executable
    commands: dict[str, tuple[list[str], dict[str, str] | None]] = {"python -c pass": ([python, "-c", "pass"], None)}
    for args in ORGSIM_COMMANDS:
        commands["orgsim " + " ".join(args)] = ([str(orgsim), *args], None)
    commands[f"python -c '{FLOOR}'"] = ([python, "-c", FLOOR], None)
    commands["python -c '... + scenario format'"] = ([python, "-c", FLOOR_WITH_FORMAT], None)
    if base is not None:
        env = {**os.environ, "PYTHONPATH": str(base.resolve())}
        for args in ORGSIM_COMMANDS:
            # -P: the current folder (this checkout) must not come before PYTHONPATH.
            commands["base: orgsim " + " ".join(args)] = ([python, "-P", "-c", _LAUNCH, *args], env)
    return commands


def _run(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU seconds of one process."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed with exit code {process.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def _provenance() -> str:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return "unknown"

    dirty = " + uncommitted changes in orgsim/" if git("status", "--porcelain", "--", "orgsim") else ""
    import yaml

    return (f"# {time.strftime('%Y-%m-%d %H:%M')}, git {git('rev-parse', '--short', 'HEAD')}{dirty}; "
            f"Python {sys.version.split()[0]}, PyYAML {yaml.__version__} "
            f"({'with' if yaml.__with_libyaml__ else 'without'} libyaml); {os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.2f} at start")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=21, help="measured rounds (default 21); medians")
    parser.add_argument("--breakdown", action="store_true", help="also time validate's steps")
    parser.add_argument("--json", action="store_true", help="print the medians as JSON instead of a table")
    parser.add_argument("--base", type=Path, metavar="TREE", help="also run the commands from this source tree")
    args = parser.parse_args(argv)
    if args.base is not None and not (args.base / "orgsim" / "__init__.py").exists():
        sys.exit(f"{args.base}: not an orgsim source tree")
    if args.base is not None and sys.version_info < (3, 11):
        sys.exit("--base needs Python 3.11 or newer (python -P)")
    commands = _commands(args.base)
    print(_provenance())
    if args.base is not None:
        print(f"# base: {args.base.resolve()} (its commands run as python -P -c '{_LAUNCH}')")
    order = list(commands)
    rng = random.Random(13)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for round_ in range(args.repeat + 1):
        rng.shuffle(order)
        for name in order:
            measured = _run(*commands[name])
            if round_:  # the first round warms the disk cache
                times[name].append(measured)
    wall = {name: statistics.median(w for w, _ in runs) for name, runs in times.items()}
    cpu = {name: statistics.median(c for _, c in runs) for name, runs in times.items()}
    bare = "python -c pass"
    if args.json:
        print(json.dumps({"wall_s": wall, "cpu_s": cpu, "rounds": args.repeat}, indent=2))
    else:
        print(f"# medians of {args.repeat} rounds; whole processes; load average {os.getloadavg()[0]:.2f} at the end")
        print(f"{'command':<58} {'wall ms':>8} {'CPU ms':>7} {'wall x':>7} {'CPU x':>6}  target")
        for name in commands:
            target = TARGETS.get(name.removeprefix("base: "))
            verdict = ""
            if target is not None:
                met = wall[name] / wall[bare] <= target and cpu[name] / cpu[bare] <= target
                verdict = f"<= {target:g}x: {'met' if met else 'NOT met'}"
            print(f"{name:<58} {1000 * wall[name]:8.1f} {1000 * cpu[name]:7.1f} "
                  f"{wall[name] / wall[bare]:7.1f} {cpu[name] / cpu[bare]:6.1f}  {verdict}")
    if args.breakdown:
        runs = []
        for _ in range(max(5, args.repeat // 2)):
            done = subprocess.run([sys.executable, "-c", _BREAKDOWN, JINAN], cwd=ROOT, capture_output=True,
                                  text=True, check=True)
            runs.append(json.loads(done.stdout))
        print(f"\n# orgsim validate {JINAN}, step by step (medians of {len(runs)} fresh processes, CPU ms)")
        for step in runs[0]:
            print(f"{step:<58} {statistics.median(r[step] for r in runs):8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
