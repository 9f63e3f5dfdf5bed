#!/usr/bin/env python
"""Benchmark: cold versus warm ``lca-battery footprint`` on the default study.

Cold: a fresh Brightway data folder (biosphere, methods and databases are built).
Warm: the same folder again (the content hash matches; nothing is rebuilt).
Also, in one process: a footprint on a set-up engine, as a ratio to the first (baseline) one.
Figures go to stdout and to results/bench/setup.json. Usage: python scripts/bench_setup.py [--repeat N]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STUDY = ROOT / "examples" / "nmc811-cn.yaml"


def run_cli(bw_dir: str) -> float:
    env = {**os.environ, "BRIGHTWAY2_DIR": bw_dir}
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "lca_battery", "footprint", str(STUDY), "--json", "--no-write"],
                   check=True, env=env, capture_output=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    cold, warm = [], []
    for _ in range(args.repeat):
        d = tempfile.mkdtemp(prefix="lcab-bench-")
        try:
            cold.append(run_cli(d))
            warm.append(run_cli(d))
        finally:
            shutil.rmtree(d, ignore_errors=True)
    # in-process: baseline = first footprint (includes loading packages), then warm calls
    d = tempfile.mkdtemp(prefix="lcab-bench-")
    os.environ["BRIGHTWAY2_DIR"] = d
    from lca_battery.api import footprint, get_engine
    eng = get_engine()
    t = time.perf_counter(); footprint(STUDY, engine=eng, details=False); base = time.perf_counter() - t
    inproc = []
    for country in ("SE", "PL", "HU", "CN", "KR"):
        t = time.perf_counter()
        footprint(STUDY, [f"plant.country={country}"], engine=eng, details=False)
        inproc.append(time.perf_counter() - t)
    shutil.rmtree(d, ignore_errors=True)
    out = {
        "cold_s_median": statistics.median(cold), "warm_s_median": statistics.median(warm),
        "cold_over_warm": statistics.median(cold) / statistics.median(warm),
        "in_process_baseline_s": base, "in_process_scenario_s_median": statistics.median(inproc),
        "scenario_over_baseline": statistics.median(inproc) / base,
        "repeat": args.repeat, "python": sys.version.split()[0], "cpus": os.cpu_count(),
    }
    dest = ROOT / "results" / "bench"
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "setup.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"cold run (fresh Brightway folder): {out['cold_s_median']:.2f} s (median of {args.repeat})")
    print(f"warm run (no rebuild):             {out['warm_s_median']:.2f} s   cold/warm = {out['cold_over_warm']:.2f}")
    print(f"in one process, first footprint:   {base * 1000:.0f} ms; next scenarios: "
          f"{out['in_process_scenario_s_median'] * 1000:.0f} ms  (ratio {out['scenario_over_baseline']:.2f})")


if __name__ == "__main__":
    main()
