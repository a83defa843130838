"""orgsim: simulate how administrative reforms change a government organisation.

Load a scenario, apply its reform package, and compare structure, headcount
and approval lead times before and after::

    >>> import orgsim
    >>> scenario = orgsim.load_scenario("scenarios/tutorial.yaml")
    >>> outcome = orgsim.reform_scenario(scenario)
    >>> orgsim.structure_metrics(outcome.after).internal_bodies
    3
"""

from typing import TYPE_CHECKING, Any

from orgsim.errors import (
    OrgsimError,
    OrgValidationError,
    ReformError,
    ScenarioError,
    SimulationError,
    SweepError,
)

if TYPE_CHECKING:
    from orgsim.experiment import compare, run_replications, simulate
    from orgsim.frontier import frontier
    from orgsim.model import Org, build_org, check_org, structure_metrics
    from orgsim.reforms import apply_reform, apply_reforms, reform_scenario
    from orgsim.scenario import Scenario, load_scenario, parse_scenario
    from orgsim.sweep import sweep
    from orgsim.timeline import timeline

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "OrgsimError",
    "ScenarioError",
    "OrgValidationError",
    "ReformError",
    "SimulationError",
    "SweepError",
    "Scenario",
    "load_scenario",
    "parse_scenario",
    "Org",
    "build_org",
    "check_org",
    "structure_metrics",
    "apply_reform",
    "apply_reforms",
    "reform_scenario",
    "simulate",
    "compare",
    "run_replications",
    "sweep",
    "frontier",
    "timeline",
]

# Everything but the errors is imported on first use, so that `import orgsim`
# (and `orgsim --version`) loads neither pydantic, networkx nor the simulation.
_LAZY = {
    "Scenario": "orgsim.scenario",
    "load_scenario": "orgsim.scenario",
    "parse_scenario": "orgsim.scenario",
    "Org": "orgsim.model",
    "build_org": "orgsim.model",
    "check_org": "orgsim.model",
    "structure_metrics": "orgsim.model",
    "apply_reform": "orgsim.reforms",
    "apply_reforms": "orgsim.reforms",
    "reform_scenario": "orgsim.reforms",
    "simulate": "orgsim.experiment",
    "compare": "orgsim.experiment",
    "run_replications": "orgsim.experiment",
    "sweep": "orgsim.sweep",
    "frontier": "orgsim.frontier",
    "timeline": "orgsim.timeline",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'orgsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
