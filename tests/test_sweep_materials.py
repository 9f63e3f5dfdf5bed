"""Per-material sweep columns (``material:<id>``: the cell's direct inputs, as ``footprint``'s ``materials``)
on every sweep path: the vectorised grid engine, the per-scenario compiled path (low-rank and
refactorised), bw2calc, and the CSV/Parquet files of the ``sweep`` command."""
import csv
import json
import math

import numpy as np
import pytest

from conftest import ROOT as REPO
from lca_battery import api, sweep_serial
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
    monkeypatch.setattr(sweep_serial, "_grid_frame", lambda *a, **k: None)
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
        mp.setattr(sweep_serial, "_grid_frame", lambda *a, **k: None)
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


@pytest.mark.parametrize("rows,cols,form", [([1, 4, 7, 8], [2, 3, 0, 1], "column"),
                                            ([1, 1, 1, 2], [0, 3, 6, 8], "row")])
def test_lowrank_grouped_by_k_equals_direct_inverse(rows, cols, form, monkeypatch):
    """Scenarios sharing ``K`` (equal on the cells it depends on) are solved once per group: the update of
    ``M^-1 F`` and the left update equal the direct inverse of every scenario's matrix, and the per-scenario
    (batched LAPACK) path, in both forms. ``M`` is block diagonal (indices 0-4, 5-9), so the cells joining
    the blocks have zero ``G`` entries: they differ in every scenario, the others take 3 distinct rows."""
    from lca_battery import sweep_engine
    from lca_battery.sweep_engine import _lowrank, _project
    rng = np.random.default_rng(3)
    n, m = 10, 40
    M = np.eye(n) * 4
    for blk in (slice(0, 5), slice(5, 10)):
        M[blk, blk] += rng.standard_normal((5, 5)) * 0.3
    tr, tc = np.array(rows), np.array(cols)
    R, ri = np.unique(tr, return_inverse=True)
    C, ci = np.unique(tc, return_inverse=True)
    assert (len(C) <= len(R)) == (form == "column")
    Sr = np.zeros((len(tr), len(R)))
    Sr[np.arange(len(tr)), ri] = 1.0
    Minv = np.linalg.inv(M)
    joins = (tr >= 5) != (tc >= 5)                           # cells with no G entry
    DV = (rng.standard_normal((3, len(tr))) * 0.5)[rng.integers(0, 3, m)]
    DV[:, joins] = rng.standard_normal((m, int(joins.sum())))
    assert len(np.unique(DV, axis=0)) == m
    h = rng.standard_normal(n)
    F = rng.standard_normal((n, 2))
    P = Minv[:, R]
    seen = []
    real = sweep_engine._kgroups
    monkeypatch.setattr(sweep_engine, "_kgroups", lambda X: seen.append(real(X)) or seen[-1])
    args = (DV, ri, ci, len(R), len(C), P[C], (Minv @ F)[C], Sr, P.T @ h)
    T, by_cell, w = _lowrank(*args)
    assert seen[-1] is not None and len(seen[-1][0]) == 3
    monkeypatch.setattr(sweep_engine, "GROUP_MAX", 0.0)        # every scenario's K solved on its own
    T1, by_cell1, w1 = _lowrank(*args)
    assert seen[-1] is None
    X = np.eye(len(R))
    for s in range(m):
        Ms = M.copy()
        np.add.at(Ms, (tr, tc), DV[s])
        Msinv = np.linalg.inv(Ms)
        for TT, bc, ww in ((T, by_cell, w), (T1, by_cell1, w1)):
            Ts = _project(TT[s:s + 1], bc, X, Sr @ X)[0]        # q x r: M'^-1 F = M^-1 F - P T_s
            assert np.allclose(Minv @ F - P @ Ts.T, Msinv @ F, rtol=1e-12, atol=1e-12)
            assert np.allclose(h @ Minv - ww[s] @ Minv[C], h @ Msinv, rtol=1e-12, atol=1e-12)


def test_distinct_rows_survive_a_hash_collision_and_nan():
    """Rows grouped by a hash are checked element by element: two distinct rows with the same hash (built from
    the fixed weights) are kept apart; rows with NaN are each their own; a chunk with more distinct rows than
    GROUP_MAX of its scenarios is not grouped for ``K``."""
    from lca_battery.sweep_engine import GROUP_MAX, _distinct_rows, _kgroups
    wts = np.random.default_rng(0).random(2) + 1.0
    a, b = [wts[1], 0.0], [0.0, wts[0]]
    assert np.array(a) @ wts == np.array(b) @ wts                  # the same hash, different rows
    X = np.array([a, b, a, [1.0, 2.0]] * 8)
    first, inv = _distinct_rows(X)
    assert len(first) == 3 and np.array_equal(X[first][inv], X)
    assert _kgroups(X) is not None and len(_kgroups(X)[0]) == 3
    Y = np.array([[np.nan, 1.0], [np.nan, 1.0], [2.0, 3.0]])
    first, inv = _distinct_rows(Y)
    assert len(first) == 3 and list(inv) == [0, 1, 2]
    many = np.arange(40.0).reshape(20, 2)
    assert int(GROUP_MAX * 20) < 20 and _kgroups(many) is None


def test_grid_grouped_by_k_equals_per_scenario_solves_and_footprint(engine, study, monkeypatch):
    """The grid engine's solve once per distinct ``K`` equals the per-scenario solves (every column, material
    columns included) and ``footprint --set`` alone on a sample."""
    from conftest import assert_row_equals_footprint
    from lca_battery import sweep_engine
    seen = []
    real = sweep_engine._kgroups
    monkeypatch.setattr(sweep_engine, "_kgroups", lambda X: seen.append(real(X)) or seen[-1])
    grouped = sweep_frame(study, GRID, engine=engine)
    assert any(g is not None and len(g[0]) < len(g[1]) for g in seen)   # the grouped path ran, with sharing
    monkeypatch.setattr(sweep_engine, "GROUP_MAX", 0.0)
    engine._grid_solver = None
    single = sweep_frame(study, GRID, engine=engine)
    assert list(grouped.columns) == list(single.columns)
    for k, v in grouped.columns.items():
        if isinstance(v, np.ndarray) and v.dtype.kind == "f":
            assert np.allclose(v, single.columns[k], rtol=1e-12, atol=1e-14, equal_nan=True), k
        else:
            assert list(v) == list(single.columns[k]), k
    rows = grouped.rows()
    for i in (0, 7, 13, len(rows) - 1):
        ov = {k: rows[i][k] for k in GRID}
        assert_row_equals_footprint(rows[i], footprint(study, ov, engine=engine, details=False))
        _check(rows[i], engine, GRID, study)


def test_identical_scenarios_solved_once_equal_every_row_solved(engine, study, monkeypatch):
    """Scenarios identical to another (here the collection rate under the cut-off rule) are solved once and
    copied: the frame equals the one solving every row, and footprint --set alone on such rows."""
    from conftest import assert_row_equals_footprint
    from lca_battery import sweep_engine
    grid = {"recycling.accounting": ["cut_off", "cff"], "recycling.eol_collection_rate": [0.5, 0.9],
            "plant.country": ["CN", "SE"]}
    solved = []
    real = sweep_engine.solve_frame
    monkeypatch.setattr(sweep_engine, "solve_frame", lambda *a, **k: solved.append(len(a[3])) or real(*a, **k))
    once = sweep_frame(study, grid, engine=engine)
    assert 0 < sum(solved) < 8                           # duplicates found and solved once
    monkeypatch.setattr(sweep_engine, "DEDUPE", False)
    solved.clear()
    every = sweep_frame(study, grid, engine=engine)
    assert sum(solved) == 8
    assert list(once.columns) == list(every.columns)
    for k, v in once.columns.items():
        if isinstance(v, np.ndarray) and v.dtype.kind == "f":
            assert np.array_equal(v, every.columns[k], equal_nan=True), k
        else:
            assert list(v) == list(every.columns[k]), k
    rows = once.rows()
    for r in rows[:4]:                                  # cut_off: both collection rates
        ov = {k: r[k] for k in grid}
        assert_row_equals_footprint(r, footprint(study, ov, engine=engine, details=False))
        _check(r, engine, grid, study)
