"""Spreadsheets in and out: orgsim import / export-org, and results.xlsx beside the CSV files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from orgsim.cli import main
from orgsim.scenario import load_scenario
from orgsim.spreadsheets import read_org_tables, write_workbook

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
TUTORIAL = ROOT / "scenarios" / "tutorial.yaml"


def run(*args: object):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    return result


def organisation(path: Path) -> tuple[list, list]:
    s = load_scenario(path)
    return [u.model_dump() for u in s.units], [f.model_dump() for f in s.functions]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.stem)
@pytest.mark.parametrize("form", ["xlsx", "xlsx-chinese", "csv", "csv-chinese"])
def test_export_then_import_gives_the_same_organisation(tmp_path: Path, scenario: Path, form: str) -> None:
    chinese = ["--chinese"] if form.endswith("chinese") else []
    target = tmp_path / ("org.xlsx" if form.startswith("xlsx") else "tables")
    assert run("export-org", scenario, "-o", target, *chinese).exit_code == 0
    tables = [target] if target.suffix == ".xlsx" else sorted(target.glob("*.csv"))
    assert len(tables) == 1 or len(tables) == 2
    out = tmp_path / "zone.yaml"
    result = run("import", *tables, "-o", out)
    assert result.exit_code == 0, result.output
    assert organisation(out) == organisation(scenario)


def test_import_validate_compare_on_a_workbook_made_from_a_bundled_scenario(tmp_path: Path) -> None:
    book = tmp_path / "tutorial.xlsx"
    assert run("export-org", TUTORIAL, "-o", book).exit_code == 0
    zone = tmp_path / "zone.yaml"
    assert run("import", book, "-o", zone, "--base", TUTORIAL).exit_code == 0
    assert run("validate", zone).exit_code == 0
    results = {}
    for name, path in (("imported", zone), ("original", TUTORIAL)):
        result = run("compare", path, "-r", "2", "--json")
        assert result.exit_code == 0, result.output
        results[name] = json.loads(result.stdout)
    # The same organisation, workload, reforms and seed: the same numbers, to the last digit.
    for state in ("before", "after"):
        imported, original = results["imported"][state], results["original"][state]
        assert imported["lead_time_working_days"] == original["lead_time_working_days"]
        assert imported["headcount"] == original["headcount"]


def test_chinese_headers_words_and_names_as_references(tmp_path: Path) -> None:
    (tmp_path / "单位.csv").write_text(
        "编号,名称,类型,上级,正职,副职,辅助人员,统一调配办件\n"
        "committee,管委会,管委会,,1,4,8,否\n"
        "approvals,行政审批局,局,管委会,1,2,3,是\n", encoding="utf-8")
    (tmp_path / "职能.csv").write_text(
        "编号,名称,类别,承担单位,权力事项数,办事人员,补正率\n"
        "permit,施工许可,行政许可,行政审批局,8,3,15%\n", encoding="utf-8")
    tables = read_org_tables([tmp_path / "单位.csv", tmp_path / "职能.csv"])
    approvals = tables.units[1]
    assert approvals == {"id": "approvals", "name": "行政审批局", "kind": "bureau", "parent": "committee",
                         "leaders": {"chief": 1, "deputies": 2}, "support": 3, "pooled": True}
    assert tables.functions[0] == {"id": "permit", "name": "施工许可", "category": "licensing",
                                   "owner": "approvals", "power_items": 8, "officers": 3,
                                   "rework_probability": pytest.approx(0.15)}


def test_bad_workbook_every_problem_at_its_sheet_row_and_column(tmp_path: Path) -> None:
    book = tmp_path / "bad.xlsx"
    write_workbook(book, {
        "units": (["id", "name", "kind", "parent", "support", "colour"],
                  [["committee", "管委会", "committee", None, 8, "red"],
                   ["planning", "规划局", "bureau", "nowhere", "three", None],
                   ["planning", "规划局二", "bureau", "committee", 1, None],
                   ["land", "国土局", "spaceship", "committee", -2, None]]),
        "functions": (["id", "name", "category", "owner", "officers"],
                      [["permit", "许可", "licensing", "planning", 2.5],
                       ["strange", "x", "licensing", "ghost", 1]]),
    })
    out = tmp_path / "zone.yaml"
    result = run("import", book, "-o", out)
    assert result.exit_code == 2
    assert not out.exists()
    err = result.stderr
    expected = [
        "sheet units: row 1, column 'colour': unknown column",
        "sheet units: row 3, column 'support': expected a whole number, got 'three'",
        "sheet units: row 3, column 'parent': unknown unit 'nowhere'",
        "sheet units: row 4, column 'id': duplicate unit id 'planning' (first at row 3)",
        "sheet units: row 5, column 'kind': Input should be 'committee'",
        "sheet units: row 5, column 'support': Input should be greater than or equal to 0",
        "sheet functions: row 2, column 'officers': expected a whole number, got 2.5",
        "sheet functions: row 3, column 'owner': unknown unit 'ghost'",
    ]
    for text in expected:
        assert text in err, (text, err)
    assert all(line.startswith(f"error: {book}, sheet ") for line in err.strip().splitlines())


def test_missing_table_and_missing_column(tmp_path: Path) -> None:
    (tmp_path / "units.csv").write_text("id,kind\ncommittee,committee\n", encoding="utf-8")
    result = run("import", tmp_path / "units.csv", "-o", tmp_path / "z.yaml")
    assert result.exit_code == 2 and "no functions table" in result.stderr
    (tmp_path / "functions.csv").write_text("id,name,category,owner\nf,F,licensing,committee\n", encoding="utf-8")
    result = run("import", tmp_path / "units.csv", tmp_path / "functions.csv", "-o", tmp_path / "z.yaml")
    assert result.exit_code == 2
    assert f"{tmp_path / 'units.csv'}: row 1: missing column Name (name, 单位名称)" in result.stderr
    assert not (tmp_path / "z.yaml").exists()


def test_reporting_cycle_is_located(tmp_path: Path) -> None:
    (tmp_path / "units.csv").write_text("id,name,kind,parent\na,A,bureau,b\nb,B,bureau,a\n", encoding="utf-8")
    (tmp_path / "functions.csv").write_text("id,name,category,owner\nf,F,licensing,a\n", encoding="utf-8")
    result = run("import", tmp_path / "units.csv", tmp_path / "functions.csv", "-o", tmp_path / "z.yaml")
    assert result.exit_code == 2
    assert "row 2, column 'parent': reporting cycle: a -> b -> a" in result.stderr


def test_results_xlsx_holds_the_csv_tables_with_numbers_as_numbers(tmp_path: Path) -> None:
    scenario = tmp_path / "short.yaml"
    scenario.write_text(TUTORIAL.read_text(encoding="utf-8").replace("horizon_days: 750", "horizon_days: 300"),
                        encoding="utf-8")
    out = tmp_path / "out"
    assert run("compare", scenario, "-r", "2", "--out", out, "--records").exit_code == 0
    book = openpyxl.load_workbook(out / "results.xlsx", read_only=True)
    assert book.sheetnames == ["about", "summary", "difference", "replications", "records"]
    reps = pd.read_csv(out / "replications.csv")
    sheet = pd.read_excel(out / "results.xlsx", sheet_name="replications")
    pd.testing.assert_frame_equal(sheet, reps, check_dtype=False, rtol=1e-14)
    records = pd.read_excel(out / "results.xlsx", sheet_name="records")
    assert len(records) == len(pd.read_csv(out / "records.csv"))
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    rows = {r[0]: r[1:] for r in book["summary"].iter_rows(min_row=2, values_only=True)}
    mean = rows["lead_time_working_days.mean"]
    # Excel keeps 15 significant digits (openpyxl writes 16): equal to that precision.
    assert mean == pytest.approx((summary["before"]["lead_time_working_days"]["mean"],
                                  summary["after"]["lead_time_working_days"]["mean"]), rel=1e-14)
    assert isinstance(mean[0], float)
    # run: one state, and its busiest queues
    out_run = tmp_path / "run"
    assert run("run", scenario, "-r", "2", "--out", out_run).exit_code == 0
    assert openpyxl.load_workbook(out_run / "results.xlsx", read_only=True).sheetnames == [
        "about", "summary", "bottlenecks", "replications"]


def _formula_cells(path: Path) -> list[str]:
    book = openpyxl.load_workbook(path)  # not read-only: each cell's data_type, "f" for a formula
    return [f"{sheet.title}!{cell.coordinate}" for sheet in book.worksheets for row in sheet.iter_rows()
            for cell in row if cell.data_type == "f"]


def test_workbook_text_that_excel_would_run_is_text_as_in_csv(tmp_path: Path) -> None:
    """The CSV writer's rule, the same function: a leading ' on =, +, -, @, tab, CR; numbers stay numbers."""
    from orgsim._io import neutralise_cell

    rows = [["=1+1", 1.5], ["+cmd", -2], ["-x", None], ["@SUM(A1)", 3], ["\tz", 4], ["-1.5", 5], ["plain", 6]]
    path = write_workbook(tmp_path / "t.xlsx", {"t": (["=HYPERLINK(\"x\")", "n"], rows)})
    assert _formula_cells(path) == []
    got = [list(r) for r in openpyxl.load_workbook(path)["t"].iter_rows(values_only=True)]
    assert got == [["'=HYPERLINK(\"x\")", "n"], ["'=1+1", 1.5], ["'+cmd", -2], ["'-x", None], ["'@SUM(A1)", 3],
                   ["'\tz", 4], ["-1.5", 5], ["plain", 6]]
    assert [r[0] for r in got[1:]] == [neutralise_cell(r[0]) for r in rows]


def test_results_xlsx_never_holds_a_formula_from_a_scenarios_names(tmp_path: Path) -> None:
    import yaml

    doc = yaml.safe_load(TUTORIAL.read_text(encoding="utf-8"))
    doc["scenario"]["name"] = "=HYPERLINK(\"http://x\",\"y\")"
    doc["workload"]["project_types"][0]["name_en"] = "@SUM(1)"
    doc["workload"]["project_types"][0]["name"] = "+cmd"
    doc["simulation"]["horizon_days"] = 300
    scenario = tmp_path / "evil.yaml"
    scenario.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    assert run("compare", scenario, "-r", "2", "--out", out).exit_code == 0
    assert _formula_cells(out / "results.xlsx") == []
    book = openpyxl.load_workbook(out / "results.xlsx")
    about = {r[0]: r[1] for r in book["about"].iter_rows(min_row=2, values_only=True)}
    assert about["scenario"] == "'=HYPERLINK(\"http://x\",\"y\")"
    summary = {r[0]: r[1:] for r in book["summary"].iter_rows(min_row=2, values_only=True)}
    first = doc["workload"]["project_types"][0]["id"]
    assert summary[f"by_project_type.{first}.name_en"] == ("'@SUM(1)", "'@SUM(1)")
    assert summary[f"by_project_type.{first}.name"] == ("'+cmd", "'+cmd")


@pytest.mark.parametrize("form", ["xlsx", "csv"])
def test_names_excel_would_run_are_written_as_text_and_read_back_as_they_were(tmp_path: Path, form: str) -> None:
    import yaml

    doc = yaml.safe_load(TUTORIAL.read_text(encoding="utf-8"))
    doc["units"][0]["name_en"] = "=HYPERLINK(\"http://x\",\"y\")"
    doc["units"][1]["name"] = "-管委会"
    scenario = tmp_path / "evil.yaml"
    scenario.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    target = tmp_path / ("org.xlsx" if form == "xlsx" else "tables")
    assert run("export-org", scenario, "-o", target).exit_code == 0
    if form == "xlsx":
        assert _formula_cells(target) == []
        units = list(openpyxl.load_workbook(target)["units"].iter_rows(values_only=True))
        tables = [target]
    else:
        units = list(csv.reader((target / "units.csv").read_text(encoding="utf-8").splitlines()))
        tables = sorted(target.glob("*.csv"))
    assert any(cell == "'=HYPERLINK(\"http://x\",\"y\")" for row in units for cell in row)
    assert any(cell == "'-管委会" for row in units for cell in row)
    out = tmp_path / "zone.yaml"
    assert run("import", *tables, "-o", out).exit_code == 0
    assert organisation(out) == organisation(scenario)


@pytest.mark.parametrize("tables", [["tutorial-org.xlsx"], ["tutorial-org/单位.csv", "tutorial-org/职能.csv"]])
def test_the_example_tables_in_docs_are_the_tutorials_organisation(tmp_path: Path, tables: list[str]) -> None:
    out = tmp_path / "zone.yaml"
    result = run("import", *(ROOT / "docs" / "examples" / t for t in tables), "-o", out, "--base", TUTORIAL)
    assert result.exit_code == 0, result.output
    assert organisation(out) == organisation(TUTORIAL)


def test_export_org_in_chinese_on_request(tmp_path: Path) -> None:
    english, chinese = tmp_path / "en.xlsx", tmp_path / "zh.xlsx"
    assert run("export-org", TUTORIAL, "-o", english, "--lang", "en").exit_code == 0
    result = run("export-org", TUTORIAL, "-o", chinese, "--lang", "zh")
    assert result.exit_code == 0 and "已写入" in result.stderr, result.output
    assert openpyxl.load_workbook(english).sheetnames == ["units", "functions"]
    assert openpyxl.load_workbook(chinese).sheetnames == ["单位", "职能"]
