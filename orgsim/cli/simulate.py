"""``orgsim run``, ``orgsim compare`` and ``orgsim estimate``: the simulation commands."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from orgsim._format import table
from orgsim._io import json_text, write_csv, write_output_set
from orgsim.budget import MAX_WORKERS
from orgsim.cli._common import _echo_json, _progress, _user_errors, input_options
from orgsim.cli._tables import structure_table
from orgsim.executors import EXECUTORS
from orgsim.experiment import Comparison, StateResult, compare, run_state
from orgsim.reforms import reform_scenario
from orgsim.scenario import Scenario, load_scenario
from orgsim.sim.results import PERCENTILES

__all__ = ["run", "compare_command", "estimate"]


def _fmt(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _ci(ci: list[float] | None) -> str:
    if ci is None or any(v != v for v in ci):
        return ""
    return f"[{ci[0]:.1f}, {ci[1]:.1f}]"


def _lead_rows(label: str, data: dict[str, Any], unit: str) -> list[list[Any]]:
    rows = [[f"{label} mean ({unit})", _fmt(data["mean"]), _ci(data["ci95"])]]
    rows += [[f"{label} p{p} ({unit})", _fmt(data[f"p{p}"]), ""] for p in PERCENTILES]
    return rows


def _comparison_text(c: Comparison, d: dict[str, Any]) -> str:
    """The comparison as tables; ``d`` is its ``to_dict()``."""
    b, a, diff = d["before"], d["after"], d["difference"]
    lines = [
        f"{c.scenario.scenario.name}: {c.replications} replications, seed {c.seed}, "
        f"{c.scenario.simulation.horizon_days:g} working days (warm-up {c.scenario.simulation.warmup_days:g})",
        "",
        structure_table(c.before.structure, c.after.structure),
        "",
    ]
    rows = []
    for key, unit in (("lead_time_working_days", "working days"), ("lead_time_calendar_days", "calendar days")):
        short = "lead time"
        for p in ("mean",) + tuple(f"p{x}" for x in PERCENTILES):
            bv, av = b[key][p], a[key][p]
            dv = diff[key][p]
            rows.append([
                f"{short} {p} ({unit})", _fmt(bv), _fmt(av), _fmt(dv["mean"]),
                _ci(dv["ci95"]),
            ])
    rows.append(["over statutory limit (share)", _fmt(b["share_over_statutory_limit"], 3),
                 _fmt(a["share_over_statutory_limit"], 3), "", ""])
    rows.append(["throughput (per working day)", _fmt(b["throughput_per_working_day"], 2),
                 _fmt(a["throughput_per_working_day"], 2), "", ""])
    rows.append(["stable", str(b["stable"]).lower(), str(a["stable"]).lower(), "", ""])
    rows.append(["bottleneck", b["bottleneck"] or "-", a["bottleneck"] or "-", "", ""])
    lines.append(table(["lead times", "before", "after", "change", "95% CI of change"], rows))
    lines.append("")
    target = c.scenario.simulation.utilisation_target
    units = sorted(set(b["staffing"]) | set(a["staffing"]))
    lines.append(table(
        ["unit", "officers before", "needed before", "officers after", "needed after"],
        [[u, b["staffing"].get(u, {}).get("officers", "-"), b["staffing"].get(u, {}).get("needed", "-"),
          a["staffing"].get(u, {}).get("officers", "-"), a["staffing"].get(u, {}).get("needed", "-")]
         for u in units],
        title=f"case officers per unit, and the fewest that keep their utilisation at or below {target:.0%}",
    ))
    lines.append("")
    for state, name in ((c.before, "before"), (c.after, "after")):
        if state.stable:
            split = d[name]["time_split_working_days"]
            lines.append(f"where time goes {name} (working days on the critical path): "
                         + ", ".join(f"{k} {v:.1f}" for k, v in split.items()))
        else:
            lines.append(f"WARNING: {name} is UNSTABLE: " + "; ".join(state.instability())
                         + f"; backlog at the end {d[name]['backlog_end']:.0f}, "
                         f"growing {d[name]['backlog_growth_per_100_days']:.1f} per 100 working days")
    return "\n".join(lines)


def _write_outputs(out: Path, summary: dict[str, Any], frame: Any, records: Any | None) -> list[Path]:
    """The output set in ``out``, as one: the previous complete set or this one, never a mix (orgsim._io)."""
    text = json_text(summary, sort_keys=True) + "\n"
    files: dict[str, Callable[[Path], Any]] = {
        "summary.json": lambda path: path.write_text(text, encoding="utf-8"),
        "replications.csv": lambda path: write_csv(frame, path),
    }
    if records is not None:
        files["records.csv"] = lambda path: write_csv(records, path)
    return write_output_set(out, files)


def _records_frame(states: list[StateResult]) -> Any:
    import pandas as pd

    rows = []
    for state in states:
        for r, run in enumerate(state.runs):
            rows += [{"state": state.name, "replication": r, **rec} for rec in run.records]
    return pd.DataFrame(rows)


_common = [
    click.option("-r", "--replications", type=click.IntRange(1, 10_000), help="Replications (default: the scenario's)."),
    click.option("--seed", type=click.IntRange(0), help="Seed (default: the scenario's)."),
    click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables."),
    click.option("--out", type=click.Path(file_okay=False, path_type=Path),
                 help="Write summary.json and replications.csv into this directory."),
    click.option("--records", is_flag=True, help="Also keep and write per-application records (records.csv)."),
    click.option("-j", "--jobs", "--workers", "jobs", type=click.IntRange(1, MAX_WORKERS),
                 help="Replications at once, in local worker processes (default 1: in this process)."),
    click.option("--executor", type=click.Choice(EXECUTORS),
                 help="Where replications run: serial (default), local processes (--jobs of them, default: "
                      "the CPUs available), or Dask (a LocalCluster, or --address)."),
    click.option("--address", metavar="ADDR",
                 help="A running Dask scheduler, e.g. tcp://10.0.0.5:8786 (implies --executor dask); trusted whole: "
                      "runs are sent there (docs/sweeps.md, Executors)."),
]


def _check_executor(executor: str | None, address: str | None) -> None:
    if address is not None and executor not in (None, "dask"):
        raise click.BadParameter(f"--address is a Dask scheduler's; it does not go with --executor {executor}",
                                 param_hint="--address")


def _with_common(func: Callable) -> Callable:
    for option in reversed(_common):
        func = option(func)
    return input_options(func)


def _load_within_budget(file: str, *, allow_outside: bool, max_memory: int | None, replications: int | None,
                        jobs: int | None, executor: str | None, address: str | None, records: bool,
                        states: int) -> tuple[Scenario, int]:
    """The scenario, and its replications, once what the runs would cost is known to fit the budget."""
    from orgsim.budget import check_run_budget
    from orgsim.errors import Problem, ScenarioError
    from orgsim.executors import make_executor_workers
    from orgsim.scenario.loader import format_path

    scenario = load_scenario(file, allow_outside=allow_outside, max_memory_bytes=max_memory)
    n = replications or scenario.simulation.replications
    found = check_run_budget(scenario, replications=n, records=records, max_memory_bytes=max_memory, states=states,
                             runs_at_once=make_executor_workers(executor, address=address, workers=jobs))
    if found:
        problems = [Problem(format_path(loc), msg, scenario.source_file, scenario.line_of(loc)) for loc, msg in found]
        raise ScenarioError(f"{file}: over the resource budget", problems)
    return scenario, n


@click.command("compare")
@click.argument("file", type=click.Path(dir_okay=False))
@_with_common
@_user_errors
def compare_command(file: str, replications: int | None, seed: int | None, as_json: bool,
                    out: Path | None, records: bool, jobs: int | None, executor: str | None,
                    address: str | None, allow_outside: bool, max_memory: int | None) -> None:
    """Simulate the organisation before and after the reforms, side by side.

    Lead times (working and calendar days) with 95% confidence intervals, the
    paired difference, structure and headcount, and the bottleneck.
    """
    _check_executor(executor, address)
    scenario, n = _load_within_budget(file, allow_outside=allow_outside, max_memory=max_memory,
                                      replications=replications, jobs=jobs, executor=executor, address=address,
                                      records=records, states=2)
    with _progress(2 * n, "simulating") as progress:
        result = compare(scenario, replications=n, seed=seed, keep_records=records, progress=progress,
                         executor=executor, workers=jobs, address=address)
    summary = result.to_dict()
    if out is not None:
        rec = _records_frame([result.before, result.after]) if records else None
        for path in _write_outputs(out, summary, result.to_frame(), rec):
            click.echo(f"wrote {path}", err=True)
    if as_json:
        _echo_json(summary)
    else:
        click.echo(_comparison_text(result, summary))
    for name in ("before", "after"):
        if not summary[name]["stable"]:
            click.echo(f"warning: the organisation {name} the reforms is unstable: "
                       + "; ".join(summary[name]["instability"]), err=True)


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--state", type=click.Choice(["before", "after"]), default="after", show_default=True)
@_with_common
@_user_errors
def run(file: str, state: str, replications: int | None, seed: int | None, as_json: bool,
        out: Path | None, records: bool, jobs: int | None, executor: str | None, address: str | None,
        allow_outside: bool, max_memory: int | None) -> None:
    """Simulate one state of the organisation (by default after the reforms)."""
    _check_executor(executor, address)
    scenario, n = _load_within_budget(file, allow_outside=allow_outside, max_memory=max_memory,
                                      replications=replications, jobs=jobs, executor=executor, address=address,
                                      records=records, states=1)
    with _progress(n, "simulating") as progress:
        result = run_state(scenario, state, replications=n, seed=seed, keep_records=records, progress=progress,
                           executor=executor, workers=jobs, address=address)
    summary = result.to_dict()
    if out is not None:
        rec = _records_frame([result]) if records else None
        for path in _write_outputs(out, summary, result.to_frame(), rec):
            click.echo(f"wrote {path}", err=True)
    if as_json:
        _echo_json(summary)
        return
    click.echo(f"{scenario.scenario.name} ({state} reforms): {n} replications, seed {summary['seed']}")
    rows = _lead_rows("lead time", summary["lead_time_working_days"], "working days")
    rows += _lead_rows("lead time", summary["lead_time_calendar_days"], "calendar days")
    click.echo(table(["metric", "value", "95% CI"], rows))
    click.echo()
    click.echo(table(["queue", "servers", "utilisation", "mean queue"],
                     [[b["pool"], b["servers"], f"{b['utilisation']:.1%}", f"{b['mean_queue']:.2f}"]
                      for b in summary["bottlenecks"]], title="busiest queues"))
    if not result.stable:
        click.echo("warning: unstable: " + "; ".join(result.instability()), err=True)


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--state", type=click.Choice(["before", "after", "both"]), default="both", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@input_options
@_user_errors
def estimate(file: str, state: str, as_json: bool, allow_outside: bool, max_memory: int | None) -> None:
    """Analytic estimate (Erlang C per queue, Jackson network per path), in a blink.

    Exact for exponential times on serial paths; the output lists every place
    where it is only an approximation. Also gives the officers each queue
    needs to stay at or below the scenario's utilisation target.
    """
    from orgsim.sim.estimate import estimate_plan
    from orgsim.sim.plan import compile_plan

    scenario = load_scenario(file, allow_outside=allow_outside, max_memory_bytes=max_memory)
    outcome = reform_scenario(scenario)
    target = scenario.simulation.utilisation_target
    chosen = ["before", "after"] if state == "both" else [state]
    results = {
        name: estimate_plan(compile_plan(outcome.before if name == "before" else outcome.after, scenario), target)
        for name in chosen
    }
    if as_json:
        _echo_json({name: est.to_dict() for name, est in results.items()} | {"utilisation_target": target})
        return
    for name, est in results.items():
        click.echo(f"{scenario.scenario.name}, {name} the reforms (analytic estimate)")
        lead = est.mean_lead_time_days
        click.echo(f"mean lead time: {'unstable' if not math.isfinite(lead) else f'{lead:.2f} working days'}")
        click.echo(table(
            ["queue", "servers", "needed", "arrivals/day", "utilisation", "mean wait (days)"],
            [[p.key, p.servers, p.servers_needed, f"{p.arrival_rate_per_day:.3f}", f"{p.utilisation:.1%}",
              "inf" if not math.isfinite(p.mean_wait_days) else f"{p.mean_wait_days:.3f}"]
             for p in sorted(est.pools, key=lambda p: -p.utilisation)],
        ))
        click.echo(f"('needed': fewest servers keeping utilisation at or below {target:.0%})")
        for c in est.caveats:
            click.echo(f"  approximation: {c}")
        click.echo()
