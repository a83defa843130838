"""One self-contained HTML report of a comparison: summary, tables, figures, change log.

The report needs nothing but the file: figures are embedded as base64 PNG,
styles are inline, and there is no script. Every piece of text from the
scenario is escaped. The numbers are those of ``orgsim compare --json``
(docs/compare-json.md), and the report names the seed, the replications,
the scenario's SHA-256 and the orgsim version that reproduce them.
"""

from __future__ import annotations

import base64
import io
import math
import re
import struct
from collections.abc import Callable, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orgsim._io import atomic_write_text
from orgsim.experiment import Comparison
from orgsim.model.metrics import STRUCTURE_ROWS
from orgsim.sim.results import COMPONENTS, PERCENTILES

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["render_report", "write_report", "report_figures"]

_CSS = """
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei",
       system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1.5em; color: #222;
       line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h1 small { font-weight: normal; color: #555; font-size: 0.65em; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #d0d0d0; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #444; font-size: 0.92em; margin-top: 0.3em; }
.warning { background: #fff3cd; border: 1px solid #e0c060; padding: 0.6em 1em; }
.meta td:first-child { color: #555; }
code { font-size: 0.92em; }
"""

#: Structure rows of the before/after table: label and how to read it.
_STRUCTURE_ROWS = [(label, get) for label, _indent, get in STRUCTURE_ROWS]

#: Figures of the report: kind, title and caption.
_FIGURES = (
    ("orgchart", "The organisation before and after",
     "Each unit is a row under the unit it reports to; marker area is headcount, colour the kind of unit, "
     "a square a unit outside the zone government. Tags mark merged, dissolved and new units and the "
     "functions stripped, devolved, moved to a one-stop bureau or spun off."),
    ("waterfall", "Headcount, step by step",
     "Zone government headcount from before to after, by kind of reform operator; labels split each step "
     "into staff released, moved out of the zone government, hired and moved in."),
    ("leadtime", "Approval lead times",
     "Share of applications done within a number of working days (all replications pooled), with p50 and "
     "p90 (means over replications) and the statutory limit."),
    ("timesplit", "Where an application's time goes",
     "Mean working days on each application's critical path; the parts add up to the mean lead time."),
    ("utilisation", "Utilisation by unit",
     "Share of officers' (bars) and leaders' (diamonds) working time busy with cases; the star is the "
     "busiest queue of each state."),
    ("sweep", "Sweep",
     "Mean p90 lead time with its 95% confidence band against the varied parameter and headcount; "
     "crosses are points where some replication was unstable."),
)


def _figure_png(fig: Figure, dpi: int) -> tuple[str, int, int]:
    """The figure as base64 PNG, with its pixel size."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    png = buffer.getvalue()
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk: the pixel size
    return base64.b64encode(png).decode("ascii"), width, height


def report_figures(
    comparison: Comparison, *, sweep: pd.DataFrame | None = None, english: bool | None = None
) -> list[tuple[str, Figure]]:
    """The report's figures in order, as (kind, Figure); ``sweep`` adds the sweep curves."""
    from orgsim import plotting

    makers: dict[str, Callable[[], Figure]] = {
        "orgchart": lambda: plotting.plot_orgchart(comparison, english=english),
        "waterfall": lambda: plotting.plot_headcount_waterfall(comparison, english=english),
        "leadtime": lambda: plotting.plot_lead_times(comparison, english=english),
        "timesplit": lambda: plotting.plot_time_split(comparison, english=english),
        "utilisation": lambda: plotting.plot_utilisation(comparison, english=english),
    }
    if sweep is not None:
        makers["sweep"] = lambda: plotting.plot_sweep(sweep, scenario=comparison.scenario, english=english)
    return [(kind, makers[kind]()) for kind, _, _ in _FIGURES if kind in makers]


# ---------------------------------------------------------------- HTML helpers


_NUMERIC = re.compile(r"^[+\-−]?\d[\d.,%]*( \[[^\]]*\]| \([^)]*\))?$")


class _Label(str):
    """Text that only looks like a number (a phase such as "2020"): left-aligned."""


def _cell(value: Any) -> str:
    if isinstance(value, _Label):
        return f"<td>{escape(value)}</td>"
    if value is None:
        return "<td>–</td>"
    if isinstance(value, bool):
        return f"<td>{'yes' if value else 'no'}</td>"
    if isinstance(value, (int, float)):
        return f'<td class="num">{escape(_num(value))}</td>'
    text = str(value)
    if _NUMERIC.match(text):
        return f'<td class="num">{escape(text)}</td>'
    return f"<td>{escape(text)}</td>"


def _num(value: float | int, digits: int = 1) -> str:
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "n/a"
    return f"{value:.{digits}f}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], caption: str | None = None) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "\n".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in rows)
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>"


def _fmt(x: float | None, digits: int = 1) -> str | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _ci(ci: Sequence[float] | None, digits: int = 1) -> str | None:
    if not ci or any(v is None or math.isnan(v) for v in ci):
        return None
    return f"[{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"


def _with_ci(mean: float | None, ci: Sequence[float] | None) -> str | None:
    if mean is None:
        return None
    interval = _ci(ci)
    return f"{mean:.1f} {interval}" if interval else f"{mean:.1f}"


# ---------------------------------------------------------------- sections


def _summary_section(c: Comparison, d: dict[str, Any]) -> str:
    sim = c.scenario.simulation
    rows = [
        ("scenario file", c.scenario.source_file),
        ("scenario SHA-256", c.scenario.sha256),
        ("orgsim version", d["orgsim_version"]),
        ("seed", c.seed),
        ("replications per state", c.replications),
        ("horizon / warm-up", f"{sim.horizon_days:g} / {sim.warmup_days:g} working days"),
        ("calendar", f"from {sim.calendar.start.isoformat()}, {sim.calendar.hours_per_day:g} hours a day, "
                     f"holidays: {sim.calendar.holidays}"),
        ("reform operators", len(c.outcome.states)),
    ]
    body = "\n".join(f"<tr><td>{escape(k)}</td>{_cell(v)}</tr>" for k, v in rows)
    return f'<h2 id="run">The run</h2>\n<table class="meta"><tbody>\n{body}\n</tbody></table>'


def _key_results(c: Comparison, d: dict[str, Any]) -> str:
    b, a, diff = d["before"], d["after"], d["difference"]
    rows: list[list[Any]] = []
    for key, unit in (("lead_time_working_days", "working days"), ("lead_time_calendar_days", "calendar days")):
        rows.append([f"lead time mean ({unit})", _with_ci(b[key]["mean"], b[key]["ci95"]),
                     _with_ci(a[key]["mean"], a[key]["ci95"]), _fmt(diff[key]["mean"]["mean"]),
                     _ci(diff[key]["mean"]["ci95"])])
        for p in PERCENTILES:
            rows.append([f"lead time p{p} ({unit})", _fmt(b[key][f"p{p}"]), _fmt(a[key][f"p{p}"]),
                         _fmt(diff[key][f"p{p}"]["mean"]), _ci(diff[key][f"p{p}"]["ci95"])])
    rows += [
        ["share over the statutory limit", _fmt(b["share_over_statutory_limit"], 3),
         _fmt(a["share_over_statutory_limit"], 3), None, None],
        ["throughput (applications per working day)", _fmt(b["throughput_per_working_day"], 2),
         _fmt(a["throughput_per_working_day"], 2), None, None],
        ["backlog at the horizon", _fmt(b["backlog_end"]), _fmt(a["backlog_end"]), None, None],
        ["stable", b["stable"], a["stable"], None, None],
        ["bottleneck (busiest queue)", b["bottleneck"], a["bottleneck"], None, None],
        ["zone government headcount", b["headcount"], a["headcount"], f"{diff['headcount']:+d}", None],
    ]
    table = _table(["measure", "before (95% CI)", "after (95% CI)", "after − before", "95% CI (paired)"], rows)
    note = (
        "<p>Means with Student-t 95% confidence intervals across replications; percentiles are means of "
        "each replication's percentile. The change is paired replication by replication (common random "
        "numbers), so its interval is narrower than either state's. Lead times of an unstable state are "
        "not reported.</p>"
    )
    return f'<h2 id="results">Before and after</h2>\n{table}\n{note}'


def _structure_section(c: Comparison) -> str:
    before, after = c.before.structure, c.after.structure
    rows = []
    for label, get in _STRUCTURE_ROWS:
        x, y = get(before), get(after)
        change = ""
        if isinstance(x, int) and isinstance(y, int):
            change = f"{y - x:+d}" + (f" ({(y - x) / x:+.1%})" if x else "")
        rows.append([label, x, y, change])
    dest = after.headcount_by_destination
    where = ", ".join(f"{k} {v}" for k, v in dest.items() if v)
    return (
        '<h2 id="structure">Structure and headcount</h2>\n'
        + _table(["metric", "before", "after", "change"], rows)
        + f"\n<p>Where the staff went: {escape(where)}.</p>"
    )


def _time_and_queues(c: Comparison, d: dict[str, Any]) -> str:
    rows = []
    for comp in COMPONENTS:
        row: list[Any] = [comp]
        for name in ("before", "after"):
            split = d[name]["time_split_working_days"]
            row.append(_fmt(split.get(comp)) if split else None)
        rows.append(row)
    out = ['<h2 id="time">Where the time goes and the busiest queues</h2>',
           _table(["component (working days on the critical path)", "before", "after"], rows)]
    for state in (c.before, c.after):
        ranked = state.bottlenecks()[:5]
        out.append(_table(
            ["queue", "servers", "utilisation", "mean queue"],
            [[b["pool"], b["servers"], f"{b['utilisation']:.1%}", _fmt(b["mean_queue"], 2)] for b in ranked],
            caption=f"busiest queues {state.name} the reforms",
        ))
    return "\n".join(out)


def _sources_section(c: Comparison) -> str:
    meta = c.scenario.scenario
    out = ['<h2 id="sources">Sources and assumptions</h2>']
    if meta.sources:
        out.append(_table(["id", "source", "file", "figures taken"],
                          [[s.id, s.title, s.file, "; ".join(s.figures)] for s in meta.sources]))
    else:
        out.append("<p>The scenario names no source.</p>")
    if meta.assumptions:
        out.append(_table(["about", "value", "reason"],
                          [[a.about, None if a.value is None else str(a.value), a.reason] for a in meta.assumptions],
                          caption="assumed numbers"))
    else:
        out.append("<p>The scenario lists no assumption.</p>")
    return "\n".join(out)


def _changes_section(c: Comparison) -> str:
    rows = [[i, None if ch.phase is None else _Label(ch.phase), ch.op, ch.action, ch.subject, ch.source, ch.target, ch.staff or None,
             ch.category, ch.note] for i, ch in enumerate(c.outcome.changes, 1)]
    states = ", ".join(label for label, _ in c.outcome.states)
    return (
        '<h2 id="changes">Change log</h2>\n'
        f"<p>{len(c.outcome.states)} reform operators, in order: {escape(states) or 'none'}.</p>\n"
        + _table(["#", "phase", "operator", "action", "subject", "from", "to", "staff", "category", "note"], rows)
    )


def _figures_section(figures: Sequence[tuple[str, Figure]], dpi: int) -> str:
    titles = {kind: (title, caption) for kind, title, caption in _FIGURES}
    out = ['<h2 id="figures">Figures</h2>']
    for kind, fig in figures:
        data, width, height = _figure_png(fig, dpi)
        title, caption = titles[kind]
        out.append(
            f'<figure id="figure-{escape(kind)}">'
            f'<img src="data:image/png;base64,{data}" width="{width}" height="{height}" '
            f'alt="{escape(title)}">'
            f"<figcaption><b>{escape(title)}.</b> {escape(caption)}</figcaption></figure>"
        )
    return "\n".join(out)


def render_report(
    comparison: Comparison,
    *,
    sweep: pd.DataFrame | None = None,
    english: bool | None = None,
    dpi: int = 100,
) -> str:
    """The HTML report of ``comparison`` (and of a sweep's frame, when given), as text."""
    c = comparison
    d = c.to_dict()
    meta = c.scenario.scenario
    figures = report_figures(c, sweep=sweep, english=english)
    warnings_html = ""
    unstable = [s for s in (c.before, c.after) if not s.stable]
    if unstable:
        items = "".join(
            f"<li>{escape(s.name)} the reforms: {escape('; '.join(s.instability()))}</li>" for s in unstable
        )
        warnings_html = (f'<div class="warning"><b>Unstable:</b> queues grow without bound, so lead times '
                         f"are not steady-state numbers and are not reported.<ul>{items}</ul></div>")
    subtitle = f" <small>{escape(meta.name_en)}</small>" if meta.name_en else ""
    description = f"<p>{escape(meta.description)}</p>" if meta.description.strip() else ""
    from orgsim import __version__

    reproduce = (f"orgsim report {c.scenario.source_file} --seed {c.seed} "
                 f"--replications {c.replications} -o report.html")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-Hans">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(meta.name)} — orgsim report</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{escape(meta.name)}{subtitle}</h1>",
        description,
        warnings_html,
        _summary_section(c, d),
        _sources_section(c),
        _key_results(c, d),
        _structure_section(c),
        _time_and_queues(c, d),
        _figures_section(figures, dpi),
        _changes_section(c),
        f"<hr><p>Made by orgsim {escape(__version__)}. Reproduce with <code>{escape(reproduce)}</code>; "
        "the same scenario file (same SHA-256), seed, replications and version give the same numbers.</p>",
        "</body>",
        "</html>",
    ]
    for _, fig in figures:
        fig.clear()
    return "\n".join(p for p in parts if p) + "\n"


def write_report(
    path: str | Path,
    comparison: Comparison,
    *,
    sweep: pd.DataFrame | None = None,
    english: bool | None = None,
    dpi: int = 100,
) -> Path:
    """Write the report to ``path``, whole or not at all."""
    return atomic_write_text(path, render_report(comparison, sweep=sweep, english=english, dpi=dpi))
