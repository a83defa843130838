"""An organisation in the tables a planner keeps (units, functions), and results as an Excel workbook.

Two tables describe an organisation: **units** (one row per unit: its id,
name, kind, parent, leaders and staff) and **functions** (one row per
function: its owner, category, power items and officers, and optionally the
numbers a simulation needs). They live as two sheets of one ``.xlsx``
workbook or as two CSV files. Headers may be the field names of the scenario
format (``parent``), their English labels (``Parent unit``) or Chinese
(``上级单位``); kinds and categories may be given in Chinese too (``局`` for
``bureau``, ``行政许可`` for ``licensing``). :data:`UNIT_COLUMNS` and
:data:`FUNCTION_COLUMNS` list them all; ``docs/data.md`` shows them with an
example workbook.

:func:`read_org_tables` reads the tables, checking every row against the
scenario format and every reference, and reports each problem at its file,
sheet, row and column. :func:`org_document` turns them into a scenario
document (with the other sections of a base scenario, when given);
:func:`write_org_workbook` writes a scenario's organisation to the same
tables, so that writing and reading back gives the same organisation.
:func:`write_workbook` writes any tables as a workbook, one sheet each, with
numbers as numbers and text as text, never a formula (``results.xlsx``).

openpyxl is imported only inside the functions that read or write ``.xlsx``.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orgsim._io import neutralise_cell, restore_cell
from orgsim.errors import Problem, ScenarioError

__all__ = [
    "Column", "UNIT_COLUMNS", "FUNCTION_COLUMNS", "TABLE_NAMES", "KIND_WORDS", "CATEGORY_WORDS",
    "JURISDICTION_WORDS", "OrgTables", "read_org_tables", "org_document", "org_rows", "write_org_workbook",
    "write_org_csv", "write_workbook", "result_tables", "MAX_SHEET_ROWS",
]

#: Rows an Excel sheet holds (the header included).
MAX_SHEET_ROWS = 1_048_576


@dataclass(frozen=True)
class Column:
    """One column of a table: the scenario field it fills, and the headers it may have."""

    field: str
    english: str
    chinese: str
    #: "text", "id", "int", "float", "bool" or "distribution"
    kind: str
    required: bool = False
    #: Other headers accepted for it.
    aliases: tuple[str, ...] = ()

    def headers(self) -> tuple[str, ...]:
        return (self.field, self.english, self.chinese, *self.aliases)


UNIT_COLUMNS: tuple[Column, ...] = (
    Column("id", "Unit id", "单位编号", "id", True, ("编号",)),
    Column("name", "Name", "单位名称", "text", True, ("名称",)),
    Column("name_en", "English name", "英文名称", "text"),
    Column("kind", "Kind", "单位类型", "text", True, ("类型",)),
    Column("parent", "Parent unit", "上级单位", "text", False, ("上级",)),
    Column("jurisdiction", "Jurisdiction", "管辖层级", "text", False, ("层级",)),
    Column("chief", "Chief posts", "正职", "int", False, ("领导正职",)),
    Column("deputies", "Deputy posts", "副职", "int", False, ("领导副职",)),
    Column("support", "Support staff", "综合保障人员", "int", False, ("辅助人员",)),
    Column("pooled", "Shared case queue", "统一调配办件", "bool"),
    Column("non_case_share", "Share of time not on cases", "非办件时间占比", "float"),
    Column("support_hours_per_case", "Support hours per case", "每件综合保障小时", "float"),
    Column("support_hours_per_officer_per_year", "Support hours per officer per year", "每名办事人员综合保障小时/年",
           "float"),
)

FUNCTION_COLUMNS: tuple[Column, ...] = (
    Column("id", "Function id", "职能编号", "id", True, ("编号",)),
    Column("name", "Name", "职能名称", "text", True, ("名称", "事项名称")),
    Column("name_en", "English name", "英文名称", "text"),
    Column("category", "Category", "事项类别", "text", True, ("类别",)),
    Column("owner", "Owner unit", "承担单位", "text", True, ("责任单位",)),
    Column("power_items", "Power items", "权力事项数", "int", False, ("事项数",)),
    Column("officers", "Officers", "办事人员", "int", False, ("经办人员",)),
    Column("service_time", "Service time", "办理时间", "distribution"),
    Column("signoff_levels", "Sign-off levels", "签批层级", "int"),
    Column("rework_probability", "Rework probability", "补正率", "float", False, ("退件率",)),
    Column("standing_hours_per_year", "Standing hours per year", "常规工作小时/年", "float"),
)

#: Names a sheet (or a CSV file's stem) may have, per table.
TABLE_NAMES: dict[str, tuple[str, ...]] = {
    "units": ("units", "unit", "单位", "机构", "单位表", "机构设置"),
    "functions": ("functions", "function", "职能", "职责", "权力事项", "职能表", "权责清单"),
}

#: Chinese words for unit kinds, power categories and jurisdictions.
KIND_WORDS = {
    "管委会": "committee", "党工委": "party_committee", "部门": "department", "局": "bureau",
    "办公室": "office", "事业单位": "institution", "中心": "centre", "窗口": "window", "园区": "park",
    "街道": "sub_district", "街道办事处": "sub_district", "镇": "township", "乡镇": "township",
    "市直部门": "city_department", "公司": "company", "区政府": "district", "区": "district",
    "县级市": "county", "县": "county", "县政府": "county",
}
CATEGORY_WORDS = {
    "行政许可": "licensing", "行政处罚": "penalty", "行政强制": "coercion", "行政征收": "levy",
    "行政给付": "payment", "行政检查": "inspection", "行政确认": "confirmation", "行政奖励": "reward",
    "行政裁决": "adjudication", "其他行政权力": "other_power", "社会事务": "social_affairs",
    "经济发展": "economic_development", "招商引资": "investment_attraction",
    "开发运营": "development_operation", "服务": "service", "综合保障": "support",
}
JURISDICTION_WORDS = {"开发区": "zone", "园区": "zone", "市": "city", "区": "district", "区县": "district",
                      "县": "county", "县级市": "county", "省": "province", "公司": "company"}
_TRUE = {"true", "yes", "y", "1", "是", "对", "√"}
_FALSE = {"false", "no", "n", "0", "否", "", "×"}


@dataclass(frozen=True)
class OrgTables:
    """The units and functions read from tables, as scenario entries (``units:`` and ``functions:``)."""

    units: list[dict[str, Any]]
    functions: list[dict[str, Any]]
    #: Where each table came from, for messages: "file" or "file, sheet NAME".
    sources: dict[str, str]


# ---------------------------------------------------------------- reading


@dataclass
class _Table:
    name: str  # "units" or "functions"
    where: str  # file, or "file, sheet S"
    file: str
    header_row: int
    headers: list[str]
    rows: list[tuple[int, list[Any]]]  # (row number as the user sees it, cells)


def _normal(text: Any) -> str:
    return str(text).strip().lower().replace("_", " ").replace("（", "(").replace("）", ")")


def _which_table(name: str) -> str | None:
    key = _normal(Path(name).stem if "." in name else name)
    for table, names in TABLE_NAMES.items():
        if key in {_normal(n) for n in names}:
            return table
    return None


def _rows_of(cells: Iterable[Sequence[Any]]) -> tuple[int, list[str], list[tuple[int, list[Any]]]] | None:
    """Header row number, headers and data rows (numbered from 1 as a spreadsheet does) of a sheet."""
    header_row, headers, rows = 0, None, []
    for number, row in enumerate(cells, start=1):
        values = list(row)
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        if headers is None:
            header_row, headers = number, ["" if v is None else str(v).strip() for v in values]
        else:
            rows.append((number, values))
    return None if headers is None else (header_row, headers, rows)


def _table_by_headers(headers: list[str]) -> str | None:
    names = {_normal(h) for h in headers}
    if names & {_normal(h) for h in FUNCTION_COLUMNS[4].headers()}:  # an owner column
        return "functions"
    if names & {_normal(h) for h in UNIT_COLUMNS[0].headers()}:
        return "units"
    return None


def _read_xlsx(path: Path) -> list[_Table]:
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover - a dependency
        raise ScenarioError(f"{path}: reading .xlsx needs openpyxl ({exc})") from None
    from zipfile import BadZipFile

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, OSError, KeyError, ValueError) as exc:
        raise ScenarioError(f"{path}: not an Excel workbook",
                            [Problem("", f"cannot read as an .xlsx workbook ({exc})", str(path))]) from None
    tables = []
    try:
        for sheet in book.worksheets:
            table = _which_table(sheet.title)
            read = _rows_of(sheet.iter_rows(values_only=True))
            if read is None:
                continue
            header_row, headers, rows = read
            table = table or _table_by_headers(headers)
            if table is not None:
                tables.append(_Table(table, f"{path}, sheet {sheet.title}", str(path), header_row, headers, rows))
    finally:
        book.close()
    return tables


def _read_csv(path: Path) -> list[_Table]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not UTF-8",
                            [Problem("", "not UTF-8 text; save the CSV as UTF-8", str(path))]) from None
    read = _rows_of(csv.reader(text.splitlines()))
    if read is None:
        return []
    header_row, headers, rows = read
    table = _which_table(path.name) or _table_by_headers(headers)
    if table is None:
        raise ScenarioError(f"{path}: which table?", [Problem(
            "", "cannot tell whether this is the units or the functions table: name the file units.csv or "
            "functions.csv (单位.csv, 职能.csv), or give it an id and an owner column", str(path))])
    return [_Table(table, str(path), str(path), header_row, headers, [(n, [_csv_cell(v) for v in r]) for n, r in rows])]


def _csv_cell(value: str) -> Any:
    return None if not value.strip() else value


def _columns_of(table: _Table, columns: tuple[Column, ...], problems: list[Problem]) -> dict[str, int]:
    """Column index of each field in ``table`` (missing required columns are problems)."""
    by_header = {_normal(h): c for c in columns for h in c.headers()}
    index: dict[str, int] = {}
    for i, header in enumerate(table.headers):
        if not header:
            continue
        column = by_header.get(_normal(header))
        if column is None:
            problems.append(Problem(f"row {table.header_row}, column {header!r}",
                                    f"unknown column; known: {', '.join(c.english for c in columns)}",
                                    table.where))
        elif column.field in index:
            problems.append(Problem(f"row {table.header_row}, column {header!r}",
                                    f"a second column for {column.field}", table.where))
        else:
            index[column.field] = i
    for column in columns:
        if column.required and column.field not in index:
            problems.append(Problem(f"row {table.header_row}", f"missing column {column.english} "
                                    f"({column.field}, {column.chinese})", table.where))
    return index


def _cell(value: Any, column: Column, words: Mapping[str, str] | None) -> Any:
    """A cell as the scenario format wants it; ValueError says what is wrong."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if column.kind in ("text", "id"):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(restore_cell(value)).strip()  # a name written as '=... (export-org) reads back as =...
        return words.get(text, text) if words else text
    if column.kind == "int":
        if isinstance(value, bool):
            raise ValueError(f"expected a whole number, got {value!r}")
        if isinstance(value, str):
            try:
                value = float(value.strip().replace(",", ""))
            except ValueError:
                raise ValueError(f"expected a whole number, got {value!r}") from None
        if not (isinstance(value, (int, float)) and math.isfinite(value) and float(value).is_integer()):
            raise ValueError(f"expected a whole number, got {value!r}")
        return int(value)
    if column.kind == "float":
        if isinstance(value, str):
            text = value.strip()
            try:
                return float(text[:-1]) / 100 if text.endswith("%") else float(text.replace(",", ""))
            except ValueError:
                raise ValueError(f"expected a number, got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected a number, got {value!r}")
        return float(value)
    if column.kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"expected yes or no (是/否), got {value!r}")
    # A distribution, written as the scenario format writes it: {dist: gamma, mean: 2, cv: 0.5, unit: days}
    import yaml

    try:
        data = yaml.safe_load(str(value))
    except yaml.YAMLError:
        data = None
    if not isinstance(data, dict):
        raise ValueError("expected a distribution such as {dist: gamma, mean: 2, cv: 0.5, unit: days}, "
                         f"got {value!r}")
    return data


_WORDS = {"kind": KIND_WORDS, "category": CATEGORY_WORDS, "jurisdiction": JURISDICTION_WORDS}


def _entries(table: _Table, columns: tuple[Column, ...], problems: list[Problem]) -> list[tuple[int, dict[str, Any]]]:
    index = _columns_of(table, columns, problems)
    by_field = {c.field: c for c in columns}
    out = []
    for number, cells in table.rows:
        entry: dict[str, Any] = {}
        for field, i in index.items():
            column = by_field[field]
            try:
                value = _cell(cells[i] if i < len(cells) else None, column, _WORDS.get(field))
            except ValueError as exc:
                problems.append(Problem(f"row {number}, column {table.headers[i]!r}", str(exc), table.where))
                continue
            if value is not None:
                entry[field] = value
        out.append((number, entry))
    return out


def _unit_entry(raw: dict[str, Any]) -> dict[str, Any]:
    """A units row as a scenario's unit: chief and deputies under ``leaders``, in the format's order."""
    entry: dict[str, Any] = {}
    for key, value in raw.items():
        if key in ("chief", "deputies"):
            entry.setdefault("leaders", {})[key] = value
        else:
            entry[key] = value
    return entry


def _model_problems(model: Any, entry: dict[str, Any], table: _Table, number: int,
                    headers: Mapping[str, str]) -> tuple[Any | None, list[Problem]]:
    """``entry`` validated by ``model``; problems located at the row and the column of the field."""
    from pydantic import ValidationError

    from orgsim.scenario.loader import _message

    try:
        return model.model_validate(entry), []
    except ValidationError as exc:
        out = []
        for err in exc.errors(include_url=False):
            loc = [p for p in err["loc"] if isinstance(p, str)]
            field = loc[-1] if loc and loc[0] != "service_time" else "service_time"
            if loc[:1] == ["leaders"] and len(loc) > 1:
                field = loc[1]
            column = headers.get(field, field)
            out.append(Problem(f"row {number}, column {column!r}", _message(err), table.where))
        return None, out


def read_org_tables(paths: Sequence[str | Path]) -> OrgTables:
    """The units and functions in ``paths`` (one .xlsx with both sheets, or a CSV file per table).

    Raises :class:`~orgsim.errors.ScenarioError` listing every problem at its
    file, sheet, row and column: an unknown or missing column, a cell that is
    not what its column holds, a row the scenario format refuses, a
    duplicate id, an unknown parent or owner, a reporting cycle.
    """
    from orgsim.scenario.schema import FunctionSpec, UnitSpec

    tables: list[_Table] = []
    for name in paths:
        path = Path(name)
        if not path.is_file():
            raise ScenarioError(f"{path}: no such file", [Problem("", "no such file", str(path))])
        tables += _read_xlsx(path) if path.suffix.lower() in (".xlsx", ".xlsm") else _read_csv(path)
    found = {t.name: [x for x in tables if x.name == t.name] for t in tables}
    problems: list[Problem] = []
    where = ", ".join(str(p) for p in paths)
    for table in ("units", "functions"):
        if table not in found:
            names = "/".join(TABLE_NAMES[table][:3])
            problems.append(Problem("", f"no {table} table: a sheet (or CSV file) named {names}", where))
        elif len(found[table]) > 1:
            problems.append(Problem("", f"two {table} tables: {found[table][0].where} and {found[table][1].where}",
                                    where))
    if problems:
        raise ScenarioError(f"{where}: {len(problems)} problem(s)", problems)
    units_t, functions_t = found["units"][0], found["functions"][0]
    unit_rows = _entries(units_t, UNIT_COLUMNS, problems)
    function_rows = _entries(functions_t, FUNCTION_COLUMNS, problems)
    unit_headers = {c.field: _header_in(units_t, c) for c in UNIT_COLUMNS}
    function_headers = {c.field: _header_in(functions_t, c) for c in FUNCTION_COLUMNS}

    # Ids, names: a parent or owner may be given by id or by name.
    units: list[tuple[int, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for number, raw in unit_rows:
        entry = _unit_entry(raw)
        spec, found_problems = _model_problems(UnitSpec, {**entry, "parent": None}, units_t, number, unit_headers)
        problems += found_problems
        if spec is None:
            continue
        if spec.id in seen:
            problems.append(Problem(f"row {number}, column {unit_headers['id']!r}",
                                    f"duplicate unit id {spec.id!r} (first at row {seen[spec.id]})", units_t.where))
            continue
        seen[spec.id] = number
        units.append((number, entry))
    by_name = _names([e for _, e in units])
    for number, entry in units:
        parent = entry.get("parent")
        if parent is not None:
            resolved = parent if parent in seen else by_name.get(parent)
            if resolved is None:
                problems.append(Problem(f"row {number}, column {unit_headers['parent']!r}",
                                        f"unknown unit {parent!r} (neither an id nor a name in the units table)",
                                        units_t.where))
            elif resolved == entry["id"]:
                problems.append(Problem(f"row {number}, column {unit_headers['parent']!r}",
                                        f"unit {entry['id']!r} reports to itself", units_t.where))
            else:
                entry["parent"] = resolved
    problems += _cycles(units, units_t, unit_headers["parent"])

    functions: list[dict[str, Any]] = []
    seen_f: dict[str, int] = {}
    for number, entry in function_rows:
        owner = entry.get("owner")
        if owner is not None and owner not in seen:
            resolved = by_name.get(owner)
            if resolved is None:
                problems.append(Problem(f"row {number}, column {function_headers['owner']!r}",
                                        f"unknown unit {owner!r} (neither an id nor a name in the units table)",
                                        functions_t.where))
                continue
            entry["owner"] = resolved
        spec, found_problems = _model_problems(FunctionSpec, entry, functions_t, number, function_headers)
        problems += found_problems
        if spec is None:
            continue
        if spec.id in seen_f or spec.id in seen:
            first = f"row {seen_f[spec.id]}" if spec.id in seen_f else f"a unit, {units_t.where} row {seen[spec.id]}"
            problems.append(Problem(f"row {number}, column {function_headers['id']!r}",
                                    f"duplicate id {spec.id!r} (first at {first})", functions_t.where))
            continue
        seen_f[spec.id] = number
        functions.append(entry)
    if problems:
        problems.sort(key=_row_order)
        raise ScenarioError(f"{where}: {len(problems)} problem(s)", problems)
    return OrgTables([e for _, e in units], functions, {"units": units_t.where, "functions": functions_t.where})


def _row_order(problem: Problem) -> tuple[str, int]:
    """Problems by table, then row, as the author reads them."""
    words = problem.path.split(",")[0].split()
    return (problem.file or "", int(words[1]) if len(words) == 2 and words[1].isdigit() else 0)


def _header_in(table: _Table, column: Column) -> str:
    """The header ``column`` has in ``table`` (its English label when the table lacks it)."""
    names = {_normal(h) for h in column.headers()}
    for header in table.headers:
        if _normal(header) in names:
            return header
    return column.english


def _names(units: list[dict[str, Any]]) -> dict[str, str]:
    """Unit id by name and by English name, for names that are unique."""
    count: dict[str, int] = {}
    out: dict[str, str] = {}
    for u in units:
        for key in ("name", "name_en"):
            if key in u:
                count[u[key]] = count.get(u[key], 0) + 1
                out[u[key]] = u["id"]
    return {k: v for k, v in out.items() if count[k] == 1}


def _cycles(units: list[tuple[int, dict[str, Any]]], table: _Table, header: str) -> list[Problem]:
    parent = {e["id"]: e.get("parent") for _, e in units}
    row = {e["id"]: n for n, e in units}
    out: list[Problem] = []
    reported: set[str] = set()
    for start in parent:
        path, u = [], start
        while u is not None and u not in path and u in parent:
            path.append(u)
            u = parent[u]
        if u is not None and u in path:
            cycle = path[path.index(u):]
            if not reported & set(cycle):
                reported |= set(cycle)
                out.append(Problem(f"row {row[cycle[0]]}, column {header!r}",
                                   "reporting cycle: " + " -> ".join(cycle + [cycle[0]]), table.where))
    return out


def org_document(tables: OrgTables, base: Mapping[str, Any] | None = None, *, title: str = "") -> dict[str, Any]:
    """A scenario document: the tables' organisation, and every other section of ``base`` (a scenario's data).

    Without ``base`` the document is a skeleton: the organisation alone, with
    a name and an assumption saying where it came from.
    """
    doc: dict[str, Any] = dict(base) if base else {}
    meta = dict(doc.get("scenario") or {"name": title or "imported organisation"})
    note = {"about": "units and functions",
            "reason": f"imported from {tables.sources['units']} and {tables.sources['functions']}; "
                      "staff and powers as the planners' tables give them"}
    meta["assumptions"] = [*meta.get("assumptions", []), note]
    doc["scenario"] = meta
    doc["units"] = tables.units
    doc["functions"] = tables.functions
    order = ["scenario", "units", "functions", "workload", "reforms", "simulation"]
    return {k: doc[k] for k in order if k in doc} | {k: v for k, v in doc.items() if k not in order}


# ---------------------------------------------------------------- writing


def org_rows(scenario: Any, chinese: bool = False) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """The organisation of ``scenario`` as the two tables: name -> (headers, rows)."""
    def header(c: Column) -> str:
        return c.chinese if chinese else c.field

    # In Chinese, kinds, categories, jurisdictions and yes/no in the words the reader accepts (the first of each).
    words = {field: {v: k for k, v in reversed(table.items())} for field, table in _WORDS.items()} if chinese else {}

    def shown(field: str, value: Any) -> Any:
        if chinese and isinstance(value, bool):
            return "是" if value else "否"
        return words.get(field, {}).get(value, value)

    unit_rows = []
    for u in scenario.units:
        data = u.model_dump(mode="json")
        values = {**data, "chief": u.leaders.chief, "deputies": u.leaders.deputies}
        unit_rows.append([shown(c.field, values.get(c.field)) for c in UNIT_COLUMNS])
    function_rows = []
    for f in scenario.functions:
        data = f.model_dump(mode="json")
        if f.service_time is not None:
            data["service_time"] = _flow_text(f.service_time.model_dump(mode="json"))
        function_rows.append([shown(c.field, data.get(c.field)) for c in FUNCTION_COLUMNS])
    names = ("单位", "职能") if chinese else ("units", "functions")
    return {names[0]: ([header(c) for c in UNIT_COLUMNS], unit_rows),
            names[1]: ([header(c) for c in FUNCTION_COLUMNS], function_rows)}


def _flow_text(data: Mapping[str, Any]) -> str:
    """A distribution on one line, as a scenario file writes it: ``{dist: gamma, mean: 2, cv: 0.5, unit: days}``."""
    import json

    parts = []
    for k, v in data.items():
        shown = json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v
        parts.append(f"{k}: {shown}")
    return "{" + ", ".join(parts) + "}"


def write_org_workbook(scenario: Any, path: str | Path, chinese: bool = False) -> Path:
    """Write ``scenario``'s units and functions as a two-sheet workbook, whole or not at all."""
    tables = org_rows(scenario, chinese)
    return write_workbook(path, {name: (headers, rows) for name, (headers, rows) in tables.items()})


def write_org_csv(scenario: Any, folder: str | Path, chinese: bool = False) -> list[Path]:
    """Write ``scenario``'s units and functions as two UTF-8 CSV files in ``folder``, each whole or not at all."""
    import io

    from orgsim._io import atomic_write_text

    out = []
    for name, (headers, rows) in org_rows(scenario, chinese).items():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([neutralise_cell(h) for h in headers])
        writer.writerows([["" if v is None else neutralise_cell(v) for v in row] for row in rows])
        out.append(atomic_write_text(Path(folder) / f"{name}.csv", buffer.getvalue()))
    return out


def write_workbook(path: str | Path, sheets: Mapping[str, Any]) -> Path:
    """Write tables to an .xlsx workbook, one sheet each, whole or not at all.

    ``sheets`` maps a sheet name to a pandas DataFrame or to ``(headers, rows)``.
    Numbers stay numbers (NaN and None become empty cells); text that Excel
    would run as a formula gets a leading ``'``, as in every CSV orgsim writes
    (:func:`orgsim._io.neutralise_cell`). A table longer than a sheet holds
    (:data:`MAX_SHEET_ROWS`) is cut there, and the sheet's last row says so.
    """
    import openpyxl

    from orgsim._io import atomic_write

    def write(tmp: Path) -> None:
        book = openpyxl.Workbook(write_only=True)
        for name, table in sheets.items():
            headers, rows = _headers_rows(table)
            sheet = book.create_sheet(title=_sheet_title(name))
            sheet.append([neutralise_cell(h) for h in headers])
            limit = MAX_SHEET_ROWS - 2
            for i, row in enumerate(rows):
                if i == limit:
                    sheet.append([f"... cut: the sheet holds {limit:,} rows; the CSV beside it has them all"])
                    break
                sheet.append([_excel_value(v) for v in row])
        book.save(tmp)

    return atomic_write(path, write)


def _headers_rows(table: Any) -> tuple[list[str], Iterable[Sequence[Any]]]:
    if isinstance(table, tuple):
        headers, rows = table
        return [str(h) for h in headers], rows
    return [str(c) for c in table.columns], table.itertuples(index=False, name=None)


def _sheet_title(name: str) -> str:
    # Excel: at most 31 characters, none of []:*?/\
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in str(name))
    return clean[:31] or "sheet"


def _excel_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    try:
        import numpy as np

        if isinstance(value, np.generic):
            value = value.item()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, (list, tuple, dict)):
        import json

        value = json.dumps(value, ensure_ascii=False, default=str)
    # openpyxl writes a str starting with "=" as a formula: text stays text, as in orgsim's CSV files.
    return neutralise_cell(str(value))


# ---------------------------------------------------------------- results


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as ``a.b.c`` keys; a [low, high] interval as two keys."""
    out: dict[str, Any] = {}
    if isinstance(data, Mapping):
        for k, v in data.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(data, (list, tuple)) and len(data) == 2 and all(
            v is None or isinstance(v, (int, float)) for v in data) and prefix.endswith("ci95"):
        out[f"{prefix}.low"], out[f"{prefix}.high"] = data
    elif isinstance(data, (list, tuple)):
        out[prefix] = ", ".join(str(v) for v in data)
    else:
        out[prefix] = data
    return out


_STATE_TABLES = ("bottlenecks",)


def result_tables(summary: Mapping[str, Any], replications: Any, records: Any | None = None) -> dict[str, Any]:
    """The tables of ``results.xlsx``: a ``compare``/``run`` summary document, its replications and records.

    ``summary`` is the ``--json`` document (docs/compare-json.md): its fields
    are read as they are, nothing is computed again. Sheets: ``about`` (the
    scenario, seed, replications, version and hash), ``summary`` (every
    statistic of each state, one row each, a column per state), ``difference``
    (compare: after minus before with its 95% CI; with packages, a column per
    package), ``bottlenecks`` (run), ``replications`` and, when kept, ``records``.
    """
    packages = list(summary.get("packages") or [])
    if packages:  # compare with packages: before and each package
        states = ["before", *packages]
        parts: Mapping[str, Any] = summary["states"]
    else:
        states = [k for k in ("before", "after") if isinstance(summary.get(k), Mapping)]
        parts = summary
    about_keys = [k for k, v in summary.items() if not isinstance(v, (Mapping, list)) and k not in states]
    tables: dict[str, Any] = {"about": (["field", "value"], [[k, summary[k]] for k in about_keys])}
    if states:  # compare
        flats = {s: _flat(parts[s]) for s in states}
        keys = list(dict.fromkeys(k for s in states for k in flats[s]))
        tables["summary"] = (["statistic", *states], [[k, *(flats[s].get(k) for s in states)] for k in keys])
        if packages:
            diffs = {p: _flat(summary["difference"][p]) for p in packages}
            keys = list(dict.fromkeys(k for p in packages for k in diffs[p]))
            tables["difference"] = (["statistic", *(f"{p} minus before" for p in packages)],
                                    [[k, *(diffs[p].get(k) for p in packages)] for k in keys])
        else:
            diff = _flat(summary.get("difference", {}))
            tables["difference"] = (["statistic", "after minus before"], [[k, v] for k, v in diff.items()])
    else:  # run
        flat = _flat({k: v for k, v in summary.items() if k not in about_keys and k not in _STATE_TABLES})
        tables["summary"] = (["statistic", str(summary.get("state", "value"))], [[k, v] for k, v in flat.items()])
        rows = summary.get("bottlenecks") or []
        if rows:
            headers = list(rows[0])
            tables["bottlenecks"] = (headers, [[row.get(h) for h in headers] for row in rows])
    tables["replications"] = replications
    if records is not None:
        tables["records"] = records
    return tables
