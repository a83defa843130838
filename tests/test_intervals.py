"""Student's t without scipy: the quantile and distribution function against scipy's, and the intervals."""

from __future__ import annotations

import math
import subprocess
import sys
from decimal import Decimal, getcontext

import numpy as np
import pytest
from scipy.special import stdtr, stdtrit

from orgsim.intervals import confidence_interval, student_t_cdf, student_t_quantile

DFS = [*range(1, 60), 99, 100, 199, 500, 1000, 4999, 9999]
LEVELS = [0.6, 0.8, 0.9, 0.95, 0.975, 0.99, 0.995, 0.999, 0.9995]


@pytest.mark.parametrize("df", DFS)
def test_quantile_is_scipys(df: int) -> None:
    for p in LEVELS:
        ours, theirs = student_t_quantile(df, p), float(stdtrit(df, p))
        assert ours == pytest.approx(theirs, rel=1e-11), (df, p)
        assert student_t_quantile(df, 1 - p) == -ours
    assert student_t_quantile(df, 0.5) == 0.0


def _central_exact(t: Decimal, df: int) -> Decimal:
    """P(|T| <= t) in 60-digit arithmetic, for even df (the series of Abramowitz and Stegun 26.7.4)."""
    c2 = Decimal(df) / (df + t * t)
    term = total = Decimal(1)
    for k in range(1, df // 2):
        term *= c2 * (2 * k - 1) / (2 * k)
        total += term
    return t / (df + t * t).sqrt() * total


@pytest.mark.parametrize("df", [2, 4, 10, 40])
def test_quantile_solves_the_equation(df: int) -> None:
    """Near the centre too (where scipy's stdtrit is off by about 1e-9): F(t) - p is at rounding level."""
    getcontext().prec = 60
    for p in (0.5001, 0.51, 0.75, 0.975, 0.999):
        t = student_t_quantile(df, p)
        residual = Decimal("0.5") + _central_exact(Decimal(t), df) / 2 - Decimal(p)
        assert abs(residual) <= 4 * Decimal(math.ulp(p)), (df, p, residual)  # a few units in p's last place


@pytest.mark.parametrize("df", [1, 2, 3, 4, 7, 30, 1000])
def test_cdf_is_scipys(df: int) -> None:
    for t in (-40.0, -3.0, -1.0, -0.1, 0.0, 0.25, 1.0, 2.0, 5.0, 100.0):
        assert student_t_cdf(t, df) == pytest.approx(float(stdtr(df, t)), rel=1e-13, abs=1e-14), (df, t)


def test_bad_arguments() -> None:
    for df in (0, -1, 2.5):
        with pytest.raises(ValueError, match="degrees of freedom"):
            student_t_quantile(df, 0.9)  # type: ignore[arg-type]
    for p in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="p must be"):
            student_t_quantile(5, p)


def test_confidence_interval() -> None:
    x = np.random.default_rng(1).normal(10, 2, 12)
    half = float(stdtrit(11, 0.975)) * x.std(ddof=1) / math.sqrt(12)
    low, high = confidence_interval(x)
    assert low == pytest.approx(x.mean() - half, rel=1e-13) and high == pytest.approx(x.mean() + half, rel=1e-13)
    assert confidence_interval([1.0, math.nan, 3.0]) == confidence_interval([1.0, 3.0])
    assert all(math.isnan(v) for v in confidence_interval([1.0]))


@pytest.mark.slow  # a fresh interpreter
def test_simulating_does_not_load_scipy() -> None:
    code = ("import sys, orgsim.experiment, orgsim.batches, orgsim.sim.summary; "
            "from orgsim.intervals import confidence_interval; confidence_interval([1.0, 2.0, 4.0]); "
            "print(any(m == 'scipy' or m.startswith('scipy.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
