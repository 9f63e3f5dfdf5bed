"""The warm footprint path (lca_battery.warm): same results as bw2calc, a cache keyed on the inventories."""
import json
import os
import shutil
import io
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLE, ROOT, TINY, tiny_study
from lca_battery import warm
from lca_battery.api import footprint
from lca_battery.report.verify import _numbers_equal

STUDIES = {
    "default": (EXAMPLE, {}),
    "lfp": (EXAMPLE, {"cell.chemistry": "LFP", "cell.nominal_voltage_v": None}),
    "recycled-cff": (ROOT / "examples" / "nmc811-recycled-cobalt.yaml", {}),
    "supplier-pcf-ef31": (EXAMPLE, {"suppliers.cam_nmc811.pcf_kg_co2e_per_kg": 12.0,
                                    "suppliers.cam_nmc811.source": "Supplier X PCF 2025",
                                    "suppliers.cam_nmc811.verification": "third-party verified",
                                    "method": "ef31"}),
    "hu-pv-contract": (ROOT / "examples" / "nmc622-hu-pv.yaml",
                       {"plant.electricity.contract": {"wind_onshore": 0.5}}),
}


@pytest.fixture(scope="module")
def warm_engine(engine):
    assert warm.save(engine) is not None
    eng = warm.load()
    assert isinstance(eng, warm.WarmEngine)
    return eng


def _without_machine(result: dict) -> dict:
    return {k: v for k, v in result.items() if k != "software"}


@pytest.mark.parametrize("name", sorted(STUDIES))
def test_warm_equals_bw2calc(engine, warm_engine, name):
    study, overrides = STUDIES[name]
    ref = footprint(study, overrides, engine=engine)
    got = footprint(study, overrides, engine=warm_engine)
    assert ref["software"]["solver"].startswith("bw2calc")
    assert got["software"]["solver"].startswith("lca_battery.warm")
    # every field, numbers to 1e-9 relative (the verify rule), strings and order identical
    assert _numbers_equal(_without_machine(ref), _without_machine(got)) is None, \
        _numbers_equal(_without_machine(ref), _without_machine(got))
    assert got["kg_co2e_per_kwh"] == pytest.approx(ref["kg_co2e_per_kwh"], rel=1e-12)
    assert [p["id"] for p in got["processes"]] == [p["id"] for p in ref["processes"]]


def test_warm_falls_back_to_bw2calc_for_a_new_biosphere_flow(warm_engine, monkeypatch):
    from lca_battery.compiled import CompiledModel, NotCompilable

    def refuse(self, entries):
        raise NotCompilable("test")
    monkeypatch.setattr(CompiledModel, "cells", refuse)
    r = footprint(EXAMPLE, engine=warm_engine, details=False)
    assert r["software"]["solver"].startswith("bw2calc")


def test_changed_inventory_invalidates_the_cache(tmp_path):
    from lca_battery.api import get_engine
    root = tmp_path / "inv"
    shutil.copytree(TINY, root)
    assert warm.load(root) is None                        # no cache yet
    cold = get_engine(root)
    path = warm.save(cold)
    assert path is not None and path.is_file()
    w = warm.load(root)
    assert isinstance(w, warm.WarmEngine)
    base = footprint(tiny_study(), engine=cold, details=False)["kg_co2e_per_kwh"]
    assert footprint(tiny_study(), engine=w, details=False)["kg_co2e_per_kwh"] == pytest.approx(base, rel=1e-12)
    # an edited inventory file: another key, so the old cache is not found
    files = sorted(p for p in root.rglob("*.yaml") if p.name != "sources.yaml")
    text = files[0].read_text()
    files[0].write_text(text + "\n# edited\n")
    assert warm.load(root) is None
    files[0].write_text(text)
    assert isinstance(warm.load(root), warm.WarmEngine)
    # the Brightway project it was made from is gone or rebuilt from other inventories: not used
    marker_path = Path(pickle_marker(path))
    marker = json.loads(marker_path.read_text())
    marker_path.write_text(json.dumps({**marker, "inventory_hash": "other"}))
    assert warm.load(root) is None
    marker_path.write_text(json.dumps(marker))
    assert isinstance(warm.load(root), warm.WarmEngine)
    # a damaged cache file is ignored (rebuilt by the next cold run)
    path.write_bytes(b"not a pickle")
    assert warm.load(root) is None


def pickle_marker(path: Path) -> str:
    import pickle
    with open(path, "rb") as fh:
        return pickle.load(fh)["marker"]


def _cli_importing(bw_dir, modules, *options, command: str = "footprint", check: bool = True):
    """``lca-battery <command> EXAMPLE *options`` in a fresh interpreter, checked to succeed without importing any
    of ``modules`` (with ``check``): (the completed run, its environment)."""
    code = ("import sys; from lca_battery.cli import main; rc = main(sys.argv[1:]); "
            f"print('IMPORTED', sorted(m for m in {tuple(modules)!r} if m in sys.modules), file=sys.stderr); "
            "sys.exit(rc)")
    env = {**os.environ, "BRIGHTWAY2_DIR": str(bw_dir), "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-c", code, command, str(EXAMPLE), *options],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr
    if check:
        assert "IMPORTED []" in run.stderr, run.stderr
    return run, env


def test_warm_sweep_and_uncertainty_do_not_import_brightway(engine, bw_dir):
    """A warm sweep computes on the cached compiled model; a warm Monte Carlo reads the exchanges it sampled the
    first time from beside the cache: neither imports bw2data or bw2calc, and both give the cold run's numbers."""
    from lca_battery.api import sweep, uncertainty
    warm.save(engine)
    run, _ = _cli_importing(bw_dir, ("bw2data", "bw2calc"), "--grid", "plant.country=CN,SE", "--json", "--no-write",
                            command="sweep")
    rows = json.loads(run.stdout)
    ref = sweep(EXAMPLE, {"plant.country": ["CN", "SE"]}, engine=engine)
    assert [r["kg_co2e_per_kwh"] for r in rows] == pytest.approx([r["kg_co2e_per_kwh"] for r in ref], rel=1e-9)
    opts = ("--samples", "300", "--seed", "5", "--json", "--no-write")
    _cli_importing(bw_dir, (), *opts, command="uncertainty", check=False)        # the first: writes the exchanges
    run, _ = _cli_importing(bw_dir, ("bw2data", "bw2calc"), *opts, command="uncertainty")
    ref = uncertainty(EXAMPLE, engine=engine, samples=300, seed=5)["kg_co2e_per_kwh"]
    got = json.loads(run.stdout)["kg_co2e_per_kwh"]
    assert {k: got[k] for k in ("median", "mean", "p2_5", "p97_5") if k in got} == {
        k: ref[k] for k in ("median", "mean", "p2_5", "p97_5") if k in ref} and got["median"] == ref["median"]


def test_warm_cli_does_not_import_brightway(engine, bw_dir, tmp_path):
    """Second CLI run: the warm engine, no bw2data/bw2calc/pint/pandas/matplotlib, the solver in the manifest."""
    warm.save(engine)
    run, env = _cli_importing(bw_dir, ("bw2data", "bw2calc", "bw2io", "bw_processing", "pint", "pandas", "matplotlib",
                                       "jinja2", "openpyxl", "xlsxwriter"), "--json", "--no-write")
    out = json.loads(run.stdout)
    assert out["software"]["solver"].startswith("lca_battery.warm")
    ref = footprint(EXAMPLE, engine=engine)
    assert out["kg_co2e_per_kwh"] == pytest.approx(ref["kg_co2e_per_kwh"], rel=1e-9)
    # written results name the solver in the manifest
    run = subprocess.run([sys.executable, "-m", "lca_battery", "footprint", str(EXAMPLE), "--out",
                          str(tmp_path)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr
    manifest = json.loads(next(tmp_path.glob("*/manifest.json")).read_text())
    assert manifest["software"]["solver"].startswith("lca_battery.warm")
    # the output printed before the process ended without the interpreter's teardown (cli._exit)
    assert "written to" in run.stdout and "footprint.png" in run.stdout and "footprint.xlsx" in run.stdout


def test_writing_parent_imports_no_chart_or_workbook_library(engine, bw_dir, tmp_path):
    """With the workers forked at the start, matplotlib and XlsxWriter are imported by them, not by the command."""
    warm.save(engine)
    _cli_importing(bw_dir, ("matplotlib", "openpyxl", "xlsxwriter", "pandas", "bw2data"), "--out", str(tmp_path))
    names = {p.name for p in next(tmp_path.iterdir()).iterdir()}
    assert {"footprint.png", "footprint.svg", "footprint.xlsx", "manifest.json"} <= names



class _ClosedPipe(io.StringIO):
    """stdout whose reader has gone (`| head -1` after its line): every write fails as a closed pipe does."""
    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")


def test_closed_pipe_ends_quietly(engine, monkeypatch, capsys):
    """`lca-battery footprint ... | head -1`: the command stops with the SIGPIPE status (141) and no error line,
    instead of 'error: cannot run ...: Broken pipe'."""
    from lca_battery.cli import _main
    monkeypatch.setattr("lca_battery.cli._footprint_engine", lambda *a, **k: engine)
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    monkeypatch.setattr(os, "dup2", lambda *a: None)      # the test process keeps its own stdout
    assert _main(["footprint", str(EXAMPLE), "--no-write"]) == 141
    assert "error" not in capsys.readouterr().err


def test_an_edited_project_is_seen_without_bw2data(tmp_path):
    """The warm path reads bw2data's databases.json (no bw2data import) and finds a database edited after the build;
    a marker that recorded no state counts as edited."""
    import json
    from lca_battery.bw.project import edited_databases
    meta = {"lcab-cells": {"modified": "2026-12-02T10:00:00", "number": 41, "depends": []},
            "biosphere3": {"modified": "2026-12-02T09:59:00", "number": 4709}}
    (tmp_path / "databases.json").write_text(json.dumps(meta))
    marker = {"databases": ["lcab-cells"], "database_state": {
        "lcab-cells": {"modified": "2026-12-02T10:00:00", "number": 41},
        "biosphere3": {"modified": "2026-12-02T09:59:00", "number": 4709}}}
    assert edited_databases(marker, tmp_path) == []
    meta["lcab-cells"]["modified"] = "2026-12-02T11:00:00"          # an exchange saved in Activity Browser
    (tmp_path / "databases.json").write_text(json.dumps(meta))
    assert edited_databases(marker, tmp_path) == ["lcab-cells"]
    del meta["lcab-cells"]                                          # a database deleted
    (tmp_path / "databases.json").write_text(json.dumps(meta))
    assert edited_databases(marker, tmp_path) == ["lcab-cells"]
    assert edited_databases({"databases": ["lcab-cells"]}, tmp_path) == ["lcab-cells"]
