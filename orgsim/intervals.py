"""Confidence intervals of a mean across replications: Student's t, without scipy.

Replications are few and whole, so the degrees of freedom are a whole number,
and Student's t distribution function has a closed form for them
(Abramowitz and Stegun 26.7.3-4): a finite series in the cosine of
``atan(t / sqrt(df))``. :func:`student_t_quantile` inverts it by Newton's
method from the Cornish-Fisher start, to within a few units in the last place
of scipy's ``stdtrit`` (tested). Importing scipy for this one number would
cost every simulating command about a quarter of a second and 11 MB.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from statistics import NormalDist

import numpy as np

__all__ = ["student_t_quantile", "student_t_cdf", "confidence_interval"]


def student_t_cdf(t: float, df: int) -> float:
    """P(T <= t) for Student's t with ``df`` (a positive whole number) degrees of freedom."""
    if t < 0:
        return 1.0 - student_t_cdf(-t, df)
    return 0.5 + 0.5 * _central(t, df)


def _central(t: float, df: int) -> float:
    """P(|T| <= t), t >= 0, as the finite series of Abramowitz and Stegun 26.7.3 (odd df) and 26.7.4 (even).

    With theta = atan(t / sqrt(df)): cos(theta)^2 = df / (df + t^2). The series
    is summed innermost first (Horner), so rounding does not grow with df.
    """
    c2 = df / (df + t * t)
    if df % 2:  # odd: (2/pi) (theta + sin cos (1 + 2/3 c^2 + 2*4/(3*5) c^4 + ... up to c^(df-3)))
        total = 1.0
        for k in range((df - 1) // 2 - 1, 0, -1):
            total = 1.0 + c2 * (2 * k) / (2 * k + 1) * total
        sin_cos = t * math.sqrt(df) / (df + t * t)
        return 2.0 / math.pi * (math.atan(t / math.sqrt(df)) + (sin_cos * total if df > 1 else 0.0))
    # even: sin (1 + 1/2 c^2 + 1*3/(2*4) c^4 + ... up to c^(df-2))
    total = 1.0
    for k in range(df // 2 - 1, 0, -1):
        total = 1.0 + c2 * (2 * k - 1) / (2 * k) * total
    return t / math.sqrt(df + t * t) * total


def _density(t: float, df: int) -> float:
    log_norm = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    return math.exp(log_norm - (df + 1) / 2 * math.log1p(t * t / df))


def student_t_quantile(df: int, p: float) -> float:
    """The ``p``-quantile of Student's t with ``df`` (a positive whole number) degrees of freedom."""
    if int(df) != df or df < 1:
        raise ValueError(f"degrees of freedom must be a positive whole number, got {df!r}")
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p!r}")
    df = int(df)
    if p < 0.5:
        return -student_t_quantile(df, 1.0 - p)
    if p == 0.5:
        return 0.0
    if df == 1:
        return math.tan(math.pi * (p - 0.5))
    if df == 2:
        return (2.0 * p - 1.0) / math.sqrt(2.0 * p * (1.0 - p))
    z = NormalDist().inv_cdf(p)
    # Cornish-Fisher expansion: within about 1e-3 for df >= 3 at the levels of confidence intervals.
    t = z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
    for _ in range(50):
        step = (student_t_cdf(t, df) - p) / _density(t, df)
        t -= step
        # Newton converges quadratically: once a step is this small, t is as good as the
        # rounding of the distribution function allows, and further steps only dither.
        if abs(step) <= 1e-13 * abs(t):
            break
    return t


def confidence_interval(values: Iterable[float], level: float = 0.95) -> tuple[float, float]:
    """Student-t confidence interval of the mean of ``values`` (NaN when fewer than 2)."""
    x = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
    if len(x) < 2:
        return (math.nan, math.nan)
    half = student_t_quantile(len(x) - 1, 0.5 + level / 2) * x.std(ddof=1) / math.sqrt(len(x))
    return (float(x.mean() - half), float(x.mean() + half))
