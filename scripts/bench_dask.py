"""Dask overhead: a sweep and a Monte Carlo on a local cluster (``--workers``) against the serial run,
in one process on the same model. Prints scenarios/s, samples/s and the ratio (serial time / Dask time:
above 1 the cluster is faster). The cluster start-up is timed apart; the timed runs are warm (each
worker has built its engine and factorisation in a first run).

    PYTHONPATH=$PWD BRIGHTWAY2_DIR=$(mktemp -d) python scripts/bench_dask.py [--workers 2] [--scenarios 20000] [--samples 10000]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "nmc811-cn.yaml"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scenarios", type=int, default=20_000)
    ap.add_argument("--samples", type=int, default=10_000)
    a = ap.parse_args()
    from lca_battery.api import get_engine, sweep, uncertainty
    from lca_battery.distributed import client, worker_counts
    engine = get_engine()
    n_rc = max(1, a.scenarios // 8)
    grid = {"plant.country": ["CN", "SE", "PL", "DE", "HU", "KR", "US", "FR"],
            "recycling.recycled_content.Co.post_consumer": [float(x) for x in np.linspace(0, 0.5, n_rc)]}
    sweep(EXAMPLE, {"plant.country": ["CN"]}, engine=engine)          # warm serial caches
    t = time.perf_counter()
    serial = sweep(EXAMPLE, grid, engine=engine)
    t_sweep = time.perf_counter() - t
    t = time.perf_counter()
    u_serial = uncertainty(EXAMPLE, engine=engine, samples=a.samples, seed=1)
    t_mc = time.perf_counter() - t
    t = time.perf_counter()
    with client(workers=a.workers) as c:
        t_start = time.perf_counter() - t
        t = time.perf_counter()
        sweep(EXAMPLE, {"plant.country": ["CN"] * 2}, engine=engine, client=c)     # workers build their engine
        uncertainty(EXAMPLE, engine=engine, samples=64, seed=1, client=c)
        t_warm = time.perf_counter() - t
        t = time.perf_counter()
        rows = sweep(EXAMPLE, grid, engine=engine, client=c)
        d_sweep = time.perf_counter() - t
        t = time.perf_counter()
        u = uncertainty(EXAMPLE, engine=engine, samples=a.samples, seed=1, client=c)
        d_mc = time.perf_counter() - t
        counts = list(c.run(worker_counts).values())
    n = len(serial)
    diff = max(abs(x["kg_co2e_per_kwh"] - y["kg_co2e_per_kwh"]) for x, y in zip(serial, rows))
    print(f"Dask local cluster, {a.workers} worker processes (1 thread each); start-up {t_start:.1f} s, "
          f"first (cold) tasks {t_warm:.1f} s")
    print(f"{'':<28}{'serial':>14}{'dask':>14}{'ratio serial/dask':>20}")
    print(f"{f'sweep, {n:,} scenarios':<28}{n / t_sweep:>10,.0f} sc/s{n / d_sweep:>10,.0f} sc/s{t_sweep / d_sweep:>20.2f}")
    print(f"{f'Monte Carlo, {a.samples:,}':<28}{a.samples / t_mc:>11,.0f} /s{a.samples / d_mc:>11,.0f} /s"
          f"{t_mc / d_mc:>20.2f}")
    rel = max(abs(x[k] - y[k]) / abs(x[k]) for x, y in zip(serial, rows) for k in x
              if isinstance(x[k], float) and x[k] != 0)
    print(f"max |sweep difference| {diff:.3g} kg CO2e/kWh (largest relative difference of any column {rel:.2g}; "
          f"rows identical: {rows == serial}); Monte Carlo samples identical: {u['samples'] == u_serial['samples']}")
    print("workers (sweep row chunks / sub-grids / grid builds, over all runs): "
          + "; ".join(f"{w['chunks']} / {w.get('subgrids', 0)} / {w.get('builds', 0)}" for w in counts))


if __name__ == "__main__":
    main()
