"""Figures of a reform and its simulation; each function returns a matplotlib Figure.

The figures take results (a :class:`~orgsim.experiment.Comparison`, a
:class:`~orgsim.reforms.ReformOutcome`, or a sweep's data frame) and return a
:class:`matplotlib.figure.Figure` built without pyplot, so they display in a
notebook and can be saved with ``fig.savefig("out.svg")``::

    >>> from orgsim.experiment import compare
    >>> from orgsim import plotting
    >>> result = compare(scenario, replications=5)                       # doctest: +SKIP
    >>> plotting.plot_lead_times(result, lang="zh").savefig("lead.png")  # doctest: +SKIP

Every text is in the language asked for (``lang="zh"`` or ``"en"``; by
default ``$ORGSIM_LANG``, else the scenario's ``scenario.language``, else
English; ``english=True`` is ``lang="en"``) and names units, functions,
queues and project types by name (:mod:`orgsim.presentation`). Text from the
scenario is drawn as plain text: a ``$`` in a name never reaches matplotlib's
math-text parser. Legends sit outside the data, below the axes.

Chinese text needs a font with CJK glyphs (docs/figures.md says how to
install one). Without one, figures are drawn in English with names that need
no CJK glyph (``name_en``, else the id), and one plain line on stderr says
so, once per process.

matplotlib is imported inside the functions: importing this module, or any
of the engine, never imports it.
"""

from __future__ import annotations

import math
import sys
import textwrap
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from orgsim.experiment import Comparison, StateResult, confidence_interval
from orgsim.i18n import N_, _, check_language, ngettext, resolve_language, use_language
from orgsim.model import org as o
from orgsim.presentation.names import KIND_LABELS, Names
from orgsim.presentation.results import COMPONENT_LABELS, clock_unit, queues_of, state_label
from orgsim.reforms import ReformOutcome
from orgsim.scenario.schema import UNIT_KINDS, Scenario
from orgsim.sim.results import COMPONENTS

if TYPE_CHECKING:
    import pandas as pd

    from orgsim.timeline.run import TimelineResult
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter
    from matplotlib.typing import LineStyleType, MarkerType, RcKeyType

__all__ = [
    "KINDS",
    "CJK_FAMILIES",
    "CJKFontWarning",
    "cjk_font",
    "plot_orgchart",
    "plot_lead_times",
    "plot_utilisation",
    "plot_headcount_waterfall",
    "plot_time_split",
    "plot_sweep",
    "plot_timeline",
    "sweep_parameters",
    "lever_label",
    "SWEEP_COLUMNS",
    "KIND_COLOURS",
    "STATE_COLOURS",
]

#: Figure kinds, as ``orgsim plot --kind`` names them.
KINDS = ("orgchart", "leadtime", "utilisation", "waterfall", "timesplit", "sweep", "timeline")

#: Font families with Chinese glyphs, most preferred first.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "STHeiti",
    "Noto Sans CJK TC",
    "Noto Sans CJK JP",
    "Noto Serif CJK SC",
    "AR PL UMing CN",
    "AR PL UKai CN",
    "Droid Sans Fallback",
    "Arial Unicode MS",
)
#: Parts of font file names that hold CJK glyphs (lower case, without - and _).
_CJK_FILE_HINTS = (
    "notosanscjk", "notoserifcjk", "notosanssc", "sourcehansans", "wqy", "droidsansfallback",
    "simhei", "msyh", "pingfang", "uming", "ukai",
)

#: Columns a sweep's frame must have (the varied parameters come on top).
SWEEP_COLUMNS = ("state", "replication", "headcount", "lead_working_p90")
#: Columns of a sweep frame that are results or bookkeeping, not varied parameters.
_SWEEP_RESULT_COLUMNS = frozenset({
    "point", "state", "replication", "seed", "scenario_sha256", "orgsim_version", "headcount", "stable",
    "arrived", "completed", "backlog_end", "backlog_growth_per_100_days",
    "throughput_per_working_day", "mean_in_system", "handoffs_per_application", "share_over_limit",
    "units", "layers", "leaders", "internal_bodies",
})

STATE_COLOURS = {"before": "#4c72b0", "after": "#dd8452"}
_OTHER_STATE_COLOURS = ("#55a868", "#8172b3", "#937860", "#da8bc3", "#8c8c8c", "#ccb974", "#64b5cd")
_COMPONENT_COLOURS = {
    "waiting": "#c44e52", "processing": "#4c72b0", "signoff": "#8172b3",
    "handoff": "#ccb974", "rework": "#937860",
}
#: One colour per unit kind, in the order of the scenario format (13 kinds).
_KIND_PALETTE = (
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
    "#17becf", "#bcbd22", "#7f7f7f", "#aec7e8", "#98df8a", "#c5b0d5", "#ffbb78", "#f7b6d2",
)
KIND_COLOURS = dict(zip(UNIT_KINDS, _KIND_PALETTE, strict=True))
#: How the org chart marks what operators did (the words, for the tags and the legend), and in which colour.
_MOVE_OPS = {
    "strip": (N_("stripped"), "#c0392b"),
    "devolve": (N_("devolved"), "#1e8449"),
    "one_stop": (N_("one-stop"), "#7d3c98"),
    "spin_off": (N_("spun off"), "#6e2c00"),
}
_MERGE_OPS = ("merge", "merge_zones")
_MERGED_COLOUR = "#d35400"
_NEW_COLOUR = "#1f618d"
_GONE_COLOUR = "#616a6b"
_LIMIT_COLOUR = "#b22222"
#: Lead-time axes end at this share of the applications done; the tail beyond is noted.
_X_SHARE = 0.99


class CJKFontWarning(UserWarning):
    """Kept for code that filtered it: no longer issued (the fallback is one plain line on stderr)."""


# ---------------------------------------------------------------- fonts, language, names


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of an installed font with Chinese glyphs, or None.

    Looks in matplotlib's font list first; when the list was cached before
    the font was installed, looks for known CJK font files on disk and adds
    them to matplotlib's font manager.
    """
    from matplotlib import font_manager

    def pick() -> str | None:
        names = {f.name for f in font_manager.fontManager.ttflist}
        return next((family for family in CJK_FAMILIES if family in names), None)

    family = pick()
    if family is None:
        for path in font_manager.findSystemFonts():
            stem = Path(path).name.lower().replace("-", "").replace("_", "")
            if any(hint in stem for hint in _CJK_FILE_HINTS):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):  # unreadable font file: skip it
                    continue
        family = pick()
    return family


#: Whether the no-CJK-font line was written in this process (it is said once).
_said_no_font = False


def _say_no_cjk_font() -> None:
    global _said_no_font
    if not _said_no_font:
        _said_no_font = True
        sys.stderr.write("orgsim: no font with Chinese glyphs found (e.g. Debian's fonts-noto-cjk); figures are "
                         "drawn in English. docs/figures.md says how to install one.\n")


@dataclass(frozen=True)
class _Ctx:
    """How one figure speaks: its language, its names, and the CJK font when one is used."""

    lang: str
    names: Names
    family: str | None


def _context(scenario: Scenario | None, orgs: Sequence[o.Org], lang: str | None, english: bool | None) -> _Ctx:
    if english:
        lang = "en"
    lang = check_language(lang, "lang") if lang else resolve_language(None, scenario)
    family = cjk_font()
    ascii_only = family is None
    if ascii_only:
        _say_no_cjk_font()
        lang = "en"
    return _Ctx(lang, Names(scenario, orgs, lang=lang, ascii_only=ascii_only, mathtext_safe=True), family)


def _comparison_ctx(c: Comparison, lang: str | None, english: bool | None) -> _Ctx:
    orgs = [c.outcome.before, *[org for _label, org in c.outcome.states]]
    ctx = _context(c.scenario, orgs, lang, english)
    ctx.names.add_queues(queues_of(c))
    return ctx


@contextmanager
def _style(ctx: _Ctx) -> Iterator[None]:
    """rc settings and language for building one figure: sizes, and the CJK font when it is used.

    Text objects keep the font family they were made with, so the figure draws
    right after the context ends (in a notebook, or in ``savefig``).
    """
    import matplotlib as mpl

    rc: dict[RcKeyType, float | bool | list[str]] = {
        "font.size": 9,
        "axes.titlesize": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.unicode_minus": True,
    }
    if ctx.family is not None:
        rc["font.family"] = [ctx.family, "DejaVu Sans"]
    with mpl.rc_context(rc), use_language(ctx.lang):
        yield


def _figure(width: float, height: float, constrained: bool = True) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained" if constrained else None)


def _state_colour(name: str, i: int) -> str:
    return STATE_COLOURS.get(name, _OTHER_STATE_COLOURS[i % len(_OTHER_STATE_COLOURS)])


def _text_width_in(text: str, size_pt: float) -> float:
    """Rough width of ``text`` in inches: CJK characters take one em, others 0.6 em."""
    ems = sum(1.0 if ord(ch) >= 0x2E80 else 0.6 for ch in text)
    return ems * size_pt / 72


def _wrap(text: str, width_in: float, size_pt: float) -> str:
    """``text`` broken into lines of at most ``width_in`` inches at ``size_pt`` (CJK-aware, roughly)."""
    if _text_width_in(text, size_pt) <= width_in:
        return text
    if any(ord(ch) >= 0x2E80 for ch in text):
        per_line = max(8, int(width_in * 72 / size_pt))  # one em per character
        lines, line, used = [], "", 0.0
        for ch in text:
            w = 1.0 if ord(ch) >= 0x2E80 else 0.6
            if used + w > per_line and line:
                lines.append(line)
                line, used = "", 0.0
            line += ch
            used += w
        return "\n".join(lines + [line])
    return "\n".join(textwrap.wrap(text, max(12, int(width_in * 72 / (0.55 * size_pt)))))


def _legend_below(fig: Figure, handles: Sequence[Artist], labels: Sequence[str], ncol: int, **kw: Any) -> None:
    """A figure legend under everything (constrained layout keeps it off the axes)."""
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncol=max(1, ncol), frameon=False, fontsize=7.5,
                   **kw)


def _heading(ctx: _Ctx, what: str) -> str:
    title = ctx.names.title()
    return _("{scenario}: {what}").format(scenario=title, what=what) if title else what


def _outcome_and_scenario(
    result: Comparison | ReformOutcome, scenario: Scenario | None
) -> tuple[ReformOutcome, Scenario | None]:
    if isinstance(result, Comparison):
        return result.outcome, scenario or result.scenario
    if isinstance(result, ReformOutcome):
        return result, scenario
    raise TypeError(f"expected a Comparison or a ReformOutcome, got {type(result).__name__}")


def _require_comparison(result: Any) -> Comparison:
    if not isinstance(result, Comparison):
        raise TypeError(
            f"expected a Comparison (orgsim.experiment.compare), got {type(result).__name__}"
        )
    return result


def _outcome_orgs(outcome: ReformOutcome) -> list[o.Org]:
    return [outcome.before, *[org for _label, org in outcome.states]]
# ---------------------------------------------------------------- org chart


def _unit_order(outcome: ReformOutcome) -> dict[str, float]:
    """A sort key per unit: scenario order, a merged unit where its first part was."""
    before = {u: float(i) for i, u in enumerate(outcome.before.units())}
    key = dict(before)
    for i, u in enumerate(outcome.after.units()):
        if u in key:
            continue
        origins = [before[x] for x in outcome.after.graph.nodes[u].get(o.ORIGIN, ()) if x in before]
        key[u] = min(origins) + 0.5 if origins else len(before) + i
    return key


def _rows(org: o.Org, order: Mapping[str, float]) -> list[tuple[str, int]]:
    """Units in display order (a depth-first walk), each with its depth."""
    rows: list[tuple[str, int]] = []

    def walk(unit: str, depth: int) -> None:
        rows.append((unit, depth))
        for child in sorted(org.children(unit), key=lambda c: (order.get(c, math.inf), c)):
            walk(child, depth + 1)

    roots = sorted(org.roots(), key=lambda u: (not org.in_zone_government(u), order.get(u, math.inf), u))
    for root in roots:
        walk(root, 0)
    return rows


@dataclass(frozen=True)
class _Badge:
    text: str
    colour: str


def _badges(outcome: ReformOutcome, names: Names) -> tuple[dict[str, list[_Badge]], dict[str, list[_Badge]]]:
    """What the reforms did to each unit, as marks for the before and the after chart."""
    before, after = outcome.before, outcome.after
    marks_before: dict[str, list[_Badge]] = defaultdict(list)
    marks_after: dict[str, list[_Badge]] = defaultdict(list)

    # Where merged units ended up (a merged unit may be merged again later).
    merged_into: dict[str, str] = {}
    for c in outcome.changes:
        if c.action == "unit_merged" and c.target:
            merged_into[c.subject] = c.target

    def final(unit: str) -> str:
        seen = set()
        while unit in merged_into and unit not in seen:
            seen.add(unit)
            unit = merged_into[unit]
        return unit

    def label_of(unit: str) -> str:
        return names.unit(unit)

    moves: dict[str, list[str]] = {}
    for c in outcome.changes:
        if c.action == "function_moved" and c.op in _MOVE_OPS:
            moves.setdefault(c.subject, []).append(c.op)
        elif c.action == "unit_merged" and before.is_unit(c.subject):
            marks_before[c.subject].append(_Badge(_("merged → {unit}").format(unit=label_of(final(c.subject))),
                                                  _MERGED_COLOUR))
        elif c.action == "unit_removed" and before.is_unit(c.subject):
            word = _("flattened away") if c.op == "flatten" else _("dissolved")
            marks_before[c.subject].append(_Badge(word, _GONE_COLOUR))
        elif c.action == "unit_created" and after.is_unit(c.subject) and not before.is_unit(c.subject):
            if c.op in _MERGE_OPS:
                parts = c.note.removeprefix("merged from ").split(", ")
                marks_after[c.subject].append(_Badge(
                    ngettext("merged from {n} unit", "merged from {n} units", len(parts)).format(n=len(parts)),
                    _MERGED_COLOUR))
            else:
                marks_after[c.subject].append(_Badge(_("new"), _NEW_COLOUR))

    lost: dict[tuple[str, str], int] = defaultdict(int)
    gained: dict[tuple[str, str], int] = defaultdict(int)
    for function, ops in moves.items():
        if before.is_function(function):
            lost[(before.owner(function), ops[0])] += 1
        if after.is_function(function):
            gained[(after.owner(function), ops[-1])] += 1
    for (unit, op), n in lost.items():
        word, colour = _MOVE_OPS[op]
        marks_before[unit].append(_Badge(_("−{n} fn {what}").format(n=n, what=_(word)), colour))
    for (unit, op), n in gained.items():
        word, colour = _MOVE_OPS[op]
        marks_after[unit].append(_Badge(_("+{n} fn {what}").format(n=n, what=_(word)), colour))
    return dict(marks_before), dict(marks_after)


#: Org chart geometry, in inches and points.
_ROW_IN = 0.25
_INDENT_IN = 0.3
_LABEL_PT = 8.0
_BADGE_PT = 6.5
_MAX_MARKER_PT = 13.0
_MIN_MARKER_PT = 4.0


def _marker_pt(headcount: int, largest: int) -> float:
    return _MIN_MARKER_PT + (_MAX_MARKER_PT - _MIN_MARKER_PT) * math.sqrt(headcount / max(largest, 1))


def plot_orgchart(
    result: Comparison | ReformOutcome,
    scenario: Scenario | None = None,
    *,
    lang: str | None = None,
    english: bool | None = None,
) -> Figure:
    """The unit hierarchy before and after the reforms, side by side.

    Each unit is one row, indented under the unit it reports to (so 60 or
    more units stay readable); the marker's area grows with headcount, its
    colour is the unit's kind, and a square marks a unit outside the zone's
    government (city, district, company). Coloured tags say what the reforms
    did: units merged (and into what), dissolved or created, and functions
    stripped, devolved, moved to a one-stop bureau or spun off, counted at the
    unit that lost them (before) and the unit that holds them (after).
    """
    outcome, scenario = _outcome_and_scenario(result, scenario)
    ctx = _context(scenario, _outcome_orgs(outcome), lang, english)
    with _style(ctx):
        return _orgchart(outcome, scenario, ctx)


def _orgchart(outcome: ReformOutcome, scenario: Scenario | None, ctx: _Ctx) -> Figure:
    from matplotlib.lines import Line2D

    names = ctx.names
    order = _unit_order(outcome)
    marks = _badges(outcome, names)
    panels = []
    for name, org, badges in (("before", outcome.before, marks[0]), ("after", outcome.after, marks[1])):
        rows = _rows(org, order)
        width = 0.0
        for unit, depth in rows:
            text = f"{names.unit(unit)} ({org.headcount(unit)})"
            w = _INDENT_IN * depth + 0.25 + _text_width_in(text, _LABEL_PT)
            w += sum(0.12 + _text_width_in(b.text, _BADGE_PT) for b in badges.get(unit, []))
            width = max(width, w)
        panels.append((name, org, badges, rows, width + 0.3))

    largest = max((org.headcount(u) for _, org, _, rows, _ in panels for u, _ in rows), default=1)
    n_rows = max(len(p[3]) for p in panels)
    kinds = sorted({org.graph.nodes[u][o.KIND] for _, org, _, rows, _ in panels for u, _ in rows},
                   key=lambda k: UNIT_KINDS.index(k) if k in UNIT_KINDS else len(UNIT_KINDS))

    # Legend: one column per group (kinds, headcount, tags), then the figure's size from its parts.
    def blank(label: str = " ") -> Line2D:
        return Line2D([], [], ls="", marker="", label=label)

    kind_group = [blank(_("unit kind:"))] + [
        Line2D([], [], ls="", marker="o", ms=7, mfc=KIND_COLOURS.get(k, "#999999"), mec="#333333",
               label=_(KIND_LABELS[k]) if k in KIND_LABELS else k) for k in kinds
    ] + [Line2D([], [], ls="", marker="s", ms=7, mfc="white", mec="#333333",
                label=_("square: outside the zone government"))]
    size_group = [blank(_("headcount (marker area):"))] + [
        Line2D([], [], ls="", marker="o", ms=_marker_pt(n, largest), mfc="#dddddd", mec="#333333",
               label=ngettext("{n} person", "{n} people", n).format(n=n))
        for n in sorted({max(1, largest // 10), max(1, largest // 2), largest})
    ]
    used = {b.colour for p in panels for bs in p[2].values() for b in bs}
    tag_group = [blank(_("tags: what the reforms did"))] + [
        Line2D([], [], ls="", marker="s", ms=7, mfc="white", mec=colour, mew=1.5, label=text)
        for text, colour in [(_("merged"), _MERGED_COLOUR), (_("dissolved / flattened away"), _GONE_COLOUR),
                             (_("new unit"), _NEW_COLOUR)]
        + [(_("functions {what} (−out, +in)").format(what=_(w)), c) for w, c in _MOVE_OPS.values()]
        if colour in used
    ]
    groups = [g for g in (kind_group, size_group, tag_group) if len(g) > 1]
    per_column = max(len(g) for g in groups)
    handles = [h for g in groups for h in g + [blank() for _ in range(per_column - len(g))]]
    ncol = len(groups)
    legend_in = 0.19 * per_column + 0.25
    title_in = 0.75
    body_in = _ROW_IN * (n_rows + 0.5)
    gap_in = 0.4
    fig_w = max(8.0, sum(p[4] for p in panels) + gap_in + 0.4)
    fig_h = title_in + body_in + legend_in + 0.2

    fig = _figure(fig_w, fig_h, constrained=False)
    fig.suptitle(_wrap(_heading(ctx, _("organisation before and after the reforms")), fig_w - 0.6, 11),
                 y=1 - 0.12 / fig_h, va="top", fontsize=11)
    x0 = 0.2
    extra = (fig_w - sum(p[4] for p in panels) - gap_in - 0.4) / 2
    for name, org, badges, rows, width in panels:
        width += extra
        ax = fig.add_axes((x0 / fig_w, (legend_in + 0.2) / fig_h, width / fig_w, body_in / fig_h))
        _draw_tree(ax, org, rows, badges, largest, width, n_rows, names)
        zone = org.zone_units()
        title = _("{state}: {units} zone units, {staff} staff (headcount in brackets)").format(
            state=state_label(name), units=len(zone), staff=sum(org.headcount(u) for u in zone))
        title = title[:1].upper() + title[1:]
        ax.set_title(_wrap(title, width - 0.1, 9.5), loc="left", fontsize=9.5, pad=8)
        x0 += width + gap_in
    fig.legend(handles=handles, loc="lower center", ncol=ncol, frameon=False, fontsize=7.5,
               bbox_to_anchor=(0.5, 0.05 / fig_h), handletextpad=0.4, columnspacing=1.5)
    return fig


def _draw_tree(
    ax: Axes, org: o.Org, rows: Sequence[tuple[str, int]], badges: Mapping[str, list[_Badge]],
    largest: int, width: float, n_rows: int, names: Names,
) -> None:
    from matplotlib.collections import LineCollection

    ax.set_xlim(0, width)
    ax.set_ylim(_ROW_IN * (n_rows - 0.5), -_ROW_IN * 0.5)
    ax.set_axis_off()
    place = {u: (0.12 + _INDENT_IN * d, _ROW_IN * i) for i, (u, d) in enumerate(rows)}
    segments = []
    for unit, _depth in rows:
        kids = [c for c in org.children(unit) if c in place]
        if not kids:
            continue
        px, py = place[unit]
        last = max(place[c][1] for c in kids)
        segments.append([(px, py), (px, last)])
        segments += [[(px, place[c][1]), (place[c][0], place[c][1])] for c in kids]
    ax.add_collection(LineCollection(segments, colors="#b0b0b0", linewidths=0.8, zorder=1))
    for unit, _depth in rows:
        x, y = place[unit]
        d = org.graph.nodes[unit]
        inside = org.in_zone_government(unit)
        headcount = org.headcount(unit)
        ax.plot(x, y, ls="", marker="o" if inside else "s", ms=_marker_pt(headcount, largest),
                mfc=KIND_COLOURS.get(d[o.KIND], "#999999"), mec="#333333", mew=0.6, zorder=3)
        label = ax.text(x + 0.16, y, f"{names.unit(unit)} ({headcount})",
                        va="center", ha="left", fontsize=_LABEL_PT, zorder=4)
        anchor = label
        for badge in badges.get(unit, []):
            anchor = ax.annotate(
                badge.text, xy=(1, 0.5), xycoords=anchor, xytext=(6, 0), textcoords="offset points",
                va="center", ha="left", fontsize=_BADGE_PT, color=badge.colour, zorder=4,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": badge.colour, "lw": 0.7},
            )


# ---------------------------------------------------------------- lead times


def _percentile_mean(state: StateResult, clock: str, p: int, project_type: str | None = None) -> float:
    """Mean across replications of each replication's percentile (as ``compare`` reports)."""
    values = [getattr(s, f"p{p}") for s in state.lead_time_runs(clock, project_type) if s.count]
    return float(np.mean(values)) if values else math.nan


def _day_at_share(days: np.ndarray, share: np.ndarray, level: float) -> float:
    """The first day by which ``level`` of the applications were done."""
    if not len(days):
        return 0.0
    i = int(np.searchsorted(share, level, side="left"))
    return float(days[min(i, len(days) - 1)])


def _type_limit(state: StateResult, project_type: str | None) -> float | None:
    for run in state.runs:
        for t in run.project_types:
            if t.project_type == project_type:
                return t.statutory_limit_days
    return None


def plot_lead_times(
    result: Comparison,
    *,
    clock: str = "working",
    style: str = "ecdf",
    lang: str | None = None,
    english: bool | None = None,
) -> Figure:
    """Lead-time distributions before and after: one panel per project type, each with its own limit.

    With several project types, the first panel pools them all (labelled as
    pooled) and each type follows in its own panel with its statutory limit;
    with one type, one panel. ``clock`` is ``working`` (working days, the
    default), ``calendar`` or ``statutory`` (working days with the clock
    stopped while a file is back with the applicant, which is what the
    statutory limit counts). ``style`` is ``ecdf`` (share of applications done
    within x days) or ``hist``. Applications of all replications are pooled
    (drawn from each run's quantile sketches,
    :meth:`~orgsim.experiment.StateResult.lead_time_distribution`); p50 and p90,
    marked on the curves and given in the legend, are means of each
    replication's percentile, as ``orgsim compare`` reports them. Each x axis
    ends where 99% of the applications are done (or at the limit, if near);
    the longest lead time beyond is noted under the axis.
    """
    comparison = _require_comparison(result)
    if clock not in ("working", "calendar", "statutory"):
        raise ValueError(f"clock must be one of working, calendar, statutory, got {clock!r}")
    if style not in ("ecdf", "hist"):
        raise ValueError(f"style must be 'ecdf' or 'hist', got {style!r}")
    ctx = _comparison_ctx(comparison, lang, english)
    states = (comparison.before, comparison.after)
    # The project types' (approvals'): enforcement case types are in the tables, not here.
    types = comparison.after.project_types("approval") or comparison.before.project_types("approval")
    panels: list[str | None] = [None] + list(types) if len(types) > 1 else (list(types) or [None])
    ncols = 1 if len(panels) == 1 else 2
    nrows = math.ceil(len(panels) / ncols)
    fig_width = 8.0 if ncols == 1 else 10.0
    with _style(ctx):
        fig = _figure(fig_width, 1.2 + 3.3 * nrows)
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for ax in axes[len(panels):]:
            ax.set_visible(False)
        for ax, project_type in zip(axes, panels, strict=False):  # the axes past the last panel are hidden
            _lead_panel(ax, states, clock, style, project_type, ctx, pooled=project_type is None and len(types) > 1,
                        panel_width_in=fig_width / ncols)
        what = _("approval lead time before and after ({n} replications)").format(n=comparison.replications)
        fig.suptitle(_wrap(_heading(ctx, what), fig_width - 0.5, 10.5), fontsize=10.5)
    return fig


def _lead_panel(ax: Axes, states: Sequence[StateResult], clock: str, style: str, project_type: str | None,
                ctx: _Ctx, pooled: bool, panel_width_in: float) -> None:
    from matplotlib.lines import Line2D

    data = {s.name: s.lead_time_distribution(clock, project_type) for s in states}
    limit = None if clock == "calendar" else _type_limit(states[-1], project_type)
    longest = max((float(days[-1]) for days, _s, n in data.values() if n), default=1.0)
    x_top = max((_day_at_share(days, share, _X_SHARE) for days, share, n in data.values() if n), default=1.0)
    x_top = max(x_top * 1.05, 1.0)
    show_limit = limit is not None and limit <= 1.6 * x_top
    if limit is not None and show_limit:
        x_top = max(x_top, limit * 1.06)
    handles, labels = [], []
    bins = np.linspace(0, x_top, 41)
    bin_edges: list[float] = bins.tolist()  # matplotlib's stubs want a sequence of edges, not an array
    for i, state in enumerate(states):
        colour = _state_colour(state.name, i)
        days, share, count = data[state.name]
        p50 = _percentile_mean(state, clock, 50, project_type)
        p90 = _percentile_mean(state, clock, 90, project_type)
        flag = "" if state.stable else _(" — UNSTABLE, queues grow")
        if count:
            label = _("{state}: p50 {p50:.1f}, p90 {p90:.1f} ({n} applications){flag}").format(
                state=state_label(state.name), p50=p50, p90=p90, n=count, flag=flag)
        else:
            label = _("{state}: no application completed{flag}").format(state=state_label(state.name), flag=flag)
        ls = "-" if state.stable else "--"
        if count and style == "ecdf":
            ax.plot(np.r_[0.0, days], np.r_[0.0, share], color=colour, lw=1.8, ls=ls)
            ax.plot([p50, p90], [0.5, 0.9], ls="", marker="o", ms=4.5, color=colour, mec="white", mew=0.8,
                    zorder=4)
        elif count:
            in_bin = np.diff(np.interp(bins, days, share, left=0.0, right=1.0))
            ax.hist(bins[:-1], bins=bin_edges, weights=in_bin, density=True, histtype="stepfilled", alpha=0.25,
                    color=colour)
            ax.hist(bins[:-1], bins=bin_edges, weights=in_bin, density=True, histtype="step", lw=1.5, color=colour,
                    ls=ls)
            for p, pls in ((p50, ":"), (p90, "--")):
                if p <= x_top:
                    ax.axvline(p, color=colour, ls=pls, lw=1.0)
        handles.append(Line2D([], [], color=colour, lw=1.8, ls=ls, marker="o" if style == "ecdf" else "",
                              ms=4, mec="white"))
        labels.append(label)
    if limit is not None:
        handles.append(Line2D([], [], color=_LIMIT_COLOUR, lw=1.5, ls="-" if show_limit else ":"))
        text = _("statutory limit {days:g} working days").format(days=limit)
        labels.append(text if show_limit else text + _(" (beyond the axis)"))
        if show_limit:
            ax.axvline(limit, color=_LIMIT_COLOUR, lw=1.5)
    ax.set_xlim(0, x_top)
    if style == "ecdf":
        ax.set_ylim(0, 1.02)
        ax.set_ylabel(_("share of applications done"))
        ax.yaxis.set_major_formatter(_percent_formatter())
    else:
        ax.set_ylabel(_("density"))
    xlabel = _("lead time ({unit})").format(unit=clock_unit(clock))
    if longest > x_top:
        xlabel += "\n" + _("axis ends where {share:.0%} are done; the longest took {days:.0f}").format(
            share=_X_SHARE, days=longest)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.grid(alpha=0.3)
    title = _("all project types (pooled)") if pooled else (
        ctx.names.project_type(project_type) if project_type else _("all applications"))
    ax.set_title(_wrap(title, panel_width_in - 0.6, 10), fontsize=10)
    legend_title = _("dots: p50 and p90 (means over replications)") if style == "ecdf" else _(
        "dotted p50, dashed p90 (means over replications)")
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.2 if longest <= x_top else -0.28),
              fontsize=7, title=legend_title, title_fontsize=7, frameon=False)


# ---------------------------------------------------------------- utilisation

#: The utilisation figure shows at most this many queues (the busiest); the rest are counted in a note.
_MAX_QUEUES = 24


def plot_utilisation(result: Comparison, *, lang: str | None = None, english: bool | None = None) -> Figure:
    """Busy share of each queue before and after, with each state's bottleneck starred on its own bar.

    A queue is a desk: one function's officers (``unit · function``), a unit's
    pooled officers, or its leaders who sign off (``unit · chief``,
    ``unit · deputy leaders``); bars and stars are on that one basis, so a
    state's star sits at the end of its busiest bar. The busiest queues are
    shown, busiest first. The dashed line is the scenario's utilisation
    target; at 100% a queue grows without bound.
    """
    comparison = _require_comparison(result)
    ctx = _comparison_ctx(comparison, lang, english)
    states = (comparison.before, comparison.after)
    util = {s.name: {b["pool"]: b["utilisation"] for b in s.bottlenecks()} for s in states}
    keys = sorted(set().union(*util.values()), key=lambda k: (-max(util[s.name].get(k, 0.0) for s in states), k))
    shown = keys[:_MAX_QUEUES]
    for s in states:  # each state's bottleneck is shown, whatever the other state's queues
        ranked = s.bottlenecks()
        if ranked and ranked[0]["pool"] not in shown:
            shown[-1] = ranked[0]["pool"]
    target = comparison.scenario.simulation.utilisation_target
    height = 2.2 + 0.36 * max(len(shown), 1)

    with _style(ctx):
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        fig = _figure(9.0, height)
        ax = fig.add_subplot()
        y = np.arange(len(shown), dtype=float)
        bar = 0.38
        top = 1.0
        handles: list[Artist] = []
        labels: list[str] = []
        for i, state in enumerate(states):
            colour = _state_colour(state.name, i)
            offset = (-0.5 + i) * bar
            values = [util[state.name].get(k, math.nan) for k in shown]
            ax.barh(y + offset, np.nan_to_num(values), height=bar, color=colour, alpha=0.85)
            handles.append(Patch(color=colour, alpha=0.85))
            labels.append(state_label(state.name) + ("" if state.stable else _(" (UNSTABLE)")))
            top = max([top] + [v for v in values if not math.isnan(v)])
            ranked = state.bottlenecks()
            if ranked and ranked[0]["pool"] in shown:
                b = ranked[0]
                row = shown.index(b["pool"]) + offset
                ax.plot([b["utilisation"]], [row], ls="", marker="*", ms=13, color=colour, mec="black", mew=0.6,
                        zorder=5)
                handles.append(Line2D([], [], ls="", marker="*", ms=11, color=colour, mec="black", mew=0.6))
                labels.append(_("{state} bottleneck: {queue} ({util:.0%})").format(
                    state=state_label(state.name), queue=ctx.names.queue(b["pool"]), util=b["utilisation"]))
        ax.axvline(target, color="#555555", ls="--", lw=1)
        ax.axvline(1.0, color=_LIMIT_COLOUR, lw=1.2)
        handles += [Line2D([], [], color="#555555", ls="--", lw=1), Line2D([], [], color=_LIMIT_COLOUR, lw=1.2)]
        labels += [_("utilisation target {target:.0%}").format(target=target), _("capacity (100%)")]
        ax.set_yticks(y, [_wrap(ctx.names.queue(k), 3.6, 8) for k in shown], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, top * 1.08)
        ax.xaxis.set_major_formatter(_percent_formatter())
        xlabel = _("share of working time busy with cases (mean over replications)")
        if len(keys) > len(shown):
            xlabel += "\n" + _("the {shown} busiest of {total} queues").format(shown=len(shown), total=len(keys))
        ax.set_xlabel(xlabel)
        ax.grid(axis="x", alpha=0.3)
        _legend_below(fig, handles, labels, ncol=2)
        fig.suptitle(_wrap(_heading(ctx, _("utilisation by queue")), 8.5, 10.5), fontsize=10.5)
        if not shown:
            ax.text(0.5, 0.5, _("no queue received cases"), transform=ax.transAxes, ha="center")
    return fig


def _percent_formatter() -> PercentFormatter:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=0)


# ---------------------------------------------------------------- headcount waterfall


#: Waterfall steps: label and the operators whose headcount change they sum.
_WATERFALL_STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (N_("merged away"), ("merge", "merge_zones")),
    (N_("flattened"), ("flatten",)),
    (N_("stripped"), ("strip",)),
    (N_("spun off"), ("spin_off",)),
    (N_("devolved in"), ("devolve",)),
    (N_("one-stop bureau"), ("one_stop",)),
    (N_("leadership posts"), ("set_leadership",)),
    (N_("capped"), ("cap_headcount",)),
)
_OTHER_STEP = N_("other")


def _headcount_steps(outcome: ReformOutcome, scenario: Scenario) -> list[dict[str, Any]]:
    """Zone headcount change per waterfall step the scenario has, with released / moved / hired parts.

    A step appears when the scenario contains one of its operators (even if
    its net change is zero); none for reforms the scenario does not contain.
    ``step`` is the English label (translate it with ``_``).
    """
    ops = [spec.op for _phase, spec in scenario.operators()]
    if len(ops) != len(outcome.states):
        raise ValueError(
            f"the outcome has {len(outcome.states)} reform states but the scenario {len(ops)} operators: "
            "pass the scenario the outcome was made from"
        )
    fields = ("released", "moved_out", "hired", "moved_in")
    totals: dict[str, dict[str, int]] = {}
    prev = outcome.before
    for op, (_label, state) in zip(ops, outcome.states, strict=True):
        step = next((label for label, members in _WATERFALL_STEPS if op in members), _OTHER_STEP)
        row = totals.setdefault(step, dict.fromkeys(("net",) + fields, 0))
        row["net"] += state.zone_headcount() - prev.zone_headcount()
        for f in fields:
            row[f] += state.ledger.total(f) - prev.ledger.total(f)
        prev = state
    out = []
    for label, _members in _WATERFALL_STEPS + ((_OTHER_STEP, ()),):
        step_totals = totals.get(label)
        if step_totals is None:
            continue
        if label == _OTHER_STEP and not any(step_totals.values()):
            continue
        out.append({"step": label, **step_totals})
    return out


def plot_headcount_waterfall(
    result: Comparison | ReformOutcome,
    scenario: Scenario | None = None,
    *,
    lang: str | None = None,
    english: bool | None = None,
) -> Figure:
    """Zone government headcount from before to after, operator kind by operator kind.

    before -> merged away -> stripped -> spun off -> capped -> after, and
    flattened, devolved in, one-stop bureau, leadership posts and other
    steps: one column per kind of operator the scenario contains. Each bar is
    the net change; its label splits it into posts cut, people moved out of
    the zone government (to sub-districts, companies, the city), hired and
    moved in. A bare :class:`ReformOutcome` needs the ``scenario`` it came from.
    """
    outcome, scenario = _outcome_and_scenario(result, scenario)
    if scenario is None:
        raise ValueError("plot_headcount_waterfall needs the scenario of a bare ReformOutcome")
    ctx = _context(scenario, _outcome_orgs(outcome), lang, english)
    steps = _headcount_steps(outcome, scenario)
    start, end = outcome.before.zone_headcount(), outcome.after.zone_headcount()
    assert start + sum(s["net"] for s in steps) == end, "headcount steps do not add up"

    with _style(ctx):
        width = max(7.5, 1.15 * (len(steps) + 2))
        height = 4.8
        fig = _figure(width, height)
        ax = fig.add_subplot()
        x = 0
        level = start
        labels = [_("before")]
        ax.bar(x, start, color="#7f8c8d", width=0.65)
        ax.annotate(f"{start}", (x, start), xytext=(0, 3), textcoords="offset points", ha="center",
                    fontsize=8.5, fontweight="bold")
        most_lines = 1
        for s in steps:
            x += 1
            net = s["net"]
            new = level + net
            colour = "#c0392b" if net < 0 else ("#27ae60" if net > 0 else "#bdc3c7")
            ax.bar(x, net if net else 0.0, bottom=level, color=colour, width=0.65)
            ax.plot([x - 1 + 0.33, x - 0.33], [level, level], color="#555555", lw=0.7)
            parts = [_(name).format(n=s[key]) for key, name in (
                ("released", N_("{n} cut")), ("moved_out", N_("{n} moved out")), ("hired", N_("{n} hired")),
                ("moved_in", N_("{n} moved in"))) if s[key]]
            text = f"{net:+d}" + ("\n" + "\n".join(parts) if parts else "")
            most_lines = max(most_lines, 1 + len(parts))
            ax.annotate(text, (x, max(level, new)), xytext=(0, 3), textcoords="offset points",
                        ha="center", va="bottom", fontsize=7.5)
            labels.append(_(s["step"]))
            level = new
        x += 1
        ax.plot([x - 1 + 0.33, x - 0.33], [level, level], color="#555555", lw=0.7)
        ax.bar(x, end, color="#34495e", width=0.65)
        ax.annotate(f"{end}", (x, end), xytext=(0, 3), textcoords="offset points", ha="center",
                    fontsize=8.5, fontweight="bold")
        labels.append(_("after"))
        ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right")
        ax.set_ylabel(_("zone government headcount (people)"))
        levels = np.cumsum([start] + [s["net"] for s in steps])
        highest = float(max(levels.max(), end, 1))
        # Room above the highest bar for its label: lines of 7.5 pt in an axes about 3.2 inches tall.
        label_share = min(0.5, (most_lines * 9.5 + 8) / (3.2 * 72))
        ax.set_ylim(0, highest / (1 - label_share) * 1.04)
        ax.grid(axis="y", alpha=0.3)
        change = end - start
        pct = f" ({change / start:+.0%})" if start else ""
        what = _("headcount {start} → {end}{pct}").format(start=start, end=end, pct=pct)
        ax.set_title(_wrap(_heading(ctx, what), width - 1.0, 10), fontsize=10)
    return fig


# ---------------------------------------------------------------- where the time goes


def _component_means(splits: Sequence[Mapping[str, float] | None]) -> dict[str, float]:
    out = {}
    for c in COMPONENTS:
        values = np.array([s.get(c, math.nan) for s in splits if s is not None], dtype=float)
        values = values[~np.isnan(values)]
        out[c] = float(values.mean()) if len(values) else math.nan
    return out


def plot_time_split(result: Comparison, *, lang: str | None = None, english: bool | None = None) -> Figure:
    """Where an application's time goes, before and after, as stacked bars: pooled and per project type.

    Mean working days on each application's critical path spent waiting in
    queues, being processed, being signed off, in hand-offs and in rework
    (the file back with the applicant); the parts add up to the mean lead
    time. With several project types, one pair of bars per type follows the
    pooled pair.
    """
    comparison = _require_comparison(result)
    ctx = _comparison_ctx(comparison, lang, english)
    states = (comparison.before, comparison.after)
    types = comparison.after.project_types("approval")  # enforcement case types are in the tables
    groups: list[str | None] = [None] + (list(types) if len(types) > 1 else [])
    rows: list[tuple[str, StateResult, dict[str, float]]] = []
    with use_language(ctx.lang):
        for g in groups:
            for s in states:
                if g is None:
                    split = _component_means([r.time_split for r in s.runs])
                    group = _("all (pooled)") if len(groups) > 1 else ""
                else:
                    split = _component_means([r.project_type(g).time_split for r in s.runs
                                              if g in s.project_types()])
                    group = ctx.names.project_type(g)
                rows.append((group, s, split))

    with _style(ctx):
        from matplotlib.patches import Patch

        fig = _figure(9.0, 2.0 + 0.42 * len(rows))
        ax = fig.add_subplot()
        totals = [sum(v for v in split.values() if not math.isnan(v)) for _g, _s, split in rows]
        longest = max(totals + [1e-9])
        for row, (_group, state, split) in enumerate(rows):
            left = 0.0
            for c in COMPONENTS:
                v = split[c]
                if math.isnan(v) or v <= 0:
                    continue
                ax.barh(row, v, left=left, color=_COMPONENT_COLOURS[c], height=0.62)
                if v >= 0.08 * longest:
                    ax.text(left + v / 2, row, f"{v:.1f}", ha="center", va="center", fontsize=7.5, color="white",
                            fontweight="bold")
                left += v
            note = "" if state.stable else _(" UNSTABLE")
            ax.text(left + 0.01 * longest, row, f"{left:.1f}{note}", va="center", ha="left", fontsize=8)
        labels = [(f"{group} · " if group else "") + state_label(state.name) for group, state, _split in rows]
        ax.set_yticks(range(len(rows)), [_wrap(t, 3.2, 8) for t in labels], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, longest * 1.25)
        ax.set_xlabel(_("mean working days on the critical path (the parts add up to the mean lead time)"))
        ax.grid(axis="x", alpha=0.3)
        handles = [Patch(color=_COMPONENT_COLOURS[c]) for c in COMPONENTS]
        _legend_below(fig, handles, [_(COMPONENT_LABELS[c]) for c in COMPONENTS], ncol=3)
        fig.suptitle(_wrap(_heading(ctx, _("where an application's time goes")), 8.5, 10.5), fontsize=10.5)
    return fig


# ---------------------------------------------------------------- sweeps


def sweep_parameters(frame: pd.DataFrame) -> list[str]:
    """The varied parameters of a sweep frame: every column that is not a result."""
    return [
        c for c in frame.columns
        if c not in _SWEEP_RESULT_COLUMNS and not str(c).startswith(("lead_", "time_", "type."))
    ]


#: Human names of the levers a sweep most often varies: (operator or section, field) -> name.
_LEVER_NAMES = {
    ("cap_headcount", "cap"): N_("headcount cap"),
    ("agency_service", "rework_factor"): N_("rework factor of agency service"),
    ("agency_service", "delay_factor"): N_("resubmission delay factor of agency service"),
    ("merge", "support_saving"): N_("support staff saved by merging"),
    ("flatten", "signoff_cut"): N_("sign-off levels cut by flattening"),
    ("one_stop", "support"): N_("support staff of the one-stop bureau"),
    ("devolve", "officers"): N_("officers hired per devolved power"),
    ("leadership", "deputies"): N_("deputy posts"),
    ("set_leadership", "deputies"): N_("deputy posts"),
    ("set_leadership", "chief"): N_("chief posts"),
    ("arrivals", "rate"): N_("arrival rate"),
    ("units", "support"): N_("support staff"),
    ("units", "non_case_share"): N_("non-case share of working time"),
    ("functions", "officers"): N_("officers"),
    ("functions", "signoff_levels"): N_("sign-off levels"),
    ("functions", "rework_probability"): N_("rework probability"),
    ("functions", "service_time"): N_("service time"),
    ("simulation", "utilisation_target"): N_("utilisation target"),
    ("workload", "statutory_limit_days"): N_("statutory limit (working days)"),
}
#: Operators by the noun a reader uses, for levers not named above.
_OP_NAMES = {
    "merge": N_("merge"), "strip": N_("strip"), "devolve": N_("devolve"), "flatten": N_("flatten"),
    "one_stop": N_("one-stop bureau"), "parallelize": N_("parallel approval"), "merge_steps": N_("merged steps"),
    "agency_service": N_("agency service"), "spin_off": N_("spin-off"), "merge_zones": N_("merge zones"),
    "cap_headcount": N_("headcount cap"), "set_leadership": N_("leadership posts"),
}


def lever_label(path: str, scenario: Scenario | None = None, names: Names | None = None) -> str:
    """A sweep lever's human name, in the language in force: "headcount cap" for ``reforms[op=cap_headcount].cap``.

    Read from the operator (or section) and the field the path ends in, with
    the named unit, function or project type when the path selects one
    ("arrival rate · 工业投资项目"); an unknown field falls back to its own
    words ("non case share" for ``non_case_share``).
    """
    from orgsim.errors import ScenarioError
    from orgsim.sweep.levers import parse_path

    try:
        steps = parse_path(str(path))
    except ScenarioError:
        return str(path)
    names = names or Names(scenario)
    keys = [arg for kind, arg in steps if kind == "key"]
    field = keys[-1] if keys else str(path)
    owner = None
    subject = None
    section = keys[0] if keys else None
    for kind, arg in steps:
        if kind == "match" and arg[0] == "op":
            owner = arg[1]
        elif kind == "match" and arg[0] == "id":
            subject = arg[1]
    container = keys[-2] if len(keys) >= 2 else section
    label = None
    for key in ((owner, field), (container, field), (section, field)):
        if key in _LEVER_NAMES:
            label = _(_LEVER_NAMES[key])
            break
    if label is None:
        words = field.replace("_", " ")
        label = f"{_(_OP_NAMES[owner])} · {words}" if owner in _OP_NAMES else words
    if subject is not None:
        if section == "workload" or container == "project_types":
            label += f" · {names.project_type(subject)}"
        else:
            label += f" · {names.node(subject)}"
    return label


class _CurveStyle(TypedDict):
    """How one sweep curve is drawn, in Line2D's keyword arguments: the curve and its legend entry share it."""

    marker: MarkerType
    markersize: float
    linestyle: LineStyleType
    color: str


def _summarise(values: np.ndarray, level: float) -> tuple[float, float, float]:
    values = values[np.isfinite(values)]
    if not len(values):
        return (math.nan, math.nan, math.nan)
    low, high = confidence_interval(values, level)
    return (float(values.mean()), low, high)


def _value_key(value: Any) -> tuple[int, float, str]:
    """Sort values numerically where they are numbers (80 before 120), else as text."""
    try:
        return (0, float(value), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(value))


def plot_sweep(
    frame: pd.DataFrame,
    *,
    param: str | None = None,
    level: float = 0.95,
    scenario: Scenario | None = None,
    lang: str | None = None,
    english: bool | None = None,
    title: str | None = None,
) -> Figure:
    """Mean p90 lead time, with its confidence band, against the varied value and headcount.

    ``frame`` has one row per sweep point, state and replication, with the
    columns ``state``, ``replication``, ``headcount``, ``lead_working_p90``,
    optionally ``stable``, and one column per varied parameter (found as the
    columns that are not results, or named with ``param``). With several
    varied parameters the first (or ``param``) is the x axis and each value of
    the others gets its own curve, in numeric order. Axes and legends name
    each lever as a reader would (:func:`lever_label`). Points where some
    replication was unstable are drawn as crosses and left out of the curves:
    their p90 is not a steady-state number. The figure's title is ``title``,
    else the ``scenario``'s name.
    """
    import pandas as pd

    missing = [c for c in SWEEP_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            f"the sweep frame lacks column(s) {', '.join(missing)}; it has {', '.join(map(str, frame.columns))}"
        )
    if not len(frame):
        raise ValueError("the sweep frame has no rows")
    params = sweep_parameters(frame)
    if param is not None:
        if param not in frame.columns:
            raise ValueError(f"no column {param!r} in the sweep frame")
        params = [param] + [p for p in params if p != param]
    orgs: list[o.Org] = []
    if scenario is not None:
        from orgsim.reforms import reform_scenario

        try:
            orgs = _outcome_orgs(reform_scenario(scenario))
        except Exception:  # noqa: BLE001 - names only: a scenario whose reforms fail still names its units
            orgs = []
    ctx = _context(scenario, orgs, lang, english)
    x_name = params[0] if params else None
    others = params[1:]
    stable = frame["stable"].astype(bool) if "stable" in frame.columns else pd.Series(True, index=frame.index)
    work = frame.assign(_stable=stable)

    keys = ([x_name] if x_name else []) + others + ["state"]
    groups = []
    for key, g in work.groupby(keys, sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        named = dict(zip(keys, key, strict=True))
        mean, low, high = _summarise(g["lead_working_p90"].to_numpy(dtype=float), level)
        groups.append({**named, "p90": mean, "low": low, "high": high,
                       "headcount": float(g["headcount"].astype(float).mean()), "stable": bool(g["_stable"].all()),
                       "n": len(g)})
    table = pd.DataFrame(groups)

    numeric_x = (x_name is not None and pd.api.types.is_numeric_dtype(frame[x_name])
                 and not pd.api.types.is_bool_dtype(frame[x_name]))
    categories: list[Any] = []
    if x_name is not None and not numeric_x:
        categories = sorted(dict.fromkeys(frame[x_name].tolist()), key=_value_key)
        table["_x"] = [categories.index(v) for v in table[x_name]]
    elif x_name is not None:
        table["_x"] = table[x_name].astype(float)

    # Every value that is drawn at its place; unstable points far above are drawn at the top.
    shown = table.loc[table["stable"], ["p90", "high"]].to_numpy(dtype=float) if len(table) else np.empty(0)
    shown = shown[np.isfinite(shown)]
    ceiling = float(shown.max()) * 1.15 if len(shown) else math.inf

    def state_rank(state: Any) -> tuple[int, str]:
        order = list(STATE_COLOURS)
        return (order.index(state) if state in order else len(order), str(state))

    with _style(ctx):
        from matplotlib.lines import Line2D

        panels = 2 if x_name else 1
        width = 5.0 * panels + 0.8
        fig = _figure(width, 5.2)
        axes = fig.subplots(1, panels, squeeze=False)[0]
        curves = sorted(
            ((k if isinstance(k, tuple) else (k,), c)
             for k, c in table.groupby(others + ["state"], sort=True, dropna=False)),
            key=lambda kc: (state_rank(kc[0][-1]), [_value_key(v) for v in kc[0][:-1]]),
        )
        states_seen = list(dict.fromkeys(k[-1] for k, _c in curves))
        combos = list(dict.fromkeys(k[:-1] for k, _c in curves))
        line_styles: tuple[LineStyleType, ...] = ("-", "--", ":", "-.")
        markers: tuple[MarkerType, ...] = ("o", "s", "^", "D", "v", "P")
        handles, labels = [], []
        any_unstable = False
        for ckey, c in curves:
            state = ckey[-1]
            extra = ", ".join(
                f"{lever_label(k, scenario, ctx.names)} {v:g}" if isinstance(v, (int, float))
                else f"{lever_label(k, scenario, ctx.names)} {v}"
                for k, v in zip(others, ckey[:-1], strict=True)
            )
            label = state_label(str(state)) + (f" ({extra})" if extra else "")
            colour = _state_colour(str(state), states_seen.index(state))
            k = combos.index(ckey[:-1])
            style = _CurveStyle(marker=markers[k % len(markers)], markersize=4,
                                linestyle=line_styles[k % len(line_styles)], color=colour)
            for ax, xcol in zip(axes, (["_x"] if x_name else []) + ["headcount"], strict=True):
                c_sorted = c.sort_values(xcol)
                band = c_sorted[c_sorted["stable"]].dropna(subset=["low", "high"])
                ax.plot(c_sorted[xcol], c_sorted["p90"].where(c_sorted["stable"]), **style)
                if len(band):
                    ax.fill_between(band[xcol], band["low"], band["high"], color=colour, alpha=0.2, lw=0)
                bad = c_sorted[~c_sorted["stable"]]
                if len(bad):
                    y = np.minimum(np.nan_to_num(bad["p90"].to_numpy(dtype=float), nan=math.inf), ceiling)
                    keep = np.isfinite(y)
                    if keep.any():
                        any_unstable = True
                        ax.plot(bad[xcol].to_numpy()[keep], y[keep], ls="", marker="x", ms=8, mew=2,
                                color=_LIMIT_COLOUR)
            handles.append(Line2D([], [], **style))
            labels.append(label)
        if any_unstable:
            handles.append(Line2D([], [], ls="", marker="x", ms=8, mew=2, color=_LIMIT_COLOUR))
            labels.append(_("unstable in some replication (left out of the curve)"))
        y_label = _("p90 lead time (working days)")
        if x_name:
            lever = lever_label(x_name, scenario, ctx.names)
            axes[0].set_xlabel(_wrap(lever, 4.4, 9))
            if categories:
                axes[0].set_xticks(range(len(categories)), [str(v) for v in categories])
            axes[0].set_ylabel(y_label)
            axes[0].set_title(_wrap(_("p90 lead time against {lever}").format(lever=lever), 4.6, 10), fontsize=10)
        axes[-1].set_xlabel(_("zone government headcount (people)"))
        axes[-1].set_ylabel(y_label)
        axes[-1].set_title(_("p90 lead time against headcount"), fontsize=10)
        for ax in axes:
            ax.grid(alpha=0.3)
            ax.set_ylim(bottom=0, top=ceiling * 1.05 if math.isfinite(ceiling) else None)
        ci = _("lines: mean over replications; bands: its {level:.0%} confidence interval").format(level=level)
        _legend_below(fig, handles, labels, ncol=2 if len(handles) > 3 else len(handles), title=ci,
                      title_fontsize=7.5)
        heading = title or (_heading(ctx, _("sweep")) if scenario is not None else "")
        if heading:
            fig.suptitle(_wrap(heading, width - 0.5, 10.5), fontsize=10.5)
    return fig


# ---------------------------------------------------------------- a programme over time

_TIMELINE_COLOURS = {"posts": "#7f7f7f", "headcount": "#4c72b0", "learning": "#55a868", "lead": "#dd8452",
                     "phase": "#8172b3"}


def _months_later(day: Any, months: int) -> Any:
    m = day.month - 1 + months
    return day.replace(year=day.year + m // 12, month=m % 12 + 1, day=1)


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def plot_timeline(result: TimelineResult, scenario: Scenario, *, lang: str | None = None,
                  english: bool | None = None) -> Figure:
    """Headcount and lead time over a programme (``orgsim timeline``), each phase's date marked.

    Top: posts, people in post and newcomers still learning as each period
    opens (means over replications). Bottom: the mean lead time of the
    applications that arrived in each period, its 95% confidence band across
    replications, and the p90 (mean of each replication's). A dotted line
    marks each dated phase, numbered as in the legend, which gives its date
    and name. ``scenario`` is the one simulated (for its names and title).
    """
    import datetime as dt

    from orgsim.reforms import reform_scenario
    from orgsim.timeline.run import PERIOD_MONTHS

    try:
        orgs = _outcome_orgs(reform_scenario(scenario))
    except Exception:  # noqa: BLE001 - names only: the timeline ran, so this does not fail in practice
        orgs = []
    ctx = _context(scenario, orgs, lang, english)
    periods = result.periods
    starts = [dt.date.fromisoformat(p["start"]) for p in periods]
    posts = [p["posts"] for p in periods]
    heads = [p["headcount"] for p in periods]
    learning = [p["learning"] for p in periods]
    lead = [p["lead_time_working_days"] for p in periods]
    mean = np.array([_number(x["mean"]) for x in lead])
    low = np.array([_number(x["ci95"][0]) if x["ci95"] else math.nan for x in lead])
    high = np.array([_number(x["ci95"][1]) if x["ci95"] else math.nan for x in lead])
    p90 = np.array([_number(x["p90"]) for x in lead])
    dated = [(n, ph) for n, ph in enumerate(result.phases) if n > 0]  # the first is the organisation before
    # Steps over each period, the last one drawn to its end too: the horizon, often part-way through it.
    end = dt.date.fromisoformat(result.end) if result.end else _months_later(starts[-1], PERIOD_MONTHS[result.period])
    edges = [*starts, end]
    posts, heads, learning = posts + posts[-1:], heads + heads[-1:], learning + learning[-1:]
    mean, low, high, p90 = (np.append(x, x[-1]) for x in (mean, low, high, p90))

    with _style(ctx):
        from matplotlib.dates import DateFormatter, MonthLocator
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        fig = _figure(9.0, 6.6)
        top, bottom = fig.subplots(2, 1, sharex=True)
        step = {"where": "post"}
        top.step(edges, posts, color=_TIMELINE_COLOURS["posts"], ls="--", lw=1.2, **step)
        top.step(edges, heads, color=_TIMELINE_COLOURS["headcount"], lw=1.6, **step)
        top.step(edges, learning, color=_TIMELINE_COLOURS["learning"], lw=1.2, **step)
        top.set_ylim(bottom=0, top=max([1.0, *posts, *heads]) * 1.12)
        top.set_ylabel(_("people (as each period opens)"))
        bottom.fill_between(edges, low, high, color=_TIMELINE_COLOURS["lead"], alpha=0.25, lw=0, step="post")
        bottom.step(edges, mean, color=_TIMELINE_COLOURS["lead"], lw=1.6, **step)
        bottom.step(edges, p90, color=_TIMELINE_COLOURS["lead"], lw=1.0, ls=":", **step)
        # Fitted to the lines, not the band: a period with few applications (the last, cut short by
        # the horizon) can have an interval many times wider than the rest; the axes clip it.
        shown = np.concatenate([mean, p90])
        shown = shown[np.isfinite(shown)]
        bottom.set_ylim(bottom=0, top=(float(shown.max()) if len(shown) else 1.0) * 1.12)
        bottom.set_ylabel(_("lead time (working days)"))
        bottom.set_xlabel(_("applications filed in the period that starts on the date"))
        for ax in (top, bottom):
            ax.grid(alpha=0.3)
            for _n, ph in dated:
                ax.axvline(dt.date.fromisoformat(ph["effective"]), color=_TIMELINE_COLOURS["phase"], ls=":", lw=1.1)
        months = (edges[-1].year - edges[0].year) * 12 + edges[-1].month - edges[0].month
        every = next((m for m in (1, 2, 3, 6, 12) if months / m <= 8), 12)
        bottom.xaxis.set_major_locator(MonthLocator(bymonth=range(1, 13, every)))
        bottom.xaxis.set_major_formatter(DateFormatter("%Y-%m"))
        bottom.set_xlim(edges[0], edges[-1])
        # Phase numbers on a row above the top panel, as ticks: a tick label never enters the data area.
        marks = top.secondary_xaxis("top")
        ticks, tick_labels = _phase_ticks([dt.date.fromisoformat(ph["effective"]) for _n, ph in dated],
                                          [n for n, _ph in dated], starts)
        marks.set_xticks(ticks, tick_labels, fontsize=8, color=_TIMELINE_COLOURS["phase"])
        marks.tick_params(length=3, color=_TIMELINE_COLOURS["phase"])

        handles: list[Artist] = [
            Line2D([], [], color=_TIMELINE_COLOURS["posts"], ls="--", lw=1.2),
            Line2D([], [], color=_TIMELINE_COLOURS["headcount"], lw=1.6),
            Line2D([], [], color=_TIMELINE_COLOURS["learning"], lw=1.2),
            Line2D([], [], color=_TIMELINE_COLOURS["lead"], lw=1.6),
            Patch(color=_TIMELINE_COLOURS["lead"], alpha=0.25),
            Line2D([], [], color=_TIMELINE_COLOURS["lead"], lw=1.0, ls=":"),
        ]
        labels = [_("posts"), _("people in post"), _("newcomers still learning"),
                  _("mean lead time (mean over replications)"), _("its 95% confidence interval"),
                  _("p90 lead time")]
        for n, ph in dated:
            name = ctx.names.pick(_("phase {n}").format(n=n), ph["name"], ph.get("name_en"))
            text = _("{n}: {date}, {name}").format(n=n, date=ph["effective"], name=name)
            handles.append(Line2D([], [], color=_TIMELINE_COLOURS["phase"], ls=":", lw=1.1))
            labels.append(_wrap(text, 3.9, 7.5))
        _legend_below(fig, handles, labels, ncol=2)
        heading = _heading(ctx, _("the programme over time: people and lead times"))
        fig.suptitle(_wrap(heading, 8.5, 10.5), fontsize=10.5)
    return fig


def _phase_ticks(dates: Sequence[Any], numbers: Sequence[int], starts: Sequence[Any]) -> tuple[list[Any], list[str]]:
    """Where to write the phase numbers above the figure: phases closer than a label's width share one."""
    span = max((starts[-1] - starts[0]).days, 1) if starts else 1
    close = 0.02 * span  # about 0.16 inch on the figure's 8-inch axis: two labels that near would touch
    ticks: list[Any] = []
    labels: list[list[str]] = []
    for d, n in zip(dates, numbers, strict=True):
        if ticks and (d - ticks[-1]).days < close:
            labels[-1].append(str(n))
        else:
            ticks.append(d)
            labels.append([str(n)])
    return ticks, [",".join(x) for x in labels]
