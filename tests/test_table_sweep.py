"""Scenario tables through the grid engine (lca_battery.sweep_engine.table_frame): the rows are points of
the virtual grid of each column's distinct values; built separably and solved vectorised, each row equal
to the per-scenario path and to ``footprint --set`` alone to 1e-9. Tables the scheme does not pay for,
or with a bad value, take the per-scenario path (same rows, same errors)."""
import pickle

import numpy as np
import pytest

from conftest import EXAMPLE, assert_same_rows, sweep_per_scenario, assert_row_equals_footprint
from lca_battery import api, sweep_engine, sweep_serial
from lca_battery.api import footprint, sweep
from lca_battery.errors import StudyError

GRID = {"plant.country": ["CN", "SE", "KR", "PL"],
        "recycling.recycled_content.Co.post_consumer": [0.0, 0.16, 0.26, 1.0],
        "recycling.accounting": ["cut_off", "cff", "avoided_burden"],
        "cell.chemistry": ["NMC811", "NMC622", "LFP"],
        "recycling.eol_collection_rate": [0.5, 0.9]}


def _table(n, seed):
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        r = {k: vals[int(rng.integers(len(vals)))] for k, vals in GRID.items() if rng.random() < 0.8}
        if r.get("cell.chemistry") == "LFP":
            r.update({"recycling.route": "hydro_lfp", "cell.nominal_voltage_v": 3.2})
            r.pop("recycling.recycled_content.Co.post_consumer", None)   # an LFP cathode draws no Co
        rows.append(r)
    return rows




def _stats(combos, overrides=()):
    from lca_battery.study import as_overrides
    stats = {}
    rows = sweep_serial._table_rows(EXAMPLE, combos, as_overrides(list(overrides), str(EXAMPLE)), api.get_engine(),
                           sweep_serial._parsed(EXAMPLE), None, stats=stats)
    return rows, stats


def test_table_equals_per_scenario_path_and_footprint(engine, monkeypatch):
    table = _table(400, seed=1)
    table += table[:5]                                   # repeated rows
    rows, stats = _stats(table)
    assert rows is not None and "fallback" not in stats, stats
    assert stats["builds"] < len(table)
    assert sweep(EXAMPLE, None, engine=engine, table=table) == rows
    assert_same_rows(rows, sweep_per_scenario(monkeypatch, EXAMPLE, None, engine=engine, table=table), key_order=True)
    assert any("material:" in k for k in rows[0])
    rng = np.random.default_rng(2)
    for i in [0, *rng.choice(len(rows), size=5, replace=False)]:
        one = footprint(EXAMPLE, [f"{k}={v}" for k, v in table[i].items()], details=False)
        assert_row_equals_footprint(rows[i], one)


def test_table_times_grid_and_no_materials(engine, monkeypatch):
    table = _table(120, seed=4)
    grid = {"recycling.recycled_content.Li.post_consumer": [0.0, 0.05, 0.1]}    # no column of the table
    rows = sweep(EXAMPLE, grid, engine=engine, table=table, materials=False)
    assert len(rows) == 3 * len(table)
    assert not any(k.startswith("material:") for r in rows for k in r)
    ref = sweep_per_scenario(monkeypatch, EXAMPLE, grid, engine=engine, table=table, materials=False)
    assert_same_rows(rows, ref, key_order=True)
    with pytest.raises(StudyError, match="sets what the scenario table's column 'plant.country' sets"):
        sweep(EXAMPLE, {"plant.country": ["CN", "DE"]}, engine=engine, table=table)


def test_small_or_erroneous_tables_take_the_per_scenario_path(engine):
    rows, stats = _stats([{"plant.country": "CN"}, {"plant.country": "SE"}])
    assert rows is None and "fewer distinct scenarios" in stats["fallback"]
    bad = _table(400, seed=1)
    bad[150]["plant.country"] = "XX"
    rows, stats = _stats(bad)
    assert rows is None and stats["fallback"]     # (a value seen once joins its column with the others)
    with pytest.raises(StudyError, match="scenario table row 151") as err:
        sweep(EXAMPLE, None, engine=engine, table=bad)
    assert (err.value.row, err.value.column, err.value.field) == (151, "plant.country", "plant.country")
    with pytest.raises(StudyError) as err:       # the study itself is at fault, not a cell: no column
        sweep(EXAMPLE, None, ["cell.mass_kg=-1"], engine=engine, table=bad[:3])
    assert (err.value.row, err.value.column) == (1, None) and "column" not in err.value.message


def test_table_points_joint_axes_and_unset():
    combos = [{"a": 1, "b": 5}, {"a": 2, "b": 5}, {"a": 1, "b": 6}, {"a": 2, "b": 6},      # a x b: all seen
              {"a": 1, "b": 5, "c": "x"}, {"a": 2, "b": 6, "c": "x"},
              {"a": 2, "b": 5, "d": {"m": 0.3}}, {"a": 1, "b": 6, "d": {"m": 0.3}}]
    keys, values, flat = sweep_engine.table_points(combos)
    U = sweep_engine.UNSET
    assert keys == ["a", "b", "c & d"]             # c and d joined: no row has both
    assert values[0] == [1, 2] and values[1] == [5, 6]
    J = sweep_engine.Joint
    assert values[2] == [J((("c", U), ("d", U))), J((("c", "x"), ("d", U))), J((("c", U), ("d", {"m": 0.3})))]
    idx = np.unravel_index(flat, (2, 2, 3))
    assert list(idx[0]) == [0, 1, 0, 1, 0, 1, 1, 0] and list(idx[2]) == [0, 0, 0, 0, 1, 1, 2, 2]
    vals = [1]
    assert sweep_engine._index_of(vals, 1.0) == 1 and sweep_engine._index_of(vals, 1) == 0   # as --set writes them
    assert pickle.loads(pickle.dumps(U)) is U                # forked helpers' arguments
