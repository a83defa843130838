"""``orgsim timeline``: a reform as a programme over time, one row per period."""

from __future__ import annotations

import json
from pathlib import Path

import click

from orgsim.cli._common import _echo_json, _user_errors, english_option, input_options, lang_option, language_of

__all__ = ["timeline_command"]


@click.command("timeline")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the periods as JSON (a top-level `periods` list).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Write timeline.json here.")
@click.option("-r", "--replications", type=click.IntRange(1, 10_000), help="Replications (default: the scenario's).")
@click.option("--seed", type=click.IntRange(0), help="Seed (default: the scenario's).")
@click.option("--period", type=click.Choice(["month", "quarter", "year"]), default="month", show_default=True)
@click.option("--executor", type=click.Choice(["serial", "processes", "dask"]), default=None,
              help="Where replications run (same numbers on every executor).")
@click.option("--jobs", type=click.IntRange(1), help="Worker processes (with --executor processes).")
@lang_option
@english_option
@input_options
@_user_errors
def timeline_command(file: Path, as_json: bool, out_dir: Path | None, replications: int | None, seed: int | None,
                     period: str, executor: str | None, jobs: int | None, lang: str | None, english: bool,
                     allow_outside: bool, max_memory: int | None) -> None:
    """Simulate FILE's reform as a programme over time: posts, people, lead times and pay per period."""
    from orgsim.errors import SimulationError
    from orgsim.executors import open_executor
    from orgsim.i18n import use_language
    from orgsim.presentation.timeline import phase_label
    from orgsim.scenario import load_scenario
    from orgsim.timeline.run import timeline

    scenario = load_scenario(file, allow_outside=allow_outside, max_memory_bytes=max_memory)
    chosen = language_of(lang, scenario, english)
    with open_executor(executor, workers=jobs, error=SimulationError) as ex:
        result = timeline(scenario, seed=seed, replications=replications, period=period,  # type: ignore[arg-type]
                          executor=ex)
    data = result.to_dict()
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        tmp = out_dir / "timeline.json.tmp"
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        tmp.replace(out_dir / "timeline.json")  # whole or not at all
    if as_json:
        _echo_json(data)
        return
    click.echo(f"{'start':<11}{'phase':<14}{'posts':>7}{'people':>8}{'vacant':>7}{'hires':>6}{'exits':>6}"
               f"{'arrived':>8}{'done':>6}{'backlog':>8}{'lead':>8}{'p90':>8}{'payroll':>14}")
    for p in data["periods"]:
        lead = p["lead_time_working_days"]
        fmt = lambda v, w, d=1: f"{v:>{w}.{d}f}" if v is not None else f"{'-':>{w}}"  # noqa: E731
        with use_language(chosen):
            phase = phase_label(p["phase"])
        click.echo(f"{p['start']:<11}{phase[:13]:<14}{p['posts']:>7.0f}{p['headcount']:>8.1f}"
                   f"{p['vacancies']:>7.1f}{p['hires']:>6.1f}{p['exits']:>6.1f}{p['arrived']:>8.1f}"
                   f"{p['completed']:>6.1f}{p['backlog']:>8.1f}{fmt(lead['mean'], 8)}{fmt(lead['p90'], 8)}"
                   f"{fmt(p['payroll_yuan'], 14, 0)}")
