"""Issue 11 point 5: a synthetic ecoinvent-shaped background (scripts/synthetic_background.py, MADE-UP
numbers) linked under the model by the real linking path, at a small size; and the sparse LU module
(lca_battery/linalg.py): the fast package and the SciPy fallback agree, the solver is named."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg  # noqa: F401

from conftest import EXAMPLE
from lca_battery import linalg
from lca_battery.api import footprint, sweep

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "user-synthetic-background"
_spec = importlib.util.spec_from_file_location("synthetic_background", ROOT / "scripts" / "synthetic_background.py")
synth = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(synth)


def test_generator_is_seeded_and_has_long_cycles():
    a, b = synth.generate(300, seed=7), synth.generate(300, seed=7)
    assert (a["A"] != b["A"]).nnz == 0 and (a["B"] != b["B"]).nnz == 0
    assert synth.has_long_cycle(a["A"], 3)                         # a cycle of length > 2: not a DAG
    assert len(synth.scc_sizes(a["A"])) >= 3 and synth.scc_sizes(a["A"])[0] > 50
    x = sp.linalg.spsolve(a["A"].tocsc(), np.ones(300))
    assert (x >= 1.0 - 1e-12).all()                                 # productive


@pytest.fixture(scope="module")
def synthetic_project(engine):
    model = synth.generate(300, seed=11)
    info = synth.write(PROJECT, model, synth.mapped_targets(engine.inventory), synth.biosphere_codes())
    engine.activate()
    return info


def bg():
    return [f"background.database={synth.DATABASE}", f"background.project={PROJECT}"]


def test_links_and_compiled_path_equals_bw2calc(synthetic_project):
    res = footprint(EXAMPLE, bg())
    assert res["background"]["database"] == synth.DATABASE
    assert len(res["background"]["linked"]) == len(synth.mapped_targets())
    assert res["software"]["sparse_lu"] == linalg.SOLVER
    grid = {"plant.country": ["CN", "SE"]}
    fast = sweep(EXAMPLE, grid, bg())
    ref = sweep(EXAMPLE, grid, bg(), fast=False)
    for f, r in zip(fast, ref):
        assert f["kg_co2e_per_kwh"] == pytest.approx(r["kg_co2e_per_kwh"], rel=1e-9)
        for k, v in r.items():
            if k.startswith(("stage:", "gas:")):
                assert f[k] == pytest.approx(v, rel=1e-9, abs=1e-9 * abs(r["kg_co2e_per_kwh"]))
    assert fast[0]["kg_co2e_per_kwh"] == pytest.approx(res["kg_co2e_per_kwh"], rel=1e-9)
    from lca_battery.api import get_engine
    from lca_battery.study import LicensedBackground
    eng = get_engine(background=LicensedBackground(database=synth.DATABASE, project=PROJECT))
    assert getattr(eng, "_batch_solver", None) is not None            # the compiled path solved them


def _matrix():
    return synth.generate(400, seed=3)["A"]


def test_lu_fallback_equals_fast_package(monkeypatch):
    A = _matrix()
    rng = np.random.default_rng(0)
    b = rng.random((A.shape[0], 3))
    fast = linalg.factorise(A)                                        # KLU when kvxopt is installed
    monkeypatch.setattr(linalg, "_klu", None)
    fallback = linalg.factorise(A)                                    # SciPy's SuperLU
    monkeypatch.undo()
    for trans, M in (("N", A), ("T", A.T)):
        x, ref = fast.solve(b, trans), fallback.solve(b, trans)
        assert np.abs(M @ x - b).max() < 1e-12
        assert np.abs(x - ref).max() <= 1e-12 * np.abs(ref).max()
    assert fast.solve(b[:, 0]).shape == (A.shape[0],)
    A2 = A.copy()
    A2.data = A2.data * np.where(A2.data > 0, 1.0, 0.9)               # same pattern, new values
    x2 = fast.refactorise(A2).solve(b)
    assert np.abs(A2 @ x2 - b).max() < 1e-12


def test_missing_package_falls_back_silently_and_is_named():
    code = ("import sys, numpy as np, scipy.sparse as sp; sys.modules['kvxopt'] = None; "
            "import lca_battery.linalg as L; A = sp.eye(5, format='csc') * 2; "
            "print(L.SOLVER, float(L.factorise(A).solve(np.ones(5))[0]))")
    out = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert out.stdout.split() == ["superlu", "(scipy)", "0.5"] and out.stderr == ""


def test_the_scipy_fallback_solves_an_ecoinvent_size_matrix(monkeypatch):
    """Without kvxopt the engine factorises block by block (strongly connected components, SuperLU per cycle): on the
    20,000-process synthetic background (cycles of 6,000, 1,500, 400 and 100 processes) it solves exactly where
    SuperLU on the whole matrix ran for minutes."""
    A = synth.generate()["A"].tocsc()
    rng = np.random.default_rng(1)
    b = rng.random((A.shape[0], 4))
    monkeypatch.setattr(linalg, "_klu", None)
    f = linalg.factorise(A)
    assert f.solver == "superlu (scipy)" and isinstance(f._lu, linalg.BlockLU)
    cycles = sorted((len(idx) for *_, cyc in f._lu._levels_of for idx, _ in cyc), reverse=True)
    assert cycles[:4] == [6000, 1500, 400, 100]
    for trans, M in (("N", A), ("T", A.T)):
        x = f.solve(b, trans)
        assert np.abs(M @ x - b).max() < 1e-12 * np.abs(b).max()
