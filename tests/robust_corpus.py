"""The robustness corpus (issue 19): hostile but careful inputs, each with what must happen.

``tests/data/robust/`` holds the scenario files (and traces) and
``expected.yaml`` the exact lines each case prints on standard error, with
exit code 2 and nothing written; a few cases must instead succeed with the
right numbers (``check``). ``tests/test_robustness.py`` runs every case in
process; run this module to run them in fresh processes, with a time limit,
and count the outcomes, for this code or another tree::

    python tests/robust_corpus.py                   # this checkout
    python tests/robust_corpus.py --tree /tmp/old   # another tree of orgsim (PYTHONPATH)

Each case runs under a 4 GiB address-space limit (``ORGSIM_CASE_MEMORY``)
and a 60 s time limit (``ORGSIM_CASE_TIMEOUT``). A case is *handled* when it
does what its manifest says; otherwise it ends
in a *traceback*, a *hang* (no exit within the time limit), *silent* (exit 0
where an error was due, or wrong numbers or files with exit 0), or *other*
(an error message, but not the one expected).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CORPUS = Path(__file__).parent / "data" / "robust"
MANIFEST = CORPUS / "expected.yaml"


@dataclass(frozen=True)
class Case:
    name: str
    args: list[str]
    #: Exact stderr lines ({dir}: the corpus copy's folder), exit code 2 and nothing written; or None with a check.
    stderr: list[str] | None = None
    check: str | None = None
    setup: str | None = None
    klass: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def load_cases() -> list[Case]:
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return [Case(name, spec["args"], spec.get("stderr"), spec.get("check"), spec.get("setup"), spec["class"])
            for name, spec in data.items()]


def prepare(folder: Path, case: Case) -> list[str]:
    """Copy the corpus into ``folder`` (a fresh one), make what the case needs, and give its arguments."""
    shutil.copytree(CORPUS, folder, symlinks=True, dirs_exist_ok=True)
    if case.setup == "fifo":
        os.mkfifo(folder / "fifo.yaml")
        os.mkfifo(folder / "traces" / "fifo.csv")
    if case.setup == "sparse":
        with open(folder / "sparse.yaml", "wb") as f:
            f.truncate(10 * 2**30)
    if case.setup == "trace_fifo":
        os.mkfifo(folder / "traces" / "fifo.csv")
    if case.setup == "two_traces":
        shutil.copy(folder / "traces" / "arrivals.csv", folder / "traces" / "arrivals_v1.csv")
    return [a.replace("{dir}", str(folder)) for a in case.args]


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            p = Path(root) / name
            st = p.lstat()
            out[str(p.relative_to(folder))] = (st.st_size, st.st_mtime_ns)
    return out


def _strict_json(text: str) -> Any:
    def refuse(constant: str) -> Any:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def _no_nan(folder: Path, stdout: str) -> str | None:
    try:
        _strict_json(stdout)
    except ValueError as exc:
        return str(exc)
    return None


def _distinct_queues(folder: Path, stdout: str) -> str | None:
    doc = _strict_json(stdout)
    pools = {b["pool"]: b for b in doc["bottlenecks"]}
    if "permits/deputies" not in pools or "permits:deputies" not in pools:
        return f"the function's and the leaders' queues are not apart: {sorted(pools)}"
    if pools["permits/deputies"]["servers"] != 3 or pools["permits:deputies"]["servers"] != 1:
        return "wrong servers"
    return None


def _leading_zero(folder: Path, stdout: str) -> str | None:
    doc = _strict_json(stdout)
    return None if doc["before"]["headcount"] == 5 + 3 + 10 + 2 else f"headcount {doc['before']['headcount']}"


def _formula_neutralised(folder: Path, stdout: str) -> str | None:
    import csv

    with open(folder / "out" / "replications.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    with open(folder / "sweep.csv", newline="", encoding="utf-8") as f:
        swept = list(csv.DictReader(f))
    cells = [v for row in rows + swept for v in row.values()]
    if any(v.startswith(("=", "+", "@")) for v in cells):
        return "a cell starts with a formula character"
    if not any(v.startswith("'=HYPERLINK") for v in cells):
        return "the swept value is missing"
    if any(v.startswith("'") and _is_number(v[1:]) for v in cells):
        return "a number was made text"
    return None


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _trace_in_hash(folder: Path, stdout: str) -> str | None:
    first = _strict_json((folder / "first.json").read_text())["scenario_sha256"]
    second = _strict_json(stdout)["scenario_sha256"]
    return None if first != second else "scenario_sha256 did not change when the trace did"


def _sweep_equals(folder: Path, stdout: str) -> str | None:
    return None if "=" in stdout else "the value '=' is not in the table"


CHECKS: dict[str, Callable[[Path, str], str | None]] = {
    "no_nan": _no_nan, "distinct_queues": _distinct_queues, "leading_zero": _leading_zero,
    "formula_neutralised": _formula_neutralised, "trace_in_hash": _trace_in_hash, "sweep_equals": _sweep_equals,
}


def before_check(folder: Path, case: Case, run: Callable[[list[str]], Any]) -> None:
    """What a check needs done first (an earlier run)."""
    if case.check == "trace_in_hash":
        result = run(["run", str(folder / "t09_trace_ok.yaml"), "-r", "2", "--json"])
        (folder / "first.json").write_text(result[1])
        with open(folder / "traces" / "arrivals.csv", "a", encoding="utf-8") as f:
            f.write("2020-01-30,x\n")
    if case.check == "formula_neutralised":
        run(["compare", str(folder / "s01_formula_in_a_name.yaml"), "-r", "2", "--out", str(folder / "out")])


def judge(case: Case, folder: Path, code: int | None, stdout: str, stderr: str, before: dict | None) -> str:
    """handled, traceback, hang, silent or other."""
    if code is None:
        return "hang"
    if "Traceback" in stderr or "Traceback" in stdout:
        return "traceback"
    if case.stderr is not None:
        if code == 0:
            return "silent"
        expected = [line.replace("{dir}", str(folder)) for line in case.stderr]
        if code != 2 or stderr.splitlines() != expected:
            return "other"
        if before is not None and snapshot(folder) != before:
            return "other"  # wrote something
        return "handled"
    if code != 0:
        return "other"
    try:
        problem = CHECKS[case.check or ""](folder, stdout)
    except (ValueError, KeyError, OSError) as exc:
        problem = str(exc)
    return "handled" if problem is None else "silent"


def run_in_process(folder: Path, args: list[str]) -> tuple[int, str, str]:
    """``orgsim ARGS`` in a fresh process (from ``folder``) with a time limit; (None, ...) when it hangs."""
    env = dict(os.environ)
    tree = os.environ.get("ORGSIM_TREE")
    if tree:
        env["PYTHONPATH"] = tree
    def limit_memory() -> None:
        # Code without the budget may read /dev/zero or build a huge run: cap it (4 GiB unless told).
        import resource

        cap = int(os.environ.get("ORGSIM_CASE_MEMORY", 4 * 2**30))
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    try:
        done = subprocess.run([sys.executable, "-c", "from orgsim.cli import main; main(prog_name='orgsim')", *args],
                              capture_output=True, text=True, timeout=float(os.environ.get("ORGSIM_CASE_TIMEOUT", 60)),
                              cwd=folder, env=env, preexec_fn=limit_memory)
    except subprocess.TimeoutExpired:
        return None, "", ""  # type: ignore[return-value]
    return done.returncode, done.stdout, done.stderr


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", help="run another tree of orgsim (put first on PYTHONPATH)")
    parser.add_argument("-k", help="only cases whose name contains this")
    options = parser.parse_args()
    if options.tree:
        os.environ["ORGSIM_TREE"] = options.tree
    counts: dict[str, int] = {}
    for case in load_cases():
        if options.k and options.k not in case.name:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "corpus"
            args = prepare(folder, case)
            before_check(folder, case, lambda a, here=folder: run_in_process(here, a))
            before = snapshot(folder)
            code, out, err = run_in_process(folder, args)
            outcome = judge(case, folder, code, out, err, before)
        counts[outcome] = counts.get(outcome, 0) + 1
        last = (err.strip().splitlines() or [""])[-1][:150]
        print(f"{outcome:9} {case.klass:8} {case.name:36} exit={code} {last}", flush=True)
    print(json.dumps({"cases": sum(counts.values()), **counts}))


if __name__ == "__main__":
    main()
