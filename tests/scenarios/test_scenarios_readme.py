"""scenarios/README.md is generated from real runs and must match a fresh one."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from orgsim.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def _generator():
    spec = importlib.util.spec_from_file_location("generate_readme", SCENARIOS / "generate_readme.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_bundled_scenario_is_in_the_table():
    listed = set(_generator().CASES)
    assert listed == {p.name for p in SCENARIOS.glob("*.yaml")}


@pytest.mark.slow
def test_readme_matches_a_fresh_run():
    generated = _generator().render()
    assert (SCENARIOS / "README.md").read_text(encoding="utf-8") == generated, (
        "scenarios/README.md is out of date: run python scenarios/generate_readme.py"
    )


@pytest.mark.parametrize("name", sorted(p.name for p in SCENARIOS.glob("*.yaml")))
def test_every_number_has_a_source_or_an_assumption(name):
    scenario = load_scenario(SCENARIOS / name)
    meta = scenario.scenario
    assert meta.sources, f"{name} names no source"
    assert meta.assumptions, f"{name} lists no assumption"
    assert all(a.reason.strip() for a in meta.assumptions)
