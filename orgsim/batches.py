"""Replications on an executor: blocks of runs, common random numbers, and runs reused.

A *state* (an organisation of one scenario) is prepared once, in the process
that asks for runs: its compiled plan, its traced arrival times, the working
calendar and the settings, as a :class:`StateSetup` with an identity that
says everything a run depends on but its seed. Replication ``r`` of ``R``
with seed ``s`` uses ``SeedSequence(s).spawn(R)[r]`` whichever state it
simulates, so states are compared on common random numbers.

:func:`run_groups` runs groups of :class:`RunRequest` (a comparison's two
states, a sweep point's) on an executor in blocks of replications; the
worker that simulates a run reduces it at once to its
:class:`~orgsim.sim.summary.RunSummary`, so only summaries travel back. A run
asked for twice (the same state at several sweep points, or before and after
with no reform) is simulated once: in flight it is shared, and done it is
kept in a :class:`RunCache`, an object its owner passes in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import numpy as np

from orgsim.errors import OrgsimError, Problem

if TYPE_CHECKING:
    from orgsim.eventlog.writer import LogSpec
    from orgsim.executors import Executor
    from orgsim.scenario.schema import Engine
    from orgsim.sim.calendar import WorkingCalendar
    from orgsim.sim.plan import Plan
    from orgsim.sim.results import RunResult
    from orgsim.sim.summary import RunSummary

__all__ = ["StateSetup", "RunRequest", "RunBlock", "RunCache", "simulate_block", "run_groups"]

G = TypeVar("G")


@dataclass(frozen=True, eq=False)
class StateSetup:
    """Everything one state's runs depend on except the seed; picklable, made once per state."""

    plan: Plan
    #: Project type id -> traced arrival times in working days (types with a trace only).
    arrival_times: Mapping[str, np.ndarray]
    calendar: WorkingCalendar
    horizon_days: float
    warmup_days: float
    engine: Engine
    #: SHA-256 (hex) of the plan, the settings, the calendar and the contents of every trace file.
    identity: str

    def simulate(self, seed_seq: np.random.SeedSequence, keep_records: bool = False,
                 event_sink: Callable[[np.ndarray], None] | None = None) -> RunResult:
        """One run on the seed sequence ``seed_seq``, with its arrays (and its events to ``event_sink``)."""
        from orgsim.sim.engine import simulate_plan
        from orgsim.sim.streams import RandomStreams

        return simulate_plan(
            self.plan, RandomStreams(seed_seq), self.horizon_days, self.warmup_days,
            keep_records=keep_records, arrival_times=dict(self.arrival_times), calendar=self.calendar,
            engine=self.engine,
            event_sink=event_sink,
        )


def state_identity(plan: Plan, settings: Sequence[Any], trace_sha256: Mapping[str, str]) -> str:
    """The identity of a state: a hash of what its runs depend on (see :class:`StateSetup`)."""
    what = repr((plan, tuple(settings), sorted(trace_sha256.items())))
    return hashlib.sha256(what.encode("utf-8")).hexdigest()


@dataclass(frozen=True, eq=False)
class RunRequest:
    """Replication ``replication`` of ``replications`` of a state, with seed ``seed``."""

    setup: StateSetup
    seed: int
    replications: int
    replication: int
    keep_records: bool = False
    #: Write the run's event log part (orgsim.eventlog.writer.LogSpec), or None.
    event_log: LogSpec | None = None

    @property
    def key(self) -> str:
        """Everything that determines the run (its summary is a function of this); a logged run is its own."""
        log = "" if self.event_log is None else f":{self.event_log.part_path(self.replication)}"
        return (f"{self.setup.identity}:{self.seed}:{self.replications}:{self.replication}:"
                f"{int(self.keep_records)}{log}")


@dataclass(frozen=True, eq=False)
class RunBlock:
    """Replications ``first`` to ``stop - 1`` of one state: a unit of work for an executor."""

    setup: StateSetup
    seed: int
    replications: int
    first: int
    stop: int
    keep_records: bool = False
    #: The label of the group that asked for these runs first (a sweep's point); the worker ignores it.
    group: Any = None
    event_log: LogSpec | None = None


@dataclass(frozen=True)
class _Failure:
    """An OrgsimError raised in a worker, carried back whole (its problems survive pickling)."""

    kind: type
    message: str
    problems: tuple[Problem, ...]


def simulate_block(block: RunBlock) -> tuple[RunSummary, ...] | _Failure:
    """Simulate a block of replications and reduce each run to its summary (runs in a worker)."""
    from orgsim.sim.streams import replication_seeds
    from orgsim.sim.summary import summarise_run

    seeds = replication_seeds(block.seed, block.replications)
    out = []
    try:
        for r in range(block.first, block.stop):
            if block.event_log is None:
                run = block.setup.simulate(seeds[r], block.keep_records)
            else:  # the run's events go to its part of the log as they come
                from orgsim.eventlog.writer import LogPart

                part = LogPart(block.event_log, r, block.setup.calendar)
                try:
                    run = block.setup.simulate(seeds[r], block.keep_records, event_sink=part)
                except BaseException:
                    part.close(complete=False)
                    raise
                part.close()
            out.append(summarise_run(run, block.setup.plan))
            del run  # the arrays go before the next run makes its own
    except OrgsimError as exc:
        return _Failure(type(exc), str(exc), tuple(exc.problems))
    return tuple(out)


class RunCache:
    """Summaries of runs already simulated, by everything that determines them.

    A sweep over reform levers meets the same organisation before its reforms
    at every point (and sometimes the same one after): each such run is
    simulated once and reused, which is exact, since a run is a function of
    its :attr:`RunRequest.key`. Bounded by ``max_bytes`` (oldest dropped
    first). Whoever owns the cache decides how long it lives: :func:`orgsim.sweep.sweep`
    makes one per call unless handed one; nothing is kept between calls.
    """

    def __init__(self, max_bytes: int = 64 * 2**20) -> None:
        self.max_bytes = max_bytes
        self._runs: dict[str, RunSummary] = {}  # oldest first
        self._size = 0
        #: Runs answered from the cache.
        self.hits = 0

    def __len__(self) -> int:
        return len(self._runs)

    def get(self, key: str) -> RunSummary | None:
        found = self._runs.pop(key, None)
        if found is not None:
            self.hits += 1
            self._runs[key] = found  # now the newest
        return found

    def put(self, key: str, summary: RunSummary) -> None:
        if key in self._runs:
            return
        self._runs[key] = summary
        self._size += _nbytes(summary)
        while self._size > self.max_bytes and self._runs:
            self._size -= _nbytes(self._runs.pop(next(iter(self._runs))))

    def clear(self) -> None:
        self._runs.clear()
        self._size = 0


def _nbytes(summary: RunSummary) -> int:
    """Roughly what a summary holds: its sketches, its records and a fixed part."""
    sketches = sum(s.quantiles.nbytes for t in summary.project_types for s in t.sketches.values())
    return 4096 + 512 * len(summary.pools) + sketches + 400 * len(summary.records)


@dataclass
class _Group(Generic[G]):
    label: G
    results: list[Any]
    missing: int


def run_groups(
    groups: Iterable[tuple[G, Sequence[RunRequest]]],
    executor: Executor,
    *,
    cache: RunCache | None = None,
    block_size: int | Callable[[RunRequest], int] = 1,
    on_runs: Callable[[int], None] | None = None,
) -> Iterator[tuple[G, list[RunSummary]]]:
    """Yield ``(label, summaries)`` for each group as its runs are all in (in the order they finish).

    ``groups`` gives ``(label, requests)``; a label is any small value (it
    goes with the group's blocks to the executor, see :attr:`RunBlock.group`).

    ``summaries`` are in the order of the group's requests. Groups are taken
    from ``groups`` lazily, as the executor has room for their blocks, so a
    caller can prepare each group (parse, reform, compile) just before it is
    needed. Consecutive requests of one state and seed are simulated in
    blocks of at most ``block_size`` replications (a number, or a function
    of the block's first request). ``on_runs(k)`` is called
    as ``k`` more requests are answered (simulated, shared or from the cache).
    """
    pending: dict[int, _Group[G]] = {}
    waiting: dict[str, list[tuple[int, int]]] = {}  # key -> (group, index) answered by that run
    done: list[int] = []  # groups whose runs are all in, not yet yielded

    def answer(key: str, summary: RunSummary) -> None:
        for gid, i in waiting.pop(key):
            group = pending[gid]
            group.results[i] = summary
            group.missing -= 1
            if group.missing == 0:
                done.append(gid)
        if cache is not None:
            cache.put(key, summary)

    def blocks() -> Iterator[RunBlock]:
        for gid, (label, requests) in enumerate(groups):
            group: _Group[G] = _Group(label, [None] * len(requests), len(requests))
            pending[gid] = group
            todo: list[RunRequest] = []
            answered = 0
            for i, req in enumerate(requests):
                key = req.key
                hit = cache.get(key) if cache is not None else None
                if hit is not None:
                    group.results[i] = hit
                    group.missing -= 1
                    answered += 1
                elif key in waiting:  # simulated already for another request
                    waiting[key].append((gid, i))
                else:
                    waiting[key] = [(gid, i)]
                    todo.append(req)
            if answered and on_runs is not None:
                on_runs(answered)
            if group.missing == 0:
                done.append(gid)
            yield from _blocks_of(todo, block_size, label)

    def finished() -> Iterator[tuple[G, list[RunSummary]]]:
        while done:
            group = pending.pop(done.pop(0))
            yield group.label, group.results

    for block, result in executor.map_unordered(simulate_block, blocks()):
        if isinstance(result, _Failure):
            raise result.kind(result.message, list(result.problems))
        for r, summary in zip(range(block.first, block.stop), result, strict=True):
            key = RunRequest(block.setup, block.seed, block.replications, r, block.keep_records, block.event_log).key
            shared = len(waiting[key])
            answer(key, summary)
            if on_runs is not None:
                on_runs(shared)
        yield from finished()
    yield from finished()
    if pending:  # pragma: no cover - every request is answered or raised above
        raise RuntimeError(f"{len(pending)} group(s) left without results")


def _blocks_of(
    requests: Sequence[RunRequest], size: int | Callable[[RunRequest], int], group: Any = None
) -> Iterator[RunBlock]:
    """Runs of consecutive replications of one state and seed, at most ``size`` at a time."""
    start = 0
    while start < len(requests):
        first = requests[start]
        limit = max(1, size(first) if callable(size) else size)
        stop = start + 1
        while (stop < len(requests) and stop - start < limit
               and requests[stop].setup is first.setup and requests[stop].seed == first.seed
               and requests[stop].replications == first.replications
               and requests[stop].keep_records == first.keep_records
               and requests[stop].event_log == first.event_log
               and requests[stop].replication == requests[stop - 1].replication + 1):
            stop += 1
        yield RunBlock(first.setup, first.seed, first.replications, first.replication,
                       first.replication + stop - start, first.keep_records, group, first.event_log)
        start = stop
