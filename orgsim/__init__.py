"""orgsim: simulate how administrative reforms change a government organisation.

Load a scenario, apply its reform package, and compare structure, headcount
and approval lead times before and after::

    >>> import orgsim
    >>> scenario = orgsim.load_scenario("scenarios/tutorial.yaml")
    >>> outcome = orgsim.reform_scenario(scenario)
    >>> orgsim.structure_metrics(outcome.after).internal_bodies
    2
"""

from orgsim.errors import (
    OrgsimError,
    OrgValidationError,
    ReformError,
    ScenarioError,
    SimulationError,
)
from orgsim.model import Org, build_org, check_org, structure_metrics
from orgsim.reforms import apply_reform, apply_reforms, reform_scenario
from orgsim.scenario import Scenario, load_scenario, parse_scenario

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "OrgsimError",
    "ScenarioError",
    "OrgValidationError",
    "ReformError",
    "SimulationError",
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
]
