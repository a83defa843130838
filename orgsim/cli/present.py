"""``orgsim plot`` and ``orgsim report``: figures and the self-contained HTML report.

matplotlib is imported only when one of these commands runs, and always with
the non-interactive Agg backend.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from orgsim._io import atomic_write
from orgsim.cli._common import _progress, _user_errors, english_option, input_options, lang_option, language_of
from orgsim.experiment import Comparison, compare
from orgsim.i18n import _, use_language
from orgsim.plotting import KINDS, SWEEP_COLUMNS
from orgsim.reforms import reform_scenario
from orgsim.scenario import load_scenario
from orgsim.timeline.programme import dated

if TYPE_CHECKING:
    import pandas as pd

    from orgsim.scenario.schema import Scenario
    from orgsim.timeline.run import TimelineResult

__all__ = ["plot", "report"]

#: Figure formats ``orgsim plot`` writes, by file suffix.
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
#: Kinds drawn from the simulation (the others need only the reforms).
_SIMULATED = ("leadtime", "utilisation", "timesplit")

F = TypeVar("F", bound=Callable[..., Any])


def _use_agg() -> None:
    import matplotlib

    matplotlib.use("Agg")


def _read_sweep(path: Path) -> pd.DataFrame:
    """A sweep's results as a data frame, with the columns plot_sweep needs."""
    import pandas as pd

    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path)
        elif suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            raise click.BadParameter(f"{path}: expected a .csv or .parquet file", param_hint="--sweep")
    except ImportError as exc:
        raise click.BadParameter(
            f"{path}: reading Parquet needs pyarrow or fastparquet (pip install pyarrow): {exc}",
            param_hint="--sweep",
        ) from None
    except (OSError, ValueError) as exc:  # pandas' parser errors are ValueErrors
        raise click.BadParameter(f"{path}: cannot read it: {exc}", param_hint="--sweep") from None
    missing = [c for c in SWEEP_COLUMNS if c not in frame.columns]
    if missing:
        raise click.BadParameter(
            f"{path}: missing column(s) {', '.join(missing)} (a sweep has {', '.join(SWEEP_COLUMNS)}, "
            "optionally stable, and one column per varied parameter)",
            param_hint="--sweep",
        )
    if not len(frame):
        raise click.BadParameter(f"{path}: has no rows", param_hint="--sweep")
    return frame


def _simulate(scenario: Scenario, replications: int | None, seed: int | None, package: str | None = None) -> Comparison:
    from orgsim.cli.simulate import _warn_unstable
    from orgsim.experiment import PackageComparison

    n = replications or scenario.simulation.replications
    name = _package_name(scenario, package)
    with _progress(len(scenario.state_names()) * n, _("simulating")) as progress:
        compared = compare(scenario, replications=n, seed=seed, progress=progress)
    # Figures and the report show the state before against one package: the
    # comparison of all packages is simulated (same numbers) and one is drawn.
    result = compared.package(name) if isinstance(compared, PackageComparison) and name else compared
    assert isinstance(result, Comparison)
    _warn_unstable([result.before, result.after])
    return result


def _simulate_timeline(file: str, scenario: Scenario, replications: int | None, seed: int | None,
                       package: str | None) -> TimelineResult:
    """The scenario's programme over time, per month (``orgsim timeline``'s numbers)."""
    from orgsim.timeline.run import timeline

    if package is not None:
        raise click.BadParameter("a timeline follows one reform list, not packages", param_hint="--package")
    if not dated(scenario):
        raise click.BadParameter(f"{file}: no phase has an effective date (reforms[].effective), so there is no "
                                 "programme over time to draw", param_hint="--kind timeline")
    return timeline(scenario, seed=seed, replications=replications)


def _package_name(scenario: Any, package: str | None) -> str | None:
    names = list(scenario.packages)
    if package is None and names:
        raise click.BadParameter(f"the scenario compares packages {', '.join(names)}; figures and the report show "
                                 "one against the state before: name it", param_hint="--package")
    if package is not None and package not in names:
        known = ", ".join(names) or "none (the scenario has one reform list)"
        raise click.BadParameter(f"no package {package!r}; packages: {known}", param_hint="--package")
    return package


_sim_options = [
    click.option("--package", metavar="NAME", help="Of a scenario with packages: the one drawn against before."),
    click.option("-r", "--replications", type=click.IntRange(1, 10_000),
                 help="Replications (default: the scenario's)."),
    click.option("--seed", type=click.IntRange(0), help="Seed (default: the scenario's)."),
    lang_option,
    english_option,
    input_options,
]


def _with_sim_options(func: F) -> F:
    for option in reversed(_sim_options):
        func = option(func)
    return func


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--kind", type=click.Choice(KINDS), required=True, help="Which figure.")
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Output file: .png, .svg or .pdf.")
@click.option("--sweep", "sweep_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Sweep results (.csv or .parquet) for --kind sweep.")
@click.option("--clock", type=click.Choice(["working", "calendar", "statutory"]), default="working",
              show_default=True, help="Lead-time clock for --kind leadtime.")
@click.option("--dpi", type=click.IntRange(20, 1200), default=200, show_default=True,
              help="Resolution of PNG output.")
@_with_sim_options
@_user_errors
def plot(file: str, kind: str, out: Path, sweep_file: Path | None, clock: str, dpi: int, package: str | None,
         replications: int | None, seed: int | None, lang: str | None, english: bool, allow_outside: bool,
         max_memory: int | None) -> None:
    """Draw one figure of a scenario: org chart, lead times, utilisation, headcount
    waterfall, where the time goes, sweep curves, or the programme over time.

    \b
    orgchart     units before and after, sized by headcount, coloured by kind
    leadtime     lead-time distributions per project type, each with its limit
    utilisation  per-queue utilisation before and after, bottleneck starred
    waterfall    headcount: before, merged away, stripped, spun off, capped, after
    timesplit    waiting, processing, sign-off, hand-off and rework, stacked
    sweep        mean p90 lead time with a CI band against the varied value
                 and headcount (needs --sweep)
    timeline     posts, people in post and lead times month by month over a
                 programme, each dated phase marked (needs effective dates)
    """
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise click.BadParameter(f"{out}: the file name must end in {', '.join(FORMATS)}", param_hint="-o/--out")
    if kind == "sweep" and sweep_file is None:
        raise click.UsageError("--kind sweep needs --sweep FILE (.csv or .parquet)")
    if kind != "sweep" and sweep_file is not None:
        raise click.UsageError("--sweep is used only with --kind sweep")
    frame = _read_sweep(sweep_file) if sweep_file is not None else None
    scenario = load_scenario(file, allow_outside=allow_outside, max_memory_bytes=max_memory)
    chosen = language_of(lang, scenario, english)
    _use_agg()
    from orgsim import plotting

    with use_language(chosen):
        if kind == "timeline":
            fig = plotting.plot_timeline(_simulate_timeline(file, scenario, replications, seed, package), scenario,
                                         lang=chosen)
        elif kind in _SIMULATED:
            result = _simulate(scenario, replications, seed, package)
            if kind == "leadtime":
                fig = plotting.plot_lead_times(result, clock=clock, lang=chosen)
            elif kind == "utilisation":
                fig = plotting.plot_utilisation(result, lang=chosen)
            else:
                fig = plotting.plot_time_split(result, lang=chosen)
        elif kind == "sweep":
            assert frame is not None, "--kind sweep without --sweep was refused above"
            fig = plotting.plot_sweep(frame, scenario=scenario, lang=chosen)
        else:
            outcome = reform_scenario(scenario, package=_package_name(scenario, package))
            draw = plotting.plot_orgchart if kind == "orgchart" else plotting.plot_headcount_waterfall
            fig = draw(outcome, scenario, lang=chosen)
        atomic_write(out, lambda tmp: fig.savefig(tmp, format=fmt, dpi=dpi))
        click.echo(_("wrote {path}").format(path=out), err=True)


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Output file (.html).")
@click.option("--sweep", "sweep_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Also plot these sweep results (.csv or .parquet).")
@click.option("--dpi", type=click.IntRange(20, 600), default=200, show_default=True,
              help="Resolution of the embedded figures (200 and up prints sharply).")
@_with_sim_options
@_user_errors
def report(file: str, out: Path, sweep_file: Path | None, dpi: int, package: str | None,
           replications: int | None, seed: int | None, lang: str | None, english: bool, allow_outside: bool,
           max_memory: int | None) -> None:
    """Write one self-contained HTML report: the headline, every figure, tables per project type
    with confidence intervals, the change log as sentences, then sources, assumptions and run details.
    """
    if out.suffix.lower() not in (".html", ".htm"):
        raise click.BadParameter(f"{out}: the file name must end in .html", param_hint="-o/--out")
    frame = _read_sweep(sweep_file) if sweep_file is not None else None
    scenario = load_scenario(file, allow_outside=allow_outside, max_memory_bytes=max_memory)
    chosen = language_of(lang, scenario, english)
    with use_language(chosen):
        result = _simulate(scenario, replications, seed, package)
        programme = None
        if package is None and dated(scenario):  # the phases are dated: the programme over time, per quarter
            from orgsim.timeline.run import timeline

            programme = timeline(scenario, seed=seed, replications=replications, period="quarter")
        _use_agg()
        from orgsim.report import write_report

        write_report(out, result, sweep=frame, timeline=programme, lang=chosen, dpi=dpi)
        click.echo(_("wrote {path}").format(path=out), err=True)
