"""Simulated values beside exact ones: M/M/c (Erlang C) and a Jackson network with rework.

    python benchmarks/theory_check.py

The same cases as tests/stats/test_theory.py, printed with 95% confidence
intervals across 20 replications, for the record.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from factory import exp, network_scenario  # noqa: E402

from orgsim.experiment import run_replications  # noqa: E402
from orgsim.theory import erlang_c_wait, mmc_sojourn  # noqa: E402


def _ci(values: list[float]) -> tuple[float, float]:
    x = np.asarray(values)
    half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return float(x.mean()), float(half)


def main() -> None:
    s = network_scenario([{"id": "desk", "servers": 3, "service": exp(1.0)}],
                         rate_per_day=2.4, horizon=6000, warmup=600, replications=20, seed=2024)
    mean, half = _ci([r.component_days["waiting"] for r in run_replications(s, "before")])
    print(f"M/M/3, lambda 2.4, mu 1: mean wait {mean:.4f} +- {half:.4f} days (95% CI, 20 reps); "
          f"Erlang C {erlang_c_wait(2.4, 1.0, 3):.4f}")

    lam, p, d = 1.0, 0.3, 2.0
    nodes = [{"id": "a", "servers": 2, "service": exp(0.6), "rework": p},
             {"id": "b", "servers": 1, "service": exp(0.5)}]
    s = network_scenario(nodes, rate_per_day=lam, horizon=6000, warmup=500, replications=20, seed=99,
                         resubmission_delay=exp(d))
    v = 1 / (1 - p)
    exact = v * mmc_sojourn(lam * v, 1 / 0.6, 2) + (v - 1) * d + mmc_sojourn(lam, 1 / 0.5, 1)
    mean, half = _ci([r.summary()["lead_working_mean"] for r in run_replications(s, "before")])
    print(f"Jackson, M/M/2 with 30% rework (2-day applicant delay) then M/M/1: mean sojourn "
          f"{mean:.4f} +- {half:.4f} days (95% CI, 20 reps); exact {exact:.4f}")


if __name__ == "__main__":
    main()
