"""Fit a time distribution to observed durations: the families orgsim supports, chosen by AIC.

Candidates (:mod:`orgsim.distributions`), each by maximum likelihood:
exponential (1 parameter), gamma and lognormal (mean and cv; 2), uniform
(low, high; 2) and triangular (low, mode, high; 3). The family with the
smallest AIC = 2k - 2 log L wins. Durations that are all equal (to 1e-6
relative) are ``deterministic``; lognormal and gamma need every duration
above zero and are left out otherwise. The goodness of fit is the
Kolmogorov-Smirnov distance between the durations and the fitted
distribution; the mean's confidence interval is Student's t on the
durations (it does not depend on the family).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Fit", "fit_durations", "FAMILIES"]

FAMILIES = ("exponential", "gamma", "lognormal", "uniform", "triangular")
_PARAMETERS = {"exponential": 1, "gamma": 2, "lognormal": 2, "uniform": 2, "triangular": 3}


@dataclass(frozen=True)
class Fit:
    """Durations (working days) and the distribution fitted to them."""

    n: int
    family: str
    #: The scenario's distribution, in ``unit`` (hours below a working day's mean, days otherwise).
    distribution: dict[str, Any]
    mean_days: float
    sd_days: float
    ks: float
    aic: dict[str, float] = field(default_factory=dict)

    def mean_ci(self, level: float = 0.95) -> tuple[float, float]:
        """Confidence interval of the mean duration (working days), Student's t."""
        from scipy import stats

        if self.n < 2:
            return (math.nan, math.nan)
        half = stats.t.ppf(0.5 + level / 2, self.n - 1) * self.sd_days / math.sqrt(self.n)
        return (self.mean_days - half, self.mean_days + half)

    def cdf(self, x_days: np.ndarray, hours_per_day: float) -> np.ndarray:
        """The fitted distribution's CDF at ``x_days`` (working days)."""
        frozen, scale = _frozen(self.distribution, hours_per_day)
        if frozen is None:
            return (np.asarray(x_days) >= self.mean_days).astype(float)
        return frozen.cdf(np.asarray(x_days) / scale)

    def describe(self) -> str:
        d = self.distribution
        params = ", ".join(f"{k} {_short(v)}" for k, v in d.items() if k not in ("dist", "unit"))
        return f"{d['dist']} {params} {d['unit']}"


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _frozen(d: dict[str, Any], hours_per_day: float) -> tuple[Any, float]:
    """A scipy distribution of ``d`` in its own unit, and working days per unit."""
    from scipy import stats

    scale = 1.0 / hours_per_day if d["unit"] == "hours" else 1.0
    kind = d["dist"]
    if kind == "exponential":
        return stats.expon(scale=d["mean"]), scale
    if kind == "gamma":
        shape = 1.0 / d["cv"] ** 2
        return stats.gamma(shape, scale=d["mean"] / shape), scale
    if kind == "lognormal":
        s2 = math.log1p(d["cv"] ** 2)
        return stats.lognorm(math.sqrt(s2), scale=math.exp(math.log(d["mean"]) - s2 / 2)), scale
    if kind == "uniform":
        return stats.uniform(d["low"], d["high"] - d["low"]), scale
    if kind == "triangular":
        width = d["high"] - d["low"]
        return stats.triang((d["mode"] - d["low"]) / width, loc=d["low"], scale=width), scale
    return None, scale


def _round(x: float) -> float:
    return float(f"{x:.6g}")


def _candidates(x: np.ndarray) -> dict[str, tuple[float, dict[str, float]]]:
    """Log-likelihood and parameters (in the unit of ``x``) of each family that can be fitted."""
    from scipy import stats

    n = len(x)
    mean = float(x.mean())
    out: dict[str, tuple[float, dict[str, float]]] = {}
    if mean > 0:
        out["exponential"] = (-n * (math.log(mean) + 1.0), {"mean": mean})
    low, high = float(x.min()), float(x.max())
    if high > low:
        out["uniform"] = (-n * math.log(high - low), {"low": low, "high": high})
    if low > 0 and n >= 3:
        logs = np.log(x)
        mu, sigma = float(logs.mean()), float(logs.std())
        if sigma > 0:
            ll = float(stats.lognorm.logpdf(x, sigma, scale=math.exp(mu)).sum())
            out["lognormal"] = (ll, {"mean": math.exp(mu + sigma**2 / 2), "cv": math.sqrt(math.expm1(sigma**2))})
            shape, _, scale = stats.gamma.fit(x, floc=0)
            ll = float(stats.gamma.logpdf(x, shape, scale=scale).sum())
            out["gamma"] = (ll, {"mean": shape * scale, "cv": 1.0 / math.sqrt(shape)})
    if high > low and n >= 5:
        c, loc, scale = stats.triang.fit(x)
        if loc >= 0 and scale > 0 and 0 <= c <= 1:
            ll = float(stats.triang.logpdf(x, c, loc=loc, scale=scale).sum())
            if math.isfinite(ll):
                out["triangular"] = (ll, {"low": loc, "mode": loc + c * scale, "high": loc + scale})
    return out


def fit_durations(x_days: np.ndarray, hours_per_day: float) -> Fit:
    """The distribution that fits ``x_days`` (working days, >= 0) best by AIC."""
    from scipy import stats

    x_days = np.asarray(x_days, dtype=float)
    n = len(x_days)
    mean = float(x_days.mean())
    sd = float(x_days.std(ddof=1)) if n > 1 else 0.0
    unit = "hours" if mean < 1.0 else "days"
    x = x_days * hours_per_day if unit == "hours" else x_days
    if n == 1 or float(np.ptp(x_days)) <= 1e-6 * max(1.0, abs(mean)):
        value = _round(float(x.mean()))
        return Fit(n, "deterministic", {"dist": "deterministic", "value": value, "unit": unit}, mean, sd, 0.0)
    candidates = _candidates(x)
    aic = {name: 2 * _PARAMETERS[name] - 2 * ll for name, (ll, _) in candidates.items()}
    family = min(aic, key=lambda k: (aic[k], FAMILIES.index(k)))
    params = {k: _round(v) for k, v in candidates[family][1].items()}
    if family == "triangular":  # rounding must keep low <= mode <= high
        params["mode"] = min(max(params["mode"], params["low"]), params["high"])
    distribution = {"dist": family, **params, "unit": unit}
    frozen, scale = _frozen(distribution, hours_per_day)
    ks = float(stats.kstest(x_days / scale, frozen.cdf).statistic)
    return Fit(n, family, distribution, mean, sd, ks, aic)
