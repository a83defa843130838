"""One self-contained HTML report of a comparison, for an official: headline, figures, tables, sources.

The page opens with three to five sentences with the numbers that matter
(lead time per project type against its limit, headcount and bodies, the
bottleneck and what would relieve it), then the figures, then the tables and
the change log as sentences, then sources, assumptions and how the numbers
were made (seed, replications, the scenario's SHA-256, the orgsim version,
and the command that reproduces them). It is rendered from a Jinja2 template
(``orgsim/templates/report.html``, autoescaped: text from the scenario is
never markup) in the language asked for (:mod:`orgsim.i18n`).

The report needs nothing but the file: figures are embedded as PNG at print
resolution (200 dpi by default), styles are inline (with print styles for
A4), and there is no script. The numbers are those of ``orgsim compare
--json`` (docs/compare-json.md).
"""

from __future__ import annotations

import base64
import io
import struct
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orgsim._io import atomic_write_text
from orgsim.experiment import Comparison
from orgsim.i18n import N_, _, check_language, ngettext, resolve_language, use_language
from orgsim.presentation import results as r
from orgsim.presentation.changes import change_sentences
from orgsim.presentation.tables import destinations_text
from orgsim.presentation.texts import scenario_texts

if TYPE_CHECKING:
    import jinja2
    import pandas as pd
    from markupsafe import Markup
    from matplotlib.figure import Figure

    from orgsim.timeline.run import TimelineResult

__all__ = ["render_report", "write_report", "report_figures", "DEFAULT_DPI"]

#: Resolution of the embedded figures: print quality.
DEFAULT_DPI = 200
#: CSS pixels per inch: figures are shown at their size in inches, sharp on paper and on high-density screens.
_CSS_PX_PER_INCH = 96

#: Figures of the report: kind, title and caption (English, translated where shown).
_FIGURES = (
    ("leadtime", N_("Approval lead times by project type"),
     N_("Share of applications done within a number of working days, before and after (all replications "
        "pooled); one panel per project type with its own statutory limit, and the pooled panel first when "
        "there are several types. Dots mark p50 and p90 (means over replications), also given in the legends.")),
    ("timesplit", N_("Where an application's time goes"),
     N_("Mean working days on each application's critical path, pooled and per project type; the parts add "
        "up to the mean lead time.")),
    ("utilisation", N_("Utilisation by queue"),
     N_("Share of each queue's working time busy with cases (a queue is one function's officers, a unit's "
        "pooled officers, or its leaders who sign off); the star marks each state's busiest queue, on its bar.")),
    ("waterfall", N_("Headcount, step by step"),
     N_("Zone government headcount from before to after, by kind of reform operator in the scenario; labels "
        "split each step into posts cut, people moved out of the zone government, hired and moved in.")),
    ("orgchart", N_("The organisation before and after"),
     N_("Each unit is a row under the unit it reports to; marker area is headcount, colour the kind of unit, "
        "a square a unit outside the zone government. Tags mark merged, dissolved and new units and the "
        "functions stripped, devolved, moved to a one-stop bureau or spun off.")),
    ("sweep", N_("Sweep"),
     N_("Mean p90 lead time with its 95% confidence band against the varied lever and headcount; crosses are "
        "points where some replication was unstable.")),
)


def _figure_png(fig: Figure, dpi: int) -> tuple[str, int, int]:
    """The figure as base64 PNG, with its size in CSS pixels (its size in inches at 96 per inch)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    png = buffer.getvalue()
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk: the pixel size
    scale = _CSS_PX_PER_INCH / dpi
    return base64.b64encode(png).decode("ascii"), round(width * scale), round(height * scale)


def report_figures(
    comparison: Comparison, *, sweep: pd.DataFrame | None = None, lang: str | None = None,
    english: bool | None = None,
) -> list[tuple[str, Figure]]:
    """The report's figures in order, as (kind, Figure); ``sweep`` adds the sweep curves."""
    from orgsim import plotting

    makers: dict[str, Callable[[], Figure]] = {
        "orgchart": lambda: plotting.plot_orgchart(comparison, lang=lang, english=english),
        "waterfall": lambda: plotting.plot_headcount_waterfall(comparison, lang=lang, english=english),
        "leadtime": lambda: plotting.plot_lead_times(comparison, lang=lang, english=english),
        "timesplit": lambda: plotting.plot_time_split(comparison, lang=lang, english=english),
        "utilisation": lambda: plotting.plot_utilisation(comparison, lang=lang, english=english),
    }
    if sweep is not None:
        makers["sweep"] = lambda: plotting.plot_sweep(sweep, scenario=comparison.scenario, lang=lang, english=english)
    return [(kind, makers[kind]()) for kind, _t, _c in _FIGURES if kind in makers]


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("orgsim", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
    )
    # Messages are looked up when the template runs, in the language in force then.
    env.globals["_"] = _
    env.globals["ngettext"] = ngettext
    return env


def _css() -> Markup:
    """The report's styles: orgsim's own file, so marked safe (escaping would break its quoted font names)."""
    from markupsafe import Markup

    return Markup(resources.files("orgsim").joinpath("templates/report.css").read_text(encoding="utf-8"))


_TIMELINE_TITLE = N_("The programme over time")
_TIMELINE_CAPTION = N_(
    "Top: posts, people in post and newcomers still learning as each period opens. Bottom: the mean lead time "
    "of the applications filed in each period with its 95% confidence band across replications, and the p90. "
    "Dotted lines mark the dated phases, numbered as in the legend.")


def _programme(timeline: TimelineResult, c: Comparison, dpi: int, figures_lang: str | None,
               english: bool | None) -> dict[str, Any]:
    """The report's section on a programme over time: its phases, figure and table."""
    from orgsim import plotting
    from orgsim.presentation.timeline import phases_text, timeline_table

    fig = plotting.plot_timeline(timeline, c.scenario, lang=figures_lang, english=english)
    data, width, height = _figure_png(fig, dpi)
    fig.clear()
    return {
        "intro": _("The reforms take effect in dated phases; one simulation run spans the programme, with the "
                   "people in post over time (orgsim timeline, the same seed, {n} replications).").format(
            n=timeline.replications),
        "phases": phases_text(timeline),
        "figure": {"kind": "timeline", "data": data, "width": width, "height": height, "title": _(_TIMELINE_TITLE),
                   "caption": _(_TIMELINE_CAPTION)},
        "table": timeline_table(timeline),
    }


def _context(c: Comparison, sweep: pd.DataFrame | None, lang: str, dpi: int, output_name: str,
             figures_lang: str | None, english: bool | None, timeline: TimelineResult | None = None
             ) -> dict[str, Any]:
    from orgsim import __version__

    d = c.to_dict()
    names = r.names_for(c)
    meta = c.scenario.scenario
    sim = c.scenario.simulation
    figures = report_figures(c, sweep=sweep, lang=figures_lang, english=english)
    titles = {kind: (title, caption) for kind, title, caption in _FIGURES}
    shown = []
    for kind, fig in figures:
        data, width, height = _figure_png(fig, dpi)
        fig.clear()
        title, caption = titles[kind]
        shown.append({"kind": kind, "data": data, "width": width, "height": height, "title": _(title),
                      "caption": _(caption)})
    tables = [
        r.project_type_table(d, names),
        r.lead_time_table(d, names),
        r.time_split_table(d, names),
        r.structure_table(c.before.structure, c.after.structure),
        r.staffing_table(d, names, sim.utilisation_target),
        r.support_table(d, names),
        r.queue_table(c.before, names),
        r.queue_table(c.after, names),
    ]
    tables = [t for t in tables if t is not None]
    unstable = [_("{state}: {why}").format(state=r.state_phrase(s.name), why=r.instability_text(s, names))
                for s in (c.before, c.after) if not s.stable]
    changes = change_sentences(c.outcome, c.scenario, names)
    n_ops = len(c.outcome.states)
    package = f" --package {c.outcome.package}" if c.outcome.package else ""
    reproduce = (f"orgsim report {c.scenario.source_file}{package} --seed {c.seed} --replications {c.replications} "
                 f"--lang {lang} -o {output_name}")
    run = [
        (_("scenario file"), c.scenario.source_file),
        (_("scenario SHA-256"), c.scenario.sha256),
        (_("orgsim version"), __version__),
        (_("seed"), str(c.seed)),
        (_("replications per state"), str(c.replications)),
        (_("horizon / warm-up"), _("{horizon:g} / {warmup:g} working days").format(
            horizon=sim.horizon_days, warmup=sim.warmup_days)),
        (_("calendar"), _("from {start}, {hours:g} hours a day, holidays: {holidays}").format(
            start=sim.calendar.start.isoformat(), hours=sim.calendar.hours_per_day, holidays=sim.calendar.holidays)),
        (_("reform operators"), str(n_ops)),
    ]
    chinese = lang == "zh"
    texts = scenario_texts(meta, lang)
    return {
        "lang_tag": r.language_tag(),
        "css": _css(),
        "title": names.title(),
        "subtitle": (meta.name_en if chinese else meta.name) if meta.name_en else None,
        "description": texts.description,
        "unstable": unstable,
        "headline": r.headline(c, d, names),
        "figures": shown,
        "tables": tables,
        "programme": None if timeline is None else _programme(timeline, c, dpi, figures_lang, english),
        "destinations": destinations_text(c.after.structure),
        "changes_intro": ngettext("{n} reform operator, in order:", "{n} reform operators, in order:", n_ops).format(
            n=n_ops) if n_ops else _("The scenario has no reform."),
        "changes": changes,
        "sources": texts.sources,
        "assumptions": texts.assumptions,
        "run": run,
        "method_note": _("Means with Student-t 95% confidence intervals across replications; percentiles are "
                         "means of each replication's percentile. Changes are paired replication by replication "
                         "(common random numbers), so their intervals are narrower than either state's. Lead "
                         "times of an unstable state are not reported."),
        "footer": _("Made by orgsim {version}. The same scenario file (same SHA-256), seed, replications and "
                    "version give the same numbers:").format(version=__version__),
        "reproduce": reproduce,
    }


def render_report(
    comparison: Comparison,
    *,
    sweep: pd.DataFrame | None = None,
    timeline: TimelineResult | None = None,
    lang: str | None = None,
    english: bool | None = None,
    dpi: int = DEFAULT_DPI,
    output_name: str = "report.html",
) -> str:
    """The HTML report of ``comparison`` (and of a sweep's frame, when given), as text.

    ``timeline``, the scenario's programme over time (:func:`orgsim.timeline`)
    when its phases are dated, adds a section with its figure and table.

    ``lang`` is ``zh`` or ``en`` (default: ``$ORGSIM_LANG``, else the
    scenario's ``scenario.language``, else English; ``english=True`` is
    ``en``). ``output_name`` is the file name the reproduce command writes.
    """
    if english:
        chosen = "en"
    elif lang:
        chosen = check_language(lang, "lang")
    else:
        chosen = resolve_language(None, comparison.scenario)
    with use_language(chosen):
        context = _context(comparison, sweep, chosen, dpi, output_name, chosen, english, timeline)
        return _environment().get_template("report.html").render(**context)


def write_report(
    path: str | Path,
    comparison: Comparison,
    *,
    sweep: pd.DataFrame | None = None,
    timeline: TimelineResult | None = None,
    lang: str | None = None,
    english: bool | None = None,
    dpi: int = DEFAULT_DPI,
) -> Path:
    """Write the report to ``path``, whole or not at all."""
    text = render_report(comparison, sweep=sweep, timeline=timeline, lang=lang, english=english, dpi=dpi,
                         output_name=Path(path).name)
    return atomic_write_text(path, text)
