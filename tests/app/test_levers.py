"""The app's controls are sweep levers: each setting gives the scenario file with that field set."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from orgsim.app.levers import Levers, Settings
from orgsim.errors import ReformError
from orgsim.model.metrics import structure_metrics
from orgsim.reforms import reform_scenario
from orgsim.scenario import load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "scenarios" / "tutorial.yaml"
JINAN = ROOT / "scenarios" / "jinan_hitech_2016.yaml"


@pytest.fixture(scope="module")
def tutorial() -> Levers:
    return Levers(load_scenario(TUTORIAL))


def test_one_switch_per_operator_in_package_order(tutorial: Levers) -> None:
    ops = [spec.op for _phase, spec in tutorial.scenario.operators()]
    assert [s.op for s in tutorial.switches] == ops
    assert [s.index for s in tutorial.switches] == list(range(len(ops)))
    assert [s.phase for s in tutorial.switches] == [phase for phase, _spec in tutorial.scenario.operators()]
    labelled = {spec.label for _phase, spec in tutorial.scenario.operators()} - {None}
    for s in tutorial.switches:
        # The scenario's label, else the operator's own clause, which begins its sentence.
        assert s.title in labelled or s.sentence.startswith(s.title)


def test_switching_off_an_operator_a_later_one_needs_is_a_located_error(tutorial: Levers) -> None:
    # The devolution goes to the bureau the merger creates.
    chosen = tutorial.scenario_for(Settings(off=frozenset({0})))
    with pytest.raises(ReformError) as caught:
        reform_scenario(chosen)
    (problem,) = caught.value.problems
    assert problem.path == "reforms[0].reforms[0]" and "'lpc' does not exist" in problem.message


@pytest.mark.parametrize("off", [2, 3, 5])
def test_a_switch_off_leaves_out_that_operator_and_nothing_else(tutorial: Levers, off: int) -> None:
    chosen = tutorial.scenario_for(Settings(off=frozenset({off})))
    mine = reform_scenario(chosen)
    expected = reform_scenario(tutorial.scenario, skip=[off])
    assert len(mine.states) == len(tutorial.switches) - 1
    assert structure_metrics(mine.after) == structure_metrics(expected.after)
    assert [spec.op for _p, spec in chosen.operators()] == [
        s.op for s in tutorial.switches if s.index != off]


def test_cap_and_rate_set_the_scenarios_fields(tutorial: Levers) -> None:
    (cap,) = tutorial.caps
    (rate,) = tutorial.rates
    assert cap.low <= 50 < cap.default <= cap.high
    chosen = tutorial.scenario_for(Settings(caps={cap.path: 50}, rates={rate.path: 150.0}))
    (spec,) = [spec for _p, spec in chosen.operators() if spec.op == "cap_headcount"]
    assert spec.cap == 50
    assert chosen.workload is not None and chosen.workload.project_types[0].arrivals.rate == 150.0
    # A cap of 50 in the zone committee's subtree leaves 50 there.
    after = reform_scenario(chosen).after
    assert sum(after.headcount(u) for u in after.subtree("committee") if after.in_zone_government(u)) == 50


def test_default_settings_are_the_file_itself(tutorial: Levers) -> None:
    assert tutorial.scenario_for(Settings()) is tutorial.scenario
    cap, rate = tutorial.caps[0], tutorial.rates[0]
    same = Settings(caps={cap.path: cap.default}, rates={rate.path: rate.default})
    assert tutorial.scenario_for(same) is tutorial.scenario


def test_the_downloaded_scenario_loads_with_the_settings_seed_and_replications(tutorial: Levers) -> None:
    settings = Settings(off=frozenset({4}), caps={tutorial.caps[0].path: 55}, replications=3, seed=7)
    text = tutorial.scenario_text(settings)
    loaded = parse_scenario(text, "downloaded.yaml")
    assert loaded.simulation.replications == 3 and loaded.simulation.seed == 7
    assert [spec.op for _p, spec in loaded.operators()] == [
        spec.op for _p, spec in tutorial.scenario_for(settings).operators()]
    assert "agency_service" not in text and yaml.safe_load(text)["reforms"][1]["reforms"][1]["cap"] == 55


def test_a_cap_the_reform_cannot_reach_is_a_located_error(tutorial: Levers) -> None:
    cap = tutorial.caps[0]
    chosen = tutorial.scenario_for(Settings(caps={cap.path: cap.low}))
    with pytest.raises(ReformError) as caught:
        reform_scenario(chosen)
    (problem,) = caught.value.problems
    assert problem.path == "reforms[1].reforms[2]" and "cap" in problem.message


def test_a_phase_of_operators_and_top_level_operators_both_get_switches() -> None:
    levers = Levers(load_scenario(JINAN))
    assert len(levers.switches) == len(levers.scenario.operators())
    assert all(s.path.endswith(".enabled") for s in levers.switches)
    last = levers.switches[-1].index
    assert len(reform_scenario(levers.scenario_for(Settings(off=frozenset({last})))).states) == last
