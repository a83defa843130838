"""workforce.scope: which units' posts the workforce and pay rules cover, and what the timeline counts.

The tutorial with dated phases: in 2020 the city's construction permit (3 officer posts) is devolved
into the zone (its posts enter the zone's scope) and social affairs (11 officer posts) are stripped to
a district sub-district (they leave it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from orgsim.cli import main
from orgsim.model.build import build_org
from orgsim.scenario.schema import JURISDICTIONS, HandoffSide, Pay, Workforce
from orgsim.sim.calendar import WorkingCalendar
from orgsim.sim.streams import RandomStreams, replication_seeds
from orgsim.timeline.programme import prepare_programme
from orgsim.timeline.run import timeline
from orgsim.timeline.workforce import posts_in_scope, posts_of, scope_side, simulate_workforce, units_in_scope

from factory import assert_people_conserved_per_unit, dated_tutorial, exp


EXP = exp(20)
_scenario = dated_tutorial

ZONE = HandoffSide(jurisdictions=["zone"])
DEVOLVED = ("officers", "construction_permit", "", 0)
STRIPPED = ("officers", "education", "", 0)


def _scoped(scope: HandoffSide | None = ZONE, **workforce):
    s = _scenario(**workforce)
    return s.model_copy(update={"workforce": s.workforce.model_copy(update={"scope": scope})})


def _run(s, seed: int):
    cal = WorkingCalendar.from_spec(s.simulation.calendar)
    prog = prepare_programme(s, cal)
    posts = [posts_of(org) for org in prog.orgs]
    scoped = posts_in_scope(posts, units_in_scope(prog, scope_side(s)))
    stints = simulate_workforce(prog, s.workforce, RandomStreams(replication_seeds(seed, 1)[0]), cal, 8.0,
                                posts=posts, scoped=scoped)
    return prog, posts, scoped, stints


def test_without_a_scope_every_unit_is_covered_as_with_every_jurisdiction():
    every = _scoped(HandoffSide(jurisdictions=list(JURISDICTIONS)))
    assert timeline(_scoped(None), replications=2).to_dict() == timeline(every, replications=2).to_dict()
    # and the zone alone counts fewer posts than that
    assert timeline(_scoped(), replications=2).periods[0]["posts"] < timeline(every, replications=2).periods[0]["posts"]


def test_the_zone_scope_counts_the_zone_governments_posts_and_pay():
    s = _scoped(attrition_per_year=0.0, elimination_per_year=0.0)
    base = build_org(s)
    zone = [u for u in base.units() if base.graph.nodes[u]["jurisdiction"] == "zone"]
    staff = {c: sum(base.staff_by_category(u)[c] for u in zone) for c in ("leaders", "frontline", "support")}
    r = timeline(s, replications=2)
    first = r.periods[0]
    assert first["posts"] == first["headcount"] == sum(staff.values()) == sum(base.headcount(u) for u in zone)
    assert first["posts"] < sum(base.headcount(u) for u in base.units())
    # Pay of the zone's staff only: nobody changes in the first month without attrition or appraisal.
    pay = s.pay.annual_yuan
    days = r.periods[1]["start_working_day"] - first["start_working_day"]
    per_year = (staff["leaders"] * pay["leaders"] + staff["frontline"] * pay["officers"]
                + staff["support"] * pay["support"])
    assert first["payroll_yuan"] == pytest.approx(per_year / 250 * days)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_posts_outside_are_held_throughout_by_experienced_staff_without_draws(seed):
    s = _scoped(initial_fill=0.5)
    prog, posts, scoped, stints = _run(s, seed)
    ends = (*prog.starts[1:], prog.horizon_days)
    outside = [x for x in stints if not x.in_scope]
    assert outside
    for x in outside:
        p = int(np.searchsorted(prog.starts, x.start, side="right") - 1)
        assert x.start == prog.starts[p] and x.hired == -np.inf and x.cause == "" and x.demoted == np.inf
        covered = [q for q in range(prog.n_phases) if prog.starts[q] >= x.start and ends[q] <= x.end]
        assert covered and all(x.post in posts[q] and x.post not in scoped[q] for q in covered)
    for x in stints:
        if x.in_scope:
            p = int(np.searchsorted(prog.starts, x.start, side="right") - 1)
            assert x.post in scoped[p]
    # Out-of-scope posts take no draws: the stints in scope are those of a run where the other posts do not
    # exist at all.
    alone = [{post: u for post, u in phase.items()} for phase in scoped]
    solo = simulate_workforce(prog, s.workforce, RandomStreams(replication_seeds(seed, 1)[0]),
                              WorkingCalendar.from_spec(s.simulation.calendar), 8.0, posts=alone, scoped=alone)
    # (there, a post leaving the scope no longer exists: it is abolished)
    cause = {"left_scope": "post_abolished"}
    key = [(x.post, x.start, x.end, x.hired, cause.get(x.cause, x.cause), x.demoted) for x in stints if x.in_scope]
    assert key == [(x.post, x.start, x.end, x.hired, x.cause, x.demoted) for x in solo]


def test_a_post_entering_the_scope_starts_vacant_and_one_leaving_it_ends_its_stint():
    s = _scoped()
    prog, posts, scoped, stints = _run(s, 5)
    t = prog.starts[1]
    assert DEVOLVED in posts[0] and DEVOLVED not in scoped[0] and DEVOLVED in scoped[1]
    assert STRIPPED in scoped[0] and STRIPPED in posts[1] and STRIPPED not in scoped[1]
    devolved = sorted((x for x in stints if x.post == DEVOLVED), key=lambda x: x.start)
    assert not devolved[0].in_scope and devolved[0].end == t
    assert devolved[1].in_scope and devolved[1].start > t and devolved[1].hired == devolved[1].start  # vacant, hired
    stripped = sorted((x for x in stints if x.post == STRIPPED), key=lambda x: x.start)
    leaving = [x for x in stripped if x.in_scope and x.end == t]
    assert len(leaving) == 1 and leaving[0].cause == "left_scope"
    assert [x.in_scope for x in stripped if x.start >= t] == [False]


def test_people_are_conserved_per_unit_in_scope_with_posts_entering_and_leaving():
    s = _scoped()
    prog, posts, scoped, every = _run(s, 7)
    stints = [x for x in every if x.in_scope]
    starts = np.array(prog.starts)

    def phase(t, before=True):
        return int(np.searchsorted(starts, t - 1e-9 if before and t > 0 else t, side="right") - 1)

    assert_people_conserved_per_unit(prog, stints, scoped)
    bounds = sorted({0.0, *prog.starts, 150.0, 300.0, 500.0, prog.horizon_days - 1})
    entered = left = 0
    for a, b in zip(bounds, bounds[1:], strict=False):
        entered += sum(1 for x in stints if x.post[1] == "construction_permit" and x.hired == x.start
                       and a <= x.start < b)
        left += sum(1 for x in stints if x.cause == "left_scope" and a <= x.end < b)
    held = sum(1 for x in stints if x.post[1] in ("education", "civil_affairs") and x.start < prog.starts[1] <= x.end)
    assert entered >= 3 and left == held > 0  # the devolved permit's 3 posts hired; social affairs' officers left
    # Nobody outside the scope is ever in a count.
    assert all(x.post in scoped[phase(x.start, before=False)] for x in stints)


@pytest.mark.parametrize("period", ["month", "quarter"])
def test_the_timeline_conserves_people_in_scope_in_total(period):
    r = timeline(_scoped(), replications=3, period=period)
    rows = r.periods
    still = timeline(_scoped(attrition_per_year=0.0, elimination_per_year=0.0), replications=3, period=period)
    # every social-affairs officer is in post when the function is stripped (nobody leaves before)
    assert sum(p["exits_by_cause"]["left_scope"] for p in still.periods) == 11
    assert 0 < sum(p["exits_by_cause"]["left_scope"] for p in rows) <= 11
    for a, b in zip(rows, rows[1:], strict=False):
        assert b["headcount"] == pytest.approx(a["headcount"] + a["hires"] - a["exits"], abs=1e-9)
        assert a["vacancies"] == pytest.approx(a["posts"] - a["headcount"], abs=1e-9)
        assert a["vacancies"] >= 0


def test_queues_outside_the_scope_serve_at_full_strength_while_the_zones_wait():
    # Nobody in the zone's posts at the start, filled after a lag; the city's permit officers are there.
    s = _scoped(initial_fill=0.0, replacement_lag={"dist": "uniform", "low": 40, "high": 60, "unit": "days"},
                attrition_per_year=0.0, elimination_per_year=0.0)
    r = timeline(s, replications=2)
    first = r.periods[0]
    assert first["headcount"] == 0 and first["vacancies"] == first["posts"] > 0
    desks = first["officers_at_desks"]
    cal = WorkingCalendar.from_spec(s.simulation.calendar)
    plan = prepare_programme(s, cal).plans[0]
    city = [k for k, pool in plan.pools.items() if pool.unit == "city_housing"]  # its permit officers and leaders
    assert len(city) == 3 and all(desks[k] == plan.pools[k].servers > 0 for k in city)
    assert all(v == 0 for k, v in desks.items() if k not in city)
    assert first["payroll_yuan"] == 0  # nobody in scope is paid yet; the city's officers are not counted


def test_pay_with_a_scope_excludes_the_posts_outside():
    s = _scoped(attrition_per_year=0.0, elimination_per_year=0.0)
    fixed = s.model_copy(update={"pay": Pay(annual_yuan={"officers": 100000}, fixed_pool_yuan_per_year=1e7)})
    r = timeline(fixed, replications=2)
    first = r.periods[0]
    assert first["payroll_per_head_yuan"] == pytest.approx(first["payroll_yuan"] / first["headcount"])


def _write(tmp_path: Path, scope: str) -> Path:
    text = Path("scenarios/tutorial.yaml").read_text(encoding="utf-8")
    text = text.replace('  - phase: "2020"\n', '  - phase: "2020"\n    effective: 2020-06-01\n')
    path = tmp_path / "s.yaml"
    path.write_text(text.replace("simulation:\n", f"workforce:\n  scope: {scope}\nsimulation:\n"), encoding="utf-8")
    return path


@pytest.mark.parametrize("scope,message", [
    ("{units: [committee, comittee]}", "workforce.scope.units[1]: unknown unit 'comittee'"),
    ("{jurisdictions: [zones]}", "workforce.scope.jurisdictions[0]"),
    ("{}", "workforce.scope"),
])
def test_an_unknown_unit_or_jurisdiction_in_the_scope_is_a_located_error(tmp_path, scope, message):
    path = _write(tmp_path, scope)
    out = tmp_path / "out"
    for command in (["timeline", str(path), "-r", "2", "--out", str(out)], ["validate", str(path)]):
        res = CliRunner().invoke(main, command)
        assert res.exit_code == 2, res.output
        assert message in res.output and f"{path}:{_line(path, 'scope:')}" in res.output, res.output
        assert "Traceback" not in res.output
    assert not out.exists()


def _line(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def test_a_scope_of_units_covers_those_below_them_and_units_merged_from_them():
    s = _scoped(HandoffSide(units=["planning", "land"]))
    cal = WorkingCalendar.from_spec(s.simulation.calendar)
    prog = prepare_programme(s, cal)
    inside = units_in_scope(prog, scope_side(s))
    assert inside[0] == {"planning", "land"}
    assert "lpc" in inside[1]  # land, planning and construction merged: it came from a unit in scope
    assert "construction" not in inside[0] and "committee" not in inside[1]
    whole = _scoped(HandoffSide(units=["committee"]))
    assert units_in_scope(prog, scope_side(whole))[0] == {u for u in build_org(s).units()
                                                          if build_org(s).graph.nodes[u]["jurisdiction"] == "zone"}


def test_workforce_scope_only_is_a_valid_section():
    assert Workforce(scope={"units": ["a"]}).scope == HandoffSide(units=["a"])
    assert Workforce().scope is None
