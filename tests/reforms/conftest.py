"""Fixtures for the reform operator tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from orgsim.model.build import build_org
from orgsim.model.org import Org
from orgsim.scenario import load_scenario

TUTORIAL = Path(__file__).resolve().parents[2] / "scenarios" / "tutorial.yaml"


@pytest.fixture(scope="session")
def tutorial_scenario():
    return load_scenario(TUTORIAL)


@pytest.fixture
def tutorial(tutorial_scenario) -> Org:
    """The tutorial zone before any reform (87 zone staff; see scenarios/tutorial.yaml)."""
    return build_org(tutorial_scenario)
