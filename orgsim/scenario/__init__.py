"""Scenario files: the format (``schema``) and reading it (``loader``)."""

from orgsim.scenario.loader import load_scenario, parse_scenario
from orgsim.scenario.schema import Scenario

__all__ = ["Scenario", "load_scenario", "parse_scenario"]
