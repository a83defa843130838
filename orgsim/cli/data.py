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


@click.command()
@click.argument("log", type=click.Path(dir_okay=False))
@click.option("--scenario", "base", required=True, type=click.Path(dir_okay=False),
              help="The base scenario: its organisation, project types and steps, and calendar.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The fitted scenario to write (YAML).")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the fit report (HTML): per fitted number its fit and a figure; lead times "
                   "simulated against logged.")
@click.option("--state", help="Calibrate from the rows of this state only (a log of orgsim compare has two).")
@click.option("--case-column", default="case:concept:name", show_default=True)
@click.option("--activity-column", default="concept:name", show_default=True)
@click.option("--start-column", default="start_timestamp", show_default=True)
@click.option("--end-column", default="time:timestamp", show_default=True)
@click.option("--enable-column", default="enable_timestamp", show_default=True,
              help="When the case reached the activity's queue (optional column).")
@click.option("--role-column", default="org:role", show_default=True,
              help="officer/leader/applicant/transfer (optional).")
@click.option("--project-type-column", default="case:project_type", show_default=True, help="(optional)")
@click.option("--replication-column", default="case:replication", show_default=True, help="(optional)")
@click.option("--state-column", default="case:state", show_default=True, help="(optional)")
@click.option("-r", "--replications", type=click.IntRange(1, 1000), default=5, show_default=True,
              help="Replications of the fitted model simulated to compare its lead times with the log's.")
@_user_errors
def calibrate(log: str, base: str, output: Path, report: Path | None, state: str | None, case_column: str,
              activity_column: str, start_column: str, end_column: str, enable_column: str, role_column: str,
              project_type_column: str, replication_column: str, state_column: str, replications: int) -> None:
    """Fit a scenario's numbers to a zone's event log (arrival rates, service times, rework, delays).

    Durations are taken in working time on the scenario's calendar; service
    times are chosen by AIC among orgsim's families. The fitted scenario
    cites the log in its sources for every fitted number; what the log
    cannot give stays an assumption. A bad log is reported at its row and
    column, and nothing is written.
    """
    from orgsim._io import atomic_write_text
    from orgsim.eventlog.calibrate import calibrate as fit_log
    from orgsim.eventlog.read import ColumnMap
    from orgsim.scenario.document import check_document, document_text

    columns = ColumnMap(case=case_column, activity=activity_column, start=start_column, end=end_column,
                        enable=enable_column, role=role_column, project_type=project_type_column,
                        state=state_column, replication=replication_column)
    result = fit_log(log, base, columns, state, output)
    text = document_text(result.document, f"Calibrated by orgsim calibrate from {log} on {base}.\n"
                                          "Every fitted number is cited in scenario.sources (the event log).")
    fitted = check_document(text, str(output), output.parent)
    fitted._base_dir = Path(base).parent  # traces named by the base scenario are found beside it
    check = None
    if report is not None or replications:
        from orgsim.eventlog.fit_report import check_lead_times

        check = check_lead_times(result, fitted, replications)
    written = [atomic_write_text(output, text)]
    if report is not None:
        from orgsim.eventlog.fit_report import render_fit_report

        written.append(atomic_write_text(report, render_fit_report(result, check, fitted.scenario.name)))
    for f in result.fitted:
        click.echo(f"fitted {f.figure_text()}")
    for path, why in result.not_fitted:
        click.echo(f"not fitted {path}: {why}")
    for first, last, n in result.idle_stretches:
        click.echo(f"warning: no activity in the log from {first} to {last} ({n} working days): a closure? "
                   "List it in simulation.calendar.extra_holidays", err=True)
    if check is not None:
        quantiles = ", ".join(f"p{int(q * 100)} {a:.1f}/{b:.1f}" for q, a, b in check.quantiles())
        click.echo(f"lead times, log/fitted model (working days): {quantiles}; KS distance {check.ks:.3f} "
                   f"(1% critical {check.ks_critical_1pct:.3f})")
    for written_path in written:
        click.echo(f"wrote {written_path}", err=True)
