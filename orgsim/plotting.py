"""Figures of a reform and its simulation; each function returns a matplotlib Figure.

The figures take results (a :class:`~orgsim.experiment.Comparison`, a
:class:`~orgsim.reforms.ReformOutcome`, or a sweep's data frame) and return a
:class:`matplotlib.figure.Figure` built without pyplot, so they display in a
notebook and can be saved with ``fig.savefig("out.svg")``::

    >>> from orgsim.experiment import compare
    >>> from orgsim import plotting
    >>> result = compare(scenario, replications=5)             # doctest: +SKIP
    >>> plotting.plot_lead_times(result).savefig("lead.png")   # doctest: +SKIP

Chinese unit names need a font with CJK glyphs (docs/figures.md says how to
install one). Without one, figures use the English names (``name_en``, else
the id) and a single :class:`CJKFontWarning` says so; ``english=True`` asks for
English names outright.

matplotlib is imported inside the functions: importing this module, or any
of the engine, never imports it.
"""

from __future__ import annotations

import math
import re
import warnings
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from orgsim.experiment import Comparison, StateResult, confidence_interval
from orgsim.model import org as o
from orgsim.reforms import ReformOutcome
from orgsim.scenario.schema import UNIT_KINDS, Scenario
from orgsim.sim.results import COMPONENTS

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

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
    "sweep_parameters",
    "SWEEP_COLUMNS",
    "KIND_COLOURS",
    "STATE_COLOURS",
]

#: Figure kinds, as ``orgsim plot --kind`` names them.
KINDS = ("orgchart", "leadtime", "utilisation", "waterfall", "timesplit", "sweep")

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
_COMPONENT_LABELS = {
    "waiting": "waiting in queues", "processing": "officers' processing", "signoff": "leaders' sign-off",
    "handoff": "hand-offs between desks", "rework": "rework (file back with the applicant)",
}
#: One colour per unit kind, in the order of the scenario format (13 kinds).
_KIND_PALETTE = (
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
    "#17becf", "#bcbd22", "#7f7f7f", "#aec7e8", "#98df8a", "#c5b0d5",
)
KIND_COLOURS = dict(zip(UNIT_KINDS, _KIND_PALETTE))
#: How the org chart marks what operators did, and in which colour.
_MOVE_OPS = {
    "strip": ("stripped", "#c0392b"),
    "devolve": ("devolved", "#1e8449"),
    "one_stop": ("one-stop", "#7d3c98"),
    "spin_off": ("spun off", "#6e2c00"),
}
_MERGE_OPS = ("merge", "merge_zones")
_MERGED_COLOUR = "#d35400"
_NEW_COLOUR = "#1f618d"
_GONE_COLOUR = "#616a6b"


class CJKFontWarning(UserWarning):
    """No font with Chinese glyphs is installed: figures fall back to English names."""


# ---------------------------------------------------------------- fonts and names


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


#: Keys of warnings already given in this process (the CJK fallback is said once).
_warned: set[str] = set()


def _english(english: bool | None) -> bool:
    """Whether to label with English names; warns once when Chinese cannot be drawn."""
    if english:
        return True
    if cjk_font() is not None:
        return False
    if "cjk" not in _warned:
        warnings.warn(
            "no font with Chinese glyphs found (e.g. Debian's fonts-noto-cjk); figures use English "
            "names (name_en, else the id). See docs/figures.md to install one.",
            CJKFontWarning,
            stacklevel=3,
        )
        _warned.add("cjk")
    return True


def _name(graph: Any, node: str, english: bool) -> str:
    d = graph.nodes[node]
    return (d.get(o.NAME_EN) or node) if english else d[o.NAME]


def _title(scenario: Scenario | None, english: bool) -> str:
    if scenario is None:
        return ""
    meta = scenario.scenario
    return (meta.name_en or "scenario") if english else meta.name


@contextmanager
def _style(english: bool) -> Iterator[None]:
    """rc settings for building one figure: sizes, and the CJK font when it is used.

    Text objects keep the font family they were made with, so the figure draws
    right after the context ends (in a notebook, or in ``savefig``).
    """
    import matplotlib as mpl

    rc: dict[str, Any] = {
        "font.size": 9,
        "axes.titlesize": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.unicode_minus": True,
    }
    family = None if english else cjk_font()
    if family is not None:
        rc["font.family"] = [family, "DejaVu Sans"]
    with mpl.rc_context(rc):
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


def _badges(outcome: ReformOutcome, english: bool) -> tuple[dict[str, list[_Badge]], dict[str, list[_Badge]]]:
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
        for org in (after, before):
            if org.is_unit(unit):
                return _name(org.graph, unit, english)
        return unit

    moves: dict[str, list[str]] = {}
    for c in outcome.changes:
        if c.action == "function_moved" and c.op in _MOVE_OPS:
            moves.setdefault(c.subject, []).append(c.op)
        elif c.action == "unit_merged" and before.is_unit(c.subject):
            marks_before[c.subject].append(_Badge(f"merged → {label_of(final(c.subject))}", _MERGED_COLOUR))
        elif c.action == "unit_removed" and before.is_unit(c.subject):
            word = "flattened away" if c.op == "flatten" else "dissolved"
            marks_before[c.subject].append(_Badge(word, _GONE_COLOUR))
        elif c.action == "unit_created" and after.is_unit(c.subject) and not before.is_unit(c.subject):
            if c.op in _MERGE_OPS:
                parts = c.note.removeprefix("merged from ").split(", ")
                marks_after[c.subject].append(_Badge(f"merged from {len(parts)} units", _MERGED_COLOUR))
            else:
                marks_after[c.subject].append(_Badge("new", _NEW_COLOUR))

    lost: dict[tuple[str, str], int] = defaultdict(int)
    gained: dict[tuple[str, str], int] = defaultdict(int)
    for function, ops in moves.items():
        if before.is_function(function):
            lost[(before.owner(function), ops[0])] += 1
        if after.is_function(function):
            gained[(after.owner(function), ops[-1])] += 1
    for (unit, op), n in lost.items():
        word, colour = _MOVE_OPS[op]
        marks_before[unit].append(_Badge(f"−{n} fn {word}", colour))
    for (unit, op), n in gained.items():
        word, colour = _MOVE_OPS[op]
        marks_after[unit].append(_Badge(f"+{n} fn {word}", colour))
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
    from matplotlib.lines import Line2D

    outcome, scenario = _outcome_and_scenario(result, scenario)
    english = _english(english)
    order = _unit_order(outcome)
    marks = _badges(outcome, english)
    panels = []
    for name, org, badges in (("before", outcome.before, marks[0]), ("after", outcome.after, marks[1])):
        rows = _rows(org, order)
        width = 0.0
        for unit, depth in rows:
            text = f"{_name(org.graph, unit, english)} ({org.headcount(unit)})"
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

    kind_group = [blank("unit kind:")] + [
        Line2D([], [], ls="", marker="o", ms=7, mfc=KIND_COLOURS.get(k, "#999999"), mec="#333333",
               label=k.replace("_", " ")) for k in kinds
    ] + [Line2D([], [], ls="", marker="s", ms=7, mfc="white", mec="#333333",
                label="square: outside the zone government")]
    size_group = [blank("headcount (marker area):")] + [
        Line2D([], [], ls="", marker="o", ms=_marker_pt(n, largest), mfc="#dddddd", mec="#333333",
               label=f"{n} staff")
        for n in sorted({max(1, largest // 10), max(1, largest // 2), largest})
    ]
    used = {b.colour for p in panels for bs in p[2].values() for b in bs}
    tag_group = [blank("tags: what the reforms did")] + [
        Line2D([], [], ls="", marker="s", ms=7, mfc="white", mec=colour, mew=1.5, label=text)
        for text, colour in [("merged", _MERGED_COLOUR), ("dissolved / flattened away", _GONE_COLOUR),
                             ("new unit", _NEW_COLOUR)]
        + [(f"functions {w} (−out, +in)", c) for w, c in _MOVE_OPS.values()]
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

    with _style(english):
        fig = _figure(fig_w, fig_h, constrained=False)
        heading = _title(scenario, english)
        fig.suptitle(f"{heading}: organisation before and after the reforms" if heading
                     else "Organisation before and after the reforms", y=1 - 0.12 / fig_h, va="top",
                     fontsize=11)
        x0 = 0.2
        extra = (fig_w - sum(p[4] for p in panels) - gap_in - 0.4) / 2
        for name, org, badges, rows, width in panels:
            width += extra
            ax = fig.add_axes((x0 / fig_w, (legend_in + 0.2) / fig_h, width / fig_w, body_in / fig_h))
            _draw_tree(ax, org, rows, badges, largest, width, n_rows, english)
            zone = org.zone_units()
            ax.set_title(
                f"{name.capitalize()}: {len(zone)} zone units, {sum(org.headcount(u) for u in zone)} staff "
                f"(headcount in brackets)", loc="left", fontsize=9.5, pad=8,
            )
            x0 += width + gap_in
        fig.legend(handles=handles, loc="lower center", ncol=ncol, frameon=False, fontsize=7.5,
                   bbox_to_anchor=(0.5, 0.05 / fig_h), handletextpad=0.4, columnspacing=1.5)
    return fig


def _draw_tree(
    ax: Axes, org: o.Org, rows: Sequence[tuple[str, int]], badges: Mapping[str, list[_Badge]],
    largest: int, width: float, n_rows: int, english: bool,
) -> None:
    from matplotlib.collections import LineCollection

    ax.set_xlim(0, width)
    ax.set_ylim(_ROW_IN * (n_rows - 0.5), -_ROW_IN * 0.5)
    ax.set_axis_off()
    place = {u: (0.12 + _INDENT_IN * d, _ROW_IN * i) for i, (u, d) in enumerate(rows)}
    segments = []
    for unit, _ in rows:
        kids = [c for c in org.children(unit) if c in place]
        if not kids:
            continue
        px, py = place[unit]
        last = max(place[c][1] for c in kids)
        segments.append([(px, py), (px, last)])
        segments += [[(px, place[c][1]), (place[c][0], place[c][1])] for c in kids]
    ax.add_collection(LineCollection(segments, colors="#b0b0b0", linewidths=0.8, zorder=1))
    for unit, _ in rows:
        x, y = place[unit]
        d = org.graph.nodes[unit]
        inside = org.in_zone_government(unit)
        headcount = org.headcount(unit)
        ax.plot(x, y, ls="", marker="o" if inside else "s", ms=_marker_pt(headcount, largest),
                mfc=KIND_COLOURS.get(d[o.KIND], "#999999"), mec="#333333", mew=0.6, zorder=3)
        label = ax.text(x + 0.16, y, f"{_name(org.graph, unit, english)} ({headcount})",
                        va="center", ha="left", fontsize=_LABEL_PT, zorder=4)
        anchor = label
        for badge in badges.get(unit, []):
            anchor = ax.annotate(
                badge.text, xy=(1, 0.5), xycoords=anchor, xytext=(6, 0), textcoords="offset points",
                va="center", ha="left", fontsize=_BADGE_PT, color=badge.colour, zorder=4,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": badge.colour, "lw": 0.7},
            )


# ---------------------------------------------------------------- lead times


_CLOCKS = {"working": "working days", "calendar": "calendar days",
           "statutory": "working days on the statutory clock"}


def _percentile_mean(state: StateResult, clock: str, p: int) -> float:
    """Mean across replications of each replication's percentile (as ``compare`` reports)."""
    values = [getattr(s, f"p{p}") for s in state.lead_time_runs(clock) if s.count]
    return float(np.mean(values)) if values else math.nan


def plot_lead_times(
    result: Comparison,
    *,
    clock: str = "working",
    style: str = "ecdf",
    english: bool | None = None,
) -> Figure:
    """Lead-time distributions before and after, with p50/p90 and the statutory limit.

    ``clock`` is ``working`` (working days, the default), ``calendar`` or
    ``statutory`` (working days with the clock stopped while a file is back
    with the applicant, which is what the statutory limit counts). ``style``
    is ``ecdf`` (share of applications done within x days) or ``hist``.
    Applications of all replications are pooled (drawn from each run's
    quantile sketches, :meth:`~orgsim.experiment.StateResult.lead_time_distribution`);
    p50 and p90 are means of each replication's percentile, as ``orgsim
    compare`` reports them.
    """
    comparison = _require_comparison(result)
    if clock not in _CLOCKS:
        raise ValueError(f"clock must be one of {', '.join(_CLOCKS)}, got {clock!r}")
    if style not in ("ecdf", "hist"):
        raise ValueError(f"style must be 'ecdf' or 'hist', got {style!r}")
    english = _english(english)
    states = (comparison.before, comparison.after)
    data = {s.name: s.lead_time_distribution(clock) for s in states}
    limits: list[float] = []
    if clock != "calendar":
        limits = sorted({t.statutory_limit_days for s in states for r in s.runs for t in r.project_types
                         if t.count and t.statutory_limit_days is not None})

    with _style(english):
        fig = _figure(8.0, 4.6)
        ax = fig.add_subplot()
        everything = np.concatenate([days for days, _, _ in data.values()] + [np.asarray(limits)])
        top = float(np.max(everything)) if len(everything) else 1.0
        bins = np.linspace(0, top * 1.02 or 1.0, 41)
        for i, state in enumerate(states):
            colour = _state_colour(state.name, i)
            days, share, count = data[state.name]
            p50 = _percentile_mean(state, clock, 50)
            p90 = _percentile_mean(state, clock, 90)
            flag = "" if state.stable else " — UNSTABLE, queues grow"
            label = (f"{state.name}: p50 {p50:.1f}, p90 {p90:.1f} ({count} applications){flag}"
                     if count else f"{state.name}: no application completed{flag}")
            if not count:
                ax.plot([], [], color=colour, label=label)
                continue
            if style == "ecdf":
                ax.plot(np.r_[0.0, days], np.r_[0.0, share], color=colour, lw=1.8,
                        ls="-" if state.stable else "--", label=label)
                for p, level, ls in ((p50, 0.5, ":"), (p90, 0.9, "--")):
                    ax.plot([p, p], [0, level], color=colour, ls=ls, lw=1.1)
                    ax.plot([p], [level], color=colour, marker="o", ms=4)
                    ax.annotate(f"p{round(level * 100)} {p:.0f}", (p, level), xytext=(4, -10 if i else 4),
                                textcoords="offset points", color=colour, fontsize=7.5)
                ax.set_ylabel("share of applications done")
                ax.set_ylim(0, 1.02)
            else:
                # Each bin's share of the applications, from the pooled distribution.
                in_bin = np.diff(np.interp(bins, days, share, left=0.0, right=1.0))
                ax.hist(bins[:-1], bins=bins, weights=in_bin, density=True, histtype="stepfilled", alpha=0.25,
                        color=colour)
                ax.hist(bins[:-1], bins=bins, weights=in_bin, density=True, histtype="step", lw=1.5, color=colour,
                        ls="-" if state.stable else "--", label=label)
                for p, ls in ((p50, ":"), (p90, "--")):
                    ax.axvline(p, color=colour, ls=ls, lw=1.1)
                ax.set_ylabel("density")
        for limit in limits:
            ax.axvline(limit, color="#b22222", lw=1.5)
            ax.annotate(f"statutory limit {limit:g}", (limit, 1), xycoords=("data", "axes fraction"),
                        xytext=(-4, -4), textcoords="offset points", rotation=90, ha="right", va="top",
                        color="#b22222", fontsize=7.5)
        ax.set_xlim(0, max(top * 1.03, 1.0))
        ax.set_xlabel(f"lead time ({_CLOCKS[clock]})")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right" if style == "ecdf" else "upper right", fontsize=7.5,
                  title="dotted p50, dashed p90 (means over replications)", title_fontsize=7.5)
        heading = _title(comparison.scenario, english)
        ax.set_title(f"{heading}: approval lead time before and after ({comparison.replications} replications)"
                     if heading else "Approval lead time before and after")
    return fig


# ---------------------------------------------------------------- utilisation


def _unit_labels(comparison: Comparison, units: Sequence[str], english: bool) -> list[str]:
    """Names of ``units``; a name that several units share gets its parent's name (or the id)."""

    def org_of(unit: str) -> o.Org | None:
        return next((org for org in (comparison.after.org, comparison.before.org) if org.is_unit(unit)), None)

    def name_of(unit: str) -> str:
        org = org_of(unit)
        return _name(org.graph, unit, english) if org else unit

    def parent_name(unit: str) -> str | None:
        org = org_of(unit)
        parent = org.parent(unit) if org else None
        return name_of(parent) if parent else None

    names = [name_of(u) for u in units]
    out = []
    for u, name in zip(units, names):
        if names.count(name) > 1:
            parents = [parent_name(v) for v, n in zip(units, names) if n == name]
            parent = parent_name(u)
            name = f"{name} · {parent if parent and parents.count(parent) == 1 else u}"
        out.append(name)
    return out


def plot_utilisation(result: Comparison, *, english: bool | None = None) -> Figure:
    """Busy share of each unit's officers before and after, with the bottleneck marked.

    Bars are officers' utilisation (pools of one unit pooled), diamonds its
    leaders' (sign-off); the star is each state's busiest queue, which may be a
    single function's desk or a leader. The dashed line is the scenario's
    utilisation target; at 100% a queue grows without bound.
    """
    comparison = _require_comparison(result)
    english = _english(english)
    states = (comparison.before, comparison.after)
    officers = {s.name: s.utilisation("officers") for s in states}
    leaders = {s.name: s.utilisation("leaders") for s in states}
    units = sorted(
        set().union(*officers.values(), *leaders.values()),
        key=lambda u: (-max([officers[s.name].get(u, 0.0) for s in states]
                            + [leaders[s.name].get(u, 0.0) for s in states]), u),
    )
    target = comparison.scenario.simulation.utilisation_target
    height = 1.6 + 0.42 * max(len(units), 1)

    with _style(english):
        fig = _figure(8.0, height)
        ax = fig.add_subplot()
        y = np.arange(len(units), dtype=float)
        bar = 0.38
        top = 1.0
        for i, state in enumerate(states):
            colour = _state_colour(state.name, i)
            offset = (-0.5 + i) * bar
            values = [officers[state.name].get(u, math.nan) for u in units]
            ax.barh(y + offset, np.nan_to_num(values), height=bar, color=colour, alpha=0.85,
                    label=f"{state.name}: officers" + ("" if state.stable else " (UNSTABLE)"))
            lead = [leaders[state.name].get(u, math.nan) for u in units]
            ax.plot(lead, y + offset, ls="", marker="D", ms=4.5, mfc="white", mec=colour, mew=1.3,
                    label=f"{state.name}: leaders' sign-off")
            top = max([top] + [v for v in values + lead if not math.isnan(v)])
            ranked = state.bottlenecks()
            if ranked and ranked[0]["unit"] in units:
                b = ranked[0]
                row = units.index(b["unit"]) + offset
                ax.plot([b["utilisation"]], [row], ls="", marker="*", ms=13, color=colour, mec="black",
                        mew=0.6, zorder=5, label=f"{state.name} bottleneck: {b['pool']} ({b['utilisation']:.0%})")
        ax.axvline(target, color="#555555", ls="--", lw=1, label=f"utilisation target {target:.0%}")
        ax.axvline(1.0, color="#b22222", lw=1.2, label="capacity (100%)")
        ax.set_yticks(y, _unit_labels(comparison, units, english))
        ax.invert_yaxis()
        ax.set_xlim(0, top * 1.08)
        ax.xaxis.set_major_formatter(_percent_formatter())
        ax.set_xlabel("share of working time busy with cases (mean over replications)")
        ax.grid(axis="x", alpha=0.3)
        ax.legend(loc="lower right", fontsize=7, ncol=2)
        heading = _title(comparison.scenario, english)
        ax.set_title(f"{heading}: utilisation by unit" if heading else "Utilisation by unit")
        if not units:
            ax.text(0.5, 0.5, "no queue received cases", transform=ax.transAxes, ha="center")
    return fig


def _percent_formatter() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=0)


# ---------------------------------------------------------------- headcount waterfall


#: Waterfall steps: label and the operators whose headcount change they sum.
_WATERFALL_STEPS: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("merged away", ("merge", "merge_zones"), True),
    ("flattened", ("flatten",), False),
    ("stripped", ("strip",), True),
    ("spun off", ("spin_off",), True),
    ("devolved in", ("devolve",), False),
    ("one-stop bureau", ("one_stop",), False),
    ("leadership posts", ("set_leadership",), False),
    ("capped", ("cap_headcount",), True),
)


def _headcount_steps(outcome: ReformOutcome, scenario: Scenario) -> list[dict[str, Any]]:
    """Zone headcount change per waterfall step, with released / moved / hired parts."""
    ops = [spec.op for _, spec in scenario.operators()]
    if len(ops) != len(outcome.states):
        raise ValueError(
            f"the outcome has {len(outcome.states)} reform states but the scenario {len(ops)} operators: "
            "pass the scenario the outcome was made from"
        )
    fields = ("released", "moved_out", "hired", "moved_in")
    totals: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(("net",) + fields, 0))
    prev = outcome.before
    for op, (_, state) in zip(ops, outcome.states):
        step = next((label for label, members, _ in _WATERFALL_STEPS if op in members), "other")
        row = totals[step]
        row["net"] += state.zone_headcount() - prev.zone_headcount()
        for f in fields:
            row[f] += state.ledger.total(f) - prev.ledger.total(f)
        prev = state
    out = []
    for label, _, always in _WATERFALL_STEPS + (("other", (), False),):
        row = totals.get(label)
        if row is None and not always:
            continue
        row = row or dict.fromkeys(("net",) + fields, 0)
        if not always and not any(row.values()):
            continue
        out.append({"step": label, **row})
    return out


def plot_headcount_waterfall(
    result: Comparison | ReformOutcome,
    scenario: Scenario | None = None,
    *,
    english: bool | None = None,
) -> Figure:
    """Zone government headcount from before to after, operator kind by operator kind.

    before -> merged away -> stripped -> spun off -> capped -> after, plus
    flattened, devolved in, one-stop bureau, leadership posts and other steps
    when they change headcount. Each bar is the net change; its label splits
    it into staff released, moved out of the zone government (to
    sub-districts, companies, the city), hired and moved in. A bare
    :class:`ReformOutcome` needs the ``scenario`` it came from.
    """
    outcome, scenario = _outcome_and_scenario(result, scenario)
    if scenario is None:
        raise ValueError("plot_headcount_waterfall needs the scenario of a bare ReformOutcome")
    english = _english(english)
    steps = _headcount_steps(outcome, scenario)
    start, end = outcome.before.zone_headcount(), outcome.after.zone_headcount()
    assert start + sum(s["net"] for s in steps) == end, "headcount steps do not add up"

    with _style(english):
        fig = _figure(max(7.5, 1.05 * (len(steps) + 2)), 4.8)
        ax = fig.add_subplot()
        x = 0
        level = start
        labels = ["before"]
        ax.bar(x, start, color="#7f8c8d", width=0.65)
        ax.annotate(f"{start}", (x, start), xytext=(0, 3), textcoords="offset points", ha="center",
                    fontsize=8.5, fontweight="bold")
        for s in steps:
            x += 1
            net = s["net"]
            new = level + net
            colour = "#c0392b" if net < 0 else ("#27ae60" if net > 0 else "#bdc3c7")
            ax.bar(x, net if net else 0.0, bottom=level, color=colour, width=0.65)
            ax.plot([x - 1 + 0.33, x - 0.33], [level, level], color="#555555", lw=0.7)
            parts = [f"{name} {s[key]}" for key, name in (("released", "released"), ("moved_out", "moved out"),
                                                         ("hired", "hired"), ("moved_in", "moved in"))
                     if s[key]]
            text = f"{net:+d}" + ("\n" + "\n".join(parts) if parts else "")
            ax.annotate(text, (x, max(level, new)), xytext=(0, 3), textcoords="offset points",
                        ha="center", va="bottom", fontsize=7.5)
            labels.append(s["step"])
            level = new
        x += 1
        ax.plot([x - 1 + 0.33, x - 0.33], [level, level], color="#555555", lw=0.7)
        ax.bar(x, end, color="#34495e", width=0.65)
        ax.annotate(f"{end}", (x, end), xytext=(0, 3), textcoords="offset points", ha="center",
                    fontsize=8.5, fontweight="bold")
        labels.append("after")
        ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right")
        ax.set_ylabel("zone government headcount")
        levels = np.cumsum([start] + [s["net"] for s in steps])
        ax.set_ylim(0, float(max(levels.max(), end)) * 1.3 + 1)
        ax.grid(axis="y", alpha=0.3)
        heading = _title(scenario, english)
        change = end - start
        pct = f" ({change / start:+.0%})" if start else ""
        ax.set_title((f"{heading}: " if heading else "") + f"headcount {start} → {end}{pct}")
    return fig


# ---------------------------------------------------------------- where the time goes


def _component_means(state: StateResult) -> dict[str, float]:
    out = {}
    for c in COMPONENTS:
        values = np.array([r.time_split.get(c, math.nan) for r in state.runs], dtype=float)
        values = values[~np.isnan(values)]
        out[c] = float(values.mean()) if len(values) else math.nan
    return out


def plot_time_split(result: Comparison, *, english: bool | None = None) -> Figure:
    """Where an application's time goes, before and after, as stacked bars.

    Mean working days on each application's critical path spent waiting in
    queues, being processed, being signed off, in hand-offs and in rework
    (the file back with the applicant); the parts add up to the mean lead
    time.
    """
    comparison = _require_comparison(result)
    english = _english(english)
    states = (comparison.before, comparison.after)
    split = {s.name: _component_means(s) for s in states}

    with _style(english):
        fig = _figure(8.0, 3.4)
        ax = fig.add_subplot()
        longest = max([sum(v for v in split[s.name].values() if not math.isnan(v)) for s in states] + [1e-9])
        labelled: set[str] = set()
        for row, state in enumerate(states):
            left = 0.0
            for c in COMPONENTS:
                v = split[state.name][c]
                if math.isnan(v) or v <= 0:
                    continue
                ax.barh(row, v, left=left, color=_COMPONENT_COLOURS[c], height=0.55,
                        label=None if c in labelled else _COMPONENT_LABELS[c])
                labelled.add(c)
                if v >= 0.06 * longest:
                    ax.text(left + v / 2, row, f"{v:.1f}", ha="center", va="center", fontsize=8, color="white",
                            fontweight="bold")
                left += v
            note = "" if state.stable else "  UNSTABLE"
            ax.text(left, row, f"  {left:.1f} working days{note}", va="center", ha="left", fontsize=8.5)
        ax.set_yticks(range(len(states)), [s.name for s in states])
        ax.invert_yaxis()
        ax.set_xlim(0, longest * 1.3)
        ax.set_xlabel("mean working days on the critical path (they add up to the mean lead time)")
        ax.grid(axis="x", alpha=0.3)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=3, fontsize=7.5, frameon=False)
        heading = _title(comparison.scenario, english)
        ax.set_title(f"{heading}: where an application's time goes" if heading
                     else "Where an application's time goes")
    return fig


# ---------------------------------------------------------------- sweeps


def sweep_parameters(frame: pd.DataFrame) -> list[str]:
    """The varied parameters of a sweep frame: every column that is not a result."""
    return [
        c for c in frame.columns
        if c not in _SWEEP_RESULT_COLUMNS and not str(c).startswith(("lead_", "time_", "type."))
    ]


def _short(path: str) -> str:
    """The last two parts of a sweep lever's path: ``reforms[op=cap_headcount].cap``."""
    parts = re.findall(r"[^.\[\]]+(?:\[[^\]]*\])?", str(path))
    return ".".join(parts[-2:]) if len(parts) > 2 else str(path)


def _summarise(values: np.ndarray, level: float) -> tuple[float, float, float]:
    values = values[np.isfinite(values)]
    if not len(values):
        return (math.nan, math.nan, math.nan)
    low, high = confidence_interval(values, level)
    return (float(values.mean()), low, high)


def plot_sweep(
    frame: pd.DataFrame,
    *,
    param: str | None = None,
    level: float = 0.95,
    scenario: Scenario | None = None,
    english: bool | None = None,
    title: str | None = None,
) -> Figure:
    """Mean p90 lead time, with its confidence band, against the varied value and headcount.

    ``frame`` has one row per sweep point, state and replication, with the
    columns ``state``, ``replication``, ``headcount``, ``lead_working_p90``,
    optionally ``stable``, and one column per varied parameter (found as the
    columns that are not results, or named with ``param``). With several
    varied parameters the first (or ``param``) is the x axis and each value of
    the others gets its own curve. Points where some replication was
    unstable are drawn as crosses and left out of the curves: their p90 is
    not a steady-state number. The figure's title is ``title``, else the
    ``scenario``'s name.
    """
    import pandas as pd

    missing = [c for c in SWEEP_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"the sweep frame lacks column(s) {', '.join(missing)}; it has {', '.join(map(str, frame.columns))}")
    if not len(frame):
        raise ValueError("the sweep frame has no rows")
    params = sweep_parameters(frame)
    if param is not None:
        if param not in frame.columns:
            raise ValueError(f"no column {param!r} in the sweep frame")
        params = [param] + [p for p in params if p != param]
    english = _english(english)
    x_name = params[0] if params else None
    others = params[1:]
    stable = frame["stable"].astype(bool) if "stable" in frame.columns else pd.Series(True, index=frame.index)
    work = frame.assign(_stable=stable)

    keys = ([x_name] if x_name else []) + others + ["state"]
    groups = []
    for key, g in work.groupby(keys, sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        named = dict(zip(keys, key))
        mean, low, high = _summarise(g["lead_working_p90"].to_numpy(dtype=float), level)
        groups.append({**named, "p90": mean, "low": low, "high": high,
                       "headcount": float(g["headcount"].astype(float).mean()), "stable": bool(g["_stable"].all()),
                       "n": len(g)})
    table = pd.DataFrame(groups)

    numeric_x = (x_name is not None and pd.api.types.is_numeric_dtype(frame[x_name])
                 and not pd.api.types.is_bool_dtype(frame[x_name]))
    categories: list[Any] = []
    if x_name is not None and not numeric_x:
        categories = list(dict.fromkeys(frame[x_name].tolist()))
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

    with _style(english):
        panels = 2 if x_name else 1
        fig = _figure(5.2 * panels + 0.6, 4.6)
        axes = fig.subplots(1, panels, squeeze=False)[0]
        curves = sorted(
            ((k if isinstance(k, tuple) else (k,), c) for k, c in table.groupby(others + ["state"], sort=True, dropna=False)),
            key=lambda kc: (state_rank(kc[0][-1]), [str(v) for v in kc[0][:-1]]),
        )
        unstable_label = {id(ax): "unstable in some replication (left out of the curve)" for ax in axes}
        states_seen = list(dict.fromkeys(k[-1] for k, _ in curves))
        combos = list(dict.fromkeys(k[:-1] for k, _ in curves))
        line_styles = ("-", "--", ":", "-.")
        markers = ("o", "s", "^", "D", "v", "P")
        for ckey, c in curves:
            state = ckey[-1]
            extra = ", ".join(f"{_short(k)}={v}" for k, v in zip(others, ckey[:-1]))
            label = f"{state}" + (f" ({extra})" if extra else "")
            colour = _state_colour(str(state), states_seen.index(state))
            k = combos.index(ckey[:-1])
            for ax, xcol in zip(axes, (["_x"] if x_name else []) + ["headcount"]):
                c_sorted = c.sort_values(xcol)
                band = c_sorted[c_sorted["stable"]].dropna(subset=["low", "high"])
                ax.plot(c_sorted[xcol], c_sorted["p90"].where(c_sorted["stable"]), marker=markers[k % len(markers)],
                        ms=4, ls=line_styles[k % len(line_styles)], color=colour, label=label)
                if len(band):
                    ax.fill_between(band[xcol], band["low"], band["high"], color=colour, alpha=0.2, lw=0)
                bad = c_sorted[~c_sorted["stable"]]
                if len(bad):
                    y = np.minimum(np.nan_to_num(bad["p90"].to_numpy(dtype=float), nan=math.inf), ceiling)
                    keep = np.isfinite(y)
                    if keep.any():
                        ax.plot(bad[xcol].to_numpy()[keep], y[keep], ls="", marker="x", ms=8, mew=2,
                                color="#b22222", label=unstable_label[id(ax)])
                        unstable_label[id(ax)] = "_unstable"
        ci = f"{level:.0%} CI of the mean over replications"
        if x_name:
            axes[0].set_xlabel(str(x_name))
            if categories:
                axes[0].set_xticks(range(len(categories)), [str(v) for v in categories])
            axes[0].set_ylabel("p90 lead time (working days)")
            axes[0].set_title(f"p90 lead time against {_short(x_name)}")
        axes[-1].set_xlabel("zone government headcount")
        axes[-1].set_ylabel("p90 lead time (working days)")
        axes[-1].set_title("p90 lead time against headcount")
        for ax in axes:
            ax.grid(alpha=0.3)
            ax.set_ylim(bottom=0, top=ceiling * 1.05 if math.isfinite(ceiling) else None)
            handles, labels = ax.get_legend_handles_labels()
            if handles:
                ax.legend(fontsize=7.5, title=f"mean and {ci}", title_fontsize=7)
        heading = title or (f"{_title(scenario, english)}: sweep" if scenario is not None else "")
        if heading:
            fig.suptitle(heading)
    return fig
