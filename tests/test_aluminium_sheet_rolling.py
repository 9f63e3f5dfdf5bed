"""Aluminium sheet rolling as one shared unit process (issue 7): the mill's electricity, gas and process CO2 from
the US LCI unit process "Aluminum, secondary, rolled", drawn per kg of aluminium by the tabs and the casings, the
electricity on the engine's own grids, so moving the mill (``suppliers.aluminium_sheet_rolling.location``) changes
the cell by exactly kWh x grid difference. The stale "no open factor" exclusions of sheet rolling are gone."""
import pytest

from conftest import EXAMPLE, ef, grid_kwh
from lca_battery.api import footprint, material_footprint

MILL = "aluminium_sheet_rolling"
SOURCE = "uslci_al_secondary_rolled"
NCV_GAS = 36.20             # MJ/m3, the DESNZ-implied NCV of the natural_gas process
IPCC_GAS = {"Carbon dioxide, fossil": 56_100e-6, "Methane, fossil": 1e-6, "Dinitrogen monoxide": 0.1e-6}  # kg/MJ
#: the parts that roll aluminium, and the kg of aluminium in 1 kg of each (their own inventories)
PARTS = ("tab_aluminium", "pouch_foil", "casing_pouch_laminate_batpac", "casing_prismatic_aluminium")


def _tech(proc, target):
    return [x for x in proc.exchanges if x.kind == "technosphere" and x.target == target]


def test_mill_energy_is_the_cited_uslci_figures(engine):
    proc = engine.inventory[MILL]
    # US LCI "Aluminum, secondary, rolled", per kg rolled: 2.19 kWh "Electricity, at grid, US, 2000"
    (el,) = _tech(proc, "electricity_grid_cn")
    assert el.source == SOURCE and el.amount == pytest.approx(2.19, rel=1e-12) and el.unit == "kWh"
    # ... 0.19488 m3 "Natural gas, combusted in industrial boiler", burned at the mill
    (gas,) = _tech(proc, "natural_gas")
    assert gas.source == SOURCE and gas.amount == pytest.approx(0.19488, rel=1e-12) and gas.unit == "m3"
    bio = {}
    for x in proc.exchanges:
        if x.kind == "biosphere":
            bio.setdefault(x.target, []).append((x.amount, x.source))
    # IPCC stationary combustion of that gas, plus the dataset's 0.0283 kg of process CO2 (not combustion)
    co2 = dict((src, amount) for amount, src in bio["Carbon dioxide, fossil"])
    assert len(co2) == 2 and co2[SOURCE] == pytest.approx(0.0283, rel=1e-12)
    assert co2["ipcc2006_v2_energy"] == pytest.approx(0.19488 * NCV_GAS * 56_100e-6, rel=1e-6)
    for flow in ("Methane, fossil", "Dinitrogen monoxide"):
        ((amount, src),) = bio[flow]
        assert src == "ipcc2006_v2_energy" and amount == pytest.approx(0.19488 * NCV_GAS * IPCC_GAS[flow], rel=1e-6)
    # a service: no metal of its own (0.991 kg ingot + 0.009 kg alloying per kg rolled), no aggregated factor
    assert not proc.composition and not _tech(proc, "aluminium_primary")
    assert not any(getattr(x, "aggregated", False) for x in proc.exchanges)
    assert SOURCE in engine.inventory.sources
    assert grid_kwh(engine, MILL) == pytest.approx(2.19, rel=1e-12)


@pytest.mark.parametrize("part", PARTS)
def test_each_part_rolls_exactly_the_aluminium_it_contains(engine, part):
    proc = engine.inventory[part]
    al = sum(x.amount for x in _tech(proc, "aluminium_primary"))
    (roll,) = _tech(proc, MILL)
    assert al > 0 and roll.amount == pytest.approx(al, rel=1e-12)
    assert proc.composition["Al"] == pytest.approx(al, rel=1e-12)
    # the part itself has no grid input: its mill electricity moves with the mill's switch
    assert grid_kwh(engine, part) == 0


def test_stale_sheet_rolling_exclusions_are_gone_and_the_uncovered_steps_stay_logged(engine):
    stale = []
    for pid, p in engine.inventory.processes.items():
        for ex in p.excluded:
            flow, reason = ex.get("flow", "").lower(), ex.get("reason", "").lower()
            if "rolling" in flow and ("alumin" in flow or " al " in f" {flow} ") and "sheet rolling" in flow:
                stale.append((pid, flow))
            if pid in PARTS and "no open factor" in reason and "rolling" in flow:
                stale.append((pid, flow))
    assert not stale
    flows = {pid: " ".join(e["flow"] for e in engine.inventory[pid].excluded) for pid in PARTS}
    # what the sheet data do not cover is still logged, each with its own share and reason
    assert "foil passes" in flows["pouch_foil"] and "foil passes" in flows["casing_pouch_laminate_batpac"]
    assert "lamination" in flows["pouch_foil"] and "lamination" in flows["casing_pouch_laminate_batpac"]
    assert "deep drawing" in flows["casing_prismatic_aluminium"] and "welding" in flows["casing_prismatic_aluminium"]
    assert "slitting" in flows["tab_aluminium"]
    for pid in PARTS:
        for ex in engine.inventory[pid].excluded:
            assert 0 < ex["share"] < 0.1 and ex["reason"]
    # the copper tab's rolling stays excluded, with the reason it has now (no open copper rolling data)
    (cu,) = [e for e in engine.inventory["tab_copper"].excluded if "rolling" in e["flow"]]
    assert "US LCI" in cu["reason"] and "copper" in cu["reason"]


def test_a_part_costs_its_metal_plus_the_mill(engine):
    mill = material_footprint(MILL, engine=engine)
    ng = engine.inventory["natural_gas"]
    (ng_co2,) = [x.amount for x in ng.exchanges if x.kind == "biosphere"]
    # electricity + gas supply + combustion + process CO2, nothing else
    expected = 2.19 * ef(engine, "electricity_grid_cn") + 0.19488 * ng_co2 + 0.0283 + sum(
        0.19488 * NCV_GAS * f for f in IPCC_GAS.values())
    # CH4 and N2O are weighted up by their GWP: a little more, well under 1 %
    assert expected < mill["kg_co2e"] < 1.01 * expected
    assert {k: v for k, v in mill["kwh_grid"].items() if abs(v) > 1e-12} == {"CN": pytest.approx(2.19, rel=1e-9)}
    prim = material_footprint("aluminium_primary", engine=engine)["kg_co2e"]
    can = material_footprint("casing_prismatic_aluminium", engine=engine)["kg_co2e"]
    assert can == pytest.approx(prim + mill["kg_co2e"], rel=1e-9)


@pytest.mark.parametrize("site, grid", [("SE", "electricity_grid_se"), ("PL", "electricity_grid_pl"),
                                        ("KR", "electricity_grid_kr")])
def test_moving_the_mill_changes_the_cell_by_its_kwh_times_grid_difference(engine, default_result, solved,
                                                                           site, grid):
    eng, s = solved
    site_kwh = s.supply[eng.column(s, f"electricity_site__{MILL}")]
    # the default cell (pouch) rolls the aluminium of its tab and of its laminate
    kwh = sum(s.supply[eng.column(s, pid)] * _tech(engine.inventory[pid], MILL)[0].amount * 2.19
              for pid in PARTS)
    assert s.supply[eng.column(s, "tab_aluminium")] > 0 and s.supply[eng.column(s, "casing_pouch_laminate_batpac")] > 0
    assert kwh > 0 and site_kwh == pytest.approx(kwh, rel=1e-9)
    moved = footprint(EXAMPLE, {f"suppliers.{MILL}.location": site}, engine=engine)
    delta = kwh * (ef(engine, grid) - ef(engine, "electricity_grid_cn"))
    assert delta != 0
    assert moved["kg_co2e_per_kwh"] - default_result["kg_co2e_per_kwh"] == pytest.approx(delta, rel=1e-9)


def test_the_mill_and_the_foil_mill_move_separately(engine):
    # moving the sheet mill moves the prismatic can's 2.19 kWh, not the smelter's
    se = material_footprint("casing_prismatic_aluminium", locations={MILL: "SE"}, engine=engine)
    assert se["kwh_grid"]["SE"] == pytest.approx(2.19, rel=1e-9)
    assert se["kwh_grid"]["CN"] == pytest.approx(
        material_footprint("aluminium_primary", engine=engine)["kwh_grid"]["CN"], rel=1e-9)
    # the cathode foil has its own mill and its own switch
    foil = material_footprint("aluminium_foil", locations={MILL: "SE"}, engine=engine)
    assert "SE" not in foil["kwh_grid"]
    tab = material_footprint("tab_aluminium", locations={"aluminium_foil": "SE"}, engine=engine)
    assert "SE" not in tab["kwh_grid"]
