"""Test helper: a small database in the ecoinvent naming scheme, for the licensed-background tests.

ALL NUMBERS HERE ARE MADE-UP TEST DATA. They are not ecoinvent data and stand for nothing real:
every activity emits nothing, except
  * "electricity production, hard coal" (CN): 1.0 kg fossil CO2 per kWh,
  * "market group for electricity, medium voltage" (CN): 1.1 kWh of that per kWh (10 % losses),
  * "market for wastewater, average" (RoW): a waste treatment (reference flow -1 m3, as in ecoinvent)
    emitting 0.5 kg fossil CO2 per m3 treated.
"market for sulfuric acid" exists only at GLO, to exercise the location fallback (RoW -> GLO).
"""
from __future__ import annotations

import json
from pathlib import Path

MAPPING = Path(__file__).resolve().parent.parent / "inventories" / "mappings" / "ecoinvent.json"
DATABASE = "ecoinvent-fixture-cutoff"
BIOSPHERE = "ecoinvent-fixture-biosphere"
CN_COAL_CO2 = 1.0        # kg CO2 / kWh (made up)
CN_MARKET_KWH = 1.1      # kWh coal per kWh delivered (made up)
WASTEWATER_CO2 = 0.5     # kg CO2 / m3 treated (made up)


def build(project: str, co2_code: str, *, leave_out: tuple = (), extra_flow: str | None = None) -> dict:
    """Write the fixture into Brightway ``project`` (created); returns {open id: (name, product, location)}.

    ``co2_code``: the code of 'Carbon dioxide, fossil' (air) in bw2io's biosphere3 (the same UUID as in
    ecoinvent's biosphere). ``leave_out``: open ids whose activity is not written (missing-node test).
    ``extra_flow``: a code of an elementary flow not in biosphere3 (biosphere-mismatch test)."""
    import bw2data as bd
    bd.projects.set_current(project)
    flows = {(BIOSPHERE, co2_code): {"name": "Carbon dioxide, fossil", "categories": ("air",),
                                     "unit": "kilogram", "type": "emission"}}
    if extra_flow:
        flows[(BIOSPHERE, extra_flow)] = {"name": "a flow of a newer biosphere (test data)",
                                          "categories": ("air",), "unit": "kilogram", "type": "emission"}
    bd.Database(BIOSPHERE).write(flows)
    rows = json.loads(MAPPING.read_text())["replace"]
    data, linked = {}, {}
    for n, r in enumerate(rows):
        pid, t = r["source"]["code"], r["target"]
        if pid in leave_out:
            continue
        loc = "GLO" if pid == "sulfuric_acid" else t["location"]
        unit = {"electricity": "kilowatt hour", "transport": "ton kilometer", "heat": "megajoule",
                "diesel, burned": "megajoule"}.get(next((k for k in ("electricity", "transport", "heat",
                                                                      "diesel, burned") if t["reference product"]
                                                        .startswith(k)), ""), "kilogram")
        if pid in ("natural_gas", "wastewater_treatment"):
            unit = "cubic meter"
        code = f"fixture-{n:03d}"
        production = -1.0 if pid == "wastewater_treatment" else 1.0
        exchanges = [{"input": (DATABASE, code), "amount": production, "type": "production"}]
        if pid == "electricity_grid_cn":
            exchanges.append({"input": (DATABASE, "fixture-coal-cn"), "amount": CN_MARKET_KWH, "type": "technosphere"})
        if pid == "wastewater_treatment":
            exchanges.append({"input": (BIOSPHERE, co2_code), "amount": WASTEWATER_CO2, "type": "biosphere"})
        if pid == "sulfur" and extra_flow:
            exchanges.append({"input": (BIOSPHERE, extra_flow), "amount": 1.0, "type": "biosphere"})
        data[(DATABASE, code)] = {"name": t["name"], "reference product": t["reference product"], "location": loc,
                                  "unit": unit, "type": "process", "exchanges": exchanges,
                                  "comment": "MADE-UP TEST DATA (lca_battery tests/bg_fixture.py)"}
        linked[pid] = (t["name"], t["reference product"], loc)
    data[(DATABASE, "fixture-coal-cn")] = {
        "name": "electricity production, hard coal", "reference product": "electricity, high voltage",
        "location": "CN-fixture", "unit": "kilowatt hour", "type": "process",
        "comment": "MADE-UP TEST DATA", "exchanges": [
            {"input": (DATABASE, "fixture-coal-cn"), "amount": 1.0, "type": "production"},
            {"input": (BIOSPHERE, co2_code), "amount": CN_COAL_CO2, "type": "biosphere"}]}
    bd.Database(DATABASE).write(data)
    return linked
