"""The fast sweep (compiled model, Woodbury updates) against `footprint --set ...` alone (bw2calc)."""
import json

import numpy as np
from pathlib import Path
import pytest

from conftest import EXAMPLE, assert_row_equals_footprint
from lca_battery.api import footprint, sweep
from lca_battery.cli import main

#: a sample of every kind of scenario: grid, recycled content, accounting rule, chemistry, method, a supplier's
#: site (its country's grid, or its own power technology)
SCENARIOS = [
    {"suppliers.nickel_matte_from_npi_id.power": "hydro"},
    {"suppliers.cam_nmc811.location": "KR", "plant.country": "SE"},
    {"plant.country": "CN"},
    {"plant.country": "SE"},
    {"plant.country": "PL", "recycling.recycled_content.Co.post_consumer": 0.26},
    {"recycling.recycled_content.Co.post_consumer": 0.5, "recycling.accounting": "cff"},
    {"recycling.eol_collection_rate": 0.6, "recycling.accounting": "avoided_burden"},
    {"recycling.eol_collection_rate": 0.6, "recycling.accounting": "cff", "plant.country": "KR"},
    {"cell.chemistry": "LFP", "cell.nominal_voltage_v": 3.2},
    {"cell.chemistry": "NMC622", "plant.country": "HU", "recycling.eol_collection_rate": 0.5},
    {"method": "ef31", "plant.country": "FR"},
]


def _check(row, one):
    assert_row_equals_footprint(row, one)
    assert not {k for k in row if k.startswith("stage:")} ^ {f"stage:{k}" for k in one["stages"]}


def test_fast_sweep_equals_footprint(engine, tmp_path):
    import csv
    keys = sorted({k for s in SCENARIOS for k in s})
    path = tmp_path / "scenarios.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(keys)
        for s in SCENARIOS:
            w.writerow([s.get(k, "") for k in keys])
    from lca_battery.sweep_table import read_scenario_table
    rows = sweep(EXAMPLE, table=read_scenario_table(path), engine=engine)
    assert len(rows) == len(SCENARIOS)
    for s, r in zip(SCENARIOS, rows):
        _check(r, footprint(EXAMPLE, s, engine=engine, details=False))


def test_refactorised_path_equals_footprint(engine, monkeypatch):
    import lca_battery.compiled as compiled
    import lca_battery.sweep_serial as sweep_serial
    monkeypatch.setattr(compiled, "MAX_RANK", 0)          # every changed scenario refactorised
    monkeypatch.setattr(sweep_serial, "_grid_frame", lambda *a, **k: None)     # per-scenario path, not the grid engine
    from lca_battery.compiled import batch_solver
    from lca_battery.linalg import SOLVER
    counts = batch_solver(engine).refactorisations
    before = dict(counts)
    rows = sweep(EXAMPLE, {"plant.country": ["CN", "SE"], "cell.chemistry": ["NMC811", "NMC111"]}, engine=engine)
    for r in rows:
        _check(r, footprint(EXAMPLE, {"plant.country": r["plant.country"], "cell.chemistry": r["cell.chemistry"]},
                            engine=engine, details=False))
    # a study's cells are all in the base pattern: with KLU each refactorisation reuses the base's symbolic analysis
    done = {k: counts[k] - before[k] for k in counts}
    assert sum(done.values()) >= 3
    assert done[True] == (sum(done.values()) if SOLVER.startswith("klu") else 0) and (
        done[False] == 0 if SOLVER.startswith("klu") else True)


def test_fast_equals_bw2calc_sweep_on_grid(engine):
    grid = {"plant.country": ["CN", "SE", "PL"], "recycling.recycled_content.Co.post_consumer": [0.0, 0.16],
            "recycling.accounting": ["cut_off", "cff"]}
    fast = sweep(EXAMPLE, grid, engine=engine)
    ref = sweep(EXAMPLE, grid, engine=engine, fast=False)
    assert len(fast) == len(ref) == 12
    for a, b in zip(fast, ref):
        assert a.keys() == b.keys()
        for k, v in b.items():
            if isinstance(v, float):
                assert a[k] == pytest.approx(v, rel=1e-9, abs=1e-9 * abs(b["kg_co2e_per_kwh"])), k
            else:
                assert a[k] == v


def test_compiled_model_cached_on_disk(engine, bw_dir):
    from lca_battery.compiled import CompiledModel
    import bw2data as bd
    model = CompiledModel.from_engine(engine)
    engine.activate()              # this engine's project (a linked background's has a file of its own)
    files = list(Path(bd.projects.dir).glob("lca_battery_compiled-*.npz"))
    assert files and model.key in files[0].name
    again = CompiledModel.load(files[0])
    assert (again.A != model.A).nnz == 0 and (again.B != model.B).nnz == 0
    assert all(np.array_equal(again.cf[k], model.cf[k]) for k in model.cf)


def test_sweep_table_xlsx_and_parquet(engine, tmp_path, capsys):
    import openpyxl
    pq = pytest.importorskip("pyarrow.parquet")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["plant.country", "recycling.recycled_content.Co.post_consumer"])
    ws.append(["SE", 0.26])
    ws.append(["CN", None])
    wb.save(tmp_path / "t.xlsx")
    code = main(["sweep", str(EXAMPLE), "--table", str(tmp_path / "t.xlsx"), "--grid", "plant.heat=natural_gas",
                 "--out", str(tmp_path / "o")])
    assert code == 0, capsys.readouterr().err
    folder = tmp_path / "o" / "nmc811-cn-sweep"
    rows = json.loads((folder / "sweep.json").read_text())
    assert [r["plant.country"] for r in rows] == ["SE", "CN"]
    table = pq.read_table(folder / "sweep.parquet").to_pydict()
    assert table["kg_co2e_per_kwh"] == [r["kg_co2e_per_kwh"] for r in rows]
    one = footprint(EXAMPLE, {"plant.country": "SE", "recycling.recycled_content.Co.post_consumer": 0.26,
                              "plant.heat": "natural_gas"}, engine=engine, details=False)
    assert rows[0]["kg_co2e_per_kwh"] == pytest.approx(one["kg_co2e_per_kwh"], rel=1e-9)


@pytest.mark.parametrize("content,words", [
    ("plant.contry\nSE\n", ["row 1", "column 'plant.contry'", "unknown key"]),
    ("plant.country,recycling.recycled_content.Co.post_consumer\nSE,0.2\nCN,abc\n",
     ["row 2", "recycling.recycled_content.Co.post_consumer"]),
    ("plant.country\n", ["no scenario rows"]),
])
def test_sweep_table_errors(engine, tmp_path, capsys, content, words):
    (tmp_path / "t.csv").write_text(content)
    code = main(["sweep", str(EXAMPLE), "--table", str(tmp_path / "t.csv"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    for w in words:
        assert w in err, err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("content,field", [("plant.contry\nSE\n", "plant.contry"),
                                           ("plant.country,cell.mass_kg\nCN,0.75\nSE,-1\n", "cell.mass_kg")])
def test_sweep_table_error_names_the_table_file(engine, tmp_path, capsys, content, field):
    # a bad cell of the table is the table's mistake: the message names the table file, row and column
    (tmp_path / "t.csv").write_text(content)
    code = main(["sweep", str(EXAMPLE), "--table", str(tmp_path / "t.csv"), "--no-write"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    assert f"error: {tmp_path / 't.csv'}: field '{field}': scenario table row" in err, err
    assert f"column '{field}'" in err and str(EXAMPLE) in err, err


def test_sweep_empty_values_and_too_many(engine, tmp_path, capsys):
    code = main(["sweep", str(EXAMPLE), "--grid", "plant.country=", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "empty value" in err, err
    from lca_battery.errors import StudyError
    with pytest.raises(StudyError, match="has no values"):
        sweep(EXAMPLE, {"plant.country": []}, engine=engine)
    big = {f"recycling.recycled_content.{m}.post_consumer": [i / 100 for i in range(100)] for m in ("Co", "Ni", "Li")}
    big["plant.country"] = ["CN", "SE", "PL"]
    with pytest.raises(StudyError, match="3,000,000 scenarios is more than"):
        sweep(EXAMPLE, big, engine=engine)
