"""One comparison at a time, in a worker thread, with progress and a way to stop it.

The page starts a run and goes on serving: the simulation runs in a thread
(the serial executor, as ``orgsim compare`` runs by default, so the numbers
are the command's), reports ``(done, total)`` as each replication finishes,
and stops at the next replication when cancelled. A :class:`RunSlot` holds at
most one run: a new one waits until the one before has really stopped, so two
runs never compete for the cores or for the page.

No web framework here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orgsim.experiment import Comparison
    from orgsim.scenario.schema import Scenario

__all__ = ["RunCancelled", "RunRequest", "Run", "RunSlot"]


class RunCancelled(Exception):
    """Raised inside a run's thread when it was cancelled; the run ends without a result."""


@dataclass(frozen=True)
class RunRequest:
    """What to simulate: a scenario (the page's settings applied), replications and seed."""

    scenario: Scenario
    replications: int
    seed: int
    #: The settings the page had when it asked (to tell whether the results are still current).
    settings: Any = None


@dataclass
class Run:
    """A run in progress or finished: its progress, and its result or error."""

    request: RunRequest
    done: int = 0
    total: int = 0
    result: Comparison | None = None
    error: BaseException | None = None
    cancelled: bool = False
    #: The run before this one in its slot: this one starts simulating once that one has ended.
    after: Run | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _finished: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        """Ask the run to stop after the replication it is on."""
        self._stop.set()

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the run has ended (finished, failed or stopped)."""
        return self._finished.wait(timeout)

    def _progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        if self._stop.is_set():
            raise RunCancelled

    def execute(self) -> Comparison | None:
        """Simulate, in the calling thread: the result, or None when cancelled or failed (the error is kept in
        :attr:`error`)."""
        from orgsim.experiment import Comparison, compare

        req = self.request
        self.total = 2 * req.replications
        try:
            if self.after is not None:
                self.after.wait()
            if self._stop.is_set():
                raise RunCancelled
            result = compare(req.scenario, replications=req.replications, seed=req.seed, progress=self._progress)
            assert isinstance(result, Comparison), "orgsim app refuses scenarios with packages"
            self.result = result
            return self.result
        except RunCancelled:
            self.cancelled = True
            return None
        except Exception as exc:  # shown on the page; the server goes on
            self.error = exc
            return None
        finally:
            self._finished.set()


class RunSlot:
    """Holds the one run of a page: a new run starts only after the previous one has ended."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.current: Run | None = None

    def start(self, request: RunRequest) -> Run:
        """A new run for ``request``; the one before it is cancelled, and the new one starts simulating when that
        one has ended. Call :meth:`Run.execute` in a thread."""
        with self._lock:
            previous = self.current
            if previous is not None:
                previous.cancel()
            run = Run(request, after=previous if previous is not None and not previous.finished else None)
            self.current = run
        return run

    def cancel(self) -> Run | None:
        """Cancel the current run, if one is going; the run cancelled."""
        with self._lock:
            run = self.current
        if run is not None and not run.finished:
            run.cancel()
            return run
        return None

    @property
    def running(self) -> bool:
        run = self.current
        return run is not None and not run.finished
