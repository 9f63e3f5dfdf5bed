"""Aluminium collector foil as a unit process (issue 7): the rolling mill's electricity and gas are explicit inputs
(US LCI "Aluminum, secondary, rolled"), the electricity on the engine's own grids, so moving the foil site
(``suppliers.aluminium_foil.location``) changes the cell by exactly kWh x grid difference."""
import pytest

from conftest import assert_site_move, ef, grid_kwh
from lca_battery.api import material_footprint

SOURCE = "uslci_al_secondary_rolled"
NCV_GAS = 36.20             # MJ/m3, the DESNZ-implied NCV of the natural_gas process
IPCC_GAS = {"Carbon dioxide, fossil": 56_100e-6, "Methane, fossil": 1e-6, "Dinitrogen monoxide": 0.1e-6}  # kg/MJ


def _one(proc, target):
    (x,) = [x for x in proc.exchanges if x.kind == "technosphere" and x.target == target]
    return x


def test_mill_electricity_and_gas_are_the_cited_uslci_figures(engine):
    proc = engine.inventory["aluminium_foil"]
    # US LCI "Aluminum, secondary, rolled": 2.19 kWh "Electricity, at grid, US, 2000" per kg rolled
    el = _one(proc, "electricity_grid_cn")
    assert el.source == SOURCE and el.amount == pytest.approx(2.19, rel=1e-12)
    # ... and 0.19488 m3 "Natural gas, combusted in industrial boiler" per kg rolled, burned at the mill
    gas = _one(proc, "natural_gas")
    assert gas.source == SOURCE and gas.amount == pytest.approx(0.19488, rel=1e-12) and gas.unit == "m3"
    bio = {(x.target, x.source): x.amount for x in proc.exchanges if x.kind == "biosphere"}
    for flow, per_mj in IPCC_GAS.items():
        assert bio[flow, "ipcc2006_v2_energy"] == pytest.approx(0.19488 * NCV_GAS * per_mj, rel=1e-6), flow
    # and the dataset's own process CO2 (not fuel combustion), 0.0283 kg per kg rolled
    assert bio["Carbon dioxide, fossil", SOURCE] == pytest.approx(0.0283, rel=1e-12)
    assert len(bio) == 4
    assert not any(getattr(x, "aggregated", False) for x in proc.exchanges)
    assert SOURCE in engine.inventory.sources
    assert grid_kwh(engine, "aluminium_foil") == pytest.approx(2.19, rel=1e-12)


def test_foil_keeps_one_kg_of_metal_and_the_sheet_rolling_exclusion_is_gone(engine):
    # the US LCI process is metal-neutral (0.991 kg ingot + 0.009 kg alloying per kg): premise's 1 kg stays
    proc = engine.inventory["aluminium_foil"]
    assert _one(proc, "aluminium_primary").amount == pytest.approx(1.0)
    assert proc.composition == {"Al": 1.0}
    flows = " ".join(e["flow"] for e in proc.excluded)
    assert "sheet rolling, aluminium" not in flows
    # what the sheet-rolling data do not cover is still logged as excluded
    assert "foil rolling" in flows and "annealing" in flows


def test_foil_draws_the_mill_kwh_on_top_of_the_smelter_and_costs_more_than_metal_plus_mill(engine):
    base = material_footprint("aluminium_foil", engine=engine)
    ng = engine.inventory["natural_gas"]
    (ng_co2,) = [x.amount for x in ng.exchanges if x.kind == "biosphere"]
    mill = 2.19 * ef(engine, "electricity_grid_cn") + 0.19488 * ng_co2 + 0.0283
    prim = material_footprint("aluminium_primary", engine=engine)["kg_co2e"]
    # the rest (chemicals, freight, combustion) is positive, so the foil is above metal + mill energy
    assert base["kg_co2e"] > prim + mill
    # grid kWh of the chain: smelter + mill + the chlor-alkali electricity of the cleaning NaOH
    (naoh,) = [x.amount for x in engine.inventory["aluminium_foil"].exchanges if x.target == "sodium_hydroxide"]
    assert base["kwh_grid"]["CN"] == pytest.approx(
        material_footprint("aluminium_primary", engine=engine)["kwh_grid"]["CN"] + 2.19
        + naoh * material_footprint("sodium_hydroxide", engine=engine)["kwh_grid"]["CN"], rel=1e-9)


@pytest.mark.parametrize("site", ["SE", "PL", "KR"])
def test_moving_the_foil_site_changes_the_cell_by_its_kwh_times_grid_difference(engine, default_result, solved, site):
    assert_site_move(engine, default_result, solved, "aluminium_foil", site)


def test_moving_the_foil_site_moves_only_the_mill_not_the_smelter(engine):
    kr = material_footprint("aluminium_foil", locations={"aluminium_foil": "KR"}, engine=engine)
    assert kr["kwh_grid"]["KR"] == pytest.approx(2.19, rel=1e-9)
    # the smelter and the cleaning NaOH's chlor-alkali plant stay on their own (CN) sites
    (naoh,) = [x.amount for x in engine.inventory["aluminium_foil"].exchanges if x.target == "sodium_hydroxide"]
    assert kr["kwh_grid"]["CN"] == pytest.approx(
        material_footprint("aluminium_primary", engine=engine)["kwh_grid"]["CN"]
        + naoh * material_footprint("sodium_hydroxide", engine=engine)["kwh_grid"]["CN"], rel=1e-9)
