#!/usr/bin/env python
"""Benchmark: the fast sweep (compiled model, Woodbury updates) against bw2calc per scenario, in one process.

Same model, same grid (plant country x cobalt recycled content x accounting rule). Reports, per
scenario: the bw2calc path (``sweep(fast=False)``: new LCA + override package each time), the
fast path end to end (study parsing and entries included), and the linear algebra of the fast
path alone (Woodbury solve with stage and gas split, entries prepared beforehand); the ratios;
the largest relative difference between the paths; peak RSS. No timing is asserted anywhere.
BLAS is pinned to one thread (small dense kernels are erratic otherwise, DESIGN.md).
Usage: python scripts/bench_fast_sweep.py [--countries N]
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
STUDY = ROOT / "examples" / "nmc811-cn.yaml"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--countries", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=200, help="times the prepared batch is solved again")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="lcab-bench-")
    os.environ["BRIGHTWAY2_DIR"] = tmp
    try:
        from lca_battery.api import _solver, get_engine, prepare_mapping, sweep
        from lca_battery.compiled import CompiledModel, Scenario
        engine = get_engine()
        countries = ["CN", "SE", "PL", "HU", "KR", "JP", "US", "DE", "NO", "FR", "FI", "ES"][: args.countries]
        grid = {"plant.country": countries,
                "recycling.recycled_content.Co.post_consumer": [0.0, 0.16, 0.26, 0.5, 1.0],
                "recycling.accounting": ["cut_off", "avoided_burden", "cff"]}
        sweep(STUDY, {"plant.country": ["CN"]}, engine=engine)            # warm both paths
        sweep(STUDY, {"plant.country": ["CN"]}, engine=engine, fast=False)
        t = time.perf_counter()
        ref = sweep(STUDY, grid, engine=engine, fast=False)
        t_ref = (time.perf_counter() - t) / len(ref)
        t = time.perf_counter()
        fast = sweep(STUDY, grid, engine=engine)
        t_fast = (time.perf_counter() - t) / len(fast)
        diff = max(abs(a[k] - b[k]) / abs(b["kg_co2e_per_kwh"]) for a, b in zip(fast, ref)
                   for k in b if isinstance(b[k], float))
        # the linear algebra alone: the prepared scenarios solved again, as a batch of repeat x grid
        model = CompiledModel.from_engine(engine)
        scs = []
        for r in fast:
            ov = {k: r[k] for k in grid}
            st, m, _ = prepare_mapping(STUDY, ov, engine)
            scs.append(Scenario(model.delta(m.entries), st.method, dict(st.stage_overrides)))
        batch = scs * args.repeat
        solver = _solver(engine)
        t = time.perf_counter()
        solver.solve(batch)
        t_solve = (time.perf_counter() - t) / len(batch)
        out = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
               "python": platform.python_version(), "scenarios": len(ref),
               "bw2calc_per_scenario_ms": t_ref * 1e3, "fast_per_scenario_ms": t_fast * 1e3,
               "fast_solve_only_per_scenario_us": t_solve * 1e6, "solve_only_scenarios_per_s": 1 / t_solve,
               "ratio_fast_end_to_end": t_ref / t_fast, "ratio_solve_only": t_ref / t_solve,
               "max_relative_difference": diff,
               "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}
        dest = ROOT / "results" / "bench"
        dest.mkdir(parents=True, exist_ok=True)
        (dest / "fast_sweep.json").write_text(json.dumps(out, indent=2) + "\n")
        print(json.dumps(out, indent=2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
