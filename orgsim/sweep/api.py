"""Parameter sweeps: a grid over scenario fields, each point a before/after comparison.

A sweep varies fields of the scenario *document* (the YAML as written), named
by paths (:mod:`orgsim.sweep.levers`)::

    simulation.horizon_days                      a key in a mapping
    workload.project_types[0].arrivals.rate      [N]: the N-th item of a list (from 0)
    units[id=planning].support                   [FIELD=VALUE]: the one item whose FIELD is VALUE
    reforms[phase=2021].reforms[op=cap_headcount].cap
    reforms[1].reforms[2].enabled                true/false: keep or leave out an operator (or a phase)

Each point of the grid is the scenario with those fields set, validated again
like a file, then compared before and after its reforms with the same seed
(:mod:`orgsim.sweep.points`): a point's rows equal
``compare(point_scenario, replications=R, seed=seed).to_frame()``. The table
is the same whichever executor ran it (serial, local processes or Dask).

With ``out``, finished points are kept in ``OUT.parts/`` so that an
interrupted sweep resumes (:mod:`orgsim.sweep.journal`).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orgsim._io import output_errors
from orgsim._provenance import code_sha256
from orgsim.errors import SweepError
from orgsim.executors import Executor, open_executor
from orgsim.scenario.schema import Scenario
from orgsim.sweep.journal import Journal, parts_directory, write_table
from orgsim.sweep.levers import Vary, resolve_vary, value_identity
from orgsim.sweep.points import Points, check_levers, load_base

if TYPE_CHECKING:
    import pandas as pd

    from orgsim.batches import RunCache

__all__ = ["grid", "sweep"]


def grid(varies: Sequence[Vary]) -> list[tuple[Any, ...]]:
    """Every combination of the levers' values; the first lever changes slowest.

    Counted before it is made: more than :data:`~orgsim.budget.MAX_GRID_POINTS` is refused.
    """
    from orgsim.budget import MAX_GRID_POINTS

    size = math.prod(len(v.values) for v in varies)
    if size > MAX_GRID_POINTS:
        counts = " x ".join(f"{len(v.values):,}" for v in varies)
        raise SweepError(f"the grid has {size:,} points ({counts}); a sweep runs at most {MAX_GRID_POINTS:,}: "
                         "give fewer values, or split it into several sweeps")
    return list(itertools.product(*(v.values for v in varies)))


def _progress_bar(total: int, initial: int, enabled: bool) -> Any:
    import sys

    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="run", desc="sweep", file=sys.stderr,
                disable=not enabled, dynamic_ncols=True, smoothing=0.1)


def sweep(
    scenario: str | Path | Scenario,
    vary: Mapping[str, Sequence[Any]] | Sequence[str],
    *,
    replications: int | None = None,
    seed: int | None = None,
    executor: str | Executor | None = None,
    address: str | None = None,
    workers: int | None = None,
    out: str | Path | None = None,
    progress: bool = False,
    cache: RunCache | None = None,
    allow_outside: bool = False,
    max_memory: float | None = None,
) -> pd.DataFrame:
    """Compare the scenario before and after its reforms at every point of a grid.

    Parameters
    ----------
    scenario
        A scenario file, or a loaded :class:`~orgsim.scenario.schema.Scenario`.
    vary
        The levers: ``{"PATH": [v1, v2]}`` or ``["PATH=V1,V2", ...]`` (values
        read as YAML scalars). Paths are described in :mod:`orgsim.sweep`.
    replications, seed
        As for :func:`orgsim.experiment.compare`; by default each point's own
        ``simulation.replications`` and ``simulation.seed``.
    executor
        ``"serial"`` (the default), ``"processes"``, ``"dask"`` or an open
        :class:`~orgsim.executors.Executor` (left open). ``address`` is a
        running Dask scheduler's (and implies ``"dask"``); ``workers`` the
        number of local workers (default: the CPUs this process may use;
        more than one, with no executor named, means ``"processes"``).
    out
        A ``.csv`` or ``.parquet`` file for the table. Finished points are kept
        in ``OUT.parts/`` as they come in, so running the same sweep again after
        an interruption resumes it.
    progress
        Draw a progress bar with the time left on standard error.
    allow_outside, max_memory
        As for :func:`orgsim.scenario.load_scenario`: arrival traces outside the
        scenario's folder, and the memory each point's runs may plan to use
        (:mod:`orgsim.budget`; checked for every point before it runs).
    cache
        Where runs are kept for reuse: a state met again at another point
        (the organisation before the reforms, when only reform levers vary)
        is simulated once. By default a new :class:`~orgsim.batches.RunCache`
        for this call; pass one to share runs between calls.

    Returns
    -------
    pandas.DataFrame
        One row per point, state and replication: ``point``, one column per
        lever (named by its path), then the columns of
        :meth:`orgsim.experiment.Comparison.to_frame` (``state``,
        ``replication``, ``seed``, ``scenario_sha256`` of the file swept,
        ``orgsim_version``, headcount and the run's statistics).

    Raises
    ------
    ScenarioError
        A path that does not exist, or a value the format refuses (naming the
        path and the point); :class:`SweepError` when ``out`` holds another
        sweep's results.
    """
    from orgsim import __version__

    if out is not None and Path(out).suffix.lower() not in (".csv", ".parquet"):
        raise SweepError(f"{out}: the table is written as .csv or .parquet")
    if out is not None and Path(out).suffix.lower() == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise SweepError(f"{out}: writing Parquet needs pyarrow (pip install pyarrow), or use .csv") from None
    base = load_base(scenario, allow_outside=allow_outside, max_memory=max_memory)
    varies = resolve_vary(base.data, vary, base.source)
    combos = grid(varies)  # counted first: a grid too large is refused at once
    check_levers(base, varies)
    points = Points(base, [list(zip(varies, c, strict=True)) for c in combos], seed, replications)

    with contextlib.ExitStack() as stack:  # the sweep's lock on its output, when it has one
        journal = None
        done: set[int] = set()
        if out is not None:
            identity = {
                "format": "orgsim-sweep/1",
                "scenario_sha256": base.sha256,
                "vary": [{"path": v.path, "values": [value_identity(x) for x in v.values]} for v in varies],
                "seed": seed,
                "replications": replications,
                "orgsim_version": __version__,
                "orgsim_code_sha256": code_sha256(),
            }
            journal = Journal(parts_directory(out), identity)
            with output_errors(journal.directory):
                stack.enter_context(journal.lock())
                journal.open()
                # Temporary files of the table's own writes killed before (this sweep holds the lock).
                for stale in Path(out).parent.glob(f".{Path(out).name}.*.part"):
                    stale.unlink(missing_ok=True)
                done = journal.done(lambda i: 2 * points.replications_of(i))
        todo = [i for i in range(len(combos)) if i not in done]

        # The bar counts runs: a replication of one state of one point.
        total = sum(2 * points.replications_of(i) for i in range(len(combos)))
        frames: dict[int, pd.DataFrame] = {}
        if todo:
            from orgsim.batches import RunCache

            runs = cache if cache is not None else RunCache()
            with open_executor(executor, address=address, workers=workers, error=SweepError) as ex, \
                    _progress_bar(total, sum(2 * points.replications_of(i) for i in done), progress) as bar:
                bar.set_postfix_str(f"{len(done)}/{len(combos)} points", refresh=False)
                for point, frame in points.run(todo, ex, bar.update, cache=runs):
                    if journal is not None:
                        journal.write(point, frame)
                    else:
                        frames[point] = frame
                    done.add(point)
                    bar.set_postfix_str(f"{len(done)}/{len(combos)} points", refresh=False)

        import pandas as pd

        if journal is None or out is None:
            return pd.concat([frames[i] for i in range(len(combos))], ignore_index=True)
        table = journal.read(range(len(combos)))
        write_table(Path(out), table)
        shutil.rmtree(journal.directory, ignore_errors=True)
        return table
