"""The bundled Yantai (2020) and Qingdao (2020) scenarios reproduce their articles' figures.

Sources: seeds/001_5c20c7cb46453382.txt (Yantai) and seeds/003_d779789d3bd7c67a.txt
(Qingdao). The scenario files type in the organisation *before* the reforms and the
operators' parameters; every "after" figure checked here must come out of the operators.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

import orgsim
from orgsim.model import org as o
from orgsim.model import structure_metrics
from orgsim.reforms import ReformOutcome, reform_scenario
from orgsim.scenario import Scenario
from orgsim.sim.estimate import estimate_plan
from orgsim.sim.plan import compile_plan

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

YANTAI_PROVINCIAL = ["ls", "mp", "hy", "ly", "pl", "lz"]
QINGDAO_LARGE = ["gx", "lg", "zc", "zd"]
QINGDAO_SMALL = ["ze"]


@pytest.fixture(scope="module")
def yantai() -> tuple[Scenario, ReformOutcome]:
    scenario = orgsim.load_scenario(SCENARIOS / "yantai_zones_2020.yaml")
    return scenario, reform_scenario(scenario)


@pytest.fixture(scope="module")
def qingdao() -> tuple[Scenario, ReformOutcome]:
    scenario = orgsim.load_scenario(SCENARIOS / "qingdao_functional_zones_2020.yaml")
    return scenario, reform_scenario(scenario)


def _moved(outcome: ReformOutcome, op: str) -> list[str]:
    """Functions an operator moved (function_moved changes), in order."""
    return [c.subject for c in outcome.changes if c.op == op and c.action == "function_moved"]


def _category(org: o.Org, function: str) -> str:
    return org.graph.nodes[function][o.CATEGORY]


def _leadership(org: o.Org, unit: str) -> tuple[int, int]:
    d = org.graph.nodes[unit]
    return d[o.CHIEF], d[o.DEPUTIES]


def _zone_functions(org: o.Org, category: str) -> list[str]:
    zone = set(org.zone_units())
    return [f for f in org.functions() if org.owner(f) in zone and _category(org, f) == category]


# ---------------------------------------------------------------- Yantai


def test_yantai_internal_bodies_60_to_42(yantai: tuple[Scenario, ReformOutcome]) -> None:
    _, outcome = yantai
    before, after = structure_metrics(outcome.before), structure_metrics(outcome.after)
    assert before.internal_bodies == 60
    assert after.internal_bodies == 42
    assert 1 - after.internal_bodies / before.internal_bodies == pytest.approx(0.30)


def test_yantai_headcount_1251_to_568(yantai: tuple[Scenario, ReformOutcome]) -> None:
    _, outcome = yantai
    before, after = structure_metrics(outcome.before), structure_metrics(outcome.after)
    assert before.headcount == 1251
    assert after.headcount == 568
    assert 1 - after.headcount / before.headcount == pytest.approx(0.546, abs=0.0005)


def test_yantai_97_social_affairs_functions_stripped(yantai: tuple[Scenario, ReformOutcome]) -> None:
    _, outcome = yantai
    stripped = _moved(outcome, "strip")
    assert len(stripped) == len(set(stripped)) == 97
    assert {_category(outcome.before, f) for f in stripped} == {"social_affairs"}
    assert len(_zone_functions(outcome.before, "social_affairs")) == 97
    assert _zone_functions(outcome.after, "social_affairs") == []  # 应剥尽剥
    receivers = {outcome.after.owner(f) for f in stripped}
    assert {outcome.after.graph.nodes[u][o.KIND] for u in receivers} == {"sub_district"}
    assert not any(outcome.after.in_zone_government(u) for u in receivers)


def test_yantai_12_companies_3_of_them_high_tech(yantai: tuple[Scenario, ReformOutcome]) -> None:
    _, outcome = yantai
    created = [c.subject for c in outcome.changes if c.op == "spin_off" and c.action == "unit_created"]
    assert len(created) == 12
    companies = [u for u in outcome.after.units() if outcome.after.graph.nodes[u][o.KIND] == "company"]
    assert sorted(companies) == sorted(created)
    high_tech = set(outcome.before.subtree("ht"))
    spun = _moved(outcome, "spin_off")
    assert {_category(outcome.before, f) for f in spun} == {"development_operation"}
    assert len({outcome.after.owner(f) for f in spun if outcome.before.owner(f) in high_tech}) == 3
    assert _zone_functions(outcome.after, "development_operation") == []


def test_yantai_leadership_posts(yantai: tuple[Scenario, ReformOutcome]) -> None:
    _, outcome = yantai
    after = outcome.after
    assert _leadership(after, "ht") == (1, 5)
    assert _leadership(after, "bz") == (1, 4)
    for zone in YANTAI_PROVINCIAL:
        assert _leadership(after, zone) == (1, 3)
    # six committee leaders of the high-tech zone head departments themselves
    headed = [u for u in after.subtree("ht") if u != "ht" and after.graph.nodes[u][o.CHIEF] == 0]
    assert len(headed) == 6


def test_yantai_investment_and_project_staff_over_half(yantai: tuple[Scenario, ReformOutcome]) -> None:
    # The article: professional investment-attraction and project-service staff exceed 50%.
    _, outcome = yantai
    after = outcome.after
    g = after.graph
    zone = set(after.zone_units())
    cases = {f for flow in after.flows for f in flow.functions()}
    core = sum(
        g.nodes[f][o.OFFICERS]
        for f in after.functions()
        if after.owner(f) in zone and (f in cases or _category(after, f) == "investment_attraction")
    )
    assert core / structure_metrics(after).headcount > 0.5


# ---------------------------------------------------------------- Qingdao


def test_qingdao_headcount_cut_30_percent_to_446(qingdao: tuple[Scenario, ReformOutcome]) -> None:
    _, outcome = qingdao
    before, after = structure_metrics(outcome.before), structure_metrics(outcome.after)
    assert after.headcount == 446
    assert 1 - after.headcount / before.headcount == pytest.approx(0.30, abs=0.005)


def test_qingdao_bodies_and_institutions_cut_52_percent(qingdao: tuple[Scenario, ReformOutcome]) -> None:
    _, outcome = qingdao
    before, after = structure_metrics(outcome.before), structure_metrics(outcome.after)
    n_before = before.internal_bodies + before.institutions
    n_after = after.internal_bodies + after.institutions
    assert 1 - n_after / n_before == pytest.approx(0.52, abs=0.02)


def test_qingdao_231_social_affairs_items_two_thirds_of_two_zones(
    qingdao: tuple[Scenario, ReformOutcome],
) -> None:
    _, outcome = qingdao
    before = outcome.before
    two_zones = set(before.subtree("gx")) | set(before.subtree("lg"))
    held = sum(before.graph.nodes[f][o.POWER_ITEMS] for f in before.functions() if before.owner(f) in two_zones)
    stripped = [f for f in _moved(outcome, "strip") if before.owner(f) in two_zones]
    assert {_category(before, f) for f in stripped} == {"social_affairs"}
    items = sum(before.graph.nodes[f][o.POWER_ITEMS] for f in stripped)
    assert items == 231
    assert items / held == pytest.approx(0.667, abs=0.002)
    # all social-affairs and development-operation functions of all five zones are gone
    assert _zone_functions(outcome.after, "social_affairs") == []
    assert _zone_functions(outcome.after, "development_operation") == []


def test_qingdao_leadership_posts(qingdao: tuple[Scenario, ReformOutcome]) -> None:
    _, outcome = qingdao
    after = outcome.after
    for zone in QINGDAO_LARGE:
        assert _leadership(after, zone) == (1, 4)
    for zone in QINGDAO_SMALL:
        assert _leadership(after, zone) == (1, 2)
    # the 23 leaders the article says were selected
    assert sum(sum(_leadership(after, z)) for z in QINGDAO_LARGE + QINGDAO_SMALL) == 23


def test_qingdao_154_powers_per_zone_and_approvals_stay_in_the_zone(
    qingdao: tuple[Scenario, ReformOutcome],
) -> None:
    scenario, outcome = qingdao
    before, after = outcome.before, outcome.after
    per_zone = Counter[str]()
    for f in _moved(outcome, "devolve"):
        zone = next(u for u in after.chain(after.owner(f)) if after.parent(u) == "qingdao")
        per_zone[zone] += before.graph.nodes[f][o.POWER_ITEMS]
    assert per_zone == {z: 154 for z in QINGDAO_LARGE + QINGDAO_SMALL}
    # only the (assumed) fire acceptance, not in the first batch, stays with the city
    assert structure_metrics(after).power_items_city == before.attr("city_fire_acceptance", o.POWER_ITEMS) == 5
    # "No. 2 approval seal": before, four approvals of every project are at the city; after, only the
    # fire acceptance is
    steps_before = [s for flow in compile_plan(before, scenario).flows for s in flow.steps]
    steps_after = [s for flow in compile_plan(after, scenario).flows for s in flow.steps]
    assert {s.id for s in steps_before if s.jurisdiction == "city"} == {
        "landplan", "eia", "engplan", "permit", "fire_acceptance"}
    assert {s.id for s in steps_after if s.jurisdiction == "city"} == {"fire_acceptance"}


def test_qingdao_whistle_and_direct_line_shorten_the_city_legs(qingdao: tuple[Scenario, ReformOutcome]) -> None:
    # 功能区吹哨、部门报到 (zone -> city x0.5) and the direct line (both ways x0.5): the hand-offs to and
    # from the city's fire acceptance take a quarter and a half of their time; every other is unchanged.
    scenario, outcome = qingdao
    labels = [c.subject for c in outcome.changes if c.op == "coordinate"]
    assert labels == ["zone and city", "gx+lg+zc+zd+ze and city"]
    for flow in compile_plan(outcome.after, scenario).flows:
        steps = [s.id for s in flow.steps]
        factors = {(steps[i], steps[k]): h.factor for (i, k), h in flow.handoffs.items()}
        assert factors[("permit", "fire_acceptance")] == 0.25
        assert factors[("fire_acceptance", "completion")] == 0.5
        assert all(f == 1.0 for pair, f in factors.items() if "fire_acceptance" not in pair)


# ---------------------------------------------------------------- both


@pytest.mark.parametrize("name", ["yantai", "qingdao"])
def test_cap_releases_support_posts_only(name: str, request: pytest.FixtureRequest) -> None:
    _, outcome = request.getfixturevalue(name)
    released = {c.category for c in outcome.changes if c.op == "cap_headcount" and c.action == "staff_released"}
    assert released == {"support"}


@pytest.mark.parametrize("name", ["yantai", "qingdao"])
def test_lead_times_stable_and_shorter_after(name: str, request: pytest.FixtureRequest) -> None:
    scenario, outcome = request.getfixturevalue(name)
    target = scenario.simulation.utilisation_target
    before = estimate_plan(compile_plan(outcome.before, scenario), target)
    after = estimate_plan(compile_plan(outcome.after, scenario), target)
    assert before.stable and after.stable
    assert 20 < after.mean_lead_time_days < before.mean_lead_time_days < 120
