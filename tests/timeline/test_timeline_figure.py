"""The programme over time as a figure (``orgsim plot --kind timeline``) and as a section of the report.

The figure draws a TimelineResult's own numbers, marks every dated phase,
speaks zh and en through the language layer, and has no overlapping text
(the checker of tests/test_figure_layout.py); the command refuses a scenario
without dated phases (exit 2, nothing written); the report has the section
exactly when it is given a timeline.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from markupsafe import escape

from orgsim import plotting
from orgsim.cli import main
from orgsim.scenario import load_scenario
from orgsim.timeline.programme import dated
from orgsim.timeline.run import TimelineResult, timeline
from quick_results import comparison_of
from test_figure_layout import layout_problems

ROOT = Path(__file__).resolve().parents[2]
PROGRAMMES = [p for p in sorted((ROOT / "scenarios").glob("*.yaml")) if dated(load_scenario(p))]
JINAN = ROOT / "scenarios" / "jinan_hitech_2016.yaml"
TUTORIAL = ROOT / "scenarios" / "tutorial.yaml"


@functools.cache
def timeline_of(path: Path) -> TimelineResult:
    return timeline(load_scenario(path), replications=2)


def test_the_bundled_programmes_are_the_three_with_dates() -> None:
    assert [p.stem for p in PROGRAMMES] == ["jinan_hitech_2016", "qingdao_functional_zones_2020",
                                             "yantai_zones_2020"]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("path", PROGRAMMES, ids=lambda p: p.stem)
def test_no_text_overlaps_in_the_timeline_figure(path: Path, lang: str) -> None:
    fig = plotting.plot_timeline(timeline_of(path), load_scenario(path), lang=lang)
    fig.set_dpi(72)
    assert layout_problems(fig) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_figure_draws_the_result_and_marks_every_phase(lang: str) -> None:
    path = ROOT / "scenarios" / "qingdao_functional_zones_2020.yaml"
    scenario, result = load_scenario(path), timeline_of(path)
    fig = plotting.plot_timeline(result, scenario, lang=lang)
    top, bottom = fig.axes[:2]
    heads = [p["headcount"] for p in result.periods]
    drawn = [np.asarray(line.get_ydata(), dtype=float) for line in top.get_lines()]
    assert any(len(y) == len(heads) + 1 and np.allclose(y, heads + heads[-1:]) for y in drawn)
    means = np.array([p["lead_time_working_days"]["mean"] for p in result.periods], dtype=float)
    drawn = [np.asarray(line.get_ydata(), dtype=float) for line in bottom.get_lines()]
    assert any(len(y) == len(means) + 1 and np.allclose(y[:-1], means, equal_nan=True) for y in drawn)
    phases = [dt.date.fromisoformat(ph["effective"]) for ph in result.phases[1:]]
    assert len(phases) == 5
    for ax in (top, bottom):  # a dotted line at each phase's date, in both panels
        import matplotlib.dates as mdates

        xs = sorted(line.get_xdata()[0] for line in ax.get_lines() if line.get_linestyle() == ":"
                    and len(line.get_xdata()) == 2 and line.get_xdata()[0] == line.get_xdata()[1])
        assert [mdates.num2date(x).date() if not isinstance(x, dt.date) else x for x in xs] == phases
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    for ph in result.phases[1:]:  # each phase by its name in the figure's language
        name = ph["name"] if lang == "zh" else ph["name_en"]
        assert any(ph["effective"] in t and name[:6] in t.replace("\n", "") for t in legend), ph
    title = fig.get_suptitle()
    if lang == "zh":
        assert "改革进程" in title and "在岗人数" in legend and top.get_ylabel() == "人数（各期期初）"
    else:
        assert "the programme over time" in title and "people in post" in legend
        assert title.startswith(scenario.scenario.name_en)


def test_phases_closer_than_a_label_share_one_number() -> None:
    starts = [dt.date(2016, 1, 1), dt.date(2019, 12, 1)]
    dates = [dt.date(2016, 5, 19), dt.date(2016, 5, 30), dt.date(2016, 6, 30), dt.date(2017, 1, 3)]
    ticks, labels = plotting._phase_ticks(dates, [1, 2, 3, 4], starts)
    assert labels == ["1,2", "3", "4"] and ticks == [dates[0], dates[2], dates[3]]


def test_plot_command_draws_the_timeline(tmp_path: Path) -> None:
    out = tmp_path / "timeline.png"
    result = CliRunner().invoke(main, ["plot", str(JINAN), "--kind", "timeline", "-o", str(out), "-r", "2",
                                       "--dpi", "50", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\x89PNG")
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


@pytest.mark.parametrize(("args", "words"), [
    ([str(TUTORIAL)], ["tutorial.yaml", "effective", "--kind timeline"]),
    ([str(JINAN), "--package", "A"], ["--package", "one reform list"]),
])
def test_plot_command_refuses_what_has_no_programme(args: list[str], words: list[str], tmp_path: Path) -> None:
    out = tmp_path / "timeline.png"
    result = CliRunner().invoke(main, ["plot", *args, "--kind", "timeline", "-o", str(out), "-r", "2"])
    assert result.exit_code == 2, result.output
    assert all(w in result.output for w in words), result.output
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_report_has_the_programme_exactly_when_given_one(lang: str) -> None:
    from orgsim.report import render_report

    comparison = comparison_of(JINAN)
    result = timeline_of(JINAN)
    without = render_report(comparison, lang=lang, dpi=40)
    assert 'id="programme"' not in without and 'id="figure-timeline"' not in without
    html = render_report(comparison, timeline=result, lang=lang, dpi=40)
    section = html[html.index('<section id="programme">'):html.index('<section id="tables">')]
    assert 'id="figure-timeline"' in section and "data:image/png;base64," in section
    for ph in result.phases[1:]:  # named in the report's language (Jinan's phases have English names)
        assert ph["effective"] in section and escape(ph["name"] if lang == "zh" else ph["name_en"]) in section
    heading = "改革进程" if lang == "zh" else "The programme over time"
    assert f"<h2>{heading}</h2>" in section
    rows = section.count("<tr")
    assert rows == len(result.periods) + 1  # a row per period under the header
    first = result.periods[0]
    assert first["start"] in section and f"{first['headcount']:.1f}" in section
