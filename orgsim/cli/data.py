"""``orgsim import``, ``orgsim export-org`` and ``orgsim calibrate``: real data in and out.

Spreadsheets (openpyxl) and the calibration's statistics are imported inside
the commands, so that other commands never load them.
"""

from __future__ import annotations

from pathlib import Path

import click

from orgsim.cli._common import _user_errors, input_options, lang_option, language_of
from orgsim.i18n import _, ngettext, use_language

__all__ = ["import_command", "export_org", "calibrate"]


@click.command("import")
@click.argument("tables", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The scenario file to write (YAML).")
@click.option("--base", type=click.Path(dir_okay=False),
              help="A scenario whose other sections (workload, reforms, simulation, sources) the new file keeps.")
@click.option("--name", help="Name of the scenario (without --base; default: the first table's file name).")
@lang_option
@input_options
@_user_errors
def import_command(tables: tuple[str, ...], output: Path, base: str | None, name: str | None, lang: str | None,
                   allow_outside: bool, max_memory: int | None) -> None:
    """Build a scenario from a planner's tables: units and functions (.xlsx sheets or CSV files).

    Headers and kinds may be in English or Chinese (docs/data.md). Every
    problem is reported at its file, sheet, row and column, and nothing is
    written unless the scenario loads (and, with --base, its reforms apply).
    """
    from orgsim._io import atomic_write_text
    from orgsim.scenario.document import check_document, document_text, read_document
    from orgsim.spreadsheets import org_document, read_org_tables

    org = read_org_tables(tables)
    data = read_document(base, allow_outside=allow_outside, max_memory_bytes=max_memory)[1] if base else None
    doc = org_document(org, data, title=name or Path(tables[0]).stem)
    made_from = f"from {', '.join(tables)}" + (f" and {base}" if base else "")
    text = document_text(doc, f"Written by orgsim import {made_from}.")
    scenario = check_document(text, str(output), output.parent if base is None else Path(base).parent,
                              allow_outside=allow_outside, max_memory_bytes=max_memory)
    atomic_write_text(output, text)
    with use_language(language_of(lang, scenario)):
        click.echo(_("wrote {file} ({units}, {functions})").format(
            file=output, units=ngettext("{n} unit", "{n} units", len(org.units)).format(n=len(org.units)),
            functions=ngettext("{n} function", "{n} functions", len(org.functions)).format(
                n=len(org.functions))), err=True)


@click.command("export-org")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="An .xlsx workbook (sheets units and functions), or a folder for two CSV files.")
@click.option("--chinese", is_flag=True, help="Chinese headers and sheet names (单位, 职能); the default with "
                                               "--lang zh.")
@lang_option
@input_options
@_user_errors
def export_org(file: str, output: Path, chinese: bool, lang: str | None, allow_outside: bool,
               max_memory: int | None) -> None:
    """Write a scenario's organisation (before its reforms) as the tables orgsim import reads."""
    from orgsim.scenario import load_scenario
    from orgsim.spreadsheets import write_org_csv, write_org_workbook

    scenario = load_scenario(file, allow_outside=allow_outside, max_memory_bytes=max_memory)
    language = language_of(lang, scenario)
    # Tables in Chinese when asked for by --chinese, or by an explicit --lang zh / $ORGSIM_LANG=zh.
    chinese = chinese or (lang is not None and language == "zh")
    if output.suffix.lower() == ".xlsx":
        paths = [write_org_workbook(scenario, output, chinese)]
    else:
        paths = write_org_csv(scenario, output, chinese)
    with use_language(language):
        for path in paths:
            click.echo(_("wrote {file}").format(file=path), err=True)


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
@lang_option
@input_options
@_user_errors
def calibrate(log: str, base: str, output: Path, report: Path | None, state: str | None, case_column: str,
              activity_column: str, start_column: str, end_column: str, enable_column: str, role_column: str,
              project_type_column: str, replication_column: str, state_column: str, replications: int,
              lang: str | None, allow_outside: bool, max_memory: int | None) -> None:
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
    # The fitted scenario's own text (its sources and assumptions) is written in English, as data;
    # what the command says, and the report, are in the language asked for.
    result = fit_log(log, base, columns, state, output, allow_outside=allow_outside, max_memory_bytes=max_memory)
    text = document_text(result.document, f"Calibrated by orgsim calibrate from {log} on {base}.\n"
                                          "Every fitted number is cited in scenario.sources (the event log).")
    fitted = check_document(text, str(output), output.parent, allow_outside=allow_outside, max_memory_bytes=max_memory)
    fitted._base_dir = Path(base).parent  # traces named by the base scenario are found beside it
    check = None
    if report is not None or replications:
        from orgsim.eventlog.fit_report import check_lead_times

        check = check_lead_times(result, fitted, replications)
    from orgsim.eventlog.fit_report import fit_names, fitted_text, render_fit_report

    with use_language(language_of(lang, result.base)):
        names = fit_names(result)
        page = render_fit_report(result, check, result.base.scenario.name, names) if report is not None else None
        written = [atomic_write_text(output, text)]
        if page is not None and report is not None:
            written.append(atomic_write_text(report, page))
        for f in result.fitted:
            click.echo(_("fitted {figure}").format(figure=fitted_text(f, names)))
        for item in result.not_fitted:
            click.echo(_("not fitted {field}: {why}").format(field=item.path, why=item.why()))
        for first, last, n in result.idle_stretches:
            click.echo(_("warning: no activity in the log from {first} to {last} ({n} working days): a closure? "
                         "List it in simulation.calendar.extra_holidays").format(first=first, last=last, n=n),
                       err=True)
        if check is not None:
            quantiles = ", ".join(f"p{int(q * 100)} {a:.1f}/{b:.1f}" for q, a, b in check.quantiles())
            click.echo(_("lead times, log/fitted model (working days): {quantiles}; KS distance {ks:.3f} (1% critical "
                         "{critical:.3f})").format(quantiles=quantiles, ks=check.ks, critical=check.ks_critical_1pct))
        for written_path in written:
            click.echo(_("wrote {file}").format(file=written_path), err=True)
