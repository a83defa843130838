"""Event-log export at scale: 1,000,000 applications, time and peak memory, beside the same run without a log.

Run on demand, never in the test suite::

    python benchmarks/eventlog_export.py [--applications 1000000] [--formats csv,parquet,xes]

The zone is ``tests/data/calibration/small_zone.yaml`` (four serial steps,
three units, two jurisdictions, every delay) with its arrival rate, officers
and leaders multiplied by the same factor, so that its queues are loaded as
in the small zone, and a horizon that brings about ``--applications``
applications into the measurement window. Each configuration is one fresh
process, ``orgsim run FILE --state before -r 1 --json`` with or without
``--event-log``, one after the other on one machine; the table gives its
wall time, peak resident memory (``ru_maxrss`` of the child, from
``os.wait4``), the rows and bytes written, and the ratio of time to the run
without a log (the peer). The issue's target: under 300 MB peak.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "tests" / "data" / "calibration" / "small_zone.yaml"
TARGET_MB = 300


def zone(applications: int, folder: Path) -> Path:
    """The small zone scaled so that about ``applications`` arrive in its window."""
    data = yaml.safe_load(SMALL.read_text(encoding="utf-8"))
    factor = 200
    for u in data["units"]:
        u["leaders"] = {k: v * factor for k, v in u["leaders"].items()}
    for f in data["functions"]:
        f["officers"] *= factor
    pt = data["workload"]["project_types"][0]
    pt["arrivals"]["rate"] *= factor
    per_day = pt["arrivals"]["rate"] / 250
    warmup = 20.0
    data["simulation"].update({"horizon_days": round(warmup + applications / per_day, 1), "warmup_days": warmup})
    path = folder / "zone.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applications", type=int, default=1_000_000)
    parser.add_argument("--formats", default="csv,parquet,xes")
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        scenario = zone(ns.applications, folder)
        rows = []
        configurations = [("no log (peer)", None)] + [(f, folder / f"log.{f}") for f in ns.formats.split(",")]
        peer_wall = None
        for label, log in configurations:
            args = ["run", str(scenario), "--state", "before", "-r", "1", "--json"]
            if log is not None:
                args += ["--event-log", str(log)]
            wall, peak, out = _timed(args)
            assert json.loads(out)["stable"], "the scaled zone must be stable"
            size = log.stat().st_size / 2**20 if log is not None else 0.0
            peer_wall = peer_wall or wall
            rows.append((label, wall, wall / peer_wall, peak, size))
            if log is not None:
                log.unlink()
        applications = _applications(scenario)
    print(f"{applications:,} applications in the window ({scenario.name}: small_zone x200), one replication")
    print(f"{'configuration':<16}{'wall s':>9}{'x peer':>8}{'peak MB':>9}{'file MB':>9}")
    for label, wall, ratio, peak, size in rows:
        print(f"{label:<16}{wall:>9.1f}{ratio:>8.2f}{peak:>9.0f}{size:>9.0f}")
    worst = max(r[3] for r in rows)
    print(f"target: peak under {TARGET_MB} MB: {'met' if worst < TARGET_MB else 'NOT met'} (worst {worst:.0f} MB)")


def _timed(args: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB (the child's own, from wait4) and stdout."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-c", "from orgsim.cli import main; main()", *args],
                                stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"orgsim {' '.join(args)} failed:\n{err.read()}")
        return wall, usage.ru_maxrss / 1024, out.read()


def _applications(scenario: Path) -> int:
    data = yaml.safe_load(scenario.read_text(encoding="utf-8"))
    sim = data["simulation"]
    rate = data["workload"]["project_types"][0]["arrivals"]["rate"] / 250
    return int(rate * (sim["horizon_days"] - sim["warmup_days"]))


if __name__ == "__main__":
    main()
