"""A phase's English name (``phase_en``): shown in English wherever the phase's name is shown, never used as
its identity (a re-appointment, a period's ``phase`` and the change log's rows keep ``phase``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from orgsim.cli import main
from orgsim.i18n import use_language
from orgsim.presentation.changes import change_sentences
from orgsim.presentation.timeline import phases_text, timeline_table
from orgsim.reforms import reform_scenario
from orgsim.scenario import load_scenario, parse_scenario
from orgsim.errors import ScenarioError
from orgsim.timeline.run import timeline

from factory import dated_tutorial

ROOT = Path(__file__).resolve().parent.parent
YANTAI = ROOT / "scenarios" / "yantai_zones_2020.yaml"


def _english_phases():
    s = dated_tutorial()
    reforms = [s.reforms[0].model_copy(update={"phase_en": "Year one"}), s.reforms[1]]
    return s.model_copy(update={"reforms": reforms})


def test_change_sentences_name_the_phase_in_the_language_in_force() -> None:
    scenario = load_scenario(YANTAI)
    outcome = reform_scenario(scenario)
    first = scenario.reforms[0]
    with use_language("en"):
        english = change_sentences(outcome, scenario)
    with use_language("zh"):
        chinese = change_sentences(outcome, scenario)
    assert english[0].phase == first.phase_en and chinese[0].phase == first.phase
    assert all(s.phase is not None for s in english)


def test_the_timeline_names_phases_in_english_and_keeps_their_names_as_identity() -> None:
    result = timeline(_english_phases(), replications=2, period="quarter")
    assert [ph["name_en"] for ph in result.phases] == [None, "Year one", None]
    assert {p["phase"] for p in result.periods} == {"before", "2020", "2021"}  # names, not labels
    with use_language("en"):
        lines = phases_text(result)
        shown = {row[1].text for row in timeline_table(result).rows}
    assert "Year one" in lines[0] and "2021" in lines[1]
    assert "Year one" in shown and "2020" not in shown
    with use_language("zh"):
        assert "2020" in phases_text(result)[0]


def test_the_timeline_command_shows_english_phase_names(tmp_path: Path) -> None:
    runner = CliRunner()
    english = runner.invoke(main, ["timeline", str(YANTAI), "-r", "1", "--period", "year", "--lang", "en"])
    chinese = runner.invoke(main, ["timeline", str(YANTAI), "-r", "1", "--period", "year", "--lang", "zh"])
    assert english.exit_code == 0 and chinese.exit_code == 0, english.output + chinese.output
    assert "All-staff appointment, post quotas" in english.output and "全员聘任、员额管理" not in english.output
    assert "全员聘任、员额管理" in chinese.output
    data = json.loads(runner.invoke(main, ["timeline", str(YANTAI), "-r", "1", "--period", "year", "--json"]).output)
    assert {ph["name"]: ph["name_en"] for ph in data["phases"]}["2020 (四) 全员聘任、员额管理"] == \
        "2020 (4) All-staff appointment, post quotas"


def test_an_empty_english_phase_name_is_a_located_error() -> None:
    text = (ROOT / "scenarios" / "tutorial.yaml").read_text(encoding="utf-8").replace(
        '  - phase: "2020"\n', '  - phase: "2020"\n    phase_en: ""\n', 1)
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, "t.yaml")
    (problem,) = err.value.problems
    assert problem.path == "reforms[0].phase_en" and problem.line == 115, problem
