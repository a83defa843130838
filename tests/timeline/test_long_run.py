"""Long after the last phase, with every post filled, a timeline is the reformed organisation in steady state."""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys

import numpy as np
from scipy import stats

import orgsim
from orgsim.experiment import run_state
from orgsim.scenario import load_scenario

REPLICATIONS = 20


def _early_dated_tutorial():
    # Both phases in the first half of 2020; the years 2021 and 2022 lie wholly after the last change.
    s = load_scenario("scenarios/tutorial.yaml")
    reforms = [s.reforms[0].model_copy(update={"effective": dt.date(2020, 3, 2)}),
               s.reforms[1].model_copy(update={"effective": dt.date(2020, 6, 1)})]
    return s.model_copy(update={"reforms": reforms})


def _standard_error(ci95, n):
    """The standard error behind a 95 % Student-t interval of a mean of n replications."""
    return (ci95[1] - ci95[0]) / 2 / stats.t.ppf(0.975, n - 1)


def test_long_after_the_last_phase_timeline_lead_times_agree_with_compare_after():
    s = _early_dated_tutorial()
    assert s.workforce is None  # every post filled throughout
    result = orgsim.timeline(s, replications=REPLICATIONS, period="year", seed=7)
    after = run_state(s, "after", replications=REPLICATIONS, seed=7).lead_time()
    late = [p for p in result.periods if p["start"] in ("2021-01-01", "2022-01-01")]
    assert [p["phase"] for p in late] == ["2021", "2021"]
    se_after = _standard_error(after["ci95"], REPLICATIONS)
    for p in late:
        lead = p["lead_time_working_days"]
        se = _standard_error(lead["ci95"], REPLICATIONS)
        half = stats.t.ppf(0.995, REPLICATIONS - 1) * math.hypot(se, se_after)  # 99 % on the difference
        assert half < 0.1 * after["mean"], f"intervals too wide to test: +-{half:.3f}"
        assert abs(lead["mean"] - after["mean"]) <= half, (p["start"], lead, after)


def test_orgsim_timeline_at_the_top_level_returns_a_frame():
    s = _early_dated_tutorial()
    result = orgsim.timeline(s, replications=2, period="quarter")
    assert isinstance(result, orgsim.timeline.TimelineResult)
    frame = result.to_frame()
    assert len(frame) == len(result.periods) and frame["start"].iloc[0] == "2020-01-02"
    assert {"headcount", "lead_time_mean", "lead_time_p90", "payroll_yuan"} <= set(frame.columns)
    np.testing.assert_allclose(frame["lead_time_mean"].astype(float),
                               [np.nan if p["lead_time_working_days"]["mean"] is None
                                else p["lead_time_working_days"]["mean"] for p in result.periods])


def test_orgsim_timeline_is_lazy_and_callable_as_the_module():
    code = ("import sys, orgsim\n"
            "assert 'orgsim.timeline' not in sys.modules and 'orgsim.sim' not in sys.modules\n"
            "f = orgsim.timeline\n"
            "import orgsim.timeline.run\n"
            "print(callable(orgsim.timeline), orgsim.timeline is sys.modules['orgsim.timeline'],\n"
            "      'timeline' in dir(orgsim))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True", "True"]
