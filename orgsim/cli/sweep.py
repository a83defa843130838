"""``orgsim sweep`` and ``orgsim frontier``: grids over scenario fields, and the edge of a target."""

from __future__ import annotations

import contextlib
import math
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from orgsim._format import table
from orgsim.budget import MAX_WORKERS
from orgsim.cli._common import INTERRUPTED, _echo_json, _user_errors, input_options, lang_option, language_of
from orgsim.i18n import _, use_language
from orgsim.executors import EXECUTORS

__all__ = ["sweep_command", "frontier_command"]


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so workers are stopped and nothing is left half-written."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _check_executor(executor: str | None, address: str | None) -> None:
    if address is not None and executor not in (None, "dask"):
        raise click.BadParameter(f"--address is a Dask scheduler's; it does not go with --executor {executor}",
                                 param_hint="--address")


def _mean(values: Any) -> float | None:
    return None if len(values) == 0 else float(values.mean())


def _fmt(x: float | None) -> str:
    return "unstable" if x is None or math.isnan(x) else f"{x:.1f}"


def _short_names(paths: list[str]) -> list[str]:
    """Column headers: a path's last field when that is unambiguous, else the whole path."""
    lasts = [p.rsplit(".", 1)[-1] for p in paths]
    return [last if lasts.count(last) == 1 else p for p, last in zip(paths, lasts, strict=True)]


def sweep_table(frame: Any, paths: list[str], metric: str = "lead_working_p90", scenario: Any = None) -> str:
    """One line per point: the levers that change, headcount and the metric before/after.

    The metric is the mean over replications; a state unstable in any
    replication shows ``unstable``. Levers with one value are listed above.
    """
    varying = [p for p in paths if frame[p].nunique(dropna=False) > 1]
    fixed = [p for p in paths if p not in varying]
    rows = []
    for _point, rows_point in frame.groupby("point", sort=True):
        cells: list[Any] = [_cell(rows_point.iloc[0][p]) for p in varying]
        means = {}
        for state in ("before", "after"):
            s = rows_point[rows_point["state"] == state]
            means[state] = _mean(s[metric]) if bool((s["stable"] == 1.0).all()) else None
        after = rows_point[rows_point["state"] == "after"]
        b, a = means["before"], means["after"]
        cells += [int(after["headcount"].iloc[0]), _fmt(b), _fmt(a),
                  "" if a is None or b is None else f"{a - b:+.1f}",
                  f"{int(after['stable'].sum())}/{len(after)}"]
        rows.append(cells)
    from orgsim.plotting import lever_label

    label = metric.removeprefix("lead_working_")
    lines = [f"{p} = {_show(frame[p].iloc[0])}  ({lever_label(p, scenario)})" for p in fixed]
    levers = [lever_label(p, scenario) for p in varying]
    shorts = _short_names(varying)
    levers = [name if levers.count(name) == 1 else short for name, short in zip(levers, shorts, strict=True)]
    lines.append(table(
        [*levers, _("headcount after"), _("{p} before").format(p=label), _("{p} after").format(p=label),
         _("change"), _("stable after")],
        rows,
        title=_("{p} lead time in working days, mean over replications").format(p=label),
    ))
    return "\n".join(lines)


def _cell(value: Any) -> Any:
    """Numbers stay numbers (the table right-aligns them); the rest as YAML would write it."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value.item() if hasattr(value, "item") else value
    return _show(value)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


@click.command("sweep")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--vary", "varies", multiple=True, required=True, metavar="PATH=V1,V2,...",
              help="A field of the scenario and its values (repeat for a grid), e.g. "
                   "'units[id=planning].support=1,2,3' or 'reforms[3].enabled=true,false'.")
@click.option("-r", "--replications", type=click.IntRange(1, 10_000),
              help="Replications per point (default: the scenario's).")
@click.option("--seed", type=click.IntRange(0), help="Seed (default: the scenario's).")
@click.option("--executor", type=click.Choice(EXECUTORS),
              help="Where points run: serial (default), local processes, or Dask (a LocalCluster, or --address).")
@click.option("--address", metavar="ADDR",
              help="A running Dask scheduler, e.g. tcp://10.0.0.5:8786 (implies --executor dask).")
@click.option("--workers", "-j", "--jobs", "workers", type=click.IntRange(1, MAX_WORKERS),
              help="Local worker processes (default: the CPUs available); more than 1 without --executor "
                   "means --executor processes.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the table (.csv or .parquet); finished points are saved in OUT.parts/ so a rerun resumes.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on stderr (default: when stderr is a terminal).")
@lang_option
@input_options
@_user_errors
def sweep_command(file: str, varies: tuple[str, ...], replications: int | None, seed: int | None,
                  executor: str | None, address: str | None, workers: int | None, out: Path | None,
                  progress: bool | None, lang: str | None, allow_outside: bool, max_memory: int | None) -> None:
    """Compare before/after the reforms at every point of a grid over scenario fields.

    Prints the p90 lead time (working days, mean over replications) per
    point; the full table, one row per point x state x replication with the
    varied values, seed, scenario hash and orgsim version, goes to --out.
    Same seed, same numbers, whichever executor runs them.
    """
    from orgsim.sweep import parts_directory, sweep

    _check_executor(executor, address)
    if out is not None and out.suffix.lower() not in (".csv", ".parquet"):
        raise click.BadParameter(f"{out}: write the table as .csv or .parquet", param_hint="--out")
    show = sys.stderr.isatty() if progress is None else progress
    try:
        with _sigterm_as_interrupt():
            frame = sweep(file, list(varies), replications=replications, seed=seed, executor=executor,
                          address=address, workers=workers, out=out, progress=show,
                          allow_outside=allow_outside, max_memory=max_memory)
    except KeyboardInterrupt:
        if out is not None:
            parts = parts_directory(out)
            saved = len(list(parts.glob("point-*.csv"))) if parts.is_dir() else 0
            click.echo(f"interrupted: {saved} finished point(s) kept in {parts}; "
                       "run the same command again to resume", err=True)
        else:
            click.echo("interrupted (without --out nothing is kept)", err=True)
        sys.exit(INTERRUPTED)
    from orgsim.scenario import load_scenario

    scenario = load_scenario(file, allow_outside=allow_outside, max_memory_bytes=max_memory)
    with use_language(language_of(lang, scenario)):
        paths = [c for c in frame.columns[1:frame.columns.get_loc("state")]]
        click.echo(sweep_table(frame, paths, scenario=scenario))
        if out is not None:
            click.echo(_("wrote {path} ({n} rows)").format(path=out, n=len(frame)), err=True)


def _parse_range(spec: str) -> tuple[str, float, float]:
    from orgsim.sweep import _split_top, parse_value

    parts = _split_top(spec, "=")
    ends = "=".join(parts[1:]).split(":") if len(parts) > 1 else []
    if len(parts) < 2 or len(ends) != 2 or not parts[0].strip():
        raise click.BadParameter(f"{spec!r}: write PATH=LOW:HIGH, e.g. 'reforms[1].reforms[5].cap=30:60'",
                                 param_hint="--vary")
    low, high = (parse_value(e.strip()) for e in ends)
    for name, v in (("LOW", low), ("HIGH", high)):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise click.BadParameter(f"{spec!r}: {name} must be a number, got {v!r}", param_hint="--vary")
    if not low < high:
        raise click.BadParameter(f"{spec!r}: LOW must be less than HIGH", param_hint="--vary")
    return parts[0].strip(), low, high


@click.command("frontier")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--vary", "lever", required=True, metavar="PATH=LOW:HIGH",
              help="A numeric field and its range, e.g. 'reforms[phase=2021].reforms[op=cap_headcount].cap=30:60'.")
@click.option("--target", required=True, metavar="METRIC<=X",
              help="What must hold, on the mean over replications: e.g. 'p90<=120' (lead time p90, working days); "
                   "metrics mean, p50, p90, p95, max, calendar_p90 ... or a column such as share_over_limit.")
@click.option("--state", type=click.Choice(["before", "after"]), default="after", show_default=True)
@click.option("--set", "fixed", multiple=True, metavar="PATH=VALUE", help="Set another field for every probe.")
@click.option("-r", "--replications", type=click.IntRange(2, 10_000),
              help="Replications per probe (default: the scenario's).")
@click.option("--seed", type=click.IntRange(0), help="Seed (default: the scenario's).")
@click.option("--tolerance", type=click.FloatRange(0, min_open=True),
              help="Stop when the bracket is this narrow (default: 1 for whole numbers, else 1/100 of the range).")
@click.option("--max-probes", type=click.IntRange(3, 200), default=20, show_default=True)
@click.option("--executor", type=click.Choice(EXECUTORS), help="Where each probe's replications run.")
@click.option("--address", metavar="ADDR", help="A running Dask scheduler (implies --executor dask).")
@click.option("--workers", type=click.IntRange(1, MAX_WORKERS), help="Local worker processes.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@lang_option
@input_options
@_user_errors
def frontier_command(file: str, lever: str, target: str, state: str, fixed: tuple[str, ...],
                     replications: int | None, seed: int | None, tolerance: float | None, max_probes: int,
                     executor: str | None, address: str | None, workers: int | None, as_json: bool,
                     lang: str | None, allow_outside: bool, max_memory: int | None) -> None:
    """Find, by bisection, the smallest (or largest) value of a lever that keeps a target.

    Each probe compares before/after with the same replications and seed.
    An unstable organisation fails the target. The answer comes with its
    bracket [last failing, first passing] and whether the decisions there
    are statistically clear (95% CI of the mean on one side of the threshold).
    """
    from orgsim.frontier import frontier, parse_target

    _check_executor(executor, address)
    path, low, high = _parse_range(lever)
    try:
        goal = parse_target(target)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--target") from None

    from orgsim.scenario import load_scenario

    chosen = language_of(lang, load_scenario(file, allow_outside=allow_outside, max_memory_bytes=max_memory))

    def report(probe: Any) -> None:
        with use_language(chosen):
            click.echo(_("probe {path}={value:g}: {what}").format(path=path, value=probe.value,
                                                                  what=probe.describe(goal)), err=True)

    try:
        with _sigterm_as_interrupt():
            result = frontier(file, path, low, high, goal, replications=replications, seed=seed, state=state,
                              tolerance=tolerance, max_probes=max_probes, fixed=list(fixed), executor=executor,
                              address=address, workers=workers, on_probe=report, allow_outside=allow_outside,
                              max_memory=max_memory)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(INTERRUPTED)
    if as_json:
        _echo_json(result.to_dict())
        return
    with use_language(chosen):
        click.echo(_("{file}: {n} replications per probe, seed {seed}, {probes} probes").format(
            file=file, n=result.replications, seed=result.seed, probes=len(result.probes)))
        click.echo(result.summary())

