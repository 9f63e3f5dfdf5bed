"""Issue 11 point 5 on a licensed background (tests/bg_fixture.py, MADE-UP data): the warm footprint
cache of the linked model (no bw2data/bw2calc import; stale when the user's database is edited) and
grid sweeps on the linked model through the grid engine (lca_battery.sweep_engine), both equal to the
bw2calc path to 1e-9."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import bg_fixture as fx
from conftest import EXAMPLE, assert_same_rows, sweep_per_scenario, ROOT, assert_row_equals_footprint
from lca_battery import api, sweep_serial, warm
from lca_battery.api import footprint, get_engine, sweep, sweep_frame
from lca_battery.report.verify import _numbers_equal

PROJECT = "user-ecoinvent-fixture-fast"
GRID = {"plant.country": ["CN", "SE", "KR"],
        "recycling.recycled_content.Co.post_consumer": [0.0, 0.26, 1.0],
        "recycling.accounting": ["cut_off", "cff"],
        "cell.chemistry": ["NMC811", "NMC622"],
        "recycling.eol_collection_rate": [0.5, 0.9]}


def bg(project=PROJECT):
    return [f"background.database={fx.DATABASE}", f"background.project={project}"]


def _spec(project=PROJECT):
    from lca_battery.study import LicensedBackground
    return LicensedBackground(database=fx.DATABASE, project=project)


@pytest.fixture(scope="module")
def fixture_project(engine):
    from lca_battery.bw.project import biosphere_index
    engine.activate()
    code = biosphere_index()[("Carbon dioxide, fossil", ("air",))][0]
    fx.build(PROJECT, code)
    engine.activate()
    return code


@pytest.fixture(scope="module")
def linked(fixture_project):
    return get_engine(background=_spec())


def _without_machine(result: dict) -> dict:
    return {k: v for k, v in result.items() if k != "software"}


# ------------------------------------------------------------------------------ grid engine
def test_grid_sweep_on_linked_background_uses_grid_engine(linked, monkeypatch):
    stats = {}
    frame = sweep_frame(EXAMPLE, GRID, bg(), stats=stats)
    assert "fallback" not in stats, stats
    assert stats["background"] == fx.DATABASE
    assert stats["builds"] < frame.n == 72
    rows = frame.rows()
    with monkeypatch.context() as mp:             # every scenario built and solved on its own
        mp.setattr(sweep_serial, "_grid_frame", lambda *a, **k: None)
        direct = sweep(EXAMPLE, GRID, bg())
    assert sweep(EXAMPLE, GRID, bg()) == rows     # api.sweep takes the grid path too
    assert_same_rows(rows, direct, same_columns=True)
    open_rows = sweep_frame(EXAMPLE, GRID).rows()
    assert rows[0]["kg_co2e_per_kwh"] != pytest.approx(open_rows[0]["kg_co2e_per_kwh"], rel=1e-3)
    rng = np.random.default_rng(5)
    for i in [0, *rng.choice(len(rows), size=4, replace=False)]:
        r = rows[i]
        one = footprint(EXAMPLE, [*bg(), *(f"{k}={r[k]}" for k in GRID)], details=False)   # bw2calc
        assert one["software"]["solver"].startswith("bw2calc")
        assert "kg_co2e_per_kg" in r
        assert_row_equals_footprint(r, one)


def test_background_as_a_grid_axis_of_one_value(linked):
    stats = {}
    grid = {"background.database": [fx.DATABASE], "plant.country": ["CN", "SE"]}
    frame = sweep_frame(EXAMPLE, grid, [f"background.project={PROJECT}"], stats=stats)
    assert "fallback" not in stats and frame.n == 2        # one background: the grid engine
    rows = sweep(EXAMPLE, {"plant.country": ["CN", "SE"]}, bg())
    assert [r["kg_co2e_per_kwh"] for r in frame.rows()] == pytest.approx([r["kg_co2e_per_kwh"] for r in rows],
                                                                         rel=1e-12)


# ------------------------------------------------------------------------------ warm cache
def test_warm_linked_equals_bw2calc(linked):
    ref = footprint(EXAMPLE, bg(), engine=linked)
    path = warm.save(linked)
    assert path is not None and path.is_file()
    w = warm.load(background=_spec())
    assert isinstance(w, warm.WarmEngine) and w.background is not None
    assert warm.load() is None or warm.load().background is None     # the open cache is another file
    got = footprint(EXAMPLE, bg(), engine=w)
    assert ref["software"]["solver"].startswith("bw2calc")
    assert got["software"]["solver"].startswith("lca_battery.warm")
    assert got["background"] == ref["background"]
    assert _numbers_equal(_without_machine(ref), _without_machine(got)) is None, \
        _numbers_equal(_without_machine(ref), _without_machine(got))
    assert got["kg_co2e_per_kwh"] == pytest.approx(ref["kg_co2e_per_kwh"], rel=1e-9)
    for over in (["plant.country=KR"], ["cell.chemistry=NMC622", "recycling.accounting=cff"]):
        a = footprint(EXAMPLE, [*bg(), *over], engine=linked, details=False)
        b = footprint(EXAMPLE, [*bg(), *over], engine=w, details=False)
        assert b["kg_co2e_per_kwh"] == pytest.approx(a["kg_co2e_per_kwh"], rel=1e-9)
        assert b["stages"] == pytest.approx(a["stages"], rel=1e-9, abs=1e-12)


def test_warm_linked_refuses_edits_of_linked_inputs(linked):
    from lca_battery.errors import StudyError
    from lca_battery.model.superstructure import Entry
    warm.save(linked)
    w = warm.load(background=_spec())
    entry = Entry("electricity_grid_kr", "electricity_grid_cn", 0.5, "test")
    with pytest.raises(StudyError, match="linked to 'ecoinvent-fixture-cutoff'"):
        w.solve([entry])
    with pytest.raises(StudyError, match="linked to 'ecoinvent-fixture-cutoff'"):
        linked.override_package([entry])


def test_edited_user_database_invalidates_the_linked_cache(fixture_project, bw_dir, tmp_path):
    import bw2data as bd
    project = PROJECT + "-edit"
    fx.build(project, fixture_project)
    get_engine().activate()
    eng = get_engine(background=_spec(project))
    before = footprint(EXAMPLE, bg(project), engine=eng, details=False)["kg_co2e_per_kwh"]
    assert warm.save(eng) is not None
    assert isinstance(warm.load(background=_spec(project)), warm.WarmEngine)
    assert warm.load(background=_spec(project + "-other")) is None       # another project: another key
    # the user edits their database through bw2data: the coal power emits twice as much
    bd.projects.set_current(project)
    act = bd.get_node(database=fx.DATABASE, code="fixture-coal-cn")
    for exc in act.biosphere():
        exc["amount"] = 2 * fx.CN_COAL_CO2
        exc.save()
    get_engine().activate()
    assert warm.load(background=_spec(project)) is None                   # stale: linked again, cold
    # the CLI: cold (links again, writes the cache), then warm, both with the edited number
    env = {**os.environ, "BRIGHTWAY2_DIR": str(bw_dir), "PYTHONPATH": str(ROOT)}
    code = ("import sys; from lca_battery.cli import main; rc = main(sys.argv[1:]); "
            "print('IMPORTED', sorted(m for m in ('bw2data', 'bw2calc', 'bw_processing') if m in sys.modules), "
            "file=sys.stderr); sys.exit(rc)")
    cmd = [sys.executable, "-c", code, "footprint", str(EXAMPLE), "--json", "--no-write", "--set", bg(project)[0],
           "--set", bg(project)[1]]
    runs = [subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600) for _ in range(2)]
    for r in runs:
        assert r.returncode == 0, r.stderr
    cold, hot = (json.loads(r.stdout) for r in runs)
    assert cold["software"]["solver"].startswith("bw2calc") and "IMPORTED []" not in runs[0].stderr
    assert hot["software"]["solver"].startswith("lca_battery.warm"), runs[1].stderr
    assert "IMPORTED []" in runs[1].stderr, runs[1].stderr
    assert hot["kg_co2e_per_kwh"] == pytest.approx(cold["kg_co2e_per_kwh"], rel=1e-9)
    assert cold["kg_co2e_per_kwh"] > before * (1 + 1e-6)                  # the edit is in the result
    assert hot["background"]["database"] == fx.DATABASE and hot["background"]["project"] == project


def test_warm_linked_cli_does_not_import_brightway(linked, bw_dir):
    """Second CLI run with --set background.*: the linked model's cache, no bw2data/bw2calc; equal to bw2calc."""
    env = {**os.environ, "BRIGHTWAY2_DIR": str(bw_dir), "PYTHONPATH": str(ROOT)}
    code = ("import sys; from lca_battery.cli import main; rc = main(sys.argv[1:]); "
            "print('IMPORTED', sorted(m for m in ('bw2data', 'bw2calc', 'bw2io', 'bw_processing', 'randonneur', "
            "'pint', 'pandas', 'matplotlib') if m in sys.modules), file=sys.stderr); sys.exit(rc)")
    cmd = [sys.executable, "-c", code, "footprint", str(EXAMPLE), "--json", "--no-write", "--set", bg()[0],
           "--set", bg()[1], "--set", "plant.country=KR"]
    for _ in range(2):                        # the first run may write the caches
        run = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
        assert run.returncode == 0, run.stderr
    assert "IMPORTED []" in run.stderr, run.stderr
    out = json.loads(run.stdout)
    assert out["software"]["solver"].startswith("lca_battery.warm")
    assert out["background"]["database"] == fx.DATABASE
    ref = footprint(EXAMPLE, [*bg(), "plant.country=KR"], engine=linked)
    assert ref["software"]["solver"].startswith("bw2calc")
    assert out["kg_co2e_per_kwh"] == pytest.approx(ref["kg_co2e_per_kwh"], rel=1e-9)
    assert out["stages"] == pytest.approx(ref["stages"], rel=1e-9, abs=1e-12)


def test_linked_cache_key_covers_the_mapping_bytes_and_needs_a_named_project(tmp_path):
    from lca_battery.study import LicensedBackground
    mapping = tmp_path / "m.json"
    mapping.write_bytes(fx.MAPPING.read_bytes())
    a = warm.background_id(fx.DATABASE, PROJECT, mapping)
    assert a == warm.background_id(fx.DATABASE, PROJECT, mapping)
    mapping.write_bytes(fx.MAPPING.read_bytes() + b"\n")
    assert warm.background_id(fx.DATABASE, PROJECT, mapping) != a                 # edited mapping: another key
    assert warm.cache_path(background=a) != warm.cache_path() != warm.cache_path(
        background=warm.background_id(fx.DATABASE, PROJECT + "x", mapping))
    assert warm.load(background=LicensedBackground(database=fx.DATABASE)) is None  # project not named: cold


# ------------------------------------------------------------------------------ scenario tables (and Dask chunks)
def _table(n=150, seed=11):
    """Rows of every kind: grid, recycled content, accounting rule, chemistry, collection rate; empty cells."""
    rng = np.random.default_rng(seed)
    choices = {k: v for k, v in GRID.items()}
    rows = []
    for _ in range(n):
        r = {}
        for k, vals in choices.items():
            if rng.random() < 0.8:
                r[k] = vals[int(rng.integers(len(vals)))]
        rows.append(r)
    return rows




def test_scenario_table_on_linked_background_uses_grid_engine(linked, monkeypatch):
    table = _table()
    grid = {"recycling.recycled_content.Ni.post_consumer": [0.0, 0.2]}
    combos = [{**r, **{k: v}} for r in table for k in grid for v in grid[k]]
    stats = {}
    from lca_battery.study import as_overrides
    fast = sweep_serial._table_rows(EXAMPLE, combos, as_overrides(bg(), str(EXAMPLE)), api.get_engine(), sweep_serial._parsed(EXAMPLE),
                           None, stats=stats)
    assert fast is not None and "fallback" not in stats, stats
    assert stats["background"] == fx.DATABASE and stats["builds"] < len(combos)
    rows = sweep(EXAMPLE, grid, bg(), table=table)
    assert rows == fast
    assert_same_rows(rows, sweep_per_scenario(monkeypatch, EXAMPLE, grid, bg(), table=table))
    rng = np.random.default_rng(7)
    for i in [0, *rng.choice(len(rows), size=4, replace=False)]:
        one = footprint(EXAMPLE, [*bg(), *(f"{k}={v}" for k, v in combos[i].items())], details=False)   # bw2calc
        assert one["software"]["solver"].startswith("bw2calc")
        assert_row_equals_footprint(rows[i], one)


def test_dask_chunks_on_linked_background_use_grid_engine(linked, monkeypatch):
    distributed = pytest.importorskip("distributed")  # noqa: F841
    from lca_battery.distributed import client
    table = _table(800, seed=3)
    used = []
    real = sweep_serial._table_rows

    def spy(*a, **k):
        out = real(*a, **k)
        used.append(out is not None)
        return out
    serial = sweep(EXAMPLE, None, bg(), table=table)
    monkeypatch.setattr(sweep_serial, "SOLVE_BATCH", 400)          # 2 chunks of 400 rows
    monkeypatch.setattr(sweep_serial, "_table_rows", spy)
    with client(workers=2, processes=False) as c:       # workers are threads of this process: the spy sees them
        rows = sweep(EXAMPLE, None, bg(), table=table, client=c)
    assert used and all(used) and len(used) == 2
    assert_same_rows(rows, serial)
    assert_same_rows(rows, sweep_per_scenario(monkeypatch, EXAMPLE, None, bg(), table=table))
