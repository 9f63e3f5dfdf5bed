"""Per-material sweep columns (``material:<id>``: the cell's direct inputs, as ``footprint``'s ``materials``)
on every sweep path: the vectorised grid engine, the per-scenario compiled path (low-rank and
refactorised), bw2calc, and the CSV/Parquet files of the ``sweep`` command."""
import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT as REPO
from lca_battery import api
from lca_battery.api import footprint, sweep, sweep_frame
from lca_battery.cli import main
from lca_battery.model.superstructure import ROOT

RECYCLED = REPO / "examples" / "nmc811-recycled-cobalt.yaml"
PREFIX = "material:"


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """The recycled-cobalt example (end of life collected: an end-of-life branch outside the cell) without a
    stated voltage, so that its chemistry can change on a grid axis."""
    path = tmp_path_factory.mktemp("mat") / "recycled.yaml"
    path.write_text("\n".join(line for line in RECYCLED.read_text().splitlines() if "nominal_voltage_v" not in line))
    return path


def _materials(row) -> dict:
    return {k[len(PREFIX):]: v for k, v in row.items() if k.startswith(PREFIX)}


def _outside(engine, ov, study) -> float:
    """What ``footprint`` counts outside the cell's inputs: the cell's and the root's own emissions, and the
    cradle-to-gate footprint of the root's other inputs (distribution, end-of-life treatments)."""
    st, mapping, eng = api.prepare_mapping(study, ov, engine)
    solved = eng.solve(mapping.entries, st.method)
    out = float(solved.scores[eng.column(solved, mapping.cell_id)] + solved.scores[eng.column(solved, ROOT)])
    for e in mapping.entries:
        if e.output == ROOT and e.matrix == "technosphere" and e.input != mapping.cell_id and e.amount:
            out += eng.resolve(solved, {e.input: e.amount})[1]
    return out


def _check(row, engine, keys, study):
    ov = {k: row[k] for k in keys}
    one = footprint(study, ov, engine=engine)
    want = {m["id"]: m["kg_co2e_per_kwh"] for m in one["materials"]}
    got = _materials(row)
    assert set(got) == set(want), set(got) ^ set(want)
    for k, v in want.items():
        assert got[k] == pytest.approx(v, rel=1e-9, abs=1e-12), k
    # the inputs add up to the total minus what lies outside them
    outside = _outside(engine, ov, study)
    assert sum(got.values()) + outside == pytest.approx(row["kg_co2e_per_kwh"], rel=1e-9)
    return outside


GRID = {"plant.country": ["CN", "SE"],
        "recycling.recycled_content.Co.post_consumer": [0.0, 0.26],
        "recycling.accounting": ["cut_off", "cff", "avoided_burden"],
        "cell.chemistry": ["NMC811", "NMC111"]}


def test_grid_material_columns_equal_footprint(engine, study):
    stats = {}
    frame = sweep_frame(study, GRID, engine=engine, stats=stats)
    assert "fallback" not in stats, stats
    cols = [c for c in frame.columns if c.startswith(PREFIX)]
    assert cols == sorted(cols) and "material:cathode_nmc811" in cols and "material:cathode_nmc111" in cols
    chem = np.array(frame.columns["cell.chemistry"], dtype=object)
    # an input of the other chemistry's cell only: NaN in the frame, absent from the row
    assert np.all(np.isnan(frame.columns["material:cathode_nmc111"][chem == "NMC811"]))
    assert not np.any(np.isnan(frame.columns["material:cathode_nmc111"][chem == "NMC111"]))
    rows = frame.rows()
    assert all(("material:cathode_nmc111" in r) == (r["cell.chemistry"] == "NMC111") for r in rows)
    assert sweep(study, GRID, engine=engine) == rows
    outside = []
    for i in np.random.default_rng(5).choice(len(rows), size=6, replace=False).tolist() + [len(rows) - 1]:
        outside.append(_check(rows[i], engine, GRID, study))
    assert any(abs(o) > 1e-3 for o in outside)       # the end-of-life branch is outside the cell's inputs


@pytest.mark.parametrize("max_rank", [None, 0])
def test_per_scenario_material_columns_equal_footprint(engine, study, monkeypatch, max_rank):
    from lca_battery import compiled
    if max_rank is not None:
        monkeypatch.setattr(compiled, "MAX_RANK", max_rank)     # every changed scenario refactorised
    monkeypatch.setattr(api, "_grid_frame", lambda *a, **k: None)
    table = [{"plant.country": "PL", "recycling.accounting": "avoided_burden"},
             {"cell.chemistry": "NCA", "recycling.recycled_content.Co.post_consumer": 0.0},
             {"cell.chemistry": "NMC622", "recycling.accounting": "cut_off", "plant.country": "SE"},
             {"method": "ef31", "recycling.eol_collection_rate": 0.5}]
    rows = sweep(study, None, engine=engine, table=table)
    for r, ov in zip(rows, table):
        _check(r, engine, list(ov), study)


def test_bw2calc_sweep_has_the_same_material_columns(engine, study):
    grid = {"cell.chemistry": ["NMC811", "NMC111"], "recycling.accounting": ["cut_off", "avoided_burden"]}
    fast = sweep(study, grid, engine=engine)
    ref = sweep(study, grid, engine=engine, fast=False)
    for a, b in zip(fast, ref):
        assert _materials(a).keys() == _materials(b).keys()
        for k, v in _materials(b).items():
            assert _materials(a)[k] == pytest.approx(v, rel=1e-9, abs=1e-12), k


def test_cli_files_have_material_columns(engine, study, tmp_path, capsys):
    code = main(["sweep", str(study), "--grid", "cell.chemistry=NMC811,NMC111", "--out", str(tmp_path / "o")])
    assert code == 0, capsys.readouterr().err
    folder = tmp_path / "o" / "recycled-sweep"
    rows = json.loads((folder / "sweep.json").read_text())
    with open(folder / "sweep.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert "material:cathode_nmc111" in table[0] and "material:cathode_nmc811" in table[0]
    assert table[0]["material:cathode_nmc111"] == "" and table[1]["material:cathode_nmc811"] == ""
    assert float(table[1]["material:cathode_nmc111"]) == pytest.approx(rows[1]["material:cathode_nmc111"], rel=1e-12)
    pq = pytest.importorskip("pyarrow.parquet")
    cols = pq.read_table(folder / "sweep.parquet").to_pydict()
    assert cols["material:cathode_nmc111"][0] is None
    assert cols["material:cathode_nmc811"][0] == rows[0]["material:cathode_nmc811"]
    assert not any(isinstance(v, float) and math.isnan(v) for r in rows for v in r.values())


def test_materials_false_leaves_the_columns_out(engine, study, monkeypatch, tmp_path, capsys):
    grid = {"cell.chemistry": ["NMC811", "NMC111"], "plant.country": ["CN", "SE"]}
    with_ = sweep(study, grid, engine=engine)
    plain = [sweep(study, grid, engine=engine, materials=False),
             sweep(study, grid, engine=engine, materials=False, fast=False)]
    with monkeypatch.context() as mp:
        mp.setattr(api, "_grid_frame", lambda *a, **k: None)
        plain.append(sweep(study, grid, engine=engine, materials=False))
    frame = sweep_frame(study, grid, engine=engine, materials=False)
    assert not any(c.startswith(PREFIX) for c in frame.columns)
    plain.append(frame.rows())
    for rows in plain:
        for r, w in zip(rows, with_):
            assert not _materials(r)
            want = {k: v for k, v in w.items() if not k.startswith(PREFIX)}
            assert list(r) == list(want)
            for k, v in want.items():
                assert r[k] == (pytest.approx(v, rel=1e-9, abs=1e-12) if isinstance(v, float) else v), k
    code = main(["sweep", str(study), "--grid", "plant.country=CN", "--no-materials", "--json", "--no-write"])
    out = capsys.readouterr().out
    assert code == 0 and "material:" not in out and "kg_co2e_per_kwh" in out


@pytest.mark.parametrize("rows,cols", [([1, 4, 4, 7], [2, 3, 5, 9]), ([3, 3, 3, 8, 8], [1, 2, 6, 6, 0]),
                                       ([0, 1, 2, 5], [4, 4, 4, 4])])
def test_lowrank_left_update_is_exact_in_both_forms(rows, cols):
    """``h^T (M + E_R D E_C^T)^-1 = h^T M^-1 - w E_C^T M^-1`` in the row form (r < c) and the column form (c <= r)."""
    from lca_battery.sweep_engine import _lowrank
    rng = np.random.default_rng(1)
    n, m = 10, 5
    M = np.eye(n) * 4 + rng.standard_normal((n, n)) * 0.3
    h = rng.standard_normal(n)
    tr, tc = np.array(rows), np.array(cols)
    R, ri = np.unique(tr, return_inverse=True)
    C, ci = np.unique(tc, return_inverse=True)
    Sr = np.zeros((len(tr), len(R)))
    Sr[np.arange(len(tr)), ri] = 1.0
    Minv = np.linalg.inv(M)
    P = Minv[:, R]
    DV = rng.standard_normal((m, len(tr))) * 0.5
    F = rng.standard_normal((n, 2))
    *_, w = _lowrank(DV, ri, ci, len(R), len(C), P[C], (Minv @ F)[C], Sr, P.T @ h)
    for s in range(m):
        Ms = M.copy()
        np.add.at(Ms, (tr, tc), DV[s])
        want = h @ np.linalg.inv(Ms)
        assert np.allclose(h @ Minv - w[s] @ Minv[C], want, rtol=1e-12, atol=1e-12)
