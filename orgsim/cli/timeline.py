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
    from orgsim.cli.simulate import _load_within_budget
    from orgsim.presentation.timeline import phase_labels
    from orgsim.timeline.run import timeline

    # What the timeline's runs would cost, checked before any of them (not compare's estimate).
    scenario, _n = _load_within_budget(str(file), allow_outside=allow_outside, max_memory=max_memory,
                                       replications=replications, jobs=jobs, executor=executor, address=None,
                                       records=False, states=1, timeline=True)
    chosen = language_of(lang, scenario, english)
    with open_executor(executor, workers=jobs, error=SimulationError) as ex:
        result = timeline(scenario, seed=seed, replications=replications, period=period,  # type: ignore[arg-type]
                          executor=ex)
    data = result.to_dict()
    if out_dir is not None:
        from orgsim._io import atomic_write_text

        out_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out_dir / "timeline.json", json.dumps(data, ensure_ascii=False, indent=2))
    if as_json:
        _echo_json(data)
        return
    from orgsim.cli._tables import render
    from orgsim.i18n import _
    from orgsim.presentation.tables import Cell, Table

    def number(value: float | None, digits: int = 1) -> Cell:
        return Cell("–" if value is None else f"{value:,.{digits}f}", numeric=True)

    with use_language(chosen):
        rows = []
        labels = phase_labels(data["phases"])
        for p in data["periods"]:
            lead = p["lead_time_working_days"]
            rows.append([Cell(p["start"]), Cell(labels[p["phase"]]), number(p["posts"], 0),
                         number(p["headcount"]), number(p["vacancies"]), number(p["hires"]), number(p["exits"]),
                         number(p["arrived"]), number(p["completed"]), number(p["backlog"]), number(lead["mean"]),
                         number(lead["p90"]), number(p["payroll_yuan"], 0)])
        headers = [_("period from"), _("phase"), _("posts"), _("people in post"), _("vacant"), _("hires"),
                   _("exits"), _("arrived"), _("completed"), _("backlog"), _("mean lead time"), _("p90"),
                   _("payroll (yuan)")]
        click.echo(render(Table(_("The programme over time (means of the replications; lead times in working days "
                                  "of the applications that arrived in the period)"), headers, rows)))
