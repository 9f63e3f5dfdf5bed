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
    field = exc.field or ""
    column = field if field in columns else None
    if column is None and field:     # an unknown section ('foo' of a column 'foo.bar'): the one column under it
        under = [c for c in columns if isinstance(c, str) and c.startswith(field + ".")]
        column = under[0] if len(under) == 1 else None
    col = f", column '{column}'" if column else ""
    return TableCellError(f"scenario table row {row + 1}{col}: {exc.message}", row=row + 1, column=column,
                          file=exc.file, field=column or exc.field, allowed=exc.allowed)


def _workbook_rows(path: Path) -> list[list]:
    """The first sheet's rows (saved values). A formula cell without a saved value (a workbook written by a
    program and never opened in Excel) is an error naming its cell: read as empty it would silently leave the
    field at the study's value."""
    import openpyxl
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        values = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
        wb.close()
        wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
        formulas = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
        wb.close()
    except Exception as exc:     # noqa: BLE001 - not a workbook, whatever openpyxl says
        raise LcaBatteryError(f"cannot read the workbook {path}: {exc}", field="--table") from None
    header = values[0] if values else []
    for i, (vrow, frow) in enumerate(zip(values, formulas), start=1):
        for j, (v, f) in enumerate(zip(vrow, frow)):
            if v is None and isinstance(f, str) and f.startswith("="):
                col = f", column '{header[j]}'" if i > 1 and j < len(header) and header[j] is not None else ""
                # rows counted as scenarios, as every other error of the table counts them (the sheet's row too)
                where = f"row {i - 1} (sheet row {i})" if i > 1 else "header row (sheet row 1)"
                raise LcaBatteryError(f"scenario table {path.name} {where}{col}: the cell holds a formula ({f}) "
                                      "without a saved value (open and save the workbook in Excel, or type the "
                                      "value)", field="--table")
    return values


def read_scenario_table(path: str | Path) -> list[dict]:
    """Rows of a CSV/XLSX scenario table as ``{study path: value}`` mappings (empty cells left out)."""
    from .study import _parse_value
    path = Path(path)
    if not path.is_file():
        raise LcaBatteryError(f"scenario table not found: {path}", field="--table")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        import csv
        try:
            with path.open(newline="", encoding="utf-8-sig") as fh:
                raw = list(csv.reader(fh))
        except UnicodeDecodeError:
            raise LcaBatteryError(f"scenario table {path.name} is not UTF-8 text (in Excel: save as 'CSV UTF-8 "
                                  "(comma delimited)')", field="--table") from None
        first = next((r for r in raw if any(c.strip() for c in r)), [])
        if len(first) == 1 and (";" in first[0] or "\t" in first[0]):
            sep = "semicolons" if ";" in first[0] else "tabs"
            raise LcaBatteryError(f"scenario table {path.name}: its columns are separated by {sep}, a CSV table's "
                                  "by commas (in Excel: save as 'CSV UTF-8 (comma delimited)', or give an .xlsx)",
                                  field="--table")
    elif suffix in (".xlsx", ".xlsm"):
        raw = _workbook_rows(path)
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
