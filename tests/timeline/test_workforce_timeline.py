"""The workforce model and orgsim timeline: people conserved, rates as given, located errors, the CLI."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner
from scipy import stats

from orgsim.cli import main
from orgsim.sim.calendar import WorkingCalendar
from orgsim.sim.streams import RandomStreams, replication_seeds
from orgsim.timeline.programme import prepare_programme
from orgsim.timeline.run import timeline
from orgsim.timeline.workforce import posts_of, simulate_workforce

from factory import assert_people_conserved_per_unit, dated_tutorial, exp

EXP = exp(20)
_scenario = dated_tutorial


def _stints(s, seed):
    cal = WorkingCalendar.from_spec(s.simulation.calendar)
    prog = prepare_programme(s, cal)
    return prog, simulate_workforce(prog, s.workforce, RandomStreams(replication_seeds(seed, 1)[0]), cal, 8.0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_post_holds_two_people_and_nobody_holds_two_posts(seed):
    prog, stints = _stints(_scenario(), seed)
    people = [s.person for s in stints]
    assert len(people) == len(set(people))
    by_post: dict = {}
    for s in stints:
        by_post.setdefault(s.post, []).append((s.start, s.end))
    for spans in by_post.values():
        spans.sort()
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
    alive = set().union(*(posts_of(org) for org in prog.orgs))
    assert {s.post for s in stints} <= alive


@pytest.mark.parametrize("period", ["month", "quarter"])
def test_people_are_conserved_in_every_period_in_total(period):
    r = timeline(_scenario(), replications=3, period=period)
    rows = r.periods
    for a, b in zip(rows, rows[1:], strict=False):
        assert b["headcount"] == pytest.approx(a["headcount"] + a["hires"] - a["exits"], abs=1e-9)
        assert a["vacancies"] == pytest.approx(a["posts"] - a["headcount"], abs=1e-9)


def test_people_are_conserved_per_unit_with_moves_between_units():
    from orgsim.timeline.run import _in_post

    prog, stints = _stints(_scenario(), 7)
    units = [posts_of(org) for org in prog.orgs]
    assert_people_conserved_per_unit(prog, stints, units)
    assert sum(sum(1 for s in stints if _in_post(s, t)) for t in (0.0,)) == len(units[0])


def _binomial_ok(k: int, n: int, p: float) -> None:
    lo, hi = stats.binomtest(k, n).proportion_ci(0.99)
    assert n > 500 and lo <= p <= hi, f"{k}/{n} vs {p}"


def test_elimination_and_attrition_agree_with_their_inputs():
    s = _scenario(elimination_per_year=0.05, attrition_per_year=0.1, dismiss_after_failures=1, reappointments=[])
    failed = appraised = left = 0
    exposure = 0.0
    for seed in range(20):
        prog, stints = _stints(s, seed)
        cal = WorkingCalendar.from_spec(s.simulation.calendar)
        from orgsim.timeline.workforce import _appraisals

        for a in _appraisals(prog, cal, s.workforce.appraisal_month):
            here = [x for x in stints if x.start <= a < x.end or (x.end == a and x.cause == "eliminated")]
            appraised += len(here)
            failed += sum(1 for x in here if x.end == a and x.cause == "eliminated")
        left += sum(1 for x in stints if x.cause == "attrition")
        exposure += sum(min(x.end, prog.horizon_days) - x.start for x in stints)
    _binomial_ok(failed, appraised, 0.05)
    # Attrition: a Poisson count over the exposure (person-years) against the rate.
    years = exposure / 250.0
    lo, hi = stats.chi2.ppf(0.005, 2 * left) / 2, stats.chi2.ppf(0.995, 2 * left + 2) / 2
    assert lo <= 0.1 * years <= hi, f"{left} leavers over {years:.0f} person-years"


def test_same_seed_same_timeline_on_every_executor():
    s = _scenario()
    a = timeline(s, replications=3, period="quarter", seed=5).to_dict()
    b = timeline(s, replications=3, period="quarter", seed=5, executor="processes").to_dict()
    c = timeline(s, replications=3, period="quarter", seed=6).to_dict()
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    assert a != c


def test_same_seed_same_timeline_on_both_engines():
    s = _scenario()
    simpy = s.model_copy(update={"simulation": s.simulation.model_copy(update={"engine": "simpy"})})
    a = timeline(s, replications=2, period="quarter").to_dict()["periods"]
    b = timeline(simpy, replications=2, period="quarter").to_dict()["periods"]
    for x, y in zip(a, b, strict=True):
        assert x["lead_time_working_days"]["mean"] == y["lead_time_working_days"]["mean"]
        assert x["completed"] == y["completed"] and x["headcount"] == y["headcount"]


def test_json_periods_have_the_keys_the_issue_names_and_the_frame_its_rows(tmp_path):
    r = timeline(_scenario(), replications=2, period="quarter")
    d = r.to_dict()
    for p in d["periods"]:
        assert {"start", "posts", "headcount", "vacancies", "hires", "exits", "completed", "backlog",
                "lead_time_working_days", "payroll_yuan"} <= set(p)
        assert set(p["lead_time_working_days"]) == {"mean", "ci95", "p90"}
        dt.date.fromisoformat(p["start"])
    assert len(r.to_frame()) == len(d["periods"])
    assert all(p["payroll_yuan"] > 0 for p in d["periods"])


def _write(tmp_path, old: str, new: str):
    text = Path("scenarios/tutorial.yaml").read_text(encoding="utf-8")
    text = text.replace('  - phase: "2020"\n', '  - phase: "2020"\n    effective: 2020-06-01\n')
    assert old in text
    path = tmp_path / "s.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


@pytest.mark.parametrize("old,new,message", [
    ('    effective: 2020-06-01\n', '    effective: 2019-06-01\n', "reforms[0].effective: 2019-06-01 is not after"),
    ('  - phase: "2021"\n', '  - phase: "2021"\n    effective: 2020-03-01\n', "is not after the previous phase"),
    ('  - phase: "2021"\n', '  - phase: "2021"\n    effective: 2029-03-01\n', "is beyond the horizon"),
    ("simulation:\n", "workforce: {attrition_per_year: -0.1}\nsimulation:\n", "workforce.attrition_per_year"),
    ("simulation:\n", "workforce: {reappointments: [{phase: '2020', reserved_share: 1.2}]}\nsimulation:\n",
     "reserved_share"),
    ("simulation:\n", "pay: {annual_yuan: {officers: 1}, shares: [{effective: 2020-01-01, base: 0.6, "
     "performance: 0.6}]}\nsimulation:\n", "must add up to 1"),
])
def test_bad_input_is_a_located_error_exit_2_nothing_written(tmp_path, old, new, message):
    path = _write(tmp_path, old, new)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["timeline", str(path), "-r", "2", "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert message in res.output and str(path) in res.output and "Traceback" not in res.output
    assert not out.exists()


def test_a_later_phase_without_a_queue_for_a_step_in_flight_is_a_located_error(tmp_path):
    # From 2021 the planning and environment reviews are one step served by the planning officers:
    # no queue serves eia any more, yet applications filed before still need their environment step.
    text = Path("scenarios/tutorial.yaml").read_text(encoding="utf-8")
    text = text.replace('  - phase: "2020"\n', '  - phase: "2020"\n    effective: 2020-06-01\n')
    old = '  - phase: "2021"\n    reforms:\n      - op: parallelize\n        steps: [planning, environment]\n'
    assert old in text
    path = tmp_path / "s.yaml"
    path.write_text(text.replace(old, '  - phase: "2021"\n    effective: 2021-03-01\n    reforms:\n'
                                      '      - op: merge_steps\n        steps: [planning, environment]\n'
                                      '        into: review\n'), encoding="utf-8")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["timeline", str(path), "-r", "1", "--out", str(out)])
    assert res.exit_code == 2, res.output
    line = text.splitlines().index('  - phase: "2021"') + 2  # the effective line, 1-based
    assert f"{path}:{line}: reforms[1].effective: phase '2021'" in res.output, res.output
    assert "function 'eia'" in res.output and "step 'environment'" in res.output and "Traceback" not in res.output
    assert not out.exists()
    # Undated, the same reforms are a before/after comparison with nothing in flight: no error.
    plain = tmp_path / "plain.yaml"
    plain.write_text(path.read_text(encoding="utf-8").replace("    effective: 2021-03-01\n", "")
                     .replace("    effective: 2020-06-01\n", ""), encoding="utf-8")
    assert CliRunner().invoke(main, ["validate", str(plain)]).exit_code == 0


def test_cli_writes_json_with_periods(tmp_path):
    path = _write(tmp_path, "simulation:\n", "simulation:\n")
    res = CliRunner().invoke(main, ["timeline", str(path), "-r", "2", "--period", "year", "--json",
                                    "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["periods"] and data["periods"][0]["start"] == "2020-01-02"
    assert json.loads((tmp_path / "o" / "timeline.json").read_text(encoding="utf-8")) == data
    assert not math.isnan(data["periods"][1]["headcount"])


def test_the_timeline_table_speaks_the_language_asked_for(tmp_path):
    import re

    path = _write(tmp_path, "simulation:\n", "simulation:\n")  # the tutorial, its first phase dated
    english = CliRunner().invoke(main, ["timeline", str(path), "-r", "1", "--period", "year", "--lang", "en"])
    chinese = CliRunner().invoke(main, ["timeline", str(path), "-r", "1", "--period", "year", "--lang", "zh"])
    assert english.exit_code == chinese.exit_code == 0, chinese.output
    assert "people in post" in english.stdout and "在岗人数" in chinese.stdout
    # The same numbers in both: only the words change.
    numbers = [re.findall(r"\d[\d,.]*", out.stdout.split("\n", 1)[1]) for out in (english, chinese)]
    assert numbers[0] == numbers[1]
