"""Cell-plant steps per kg of cell (profile degen_schutte_2022_by_mass): Degen & Schuette 2022's nine steps with the
per-step drivers of Baars 2022 (section 2.1, Table 2.4): every step per kg of cell relative to the source's reference
cell (0.124 kWh per kg), formation and ageing per kWh of cell."""
import shutil

import pytest

from conftest import EXAMPLE
from lca_battery.api import footprint
from lca_battery.errors import InventoryError

MASS = "degen_schutte_2022_by_mass"
REF_KWH_PER_KG = 0.124                # Baars 2022, Table 2.4 caption (sources.yaml baars2022_step_drivers)
FORMATION = 13.54                     # Degen & Schuette per step (Baars 2022, Table 2.1), per kWh of cell
PLANT = 41.49                         # the nine steps' sum (Baars 2022, Table 2.1)
GAS_BOILER_EFFICIENCY = 0.87


def run(engine, **sets):
    return footprint(EXAMPLE, {"cell.nominal_voltage_v": None, **sets}, engine=engine, details=False)


def _fuel_kwh(e):
    return e["electricity_kwh_per_kwh"] + e["heat_mj_per_kwh"] / 3.6 / GAS_BOILER_EFFICIENCY


@pytest.fixture(scope="module")
def by_mass(engine):
    return {chem: run(engine, **{"cell.chemistry": chem, "plant.energy_data": MASS}) for chem in ("NMC811", "LFP")}


def test_steps_follow_the_cell_mass_by_hand(by_mass):
    r = by_mass["NMC811"]
    ed = r["cell"]["energy_density_kwh_per_kg"]
    e = r["plant"]["energy"]
    assert e["profile"] == MASS
    # hand: formation per kWh, the other eight steps (41.49 - 13.54 = 27.95 kWh per kWh of the reference cell)
    # per kg of cell: 27.95 x 0.124 / ed
    assert _fuel_kwh(e) == pytest.approx(FORMATION + (PLANT - FORMATION) * REF_KWH_PER_KG / ed, rel=1e-5)
    assert ed == pytest.approx(0.296, abs=0.001)                     # the design model's NMC811 cell (README table)
    assert _fuel_kwh(e) == pytest.approx(13.54 + 27.95 * 0.124 / 0.296, abs=0.05)   # 25.25
    steps = {s["step"]: s for s in e["steps"]}
    assert steps["7_formation_and_ageing"]["driver"] == "cell_energy" and steps["7_formation_and_ageing"]["scale"] == 1
    assert steps["7_formation_and_ageing"]["electricity_kwh_per_kwh"] == pytest.approx(FORMATION)
    for k, s in steps.items():
        if k != "7_formation_and_ageing":
            assert s["driver"] == "cell_mass" and s["scale"] == pytest.approx(REF_KWH_PER_KG / ed, rel=1e-12)
    # the step table is what the matrix draws
    assert r["plant"]["electricity_kwh_per_kwh"] == pytest.approx(e["electricity_kwh_per_kwh"], rel=1e-9)
    assert sum(s["electricity_kwh_per_kwh"] for s in e["steps"]) == pytest.approx(e["electricity_kwh_per_kwh"])


def test_a_lighter_cell_per_kwh_needs_less_plant_energy(engine, by_mass):
    """Direction: a cell of more kWh per kg passes less mass through the plant per kWh (Degen et al. 2023: high-nickel
    cells below LFP); with per-kWh data both cells get the same."""
    nmc, lfp = by_mass["NMC811"], by_mass["LFP"]
    assert nmc["cell"]["energy_density_kwh_per_kg"] > lfp["cell"]["energy_density_kwh_per_kg"]
    assert _fuel_kwh(nmc["plant"]["energy"]) < _fuel_kwh(lfp["plant"]["energy"])
    per_kwh = run(engine, **{"cell.chemistry": "LFP"})
    assert _fuel_kwh(per_kwh["plant"]["energy"]) == pytest.approx(PLANT, abs=0.011)
    # both design-model cells are denser than the reference cell, so both are below the per-kWh plant
    assert _fuel_kwh(lfp["plant"]["energy"]) < _fuel_kwh(per_kwh["plant"]["energy"])
    assert lfp["kg_co2e_per_kwh"] < per_kwh["kg_co2e_per_kwh"]


def test_at_the_reference_cell_the_profile_is_the_by_step_one(engine):
    from lca_battery.model.plant import STEP_PREFIX, profiles, step_scale
    from lca_battery.model.superstructure import PLANT_ELECTRICITY, PLANT_HEAT, all_processes
    procs = all_processes(engine.inventory)
    avail = profiles(procs)
    ref = {p.id.split("__")[-1]: p for p in avail["degen_schutte_2022_by_step"]}
    mine = {p.id.split("__")[-1]: p for p in avail[MASS]}
    assert set(mine) == set(ref) and len(mine) == 9
    for k, p in mine.items():
        assert step_scale(p, REF_KWH_PER_KG) == pytest.approx(1.0, rel=1e-12)
        for target in (PLANT_ELECTRICITY, PLANT_HEAT):
            a = [x.amount for x in p.exchanges if x.target == target]
            b = [x.amount for x in ref[k].exchanges if x.target == target]
            assert a == b
    assert all(p.id.startswith(STEP_PREFIX) for p in mine.values())


def test_the_cell_draws_the_reference_kwh_per_kg_of_each_mass_step(engine):
    from lca_battery.api import prepare_mapping
    study, mapping, eng = prepare_mapping(EXAMPLE, {"plant.energy_data": MASS}, engine=engine)
    links = {e.input.split("__")[-1]: e.amount for e in mapping.entries
             if e.output == mapping.cell_id and e.input.startswith("plant_step__" + MASS)}
    ed = mapping.bom_info["energy_density_kwh_per_kg"]
    assert links.pop("7_formation_and_ageing") == pytest.approx(ed, rel=1e-12)
    assert len(links) == 8 and all(v == pytest.approx(REF_KWH_PER_KG, rel=1e-12) for v in links.values())


@pytest.mark.parametrize("chem", ["NMC811", "LFP"])
def test_moving_the_plant_changes_the_cell_by_its_electricity_times_the_grid_difference(engine, chem):
    def factor(cc):
        (x,) = [x for x in engine.inventory[f"electricity_grid_{cc}"].exchanges if x.kind == "biosphere"]
        return x.amount
    sets = {"cell.chemistry": chem, "plant.energy_data": MASS}
    cn, se = run(engine, **sets), run(engine, **sets, **{"plant.country": "SE"})
    kwh = cn["plant"]["electricity_kwh_per_kwh"]
    assert kwh == pytest.approx(cn["plant"]["energy"]["electricity_kwh_per_kwh"], rel=1e-9)
    assert cn["kg_co2e_per_kwh"] - se["kg_co2e_per_kwh"] == pytest.approx(kwh * (factor("cn") - factor("se")),
                                                                           rel=1e-9)


def test_an_unknown_step_driver_is_one_clear_message(tmp_path):
    from lca_battery.inventory.loader import default_root, load_inventory
    root = tmp_path / "inv"
    shutil.copytree(default_root(), root)
    f = root / "cells" / "plant_energy.yaml"
    f.write_text(f.read_text().replace("driver: cell_mass", "driver: cell_area", 1))
    with pytest.raises(InventoryError) as exc:
        load_inventory(root)
    msg = str(exc.value)
    assert "plant_energy.yaml" in msg and "driver 'cell_area' unknown" in msg and "cell_energy, cell_mass" in msg
