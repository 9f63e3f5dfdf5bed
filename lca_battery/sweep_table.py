"""Scenario tables for ``sweep --table``: CSV or XLSX, one row a scenario, one column a study field.

Cells hold values as ``--set`` takes them (``0.26``, ``SE``, ``{pv_rooftop: 0.3}``); an empty
cell leaves the field at the study's value. Errors name the file, the row and the column.
"""
from __future__ import annotations

from pathlib import Path

from .errors import LcaBatteryError, StudyError, TableCellError

#: Rows read at most (a sweep holds its rows in memory, see api.MAX_SCENARIOS).
MAX_ROWS = 2_000_000


def cell_error(exc: StudyError, row: int, columns) -> TableCellError:
    """The error of the scenario built from table row ``row`` (0-based) with the table's ``columns``: the row,
    and the column when the field at fault is one of the table's cells."""
    column = exc.field if exc.field in columns else None
    col = f", column '{column}'" if column else ""
    return TableCellError(f"scenario table row {row + 1}{col}: {exc.message}", row=row + 1, column=column,
                          file=exc.file, field=exc.field, allowed=exc.allowed)


def read_scenario_table(path: str | Path) -> list[dict]:
    """Rows of a CSV/XLSX scenario table as ``{study path: value}`` mappings (empty cells left out)."""
    from .study import _parse_value
    path = Path(path)
    if not path.is_file():
        raise LcaBatteryError(f"scenario table not found: {path}", field="--table")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        import csv
        with path.open(newline="", encoding="utf-8-sig") as fh:
            raw = list(csv.reader(fh))
    elif suffix in (".xlsx", ".xlsm"):
        import openpyxl
        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:     # not a workbook
            raise LcaBatteryError(f"cannot read the workbook {path}: {exc}", field="--table") from None
        raw = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
        wb.close()
    else:
        raise LcaBatteryError(f"scenario table {path.name}: unknown format '{suffix}'", field="--table",
                              allowed=".csv or .xlsx")
    raw = [r for r in raw if any(c not in (None, "") for c in r)]
    if len(raw) < 2:
        raise LcaBatteryError(f"scenario table {path.name} has no scenario rows (a header row, then one row a "
                              "scenario)", field="--table")
    if len(raw) - 1 > MAX_ROWS:
        raise LcaBatteryError(f"scenario table {path.name} has {len(raw) - 1:,} rows, more than {MAX_ROWS:,}",
                              field="--table")
    header = [str(h).strip() if h is not None else "" for h in raw[0]]
    for j, h in enumerate(header):
        if not h:
            raise LcaBatteryError(f"scenario table {path.name}: column {j + 1} has no header (a study field, "
                                  "e.g. plant.country)", field="--table")
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise LcaBatteryError(f"scenario table {path.name}: column '{dup[0]}' appears twice", field="--table")
    rows = []
    for i, r in enumerate(raw[1:], start=2):
        if len(r) > len(header) and any(c not in (None, "") for c in r[len(header):]):
            raise LcaBatteryError(f"scenario table {path.name} row {i}: more cells than header columns",
                                  field="--table")
        row = {}
        for h, c in zip(header, r):
            if c is None or (isinstance(c, str) and not c.strip()):
                continue
            try:
                row[h] = _parse_value(c, h) if isinstance(c, str) else c
            except StudyError as exc:
                raise StudyError(f"scenario table {path.name} row {i}, column '{h}': {exc.message}", field=h,
                                 allowed=exc.allowed) from None
        rows.append(row)
    return rows
