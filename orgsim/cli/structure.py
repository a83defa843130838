"""``orgsim validate``, ``orgsim show`` and ``orgsim apply``: a scenario's format, organisation and reforms.

They read and reform scenarios only: no simulation, statistics or plotting
code is loaded.
"""

from __future__ import annotations

import sys

import click

from orgsim import __version__
from orgsim.cli._common import (
    USAGE_ERROR, _echo_json, _user_errors, english_option, input_options, lang_option, language_of,
)
from orgsim.cli._tables import render
from orgsim.errors import OrgsimError
from orgsim.i18n import _, ngettext, use_language
from orgsim.model import org as o
from orgsim.model.metrics import structure_metrics
from orgsim.presentation.changes import change_sentences
from orgsim.presentation.names import Names
from orgsim.presentation.tables import destinations_text, social_affairs_text, structure_table
from orgsim.reforms import reform_packages, reform_scenario
from orgsim.scenario import load_scenario

__all__ = ["validate", "show", "apply"]


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@lang_option
@input_options
def validate(files: tuple[str, ...], lang: str | None, allow_outside: bool, max_memory: int | None) -> None:
    """Check scenario files: format, references, and that the reforms apply."""
    failed = False
    for name in files:
        try:
            scenario = load_scenario(name, allow_outside=allow_outside, max_memory_bytes=max_memory)
            outcomes = reform_packages(scenario)
        except OrgsimError as exc:
            failed = True
            for line in exc.lines():
                click.echo(f"error: {line}", err=True)
            continue
        with use_language(language_of(lang, scenario)):
            counts = [
                ngettext("{n} unit", "{n} units", len(scenario.units)).format(n=len(scenario.units)),
                ngettext("{n} function", "{n} functions", len(scenario.functions)).format(n=len(scenario.functions)),
            ]
            if scenario.packages:
                counts.append(_("packages {packages}").format(packages=_(", ").join(
                    _("{package} ({operators})").format(package=p, operators=ngettext(
                        "{n} operator", "{n} operators", len(out.states)).format(n=len(out.states)))
                    for p, out in outcomes.items())))
            else:
                n = len(outcomes["after"].states)
                counts.append(ngettext("{n} reform operator", "{n} reform operators", n).format(n=n))
            click.echo(_("ok: {file} ({counts})").format(file=name, counts=_(", ").join(counts)))
    if failed:
        sys.exit(USAGE_ERROR)


def _unit_tree(org: o.Org, names: Names) -> list[str]:
    lines: list[str] = []

    def walk(unit: str, prefix: str, last: bool, top: bool) -> None:
        d = org.graph.nodes[unit]
        branch = "" if top else ("└─ " if last else "├─ ")
        staff = org.staff_by_category(unit)
        n_functions = len(org.performed_by(unit))
        lines.append(
            f"{prefix}{branch}{names.unit(unit)} [{unit}, {names.kind(d[o.KIND])}] "
            + _("{n} staff ({leaders} leaders, {officers} officers, {support} support), {functions}").format(
                n=org.headcount(unit), leaders=staff["leaders"], officers=staff["frontline"],
                support=staff["support"],
                functions=ngettext("{n} function", "{n} functions", n_functions).format(n=n_functions))
        )
        kids = sorted(org.children(unit))
        for i, child in enumerate(kids):
            walk(child, prefix + ("" if top else ("   " if last else "│  ")), i == len(kids) - 1, False)

    for root in sorted(org.roots()):
        walk(root, "", True, True)
    return lines


_PACKAGE = click.option("--package", metavar="NAME",
                        help="Of a scenario with packages: the package (required with --after there).")


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--after", is_flag=True, help="Show the organisation after the reforms.")
@_PACKAGE
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@lang_option
@english_option
@_user_errors
@input_options
def show(file: str, after: bool, package: str | None, as_json: bool, lang: str | None, english: bool,
         allow_outside: bool, max_memory: int | None) -> None:
    """Show an organisation: its units as a tree, and its structure metrics."""
    scenario = load_scenario(file, allow_outside=allow_outside, max_memory_bytes=max_memory)
    if not after and package is None and scenario.packages:
        package = next(iter(scenario.packages))  # every package starts from the same organisation
    outcome = reform_scenario(scenario, package=_package(scenario, package))
    org = outcome.after if after else outcome.before
    state = ("after" if not scenario.packages else package) if after else "before"
    metrics = structure_metrics(org)
    if as_json:
        _echo_json({"state": state, "structure": metrics.to_dict(), "units": _units_json(org)})
        return
    with use_language(language_of(lang, scenario, english)):
        names = Names(scenario, [org])
        if not after:
            shown = _("before the reforms")
        elif scenario.packages:
            shown = _("after package {package}").format(package=package)
        else:
            shown = _("after the reforms")
        click.echo(_("{scenario} ({state})").format(scenario=names.title(), state=shown))
        click.echo("\n".join(_unit_tree(org, names)))
        click.echo()
        click.echo(render(structure_table(metrics)))


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


def _package(scenario: object, package: str | None) -> str | None:
    """``--package``: required for a scenario with packages, refused without them."""
    names = list(scenario.packages)  # type: ignore[attr-defined]
    if package is None and names:
        raise click.BadParameter(f"the scenario compares packages {', '.join(names)}: name one",
                                 param_hint="--package")
    if package is not None and package not in names:
        known = ", ".join(names) or "none (the scenario has one reform list)"
        raise click.BadParameter(f"no package {package!r}; packages: {known}", param_hint="--package")
    return package


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@_PACKAGE
@click.option("--json", "as_json", is_flag=True, help="Print JSON with keys before, after, changes.")
@lang_option
@_user_errors
@input_options
def apply(file: str, package: str | None, as_json: bool, lang: str | None, allow_outside: bool,
          max_memory: int | None) -> None:
    """Apply the scenario's reforms: the change log and structure before and after."""
    scenario = load_scenario(file, allow_outside=allow_outside, max_memory_bytes=max_memory)
    package = _package(scenario, package)
    outcome = reform_scenario(scenario, package=package)
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
    with use_language(language_of(lang, scenario)):
        names = Names(scenario, [outcome.before, *[org for _label, org in outcome.states]])
        n = len(outcome.states)
        click.echo(_("{scenario}: {what}").format(
            scenario=names.title(), what=ngettext("{n} reform operator", "{n} reform operators", n).format(n=n)))
        click.echo()
        for sentence in change_sentences(outcome, scenario, names, package):
            phase = f"[{sentence.phase}] " if sentence.phase else ""
            click.echo(f"  {sentence.number}. {phase}{sentence.text}")
        click.echo()
        click.echo(render(structure_table(before, after)))
        click.echo()
        click.echo(destinations_text(after))
        social = social_affairs_text(after)
        if social:
            click.echo(social)
