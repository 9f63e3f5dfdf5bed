#!/usr/bin/env python
"""Benchmark: the fast sweep (compiled model, Woodbury updates) against bw2calc per scenario, in one process.

Same model, same grid (plant country x cobalt recycled content x accounting rule). Reports, per
scenario: the bw2calc path (``sweep(fast=False)``: new LCA + override package each time), the
fast path end to end (study parsing and entries included), and the linear algebra of the fast
path alone (Woodbury solve with stage and gas split, entries prepared beforehand); the ratios;
the largest relative difference between the paths; peak RSS. No timing is asserted anywhere.
BLAS is pinned to one thread (small dense kernels are erratic otherwise, DESIGN.md).

``--big`` measures a portfolio grid (plant country x on-site PV x heat x Co/Ni recycled content x
accounting rule x chemistry x collection rate, 103,680 scenarios; ``--big-scale K`` multiplies the
PV and Co axes for 1e6) through :func:`lca_battery.api.sweep_frame` (separable building + vectorised
Woodbury): scenarios per second end to end and per stage (building/checking vs solving), the ratio
to the naive path (a fresh bw2calc ``LCA`` per scenario, measured on a small sample in the same
process, totals, stages and gases only), the largest difference of a seeded sample of rows against
``footprint --set`` alone, and peak RSS. The per-material columns (``material:<id>``) cost is measured in the same process: the
grid is swept with and without them (``materials=False``), alternately, twice each (best of two), and so
is the solver before its K grouping and deduplication (``GROUP_MAX=0``, ``DEDUPE=False``; ``--no-before``
leaves it out). The load average at the end is recorded (the machine may be shared).
Usage: python scripts/bench_fast_sweep.py [--countries N] [--big [--big-scale K]]
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
    ap.add_argument("--big", action="store_true", help="the portfolio grid (>= 100,000 scenarios)")
    ap.add_argument("--big-scale", type=int, default=1, help="multiply the grid by about this factor")
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    ap.add_argument("--rounds", type=int, default=2, help="--big: rounds of alternating runs (best of them)")
    ap.add_argument("--no-before", action="store_true",
                    help="--big: leave out the runs of the solver before K grouping and deduplication")
    args = ap.parse_args()
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(args.threads)
    tmp = tempfile.mkdtemp(prefix="lcab-bench-")
    os.environ["BRIGHTWAY2_DIR"] = tmp
    if args.big:
        try:
            return big(args)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    try:
        from lca_battery.api import get_engine, prepare_mapping, sweep
        from lca_battery.compiled import batch_solver as _solver
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


COUNTRIES = ["CN", "SE", "PL", "HU", "KR", "JP", "US", "DE", "NO", "FR", "FI", "ES"]


#: The naive path's sample: 12 scenarios of every kind (grid, accounting rule, chemistry).
NAIVE_SAMPLE = {"plant.country": ["CN", "SE", "PL"], "recycling.accounting": ["cut_off", "cff"],
                "cell.chemistry": ["NMC811", "NMC622"]}


def naive(engine):
    """Seconds per scenario of the naive path (a fresh bw2calc LCA per scenario: ``sweep(fast=False)``) on
    :data:`NAIVE_SAMPLE`, after warming the compiled model and bw2calc; and its rows (the reference)."""
    from lca_battery.api import sweep
    sweep(STUDY, {"plant.country": ["CN", "SE"]}, engine=engine)              # warm: compiled model, factorisation
    sweep(STUDY, {"plant.country": ["CN"]}, engine=engine, fast=False, materials=False)
    t = time.perf_counter()       # totals, stages and gases (per-material columns would add a solve per input)
    ref = sweep(STUDY, NAIVE_SAMPLE, engine=engine, fast=False, materials=False)
    return (time.perf_counter() - t) / len(ref), ref


def big_grid(scale: int = 1) -> dict:
    pv = [0, 0.1, 0.2, 0.3, 0.5] if scale < 2 else [round(0.05 * i, 2) for i in range(5 * scale)]
    co = [0, 0.1, 0.2, 0.3, 0.5, 1.0] if scale < 2 else [round(i / (6 * scale - 1), 4) for i in range(6 * scale)]
    return {"plant.country": COUNTRIES,
            "plant.electricity.onsite.pv_rooftop": pv,
            "plant.heat": ["natural_gas", "coal", "electric_boiler", "district_steam"],
            "recycling.recycled_content.Co.post_consumer": co,
            "recycling.recycled_content.Ni.post_consumer": [0, 0.1, 0.3],
            "recycling.accounting": ["cut_off", "avoided_burden", "cff"],
            "cell.chemistry": ["NMC811", "NMC622"],
            "recycling.eol_collection_rate": [0.5, 0.7, 0.9, 0.95]}


def big(args) -> None:
    import numpy as np
    from lca_battery.api import footprint, get_engine, sweep_frame
    engine = get_engine()
    grid = big_grid(args.big_scale)
    t_naive, ref = naive(engine)
    from lca_battery import sweep_engine as se
    runs: dict = {True: [], False: []}
    before: dict = {True: [], False: []}
    new_solve = (se.GROUP_MAX, se.DEDUPE)
    for rnd in range(args.rounds):                   # alternately: the machine's load drifts
        for old, materials in ((False, False), (False, True), (True, False), (True, True)):
            if old and args.no_before:
                continue
            # before: every scenario's small matrix K solved on its own, identical scenarios solved again
            se.GROUP_MAX, se.DEDUPE = (0.0, False) if old else new_solve
            st: dict = {}
            t = time.perf_counter()
            try:
                fr = sweep_frame(STUDY, grid, engine=engine, stats=st, materials=materials)
            finally:
                se.GROUP_MAX, se.DEDUPE = new_solve
            (before if old else runs)[materials].append((time.perf_counter() - t, st["solve_s"], st))
            if "fallback" in st:
                raise SystemExit(f"the grid fell back to the per-scenario path: {st['fallback']}")
            if materials and not old:
                frame = fr
            del fr
    t_big, _, stats = min(runs[True], key=lambda r: r[0])
    t_plain = min(r[0] for r in runs[False])
    s_mat, s_plain = min(r[1] for r in runs[True]), min(r[1] for r in runs[False])
    # a seeded sample of rows against footprint --set alone (bw2calc)
    rng = np.random.default_rng(7)
    worst = worst_mat = 0.0
    for i in rng.choice(frame.n, size=12, replace=False):
        ov = {k: frame.columns[k][i] for k in grid}
        one = footprint(STUDY, ov, engine=engine, details=False)
        tot = one["kg_co2e_per_kwh"]
        worst = max(worst, abs(frame.columns["kg_co2e_per_kwh"][i] - tot) / abs(tot),
                    *(abs(frame.columns[f"stage:{k}"][i] - v) / abs(tot) for k, v in one["stages"].items()),
                    *(abs(frame.columns[f"gas:{k}"][i] - v) / abs(tot) for k, v in one["gases"].items()))
        one = footprint(STUDY, ov, engine=engine)
        for m in one["materials"]:
            v, d = m["kg_co2e_per_kwh"], abs(frame.columns[f"material:{m['id']}"][i] - m["kg_co2e_per_kwh"])
            worst_mat = max(worst_mat, d / abs(v) if abs(v) > 1e-12 else d)       # absolute when zero
    n = frame.n
    out = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
           "python": platform.python_version(), "blas_threads": args.threads, "scenarios": n,
           "grid": {k: len(v) for k, v in grid.items()}, "blocks_of_interacting_axes": stats["blocks"],
           "study_builds": stats["builds"], "changed_cells": stats["cells"],
           "blocks_assembled_per_context": stats.get("per_context"), "build_processes": stats.get("build_processes"),
           "seconds_end_to_end": t_big, "scenarios_per_s_end_to_end": n / t_big,
           "seconds_building_and_checking": stats["build_s"], "seconds_solving": s_mat,
           "scenarios_per_s_solve": n / s_mat,
           "naive_bw2calc_per_scenario_ms": t_naive * 1e3, "naive_sample": len(ref),
           "ratio_end_to_end_to_naive": t_naive * n / t_big, "ratio_solve_to_naive": t_naive * n / s_mat,
           "max_relative_difference_vs_footprint_sample_of_12": worst,
           "material_columns": sum(1 for c in frame.columns if c.startswith("material:")),
           "max_relative_difference_of_material_columns_vs_footprint": worst_mat,
           "without_material_columns": {"seconds_end_to_end": t_plain, "scenarios_per_s_end_to_end": n / t_plain,
                                        "seconds_solving": s_plain, "scenarios_per_s_solve": n / s_plain},
           "material_columns_cost_end_to_end": t_big / t_plain - 1, "material_columns_cost_solve": s_mat / s_plain - 1,
           "runs_s_end_to_end_and_solve": {"with": [r[:2] for r in runs[True]], "without": [r[:2] for r in runs[False]]},
           "before_this_solver": None if args.no_before else {
               "what": "GROUP_MAX=0, DEDUPE=False: each scenario's K solved by batched LAPACK, identical scenarios "
                       "solved again (the solver before K grouping and deduplication), same process, alternately",
               "with_material_columns": {"seconds_end_to_end": min(r[0] for r in before[True]),
                                         "scenarios_per_s_end_to_end": n / min(r[0] for r in before[True]),
                                         "seconds_solving": min(r[1] for r in before[True]),
                                         "scenarios_per_s_solve": n / min(r[1] for r in before[True]),
                                         "ratio_end_to_end_to_naive": t_naive * n / min(r[0] for r in before[True])},
               "without_material_columns": {"seconds_end_to_end": min(r[0] for r in before[False]),
                                            "scenarios_per_s_end_to_end": n / min(r[0] for r in before[False]),
                                            "seconds_solving": min(r[1] for r in before[False]),
                                            "scenarios_per_s_solve": n / min(r[1] for r in before[False])},
               "runs_s_end_to_end_and_solve": {"with": [r[:2] for r in before[True]],
                                               "without": [r[:2] for r in before[False]]}},
           "load_average_1_5_15_min_at_end": os.getloadavg(),
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}
    dest = ROOT / "results" / "bench"
    dest.mkdir(parents=True, exist_ok=True)
    (dest / f"fast_sweep_big{'' if args.big_scale < 2 else '_x' + str(args.big_scale)}.json").write_text(
        json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
