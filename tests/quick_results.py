"""Bundled scenarios shortened for fast tests, and their cached comparisons."""

from __future__ import annotations

import functools
from pathlib import Path

from orgsim.experiment import Comparison, compare
from orgsim.scenario import load_scenario
from orgsim.scenario.schema import Scenario


def quick(scenario: Scenario, horizon_days: float = 150.0) -> Scenario:
    """The scenario with two replications and a short horizon, for fast tests."""
    sim = scenario.simulation
    horizon = min(sim.horizon_days, horizon_days)
    return scenario.model_copy(update={"simulation": sim.model_copy(update={
        "horizon_days": horizon, "warmup_days": min(sim.warmup_days, horizon / 5), "replications": 2,
    })})


@functools.cache
def comparison_of(path: Path) -> Comparison:
    return compare(quick(load_scenario(path)))
