"""``orgsim import``, ``orgsim export-org`` and ``orgsim calibrate``: real data in and out.

Spreadsheets (openpyxl) and the calibration's statistics are imported inside
the commands, so that other commands never load them.
"""

from __future__ import annotations

from pathlib import Path

import click

from orgsim.cli._common import _user_errors

__all__ = ["import_command", "export_org", "calibrate"]


@click.command("import")
@click.argument("tables", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The scenario file to write (YAML).")
@click.option("--base", type=click.Path(dir_okay=False),
              help="A scenario whose other sections (workload, reforms, simulation, sources) the new file keeps.")
@click.option("--name", help="Name of the scenario (without --base; default: the first table's file name).")
@_user_errors
def import_command(tables: tuple[str, ...], output: Path, base: str | None, name: str | None) -> None:
    """Build a scenario from a planner's tables: units and functions (.xlsx sheets or CSV files).

    Headers and kinds may be in English or Chinese (docs/data.md). Every
    problem is reported at its file, sheet, row and column, and nothing is
    written unless the scenario loads (and, with --base, its reforms apply).
    """
    from orgsim._io import atomic_write_text
    from orgsim.scenario.document import check_document, document_text, read_document
    from orgsim.spreadsheets import org_document, read_org_tables

    org = read_org_tables(tables)
    data = read_document(base)[1] if base is not None else None
    doc = org_document(org, data, title=name or Path(tables[0]).stem)
    made_from = f"from {', '.join(tables)}" + (f" and {base}" if base else "")
    text = document_text(doc, f"Written by orgsim import {made_from}.")
    check_document(text, str(output), output.parent if base is None else Path(base).parent)
    atomic_write_text(output, text)
    click.echo(f"wrote {output} ({len(org.units)} units, {len(org.functions)} functions)", err=True)


@click.command("export-org")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="An .xlsx workbook (sheets units and functions), or a folder for two CSV files.")
@click.option("--chinese", is_flag=True, help="Chinese headers and sheet names (单位, 职能).")
@_user_errors
def export_org(file: str, output: Path, chinese: bool) -> None:
    """Write a scenario's organisation (before its reforms) as the tables orgsim import reads."""
    from orgsim.scenario import load_scenario
    from orgsim.spreadsheets import write_org_csv, write_org_workbook

    scenario = load_scenario(file)
    if output.suffix.lower() == ".xlsx":
        paths = [write_org_workbook(scenario, output, chinese)]
    else:
        paths = write_org_csv(scenario, output, chinese)
    for path in paths:
        click.echo(f"wrote {path}", err=True)
