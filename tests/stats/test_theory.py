"""The simulator against queueing theory, with tolerances derived from replications.

Each check runs R independent replications, builds a 99% Student-t interval
of the mean across them, and asserts (1) the interval is narrow enough to
have power (half-width under a stated share of the exact value) and (2) the
exact value lies inside it. Nothing is loosened until it passes: if a check
fails, the simulator or the theory is wrong.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from factory import exp, network_scenario
from scipy import stats

from orgsim.experiment import run_replications
from orgsim.model import build_org
from orgsim.sim.estimate import estimate_plan
from orgsim.sim.plan import compile_plan
from orgsim.theory import erlang_c, erlang_c_wait, mmc_sojourn


def _agrees(values: list[float], exact: float, power: float) -> tuple[float, float]:
    x = np.asarray(values)
    half = stats.t.ppf(0.995, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    assert half < power * exact, f"interval too wide to test: +-{half:.4f} around {x.mean():.4f}"
    assert abs(x.mean() - exact) <= half, f"simulated {x.mean():.4f} +- {half:.4f}, exact {exact:.4f}"
    return float(x.mean()), float(half)


def test_erlang_c_known_values():
    # Textbook: a = 2 Erlangs on 3 servers waits with probability 4/9.
    assert erlang_c(2.0, 1.0, 3) == pytest.approx(4 / 9, rel=1e-12)
    # M/M/1: P(wait) = rho, Wq = rho / (mu - lam).
    assert erlang_c(0.8, 1.0, 1) == pytest.approx(0.8, rel=1e-12)
    assert erlang_c_wait(0.8, 1.0, 1) == pytest.approx(4.0, rel=1e-12)
    assert erlang_c_wait(3.0, 1.0, 3) == math.inf


def _mean_wait(runs) -> list[float]:
    return [r.component_days["waiting"] for r in runs]


def test_mmc_desk_waits_as_erlang_c():
    # lambda = 2.4, mu = 1, c = 3: Wq = 1.0787 days (STYLE.md's reference case).
    s = network_scenario([{"id": "desk", "servers": 3, "service": exp(1.0)}],
                         rate_per_day=2.4, horizon=6000, warmup=600, replications=20, seed=2024)
    runs = run_replications(s, "before")
    _agrees(_mean_wait(runs), erlang_c_wait(2.4, 1.0, 3), power=0.10)


def test_mm1_sojourn():
    s = network_scenario([{"id": "desk", "servers": 1, "service": exp(1.0)}],
                         rate_per_day=0.7, horizon=8000, warmup=500, replications=20, seed=11)
    runs = run_replications(s, "before")
    _agrees([r.summary()["lead_working_mean"] for r in runs], mmc_sojourn(0.7, 1.0, 1), power=0.10)


def _jackson_rework_case(replications: int = 20):
    # Two M/M/c nodes in tandem; node a sends 30% of files back to the
    # applicant (exponential 2-day delay) who resubmits to node a.
    # Node a sees lam / (1 - p) arrivals. Exact mean sojourn:
    #   v (Wq_a + 1/mu_a) + (v - 1) D + Wq_b + 1/mu_b,  v = 1 / (1 - p).
    lam, p, d = 1.0, 0.3, 2.0
    nodes = [{"id": "a", "servers": 2, "service": exp(0.6), "rework": p},
             {"id": "b", "servers": 1, "service": exp(0.5)}]
    s = network_scenario(nodes, rate_per_day=lam, horizon=6000, warmup=500,
                         replications=replications, seed=99, resubmission_delay=exp(d))
    v = 1 / (1 - p)
    exact = v * mmc_sojourn(lam * v, 1 / 0.6, 2) + (v - 1) * d + mmc_sojourn(lam, 1 / 0.5, 1)
    return s, exact


def test_jackson_network_with_rework():
    s, exact = _jackson_rework_case()
    runs = run_replications(s, "before")
    _agrees([r.summary()["lead_working_mean"] for r in runs], exact, power=0.05)


def test_estimate_equals_erlang_c_on_mmc():
    s = network_scenario([{"id": "desk", "servers": 3, "service": exp(1.0)}], rate_per_day=2.4)
    est = estimate_plan(compile_plan(build_org(s), s))
    (pool,) = est.pools
    assert abs(pool.mean_wait_days - erlang_c_wait(2.4, 1.0, 3)) < 1e-9
    (flow,) = est.flows
    assert flow.exact
    assert abs(flow.mean_lead_time_days - mmc_sojourn(2.4, 1.0, 3)) < 1e-9
    assert est.caveats == ()


def test_estimate_equals_jackson_with_rework():
    s, exact = _jackson_rework_case(replications=2)
    est = estimate_plan(compile_plan(build_org(s), s))
    assert abs(est.mean_lead_time_days - exact) < 1e-9


def test_littles_law_in_every_run():
    # L = lambda W over the measurement window, in each replication.
    nodes = [{"id": "a", "servers": 2, "service": exp(0.6), "rework": 0.3},
             {"id": "b", "servers": 1, "service": exp(0.5)}]
    s = network_scenario(nodes, rate_per_day=1.0, horizon=5000, warmup=300, replications=4,
                         seed=5, resubmission_delay=exp(2.0))
    for run in run_replications(s, "before"):
        lam_w = run.arrival_rate_per_working_day * run.lead_working_days.mean()
        assert run.mean_in_system == pytest.approx(lam_w, rel=0.01)


@pytest.mark.slow
def test_jackson_network_with_rework_to_an_earlier_step():
    # The case: intake (2 officers, mu 3/day), review (2, mu 1.5/day; 25%
    # of reviews send the file back to intake, no resubmission delay), decision
    # (1, mu 4/day), 1.5 arrivals a day. Visits 4/3 at intake and review:
    # E[T] = 4/3 (T_intake + T_review) + T_decision = 2.5 days.
    from sim.test_routing_exact import jackson_scenario

    exact = (4 / 3) * (mmc_sojourn(2.0, 3.0, 2) + mmc_sojourn(2.0, 1.5, 2)) + mmc_sojourn(1.5, 4.0, 1)
    assert exact == pytest.approx(2.5, abs=1e-12)
    runs = run_replications(jackson_scenario(replications=24, horizon=12000.0), "before")
    _agrees([r.summary()["lead_working_mean"] for r in runs], exact, power=0.02)


def _two_types_one_desk(replications: int = 20):
    """Two project types, 1.6 and 0.8 a day, through one M/M/3 desk (mu = 1): the same service, so
    FIFO serves them alike and each type's mean wait is Erlang C's Wq(2.4, 1, 3), its sojourn Wq + 1."""
    s = network_scenario([{"id": "desk", "servers": 3, "service": exp(1.0)}], rate_per_day=1.6,
                         horizon=6000, warmup=600, replications=replications, seed=77)
    doc = s.model_dump(mode="json", exclude_none=True)
    first = doc["workload"]["project_types"][0]
    second = {**first, "id": "q", "name": "第二类项目", "arrivals": {"rate": 0.8, "per": "day"}}
    doc["workload"]["project_types"].append(second)
    import yaml

    from orgsim.scenario import parse_scenario

    return parse_scenario(yaml.safe_dump(doc, allow_unicode=True), "<two types>")


@pytest.mark.slow
def test_two_project_types_sharing_an_mmc_desk_each_wait_as_erlang_c():
    from orgsim.experiment import run_state

    s = _two_types_one_desk()
    state = run_state(s, "before")
    assert state.project_types() == ["p", "q"]
    wq = erlang_c_wait(2.4, 1.0, 3)
    for type_id, rate in (("p", 1.6), ("q", 0.8)):
        parts = [r.project_type(type_id) for r in state.runs]
        _agrees([p.time_split["waiting"] for p in parts], wq, power=0.15)
        _agrees([p.lead["working"].mean for p in parts], mmc_sojourn(2.4, 1.0, 3), power=0.10)
        # Arrivals split as the rates do (binomial share of the pooled count, 99.9%).
        share = sum(p.count for p in parts) / sum(r.completed for r in state.runs)
        n = sum(r.completed for r in state.runs)
        assert abs(share - rate / 2.4) <= 3.3 * math.sqrt(rate / 2.4 * (1 - rate / 2.4) / n)
