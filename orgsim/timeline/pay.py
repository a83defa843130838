"""Pay of the people in posts, computed from the workforce's stints after the run.

A person's pay a year is their post category's ``annual_yuan`` times their
pay multiple (1, plus ``rank_lost_multiple`` once they lost a rank after a
failed appraisal). It is split into base and performance by the share in
force (``shares``); someone who failed an appraisal gets
``performance_paid_on_failure`` of the performance part from then on. With a
fixed pool (增人不增额、减人不减额) the payroll is the pool whatever the
heads, so pay per head rises when heads fall. Money is counted per working
day (250 a year).
"""

from __future__ import annotations

import math

import numpy as np

from orgsim.scenario.schema import WORKING_DAYS_PER, Pay
from orgsim.timeline.workforce import Stint

__all__ = ["payroll", "pay_ratio"]


def _overlap(a: float, b: float, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.clip(np.minimum(b, hi) - np.maximum(a, lo), 0.0, None)


def payroll(pay: Pay, stints: list[Stint], bounds: np.ndarray, performance_share: np.ndarray) -> np.ndarray:
    """Yuan paid in each period ``[bounds[k], bounds[k + 1])``; ``performance_share`` per period."""
    lo, hi = bounds[:-1], bounds[1:]
    per_day: dict[str, float] = {c: v / WORKING_DAYS_PER["year"] for c, v in pay.annual_yuan.items()}
    out = np.zeros(len(lo))
    if pay.fixed_pool_yuan_per_year is not None:
        return pay.fixed_pool_yuan_per_year / WORKING_DAYS_PER["year"] * (hi - lo)
    keep = 1.0 - performance_share * (1.0 - pay.performance_paid_on_failure)
    for s in stints:
        rate = per_day.get(s.post[0])
        if rate is None:
            continue
        full = _overlap(s.start, min(s.end, s.demoted), lo, hi)
        out += rate * full
        if s.demoted < s.end:
            lowered = _overlap(s.demoted, s.end, lo, hi)
            out += rate * (1.0 + pay.rank_lost_multiple) * keep * lowered
    return out


def pay_ratio(pay: Pay) -> float:
    """Highest to lowest pay of a post a year (the multiple of a lost rank included)."""
    values = list(pay.annual_yuan.values())
    low = min(values) * (1.0 + pay.rank_lost_multiple)
    return max(values) * (1.0 + pay.rank_gained_multiple) / low if low > 0 else math.inf
