"""The footprint chart is drawn in a forked child while the rest of the results folder is written."""
import threading

import pytest

from lca_battery.report import outputs


def _write(path, text):
    path.write_text(text)


def _fail(path):
    raise ValueError(f"cannot draw into {path.name}")


@pytest.fixture
def fork(monkeypatch):
    """The forked path even when earlier tests left threads behind (Dask, progress bars): those threads
    only idle, and the functions forked here import nothing."""
    import lca_battery.report.charts as charts
    charts._pyplot()                                                  # imported before the fork
    monkeypatch.setattr(threading, "active_count", lambda: 1)


def test_child_writes_and_wait_returns(tmp_path, fork):
    wait = outputs._in_child(_write, tmp_path / "a.txt", "drawn")
    wait()
    assert (tmp_path / "a.txt").read_text() == "drawn"


def test_child_error_is_raised_in_the_parent(tmp_path, fork):
    wait = outputs._in_child(_fail, tmp_path / "b.png")
    with pytest.raises(RuntimeError, match=r"_fail failed in its worker process: ValueError: cannot draw into b.png"):
        wait()


def test_chart_from_child_is_the_inline_chart(default_result, tmp_path, fork, monkeypatch):
    from lca_battery.report.charts import footprint_chart
    outputs._in_child(footprint_chart, default_result, tmp_path / "forked")()
    monkeypatch.setattr(threading, "active_count", lambda: 2)        # another thread runs: drawn inline
    outputs._in_child(footprint_chart, default_result, tmp_path / "inline")()
    for ext in ("png", "svg"):
        assert (tmp_path / f"forked.{ext}").read_bytes() == (tmp_path / f"inline.{ext}").read_bytes()


def test_workbook_sheets_and_header(default_result, tmp_path):
    import openpyxl
    outputs.write_workbook(default_result, tmp_path / "f.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "f.xlsx")
    assert wb.sheetnames[:3] == ["summary", "stages", "gases"]
    ws = wb["stages"]
    assert [c.value for c in ws[1]] == ["stage", "kg_co2e_per_kwh", "share"] and ws[1][0].font.bold
    assert ws.freeze_panes == "A2"
    rows = {r[0]: r[1] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows == pytest.approx(default_result["stages"])
    shares = {r[0]: r[2] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert shares == pytest.approx({k: v / default_result["kg_co2e_per_kwh"] for k, v in default_result["stages"].items()})
    assert wb["processes"].max_row == len(default_result["processes"]) + 1
    # every CSV table of the folder is a sheet too, the plant's energy by step included (README)
    ws = wb["plant energy"]
    steps = default_result["plant"]["energy"]["steps"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["profile", "step", "name"] and ws.max_row == len(steps) + 1
    col = header.index("electricity_kwh_per_kwh")
    assert [r[col] for r in ws.iter_rows(min_row=2, values_only=True)] == pytest.approx(
        [s["electricity_kwh_per_kwh"] for s in steps])


def test_workbook_same_bytes_and_text_stays_text(tmp_path):
    """A re-run writes the same bytes (manifest hashes); a value that looks like a formula or a link, NaN and a
    NumPy scalar are written as text, an empty cell and a number."""
    import time
    import numpy as np
    import openpyxl
    sheets = {"s": [{"name": "=SUM(A1:A9)", "url": "https://example.org/x", "v": float("nan"), "n": np.float64(2.5)},
                    {"name": "plain", "flag": True}]}
    outputs._write_sheets(tmp_path / "a.xlsx", sheets)
    time.sleep(1.1)                                   # a save time in the file would now differ
    outputs._write_sheets(tmp_path / "b.xlsx", sheets)
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    ws = openpyxl.load_workbook(tmp_path / "a.xlsx")["s"]
    assert [c.value for c in ws[1]] == ["name", "url", "v", "n", "flag"]
    assert [c.value for c in ws[2]] == ["=SUM(A1:A9)", "https://example.org/x", None, 2.5, None]
    assert ws["A2"].data_type == "s" and not ws["B2"].hyperlink
    assert [c.value for c in ws[3]][:1] == ["plain"] and ws["E3"].value is True
