"""The ``orgsim`` command: a thin shell over the Python API.

A user's mistake (a bad file, a failing reform) prints one line per problem
naming the file, the field and the line, and exits with code 2; it never
shows a traceback.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from orgsim import __version__
from orgsim._format import table
from orgsim.errors import OrgsimError
from orgsim.model import org as o
from orgsim.model.metrics import STRUCTURE_ROWS, StructureMetrics, structure_metrics
from orgsim.reforms import reform_scenario
from orgsim.scenario import load_scenario
from orgsim.scenario.schema import Scenario

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])

#: Exit code for a user's mistake, as click uses for bad arguments.
USAGE_ERROR = 2
#: Exit code after Ctrl-C, as shells report 128 + SIGINT.
INTERRUPTED = 130


def _user_errors(func: F) -> F:
    """Turn OrgsimError into problem lines on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except OrgsimError as exc:
            for line in exc.lines():
                click.echo(f"error: {line}", err=True)
            sys.exit(USAGE_ERROR)
        except KeyboardInterrupt:
            # Output files are written whole or not at all, so none is half-written.
            click.echo("\ninterrupted: stopped; no partial output file was left behind", err=True)
            sys.exit(INTERRUPTED)

    return wrapper  # type: ignore[return-value]


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _version_message() -> str:
    from orgsim.sim.fifo_engine import compiled

    loop = "compiled event loop" if compiled() else "event loop in Python (no C compiler at install: slower)"
    return f"%(prog)s %(version)s, {loop}"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="orgsim", message=_version_message())
def main() -> None:
    """Simulate administrative reforms of a development zone.

    Describe an organisation and a reform package in a scenario file (YAML),
    check it, see what the reforms do to structure and headcount, and
    simulate approval lead times before and after.
    """


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def validate(files: tuple[str, ...]) -> None:
    """Check scenario files: format, references, and that the reforms apply."""
    failed = False
    for name in files:
        try:
            scenario = load_scenario(name)
            outcome = reform_scenario(scenario)
        except OrgsimError as exc:
            failed = True
            for line in exc.lines():
                click.echo(f"error: {line}", err=True)
            continue
        n_ops = len(outcome.states)
        click.echo(f"ok: {name} ({len(scenario.units)} units, {len(scenario.functions)} functions, {n_ops} reform operators)")
    if failed:
        sys.exit(USAGE_ERROR)


@main.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editor completion)."""
    _echo_json(Scenario.model_json_schema())


def _unit_tree(org: o.Org, english: bool) -> list[str]:
    lines: list[str] = []

    def walk(unit: str, prefix: str, last: bool, top: bool) -> None:
        d = org.graph.nodes[unit]
        branch = "" if top else ("└─ " if last else "├─ ")
        staff = org.staff_by_category(unit)
        lines.append(
            f"{prefix}{branch}{org.label(unit, english)} [{unit}, {d[o.KIND]}] "
            f"{org.headcount(unit)} staff ({staff['leaders']} leaders, {staff['frontline']} officers, "
            f"{staff['support']} support), {len(org.performed_by(unit))} functions"
        )
        kids = sorted(org.children(unit))
        for i, child in enumerate(kids):
            walk(child, prefix + ("" if top else ("   " if last else "│  ")), i == len(kids) - 1, False)

    for root in sorted(org.roots()):
        walk(root, "", True, True)
    return lines


_METRIC_ROWS = [("  " * indent + label, get) for label, indent, get in STRUCTURE_ROWS]


def structure_table(before: StructureMetrics, after: StructureMetrics | None = None) -> str:
    """Structure metrics as a text table, with a change column when ``after`` is given."""
    if after is None:
        return table(["metric", "value"], [[name, get(before)] for name, get in _METRIC_ROWS])
    rows = []
    for name, get in _METRIC_ROWS:
        b, a = get(before), get(after)
        change = f"{a - b:+d}" if isinstance(a, int) and isinstance(b, int) else ""
        if isinstance(a, int) and isinstance(b, int) and b:
            change += f" ({(a - b) / b:+.1%})"
        rows.append([name, b, a, change])
    return table(["metric", "before", "after", "change"], rows)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--after", is_flag=True, help="Show the organisation after the reforms.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--english", is_flag=True, help="Use English names where the scenario gives them.")
@_user_errors
def show(file: str, after: bool, as_json: bool, english: bool) -> None:
    """Show an organisation: its units as a tree, and its structure metrics."""
    scenario = load_scenario(file)
    outcome = reform_scenario(scenario)
    org = outcome.after if after else outcome.before
    metrics = structure_metrics(org)
    if as_json:
        _echo_json({"state": "after" if after else "before", "structure": metrics.to_dict(),
                    "units": _units_json(org)})
        return
    click.echo(f"{scenario.scenario.name} ({'after' if after else 'before'} reforms)")
    click.echo("\n".join(_unit_tree(org, english)))
    click.echo()
    click.echo(structure_table(metrics))


def _units_json(org: o.Org) -> list[dict]:
    out = []
    for u in sorted(org.units()):
        d = org.graph.nodes[u]
        out.append({
            "id": u, "name": d[o.NAME], "name_en": d[o.NAME_EN], "kind": d[o.KIND],
            "parent": org.parent(u), "jurisdiction": d[o.JURISDICTION],
            "staff": org.staff_by_category(u), "functions": sorted(org.performed_by(u)),
        })
    return out


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON with keys before, after, changes.")
@_user_errors
def apply(file: str, as_json: bool) -> None:
    """Apply the scenario's reforms: the change log and structure before and after."""
    scenario = load_scenario(file)
    outcome = reform_scenario(scenario)
    before, after = structure_metrics(outcome.before), structure_metrics(outcome.after)
    if as_json:
        _echo_json({
            "scenario": scenario.scenario.name,
            "scenario_sha256": scenario.sha256,
            "orgsim_version": __version__,
            "before": before.to_dict(),
            "after": after.to_dict(),
            "changes": outcome.change_rows(),
        })
        return
    click.echo(f"{scenario.scenario.name}: {len(outcome.states)} reform operators")
    click.echo()
    for change in outcome.changes:
        click.echo(f"  {change}")
    click.echo()
    click.echo(structure_table(before, after))
    dest = after.headcount_by_destination
    click.echo()
    click.echo(
        "where the staff went: "
        + ", ".join(f"{k} {v}" for k, v in dest.items() if v)
    )



# The simulation commands register themselves on ``main``.
from orgsim.cli import simulate as _simulate  # noqa: E402,F401
from orgsim.cli import sweep as _sweep  # noqa: E402,F401
from orgsim.cli import present as _present  # noqa: E402,F401
