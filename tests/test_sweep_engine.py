"""Grid sweeps by separable building and one vectorised solve (lca_battery.sweep_engine)."""
import numpy as np
import pytest

from conftest import EXAMPLE, assert_row_equals_footprint, assert_same_rows
from lca_battery import sweep_serial
from lca_battery.api import footprint, sweep, sweep_frame
from lca_battery.errors import StudyError
from lca_battery.sweep_engine import Build, Fallback, GridBuilder

#: interacting axes (accounting x recycled content, chemistry x recycled content) and additive ones
GRID = {"plant.country": ["CN", "SE", "PL"],
        "recycling.recycled_content.Co.post_consumer": [0.0, 0.26, 1.0],
        "recycling.accounting": ["cut_off", "cff", "avoided_burden"],
        "cell.chemistry": ["NMC811", "NMC622"],
        "recycling.eol_collection_rate": [0.5, 0.9]}


def _direct(monkeypatch, grid, engine):
    """The same grid, every scenario built and solved on its own (compiled.BatchSolver)."""
    with monkeypatch.context() as mp:
        mp.setattr(sweep_serial, "_grid_frame", lambda *a, **k: None)
        return sweep(EXAMPLE, grid, engine=engine)


def _same_as_direct(monkeypatch, rows, grid, engine, n=None):
    """``rows`` equal the grid built and solved scenario by scenario (and number ``n``, if given)."""
    ref = _direct(monkeypatch, grid, engine)
    assert n is None or len(rows) == n
    assert_same_rows(rows, ref, same_columns=True)


def test_interacting_grid_equals_direct_builds_and_footprint(engine, monkeypatch):
    stats = {}
    frame = sweep_frame(EXAMPLE, GRID, engine=engine, stats=stats)
    assert "fallback" not in stats
    # the interactions are found: accounting and recycled content in one block, the country on its own
    blocks = {tuple(b) for b in stats["blocks"]}
    assert ("plant.country",) in blocks
    assert any("recycling.accounting" in b and "recycling.recycled_content.Co.post_consumer" in b for b in blocks)
    assert stats["builds"] < frame.n
    rows = frame.rows()
    _same_as_direct(monkeypatch, rows, GRID, engine, 108)
    assert sweep(EXAMPLE, GRID, engine=engine) == rows          # api.sweep takes the same path
    rng = np.random.default_rng(3)
    for i in rng.choice(len(rows), size=4, replace=False):
        r = rows[i]
        one = footprint(EXAMPLE, {k: r[k] for k in GRID}, engine=engine, details=False)
        assert_row_equals_footprint(r, one)


def test_frame_columns_and_pandas(engine):
    grid = {"plant.country": ["CN", "SE"], "recycling.recycled_content.Co.post_consumer": [0.0, 0.5]}
    frame = sweep_frame(EXAMPLE, grid, engine=engine)
    df = frame.to_pandas()
    assert len(df) == 4 and list(df["plant.country"]) == ["CN", "CN", "SE", "SE"]
    assert np.allclose(df["kg_co2e_per_kg"], [r["kg_co2e_per_kg"] for r in frame.rows()], rtol=0)


def _fake(cells_of):
    """A build function over abstract axes: cells_of(ov) -> {(row, col): delta}."""
    def build(ov):
        return Build(cells_of(ov), {}, 0.3, 0.2, "ipcc2021", ())
    return build


def test_additivity_detector_finds_an_interaction():
    # axes 0 and 1 multiply into one cell (not additive), axis 2 adds a cell of its own
    def cells(ov):
        return {(1, 2): ov["a"] * ov["b"] + ov["a"], (3, 4): 2.0 * ov["c"], (5, 6): ov["b"]}
    gb = GridBuilder(_fake(cells), ["a", "b", "c"], [[0.0, 1.0, 2.0], [0.0, 3.0], [0.0, 1.0, 5.0]])
    assert gb.interactions() == [[0, 1], [2]]
    # purely additive axes stay apart, and the assembled grid equals every direct build
    def additive(ov):
        return {(1, 2): ov["a"] + ov["b"], (3, 4): ov["c"]}
    gb = GridBuilder(_fake(additive), ["a", "b", "c"], [[0.0, 1.0], [0.0, 2.0, 4.0], [1.0, 7.0]])
    blocks = gb.interactions()
    assert blocks == [[0], [1], [2]]
    asm = gb.assemble(blocks)
    assert gb.verify(blocks, asm)
    vals, _ = gb.assembled(blocks, asm, np.arange(12))
    for flat in range(12):
        i = np.unravel_index(flat, gb.shape)
        ov = {k: gb.values[j][i[j]] for j, k in enumerate(gb.keys)}
        want = additive(ov)
        got = dict(zip(asm[0], vals[flat][:len(asm[0])]))
        assert got == pytest.approx({k: want.get(k, 0.0) for k in got})


def test_three_way_interaction_is_caught_by_the_sample():
    # zero at the base of every axis: each pair adds up with the third axis at its first value,
    # but the full combinations do not (a*b*c): the sample check must refuse the assembly
    def cells(ov):
        return {(1, 2): ov["a"] * ov["b"] * ov["c"]}
    gb = GridBuilder(_fake(cells), ["a", "b", "c"], [[0.0, 1.0, 2.0]] * 3)
    blocks = gb.interactions()
    assert blocks == [[0], [1], [2]]
    assert not gb.verify(blocks, gb.assemble(blocks))


def test_falls_back_when_the_check_fails(engine, monkeypatch):
    import lca_battery.sweep_engine as se
    monkeypatch.setattr(se.GridBuilder, "verify", lambda self, blocks, asm: False)
    grid = {"plant.country": ["CN", "SE"], "recycling.accounting": ["cut_off", "cff"]}
    stats = {}
    frame = sweep_frame(EXAMPLE, grid, engine=engine, stats=stats)
    assert "differs from its direct build" in stats["fallback"]
    _same_as_direct(monkeypatch, frame.rows(), grid, engine)
    with pytest.raises(Fallback):
        se.grid_frame(EXAMPLE, grid, {}, engine)


def test_bad_input_unchanged(engine):
    with pytest.raises(StudyError, match="unknown key 'plant.contry'"):
        sweep_frame(EXAMPLE, {"plant.contry": ["CN", "SE"]}, engine=engine)
    with pytest.raises(StudyError, match="has no values"):
        sweep_frame(EXAMPLE, {"plant.country": []}, engine=engine)
    big = {f"recycling.recycled_content.{m}.post_consumer": [i / 100 for i in range(100)] for m in ("Co", "Ni", "Li")}
    big["plant.country"] = ["CN", "SE", "PL"]
    with pytest.raises(StudyError, match="3,000,000 scenarios is more than"):
        sweep_frame(EXAMPLE, big, engine=engine)
    with pytest.raises(StudyError, match="plant.country"):
        sweep(EXAMPLE, {"plant.country": ["CN", "XX"]}, engine=engine)


def test_builds_shared_with_forked_helpers_equal_sequential(engine, monkeypatch):
    """Studies built by forked helper processes (sweep_engine.BuildPool) give the same frame, bit for bit,
    as the same grid built in this process only; a study error in a helper is raised as without helpers."""
    import multiprocessing as mp
    from lca_battery import sweep_engine
    import sys
    if "fork" not in mp.get_all_start_methods() or not sys.platform.startswith("linux"):
        pytest.skip("helpers are forked on Linux only")
    monkeypatch.setattr(sweep_engine, "PROCS", 1)
    one, st1 = sweep_frame(EXAMPLE, GRID, engine=engine, stats=(s1 := {})), s1
    monkeypatch.setattr(sweep_engine, "PROCS", 2)
    monkeypatch.setattr(sweep_engine, "PAR_MIN_SCENARIOS", 0)
    monkeypatch.setattr(sweep_engine, "PAR_MIN_BUILDS", 2)
    monkeypatch.setattr(sweep_engine, "_other_threads", lambda: False)     # idle threads of earlier tests
    made = []
    real = sweep_engine.BuildPool.__init__

    def spy(self, *a):
        made.append(1)
        real(self, *a)
    monkeypatch.setattr(sweep_engine.BuildPool, "__init__", spy)
    two = sweep_frame(EXAMPLE, GRID, engine=engine, stats=(s2 := {}))
    assert made and "fallback" not in s2
    assert s2["blocks"] == st1["blocks"] and s2["builds"] >= st1["builds"]
    assert list(one.columns) == list(two.columns)
    for k, v in one.columns.items():
        if isinstance(v, np.ndarray) and v.dtype.kind == "f":
            assert np.array_equal(v, two.columns[k], equal_nan=True), k   # NaN: another cell's input
        else:
            assert list(v) == list(two.columns[k]), k
    bad = {"plant.country": ["CN", "SE", "XX"], "recycling.accounting": ["cut_off", "cff"]}
    with pytest.raises(StudyError) as err:
        sweep_frame(EXAMPLE, bad, engine=engine)
    with monkeypatch.context() as mp_:
        mp_.setattr(sweep_engine, "PROCS", 1)
        with pytest.raises(StudyError) as ref:
            sweep_frame(EXAMPLE, bad, engine=engine)
    assert str(err.value) == str(ref.value)


def _every_combination_equals_direct(gb, cells_of):
    blocks = gb.interactions()
    asm = gb.assemble(blocks)
    total = int(np.prod(gb.shape))
    vals, _ = gb.assembled(blocks, asm, np.arange(total))
    for flat in range(total):
        i = np.unravel_index(flat, gb.shape)
        want = cells_of({k: gb.values[j][i[j]] for j, k in enumerate(gb.keys)})
        got = dict(zip(asm[0], vals[flat][:len(asm[0])]))
        assert got == pytest.approx({k: want.get(k, 0.0) for k in got}, rel=1e-12, abs=1e-12), i
    return blocks, asm


AXES = ["a", "b", "c", "z"]
VALUES = [[0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 2.5], [0.0, 1.0, 4.0], [0.0, 1.0, 2.0]]


def test_block_assembled_per_context_equals_every_direct_build():
    # a, b, c each interact with z (one block) but add up with each other in every context of z:
    # the block is assembled per value of z from fewer builds than its combinations, exactly
    def cells(ov):
        return {(1, 2): ov["a"] * (1 + ov["z"]), (3, 4): ov["b"] * (2 + ov["z"]) ** 2, (5, 6): ov["c"] * ov["z"],
                (1, 4): ov["a"] + ov["b"] + ov["c"] + 5.0 + ov["z"] ** 2, (11, 12): 1.0 + ov["z"]}
    gb = GridBuilder(_fake(cells), AXES, VALUES)
    blocks, asm = _every_combination_equals_direct(gb, cells)
    assert blocks == [[0, 1, 2, 3]]
    assert gb.conditional == [(["z"], ["a", "b", "c"])]
    assert gb.builds < 4 * 3 * 3 * 3
    assert gb.verify(blocks, asm)


def test_block_with_a_pair_interacting_outside_the_base_context_is_not_assembled_per_context():
    # a x b adds up when z is at its first value, not otherwise (a three-way interaction): the
    # per-context check must find it; then no cheaper choice is left and the block is built in full
    def cells(ov):
        return {(1, 2): ov["a"] * (1 + ov["z"]), (3, 4): ov["b"] * (2 + ov["z"]), (5, 6): ov["c"] * ov["z"],
                (7, 8): ov["a"] * ov["b"] * ov["z"]}
    gb = GridBuilder(_fake(cells), AXES, VALUES)
    blocks, asm = _every_combination_equals_direct(gb, cells)
    assert blocks == [[0, 1, 2, 3]]
    assert gb.conditional == []
    assert gb.verify(blocks, asm)


def test_pair_failing_in_one_context_is_dropped_and_the_rest_assembled_per_context():
    # a, b, c, d interact with z; a x c also with z (a x c x z): {a, b, c, d} fails in the context z = 1,
    # then {b, c, d} per (a, z) or {a, b, d} per (c, z) is checked and used
    def cells(ov):
        return {(1, 2): ov["a"] * (1 + ov["z"]), (3, 4): ov["b"] * (2 + ov["z"]), (5, 6): ov["c"] * ov["z"],
                (9, 10): ov["d"] * (3 - ov["z"]), (7, 8): ov["a"] * ov["c"] * ov["z"]}
    gb = GridBuilder(_fake(cells), ["a", "b", "c", "d", "z"], [[0.0, 1.0, 2.0], [0.0, 1.0, 2.5], [0.0, 1.0, 4.0],
                                                              [0.0, 2.0, 3.0], [0.0, 1.0]])
    blocks, asm = _every_combination_equals_direct(gb, cells)
    assert blocks == [[0, 1, 2, 3, 4]]
    assert len(gb.conditional) == 1
    ctx, free = gb.conditional[0]
    assert "z" in ctx and {"b", "d"} <= set(free) and not {"a", "c"} <= set(free)
    assert gb.verify(blocks, asm)


def test_portfolio_block_assembled_per_context_equals_footprint(engine, monkeypatch):
    """The model's recycling block (recycled contents and collection rate interact with the accounting
    rule and, for the collection rate, with the chemistry under CFF) assembled per context equals every
    scenario built on its own."""
    grid = {"recycling.recycled_content.Co.post_consumer": [0.0, 0.26, 0.5, 1.0],
            "recycling.recycled_content.Ni.post_consumer": [0.0, 0.3, 0.5],
            "recycling.accounting": ["cut_off", "cff"],
            "cell.chemistry": ["NMC811", "NMC622"],
            "recycling.eol_collection_rate": [0.5, 0.9]}
    stats = {}
    frame = sweep_frame(EXAMPLE, grid, engine=engine, stats=stats)
    assert "fallback" not in stats
    assert stats["per_context"], stats
    assert stats["builds"] < frame.n
    rows = frame.rows()
    _same_as_direct(monkeypatch, rows, grid, engine, 96)
    for i in (5, 37, 90):
        r = rows[i]
        one = footprint(EXAMPLE, {k: r[k] for k in grid}, engine=engine, details=False)
        assert_row_equals_footprint(r, one)


def _silent_helper(ovs):
    """A helper that never answers in time (stands for one killed meanwhile)."""
    import time
    time.sleep(30)
    return [None] * len(ovs)


def test_a_helper_that_does_not_answer_leaves_the_builds_to_this_process(engine, monkeypatch):
    import multiprocessing as mp
    import sys
    from lca_battery import sweep_engine
    if "fork" not in mp.get_all_start_methods() or not sys.platform.startswith("linux"):
        pytest.skip("helpers are forked on Linux only")
    grid = {"plant.country": ["CN", "SE", "PL"], "recycling.accounting": ["cut_off", "cff"],
            "recycling.recycled_content.Co.post_consumer": [0.0, 0.5]}
    monkeypatch.setattr(sweep_engine, "PROCS", 1)
    one = sweep_frame(EXAMPLE, grid, engine=engine)
    monkeypatch.setattr(sweep_engine, "PROCS", 2)
    monkeypatch.setattr(sweep_engine, "PAR_MIN_SCENARIOS", 0)
    monkeypatch.setattr(sweep_engine, "PAR_MIN_BUILDS", 2)
    monkeypatch.setattr(sweep_engine, "HELPER_TIMEOUT", 0.5)
    monkeypatch.setattr(sweep_engine, "_other_threads", lambda: False)
    monkeypatch.setattr(sweep_engine, "_worker_builds", _silent_helper)
    stats = {}
    two = sweep_frame(EXAMPLE, grid, engine=engine, stats=stats)
    assert stats["build_processes"] == 2 and "fallback" not in stats
    for k, v in one.columns.items():
        if isinstance(v, np.ndarray) and v.dtype.kind == "f":
            assert np.array_equal(v, two.columns[k], equal_nan=True), k   # NaN: another cell's input


def test_build_pool_builds_are_claimed_so_a_slow_helper_takes_fewer():
    """BuildPool: each build is claimed from a shared counter, so this process keeps building while a helper
    slowed down (here by a sleep; on a shared machine by other jobs) takes fewer; every build is returned
    at its index, whoever made it."""
    import multiprocessing as mp
    import os
    import sys
    import time
    from lca_battery.sweep_engine import BuildPool
    if "fork" not in mp.get_all_start_methods() or not sys.platform.startswith("linux"):
        pytest.skip("helpers are forked on Linux only")
    parent = os.getpid()

    def build(ov):
        time.sleep(0.02 if os.getpid() == parent else 0.1)
        if ov["x"] == 107:
            raise ValueError("left to this process to raise")
        return ov["x"] * 2, os.getpid()
    pool = BuildPool(build, 2)
    try:
        got = pool.map([{"x": i} for i in range(40)], build)
        bad = pool.map([{"x": i} for i in range(100, 140)], build)      # the counter starts again at 0
        again = pool.map([{"x": i} for i in range(40, 44)], build)
    finally:
        pool.close()
    assert [g[0] for g in got] == [2 * i for i in range(40)]
    mine = sum(g[1] == parent for g in got)
    assert mine > 20 and any(g[1] != parent for g in got)   # both built, this one most
    # a failed build stops the batch: nobody claims further builds (the caller raises that build's error)
    assert bad[7] is None and all(g is None or g[0] == 2 * (100 + i) for i, g in enumerate(bad))
    assert sum(g is not None for g in bad) < 20
    assert [g[0] for g in again] == [80, 82, 84, 86]
