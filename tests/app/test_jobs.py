"""A run in a worker thread: the numbers of compare(), progress as it goes, cancel, one run at a time."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from orgsim.app.jobs import Run, RunRequest, RunSlot
from orgsim.experiment import compare
from orgsim.scenario import load_scenario

TUTORIAL = Path(__file__).resolve().parents[2] / "scenarios" / "tutorial.yaml"


@pytest.fixture(scope="module")
def scenario():  # type: ignore[no-untyped-def]
    return load_scenario(TUTORIAL)


def test_a_run_gives_the_numbers_of_compare(scenario) -> None:  # type: ignore[no-untyped-def]
    run = Run(RunRequest(scenario, replications=2, seed=11))
    thread = threading.Thread(target=run.execute)
    thread.start()
    thread.join(120)
    assert run.finished and run.error is None and not run.cancelled
    assert run.result is not None
    assert run.result.to_dict() == compare(scenario, replications=2, seed=11).to_dict()
    assert (run.done, run.total) == (4, 4)


def test_a_cancelled_run_stops_at_the_next_replication(scenario) -> None:  # type: ignore[no-untyped-def]
    run = Run(RunRequest(scenario, replications=20, seed=1))
    seen: list[int] = []
    progress = run._progress  # noqa: SLF001 - wrapped to cancel after the first replication

    def cancel_after_first(done: int, total: int) -> None:
        seen.append(done)
        if done == 1:
            run.cancel()
        progress(done, total)

    run._progress = cancel_after_first  # type: ignore[method-assign] # noqa: SLF001
    assert run.execute() is None
    assert run.cancelled and run.result is None and run.error is None and run.finished
    assert seen == [1]


def test_a_new_run_cancels_the_one_going_and_starts_after_it_has_ended(scenario) -> None:  # type: ignore[no-untyped-def]
    slot = RunSlot()
    events: list[str] = []
    first = slot.start(RunRequest(scenario, replications=30, seed=1))
    started = threading.Event()
    progress = first._progress  # noqa: SLF001

    def slow(done: int, total: int) -> None:
        started.set()
        events.append("first")
        progress(done, total)

    first._progress = slow  # type: ignore[method-assign] # noqa: SLF001
    t1 = threading.Thread(target=first.execute)
    t1.start()
    assert started.wait(60)
    assert slot.running
    second = slot.start(RunRequest(scenario, replications=1, seed=2))
    assert second.after is first
    finished_first = first._finished  # noqa: SLF001
    progress2 = second._progress  # noqa: SLF001

    def check(done: int, total: int) -> None:
        events.append("second:" + ("after" if finished_first.is_set() else "DURING"))
        progress2(done, total)

    second._progress = check  # type: ignore[method-assign] # noqa: SLF001
    t2 = threading.Thread(target=second.execute)
    t2.start()
    t1.join(120)
    t2.join(120)
    assert first.cancelled and first.result is None
    assert second.result is not None and not second.cancelled
    assert "second:DURING" not in events and events[-1] == "second:after"
    assert slot.cancel() is None and not slot.running


def test_an_error_is_kept_and_shown_not_raised_into_the_page(scenario) -> None:  # type: ignore[no-untyped-def]
    run = Run(RunRequest(scenario, replications=1, seed=-1))  # SeedSequence refuses a negative seed
    assert run.execute() is None
    assert run.error is not None and run.finished
