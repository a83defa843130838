"""Time distributions used in scenario files.

Every distribution states the unit of its numbers (``minutes``, ``hours``,
``days`` or ``weeks`` of *working* time). The engine works in working days;
:meth:`Distribution.draw` converts with the scenario's hours per day.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    import numpy as np

# numpy is imported inside the methods that compute with it: the scenario
# format (and so `orgsim validate`) uses these models without drawing.

__all__ = [
    "TimeUnit",
    "Exponential",
    "Deterministic",
    "Uniform",
    "Triangular",
    "Lognormal",
    "Gamma",
    "Empirical",
    "Distribution",
    "days_per_unit",
]

TimeUnit = Literal["minutes", "hours", "days", "weeks"]

#: A working week has five working days.
WORKING_DAYS_PER_WEEK = 5.0

#: Every time in a distribution is 0 or in [MIN_TIME, MAX_TIME] of its unit: a
#: smaller positive time (5e-324) overflows the rates computed from it, and a
#: longer one is no working time of an approval. Every number must be finite.
MIN_TIME = 1e-6
MAX_TIME = 1e6
#: Coefficients of variation in [MIN_CV, MAX_CV]: beyond them the gamma shape
#: (1 / cv**2) and the lognormal's sigma overflow.
MIN_CV = 1e-3
MAX_CV = 100.0
#: Weights of an empirical distribution are at most this (their sum must stay finite).
MAX_WEIGHT = 1e12


def _time(value: float) -> float:
    if 0 < value < MIN_TIME:
        raise ValueError(f"a time is 0 or at least {MIN_TIME:g} of its unit")
    return value


#: A time in the distribution's unit: 0, or between MIN_TIME and MAX_TIME.
Time = Annotated[float, Field(ge=0, le=MAX_TIME), AfterValidator(_time)]
#: A positive time: between MIN_TIME and MAX_TIME.
PositiveTime = Annotated[float, Field(ge=MIN_TIME, le=MAX_TIME)]
CV = Annotated[float, Field(ge=MIN_CV, le=MAX_CV, description="Standard deviation divided by the mean.")]


def days_per_unit(unit: TimeUnit, hours_per_day: float) -> float:
    """Working days in one ``unit`` of working time."""
    if unit == "minutes":
        return 1.0 / (60.0 * hours_per_day)
    if unit == "hours":
        return 1.0 / hours_per_day
    if unit == "days":
        return 1.0
    return WORKING_DAYS_PER_WEEK


class _Dist(BaseModel):
    # allow_inf_nan=False: .inf and .nan are refused at load, with their line.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    unit: TimeUnit = Field(description="Unit of working time the numbers are in.")

    # The three methods below work in the distribution's own unit; callers
    # scale with days_per_unit().
    def _mean(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def _variance(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def mean_days(self, hours_per_day: float) -> float:
        """Mean in working days."""
        return self._mean() * days_per_unit(self.unit, hours_per_day)

    def scv(self) -> float:
        """Squared coefficient of variation (1 for exponential, 0 for fixed)."""
        m = self._mean()
        return self._variance() / (m * m) if m > 0 else 0.0

    def draw(self, rng: np.random.Generator, size: int, hours_per_day: float) -> np.ndarray:
        """``size`` samples in working days."""
        return self._draw(rng, size) * days_per_unit(self.unit, hours_per_day)

    def scaled(self, factor: float) -> Distribution:
        """The same shape with every time multiplied by ``factor``."""
        raise NotImplementedError  # pragma: no cover


class Exponential(_Dist):
    dist: Literal["exponential"]
    mean: PositiveTime

    def _mean(self) -> float:
        return self.mean

    def _variance(self) -> float:
        return self.mean**2

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean, size)

    def scaled(self, factor: float) -> Distribution:
        return self.model_copy(update={"mean": self.mean * factor})


class Deterministic(_Dist):
    dist: Literal["deterministic"]
    value: Time

    def _mean(self) -> float:
        return self.value

    def _variance(self) -> float:
        return 0.0

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        import numpy as np

        return np.full(size, self.value)

    def scaled(self, factor: float) -> Distribution:
        return self.model_copy(update={"value": self.value * factor})


class Uniform(_Dist):
    dist: Literal["uniform"]
    low: Time
    high: Time

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        return self

    def _mean(self) -> float:
        return (self.low + self.high) / 2

    def _variance(self) -> float:
        return (self.high - self.low) ** 2 / 12

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, size)

    def scaled(self, factor: float) -> Distribution:
        return self.model_copy(update={"low": self.low * factor, "high": self.high * factor})


class Triangular(_Dist):
    dist: Literal["triangular"]
    low: Time
    mode: Time
    high: Time

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise ValueError(
                f"need low <= mode <= high and low < high, got {self.low}, {self.mode}, {self.high}"
            )
        return self

    def _mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    def _variance(self) -> float:
        a, c, b = self.low, self.mode, self.high
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.triangular(self.low, self.mode, self.high, size)

    def scaled(self, factor: float) -> Distribution:
        return self.model_copy(
            update={"low": self.low * factor, "mode": self.mode * factor, "high": self.high * factor}
        )


class Lognormal(_Dist):
    """Lognormal given by its mean and coefficient of variation."""

    dist: Literal["lognormal"]
    mean: PositiveTime
    cv: CV

    def _mean(self) -> float:
        return self.mean

    def _variance(self) -> float:
        return (self.cv * self.mean) ** 2

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        sigma2 = math.log1p(self.cv**2)
        mu = math.log(self.mean) - sigma2 / 2
        return rng.lognormal(mu, math.sqrt(sigma2), size)

    def scaled(self, factor: float) -> Distribution:
        return self.model_copy(update={"mean": self.mean * factor})


class Gamma(_Dist):
    """Gamma given by its mean and coefficient of variation."""

    dist: Literal["gamma"]
    mean: PositiveTime
    cv: CV

    def _mean(self) -> float:
        return self.mean

    def _variance(self) -> float:
        return (self.cv * self.mean) ** 2

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        shape = 1.0 / self.cv**2
        return rng.gamma(shape, self.mean / shape, size)

    def scaled(self, factor: float) -> Distribution:
        return self.model_copy(update={"mean": self.mean * factor})


class Empirical(_Dist):
    """Resampling of observed times, optionally weighted."""

    dist: Literal["empirical"]
    values: list[Time] = Field(min_length=1, max_length=100_000)
    weights: list[Annotated[float, Field(ge=0, le=MAX_WEIGHT)]] | None = None

    @model_validator(mode="after")
    def _weights_match(self) -> Empirical:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"weights has {len(self.weights)} entries but values has {len(self.values)}"
                )
            if sum(self.weights) <= 0:
                raise ValueError("weights must not all be zero")
        return self

    def _p(self) -> np.ndarray | None:
        import numpy as np

        if self.weights is None:
            return None
        w = np.asarray(self.weights, dtype=float)
        return w / w.sum()

    def _mean(self) -> float:
        import numpy as np

        p = self._p()
        v = np.asarray(self.values, dtype=float)
        return float(v.mean() if p is None else (v * p).sum())

    def _variance(self) -> float:
        import numpy as np

        p = self._p()
        v = np.asarray(self.values, dtype=float)
        m = self._mean()
        return float(((v - m) ** 2).mean() if p is None else (((v - m) ** 2) * p).sum())

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        import numpy as np

        return rng.choice(np.asarray(self.values, dtype=float), size=size, p=self._p())

    def scaled(self, factor: float) -> Distribution:
        return self.model_copy(update={"values": [v * factor for v in self.values]})


Distribution = Annotated[
    Exponential | Deterministic | Uniform | Triangular | Lognormal | Gamma | Empirical,
    Field(discriminator="dist"),
]
