#!/usr/bin/env python
"""Benchmark: scenario sweeps on one set-up engine, as ratios to a baseline in the same process.

Baseline: the first full ``footprint`` (loads the float64 packages, solves, all contributions).
Measured: the per-scenario cost of ``sweep`` (one sparse solve + stage attribution per scenario)
over a grid of plant countries x cobalt recycled content x accounting rules, and the resident
memory growth. Writes results/bench/sweep.json. Usage: python scripts/bench_sweep.py [--countries N]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STUDY = ROOT / "examples" / "nmc811-cn.yaml"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--countries", type=int, default=8)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="lcab-bench-")
    os.environ["BRIGHTWAY2_DIR"] = tmp
    try:
        from lca_battery.api import footprint, get_engine, sweep
        engine = get_engine()
        t = time.perf_counter()
        footprint(STUDY, engine=engine)
        baseline = time.perf_counter() - t
        mem0 = rss_mb()
        countries = ["CN", "SE", "PL", "HU", "KR", "JP", "US", "DE", "NO", "FR", "FI", "ES"][: args.countries]
        grid = {"plant.country": countries,
                "recycling.recycled_content.Co.post_consumer": [0.0, 0.16, 0.26, 0.5, 1.0],
                "recycling.accounting": ["cut_off", "avoided_burden", "cff"]}
        t = time.perf_counter()
        rows = sweep(STUDY, grid, engine=engine)
        elapsed = time.perf_counter() - t
        per = elapsed / len(rows)
        out = {"scenarios": len(rows), "baseline_footprint_s": baseline, "sweep_s": elapsed,
               "per_scenario_s": per, "per_scenario_over_baseline": per / baseline,
               "max_rss_growth_mb": rss_mb() - mem0}
        dest = ROOT / "results" / "bench"
        dest.mkdir(parents=True, exist_ok=True)
        (dest / "sweep.json").write_text(json.dumps(out, indent=2) + "\n")
        print(f"baseline footprint (all contributions): {baseline * 1000:.0f} ms")
        print(f"sweep: {len(rows)} scenarios in {elapsed:.2f} s = {per * 1000:.1f} ms each "
              f"({per / baseline:.2f} x baseline); max RSS growth {out['max_rss_growth_mb']:.0f} MB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
