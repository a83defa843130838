"""A queue loaded at exactly its capacity is unstable everywhere: run, compare, estimate and sweeps.

Offered load is computed as a sum of products; at exactly 100% it may come
out a few units in the last place below 1 (here 0.9999999999999999: 0.7
applications a day, 3 officers, 3 / 0.7 days a case). Such a queue grows
without bound, so orgsim treats a load within a relative 1e-9 of capacity
as at capacity (orgsim.sim.plan.CRITICAL_LOAD_RTOL).
"""

from __future__ import annotations

import json
import math

from click.testing import CliRunner

from orgsim.cli import main
from orgsim.experiment import compare, run_state
from orgsim.model import build_org
from orgsim.sim.estimate import estimate_plan
from orgsim.sim.plan import CRITICAL_LOAD_RTOL, at_capacity, compile_plan
from factory import exp, network_scenario

RATE, SERVERS = 0.7, 3
MEAN = SERVERS / RATE  # 4.285714285714286: exactly at capacity in real numbers


def _critical(**kw):
    return network_scenario([{"id": "desk", "servers": SERVERS, "service": exp(MEAN)}],
                            rate_per_day=RATE, horizon=300, warmup=30, replications=2, **kw)


def test_the_load_computes_just_below_one_and_counts_as_capacity() -> None:
    s = _critical()
    (load,) = compile_plan(build_org(s), s).offered_load().values()
    assert load < 1.0  # the rounding the issue found
    assert at_capacity(load)
    assert at_capacity(1.0) and at_capacity(1.0 - CRITICAL_LOAD_RTOL)
    assert not at_capacity(1.0 - 10 * CRITICAL_LOAD_RTOL) and not at_capacity(0.99)


def test_run_and_compare_call_it_unstable() -> None:
    s = _critical()
    state = run_state(s, "before")
    assert not state.stable
    assert any("u_desk/desk is loaded at 100% of capacity" in why for why in state.instability())
    assert state.lead_time()["mean"] is None
    doc = compare(s).to_dict()
    assert doc["before"]["stable"] is False and doc["after"]["stable"] is False
    assert doc["difference"]["lead_time_working_days"]["mean"] == {"mean": None, "ci95": None}


def test_estimate_says_unstable_and_prints_no_huge_number(tmp_path) -> None:
    s = _critical()
    est = estimate_plan(compile_plan(build_org(s), s))
    assert not est.stable
    assert math.isinf(est.mean_lead_time_days)
    doc = est.to_dict()
    assert doc["stable"] is False and doc["mean_lead_time_working_days"] is None
    assert doc["project_types"][0]["mean_lead_time_days"] is None
    path = tmp_path / "critical.yaml"
    import yaml

    path.write_text(yaml.safe_dump(s.model_dump(mode="json", exclude_none=True), allow_unicode=True),
                    encoding="utf-8")
    text = CliRunner().invoke(main, ["estimate", str(path), "--state", "before"])
    assert text.exit_code == 0, text.output
    assert "mean lead time: unstable" in text.stdout
    # No number of more than seven digits anywhere (the issue saw 4503599627370495).
    assert not any(len(word.split(".")[0].strip("%,")) > 7 and word[:1].isdigit() for word in text.stdout.split())
    out = CliRunner().invoke(main, ["estimate", str(path), "--state", "before", "--json"])
    assert json.loads(out.stdout)["before"]["stable"] is False


def test_a_sweep_point_at_capacity_is_unstable(tmp_path) -> None:
    from orgsim.sweep import sweep

    s = _critical()
    table = sweep(s, {"functions[0].officers": [SERVERS, SERVERS + 1]}, replications=2, seed=3)
    stable = table[table["state"] == "before"].groupby("point")["stable"].max()
    assert stable.tolist() == [0.0, 1.0]
