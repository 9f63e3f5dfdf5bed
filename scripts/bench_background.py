#!/usr/bin/env python
"""Benchmark: the battery model on an ecoinvent-size synthetic background, and the sparse LU candidates.

In one process (a fresh temporary BRIGHTWAY2_DIR): generate the synthetic background
(scripts/synthetic_background.py, MADE-UP numbers) and write it through bw2data; factorise, solve
and refactorise (symbolic analysis reused) (a) the default model's technosphere matrix and (b) the
background's, with every candidate that imports: SciPy SuperLU (splu of A and of A^T, COLAMD and
MMD_AT_PLUS_A), KLU and UMFPACK (kvxopt), PARDISO (pypardiso); residual max|Ax - b|; ratios against
SuperLU (A^T, COLAMD) in the same process. Then: linking the model under the background (cold: the
cumulative LCI of every mapped activity); warm CLI ``footprint`` runs (separate processes, the warm
caches of the linked and of the open model) on the linked and the open background, interleaved; grid
sweeps (``api.sweep_frame``) on the linked and the open background, same grid, same process, end to
end and solve only, and the per-scenario path for reference; peak RSS.
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
    ap.add_argument("--grid-scale", type=int, default=1, help="scale of the sweep grid (1: 103,680 scenarios)")
    ap.add_argument("--sweep-repeat", type=int, default=3, help="rounds of the grid sweeps (best kept)")
    ap.add_argument("--no-lu", action="store_true", help="leave out the sparse LU candidate tables")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="lcab-bench-bg-")
    os.environ["BRIGHTWAY2_DIR"] = tmp
    project = "synthetic-ecoinvent"
    try:
        from lca_battery import linalg
        from lca_battery.api import footprint, get_engine
        from lca_battery.compiled import CompiledModel
        out = {"machine": f"{platform.machine()}, {os.cpu_count()} cores (shared), {platform.platform()}",
               "python": platform.python_version(), "sparse_lu": linalg.SOLVER}
        engine = get_engine()
        default_A = CompiledModel.from_engine(engine).A
        out["default_model"] = {"processes": default_A.shape[0], "nnz": int(default_A.nnz),
                                "lu": [] if args.no_lu else lu_table(default_A, False, 200)}
        t, model = _t(lambda: synth.generate(args.processes))
        A = model["A"]
        out["background"] = {"processes": A.shape[0], "nnz": int(A.nnz), "generate_s": t,
                             "largest_sccs": synth.scc_sizes(A)[:5]}
        out["background"].update(synth.write(project, model, synth.mapped_targets(engine.inventory),
                                              synth.biosphere_codes()))
        engine.activate()
        print("background written", file=sys.stderr, flush=True)
        if not args.no_lu:
            out["background"]["lu"] = lu_table(A, args.skip_slow, 5, not args.no_superlu_background)
        bg = [f"background.database={synth.DATABASE}", f"background.project={project}"]
        t, res = _t(lambda: footprint(STUDY, bg))
        out["link_cold_s"] = t              # the linked project: 20k matrices read, factorised, LCIs written
        out["footprint_on_background"] = res["kg_co2e_per_kwh"]
        out["footprint_open_background"] = footprint(STUDY)["kg_co2e_per_kwh"]
        out["cli_footprint_warm"] = warm_cli(bg)
        for name, ref in (("linked", out["footprint_on_background"]), ("open", out["footprint_open_background"])):
            w = out["cli_footprint_warm"][name]
            w["relative_difference_vs_bw2calc"] = abs(w["value"] - ref) / abs(ref)
        out["sweep"] = sweeps(bg, project, args.grid_scale, args.sweep_repeat)
        out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        dest = ROOT / "results" / "bench"
        dest.mkdir(parents=True, exist_ok=True)
        (dest / "background.json").write_text(json.dumps(out, indent=2) + "\n")
        print(json.dumps(out, indent=2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def warm_cli(bg: list) -> dict:
    """Warm CLI ``footprint`` (separate processes), on the linked background and on the open one, runs
    interleaved; the first run of each writes the caches (warm model of the linked and of the open model)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    base = [sys.executable, "-m", "lca_battery", "footprint", str(STUDY), "--no-write", "--json"]
    cmds = {"linked": base + ["--set", bg[0], "--set", bg[1]], "open": base}
    for cli in cmds.values():
        subprocess.run(cli, env=env, capture_output=True, check=True, cwd=ROOT)      # caches written
    res = {k: {"wall_s": [], "cpu_s": []} for k in cmds}
    for _ in range(3):
        for name, cli in cmds.items():
            c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            p = subprocess.run(cli, env=env, capture_output=True, check=True, text=True, cwd=ROOT)
            res[name]["wall_s"].append(time.perf_counter() - t)
            c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            res[name]["cpu_s"].append(c1.ru_utime - c0.ru_utime + c1.ru_stime - c0.ru_stime)
            got = json.loads(p.stdout)
            res[name]["value"] = got["kg_co2e_per_kwh"]
            res[name]["solver"] = got["software"]["solver"]
    for r in res.values():
        r["best_wall_s"], r["best_cpu_s"] = min(r["wall_s"]), min(r["cpu_s"])
    print(f"warm CLI: {json.dumps({k: v['best_wall_s'] for k, v in res.items()})}", file=sys.stderr, flush=True)
    return res


def sweeps(bg: list, project: str, scale: int, repeat: int = 3) -> dict:
    """Grid sweeps (``api.sweep_frame``, the grid engine) on the linked and on the open background, same
    grid, same process, interleaved: end to end and solve only (``stats['solve_s']``, after the model is
    compiled and factorised by a warm-up sweep); the per-scenario path on a small grid for reference; a
    sample of rows against bw2calc (``sweep(fast=False)``) and ``footprint``."""
    from lca_battery import sweep_serial
    from lca_battery.api import footprint, sweep, sweep_frame
    big = _script("bench_fast_sweep").big_grid(scale)
    small = {"plant.country": ["CN", "SE", "PL", "HU", "KR", "JP", "US", "DE"],
             "recycling.recycled_content.Co.post_consumer": [0.0, 0.16, 0.26, 0.5, 1.0],
             "recycling.accounting": ["cut_off", "avoided_burden", "cff"]}
    sets = {"linked": bg, "open": []}
    out: dict = {"grid": {k: len(v) for k, v in big.items()}}
    for name, ov in sets.items():                                       # compiled model, factorisation
        sweep_frame(STUDY, {"plant.country": ["CN", "SE"], "recycling.accounting": ["cut_off", "cff"]}, ov)
    for name in sets:
        out[name] = {"end_to_end_per_s": [], "solve_only_per_s": [], "builds": None}
    for rep in range(repeat):
        for name, ov in sets.items():
            stats: dict = {}
            t = time.perf_counter()
            frame = sweep_frame(STUDY, big, ov, stats=stats)
            dt = time.perf_counter() - t
            if "fallback" in stats:
                raise SystemExit(f"grid engine fell back on the {name} background: {stats['fallback']}")
            o = out[name]
            o["n"], o["builds"], o["background"] = frame.n, stats["builds"], stats.get("background")
            o["end_to_end_per_s"].append(frame.n / dt)
            o["solve_only_per_s"].append(frame.n / stats["solve_s"])
            o["build_s"], o["solve_s"], o["end_to_end_s"] = stats["build_s"], stats["solve_s"], dt
            print(f"sweep {name}: {frame.n} scenarios {dt:.2f} s (solve {stats['solve_s']:.2f} s)",
                  file=sys.stderr, flush=True)
            if rep:
                continue
            rng = np.random.default_rng(1)
            rows = frame.rows()
            worst = 0.0
            for i in rng.choice(frame.n, size=3, replace=False):
                r = rows[i]
                one = footprint(STUDY, [*ov, *(f"{k}={r[k]}" for k in big)], details=False)
                worst = max(worst, abs(r["kg_co2e_per_kwh"] - one["kg_co2e_per_kwh"]) / abs(one["kg_co2e_per_kwh"]))
            o["sample_max_relative_difference_vs_footprint"] = worst
    for name in sets:
        o = out[name]
        o["best_end_to_end_per_s"], o["best_solve_only_per_s"] = max(o["end_to_end_per_s"]), max(o["solve_only_per_s"])
        o["median_end_to_end_per_s"] = float(np.median(o["end_to_end_per_s"]))
        o["median_solve_only_per_s"] = float(np.median(o["solve_only_per_s"]))
    # the per-scenario path (grid engine off: a study build and a Woodbury solve per scenario), small grid
    orig = sweep_serial._grid_frame
    sweep_serial._grid_frame = lambda *a, **k: None
    try:
        for name, ov in sets.items():
            t = time.perf_counter()
            rows = sweep(STUDY, small, ov)
            out[name]["per_scenario_path_per_s"] = len(rows) / (time.perf_counter() - t)
    finally:
        sweep_serial._grid_frame = orig
    out["table"] = tables(STUDY, big, sets)
    for name, ov in sets.items():
        sub = {k: v[:2] for k, v in small.items()}
        fast, ref = sweep(STUDY, sub, ov), sweep(STUDY, sub, ov, fast=False)
        out[name]["max_relative_difference_vs_bw2calc"] = max(
            abs(a["kg_co2e_per_kwh"] - b["kg_co2e_per_kwh"]) / abs(b["kg_co2e_per_kwh"]) for a, b in zip(fast, ref))
    return out


def tables(study, big: dict, sets: dict, n_rows: int = 20_000, n_slow: int = 400, seed: int = 2) -> dict:
    """Scenario-table sweeps (``sweep(table=...)``): ``n_rows`` rows drawn at random from the big grid (each
    field left empty in 10 % of the rows), through the grid engine on the table's virtual grid, and the
    first ``n_slow`` of them through the per-scenario path it replaced (the table path off), same process;
    on the linked background also on a Dask local cluster of 2 worker processes (one chunk per worker).
    Rows of the two serial paths compared to 1e-9 relative."""
    from lca_battery import api, sweep_serial
    from lca_battery.api import sweep
    rng = np.random.default_rng(seed)
    keys = list(big)
    rows = []
    for _ in range(n_rows):
        rows.append({k: big[k][int(rng.integers(len(big[k])))] for k in keys if rng.random() >= 0.1})
    out: dict = {"rows": n_rows, "per_scenario_rows": n_slow}
    for name, ov in sets.items():
        from lca_battery.study import as_overrides
        stats: dict = {}
        t = time.perf_counter()          # = sweep(study, None, ov, table=rows), with the engine's stats
        fast = sweep_serial._table_rows(study, rows, as_overrides(ov, str(study)), api.get_engine(), sweep_serial._parsed(study), None,
                               stats=stats)
        t_fast = time.perf_counter() - t
        if fast is None:
            raise SystemExit(f"table path fell back on the {name} background: {stats['fallback']}")
        orig = sweep_serial._table_rows
        sweep_serial._table_rows = lambda *a, **k: None
        try:
            t = time.perf_counter()
            slow = sweep(study, None, ov, table=rows[:n_slow])
            t_slow = time.perf_counter() - t
        finally:
            sweep_serial._table_rows = orig
        worst = max(abs(a[k] - b[k]) / max(abs(b[k]), 1e-300) for a, b in zip(fast, slow) for k in b
                    if k.startswith("kg_co2e"))
        out[name] = {"per_s": n_rows / t_fast, "per_scenario_path_per_s": n_slow / t_slow, "builds": stats["builds"],
                     "solve_only_per_s": n_rows / stats["solve_s"], "load_average": os.getloadavg(),
                     "ratio": (n_rows / t_fast) / (n_slow / t_slow), "max_relative_difference": worst}
        print(f"table {name}: {n_rows / t_fast:,.0f}/s, per-scenario path {n_slow / t_slow:,.0f}/s", file=sys.stderr,
              flush=True)
    try:
        from lca_battery.distributed import client
        import lca_battery.distributed as dist
        ov = sets["linked"]
        dist.CHUNKS_PER_WORKER = 1
        with client(workers=2) as c:
            sweep(study, None, ov, table=rows[:8], client=c)                # workers link/load the model
            t = time.perf_counter()
            got = sweep(study, None, ov, table=rows, client=c)
            t_dask = time.perf_counter() - t
        serial = sweep(study, None, ov, table=rows)
        worst = max(abs(a["kg_co2e_per_kwh"] - b["kg_co2e_per_kwh"]) / abs(b["kg_co2e_per_kwh"])
                    for a, b in zip(got, serial))
        out["dask_linked"] = {"per_s": n_rows / t_dask, "max_relative_difference_vs_serial": worst}
        print(f"table linked, Dask 2 workers: {n_rows / t_dask:,.0f}/s", file=sys.stderr, flush=True)
    except Exception as exc:          # noqa: BLE001 - reported in the output, not fatal to the benchmark
        out["dask_linked"] = {"error": f"{type(exc).__name__}: {exc}"}
    return out


def _script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _bg_spec(project):
    from lca_battery.study import LicensedBackground
    return LicensedBackground(database=synth.DATABASE, project=project)


if __name__ == "__main__":
    main()
