"""``orgsim schema``: the JSON Schema of scenario files."""

from __future__ import annotations

import click

from orgsim.cli._common import _echo_json, lang_option
from orgsim.scenario.schema import Scenario

__all__ = ["schema"]


@click.command()
@lang_option
def schema(lang: str | None) -> None:
    """Print the JSON Schema of scenario files (for editor completion).

    The schema's descriptions are the scenario format's, in English; --lang
    is accepted like every command's.
    """
    _echo_json(Scenario.model_json_schema())
