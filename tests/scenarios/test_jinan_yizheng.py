"""The bundled Jinan (2016) and Yizheng (2021) scenarios reproduce their articles' figures.

Every structure figure asserted here comes out of the reform operators
applied to the "before" organisation; none is read back from a field typed
in as a result. Lead times are checked only for direction and rough size,
with few replications.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

import orgsim
from orgsim.experiment import compare
from orgsim.model import org as o
from orgsim.model import structure_metrics
from orgsim.reforms import apply_reforms, reform_scenario
from orgsim.scenario.schema import POWER_CATEGORIES
from orgsim.sim.plan import compile_plan

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
JINAN = SCENARIOS / "jinan_hitech_2016.yaml"
YIZHENG = SCENARIOS / "yizheng_one_zone_many_parks_2021.yaml"
JINAN_SEED = "seeds/000_5922b62cfff8fdd0.txt"
YIZHENG_SEED = "seeds/002_08027dbb61fe015b.txt"


@pytest.fixture(scope="module")
def jinan():
    scenario = orgsim.load_scenario(JINAN)
    return scenario, reform_scenario(scenario)


@pytest.fixture(scope="module")
def yizheng():
    scenario = orgsim.load_scenario(YIZHENG)
    return scenario, reform_scenario(scenario)


def _owned_by(org: o.Org, unit: str) -> set[str]:
    return set(org.performed_by(unit))


def _zone_functions(org: o.Org, categories: set[str]) -> list[str]:
    zone = set(org.zone_units())
    return [f for f in org.functions() if org.owner(f) in zone and org.attr(f, o.CATEGORY) in categories]


def _handoff_kinds(org: o.Org, scenario, flow_id: str) -> Counter:
    plan = compile_plan(org, scenario)
    flow = next(f for f in plan.flows if f.id == flow_id)
    return Counter(kind for succ in flow.successors for _, kind in succ)


# ---------------------------------------------------------------- provenance (both files)


@pytest.mark.parametrize(("path", "seed"), [(JINAN, JINAN_SEED), (YIZHENG, YIZHENG_SEED)])
def test_header_and_metadata_name_the_source_and_mark_assumptions(path, seed):
    text = path.read_text(encoding="utf-8")
    header = text[: text.index("scenario:")]
    assert header.lstrip().startswith("#")
    assert seed in header
    scenario = orgsim.load_scenario(path)
    files = [s.file for s in scenario.scenario.sources]
    assert seed in files
    article = next(s for s in scenario.scenario.sources if s.file == seed)
    assert len(article.figures) >= 5
    assert scenario.scenario.assumptions
    for a in scenario.scenario.assumptions:
        assert "assumed" in (a.reason_en or a.reason).lower() and a.reason.startswith("假设"), a.about
    assert scenario.workload is not None and scenario.workload.statutory_limit_days == 120


# ---------------------------------------------------------------- Jinan 2016


def _devolved(outcome) -> list:
    """function_moved changes of devolve operators, with the city unit they left."""
    return [c for c in outcome.changes if c.op == "devolve" and c.action == "function_moved"]


def test_jinan_city_devolves_3250_items_from_47_departments_in_10_categories(jinan):
    scenario, outcome = jinan
    before, after = structure_metrics(outcome.before), structure_metrics(outcome.after)
    assert after.power_items_zone - before.power_items_zone == 3250
    assert before.power_items_city - after.power_items_city == 3250

    moved = _devolved(outcome)
    g = outcome.before.graph
    assert all(g.nodes[c.source][o.JURISDICTION] == "city" for c in moved)
    assert len({c.source for c in moved}) == 47
    assert sum(g.nodes[c.subject][o.POWER_ITEMS] for c in moved) == 3250
    by_department = Counter()
    for c in moved:
        by_department[c.source] += g.nodes[c.subject][o.POWER_ITEMS]
    # market regulation (市工商局) devolved the most items: 475
    assert by_department["city_aic"] == 475
    assert by_department.most_common(1)[0] == ("city_aic", 475)
    # the ten categories of power (行政审批, 行政处罚 ...)
    assert {g.nodes[c.subject][o.CATEGORY] for c in moved} == set(POWER_CATEGORIES)
    assert len(POWER_CATEGORIES) == 10
    # the outdoor-advertising department's 7 items went whole
    assert by_department["city_urban"] == 7
    assert not outcome.after.performed_by("city_urban")


def test_jinan_withheld_transport_items_stay_with_the_city(jinan):
    _, outcome = jinan
    kept = [f for f in outcome.after.functions()
            if outcome.after.graph.nodes[outcome.after.owner(f)][o.JURISDICTION] == "city"]
    assert kept == ["ctransport_kept"]
    assert all(c.subject != "ctransport_kept" for c in outcome.changes)
    assert structure_metrics(outcome.after).power_items_city == outcome.after.attr("ctransport_kept", o.POWER_ITEMS)


def test_jinan_delegate_at_once_accept_in_phases(jinan):
    scenario, outcome = jinan
    ops = scenario.operators()
    first_phase_end = sum(1 for phase, _ in ops if not phase.startswith("2017"))
    assert 0 < first_phase_end < len(ops)
    phase1 = reform_scenario(scenario, upto=first_phase_end).after
    m0, m1, m2 = (structure_metrics(x) for x in (outcome.before, phase1, outcome.after))

    # phase 1 delegates everything but leaves some powers with the city
    awaiting = [c for c in outcome.changes if c.action == "function_awaiting_acceptance"]
    assert awaiting and {c.phase for c in awaiting} == {"2016-06 一次下放、第一批承接"}
    for c in awaiting:
        assert phase1.graph.nodes[phase1.owner(c.subject)][o.JURISDICTION] == "city"
        assert outcome.after.owner(c.subject) == c.target  # accepted in the later phase
    withheld = m2.power_items_city
    assert m1.power_items_city - withheld > 0
    assert m0.power_items_zone < m1.power_items_zone < m2.power_items_zone
    assert m2.power_items_zone - m1.power_items_zone == m1.power_items_city - withheld
    assert phase1.owner("cfire_review") == "city_fire" and outcome.after.owner("cfire_review") == "lpc"
    assert phase1.owner("caic_registration") == "market" and phase1.owner("caic_penalty") == "city_aic"

    # the industrial path crosses to the city before, still for fire and civil
    # air defence after phase 1, and never after phase 2
    crossings = [_handoff_kinds(x, scenario, "industrial")["between_jurisdictions"]
                 for x in (outcome.before, phase1, outcome.after)]
    assert crossings[0] > crossings[1] > crossings[2] == 0


def test_jinan_big_bureaus_merge_the_named_departments(jinan):
    _, outcome = jinan
    after = outcome.after
    origin = {u: set(after.attr(u, o.ORIGIN)) for u in ("lpc", "ste", "spb", "sab")}
    assert {"planning", "land", "construction", "environment", "fire", "civil_defence"} <= origin["lpc"]
    assert {"dev_reform", "science", "industry"} <= origin["ste"]
    assert {"commerce", "finance_office"} <= origin["spb"]
    assert {"social_affairs", "education", "health"} <= origin["sab"]
    for merged in set().union(*origin.values()):
        assert not after.is_unit(merged)
    # each big bureau holds what its departments held before
    before = outcome.before
    for bureau, units in (("lpc", ["planning", "land", "construction", "environment", "fire", "civil_defence",
                                   "planning_sec", "construction_sec"]),
                          ("ste", ["dev_reform", "science", "industry", "dr_sec"]),
                          ("sab", ["social_affairs", "education", "health"])):
        held = set().union(*(_owned_by(before, u) for u in units))
        moved_elsewhere = {"dr_service", "sci_service"}
        assert held - moved_elsewhere <= _owned_by(after, bureau)
    # 大服务: development & reform, commerce, science and finance service functions
    assert {"dr_service", "sci_service", "commerce_promo", "finance_promo"} <= _owned_by(after, "spb")
    assert after.attr("lpc", o.KIND) == "bureau" and after.parent("lpc") == "committee"


def test_jinan_seven_park_centres_lead_investment_attraction(jinan):
    _, outcome = jinan

    def holders(org: o.Org) -> set[str]:
        return {org.owner(f) for f in _zone_functions(org, {"investment_attraction"})}

    assert holders(outcome.before) == {"investment"}
    after = holders(outcome.after)
    assert len(after) == 7
    assert {outcome.after.attr(u, o.KIND) for u in after} == {"park"}
    assert structure_metrics(outcome.after).parks == 7


def test_jinan_sub_districts_reorganised(jinan):
    _, outcome = jinan
    before, after = outcome.before, outcome.after
    from_zhai = _owned_by(before, "zhai") & _owned_by(after, "sunchun")
    villages = [f for f in from_zhai if f.startswith("village_")]
    assert len(villages) == 13
    assert from_zhai - set(villages) == {"jigang_farm"}
    assert before.owner("sunchun_area") == "sunchun" and after.owner("sunchun_area") == "juyehe"
    assert after.is_unit("zhai") and after.attr("zhai", o.JURISDICTION) == "district"
    assert {after.parent("sunchun"), after.parent("juyehe")} == {"committee"}


def test_jinan_three_level_flat_structure(jinan):
    """管委会—工作部门—责任主管: two layers of units plus the officer level.

    structure_metrics counts layers of units; the responsible officer
    (责任主管) is the level of the officers who hold functions, which the model
    keeps inside units. So the article's three levels are ``layers + 1``.
    Before the reform the sections (科) made a fourth level.
    """
    _, outcome = jinan
    before, after = structure_metrics(outcome.before), structure_metrics(outcome.after)
    assert before.layers + 1 == 4
    assert after.layers + 1 == 3
    for f in ("planning_scheme", "completion", "project_prereview"):
        assert outcome.before.attr(f, o.SIGNOFF_LEVELS) == 3
        assert outcome.after.attr(f, o.SIGNOFF_LEVELS) == 2
    zone = outcome.after.zone_units()
    assert all(outcome.after.parent(u) in (None, "committee") for u in zone)


@pytest.mark.parametrize("case", ["jinan", "yizheng"])
def test_lead_times_fall(case, request):
    scenario, _ = request.getfixturevalue(case)
    result = compare(scenario, replications=2)
    before, after = result.before.lead_time(), result.after.lead_time()
    assert result.before.stable and result.after.stable
    assert after["mean"] < before["mean"]
    assert after["p90"] < before["p90"]
    assert 100 <= before["p90"] <= 220
    assert after["p90"] <= 120


# ---------------------------------------------------------------- Yizheng 2021


def test_yizheng_parks_have_no_licensing_or_penalty_power_before(yizheng):
    scenario, outcome = yizheng
    before = outcome.before
    parks = [u for u in before.zone_units() if before.attr(u, o.KIND) == "park"]
    assert len(parks) == 3
    assert not _zone_functions(before, {"licensing", "penalty"})
    assert structure_metrics(before).power_items_zone == 0
    # so the construction paths cross to city departments
    for flow in ("construction_bigdata", "construction_auto", "construction_chem"):
        assert _handoff_kinds(before, scenario, flow)["between_jurisdictions"] >= 2


def test_yizheng_approval_bureau_and_enforcement_bureau(yizheng):
    scenario, outcome = yizheng
    after = outcome.after
    assert after.attr("approval_bureau", o.KIND) == "bureau"
    assert after.parent("approval_bureau") == "committee"
    assert after.attr("approval_bureau", o.POOLED)
    licensing = _zone_functions(after, {"licensing"})
    assert licensing and {after.owner(f) for f in licensing} == {"approval_bureau"}
    penalties = _zone_functions(after, {"penalty", "coercion"})
    assert penalties and {after.owner(f) for f in penalties} == {"enforcement_bureau"}
    # the powers came from city departments (devolve), not from the parks
    g = outcome.before.graph
    for f in licensing + penalties:
        assert g.nodes[outcome.before.owner(f)][o.JURISDICTION] == "city"
    assert structure_metrics(after).power_items_zone > 0
    # one window: every path that needs a zone approval starts at the bureau's intake
    for flow in after.flows:
        assert flow.steps[0].functions == ("intake",)
        assert after.owner("intake") == "approval_bureau"
        # and no step of any path is left at a city department
        assert _handoff_kinds(after, scenario, flow.id)["between_jurisdictions"] == 0


def test_yizheng_merged_and_parallel_approvals(yizheng):
    _, outcome = yizheng
    flows = {f.id: f for f in outcome.after.flows}
    for fid in ("construction_bigdata", "construction_auto", "construction_chem"):
        flow = flows[fid]
        ids = {s.id for s in flow.steps}
        # 用地预审和选址意见, 建设用地批准书和规划许可 合并办理
        assert flow.step("land_site").functions == ("land_pre", "site_selection")
        assert flow.step("land_joint").functions == ("land_approval", "land_planning_permit")
        assert not ids & {"land_pre", "site", "land_approval", "land_planning", "eia", "energy", "chem_safety"}
        # 多评合一
        assessed = set(flow.step("joint_assessment").functions)
        assert {"eia_approval", "energy_review"} <= assessed
        assert flow.step("joint_assessment").combine == "max"
        # 多审合一: fire and civil air defence reviews run side by side
        dag = flow.dag()
        assert not dag.has_edge("fire", "civil_defence") and not dag.has_edge("civil_defence", "fire")
        assert set(dag.predecessors("fire")) == set(dag.predecessors("civil_defence")) == {"works_planning"}
        assert set(dag.predecessors("permit")) == {"fire", "civil_defence"}
        assert len(flow.steps) < len(next(f for f in outcome.before.flows if f.id == fid).steps)
    assert "chem_safety_review" in flows["construction_chem"].step("joint_assessment").functions


def test_yizheng_agency_service_for_construction_projects_only(yizheng):
    _, outcome = yizheng
    flows = {f.id: f for f in outcome.after.flows}
    for fid in ("construction_bigdata", "construction_auto", "construction_chem"):
        assert flows[fid].rework_factor < 1 and flows[fid].delay_factor < 1
    assert flows["hazchem_licence"].rework_factor == 1 and flows["hazchem_licence"].delay_factor == 1


def test_yizheng_parks_shed_social_affairs_to_the_towns(yizheng):
    _, outcome = yizheng
    after = outcome.after
    parks = [u for u in after.zone_units() if after.attr(u, o.KIND) == "park"]
    assert len(parks) == 3
    assert not [f for u in parks for f in after.performed_by(u) if after.attr(f, o.CATEGORY) == "social_affairs"]
    assert {after.owner(f) for f in ("social_chem", "social_auto", "social_bigdata")} == {
        "qingshan", "xincheng", "shierwei"}


def test_yizheng_phases_apply_in_order(yizheng):
    scenario, outcome = yizheng
    org = orgsim.build_org(scenario)
    n = len(scenario.operators())
    states = [apply_reforms(org, scenario, upto=k).after for k in range(n + 1)]
    assert structure_metrics(states[-1]) == structure_metrics(outcome.after)
    # after devolution only (the first phase), the powers are in the zone but not yet in one bureau
    after_devolve = apply_reforms(org, scenario, upto=2).after
    assert {after_devolve.owner(f) for f in _zone_functions(after_devolve, {"licensing"})} == {"plan_con"}




# ---------------------------------------------------------------- what the articles describe, as routing


def test_jinan_reviews_not_every_project_needs(jinan):
    # New land (70%) brings the three land steps together; EIA, fire and civil air defence
    # reviews are needed by a share of projects; the planning permit returns designs to the
    # scheme review.
    scenario, outcome = jinan
    (industrial, _) = compile_plan(outcome.before, scenario).flows
    need = dict(zip((s.id for s in industrial.steps), industrial.routing.need, strict=True))
    assert need["land_pre"] == need["site"] == need["land_grant"] == pytest.approx(0.7)
    assert (need["eia"], need["fire"], need["civil_defence"]) == pytest.approx((0.6, 0.8, 0.5))
    assert need["prereview"] == need["permit"] == pytest.approx(1.0)
    assert industrial.steps[[s.id for s in industrial.steps].index("plan_permit")].rework_to == [
        s.id for s in industrial.steps].index("scheme")


def test_yizheng_enforcement_bureau_works_by_the_721_method(yizheng):
    scenario, outcome = yizheng
    before = {c.id: [share for share, _ in c.resolutions] for c in outcome.before.case_flows}
    after = {c.id: [share for share, _ in c.resolutions] for c in outcome.after.case_flows}
    assert set(before) == {"safety", "environment", "planning_construction"}
    assert all(shares == [0.3, 0.3, 0.4] for shares in before.values())
    assert all(shares == [0.7, 0.2, 0.1] for shares in after.values())
    assert {outcome.after.owner(c.function) for c in outcome.after.case_flows} == {"enforcement_bureau"}
    assert outcome.after.attr("enforcement_bureau", o.POOLED)
    # the enforcement cases' officer time falls: 1.425 working days a problem before, 0.575 after
    load_before = compile_plan(outcome.before, scenario).offered_busy_servers()
    load_after = compile_plan(outcome.after, scenario).offered_busy_servers()
    cases = sum(load_before[f"{u}/{f}"] for u, f in (("city_emergency", "safety_penalty"),
                                                     ("city_eco", "env_penalty"), ("city_enforce", "planning_penalty")))
    assert load_after["enforcement_bureau:officers"] < 0.5 * cases


def test_yizheng_reviews_not_every_project_needs(yizheng):
    scenario, outcome = yizheng
    flows = {f.id: f for f in compile_plan(outcome.before, scenario).flows}
    for fid, eia, energy in (("construction_bigdata", 0.6, 0.5), ("construction_auto", 0.6, 0.5),
                             ("construction_chem", 1.0, 0.9)):
        need = dict(zip((s.id for s in flows[fid].steps), flows[fid].routing.need, strict=True))
        assert (need["eia"], need["energy"], need["fire"], need["civil_defence"]) == pytest.approx(
            (eia, energy, 0.8, 0.5))
    # 多评合一 keeps each assessment's own condition: the joint review does only those a project needs
    after = {f.id: f for f in outcome.after.flows}
    joint = after["construction_bigdata"].step("joint_assessment")
    assert [(n.source, n.probability) for n in joint.needs] == [("eia", 0.6), ("energy", 0.5)]
    # enforcement problems are case types of their own, not approvals
    kinds = {f.id: f.kind for f in compile_plan(outcome.after, scenario).flows}
    assert kinds["safety.enforcement"] == "enforcement" and kinds["construction_chem"] == "approval"


@pytest.mark.parametrize("name", ["tutorial", "jinan_hitech_2016", "yantai_zones_2020",
                                  "yizheng_one_zone_many_parks_2021", "qingdao_functional_zones_2020"])
def test_every_bundled_scenario_states_its_support_work(name):
    scenario = orgsim.load_scenario(SCENARIOS / f"{name}.yaml")
    work = scenario.workload.support_work
    assert work.hours_per_case > 0 and work.hours_per_officer_per_year > 0
    assert any("support_work" in a.about and "assumed" in (a.reason_en or a.reason)
               for a in scenario.scenario.assumptions)
