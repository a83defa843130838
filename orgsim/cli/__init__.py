"""The ``orgsim`` command: a thin shell over the Python API.

A user's mistake (a bad file, a failing reform) prints one line per problem
naming the file, the field and the line, and exits with code 2; it never
shows a traceback.

This module holds only the command group. Each command lives in a module of
this package that is imported when the command runs, so ``orgsim --version``,
``orgsim --help`` and ``orgsim validate`` do not load the simulation, the
statistics or matplotlib. Shared helpers are in :mod:`orgsim.cli._common`.
"""

from __future__ import annotations

import click

from orgsim import __version__
from orgsim.cli._lazy import LazyGroup

__all__ = ["main"]

#: Every command, as "module:function"; the module is imported when the command runs.
COMMANDS = {
    "validate": "orgsim.cli.structure:validate",
    "show": "orgsim.cli.structure:show",
    "apply": "orgsim.cli.structure:apply",
    "schema": "orgsim.cli.schema:schema",
    "compare": "orgsim.cli.simulate:compare_command",
    "run": "orgsim.cli.simulate:run",
    "estimate": "orgsim.cli.simulate:estimate",
    "sweep": "orgsim.cli.sweep:sweep_command",
    "frontier": "orgsim.cli.sweep:frontier_command",
    "plot": "orgsim.cli.present:plot",
    "report": "orgsim.cli.present:report",
    "import": "orgsim.cli.data:import_command",
    "export-org": "orgsim.cli.data:export_org",
    "calibrate": "orgsim.cli.data:calibrate",
    "app": "orgsim.cli.app:app_command",
    "animate": "orgsim.cli.animate:animate",
    "timeline": "orgsim.cli.timeline:timeline_command",
}


def _compiled_loop_installed() -> bool:
    """Whether the compiled event loop is installed, found without importing it (or numpy)."""
    import importlib.machinery

    import orgsim

    folders = [f"{folder}/sim" for folder in orgsim.__path__]
    # fifo_loop.py is always there; the compiled module beside it is found first when built.
    spec = importlib.machinery.PathFinder.find_spec("orgsim.sim.fifo_loop", folders)
    return spec is not None and isinstance(spec.loader, importlib.machinery.ExtensionFileLoader)


def _version_message() -> str:
    loop = (
        "compiled event loop" if _compiled_loop_installed()
        else "event loop in Python (no C compiler at install: slower)"
    )
    return f"%(prog)s %(version)s, {loop}"


@click.group(cls=LazyGroup, lazy_subcommands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="orgsim", message=_version_message())
def main() -> None:
    """Simulate administrative reforms of a development zone.

    Describe an organisation and a reform package in a scenario file (YAML),
    check it, see what the reforms do to structure and headcount, and
    simulate approval lead times before and after.
    """
