"""The points of a sweep: the scenario document with levers set, and their comparisons on an executor.

Each point is the scenario with its levers' values set, validated again like
a file (a bad value gives an error naming the field and the point), reformed
and compiled in this process, then compared before and after its reforms with
the same seed: replication ``r`` of every point uses
``SeedSequence(seed).spawn(R)[r]``, so points are compared on common random
numbers, and a point's rows equal
``compare(point_scenario, replications=R, seed=seed).to_frame()``. The runs go
to an executor (:mod:`orgsim.batches`); a state met again at another point is
simulated once (:class:`~orgsim.batches.RunCache`).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orgsim.errors import OrgsimError, Problem, ScenarioError, SweepError
from orgsim.scenario.schema import Scenario, SimulationSpec
from orgsim.sweep.levers import Loc, Vary, describe_settings

if TYPE_CHECKING:
    import pandas as pd

    from orgsim.batches import RunCache
    from orgsim.executors import Executor

__all__ = [
    "TASKS_PER_WORKER",
    "Base",
    "load_base",
    "point_document",
    "point_text",
    "parse_point",
    "at_point",
    "check_levers",
    "setting",
    "Points",
]

#: Tasks per worker a sweep aims for, splitting points into blocks of
#: replications when there are too few points to keep every worker busy.
TASKS_PER_WORKER = 4


@dataclass(frozen=True)
class Base:
    """The scenario a sweep starts from: its document, where it came from, its hash."""

    data: dict[str, Any]
    source: str
    base_dir: Path | None
    sha256: str
    #: The traces the loader read, used by every point; where else traces may be; the memory limit.
    traces: Mapping[tuple[str, str], Any] = field(default_factory=dict)
    allow_outside: bool = False
    max_memory: float | None = None


def load_base(scenario: str | Path | Scenario, *, allow_outside: bool = False, max_memory: float | None = None) -> Base:
    """The document of a scenario file (or of a loaded scenario), checked by loading it."""
    from orgsim.scenario import load_scenario

    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(
        scenario, allow_outside=allow_outside, max_memory_bytes=max_memory)
    if loaded.packages:
        raise SweepError(f"{loaded.source_file}: the scenario compares packages {', '.join(loaded.packages)}; a "
                         "sweep compares the state before with one reform list: write the package to sweep as "
                         "`reforms` in a scenario of its own")
    # The document as the loader read it (YAML 1.2 core types), not as another YAML reader would.
    return Base(loaded.document(), loaded.source_file, loaded.base_dir, loaded.sha256, loaded.traces,
                allow_outside, max_memory)


def point_document(base: Base, settings: Sequence[tuple[Vary, Any]]) -> dict[str, Any]:
    """The base document with the levers set (an operator or phase toggled off is left out)."""
    doc = copy.deepcopy(base.data)
    removed: list[Loc] = []
    for vary, value in settings:
        if vary.toggle:
            if not value:
                removed.append(vary.loc)
            continue
        node: Any = doc
        for part in vary.loc[:-1]:
            if isinstance(node, dict) and node.get(part) is None:
                node[part] = {}
            node = node[part]
        node[vary.loc[-1]] = value
    # Deepest and last first, so that earlier indices stay valid.
    for loc in sorted(removed, reverse=True):
        parent: Any = doc
        for part in loc[:-1]:
            parent = parent[part]
        del parent[loc[-1]]
    if removed:
        doc["reforms"] = [
            item for item in doc.get("reforms") or []
            if not (isinstance(item, dict) and "phase" in item and not item.get("reforms"))
        ]
    return doc


def point_text(base: Base, settings: Sequence[tuple[Vary, Any]]) -> str:
    """A point's document as YAML text, which the loader reads back as the document it was."""
    from orgsim.scenario._yaml import dump_core

    return dump_core(point_document(base, settings))


def at_point(exc: OrgsimError, base: Base, settings: Sequence[tuple[Vary, Any]]) -> OrgsimError:
    """The error re-told against the user's file and the point that caused it."""
    where = describe_settings(settings)
    problems = [Problem(p.path, f"{p.message} (at {where})", base.source, None) for p in exc.problems]
    if not problems:
        problems = [Problem("", f"{exc} (at {where})", base.source, None)]
    return type(exc)(f"{base.source}: at {where}: {exc}", problems)


def parse_point(base: Base, settings: Sequence[tuple[Vary, Any]], text: str | None = None) -> Scenario:
    """A point's scenario, validated like a file; an error names the point."""
    from orgsim.scenario import parse_scenario

    text = point_text(base, settings) if text is None else text
    try:
        return parse_scenario(text, base.source, base.base_dir, allow_outside=base.allow_outside,
                              traces=base.traces, max_memory_bytes=base.max_memory)
    except ScenarioError as exc:
        raise at_point(exc, base, settings) from None


def check_levers(base: Base, varies: Sequence[Vary]) -> None:
    """Every value of every lever, one lever at a time, loads and its reforms apply.

    Cheap (one validation per value, not per point) and done before any
    simulation, so that a typo fails in a second rather than an hour in.
    """
    from orgsim.reforms import reform_scenario

    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    first: OrgsimError | None = None
    for vary in varies:
        for value in vary.values:
            settings = [(vary, value)]
            try:
                reform_scenario(parse_point(base, settings))
            except OrgsimError as exc:
                err = exc if isinstance(exc, ScenarioError) else at_point(exc, base, settings)
                first = first or err
                for p in err.problems:
                    # The same problem for every value (an unknown field) is told once.
                    key = (p.path, p.message.rsplit(" (at ", 1)[0])
                    if key not in seen:
                        seen.add(key)
                        problems.append(p)
    if first is not None:
        raise type(first)(str(first), problems)


def setting(doc: dict[str, Any], name: str) -> Any:
    """A ``simulation`` setting of a point's document, or its default."""
    sim = doc.get("simulation") or {}
    return sim.get(name, SimulationSpec.model_fields[name].default) if isinstance(sim, dict) else None


@dataclass
class Points:
    """Points to evaluate: their settings, and what each one needs."""

    base: Base
    settings: list[list[tuple[Vary, Any]]]
    seed: int | None
    replications: int | None

    def replications_of(self, i: int) -> int:
        if self.replications is not None:
            return self.replications
        value = setting(point_document(self.base, self.settings[i]), "replications")
        return int(value) if isinstance(value, int) else 1

    def run(
        self, todo: Sequence[int], executor: Executor, on_runs: Callable[[int], None] | None = None,
        cache: RunCache | None = None,
    ) -> Iterator[tuple[int, pd.DataFrame]]:
        """Yield ``(point, frame)`` as each point's replications are all in.

        ``on_runs(k)`` is called as ``k`` more runs (a replication of a
        state) are done; ``cache`` keeps runs for other points (and calls).
        """
        from orgsim.batches import run_groups

        workers = executor.workers
        # Blocks of replications: one per state when there are points enough
        # to keep every worker busy, smaller otherwise.
        per_point = 1 if workers <= 1 or len(todo) >= TASKS_PER_WORKER * workers else math.ceil(
            TASKS_PER_WORKER * workers / max(1, len(todo)))
        prepared: dict[int, tuple[Any, ...]] = {}
        for point, summaries in run_groups(self._groups(todo, prepared), executor, cache=cache, on_runs=on_runs,
                                           block_size=lambda req: math.ceil(req.replications / per_point)):
            yield point, self._frame(point, prepared.pop(point), summaries)

    def _groups(self, todo: Sequence[int], prepared: dict[int, tuple[Any, ...]]) -> Iterator[tuple[int, list[Any]]]:
        """Each point prepared (parsed, reformed, compiled) just before its runs go out."""
        from orgsim.experiment import Runner, _seed
        from orgsim.reforms import reform_scenario

        calendars: dict[str, Any] = {}  # one per calendar setting: building one loads the holiday tables
        for i in todo:
            settings = self.settings[i]
            scenario = parse_point(self.base, settings)  # its errors name the point already
            n = self.replications_of(i)
            seed = _seed(scenario, self.seed)
            try:
                outcome = reform_scenario(scenario)
                runner = Runner(scenario, calendar=calendars.get(repr(scenario.simulation.calendar)))
                calendars[repr(scenario.simulation.calendar)] = runner.calendar
                requests = [q for org in (outcome.before, outcome.after) for q in runner.requests(org, seed, n)]
            except OrgsimError as exc:
                raise at_point(exc, self.base, settings) from None
            prepared[i] = (scenario, outcome, runner, seed, n)
            yield i, requests

    def _frame(self, i: int, prepared: tuple[Any, ...], summaries: list[Any]) -> pd.DataFrame:
        """The point's rows, as compare().to_frame() gives them, with the point and its levers in front."""
        from orgsim.experiment import Comparison, StateResult
        from orgsim.model.metrics import structure_metrics

        scenario, outcome, runner, seed, n = prepared
        states = {
            name: StateResult(name, org, structure_metrics(org), tuple(summaries[k * n:(k + 1) * n]),
                              plan=runner.setup(org).plan, scenario=scenario, seed=seed)
            for k, (name, org) in enumerate((("before", outcome.before), ("after", outcome.after)))
        }
        frame = Comparison(scenario, states["before"], states["after"], seed, n, outcome).to_frame()
        frame["scenario_sha256"] = self.base.sha256
        columns = (("point", i),) + tuple((v.path, x) for v, x in self.settings[i])
        for k, (name, value) in enumerate(columns):
            frame.insert(k, name, [value] * len(frame))
        return frame
