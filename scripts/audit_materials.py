"""Audit of the materials above 2 % of each default cell (issue 7, point 1).

For every default chemistry on the default study (CN plant), every material or intermediate whose cumulative
footprint (footprint per unit of its product x the amount the cell draws) is above 2 % of the cell: is it a
unit process with explicit electricity, heat or fuel from the engine's own background before the first
aggregated factor, how many kWh per kWh of cell it draws at its own site, and is that site a study setting
(``suppliers.<id>.location``). Exceptions carry the reason their dataset gives
(``lca_battery.analysis.material_audit.EXCEPTIONS``; ``tests/test_material_audit.py`` checks them).

Writes ``results/validation/materials_audit.csv`` and ``materials_audit.md``::

    BRIGHTWAY2_DIR=$(mktemp -d) python scripts/audit_materials.py [--out results/validation]
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

COLUMNS = ["chemistry", "material", "name", "location", "share", "kg_co2e_per_kwh", "unit_process", "aggregated",
           "energy", "own_energy", "site_kwh_per_kwh_cell", "switchable", "site_grid", "exception_reason"]


def build_rows(engine=None) -> list[dict]:
    from lca_battery.analysis.material_audit import audit_chemistries, exception_reason
    from lca_battery.api import get_engine, site_switchable
    engine = engine or get_engine()
    sites = site_switchable(engine)
    rows = []
    for r in audit_chemistries(engine):
        energy = [k for k in ("electricity", "heat", "fuel") if r[f"{k}_at"]]
        own = [k for k, v in (("electricity", r["own"]["site_kwh"] + r["own"]["plant_kwh"]),
                              ("heat", r["own"]["heat"]), ("fuel", r["own"]["fuel"])) if v]
        switchable = "yes" if r["switchable"] else ("cell plant" if r["made_at_plant"] else "no")
        rows.append({"chemistry": r["chemistry"], "material": r["id"], "name": r["name"], "location": r["location"],
                     "share": r["share"], "kg_co2e_per_kwh": r["kg_co2e"],
                     "unit_process": "yes" if r["unit_process"] else "no",
                     "aggregated": "yes" if r["aggregated"] else "no", "energy": ", ".join(energy),
                     "own_energy": ", ".join(own),
                     "site_kwh_per_kwh_cell": r["site_kwh"] + r["own"]["plant_kwh"], "switchable": switchable,
                     "site_grid": sites.get(r["id"], "plant.country" if switchable == "cell plant" else ""), "exception_reason": exception_reason(engine, r["id"])})
    return rows


def _kwh(x: float) -> str:
    return f"{x:.2f}" if x else "0"


def _switch(r: dict) -> str:
    return {"yes": f"yes ({r['site_grid']})", "cell plant": "cell plant (plant.country)"}.get(r["switchable"], "no")


def markdown(rows: list[dict], compact: bool = False) -> str:
    """Full table (one row per chemistry and material) or, ``compact``, one row per material."""
    if not compact:
        lines = ["| material | chemistry | share | unit process | energy in its chain | its own energy | "
                 "site kWh per kWh cell | switchable (default site power) |", "|---|---|---|---|---|---|---|---|"]
        for r in rows:
            lines.append(f"| {r['material']} | {r['chemistry']} | {100 * r['share']:.1f} % | {r['unit_process']} | "
                         f"{r['energy'] or '-'} | {r['own_energy'] or '-'} | {_kwh(r['site_kwh_per_kwh_cell'])} | "
                         f"{_switch(r)} |")
    else:
        by: dict[str, list[dict]] = {}
        for r in rows:
            by.setdefault(r["material"], []).append(r)
        order = sorted(by, key=lambda m: (-round(max(r["share"] for r in by[m]), 9), m))
        lines = ["| material | chemistries (share of the cell) | unit process | energy in its chain | its own energy | "
                 "site kWh per kWh cell | switchable (default site power) |", "|---|---|---|---|---|---|---|"]
        for m in order:
            rs = by[m]
            shares = ", ".join(f"{r['chemistry']} {100 * r['share']:.1f} %" for r in rs)
            kwh = sorted(r["site_kwh_per_kwh_cell"] for r in rs)
            kwh_s = _kwh(kwh[0]) if _kwh(kwh[0]) == _kwh(kwh[-1]) else f"{_kwh(kwh[0])}-{_kwh(kwh[-1])}"
            r0 = rs[0]
            lines.append(f"| {m} | {shares} | {r0['unit_process']} | {r0['energy'] or '-'} | "
                         f"{r0['own_energy'] or '-'} | {kwh_s} | {_switch(r0)} |")
    text = "\n".join(lines) + "\n"
    reasons = {r["material"]: r["exception_reason"] for r in rows if r["unit_process"] == "no"}
    if reasons:
        text += "\nNot a unit process with explicit energy (reason from its dataset):\n\n" + "\n".join(
            f"- **{m}**: {reason or 'NO DOCUMENTED REASON'}" for m, reason in reasons.items()) + "\n"
    return text


def write(rows: list[dict], out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out / "materials_audit.csv", out / "materials_audit.md"
    with csv_path.open("w", newline="", encoding="utf-8-sig") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{r[k]:.6g}" if isinstance(r[k], float) else r[k]) for k in COLUMNS})
    md_path.write_text(
        "# Materials above 2 % of each default cell (issue 7, point 1)\n\n"
        "Generated by `scripts/audit_materials.py` on the default study (CN plant) for every default chemistry. "
        "Share: cumulative footprint of the material (per unit of its product x the amount the cell draws) over "
        "the cell's; materials nest (the cathode holds its active material, which holds its precursor). Unit "
        "process: an explicit electricity, heat or fuel input from the engine's own background before the first "
        "aggregated factor of its chain; its own energy: what its own process draws. Site kWh: grid electricity at "
        "the material's own site (or the cell plant's, for electrodes) per kWh of cell, all its consumers; 0 for "
        "Li-ion electrodes, whose coating and drying energy the study's plant-step model carries on the cell. "
        "Switchable: its site is a study setting (`suppliers.<id>.location`, or `plant.country` for what is made "
        "at the cell plant).\n\n"
        + markdown(rows), encoding="utf-8")
    return csv_path, md_path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "results" / "validation"))
    args = ap.parse_args(argv)
    os.environ.setdefault("BRIGHTWAY2_DIR", tempfile.mkdtemp(prefix="lcab-audit-"))
    rows = build_rows()
    csv_path, md_path = write(rows, Path(args.out))
    print(markdown(rows, compact=True))
    print(f"{len(rows)} rows -> {csv_path}, {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
