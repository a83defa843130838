"""``orgsim validate``, ``orgsim show`` and ``orgsim apply``: a scenario's format, organisation and reforms.

They read and reform scenarios only: no simulation, statistics or plotting
code is loaded.
"""

from __future__ import annotations

import sys

import click

from orgsim import __version__
from orgsim.cli._common import USAGE_ERROR, _echo_json, _user_errors, input_options
from orgsim.cli._tables import structure_table
from orgsim.errors import OrgsimError
from orgsim.model import org as o
from orgsim.model.metrics import structure_metrics
from orgsim.reforms import reform_scenario
from orgsim.scenario import load_scenario

__all__ = ["validate", "show", "apply"]


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@input_options
def validate(files: tuple[str, ...], allow_outside: bool, max_memory: int | None) -> None:
    """Check scenario files: format, references, and that the reforms apply."""
    failed = False
    for name in files:
        try:
            scenario = load_scenario(name, allow_outside=allow_outside, max_memory_bytes=max_memory)
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


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--after", is_flag=True, help="Show the organisation after the reforms.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--english", is_flag=True, help="Use English names where the scenario gives them.")
@_user_errors
@input_options
def show(file: str, after: bool, as_json: bool, english: bool, allow_outside: bool, max_memory: int | None) -> None:
    """Show an organisation: its units as a tree, and its structure metrics."""
    scenario = load_scenario(file, allow_outside=allow_outside, max_memory_bytes=max_memory)
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


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON with keys before, after, changes.")
@_user_errors
@input_options
def apply(file: str, as_json: bool, allow_outside: bool, max_memory: int | None) -> None:
    """Apply the scenario's reforms: the change log and structure before and after."""
    scenario = load_scenario(file, allow_outside=allow_outside, max_memory_bytes=max_memory)
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
