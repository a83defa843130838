"""``orgsim schema``: the JSON Schema of scenario files."""

from __future__ import annotations

import click

from orgsim.cli._common import _echo_json
from orgsim.scenario.schema import Scenario

__all__ = ["schema"]


@click.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editor completion)."""
    _echo_json(Scenario.model_json_schema())
