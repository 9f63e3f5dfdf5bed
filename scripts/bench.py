#!/usr/bin/env python
"""The issue-11 benchmark in one process on the default NMC811 model: naive bw2calc per scenario,
the grid sweep engine, bw2calc's Monte Carlo against the engine's, the warm CLI (subprocesses),
the ecoinvent-size synthetic background and the Dask overhead on a local cluster.

Prints one table (scenarios or iterations per second, ratios, peak memory) with the machine, and
writes it to results/bench/bench.json and results/bench/bench.md. No timing is asserted anywhere;
speeds are compared as ratios against a baseline measured in the same process. BLAS is pinned to
one thread (small dense kernels are erratic otherwise). The heavier parts can be skipped:

    python scripts/bench.py [--quick] [--skip background,dask,cli]
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
STUDY = ROOT / "examples" / "nmc811-cn.yaml"
PARTS = ("sweep", "montecarlo", "cli", "background", "dask")


def _script(name: str):
    """A sibling benchmark script as a module (its grids and helpers are reused, not copied)."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def bench_sweep(engine, quick: bool) -> list[dict]:
    from lca_battery.api import sweep, sweep_frame
    grid = _script("bench_fast_sweep").big_grid(1)
    if quick:
        grid["plant.country"] = grid["plant.country"][:3]
    bfs = _script("bench_fast_sweep")
    sample = bfs.NAIVE_SAMPLE
    t_naive, naive = bfs.naive(engine)
    stats: dict = {}
    t = time.perf_counter()
    frame = sweep_frame(STUDY, grid, engine=engine, stats=stats)
    t_grid = time.perf_counter() - t
    n = frame.n
    fast = sweep(STUDY, sample, engine=engine)
    diff = max(abs(a["kg_co2e_per_kwh"] - b["kg_co2e_per_kwh"]) / b["kg_co2e_per_kwh"] for a, b in zip(fast, naive))
    return [{"path": "naive: a fresh bw2calc LCA per scenario", "n": len(naive), "per_s": 1 / t_naive,
             "ratio": 1.0, "note": "baseline"},
            {"path": "sweep engine, grid with stage, gas and material split (end to end)", "n": n, "per_s": n / t_grid,
             "ratio": t_naive * n / t_grid,
             "note": f"{stats.get('builds', '?')} study builds; max rel. difference to bw2calc {diff:.1e}"}]


def bench_montecarlo(engine, quick: bool) -> list[dict]:
    from lca_battery import montecarlo as mc
    from lca_battery.api import prepare_mapping
    st, mapping, eng = prepare_mapping(STUDY, {}, engine)
    n_bw, n_fast = (60, 2000) if quick else (300, 10_000)
    eng.monte_carlo(mapping.entries, st.method, 5, 1)                       # warm both
    mc.run(eng, [mapping.entries], st.method, 5, 1)
    t = time.perf_counter()
    eng.monte_carlo(mapping.entries, st.method, n_bw, 1)
    t_bw = (time.perf_counter() - t) / n_bw
    t = time.perf_counter()
    mc.run(eng, [mapping.entries], st.method, n_fast, 1)
    t_fast = time.perf_counter() - t
    return [{"path": "Monte Carlo: bw2calc next()", "n": n_bw, "per_s": 1 / t_bw, "ratio": 1.0,
             "note": "baseline"},
            {"path": "Monte Carlo: engine (vectorised sampling, exact solves)", "n": n_fast,
             "per_s": n_fast / t_fast, "ratio": t_bw * n_fast / t_fast, "note": f"{n_fast:,} iterations in {t_fast:.2f} s"}]


def bench_cli(bw_dir: str, quick: bool) -> list[dict]:
    """The CLI in subprocesses, with byte code written and reused as in an installed package (this
    environment may set PYTHONDONTWRITEBYTECODE: every run would then compile lca_battery's modules, about
    0.1 s). The results folder is written with the chart and workbook workers forked at the start (the
    default) and without them (``LCA_BATTERY_PREFORK=0``: the chart forked after the computation), in
    alternation so that both see the same load."""
    env = {**os.environ, "BRIGHTWAY2_DIR": bw_dir, "PYTHONPATH": str(ROOT),
           "PYTHONPYCACHEPREFIX": tempfile.mkdtemp(prefix="lcab-bench-pyc-")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    cmd = [sys.executable, "-m", "lca_battery", "footprint", str(STUDY), "--no-write"]

    def run(extra_env=None, args=None) -> tuple[float, float]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(args or cmd, env={**env, **(extra_env or {})}, check=True, capture_output=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.perf_counter() - t, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    run()                                                                   # builds the project and the cache
    run()                                                                   # byte code written
    reps = 1 if quick else 5
    bw = [run({"LCA_BATTERY_NO_WARM": "1"}) for _ in range(reps)]
    warm = [run() for _ in range(reps)]
    written, inline = [], []
    with tempfile.TemporaryDirectory() as out:                              # the default command: results written
        write = cmd[:-1] + ["--out", out]
        for i in range(reps):
            pair = [(written, None), (inline, {"LCA_BATTERY_PREFORK": "0"})]
            for dest, extra in (pair if i % 2 == 0 else pair[::-1]):
                dest.append(run(extra, write))

    def med(xs):
        return statistics.median(x[0] for x in xs), statistics.median(x[1] for x in xs)
    (w_bw, c_bw), (w_w, c_w), (w_o, c_o), (w_i, c_i) = med(bw), med(warm), med(written), med(inline)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [{"path": "CLI footprint --no-write, bw2calc on the Brightway project", "n": reps, "per_s": 1 / w_bw,
             "ratio": 1.0, "note": f"{w_bw:.2f} s wall, {c_bw:.2f} s CPU"},
            {"path": "CLI footprint --no-write, warm (cached compiled model)", "n": reps, "per_s": 1 / w_w,
             "ratio": w_bw / w_w, "note": f"{w_w:.2f} s wall, {c_w:.2f} s CPU"},
            {"path": "CLI footprint, warm, writing the results folder, chart forked after the computation "
                     "(LCA_BATTERY_PREFORK=0)", "n": reps, "per_s": 1 / w_i, "ratio": w_bw / w_i,
             "note": f"{w_i:.2f} s wall, {c_i:.2f} s CPU (children included)"},
            {"path": "CLI footprint, warm, writing the results folder (chart and workbook workers forked at the "
                     "start; the default)", "n": reps, "per_s": 1 / w_o, "ratio": w_bw / w_o,
             "note": f"{w_o:.2f} s wall, {c_o:.2f} s CPU (children included); {w_i / w_o:.2f}x the row above; "
                     f"load average after: {load}"}]


def bench_background(quick: bool) -> list[dict]:
    """scripts/bench_background.py in a subprocess (its own Brightway folder; minutes at 20,000 processes),
    then its results/bench/background.json as rows: linked (synthetic ecoinvent-size) against open."""
    cmd = [sys.executable, str(Path(__file__).with_name("bench_background.py")), "--no-lu", "--sweep-repeat", "1"]
    if quick:
        cmd += ["--processes", "5000"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if run.returncode != 0:
        return [{"path": "ecoinvent-size background", "n": 0, "per_s": None, "ratio": None,
                 "note": "bench_background.py failed: " + (run.stderr.strip().splitlines() or ["?"])[-1]}]
    out = json.loads((ROOT / "results" / "bench" / "background.json").read_text())
    n_bg = out["background"]["processes"]
    warm, sw = out["cli_footprint_warm"], out["sweep"]
    return [
        {"path": f"link the model under a synthetic {n_bg:,}-process background, cold", "n": 1,
         "per_s": 1 / out["link_cold_s"], "ratio": None, "note": f"{out['link_cold_s']:.1f} s"},
        {"path": "CLI footprint, warm, linked background (open background = 1)", "n": len(warm["linked"]["wall_s"]),
         "per_s": 1 / warm["linked"]["best_wall_s"], "ratio": warm["open"]["best_wall_s"] / warm["linked"]["best_wall_s"],
         "note": f"{warm['linked']['best_wall_s']:.2f} s wall (open {warm['open']['best_wall_s']:.2f} s)"},
        {"path": "grid sweep on the linked background, end to end (open background = 1)", "n": sw["linked"]["n"],
         "per_s": sw["linked"]["best_end_to_end_per_s"],
         "ratio": sw["linked"]["best_end_to_end_per_s"] / sw["open"]["best_end_to_end_per_s"],
         "note": f"solve only {sw['linked']['best_solve_only_per_s']:,.0f}/s"},
        *([{"path": "scenario table on the linked background, grid engine (its per-scenario path = 1)",
            "n": sw["table"]["rows"], "per_s": sw["table"]["linked"]["per_s"], "ratio": sw["table"]["linked"]["ratio"],
            "note": f"per-scenario path {sw['table']['linked']['per_scenario_path_per_s']:,.0f}/s on "
                    f"{sw['table']['per_scenario_rows']} rows; Dask 2 workers "
                    f"{sw['table']['dask_linked'].get('per_s', float('nan')):,.0f}/s"}] if "table" in sw else []),
    ]


def _worker_peak_mb() -> float:
    """A worker's peak resident memory: VmHWM of /proc/self/status (a worker's ru_maxrss starts from the
    process it was started from, the client's size: measured here 670 MB against a real 64 MB)."""
    import resource as r
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return r.getrusage(r.RUSAGE_SELF).ru_maxrss / 1024.0


def bench_dask(engine, quick: bool) -> list[dict]:
    """A scenario table (row by row: every scenario is a study build) serial and on a local cluster of two
    worker processes, alternating so that both see the same load; the cluster's workers are warm (engine and
    factorisation built by a first small sweep). Notes the chunks, what each worker built (engines, study
    contexts: once each when a worker reuses them for all its chunks) and the workers' peak memory."""
    try:
        from lca_battery.distributed import client, sweep_chunk_size, worker_counts
    except ImportError as exc:                                              # pragma: no cover
        return [{"path": "Dask", "n": 0, "per_s": None, "ratio": None, "note": f"not available: {exc}"}]
    from lca_battery.api import sweep
    n_rows = 200 if quick else 2000
    reps = 1 if quick else 2
    table = [{"recycling.recycled_content.Co.post_consumer": i / n_rows, "plant.country": c}
             for i in range(n_rows // 2) for c in ("CN", "SE")]
    sweep(STUDY, table=table[:4], engine=engine)
    t_serial, t_dask, same = [], [], True
    t = time.perf_counter()
    with client(workers=2) as c:
        t_start = time.perf_counter() - t
        t = time.perf_counter()
        sweep(STUDY, table=table[:4], engine=engine, client=c)             # workers build their engine
        t_cold = time.perf_counter() - t
        for _ in range(reps):
            t = time.perf_counter()
            serial = sweep(STUDY, table=table, engine=engine)
            t_serial.append(time.perf_counter() - t)
            t = time.perf_counter()
            rows = sweep(STUDY, table=table, engine=engine, client=c)
            t_dask.append(time.perf_counter() - t)
            same = same and rows == serial
        counts = list(c.run(worker_counts).values())
        w_mb = list(c.run(_worker_peak_mb).values())
    n = len(table)
    ts, td = statistics.median(t_serial), statistics.median(t_dask)
    chunks = -(-n // sweep_chunk_size(n, 2))
    built = "; ".join(f"{w['chunks']} chunks, {w['engines']} engine, {w['studies']} study context" for w in counts)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [{"path": "scenario table, serial (row by row)", "n": n, "per_s": n / ts, "ratio": 1.0,
             "note": f"baseline; median of {reps}, alternating with the row below"},
            {"path": "scenario table, Dask local cluster (2 worker processes)", "n": n, "per_s": n / td,
             "ratio": ts / td,
             "note": f"cluster start {t_start:.1f} s, first tasks {t_cold:.1f} s; {chunks} chunks of "
                     f"{sweep_chunk_size(n, 2)} per sweep; workers ({built} over all sweeps); worker peak RSS "
                     f"{', '.join(f'{m:,.0f}' for m in w_mb)} MB; rows identical to serial: {same}; "
                     f"load average after: {load}"}]


def table_md(rows: list[dict], machine: str) -> str:
    out = [f"Machine: {machine}", "", "| path | n | per second | ratio to baseline | note |", "|---|---|---|---|---|"]
    for r in rows:
        ps = "" if r["per_s"] is None else f"{r['per_s']:,.1f}"
        ratio = "" if r["ratio"] is None else f"{r['ratio']:,.1f}x"
        out.append(f"| {r['path']} | {r['n']:,} | {ps} | {ratio} | {r['note']} |")
    return "\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    ap.add_argument("--skip", default="", help=f"comma-separated parts to skip: {', '.join(PARTS)}")
    args = ap.parse_args()
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    unknown = skip - set(PARTS)
    if unknown:
        ap.error(f"--skip: unknown part(s) {', '.join(sorted(unknown))}; allowed: {', '.join(PARTS)}")
    tmp = tempfile.mkdtemp(prefix="lcab-bench-")
    os.environ["BRIGHTWAY2_DIR"] = tmp
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}"
    rows: list[dict] = []
    try:
        from lca_battery.api import get_engine
        engine = get_engine()
        steps = [("sweep", lambda: bench_sweep(engine, args.quick)),
                 ("montecarlo", lambda: bench_montecarlo(engine, args.quick)),
                 ("cli", lambda: bench_cli(tmp, args.quick)),
                 ("background", lambda: bench_background(args.quick)),
                 ("dask", lambda: bench_dask(engine, args.quick))]
        for name, fn in steps:
            if name in skip:
                continue
            print(f"bench: {name} ...", file=sys.stderr, flush=True)
            part = fn()
            for r in part:
                r["part"] = name
            rows.extend(part)
        md = table_md(rows, machine) + f"\nPeak RSS of the benchmark process: {peak_mb():,.0f} MB\n"
        print(md)
        dest = ROOT / "results" / "bench"
        dest.mkdir(parents=True, exist_ok=True)
        (dest / "bench.json").write_text(json.dumps({"machine": machine, "peak_rss_mb": peak_mb(), "rows": rows},
                                                    indent=2) + "\n")
        (dest / "bench.md").write_text(md)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
