"""Scenario files: the format (``schema``) and reading it (``loader``).

The loader (PyYAML, networkx) is imported on first use, so that the format
alone (``orgsim schema``) does not load it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orgsim.scenario.loader import load_scenario, parse_scenario
    from orgsim.scenario.schema import Scenario

__all__ = ["Scenario", "load_scenario", "parse_scenario"]

_LAZY = {
    "Scenario": "orgsim.scenario.schema",
    "load_scenario": "orgsim.scenario.loader",
    "parse_scenario": "orgsim.scenario.loader",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'orgsim.scenario' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
