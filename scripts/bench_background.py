#!/usr/bin/env python
"""Benchmark: the battery model on an ecoinvent-size synthetic background, and the sparse LU candidates.

In one process (a fresh temporary BRIGHTWAY2_DIR): generate the synthetic background
(scripts/synthetic_background.py, MADE-UP numbers) and write it through bw2data; factorise, solve
and refactorise (symbolic analysis reused) (a) the default model's technosphere matrix and (b) the
background's, with every candidate that imports: SciPy SuperLU (splu of A and of A^T, COLAMD and
MMD_AT_PLUS_A), KLU and UMFPACK (kvxopt), PARDISO (pypardiso); residual max|Ax - b|; ratios against
SuperLU (A^T, COLAMD) in the same process. Then: linking the model under the background (cold: the
cumulative LCI of every mapped activity), a warm CLI ``footprint`` (separate process, compiled model
and linked project cached on disk), and sweep scenarios/s on the linked model; peak RSS.
No timing is asserted anywhere. Usage: python scripts/bench_background.py [--processes N] [--skip-slow]
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
import scipy.sparse.linalg as spla  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
STUDY = ROOT / "examples" / "nmc811-cn.yaml"
_spec = importlib.util.spec_from_file_location("synthetic_background", ROOT / "scripts" / "synthetic_background.py")
synth = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(synth)


def _t(f, repeat=1):
    t = time.perf_counter()
    for _ in range(repeat):
        r = f()
    return (time.perf_counter() - t) / repeat, r


def candidates(skip_slow: bool, superlu: bool = True):
    """name -> (factorise(A) -> state, solve(state, b) -> x, refactorise(state, A2) -> state or None)."""
    out = {}
    for label, spec, transposed in (("superlu A^T COLAMD", "COLAMD", True),
                                    ("superlu A^T MMD_AT_PLUS_A", "MMD_AT_PLUS_A", True),
                                    ("superlu A COLAMD", "COLAMD", False)):
        if (skip_slow and not transposed) or not superlu:
            continue
        def fac(A, spec=spec, transposed=transposed):
            return spla.splu(sp.csc_matrix(A.T if transposed else A), permc_spec=spec)
        out[label] = (fac, (lambda lu, b: lu.solve(b, trans="T")) if transposed else (lambda lu, b: lu.solve(b)),
                      None)
    try:
        from kvxopt import klu, matrix, spmatrix, umfpack
    except ImportError:
        klu = None
    if klu is not None:
        def kvx(A):
            c = sp.csc_matrix(A.T).tocoo()
            return spmatrix(c.data, c.row.astype(int).tolist(), c.col.astype(int).tolist(), A.shape)
        for name, mod in (("klu (kvxopt) A^T", klu), ("umfpack (kvxopt) A^T", umfpack)):
            def fac(A, mod=mod):
                K = kvx(A)
                S = mod.symbolic(K)
                return K, S, mod.numeric(K, S)

            def sol(st, b, mod=mod):
                K, S, N = st
                x = matrix(np.array(b, dtype=float))
                if mod is klu:
                    klu.solve(K, S, N, x, trans="T")
                else:
                    umfpack.solve(K, N, x, trans="T")
                return np.array(x).ravel()

            def refac(st, A2, mod=mod):
                K2 = kvx(A2)
                return K2, st[1], mod.numeric(K2, st[1])
            out[name] = (fac, sol, refac)
    try:
        import pypardiso
    except ImportError:
        pypardiso = None
    if pypardiso is not None:
        def pfac(A):
            s = pypardiso.PyPardisoSolver()
            M = sp.csr_matrix(A)
            s.factorize(M)
            return s, M

        def psol(st, b):
            return st[0].solve(st[1], b)
        out["pardiso (pypardiso) A"] = (pfac, psol, None)
    return out


def lu_table(A: sp.csc_matrix, skip_slow: bool, repeat: int, superlu: bool = True) -> list[dict]:
    n = A.shape[0]
    b = np.zeros(n)
    b[n // 2] = 1.0
    b[-1] = 1.0
    A2 = A.copy()
    A2.data = A2.data * np.where(A2.data > 0, 1.0, 0.97)               # same pattern, other values
    rows = []
    for name, (fac, sol, refac) in candidates(skip_slow, superlu).items():
        print(f"  {A.shape[0]} processes: {name} ...", file=sys.stderr, flush=True)
        tf, st = _t(lambda: fac(A))
        ts, x = _t(lambda: sol(st, b), repeat)
        tr = _t(lambda: refac(st, A2))[0] if refac else None
        rows.append({"solver": name, "factorise_s": tf, "solve_s": ts, "refactorise_s": tr,
                     "residual": float(np.abs(A @ x - b).max())})
    base = next((r for r in rows if r["solver"] == "superlu A^T COLAMD"), rows[0])
    for r in rows:
        r[f"factorise_ratio_vs_{base['solver']}"] = base["factorise_s"] / r["factorise_s"]
        r[f"solve_ratio_vs_{base['solver']}"] = base["solve_s"] / r["solve_s"]
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--processes", type=int, default=20000)
    ap.add_argument("--skip-slow", action="store_true", help="leave out SuperLU of A (not transposed)")
    ap.add_argument("--no-superlu-background", action="store_true",
                    help="leave SuperLU out of the background's table (it can take many minutes)")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="lcab-bench-bg-")
    os.environ["BRIGHTWAY2_DIR"] = tmp
    project = "synthetic-ecoinvent"
    try:
        from lca_battery import linalg
        from lca_battery.api import _solver, footprint, get_engine, prepare_mapping, sweep
        from lca_battery.compiled import CompiledModel, Scenario
        out = {"machine": f"{platform.machine()}, {os.cpu_count()} cores (shared), {platform.platform()}",
               "python": platform.python_version(), "sparse_lu": linalg.SOLVER}
        engine = get_engine()
        default_A = CompiledModel.from_engine(engine).A
        out["default_model"] = {"processes": default_A.shape[0], "nnz": int(default_A.nnz),
                                "lu": lu_table(default_A, False, 200)}
        t, model = _t(lambda: synth.generate(args.processes))
        A = model["A"]
        out["background"] = {"processes": A.shape[0], "nnz": int(A.nnz), "generate_s": t,
                             "largest_sccs": synth.scc_sizes(A)[:5]}
        out["background"].update(synth.write(project, model, synth.mapped_targets(engine.inventory),
                                              synth.biosphere_codes()))
        engine.activate()
        print("background written", file=sys.stderr, flush=True)
        out["background"]["lu"] = lu_table(A, args.skip_slow, 5, not args.no_superlu_background)
        bg = [f"background.database={synth.DATABASE}", f"background.project={project}"]
        t, res = _t(lambda: footprint(STUDY, bg))
        out["link_cold_s"] = t              # the linked project: 20k matrices read, factorised, LCIs written
        out["footprint_on_background"] = res["kg_co2e_per_kwh"]
        out["footprint_open_background"] = footprint(STUDY)["kg_co2e_per_kwh"]
        cli = [sys.executable, "-m", "lca_battery", "footprint", str(STUDY), "--no-write", "--json",
               "--set", bg[0], "--set", bg[1]]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        subprocess.run(cli, env=env, capture_output=True, check=True, cwd=ROOT)      # compiled model cached
        warm, cpu = [], []
        for _ in range(3):
            c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            p = subprocess.run(cli, env=env, capture_output=True, check=True, text=True, cwd=ROOT)
            warm.append(time.perf_counter() - t)
            c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(c1.ru_utime - c0.ru_utime + c1.ru_stime - c0.ru_stime)
        out["cli_footprint_warm_s"] = min(warm)           # wall clock (the machine is shared)
        out["cli_footprint_warm_cpu_s"] = min(cpu)        # user + system CPU of the process
        out["cli_footprint_warm_value"] = json.loads(p.stdout)["kg_co2e_per_kwh"]
        grid = {"plant.country": ["CN", "SE", "PL", "HU", "KR", "JP", "US", "DE"],
                "recycling.recycled_content.Co.post_consumer": [0.0, 0.16, 0.26, 0.5, 1.0],
                "recycling.accounting": ["cut_off", "avoided_burden", "cff"]}
        sweep(STUDY, {"plant.country": ["CN"]}, bg)
        t, rows = _t(lambda: sweep(STUDY, grid, bg))
        ref = sweep(STUDY, {k: v[:2] for k, v in grid.items()}, bg, fast=False)
        fast = [r for r in rows if all(r[k] in grid[k][:2] for k in grid)]
        out["sweep_max_relative_difference_vs_bw2calc"] = max(
            abs(a["kg_co2e_per_kwh"] - b["kg_co2e_per_kwh"]) / abs(b["kg_co2e_per_kwh"]) for a, b in zip(fast, ref))
        out["sweep_end_to_end_scenarios_per_s"] = len(rows) / t
        eng = get_engine(background=_bg_spec(project))
        model_c = CompiledModel.from_engine(eng)
        scs = []
        for r in rows:
            st, m, _ = prepare_mapping(STUDY, {**{k: r[k] for k in grid}, **dict(x.split("=", 1) for x in bg)},
                                       eng)
            scs.append(Scenario(model_c.delta(m.entries), st.method, dict(st.stage_overrides)))
        batch = scs * 100
        solver = _solver(eng)
        t = _t(lambda: solver.solve(batch))[0]
        out["sweep_solve_only_scenarios_per_s"] = len(batch) / t
        out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        dest = ROOT / "results" / "bench"
        dest.mkdir(parents=True, exist_ok=True)
        (dest / "background.json").write_text(json.dumps(out, indent=2) + "\n")
        print(json.dumps(out, indent=2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _bg_spec(project):
    from lca_battery.study import LicensedBackground
    return LicensedBackground(database=synth.DATABASE, project=project)


if __name__ == "__main__":
    main()
