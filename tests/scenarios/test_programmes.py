"""The bundled scenarios as programmes over time reproduce their articles' figures (orgsim timeline).

Sources: seeds/000_5922b62cfff8fdd0.txt (Jinan 2016), seeds/001_5c20c7cb46453382.txt
(Yantai 2020), seeds/003_d779789d3bd7c67a.txt (Qingdao 2020). Rates are checked against
the article's figure with a binomial interval over replications of the workforce model
(its own random streams); the dates of the phases are assumptions of the files.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import stats

import orgsim
from orgsim.cli import main
from orgsim.scenario import Scenario
from orgsim.scenario.schema import WORKING_DAYS_PER
from orgsim.sim.calendar import WorkingCalendar
from orgsim.sim.streams import RandomStreams, replication_seeds
from orgsim.timeline.programme import Programme, prepare_programme
from orgsim.timeline.workforce import (
    Post,
    Stint,
    posts_in_scope,
    posts_of,
    scope_side,
    simulate_workforce,
    units_in_scope,
)

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
FILES = {"jinan": "jinan_hitech_2016.yaml", "qingdao": "qingdao_functional_zones_2020.yaml",
         "yantai": "yantai_zones_2020.yaml"}
#: Replications of the workforce model for the rate checks (cheap: no applications simulated).
WORKFORCE_REPS = 120


def _load(name: str) -> Scenario:
    return orgsim.load_scenario(SCENARIOS / FILES[name])


def _calendar(scenario: Scenario) -> WorkingCalendar:
    return WorkingCalendar.from_spec(scenario.simulation.calendar)


def _scoped(scenario: Scenario, prog: Programme) -> tuple[dict[Post, str], ...]:
    """Each phase's posts in the scenario's workforce scope (the zone's own posts)."""
    return posts_in_scope([posts_of(org) for org in prog.orgs], units_in_scope(prog, scope_side(scenario)))


def _workforce_runs(scenario: Scenario, reps: int = WORKFORCE_REPS) -> tuple[Programme, list[list[Stint]]]:
    """The stints in the workforce's scope (those the timeline counts), per replication."""
    cal = _calendar(scenario)
    prog = prepare_programme(scenario, cal)
    hours = scenario.simulation.calendar.hours_per_day
    scoped = _scoped(scenario, prog)
    runs = [[s for s in simulate_workforce(prog, scenario.workforce, RandomStreams(seq), cal, hours, scoped=scoped)
             if s.in_scope] for seq in replication_seeds(scenario.simulation.seed, reps)]
    return prog, runs


def _appraisal_days(scenario: Scenario, prog: Programme) -> list[float]:
    cal = _calendar(scenario)
    month = scenario.workforce.appraisal_month
    out = []
    for year in range(prog.dates[0].year, prog.dates[0].year + 10):
        t = float(cal.calendar_to_working(np.array([dt.date(year, month, 1)], dtype="datetime64[D]"))[0])
        if 0 < t < prog.horizon_days:
            out.append(t)
    return out


def _failures(scenario: Scenario, prog: Programme, runs: list[list[Stint]]) -> tuple[int, int]:
    """(people appraised, people failing) over every annual appraisal of every run."""
    appraised = failed = 0
    for stints in runs:
        for t in _appraisal_days(scenario, prog):
            for s in stints:
                if s.start < t < s.end or (s.end == t and s.cause == "eliminated"):
                    appraised += 1
                    failed += s.demoted == t or (s.end == t and s.cause == "eliminated")
    return appraised, failed


def _assert_rate(k: int, n: int, p: float) -> None:
    """``k`` of ``n`` agrees with rate ``p`` (two-sided 99 % binomial test), and the test has power."""
    assert n * p > 50, "too few trials for a rate check"
    assert stats.binomtest(k, n, p).pvalue > 0.01, f"{k}/{n} = {k / n:.4f} against {p}"
    lo, hi = stats.binomtest(k, n).proportion_ci(0.99)
    assert hi - lo < 0.5 * p  # the interval is narrow enough to tell the article's figure apart


@pytest.fixture(scope="module")
def qingdao() -> Scenario:
    return _load("qingdao")


@pytest.fixture(scope="module")
def qingdao_workforce(qingdao: Scenario) -> tuple[Programme, list[list[Stint]]]:
    return _workforce_runs(qingdao)


@pytest.fixture(scope="module")
def qingdao_timeline(qingdao: Scenario) -> orgsim.timeline.TimelineResult:
    return orgsim.timeline(qingdao, replications=4)


# ---------------------------------------------------------------- every programme


@pytest.mark.parametrize("name", sorted(FILES))
def test_phases_are_dated_and_every_date_is_cited_or_assumed(name: str) -> None:
    scenario = _load(name)
    prog = prepare_programme(scenario, _calendar(scenario))
    assert prog.n_phases >= 3
    stated = " ".join([a.about for a in scenario.scenario.assumptions]
                      + [f for src in scenario.scenario.sources for f in src.figures])
    for d in prog.dates[1:]:
        assert d.isoformat() in stated, f"{d} is neither cited nor stated as an assumption"
    assert scenario.workforce is not None and scenario.pay is not None


@pytest.mark.parametrize("name", sorted(FILES))
def test_compare_and_timeline_both_run_from_the_cli(name: str, tmp_path: Path) -> None:
    runner = CliRunner()
    path = str(SCENARIOS / FILES[name])
    res = runner.invoke(main, ["compare", path, "-r", "2", "--json"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["timeline", path, "-r", "2", "--period", "quarter", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "timeline.json").exists()


# ---------------------------------------------------------------- Qingdao


def test_qingdao_calendar_covers_2019_with_the_published_holidays(qingdao: Scenario) -> None:
    cal = _calendar(qingdao)
    assert 2019 in cal.published_years
    days = {dt.date(1970, 1, 1) + dt.timedelta(days=int(d)) for d in cal.working_day_table}
    assert sum(1 for d in days if d.year == 2019) == 250  # 国办发明电〔2018〕15号 and the 2019 May Day change
    assert dt.date(2019, 2, 2) in days and dt.date(2019, 2, 3) in days  # make-up weekend for the Spring Festival
    assert not any(dt.date(2019, 2, d) in days for d in range(4, 11))  # Spring Festival 4-10 February
    assert dt.date(2019, 5, 5) in days and dt.date(2019, 5, 3) not in days  # May Day 1-4 May
    first = float(cal.calendar_to_working(np.array([dt.date(2019, 7, 1)], dtype="datetime64[D]"))[0])
    assert first == sum(1 for d in days if d < dt.date(2019, 7, 1))


@pytest.mark.parametrize("name,start,at_reappointment", [("jinan", 298, 267), ("qingdao", 637, 446),
                                                           ("yantai", 1251, 568)])
def test_the_workforce_covers_the_zones_own_posts(name: str, start: int, at_reappointment: int) -> None:
    """The scope is the zone's jurisdiction: the timeline's posts are the zone government's (the articles' figures:
    Qingdao 637 before its 30 % cut to 446, Yantai's quota of 568), not the city's, sub-districts' or companies'."""
    scenario = _load(name)
    assert scenario.workforce.scope is not None and scenario.workforce.scope.jurisdictions == ["zone"]
    prog = prepare_programme(scenario, _calendar(scenario))
    scoped = _scoped(scenario, prog)
    zone = [sum(1 for u in posts_of(org).values() if org.in_zone_government(u)) for org in prog.orgs]
    assert [len(x) for x in scoped] == zone
    assert len(scoped[0]) == start < len(posts_of(prog.orgs[0]))
    (r,) = scenario.workforce.reappointments
    assert len(scoped[prog.names.index(r.phase)]) == at_reappointment
    first = orgsim.timeline(scenario, replications=1).periods[0]
    assert first["posts"] == first["headcount"] == start


def test_qingdao_posts_after_the_cap_and_reserved_share(qingdao: Scenario) -> None:
    prog = prepare_programme(qingdao, _calendar(qingdao))
    cap = prog.names.index("用人制度改革（人员规模控制总量）")
    org = prog.orgs[cap]
    zone = set(org.zone_units())
    assert sum(1 for u in posts_of(org).values() if u in zone) == 446
    before = prog.orgs[0]
    assert sum(1 for u in posts_of(before).values() if u in set(before.zone_units())) == 637
    (r,) = qingdao.workforce.reappointments
    assert r.phase == prog.names[cap]
    assert 1 / 5 <= r.reserved_share <= 1 / 3  # 预留出1/5-1/3的岗位
    assert r.reserved_share == pytest.approx((446 - 338) / 446, abs=0.005)  # 338 posts opened of 446


def test_qingdao_reappointment_reserves_posts_and_takes_outsiders_at_the_articles_rates(
        qingdao: Scenario, qingdao_workforce) -> None:
    prog, runs = qingdao_workforce
    (r,) = qingdao.workforce.reappointments
    assert r.filled_at_once == 1 and r.outside_share == 0.385  # 从功能区以外选聘人员达38.5%
    p = prog.names.index(r.phase)
    t = prog.starts[p]
    n_posts = len(_scoped(qingdao, prog)[p])
    assert n_posts == 446  # the zones' posts after the cap, the city's and sub-districts' outside the scope
    reserved = held = replaced = 0
    for stints in runs:
        now = {s.post: s for s in stints if s.start <= t < s.end}
        before = {s.post for s in stints if s.start < t <= s.end}
        reserved += n_posts - len(now)  # every post not reserved is filled on the day
        for post, s in now.items():
            if post in before:  # its holder stays, or an outsider takes it
                held += 1
                replaced += s.start == t
    _assert_rate(reserved, n_posts * len(runs), r.reserved_share)
    _assert_rate(replaced, held, r.outside_share)


def test_qingdao_appraisal_fails_3_to_5_percent_a_year(qingdao: Scenario, qingdao_workforce) -> None:
    rate = qingdao.workforce.elimination_per_year
    assert 0.03 <= rate <= 0.05  # 年度人员淘汰率实现3%-5%
    assert qingdao.workforce.dismiss_after_failures == 2  # 连续两年考核不合格予以解聘
    prog, runs = qingdao_workforce
    appraised, failed = _failures(qingdao, prog, runs)
    _assert_rate(failed, appraised, rate)


def test_qingdao_fixed_pool_pay_per_head_rises_when_heads_fall(qingdao: Scenario, qingdao_timeline) -> None:
    pool = qingdao.pay.fixed_pool_yuan_per_year
    periods = qingdao_timeline.periods
    bounds = [p["start_working_day"] for p in periods] + [qingdao.simulation.horizon_days]
    per_day = []
    for p, a, b in zip(periods, bounds[:-1], bounds[1:], strict=True):
        # 增人不增额、减人不减额: the payroll is the pool whatever the heads.
        assert p["payroll_yuan"] == pytest.approx(pool / WORKING_DAYS_PER["year"] * (b - a))
        per_day.append(p["payroll_per_head_yuan"] / (b - a))
    heads = np.array([p["headcount"] for p in periods])
    low, high = int(np.argmin(heads)), int(np.argmax(heads))
    assert heads[low] < 0.9 * heads[high]  # the re-appointment leaves posts vacant
    assert per_day[low] / per_day[high] == pytest.approx(heads[high] / heads[low])


def test_qingdao_pay_gap_over_2x(qingdao: Scenario, qingdao_timeline: orgsim.timeline.TimelineResult) -> None:
    from orgsim.timeline.pay import pay_ratio

    assert pay_ratio(qingdao.pay) > 2  # 不同岗位薪酬差距可以扩大2倍以上
    assert qingdao_timeline.to_dict()["pay_ratio"] == pytest.approx(pay_ratio(qingdao.pay))


def test_qingdao_vacancies_never_negative_and_people_conserved(qingdao_timeline) -> None:
    periods = qingdao_timeline.periods
    for p in periods:
        assert p["vacancies"] >= 0
    for p, q in zip(periods, periods[1:], strict=False):
        assert q["headcount"] == pytest.approx(p["headcount"] + p["hires"] - p["exits"])


def test_qingdao_lead_times_recover_after_the_programme(qingdao_timeline) -> None:
    lead = [p["lead_time_working_days"]["mean"] for p in qingdao_timeline.periods if not p["in_warmup"]]
    lead = [x for x in lead if x is not None and not math.isnan(x)]
    peak = max(lead)
    # Vacant reserved posts and learners slow the approvals in 2020; by the last year they are filled.
    assert np.mean(lead[-12:-1]) < 0.5 * peak


# ---------------------------------------------------------------- Jinan


@pytest.fixture(scope="module")
def jinan() -> Scenario:
    return _load("jinan")


def test_jinan_phases_on_the_articles_dates_and_accepted_in_batches(jinan: Scenario) -> None:
    prog = prepare_programme(jinan, _calendar(jinan))
    assert prog.dates[1:3] == (dt.date(2016, 5, 19), dt.date(2016, 6, 30))  # 5月19日 方案, 6月30日 清单
    # 一次下放、分步承接: the fire review is delegated in June 2016 but accepted only in the second batch;
    # until then the city department exercises it.
    owner = [org.owner("cfire_review") for org in prog.orgs]
    zone = [set(org.zone_units()) for org in prog.orgs]
    assert [o in z for o, z in zip(owner, zone, strict=True)] == [False, False, False, True]
    assert owner[3] == "lpc"
    assert all(o in z for o, z in zip([org.owner("cplan_permit") for org in prog.orgs][2:], zone[2:], strict=True))


def test_jinan_pay_schedule_per_year(jinan: Scenario) -> None:
    """Base:performance in force each year: 8.4:1.6 before, 6:4 first, 4:6 within three years."""
    def in_force(day: dt.date) -> tuple[float, float]:
        now = [x for x in jinan.pay.shares if x.effective <= day][-1]
        return now.base, now.performance

    assert in_force(jinan.simulation.calendar.start) == (0.84, 0.16)
    assert [in_force(dt.date(y, 7, 1)) for y in (2016, 2017, 2018, 2019)] == [
        (0.84, 0.16), (0.6, 0.4), (0.5, 0.5), (0.4, 0.6)]
    end = _calendar(jinan).to_date(jinan.simulation.horizon_days - 1)
    assert end >= dt.date(2019, 12, 1) and in_force(end) == (0.4, 0.6)  # the timeline runs a year at 4:6


def test_jinan_payroll_follows_the_people_in_post(jinan: Scenario) -> None:
    """Without a pool or failed appraisals the payroll is each person's pay for their days in post."""
    from orgsim.timeline.pay import payroll

    prog, runs = _workforce_runs(jinan, 1)
    (stints,) = runs
    bounds = np.array([0.0, 250.0, 500.0])
    got = payroll(jinan.pay, stints, bounds, np.zeros(2))
    for k in range(2):
        want = sum(jinan.pay.annual_yuan[s.post[0]] / WORKING_DAYS_PER["year"]
                   * max(0.0, min(s.end, bounds[k + 1]) - max(s.start, bounds[k])) for s in stints)
        assert got[k] == pytest.approx(want)
    assert prog.starts[-1] <= 250.0  # the second year runs under the last phase's posts
    full = sum(jinan.pay.annual_yuan[c] for c, *_ in _scoped(jinan, prog)[-1])
    assert 0.95 * full < got[1] <= full  # few posts vacant (3 % attrition, 2-6 months to fill)


# ---------------------------------------------------------------- Yantai


@pytest.fixture(scope="module")
def yantai() -> Scenario:
    return _load("yantai")


def test_yantai_appraisal_fails_at_least_2_percent_a_year(yantai: Scenario) -> None:
    rate = yantai.workforce.elimination_per_year
    assert rate >= 0.02  # 年度末位淘汰率均不低于2%
    prog, runs = _workforce_runs(yantai, 60)
    appraised, failed = _failures(yantai, prog, runs)
    _assert_rate(failed, appraised, rate)


def test_yantai_pay_multiples_per_rank(yantai: Scenario) -> None:
    """+0.1 per rank gained, -0.2 per rank lost (奖少罚多): a failed appraisal costs a fifth of pay."""
    from orgsim.timeline.pay import pay_ratio, payroll

    pay = yantai.pay
    assert (pay.rank_gained_multiple, pay.rank_lost_multiple) == (0.1, -0.2)
    values = pay.annual_yuan.values()
    assert pay_ratio(pay) == pytest.approx(max(values) * 1.1 / (min(values) * 0.8))
    _, runs = _workforce_runs(yantai, 4)
    demoted = [s for stints in runs for s in stints if s.demoted < s.end]
    assert demoted, "no failed appraisal to check"
    for s in demoted[:20]:
        bounds = np.array([s.start, s.demoted, s.end])
        before, after = payroll(pay, [s], bounds, np.full(2, 0.3))
        per_day = pay.annual_yuan[s.post[0]] / WORKING_DAYS_PER["year"]
        assert before == pytest.approx(per_day * (s.demoted - s.start))
        # The lowered multiple, and no performance part after a failure (performance_paid_on_failure 0).
        assert after == pytest.approx(per_day * 0.8 * 0.7 * (s.end - s.demoted))
