"""Regenerate the numbers in README.md from the code (never retyped by hand).

The README holds blocks between ``<!-- BEGIN generated: NAME -->`` and ``<!-- END generated: NAME -->``;
this script recomputes each one on the embedded default inventories and rewrites it:

* ``worked-example``: the output of ``lca-battery footprint examples/nmc811-cn.yaml``;
* ``relocation``: the same cell with the plant moved from China to Sweden, and the identity behind it;
* ``chemistries``: the default cells of every chemistry made in China;
* ``uncertainty``: the Monte Carlo summary of the default study (10,000 samples, seed 42);
* ``validation``: the validation table of ``scripts/validate.py`` (ours beside published studies);
* ``materials-audit``: the materials above 2 % of each default cell (``scripts/audit_materials.py``).

Usage::

    python scripts/readme_numbers.py            # rewrite README.md
    python scripts/readme_numbers.py --check    # exit 1 if README.md is not what the code computes

``tests/test_readme.py`` runs the check, so a change of a default that moves a headline number
fails until the README is regenerated.
"""
from __future__ import annotations

import argparse
import io
import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
EXAMPLE = ROOT / "examples" / "nmc811-cn.yaml"
BLOCK = re.compile(r"(<!-- BEGIN generated: (?P<name>[a-z-]+) -->\n)(?P<body>.*?)(<!-- END generated: (?P=name) -->)",
                   re.S)
CHEMISTRY_ORDER = ("NMC811", "NMC622", "NMC532", "NMC111", "NCA", "LFP", "NMMT")


def _study(chemistry: str) -> dict:
    # the nominal voltage is left to the chemistry's design voltage
    return {"name": f"{chemistry.lower()}-cn", "cell": {"chemistry": chemistry, "format": "pouch", "capacity_ah": 60},
            "plant": {"country": "CN"}, "method": "ipcc2021"}


def worked_example(engine) -> str:
    from lca_battery.api import footprint
    from lca_battery.cli import print_footprint
    buf = io.StringIO()
    print_footprint(footprint(EXAMPLE, engine=engine), buf)
    return "```\n$ lca-battery footprint examples/nmc811-cn.yaml\n" + buf.getvalue() + "```\n"


def relocation(engine) -> str:
    from lca_battery.api import footprint
    cn = footprint(EXAMPLE, engine=engine, details=False)
    se = footprint(EXAMPLE, {"plant.country": "SE"}, engine=engine, details=False)
    kwh = cn["plant"]["electricity_kwh_per_kwh"]
    f_cn = next(e["factor_kg_co2e_per_kwh"] for e in footprint(EXAMPLE, engine=engine)["electricity_sites"]
                if e["site"] == "cell plant")
    f_se = next(e["factor_kg_co2e_per_kwh"] for e in footprint(EXAMPLE, {"plant.country": "SE"},
                                                               engine=engine)["electricity_sites"]
                if e["site"] == "cell plant")
    d = cn["kg_co2e_per_kwh"] - se["kg_co2e_per_kwh"]
    return (f"`--set plant.country=SE` gives {se['kg_co2e_per_kwh']:.2f} kg CO2e/kWh "
            f"({-d / cn['kg_co2e_per_kwh']:+.1%}): the difference, {d:.2f}, is the plant's electricity "
            f"({kwh:.2f} kWh per kWh of cell) times the difference of the life-cycle grid factors of China "
            f"({f_cn * 1000:.1f} g/kWh) and Sweden ({f_se * 1000:.1f} g/kWh), plus whatever the plant's heat "
            f"supply draws from its grid; a test checks that identity.\n")


def chemistries(engine) -> str:
    from lca_battery.api import footprint
    from lca_battery.model.superstructure import chemistries as chems
    names = [c for c in CHEMISTRY_ORDER if c in chems(engine.inventory)]
    names += sorted(set(chems(engine.inventory)) - set(names))
    rows = ["| chemistry | Wh/kg | kg CO2e/kWh | raw materials | main production | Co kg/kWh | Ni kg/kWh | Li kg/kWh |",
            "|---|---|---|---|---|---|---|---|"]
    for name in names:
        r = footprint(_study(name), engine=engine, details=False)
        el = r.get("element_kg_per_kwh") or {}

        def metal(m):
            v = el.get(m, 0.0)
            return f"{v:.3f}" if v > 1e-6 else "–"
        rows.append(f"| {name} | {r['cell']['energy_density_kwh_per_kg'] * 1000:.0f} | {r['kg_co2e_per_kwh']:.1f} | "
                    f"{r['stages']['raw_material_acquisition']:.1f} | {r['stages']['main_production']:.1f} | "
                    f"{metal('Co')} | {metal('Ni')} | {metal('Li')} |")
    return "\n".join(rows) + "\n"


def uncertainty(engine) -> str:
    from lca_battery.api import uncertainty as monte_carlo
    s = monte_carlo(EXAMPLE, engine=engine, samples=10_000, seed=42)["kg_co2e_per_kwh"]
    return (f"  Default NMC811, 10,000 samples, seed 42: {s['deterministic']:.1f} deterministic, median "
            f"{s['median']:.1f}, 95 % interval {s['p2_5']:.1f}–{s['p97_5']:.1f}.\n")


def validation(engine) -> str:
    import importlib.util
    spec = importlib.util.spec_from_file_location("validate", ROOT / "scripts" / "validate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.markdown(mod.build_rows(engine), compact=True)


def materials_audit(engine) -> str:
    import importlib.util
    spec = importlib.util.spec_from_file_location("audit_materials", ROOT / "scripts" / "audit_materials.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.markdown(mod.build_rows(engine), compact=True)


GENERATORS = {"worked-example": worked_example, "relocation": relocation, "chemistries": chemistries,
              "uncertainty": uncertainty, "validation": validation, "materials-audit": materials_audit}


def render(text: str, engine) -> str:
    def sub(m):
        gen = GENERATORS.get(m.group("name"))
        if gen is None:
            raise SystemExit(f"README.md: unknown generated block '{m.group('name')}' "
                             f"(known: {', '.join(GENERATORS)})")
        return m.group(1) + gen(engine) + m.group(4)
    return BLOCK.sub(sub, text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if README.md differs from what the code computes")
    args = ap.parse_args(argv)
    os.environ.setdefault("BRIGHTWAY2_DIR", tempfile.mkdtemp(prefix="lcab-readme-"))
    from lca_battery.api import get_engine
    engine = get_engine()
    old = README.read_text(encoding="utf-8")
    new = render(old, engine)
    if args.check:
        if new != old:
            print("README.md is out of date: run `python scripts/readme_numbers.py`", file=sys.stderr)
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    print(f"README.md: {len(BLOCK.findall(new))} generated blocks written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
