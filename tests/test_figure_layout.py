"""Every figure kind, in both languages, for every bundled scenario: no text box overlaps another or an axis.

Text boxes come from matplotlib's own renderer: the figure is drawn once
with ``Text.draw`` wrapped, so that exactly the texts drawn (titles, tick
labels, axis labels, legends, annotations) are measured with
``get_window_extent``. Checks:

- no two texts overlap (boxes shrunk by half a pixel, so that touching is not
  overlapping);
- texts placed in the data area (annotations, value labels) lie inside their
  axes, so none crosses an axis line;
- tick labels stay outside their axes' data area.

Also here: the lead-time figure has a panel per project type with that
type's limit, the waterfall has no column for a reform the scenario lacks,
the sweep names its lever and sorts numbers as numbers, and scenario text
with ``$`` draws as plain text.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from orgsim import plotting
from orgsim.experiment import compare
from orgsim.scenario import parse_scenario
from quick_results import comparison_of, quick
from test_plotting import COMPARISON_KINDS, make_figure

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
TUTORIAL = ROOT / "scenarios" / "tutorial.yaml"
#: Pixels two boxes may share (antialiasing); at the 72 dpi used here, a fraction of a point.
TOLERANCE_PX = 0.5


@contextmanager
def _recording() -> Iterator[list[Any]]:
    from matplotlib.text import Text

    drawn: list[Any] = []
    original = Text.draw

    def draw(self: Any, renderer: Any) -> None:
        original(self, renderer)
        if self.get_visible() and self.get_text().strip():
            drawn.append(self)

    Text.draw = draw  # type: ignore[method-assign]
    try:
        yield drawn
    finally:
        Text.draw = original  # type: ignore[method-assign]


def text_boxes(fig: Any) -> list[tuple[Any, Any]]:
    """(Text, its window extent) for every text the renderer drew."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    with _recording() as drawn:
        canvas.draw()
    renderer = canvas.get_renderer()
    unique = list(dict.fromkeys(drawn))
    return [(t, t.get_window_extent(renderer)) for t in unique]


def _overlap(a: Any, b: Any) -> bool:
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > TOLERANCE_PX) and (min(a.y1, b.y1) - max(a.y0, b.y0) > TOLERANCE_PX)


def layout_problems(fig: Any) -> list[str]:
    """What is wrong with the figure's text layout, in words (empty: nothing)."""
    boxes = text_boxes(fig)
    problems = []
    for (t, a), (u, b) in itertools.combinations(boxes, 2):
        if _overlap(a, b):
            problems.append(f"{t.get_text()!r} overlaps {u.get_text()!r}")
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        if not ax.get_visible() or not ax.axison:
            continue
        area = ax.get_window_extent(renderer)
        placed = set(map(id, ax.texts))
        ticks = {id(t) for t in ax.get_xticklabels() + ax.get_yticklabels()}
        for t, box in boxes:
            if id(t) in placed:
                inside = (box.x0 >= area.x0 - TOLERANCE_PX and box.x1 <= area.x1 + TOLERANCE_PX
                          and box.y0 >= area.y0 - TOLERANCE_PX and box.y1 <= area.y1 + TOLERANCE_PX)
                if not inside:
                    problems.append(f"{t.get_text()!r} crosses the edge of its axes")
            elif id(t) in ticks and _overlap(box, area.padded(-1)):
                problems.append(f"tick label {t.get_text()!r} runs into the data area")
    return problems


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("kind", COMPARISON_KINDS)
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_no_text_overlaps_in_any_figure(path: Path, kind: str, lang: str) -> None:
    c = comparison_of(path)
    kw: dict[str, Any] = {"lang": lang}
    if kind == "sweep":
        kw["scenario"] = c.scenario
    fig = make_figure(kind, c, **kw)
    fig.set_dpi(72)
    assert layout_problems(fig) == []


def test_the_checker_sees_an_overlap() -> None:
    """The check has power: two labels drawn at one place, and a label across the y axis, are caught."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 3))
    ax = fig.add_subplot()
    ax.text(0.5, 0.5, "statutory limit 5")
    ax.text(0.5, 0.5, "p50 1")
    ax.text(-0.05, 0.2, "across the axis")
    problems = layout_problems(fig)
    assert "'statutory limit 5' overlaps 'p50 1'" in problems
    assert "'across the axis' crosses the edge of its axes" in problems


def test_lead_times_have_a_panel_per_project_type_with_its_own_limit() -> None:
    c = comparison_of(SCENARIOS[-1])  # Yizheng: four project types, limits 120 and 30; enforcement cases
    approvals = c.after.project_types("approval")
    assert len(approvals) == 4 and len(c.after.project_types()) == 4 + 9
    fig = plotting.plot_lead_times(c, lang="en")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 5  # pooled, then one per project type (the case types are in the tables)
    titles = [ax.get_title() for ax in visible]
    assert titles[0] == "all project types (pooled)"
    names = {p.id: p.name_en for p in c.scenario.workload.project_types}
    assert titles[1:] == [names[t] for t in approvals]
    for ax, type_id in zip(visible[1:], approvals, strict=True):
        limit = c.after.by_project_type()[type_id]["statutory_limit_days"]
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert any(f"statutory limit {limit:g} working days" in t for t in legend), legend


def test_waterfall_has_no_column_for_a_reform_the_scenario_lacks() -> None:
    c = comparison_of(TUTORIAL)  # merge, devolve, strip, parallelize, agency service, cap: no spin-off
    steps = [s["step"] for s in plotting._headcount_steps(c.outcome, c.scenario)]
    assert "spun off" not in steps and "merged away" in steps and "capped" in steps
    fig = plotting.plot_headcount_waterfall(c, lang="en")
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert "spun off" not in labels and labels[0] == "before" and labels[-1] == "after"


def test_sweep_names_its_lever_and_sorts_numbers_as_numbers() -> None:
    import pandas as pd

    c = comparison_of(TUTORIAL)
    frames = []
    for point, (cap, factor) in enumerate(itertools.product((120, 80, 160), (0.5, 1.0))):
        f = c.to_frame()
        f.insert(0, "point", point)
        f.insert(1, "reforms[op=agency_service].rework_factor", factor)
        f.insert(1, "reforms[op=cap_headcount].cap", cap)
        frames.append(f)
    frame = pd.concat(frames, ignore_index=True)
    for lang, lever, other in (("en", "headcount cap", "rework factor of agency service"),
                               ("zh", "员额上限", "代办服务的退件系数")):
        fig = plotting.plot_sweep(frame, scenario=c.scenario, lang=lang)
        assert fig.axes[0].get_xlabel() == lever
        legend = [t.get_text() for t in fig.legends[0].get_texts()]
        assert all(other in t for t in legend[:2])
    fig = plotting.plot_sweep(frame, param="reforms[op=agency_service].rework_factor", scenario=c.scenario,
                              lang="en")
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    caps = [int(t.rsplit(" ", 1)[-1].rstrip(")")) for t in legend if "headcount cap" in t]
    assert caps[:3] == [80, 120, 160]


def test_dollar_signs_in_scenario_text_are_plain_text(tmp_path: Path) -> None:
    """A unit called "$5 office $" crashed plot and report in matplotlib's math-text parser."""
    doc = yaml.safe_load(TUTORIAL.read_text(encoding="utf-8"))
    doc["units"][1]["name"] = "规划局 $5 budget $x^2$"
    doc["units"][1]["name_en"] = "Planning $ bureau $"
    doc["scenario"]["name_en"] = "Cost $ of $ reform"
    scenario = quick(parse_scenario(yaml.safe_dump(doc, allow_unicode=True), "<dollars>"))
    c = compare(scenario, replications=2)
    for lang in ("zh", "en"):
        for kind in ("orgchart", "utilisation", "waterfall", "leadtime"):
            fig = make_figure(kind, c, lang=lang)
            texts = [t.get_text() for t, _box in text_boxes(fig)]
            shown = [t._preprocess_math(t.get_text()) for t, _box in text_boxes(fig)]
            assert not any(math for _text, math in shown), kind  # nothing goes to math text
            if kind == "orgchart":
                assert any("$" in t for t in texts)
