"""Recycled versus virgin: per material, and per cell along recycled-content curves.

All numbers come from the same matrices as the footprint: a material is a demand of 1 kg of its
process; a curve point is the study with one more override (``recycling.recycled_content``).
"""
from __future__ import annotations

import numpy as np

from ..model.recycling import ACCOUNTING, EU_MINIMUM_RECYCLED_CONTENT, METAL_SALTS, route_product, routes

CRITICAL_REVIEW = ("A comparative assertion disclosed to the public (recycled versus virgin) requires a critical "
                   "review by a panel of interested parties under ISO 14044:2006, 6.3; these figures are not one.")
LITERATURE = {
    "pyro": "Pyrometallurgy saves less than hydrometallurgy and direct recycling (Ciez & Whitacre 2019, Nature "
            "Sustainability 2:148); battery-level savings from recycled content: direct -61 %, hydro -51 %, "
            "pyro -17 % (Llamas-Orozco et al. 2023, PNAS Nexus).",
    "higher": "The recycled salt is above its virgin twin here: the route's reagents and energy per kg of product "
              "exceed the virgin chain's burden. Recycling studies report lower footprints for recycled salts "
              "in most settings (Ciez & Whitacre 2019; Llamas-Orozco et al. 2023); check the route's reagent "
              "factors (several are lower-bound or proxy values) and the allocation basis.",
}


def material_table(engine, solved, procs, inventory) -> list[dict]:
    """kg CO2e per kg of salt and per kg of contained metal: virgin versus each route."""
    from ..model.cell import element_content
    rows = []
    for metal, salts in METAL_SALTS.items():
        if metal == "Mn":
            continue
        # the virgin salts as the cathode chain consumes them, and the virgin twin each recycled product replaces
        # (its own form: the recycled NiSO4 is on an anhydrous basis, the virgin NiSO4 a hexahydrate), so that the
        # kg CO2e per kg of a recycled salt stands beside a virgin salt of the same form
        twins = [c.substitutes for name, route in routes(inventory).items() if not name.startswith("pretreatment")
                 for c in [route_product(route, metal)] if c is not None and c.substitutes]
        for salt in dict.fromkeys([*salts, *twins]):
            if salt not in procs:
                continue
            f = element_content(salt, procs).get(metal, 0.0)
            _, score = engine.resolve(solved, {salt: 1.0})
            rows.append({"metal": metal, "material": salt, "name": procs[salt].name, "supply": "virgin", "route": None,
                         "per_kg_of": procs[salt].reference_product,
                         "kg_co2e_per_kg": score, "metal_fraction": f,
                         "kg_co2e_per_kg_metal": score / f if f else float("nan")})
        for rname, route in routes(inventory).items():
            if rname.startswith("pretreatment"):
                continue
            c = route_product(route, metal)
            if c is None or c.id not in procs:
                continue
            _, score = engine.resolve(solved, {c.id: 1.0})
            f = c.composition[metal]
            rows.append({"metal": metal, "material": c.id, "name": procs[c.id].name, "supply": f"recycled ({rname})",
                         "route": rname, "per_kg_of": procs[c.id].reference_product,
                         "kg_co2e_per_kg": score, "metal_fraction": f, "kg_co2e_per_kg_metal": score / f})
    for metal in {r["metal"] for r in rows}:
        virgin = [r["kg_co2e_per_kg_metal"] for r in rows if r["metal"] == metal and r["supply"] == "virgin"]
        for r in rows:
            if r["metal"] == metal and r["supply"] != "virgin" and virgin:
                r["vs_virgin"] = r["kg_co2e_per_kg_metal"] / min(virgin) - 1.0
                if r["vs_virgin"] > 0:
                    r["note"] = LITERATURE["higher"]
                elif "pyro" in r["supply"]:
                    r["note"] = LITERATURE["pyro"]
    return rows


def curves(run, overrides, metals=("Co", "Ni", "Li"), steps: int = 11, progress=None) -> list[dict]:
    """Footprint per kWh at recycled content 0..100 % of each metal, under each accounting rule.

    ``run(overrides)`` is the study's footprint result with those overrides (the caller's solver: this module
    does not reach up into the API). Points where the recycled content plus the study's own scrap loop would
    exceed the metal's input are not physical and are left out (the curve ends there); so are points that would
    draw recycled salts of two metals from the route under system expansion (its credits would count twice, see
    :func:`~lca_battery.model.recycling.check_system_expansion`)."""
    from ..errors import StudyError
    rows = []
    grids = {m: sorted({round(float(x), 10) for x in np.linspace(0.0, 1.0, steps)}
                       | {mins[m] for mins in EU_MINIMUM_RECYCLED_CONTENT.values() if m in mins}) for m in metals}
    total = sum(len(g) for g in grids.values()) * len(ACCOUNTING)
    done = 0
    for metal in metals:
        grid = grids[metal]
        for acc in ACCOUNTING:
            for r1 in grid:
                ov = dict(overrides)
                ov["recycling.accounting"] = acc
                content = dict(ov.get("recycling.recycled_content", {}))
                content[metal] = {"post_consumer": float(r1)}
                ov["recycling.recycled_content"] = content
                try:
                    r = run(ov)
                except StudyError as exc:
                    # not physical (the scrap loop plus this content exceed the metal's input), or not additive
                    # (system expansion with recycled salts of two metals from one route): the point is left out
                    if "exceed 1" not in exc.message and exc.field != "allocation.recycling":
                        raise
                    done += 1
                    continue
                rows.append({"metal": metal, "accounting": acc, "recycled_content": float(r1),
                             "kg_co2e_per_kwh": r["kg_co2e_per_kwh"],
                             "end_of_life_burdens": r["recycling"]["end_of_life_burdens"],
                             "end_of_life_credits": r["recycling"]["end_of_life_credits"]})
                done += 1
                if progress:
                    progress(done, total)
    return rows
