"""Robustness, round two (issue 19): the corpus, output sets, locks, budgets and trust boundaries.

The corpus (``tests/data/robust``, described in ``tests/robust_corpus.py``)
runs here in process; ``python tests/robust_corpus.py`` runs it in fresh
processes with time and memory limits and counts the outcomes.
"""

from __future__ import annotations

import errno
import json
import os
import random  # noqa: TID251 - the moments of the kills, not a model's draws
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

import robust_corpus as rc
from orgsim.cli import main

CASES = rc.load_cases()
ROOT = Path(__file__).resolve().parents[1]


def _invoke(folder: Path, args: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    monkeypatch.chdir(folder)
    result = CliRunner().invoke(main, args, prog_name="orgsim")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback: the test fails with it
    return result.exit_code, result.stdout, result.stderr


def test_the_corpus_covers_every_class_and_each_case_says_what_must_happen() -> None:
    classes = {c.klass for c in CASES}
    assert classes == {"numeric", "loops", "checks", "yaml", "ids", "json", "budget", "inputs", "trust", "output"}
    assert len(CASES) >= 60
    for case in CASES:
        assert (case.stderr is None) != (case.check is None), case.name
        if case.stderr is not None:
            assert case.stderr and all("Traceback" not in line for line in case.stderr), case.name
            assert case.stderr[-1].startswith(("error: ", "Error: ")), case.name
    # Errors never echo what a trace file holds.
    for case in CASES:
        for line in case.stderr or []:
            assert "secret-token-42" not in line and "root:" not in line and "localhost" not in line


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_case(case: rc.Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "corpus"
    args = rc.prepare(folder, case)
    rc.before_check(folder, case, lambda a: _invoke(folder, a, monkeypatch))
    before = rc.snapshot(folder)
    code, out, err = _invoke(folder, args, monkeypatch)
    assert rc.judge(case, folder, code, out, err, before) == "handled", (code, err)


# ---------------------------------------------------------------- output sets


def _set_is_complete(out: Path) -> dict[str, str]:
    """The output set in ``out``, checked against its manifest: every file named, each with its hash."""
    import hashlib

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    files = manifest["files"]
    assert sorted(p.name for p in out.iterdir()) == sorted([*files, "manifest.json"])
    for name, sha in files.items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == sha, name
    return files


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if ".orgsim-" in p.name or p.name.endswith(".part")]


@pytest.mark.parametrize(("error", "reason"), [(errno.ENOSPC, "No space left on device"),
                                               (errno.EACCES, "Permission denied"),
                                               (errno.EROFS, "Read-only file system")])
def test_an_os_error_on_output_is_one_line_and_the_previous_set_stays(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: int, reason: str) -> None:
    import orgsim.cli.simulate as cs

    scenario = rc.CORPUS / "base.yaml"
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["compare", str(scenario), "-r", "2", "--out", str(out)]).exit_code == 0
    previous = {p.name: p.read_bytes() for p in out.iterdir()}

    def failing(frame: object, path: Path) -> None:
        raise OSError(error, os.strerror(error), str(path))

    monkeypatch.setattr(cs, "write_csv", failing)
    result = CliRunner().invoke(main, ["compare", str(scenario), "-r", "3", "--out", str(out)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"error: cannot write {out}: {reason}"]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == previous
    assert _leftovers(tmp_path) == []


def test_a_set_left_aside_by_a_killed_writer_comes_back_and_stale_folders_go(tmp_path: Path) -> None:
    from orgsim._io import write_output_set

    out = tmp_path / "out"
    write_output_set(out, {"a.txt": lambda p: p.write_text("old")})
    # A writer killed between its two renames (no exchange): the previous set is aside, none in place.
    dead = 2**22 + 12345  # no such process
    while True:
        try:
            os.kill(dead, 0)
            dead += 1
        except ProcessLookupError:
            break
    os.rename(out, tmp_path / f".out.orgsim-old-{dead}-x")
    (tmp_path / f".out.orgsim-new-{dead}-y").mkdir()
    write_output_set(out, {"a.txt": lambda p: p.write_text("new")})
    assert (out / "a.txt").read_text() == "new"
    assert _leftovers(tmp_path) == []
    _set_is_complete(out)


def _orgsim(command: list[str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "from orgsim.cli import main; main(prog_name='orgsim')", *command],
                            cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _kill_at_random_moments(command: list[str], measure: list[str], trials: int, seed: int,
                            check: Callable[[], None], cwd: Path) -> int:
    """Run ``command`` ``trials`` times, each killed (SIGKILL) at a seeded random moment of its run; check what is left.

    The moments are drawn across the time a whole run takes here (``measure``,
    the same command writing elsewhere, timed first), so they fall in its
    start, its simulation and its writing alike.
    """
    started = time.monotonic()
    assert _orgsim(measure, cwd).wait(timeout=300) == 0
    longest = time.monotonic() - started
    rng = random.Random(seed)
    killed = 0
    for _ in range(trials):
        proc = _orgsim(command, cwd)
        time.sleep(rng.uniform(0.0, longest))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            killed += 1
        proc.wait(timeout=60)
        check()
    return killed


def test_kill_9_during_compare_out_leaves_the_old_set_or_the_new_one(tmp_path: Path) -> None:
    scenario = tmp_path / "base.yaml"
    shutil.copy(rc.CORPUS / "base.yaml", scenario)
    out = tmp_path / "out"
    args = ["compare", str(scenario), "-r", "3", "--records", "--out", str(out)]
    assert CliRunner().invoke(main, ["compare", str(scenario), "-r", "2", "--out", str(out)]).exit_code == 0
    old = {p.name: p.read_bytes() for p in out.iterdir()}
    # The whole set, results.xlsx included (issue 18 added it to every --out).
    new_names = {"manifest.json", "summary.json", "replications.csv", "records.csv", "results.xlsx"}
    seen = {"old": 0, "new": 0}

    def check() -> None:
        files = {p.name: p.read_bytes() for p in out.iterdir()}
        if files == old:
            seen["old"] += 1
        else:
            assert set(files) == new_names  # the whole new set, never a mix
            _set_is_complete(out)
            assert json.loads(files["summary.json"])["replications"] == 3
            seen["new"] += 1
        # A writer's temporary folder may remain after kill -9; the next write removes it.

    measure = [*args[:-1], str(tmp_path / "timed")]
    killed = _kill_at_random_moments(args, measure, trials=8, seed=19, check=check, cwd=tmp_path)
    assert killed >= 4  # the moments fall while it runs, mostly
    assert CliRunner().invoke(main, args).exit_code == 0
    _set_is_complete(out)
    assert _leftovers(tmp_path) == []


def test_kill_9_during_sweep_out_leaves_the_old_table_or_the_new_one(tmp_path: Path) -> None:
    import pandas as pd

    from orgsim.sweep import read_table

    scenario = tmp_path / "base.yaml"
    shutil.copy(rc.CORPUS / "base.yaml", scenario)
    out = tmp_path / "table.csv"
    vary = ["--vary", "units[id=permits].support=1,2,3", "--vary", "simulation.horizon_days=40,60"]
    old_args = ["sweep", str(scenario), "-r", "1", *vary, "--out", str(out)]
    assert CliRunner().invoke(main, old_args).exit_code == 0
    old = out.read_bytes()
    args = ["sweep", str(scenario), "-r", "2", *vary, "--out", str(out)]
    expected = CliRunner().invoke(main, [*args[:-1], str(tmp_path / "reference.csv")])
    assert expected.exit_code == 0
    reference = read_table(tmp_path / "reference.csv")

    def check() -> None:
        data = out.read_bytes()
        if data != old:
            pd.testing.assert_frame_equal(read_table(out), reference)  # whole, and the right numbers

    measure = [*args[:-1], str(tmp_path / "timed.csv")]
    killed = _kill_at_random_moments(args, measure, trials=6, seed=190, check=check, cwd=tmp_path)
    assert killed >= 3
    # Run again: it resumes from the points kept, and the table is the uninterrupted one.
    assert CliRunner().invoke(main, args).exit_code == 0
    pd.testing.assert_frame_equal(read_table(out), reference)
    assert not (tmp_path / "table.csv.parts").exists()
    assert _leftovers(tmp_path) == []  # the table's temporary files of killed writes are gone too


def test_a_second_sweep_on_one_out_is_refused_while_the_first_runs(tmp_path: Path) -> None:
    from orgsim.sweep.journal import Journal, parts_directory

    out = tmp_path / "table.csv"
    holder = Journal(parts_directory(out), {})
    with holder.lock():
        result = CliRunner().invoke(main, ["sweep", str(rc.CORPUS / "base.yaml"), "-r", "1",
                                           "--vary", "units[id=permits].support=1,2", "--out", str(out)])
        assert result.exit_code == 2
        assert result.stderr.splitlines() == [
            f"error: another sweep is writing to this output (its working folder {parts_directory(out)} is locked); "
            "wait for it to finish, or use another --out"]
        assert list(parts_directory(out).iterdir()) == []  # the first sweep's folder untouched
    # Once the first is done, the next one runs.
    assert CliRunner().invoke(main, ["sweep", str(rc.CORPUS / "base.yaml"), "-r", "1",
                                     "--vary", "units[id=permits].support=1,2", "--out", str(out)]).exit_code == 0


# ---------------------------------------------------------------- cells, budget, cluster


@pytest.mark.parametrize(("cell", "written"), [
    ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("+1+2", "'+1+2"), ("-cmd", "'-cmd"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("-1.5", "-1.5"), ("+3", "+3"), ("plain", "plain"), (-2.0, -2.0), (3, 3),
])
def test_csv_cells_a_spreadsheet_would_run_are_neutralised_and_numbers_stay(cell: object, written: object) -> None:
    from orgsim._io import neutralise_cell

    assert neutralise_cell(cell) == written


def test_a_memory_limit_can_be_raised_and_validate_says_the_same_as_compare(monkeypatch: pytest.MonkeyPatch) -> None:
    name = "b01_thousands_of_parallel_steps.yaml"
    monkeypatch.chdir(rc.CORPUS)
    refused = CliRunner().invoke(main, ["validate", name])
    assert refused.exit_code == 2 and "the limit is 4.0 GiB" in refused.stderr
    assert CliRunner().invoke(main, ["validate", "--max-memory", "64G", name]).exit_code == 0
    from orgsim.cli import COMMANDS

    for command in set(COMMANDS) - {"schema"}:  # every command that reads a scenario
        usage = CliRunner().invoke(main, [command, "--help"]).stdout
        assert "--max-memory SIZE" in usage and "--allow-outside" in usage, command
    bad = CliRunner().invoke(main, ["validate", "--max-memory", "lots", name])
    assert bad.exit_code == 2 and "'lots' is not a size" in bad.stderr


def test_the_memory_estimate_bounds_what_a_run_uses() -> None:
    """The estimate is an upper bound of a run's peak memory (measured in a fresh process)."""
    from orgsim.budget import BASE_BYTES, MemoryEstimate

    # VmHWM: this process's peak resident memory (ru_maxrss would keep the forking parent's across exec).
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc (Linux) to read a process's peak memory")
    code = ("import sys\nfrom orgsim.scenario import load_scenario\nfrom orgsim.experiment import simulate\n"
            "s = load_scenario(sys.argv[1], max_memory_bytes=2**40)\n"
            "simulate(s, 'before', replications=1)\n"
            "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]\n"
            "print(int(hwm.split()[1]) * 1024)")
    text = (rc.CORPUS / "base.yaml").read_text(encoding="utf-8")
    steps = "\n".join(f"        - {{id: s{i}, function: review}}" for i in range(400))
    path_ = "        - {id: file, function: filing}\n        - {id: check, function: review, after: [file]}"
    text = text.replace(path_, steps).replace("rate: 1, per: day", "rate: 20, per: day")
    text = text.replace("officers: 3,", "officers: 400,")
    folder = Path(os.environ.get("TMPDIR", "/tmp"))
    scenario = folder / f"orgsim-budget-{os.getpid()}.yaml"
    scenario.write_text(text, encoding="utf-8")
    try:
        peak = int(subprocess.run([sys.executable, "-c", code, str(scenario)], capture_output=True, text=True,
                                  check=True, timeout=300).stdout)
    finally:
        scenario.unlink()
    estimate = MemoryEstimate(applications=20 * 60, steps=400, replications=1)
    assert peak <= estimate.total(1)
    assert estimate.total(1) <= 4 * peak  # an upper bound, not a wild one
    assert estimate.total(1) >= BASE_BYTES


def test_the_local_dask_cluster_is_private() -> None:
    pytest.importorskip("distributed")
    from dask.distributed import Client

    from orgsim.executors import DaskExecutor

    with DaskExecutor(workers=1) as ex:
        address = ex._cluster.scheduler_address
        assert address.startswith("tls://127.0.0.1:")
        assert ex.map_unordered is not None and list(ex.map_unordered(abs, [-3])) == [(-3, 3)]
        with pytest.raises((TypeError, OSError, ValueError)):
            Client(address, timeout="3s")  # no certificate: no connection
