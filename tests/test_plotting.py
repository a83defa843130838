"""Figures: every kind renders for every bundled scenario; what they show; fonts; ``orgsim plot``.

Bundled scenarios run with two replications and a short horizon (a pydantic
``model_copy`` of their simulation settings), so the whole module takes
seconds. Whether or not a CJK font is installed, the tests give the same
verdicts: without one, figures fall back to English names and the single
warning is checked on its own (``test_without_a_cjk_font_...``).
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from orgsim import plotting
from orgsim.cli import main
from orgsim.experiment import Comparison
from orgsim.reforms import reform_scenario
from orgsim.scenario import load_scenario, parse_scenario
from orgsim.scenario.schema import Scenario
from quick_results import comparison_of, quick

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
TUTORIAL = ROOT / "scenarios" / "tutorial.yaml"
#: Figure kinds drawn from a comparison (the timeline's are tested in tests/timeline/test_timeline_figure.py).
COMPARISON_KINDS = tuple(k for k in plotting.KINDS if k != "timeline")
# The tutorial in the fast suite; the real zones are simulated first, seconds apiece.
BUNDLED = [p if p == TUTORIAL else pytest.param(p, marks=pytest.mark.slow) for p in SCENARIOS]
CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")


def sweep_frame_of(c: Comparison) -> pd.DataFrame:
    """A sweep-shaped frame from a comparison: the rows of three points of a made-up lever."""
    frames = []
    for point, cap in enumerate((40, 60, 80)):
        f = c.to_frame()
        f.insert(0, "point", point)
        f.insert(1, "reforms[op=cap_headcount].cap", cap)
        f["headcount"] = f["headcount"] + point * 5
        f["lead_working_p90"] = f["lead_working_p90"] * (1 + 0.1 * (2 - point))
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(autouse=True)
def _fonts(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fresh say-once state for the no-CJK-font line."""
    monkeypatch.setattr(plotting, "_said_no_font", False)
    yield


def render(fig: Any, fmt: str = "png") -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=60)
    return buffer.getvalue()


def matplotlib_colour(colour: str) -> Any:
    from matplotlib.colors import to_rgba

    return colour if colour.startswith("#") else to_rgba(colour)


def texts(fig: Any) -> list[str]:
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def make_figure(kind: str, c: Comparison, **kw: Any) -> Any:
    if kind == "orgchart":
        return plotting.plot_orgchart(c, **kw)
    if kind == "leadtime":
        return plotting.plot_lead_times(c, **kw)
    if kind == "utilisation":
        return plotting.plot_utilisation(c, **kw)
    if kind == "waterfall":
        return plotting.plot_headcount_waterfall(c, **kw)
    if kind == "timesplit":
        return plotting.plot_time_split(c, **kw)
    assert kind == "sweep"
    return plotting.plot_sweep(sweep_frame_of(c), **kw)


# ---------------------------------------------------------------- every kind, every scenario


def test_bundled_scenarios_exist() -> None:
    assert TUTORIAL in SCENARIOS


@pytest.mark.slow  # every figure of every bundled scenario
@pytest.mark.parametrize("kind", COMPARISON_KINDS)
@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_figure_renders_for_every_bundled_scenario(path: Path, kind: str) -> None:
    from matplotlib.figure import Figure

    fig = make_figure(kind, comparison_of(path))
    assert isinstance(fig, Figure)
    png = render(fig)
    assert png.startswith(b"\x89PNG") and len(png) > 5_000
    assert fig.axes and texts(fig)


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in SCENARIOS])
def test_org_chart_labels_every_unit_once_per_panel(path: Path) -> None:
    c = comparison_of(path)
    fig = plotting.plot_orgchart(c, lang="en")
    before_ax, after_ax = fig.axes
    for ax, org in ((before_ax, c.outcome.before), (after_ax, c.outcome.after)):
        labels = [t.get_text() for t in ax.texts]

        def english(node: str, org: Any = org) -> str:
            return org.graph.nodes[node].get("name_en") or org.graph.nodes[node]["name"]

        for unit in org.units():
            # a name several units share (each zone's office) comes with its parent's
            plain, parent = english(unit), org.parent(unit)
            told_apart = f"{plain} ({english(parent)})" if parent else plain
            assert (f"{plain} ({org.headcount(unit)})" in labels
                    or f"{told_apart} ({org.headcount(unit)})" in labels), unit
        assert len([t for t in labels if re.search(r"\(\d+\)$", t)]) == len(org.units())


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in SCENARIOS])
def test_waterfall_steps_add_up_to_the_headcount_after(path: Path) -> None:
    c = comparison_of(path)
    steps = plotting._headcount_steps(c.outcome, c.scenario)
    ops = {spec.op for _phase, spec in c.scenario.operators()}
    for label, members in plotting._WATERFALL_STEPS:  # a column for each kind of operator the scenario has
        assert (label in {s["step"] for s in steps}) == bool(ops & set(members)), label
    before, after = c.before.structure.headcount, c.after.structure.headcount
    assert before + sum(s["net"] for s in steps) == after
    for s in steps:  # each net change is what the ledger says moved across the zone's boundary
        assert s["net"] == s["hired"] + s["moved_in"] - s["released"] - s["moved_out"]


# ---------------------------------------------------------------- what the figures show (tutorial)


def test_org_chart_marks_merged_stripped_and_devolved_functions() -> None:
    fig = plotting.plot_orgchart(comparison_of(TUTORIAL), english=True)
    before_ax, after_ax = fig.axes
    before, after = [t.get_text() for t in before_ax.texts], [t.get_text() for t in after_ax.texts]
    merged = "merged → Land, planning and construction bureau"
    assert before.count(merged) == 3  # land, planning and construction
    assert {"dissolved", "−2 fn stripped", "−1 fn devolved"} <= set(before)
    assert {"merged from 3 units", "+1 fn devolved", "+2 fn stripped"} <= set(after)
    assert "Before: 7 zone units, 87 staff (headcount in brackets)" in texts(fig)


def test_org_chart_sizes_markers_by_headcount_and_colours_them_by_kind() -> None:
    c = comparison_of(TUTORIAL)
    fig = plotting.plot_orgchart(c, english=True)
    before_ax = fig.axes[0]
    markers = [line for line in before_ax.lines if line.get_marker() in ("o", "s")]
    assert len(markers) == len(c.outcome.before.units())
    sizes = {round(m.get_markersize(), 3) for m in markers}
    assert len(sizes) > 1
    colours = {m.get_markerfacecolor() for m in markers}
    assert plotting.KIND_COLOURS["committee"] in colours and plotting.KIND_COLOURS["bureau"] in colours
    # outside the zone government: squares
    assert sum(m.get_marker() == "s" for m in markers) == 2


def _big_zone() -> Scenario:
    """A made-up zone of 60+ units: committee, 8 bureaus with 6 sections each, parks, city, sub-districts."""
    bureaus = [("planning", "规划和自然资源局", "Planning bureau"),
               ("construction", "建设和交通局", "Construction bureau"),
               ("environment", "生态环境局", "Environment bureau"), ("economy", "经济发展局", "Economy bureau"),
               ("investment", "投资促进局", "Investment bureau"), ("finance", "财政金融局", "Finance bureau"),
               ("social", "社会事务局", "Social affairs bureau"), ("safety", "应急管理局", "Emergency bureau")]
    sections = [("office", "综合科"), ("policy", "政策法规科"), ("review", "审批服务科"),
                ("supervision", "监督检查科"), ("data", "信息统计科"), ("project", "项目管理科")]
    units: list[dict[str, Any]] = [{"id": "committee", "name": "高新区管委会", "name_en": "Zone committee",
                                    "kind": "committee", "leaders": {"chief": 1, "deputies": 5}, "support": 12}]
    functions: list[dict[str, Any]] = []
    for b, name, en in bureaus:
        units.append({"id": b, "name": name, "name_en": en, "kind": "bureau", "parent": "committee",
                      "leaders": {"chief": 1, "deputies": 2}, "support": 4})
        for s, sname in sections:
            units.append({"id": f"{b}_{s}", "name": f"{name[:2]}{sname}", "name_en": f"{en} {s} section",
                          "kind": "office", "parent": b, "support": 1})
        functions.append({"id": f"{b}_permit", "name": f"{name[:2]}许可", "category": "licensing",
                          "owner": f"{b}_review", "officers": 3, "signoff_levels": 2,
                          "service_time": {"dist": "exponential", "mean": 2, "unit": "days"}})
    functions += [
        {"id": "education", "name": "教育管理", "category": "social_affairs", "owner": "social_office",
         "officers": 8, "power_items": 0},
        {"id": "operation", "name": "园区运营", "category": "development_operation",
         "owner": "investment_project", "officers": 6, "power_items": 0},
        {"id": "building_permit", "name": "施工许可", "category": "licensing", "owner": "city_housing",
         "officers": 3, "service_time": {"dist": "exponential", "mean": 1, "unit": "days"}},
    ]
    units += [{"id": f"park_{k}", "name": f"{k.upper()}区园区", "kind": "park", "parent": "committee",
               "leaders": {"chief": 1, "deputies": 1}, "support": 3} for k in "abc"]
    units += [
        {"id": "city_housing", "name": "市住房和城乡建设局", "kind": "city_department", "jurisdiction": "city",
         "leaders": {"chief": 1, "deputies": 3}, "support": 6},
        {"id": "subdistrict", "name": "东湖街道", "kind": "sub_district", "jurisdiction": "district",
         "leaders": {"chief": 1, "deputies": 3}, "support": 5},
    ]
    steps = [{"id": "s0", "function": "economy_permit"},
             {"id": "s1", "function": "planning_permit", "after": ["s0"]},
             {"id": "s2", "function": "building_permit", "after": ["s1"]}]
    doc = {
        "scenario": {"name": "大型示范开发区（测试）", "name_en": "Large test zone"},
        "units": units, "functions": functions,
        "workload": {"statutory_limit_days": 60, "project_types": [
            {"id": "project", "name": "投资项目", "arrivals": {"rate": 60, "per": "year"}, "steps": steps}]},
        "reforms": [
            {"op": "merge", "units": ["planning", "construction"],
             "into": {"id": "pc", "name": "规划建设局", "name_en": "Planning and construction bureau"}},
            {"op": "strip", "categories": ["social_affairs"], "to": "subdistrict"},
            {"op": "devolve", "functions": ["building_permit"], "to": "pc"},
            {"op": "spin_off", "functions": ["operation"], "company": {"id": "devco", "name": "园区开发公司"}},
            {"op": "cap_headcount", "within": "committee", "cap": 150},
        ],
    }
    return parse_scenario(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), "big_zone.yaml")


@pytest.mark.parametrize("english", [True, None], ids=["english", "default-names"])
def test_org_chart_of_60_units_is_readable(english: bool | None) -> None:
    """Every label and tag at 7 pt or more, inside the figure, none overlapping another."""
    scenario = _big_zone()
    outcome = reform_scenario(scenario)
    assert len(outcome.before.units()) >= 60
    fig = plotting.plot_orgchart(outcome, scenario, english=english)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    page = fig.bbox
    for ax in fig.axes:
        boxes = [t.get_window_extent(renderer) for t in ax.texts]
        assert all(t.get_fontsize() >= 6.5 for t in ax.texts)
        assert len(boxes) >= len(outcome.after.units())
        for box in boxes:
            assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert not a.overlaps(b), (a, b)
    # at 100 dpi a row is 25 pixels: readable without zooming
    assert fig.get_size_inches()[1] >= 0.25 * 60


def test_waterfall_of_the_tutorial() -> None:
    c = comparison_of(TUTORIAL)
    steps = {s["step"]: s for s in plotting._headcount_steps(c.outcome, c.scenario)}
    assert [k for k in steps] == ["merged away", "stripped", "devolved in", "capped"]  # no spin-off in it
    assert steps["merged away"]["net"] == -8 and steps["merged away"]["released"] == 8
    assert steps["stripped"]["net"] == -17 and steps["stripped"]["moved_out"] == 17
    assert steps["devolved in"]["net"] == 3 and steps["capped"]["net"] == -5
    fig = plotting.plot_headcount_waterfall(c, english=True)
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks == ["before", "merged away", "stripped", "devolved in", "capped", "after"]
    assert any("headcount 87 → 60" in t for t in texts(fig))
    fig = plotting.plot_headcount_waterfall(c, lang="zh")
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks == ["改革前", "合并精简", "剥离", "下放承接", "员额控制", "改革后"]


def test_waterfall_of_a_bare_outcome_needs_its_scenario() -> None:
    c = comparison_of(TUTORIAL)
    with pytest.raises(ValueError, match="scenario"):
        plotting.plot_headcount_waterfall(c.outcome)
    plotting.plot_headcount_waterfall(c.outcome, c.scenario)
    with pytest.raises(TypeError, match="Comparison or a ReformOutcome"):
        plotting.plot_orgchart(c.scenario)  # type: ignore[arg-type]


def test_lead_times_mark_p50_p90_and_the_statutory_limit() -> None:
    c = comparison_of(TUTORIAL)
    d = c.to_dict()
    fig = plotting.plot_lead_times(c, lang="en")
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    for name in ("before", "after"):
        lead = d[name]["lead_time_working_days"]
        assert any(t.startswith(f"{name}: p50 {lead['p50']:.1f}, p90 {lead['p90']:.1f}") for t in legend), legend
        # the dots sit on the curve at p50 and p90
        dots = [line for line in fig.axes[0].lines if line.get_marker() == "o"
                and list(line.get_ydata()) == [0.5, 0.9]]
        assert any(list(line.get_xdata()) == pytest.approx([lead["p50"], lead["p90"]]) for line in dots)
    limits = [line for line in fig.axes[0].lines if list(line.get_xdata()) == [120.0, 120.0]]
    assert limits, "no statutory limit line at 120 working days"
    assert "statutory limit 120 working days" in legend
    assert fig.axes[0].get_title() == "Industrial investment project"  # the one project type


@pytest.mark.parametrize("clock", ["working", "calendar", "statutory"])
@pytest.mark.parametrize("style", ["ecdf", "hist"])
def test_lead_time_clocks_and_styles(clock: str, style: str) -> None:
    fig = plotting.plot_lead_times(comparison_of(TUTORIAL), clock=clock, style=style, lang="en")
    assert render(fig).startswith(b"\x89PNG")
    assert any(t.startswith("statutory limit 120") for t in texts(fig)) == (clock != "calendar")


def test_lead_times_refuse_unknown_options() -> None:
    c = comparison_of(TUTORIAL)
    with pytest.raises(ValueError, match="clock"):
        plotting.plot_lead_times(c, clock="wall")
    with pytest.raises(ValueError, match="style"):
        plotting.plot_lead_times(c, style="violin")
    with pytest.raises(TypeError, match="Comparison"):
        plotting.plot_lead_times(c.outcome)  # type: ignore[arg-type]


def test_utilisation_marks_each_states_bottleneck() -> None:
    c = comparison_of(TUTORIAL)
    fig = plotting.plot_utilisation(c, english=True)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    queues = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    names = {"environment/eia": "Environment bureau · Environmental impact approval",
             "lpc:officers": "Land, planning and construction bureau · officers"}
    for state in (c.before, c.after):
        top = state.bottlenecks()[0]
        queue = names.get(top["pool"], top["pool"])
        assert f"{state.name} bottleneck: {queue} ({top['utilisation']:.0%})" in legend  # named as the axis
        # the star is on its own queue's bar, at the bar's end: the same basis
        star = next(line for line in fig.axes[0].lines if line.get_marker() == "*"
                    and line.get_markerfacecolor() == matplotlib_colour(plotting.STATE_COLOURS[state.name]))
        row = queues.index(queue)
        bars = [p for p in fig.axes[0].patches if abs(p.get_y() + p.get_height() / 2 - star.get_ydata()[0]) < 1e-9]
        assert len(bars) == 1 and bars[0].get_width() == pytest.approx(star.get_xdata()[0])
        assert abs(star.get_ydata()[0] - row) < 0.5
    assert set(names.values()) <= set(queues)


def test_time_split_adds_up_to_the_mean_lead_time() -> None:
    c = comparison_of(TUTORIAL)
    d = c.to_dict()
    fig = plotting.plot_time_split(c, lang="en")
    shown = texts(fig)
    for name in ("before", "after"):
        total = sum(d[name]["time_split_working_days"].values())
        assert f"{total:.1f}" in shown
        assert total == pytest.approx(d[name]["lead_time_working_days"]["mean"], rel=1e-6)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert len(legend) == 5


# ---------------------------------------------------------------- sweeps


def _synthetic_sweep() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = []
    for cap in (40, 50, 60, 70):
        for state in ("before", "after"):
            for r in range(4):
                rows.append({"point": cap, "cap": cap, "state": state, "replication": r, "seed": 1,
                             "headcount": cap + (10 if state == "before" else 0),
                             "lead_working_p90": 2000 / cap + rng.normal(), "stable": float(cap > 40),
                             "lead_working_mean": 1.0, "time_waiting_days": 1.0})
    return pd.DataFrame(rows)


def test_sweep_draws_mean_p90_with_a_band_against_the_lever_and_headcount() -> None:
    frame = _synthetic_sweep()
    assert plotting.sweep_parameters(frame) == ["cap"]
    fig = plotting.plot_sweep(frame, scenario=comparison_of(TUTORIAL).scenario, english=True)
    assert fig.get_suptitle() == "Demo high-tech zone (tutorial): sweep"
    lever_ax, headcount_ax = fig.axes
    assert lever_ax.get_xlabel() == "cap" and headcount_ax.get_xlabel() == "zone government headcount (people)"
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["before", "after", "unstable in some replication (left out of the curve)"]
    for ax in fig.axes:
        curves = [line for line in ax.lines if line.get_linestyle() != "None"]
        assert len(curves) == 2
        y = np.asarray(curves[1].get_ydata(), dtype=float)  # after
        assert np.isnan(y[0]) and np.isfinite(y[1:]).all()  # cap 40 was unstable: left out
        expected = frame[(frame.state == "after") & (frame.cap == 50)]["lead_working_p90"].mean()
        assert y[1] == pytest.approx(expected)
        assert len(ax.collections) == 2  # one CI band per state


def test_sweep_with_two_levers_and_a_categorical_one() -> None:
    frame = _synthetic_sweep()
    frame["policy"] = np.where(frame["replication"] % 2 == 0, "support_first", "proportional")
    fig = plotting.plot_sweep(frame, param="policy", lang="en")
    assert fig.axes[0].get_xlabel() == "policy"
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["proportional", "support_first"]
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[:4] == ["before (cap 40)", "before (cap 50)", "before (cap 60)", "before (cap 70)"]
    assert "after (cap 50)" in labels


def test_sweep_refuses_a_frame_without_its_columns() -> None:
    with pytest.raises(ValueError, match="lead_working_p90"):
        plotting.plot_sweep(pd.DataFrame({"state": ["after"], "replication": [0], "headcount": [3]}))
    with pytest.raises(ValueError, match="no column 'nope'"):
        plotting.plot_sweep(_synthetic_sweep(), param="nope")


def test_sweep_of_a_real_sweep() -> None:
    sweep_module = pytest.importorskip("orgsim.sweep")
    scenario = quick(load_scenario(TUTORIAL), horizon_days=100)
    frame = sweep_module.sweep(scenario, {"workload.project_types[0].arrivals.rate": [60, 120]}, replications=2)
    assert plotting.sweep_parameters(frame) == ["workload.project_types[0].arrivals.rate"]
    fig = plotting.plot_sweep(frame, scenario=scenario, lang="en")
    assert fig.axes[0].get_title() == "p90 lead time against arrival rate"
    assert fig.axes[0].get_xlabel() == "arrival rate"
    assert render(fig).startswith(b"\x89PNG")


# ---------------------------------------------------------------- fonts


def test_without_a_cjk_font_figures_fall_back_with_one_plain_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(plotting, "cjk_font", lambda: None)
    c = comparison_of(TUTORIAL)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = plotting.plot_orgchart(c, lang="zh")
        second = plotting.plot_utilisation(c, lang="zh")
    assert caught == []  # no warning machinery
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("orgsim: no font with Chinese glyphs")
    assert "fonts-noto-cjk" in err and "docs/figures.md" in err
    assert "Warning" not in err and ".py" not in err  # no warning category, no source line
    for fig in (first, second):
        shown = texts(fig)
        assert not [t for t in shown if CJK.search(t)], [t for t in shown if CJK.search(t)]
        render(fig)  # and nothing warns about a missing glyph (filterwarnings = error)
    assert "Zone committee (13)" in texts(first)


def test_english_names_without_a_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plotting, "cjk_font", lambda: None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plotting.plot_orgchart(comparison_of(TUTORIAL), english=True)
    assert "Zone committee (13)" in texts(fig)
    assert not [t for t in texts(fig) if CJK.search(t)]


def test_with_a_cjk_font_figures_show_chinese_names() -> None:
    family = plotting.cjk_font()
    if family is None:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    from matplotlib import font_manager

    assert font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    c = comparison_of(TUTORIAL)
    fig = plotting.plot_orgchart(c, lang="zh")
    assert "管委会 (13)" in texts(fig)
    for fmt in ("png", "svg", "pdf"):  # no missing glyph anywhere (warnings are errors)
        assert render(fig, fmt)


@pytest.mark.slow  # a fresh interpreter
@pytest.mark.parametrize("first", ["orgsim.cli.present", "orgsim.cli.simulate", "orgsim.cli"])
def test_the_commands_load_whichever_module_is_imported_first(first: str) -> None:
    code = (
        f"import {first}; import click; from orgsim.cli import main; ctx = click.Context(main)\n"
        "assert {'plot', 'report'} <= set(main.list_commands(ctx))\n"
        "assert all(isinstance(main.get_command(ctx, name), click.Command) for name in main.list_commands(ctx))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


@pytest.mark.slow  # a fresh interpreter
def test_the_engine_never_imports_matplotlib() -> None:
    code = (
        "import sys, orgsim, orgsim.cli, orgsim.plotting, orgsim.report\n"
        "from orgsim.experiment import compare\n"
        "s = orgsim.load_scenario(sys.argv[1])\n"
        "s = s.model_copy(update={'simulation': s.simulation.model_copy("
        "update={'horizon_days': 60, 'warmup_days': 10})})\n"
        "compare(s, replications=2).to_dict()\n"
        "assert 'matplotlib' not in sys.modules, sorted(m for m in sys.modules if 'matplotlib' in m)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(TUTORIAL)], check=True, timeout=120)


# ---------------------------------------------------------------- orgsim plot


@pytest.fixture
def quick_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """``orgsim plot`` and ``report`` load scenarios with a short horizon."""
    import orgsim.cli.present as cli_present

    monkeypatch.setattr(cli_present, "load_scenario", lambda path, **options: quick(load_scenario(path, **options)))


MAGIC = {".png": b"\x89PNG", ".svg": b"<?xml", ".pdf": b"%PDF"}


@pytest.mark.parametrize("suffix", list(MAGIC))
@pytest.mark.parametrize("kind", [k for k in COMPARISON_KINDS if k != "sweep"])
def test_plot_command_writes_each_kind(kind: str, suffix: str, tmp_path: Path, quick_cli: None) -> None:
    out = tmp_path / f"figure{suffix}"
    result = CliRunner().invoke(main, ["plot", str(TUTORIAL), "--kind", kind, "-o", str(out), "-r", "2",
                                       "--dpi", "50"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(MAGIC[suffix])
    assert f"wrote {out}" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_plot_command_draws_a_sweep_file(suffix: str, tmp_path: Path) -> None:
    frame = sweep_frame_of(comparison_of(TUTORIAL))
    table = tmp_path / f"sweep{suffix}"
    if suffix == ".csv":
        frame.to_csv(table, index=False)
    else:
        pytest.importorskip("pyarrow")
        frame.to_parquet(table)
    out = tmp_path / "sweep.svg"
    result = CliRunner().invoke(main, ["plot", str(TUTORIAL), "--kind", "sweep", "--sweep", str(table),
                                       "-o", str(out), "--english"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"<?xml")


def test_plot_command_refuses_bad_arguments_with_exit_2(tmp_path: Path) -> None:
    def run(*args: str) -> Any:
        return CliRunner().invoke(main, ["plot", str(TUTORIAL), *args])

    result = run("--kind", "orgchart", "-o", str(tmp_path / "chart.jpg"))
    assert result.exit_code == 2 and "must end in .png, .svg, .pdf" in result.stderr
    result = run("--kind", "sweep", "-o", str(tmp_path / "s.png"))
    assert result.exit_code == 2 and "--kind sweep needs --sweep" in result.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("state,replication\nafter,0\n", encoding="utf-8")
    result = run("--kind", "sweep", "--sweep", str(bad), "-o", str(tmp_path / "s.png"))
    assert result.exit_code == 2 and "missing column(s) headcount, lead_working_p90" in result.stderr
    result = run("--kind", "orgchart", "--sweep", str(bad), "-o", str(tmp_path / "s.png"))
    assert result.exit_code == 2 and "only with --kind sweep" in result.stderr
    result = run("--kind", "pie", "-o", str(tmp_path / "s.png"))
    assert result.exit_code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_plot_command_reports_a_broken_scenario_with_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("scenario: {name: x}\nunits: []\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["plot", str(broken), "--kind", "orgchart", "-o", str(tmp_path / "o.png")])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "Traceback" not in result.output
    assert not (tmp_path / "o.png").exists()


def test_plot_command_writes_whole_or_not_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib.figure import Figure

    def broken_savefig(self: Figure, fname: Any, **kw: Any) -> None:
        Path(fname).write_bytes(b"\x89PNG half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    out = tmp_path / "chart.png"
    out.write_bytes(b"old figure")
    result = CliRunner().invoke(main, ["plot", str(TUTORIAL), "--kind", "orgchart", "-o", str(out)])
    assert result.exit_code != 0 and isinstance(result.exception, RuntimeError)
    assert out.read_bytes() == b"old figure"
    assert [p.name for p in tmp_path.iterdir()] == ["chart.png"]
