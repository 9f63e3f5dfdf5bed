#!/usr/bin/env python
"""Benchmark: warm ``lca-battery footprint`` (cached compiled model) against the bw2calc path, end to end.

Every run is a separate ``python -m lca_battery footprint`` process on the default study, in one
Brightway data folder whose project is already built (the first run builds it if needed):

* ``bw2calc``: the warm cache switched off (``LCA_BATTERY_NO_WARM=1``): the project is checked and
  bw2data, bw2calc and the inventories (YAML) are loaded as before this path existed;
* ``warm``: the cached model (:mod:`lca_battery.warm`), no Brightway import;
* ``warm --write``: the warm run writing every result file (charts, workbook, manifest);
* ``floor``: ``python -c "import numpy, scipy.sparse.linalg, pydantic, yaml"``, what any run imports.

The machine is shared, so the figures are medians of interleaved runs, with ratios between them
(wall time and the children's CPU time). The bw2calc and warm runs must print the same numbers
(``--json``, compared to 1e-9). Python writes its byte-code cache to a temporary folder
(``PYTHONPYCACHEPREFIX``), as an installed package has one; ``--no-pyc`` keeps the environment's setting.

Usage: python scripts/bench_warm.py [--repeat N] [--bw-dir DIR] [--no-pyc]; also writes results/bench/warm.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STUDY = ROOT / "examples" / "nmc811-cn.yaml"
FLOOR = "import numpy, scipy.sparse.linalg, pydantic, yaml"


def timed(cmd: list[str], env: dict) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the child, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{run.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), run.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--bw-dir", help="Brightway data folder (default: a new temporary one, built first)")
    ap.add_argument("--no-pyc", action="store_true", help="keep the environment's byte-code setting")
    args = ap.parse_args()
    bw_dir = args.bw_dir or tempfile.mkdtemp(prefix="lcab-bench-warm-")
    env = {**os.environ, "BRIGHTWAY2_DIR": bw_dir, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])])}
    if not args.no_pyc:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="lcab-bench-pyc-")
    fp = [sys.executable, "-m", "lca_battery", "footprint", str(STUDY)]
    out_dir = tempfile.mkdtemp(prefix="lcab-bench-out-")
    cold_env = {**env, "LCA_BATTERY_NO_WARM": "1"}
    kinds = {
        "bw2calc": (fp + ["--json", "--no-write"], cold_env),
        "warm": (fp + ["--json", "--no-write"], env),
        "warm --write": (fp + ["--out", out_dir], env),
        "floor": ([sys.executable, "-c", FLOOR], env),
    }
    print(f"preparing {bw_dir} (builds the Brightway project and the warm cache if missing) ...", file=sys.stderr)
    first, _, _ = timed(fp + ["--json", "--no-write"], env)
    timed(fp + ["--json", "--no-write"], env)          # byte code written, caches warm
    samples: dict[str, list[tuple[float, float]]] = {k: [] for k in kinds}
    outputs = {}
    for i in range(args.repeat):
        for k, (cmd, e) in kinds.items():
            wall, cpu, out = timed(cmd, e)
            samples[k].append((wall, cpu))
            if k in ("bw2calc", "warm"):
                outputs[k] = json.loads(out)
        print(f"round {i + 1}/{args.repeat}: " + ", ".join(f"{k} {samples[k][-1][0]:.2f} s" for k in kinds),
              file=sys.stderr)
    a, b = outputs["bw2calc"]["kg_co2e_per_kwh"], outputs["warm"]["kg_co2e_per_kwh"]
    if abs(a - b) > 1e-9 * abs(a):
        raise SystemExit(f"warm {b!r} differs from bw2calc {a!r}")
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in samples.items()}
    res = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
                    "load_average": os.getloadavg()},
        "repeat": args.repeat, "first_run_s": round(first, 3),
        "median_wall_s": {k: round(v[0], 3) for k, v in med.items()},
        "median_cpu_s": {k: round(v[1], 3) for k, v in med.items()},
        "ratio_bw2calc_over_warm": {"wall": round(med["bw2calc"][0] / med["warm"][0], 2),
                                    "cpu": round(med["bw2calc"][1] / med["warm"][1], 2)},
        "ratio_warm_over_floor": {"wall": round(med["warm"][0] / med["floor"][0], 2),
                                  "cpu": round(med["warm"][1] / med["floor"][1], 2)},
        "solver": {"bw2calc": outputs["bw2calc"]["software"]["solver"], "warm": outputs["warm"]["software"]["solver"]},
        "kg_co2e_per_kwh": {"bw2calc": a, "warm": b},
    }
    print(f"\nwarm lca-battery footprint ({STUDY.name}), median of {args.repeat} interleaved runs, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"  {'path':<16}{'wall s':>9}{'CPU s':>9}")
    for k, (w, c) in med.items():
        print(f"  {k:<16}{w:>9.2f}{c:>9.2f}")
    print(f"  bw2calc / warm: {res['ratio_bw2calc_over_warm']['wall']}x wall, "
          f"{res['ratio_bw2calc_over_warm']['cpu']}x CPU; warm / import floor: "
          f"{res['ratio_warm_over_floor']['wall']}x wall, {res['ratio_warm_over_floor']['cpu']}x CPU")
    print(f"  same result: {a:.6f} kg CO2e/kWh (bw2calc) = {b:.6f} (warm)")
    out = ROOT / "results" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "warm.json").write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
