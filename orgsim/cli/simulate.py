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
from orgsim.cli._common import _echo_json, _progress, _user_errors, input_options, lang_option, language_of
from orgsim.cli._tables import render
from orgsim.executors import EXECUTORS
from orgsim.experiment import Comparison, PackageComparison, StateResult, compare, run_state
from orgsim.i18n import _, use_language
from orgsim.reforms import reform_packages
from orgsim.scenario import Scenario, load_scenario

__all__ = ["run", "compare_command", "estimate"]


def _comparison_text(c: Comparison | PackageComparison, d: dict[str, Any]) -> str:
    """The comparison as tables, in the language in force; ``d`` is its ``to_dict()``.

    Before and after; or, for a scenario with packages, before and each package side by side, each
    package's change from before paired replication by replication.
    """
    from orgsim.presentation import results as r
    from orgsim.presentation.names import join_names
    from orgsim.presentation.tables import states_structure_table

    names = r.names_for(c)
    sim = c.scenario.simulation
    states, parts, _diffs = r.comparison_states(d)
    if isinstance(c, PackageComparison):
        title = _("{scenario}: packages {packages} against the organisation before them; {n} replications, seed "
                  "{seed}, {horizon:g} working days (warm-up {warmup:g})").format(
            scenario=names.title(), packages=join_names(c.packages), n=c.replications, seed=c.seed,
            horizon=sim.horizon_days, warmup=sim.warmup_days)
        structure = states_structure_table({s: c.states[s].structure for s in states},
                                             {s: r.state_label(s) for s in states})
        split = r.time_split_table(d["states"], names, states=states)
    else:
        title = _("{scenario}: {n} replications, seed {seed}, {horizon:g} working days (warm-up {warmup:g})").format(
            scenario=names.title(), n=c.replications, seed=c.seed, horizon=sim.horizon_days, warmup=sim.warmup_days)
        structure = r.structure_table(c.before.structure, c.after.structure)
        split = r.time_split_table(d, names)
    lines = [
        title,
        "",
        render(structure),
        "",
        render(r.project_type_table(d, names)),
        "",
        render(r.lead_time_table(d, names)),
        r.bottleneck_text(d, names),
        "",
        render(split),
        "",
        render(r.staffing_table(d, names, sim.utilisation_target)),
    ]
    support = r.support_table(d, names)
    if support is not None:
        lines += ["", render(support)]
    for name in states:
        state = c.states[name]
        if not state.stable:
            lines.append("")
            lines.append(_("WARNING: the organisation {state} is UNSTABLE: {why}; backlog at the end "
                           "{backlog:.0f}, growing {growth:.1f} per 100 working days").format(
                state=r.state_phrase(name), why=r.instability_text(state, names),
                backlog=parts[name]["backlog_end"], growth=parts[name]["backlog_growth_per_100_days"]))
    return "\n".join(lines)


def _warn_unstable(states: list[StateResult]) -> None:
    from orgsim.presentation import results as r

    for state in states:
        if not state.stable:
            names = r.names_for(state)
            click.echo(_("warning: the organisation {state} is unstable: {why}").format(
                state=r.state_phrase(state.name), why=r.instability_text(state, names)), err=True)


def _write_outputs(out: Path, summary: dict[str, Any], frame: Any, records: Any | None) -> list[Path]:
    """The output set in ``out``, as one: the previous complete set or this one, never a mix (orgsim._io)."""
    from orgsim.spreadsheets import result_tables, write_workbook

    text = json_text(summary, sort_keys=True) + "\n"
    files: dict[str, Callable[[Path], Any]] = {
        "summary.json": lambda path: path.write_text(text, encoding="utf-8"),
        "replications.csv": lambda path: write_csv(frame, path),
    }
    if records is not None:
        files["records.csv"] = lambda path: write_csv(records, path)
    # The same tables for those who read results in Excel: one sheet each, numbers as numbers.
    files["results.xlsx"] = lambda path: write_workbook(path, result_tables(summary, frame, records))
    return write_output_set(out, files)


def _records_frame(states: list[StateResult]) -> Any:
    import pandas as pd

    rows = []
    for state in states:
        for r, run in enumerate(state.runs):
            rows += [{"state": state.name, "replication": r, **rec} for rec in run.records]
    return pd.DataFrame(rows)


_common = [
    click.option("-r", "--replications", type=click.IntRange(1, 10_000),
                 help="Replications (default: the scenario's)."),
    click.option("--seed", type=click.IntRange(0), help="Seed (default: the scenario's)."),
    click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables."),
    click.option("--out", type=click.Path(file_okay=False, path_type=Path),
                 help="Write summary.json, replications.csv and results.xlsx (the same tables for Excel) "
                      "into this directory."),
    click.option("--records", is_flag=True, help="Also keep and write per-application records (records.csv)."),
    click.option("--event-log", type=click.Path(dir_okay=False, path_type=Path),
                 help="Also write the event log of the runs: one row per step, sign-off, hand-off and time back "
                      "with the applicant, with dates (.csv, .parquet or .xes; docs/data.md)."),
    click.option("-j", "--jobs", "--workers", "jobs", type=click.IntRange(1, MAX_WORKERS),
                 help="Replications at once, in local worker processes (default 1: in this process)."),
    click.option("--executor", type=click.Choice(EXECUTORS),
                 help="Where replications run: serial (default), local processes (--jobs of them, default: "
                      "the CPUs available), or Dask (a LocalCluster, or --address)."),
    click.option("--address", metavar="ADDR",
                 help="A running Dask scheduler, e.g. tcp://10.0.0.5:8786 (implies --executor dask); trusted whole: "
                      "runs are sent there (docs/sweeps.md, Executors)."),
    lang_option,
]


def _check_executor(executor: str | None, address: str | None) -> None:
    if address is not None and executor not in (None, "dask"):
        raise click.BadParameter(f"--address is a Dask scheduler's; it does not go with --executor {executor}",
                                 param_hint="--address")


def _check_event_log(path: Path | None) -> None:
    if path is not None and path.suffix.lower() not in (".csv", ".parquet", ".pq", ".xes"):
        raise click.BadParameter(f"{path}: the name must end in .csv, .parquet or .xes", param_hint="--event-log")


def _with_common(func: Callable) -> Callable:
    for option in reversed(_common):
        func = option(func)
    return input_options(func)


def _load_within_budget(file: str, *, allow_outside: bool, max_memory: int | None, replications: int | None,
                        jobs: int | None, executor: str | None, address: str | None, records: bool,
                        states: int | None, timeline: bool = False) -> tuple[Scenario, int]:
    """The scenario, and its replications, once what the runs would cost is known to fit the budget.

    ``states``: the states simulated (None: every state of a comparison, two or one per package more);
    ``timeline``: the runs are a timeline's (``orgsim timeline``).
    """
    from orgsim.budget import check_run_budget
    from orgsim.errors import Problem, ScenarioError
    from orgsim.executors import make_executor_workers
    from orgsim.scenario.loader import format_path

    scenario = load_scenario(file, allow_outside=allow_outside, max_memory_bytes=max_memory)
    n = replications or scenario.simulation.replications
    states = len(scenario.state_names()) if states is None else states
    found = check_run_budget(scenario, replications=n, records=records, max_memory_bytes=max_memory, states=states,
                             runs_at_once=make_executor_workers(executor, address=address, workers=jobs),
                             timeline=timeline)
    if found:
        problems = [Problem(format_path(loc), msg, scenario.source_file, scenario.line_of(loc)) for loc, msg in found]
        raise ScenarioError(f"{file}: over the resource budget", problems)
    return scenario, n


@click.command("compare")
@click.argument("file", type=click.Path(dir_okay=False))
@_with_common
@_user_errors
def compare_command(file: str, replications: int | None, seed: int | None, as_json: bool,
                    out: Path | None, records: bool, event_log: Path | None, jobs: int | None,
                    executor: str | None, address: str | None, lang: str | None, allow_outside: bool,
                    max_memory: int | None) -> None:
    """Simulate the organisation before and after the reforms, side by side.

    Lead times (working and calendar days) with 95% confidence intervals, the
    paired difference, structure and headcount, and the bottleneck. A
    scenario with packages compares the state before with each package.
    """
    _check_executor(executor, address)
    _check_event_log(event_log)
    scenario, n = _load_within_budget(file, allow_outside=allow_outside, max_memory=max_memory,
                                      replications=replications, jobs=jobs, executor=executor, address=address,
                                      records=records, states=None)
    states = len(scenario.state_names())
    with use_language(language_of(lang, scenario)):
        with _progress(states * n, _("simulating")) as progress:
            result = compare(scenario, replications=n, seed=seed, keep_records=records, progress=progress,
                             executor=executor, workers=jobs, address=address, event_log=event_log)
        if event_log is not None:
            click.echo(_("wrote {path}").format(path=event_log), err=True)
        summary = result.to_dict()
        if out is not None:
            rec = _records_frame(list(result.states.values())) if records else None
            for path in _write_outputs(out, summary, result.to_frame(), rec):
                click.echo(_("wrote {path}").format(path=path), err=True)
        if as_json:
            _echo_json(summary)
        else:
            click.echo(_comparison_text(result, summary))
        _warn_unstable(list(result.states.values()))


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--state", default=None, metavar="STATE",
              help="before, after (the default), or the name of one of the scenario's packages.")
@_with_common
@_user_errors
def run(file: str, state: str | None, replications: int | None, seed: int | None, as_json: bool,
        out: Path | None, records: bool, event_log: Path | None, jobs: int | None, executor: str | None,
        address: str | None, lang: str | None, allow_outside: bool, max_memory: int | None) -> None:
    """Simulate one state of the organisation (by default after the reforms)."""
    _check_executor(executor, address)
    _check_event_log(event_log)
    scenario, n = _load_within_budget(file, allow_outside=allow_outside, max_memory=max_memory,
                                      replications=replications, jobs=jobs, executor=executor, address=address,
                                      records=records, states=1)
    state = _state_name(scenario, state)
    with use_language(language_of(lang, scenario)):
        with _progress(n, _("simulating")) as progress:
            result = run_state(scenario, state, replications=n, seed=seed, keep_records=records,
                               progress=progress, executor=executor, workers=jobs, address=address,
                               event_log=event_log)
        if event_log is not None:
            click.echo(_("wrote {path}").format(path=event_log), err=True)
        summary = result.to_dict()
        if out is not None:
            rec = _records_frame([result]) if records else None
            for path in _write_outputs(out, summary, result.to_frame(), rec):
                click.echo(_("wrote {path}").format(path=path), err=True)
        if as_json:
            _echo_json(summary)
            return
        from orgsim.presentation import results as r

        names = r.names_for(result)
        click.echo(_("{scenario} ({state}): {n} replications, seed {seed}").format(
            scenario=names.title(), state=r.state_phrase(state), n=n, seed=summary["seed"]))
        click.echo(render(r.project_type_table(summary, names, state=state)))
        click.echo()
        click.echo(render(r.lead_time_table(summary, names, state=state)))
        click.echo()
        click.echo(render(r.time_split_table(summary, names, states=(state,))))
        click.echo()
        click.echo(render(r.queue_table(result, names)))
        _warn_unstable([result])


def _state_name(scenario: Scenario, state: str | None) -> str:
    """``--state``: before, after, or a package's name; by default after (the first package)."""
    names = scenario.state_names()
    if state is None:
        return names[1]
    if state not in names:
        raise click.BadParameter(f"{state!r} is not a state of {scenario.source_file}: choose one of "
                                 f"{', '.join(names)}", param_hint="--state")
    return state


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--state", default="all", show_default=True, metavar="STATE",
              help="before, after (or a package's name), or all of them (also: both).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@lang_option
@input_options
@_user_errors
def estimate(file: str, state: str, as_json: bool, lang: str | None, allow_outside: bool,
             max_memory: int | None) -> None:
    """Analytic estimate (Erlang C per queue, Jackson network per path), in a blink.

    Exact for exponential times on serial paths; the output lists every place
    where it is only an approximation. Also gives the officers each queue
    needs to stay at or below the scenario's utilisation target.
    """
    from orgsim.sim.estimate import estimate_plan
    from orgsim.sim.plan import compile_plan

    scenario = load_scenario(file, allow_outside=allow_outside, max_memory_bytes=max_memory)
    chosen = scenario.state_names() if state in ("all", "both") else [_state_name(scenario, state)]
    outcomes = reform_packages(scenario)
    orgs = {"before": next(iter(outcomes.values())).before} | {name: o.after for name, o in outcomes.items()}
    target = scenario.simulation.utilisation_target
    plans = {name: compile_plan(orgs[name], scenario) for name in chosen}
    results = {name: estimate_plan(plan, target) for name, plan in plans.items()}
    if as_json:
        _echo_json({name: est.to_dict() for name, est in results.items()} | {"utilisation_target": target})
        return
    from orgsim.presentation import results as r
    from orgsim.presentation.names import Names

    with use_language(language_of(lang, scenario)):
        orgs_shown = [org for o in outcomes.values() for org in (o.before, *[s for _, s in o.states])]
        names = Names(scenario, orgs_shown).add_queues(pool for plan in plans.values() for pool in plan.pools.values())
        for name, est in results.items():
            click.echo(_("{scenario}, {state} (analytic estimate)").format(
                scenario=names.title(), state=r.state_phrase(name)))
            lead = est.mean_lead_time_days
            click.echo(_("mean lead time: {value}").format(
                value=_("unstable") if not math.isfinite(lead) else _("{days:.2f} working days").format(days=lead)))
            click.echo(table(
                [_("queue"), _("servers"), _("needed"), _("arrivals per day"), _("utilisation"),
                 _("mean wait (working days)")],
                [[names.queue(p.key), p.servers, p.servers_needed, f"{p.arrival_rate_per_day:.3f}",
                  f"{p.utilisation:.1%}",
                  _("unstable") if not math.isfinite(p.mean_wait_days) else f"{p.mean_wait_days:.3f}"]
                 for p in sorted(est.pools, key=lambda p: -p.utilisation)],
                numeric=[False, True, True, True, True, True],
            ))
            click.echo(_("('needed': fewest servers keeping utilisation at or below {target:.0%})").format(
                target=target))
            if est.support:
                click.echo(table(
                    [_("unit"), _("support staff"), _("needed"), _("cases per year"), _("support hours per year"),
                     _("done by officers")],
                    [[names.unit(s.unit), s.support_staff, s.support_needed, f"{s.cases_per_year:,.0f}",
                      f"{s.support_hours_per_year:,.0f}", f"{s.shortfall_hours_per_year:,.0f}"]
                     for s in est.support],
                    title=_("support work per unit ('needed': support staff who would do all of it; what they "
                            "cannot do, the unit's officers do instead of cases)"),
                    numeric=[False, True, True, True, True, True],
                ))
            for item in est.caveat_items:
                click.echo("  " + _("approximation: {what}").format(what=r.caveat_text(item, names)))
            click.echo()
