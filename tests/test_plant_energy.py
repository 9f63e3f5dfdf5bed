"""Cell-plant energy by process step, its electricity/heat split and the plant's heat source."""
import pytest

from conftest import EXAMPLE
from lca_battery.api import footprint
from lca_battery.errors import StudyError

GAS_BOILER_EFFICIENCY = 0.87          # heat_natural_gas_industrial (eu_2015_2402_heat_eff)


def run(engine, **sets):
    return footprint(EXAMPLE, sets, engine=engine, details=False)


def grid_factor(engine, cc):
    (x,) = [x for x in engine.inventory[f"electricity_grid_{cc}"].exchanges if x.kind == "biosphere"]
    return x.amount


@pytest.fixture(scope="module")
def base(engine):
    return run(engine)


#: Degen & Schuette 2022 per step (kWh per kWh of cell; Baars 2022, Table 2.1; sources.yaml degen_schutte_2022_steps)
DS_STEPS = {"1_mixing": 0.13, "2_coating_and_drying": 11.02, "3_calendering": 0.53, "4_vacuum_drying": 1.61,
            "5_stacking": 0.41, "6_filling": 1.59, "7_formation_and_ageing": 13.54, "8_dry_rooms": 10.68,
            "9_other": 1.98}
DS_GAS = 21.38                       # abstract: natural gas for drying and the drying rooms, kWh per kWh of cell
DS_TOTAL = 41.48                     # abstract: the whole plant, kWh per kWh of cell
DRYING = {"2_coating_and_drying", "4_vacuum_drying", "8_dry_rooms"}


def _fuel_kwh(step):
    """A step's energy on the source's basis: electricity + the gas burnt for its useful heat."""
    return step["electricity_kwh_per_kwh"] + step["heat_mj_per_kwh"] / 3.6 / GAS_BOILER_EFFICIENCY


def test_steps_add_up_to_the_plant_total_and_the_source(base):
    e = base["plant"]["energy"]
    assert e["profile"] == "degen_schutte_2022_by_step"
    assert sum(s["electricity_kwh_per_kwh"] for s in e["steps"]) == pytest.approx(e["electricity_kwh_per_kwh"], rel=1e-12)
    assert sum(s["heat_mj_per_kwh"] for s in e["steps"]) == pytest.approx(e["heat_mj_per_kwh"], rel=1e-12)
    # every step is the source's figure (electricity + gas), and they add up to the source's total
    assert {s["step"]: _fuel_kwh(s) for s in e["steps"]} == pytest.approx(DS_STEPS, rel=1e-5)
    assert sum(_fuel_kwh(s) for s in e["steps"]) == pytest.approx(DS_TOTAL, abs=0.011)   # 41.49: rounded steps
    # the gas is the abstract's 21.38 kWh/kWh, all of it in the drying steps; the rest is electricity
    assert e["heat_mj_per_kwh"] == pytest.approx(DS_GAS * 3.6 * GAS_BOILER_EFFICIENCY, rel=1e-6)
    assert all(s["heat_mj_per_kwh"] == 0 for s in e["steps"] if s["step"] not in DRYING)
    assert e["electricity_kwh_per_kwh"] == pytest.approx(sum(DS_STEPS.values()) - DS_GAS, rel=1e-6)
    # the matrix draws exactly the plant's electricity (no electrode keeps its own)
    assert base["plant"]["electricity_kwh_per_kwh"] == pytest.approx(e["electricity_kwh_per_kwh"], rel=1e-9)


def test_per_step_table_agrees_with_the_abstract(base):
    """The per-step figures (read through Baars 2022) against what the paper's abstract says: 41.48 kWh/kWh in
    all, and every step other than drying, the drying rooms (and formation) below 2 kWh/kWh."""
    steps = {s["step"]: _fuel_kwh(s) for s in base["plant"]["energy"]["steps"]}
    big = {"2_coating_and_drying", "7_formation_and_ageing", "8_dry_rooms"}
    assert all(v < 2.0 for k, v in steps.items() if k not in big)
    assert all(steps[k] > 2.0 for k in big)
    assert sum(steps.values()) == pytest.approx(DS_TOTAL, abs=0.011)


def test_two_step_profile_is_the_abstract_and_differs_only_by_rounding(engine, base):
    two = run(engine, **{"plant.energy_data": "degen_schutte_2022"})
    e2, e9 = two["plant"]["energy"], base["plant"]["energy"]
    assert e2["profile"] == "degen_schutte_2022" and len(e2["steps"]) == 2
    assert e2["electricity_kwh_per_kwh"] == pytest.approx(DS_TOTAL - DS_GAS, rel=1e-9)
    assert e2["heat_mj_per_kwh"] == pytest.approx(e9["heat_mj_per_kwh"], rel=1e-6)
    # same gas (to the 4e-5 MJ of the rounded amounts), 0.01 kWh/kWh more electricity in the per-step table
    # (41.49 against 41.48): the footprints differ by that electricity on the plant's grid
    d_kwh = e9["electricity_kwh_per_kwh"] - e2["electricity_kwh_per_kwh"]
    assert d_kwh == pytest.approx(0.01, abs=1e-6)
    assert abs(e9["heat_mj_per_kwh"] - e2["heat_mj_per_kwh"]) < 1e-4
    assert base["kg_co2e_per_kwh"] - two["kg_co2e_per_kwh"] == pytest.approx(d_kwh * grid_factor(engine, "cn"),
                                                                             abs=1e-5)


def test_unknown_plant_energy_data_is_one_clear_error(engine):
    with pytest.raises(StudyError) as exc:
        run(engine, **{"plant.energy_data": "jinasena_2021"})
    err = exc.value
    assert err.field == "plant.energy_data" and err.file and "nmc811-cn.yaml" in str(err.file)
    msg = str(err)
    assert "jinasena_2021" in msg and "plant.energy_data" in msg
    for allowed in ("default", "inventory", "degen_schutte_2022", "degen_schutte_2022_by_step",
                    "degen_schutte_2022_by_mass"):
        assert allowed in msg


def test_electricity_share_is_the_measured_one(base):
    e = base["plant"]["energy"]
    gas_kwh = e["heat_mj_per_kwh"] / GAS_BOILER_EFFICIENCY / 3.6      # back to the source's fuel basis
    share = e["electricity_kwh_per_kwh"] / (e["electricity_kwh_per_kwh"] + gas_kwh)
    assert share == pytest.approx(1 - 0.52, abs=0.01)               # "52 % natural gas" (abstract)
    assert 0.4 < share < 0.6                                         # "about half" electricity


@pytest.mark.parametrize("profile, kwh", [("default", 41.49 - 21.38), ("degen_schutte_2022", 41.48 - 21.38)])
@pytest.mark.parametrize("chem", ["NMC811", "LFP"])
def test_moving_the_plant_changes_the_cell_by_plant_electricity_times_grid_difference(engine, chem, profile, kwh):
    sets = {"cell.chemistry": chem, "cell.nominal_voltage_v": None, "plant.energy_data": profile}
    cn = run(engine, **sets)
    se = run(engine, **sets, **{"plant.country": "SE"})
    assert cn["plant"]["electricity_kwh_per_kwh"] == pytest.approx(kwh, rel=1e-6)
    kwh = cn["plant"]["electricity_kwh_per_kwh"]
    assert cn["kg_co2e_per_kwh"] - se["kg_co2e_per_kwh"] == pytest.approx(
        kwh * (grid_factor(engine, "cn") - grid_factor(engine, "se")), rel=1e-9)


def test_inventory_profile_keeps_the_premise_split(engine, base):
    old = run(engine, **{"plant.energy_data": "inventory"})
    e = old["plant"]["energy"]
    assert e["profile"] == "inventory"
    assert old["plant"]["electricity_kwh_per_kwh"] == pytest.approx(e["electricity_kwh_per_kwh"], rel=1e-9)
    assert sum(s["electricity_kwh_per_kwh"] for s in e["steps"]) == pytest.approx(e["electricity_kwh_per_kwh"])
    assert e["electricity_share"] < 0.25 < base["plant"]["energy"]["electricity_share"]
    assert {s["step"] for s in e["steps"]} >= {"cathode_nmc811", "anode_nmc811", "cell_nmc811"}


def test_heat_pump_and_electric_boiler_follow_cop_and_grid(engine, base):
    heat = base["plant"]["energy"]["heat_mj_per_kwh"]
    ef = grid_factor(engine, "cn")
    cop = 3.0
    hp = run(engine, **{"plant.heat": "heat_pump", "plant.heat_pump_cop": cop,
                        "plant.heat_pump_cop_source": "test value"})
    boiler = run(engine, **{"plant.heat": "electric_boiler"})
    assert hp["plant"]["electricity_kwh_per_kwh"] - base["plant"]["electricity_kwh_per_kwh"] == \
        pytest.approx(heat / (3.6 * cop), rel=1e-9)
    assert boiler["plant"]["electricity_kwh_per_kwh"] - base["plant"]["electricity_kwh_per_kwh"] == \
        pytest.approx(heat / 3.6, rel=1e-5)
    assert boiler["kg_co2e_per_kwh"] - hp["kg_co2e_per_kwh"] == pytest.approx(
        heat / 3.6 * (1 - 1 / cop) * ef, rel=1e-5)
    # gas against heat pump: heat x (gas factor per MJ - grid factor / (3.6 COP)); the gas factor per MJ
    # follows from gas against the electric boiler
    gas_per_mj = (base["kg_co2e_per_kwh"] - boiler["kg_co2e_per_kwh"]) / heat + ef / 3.6
    assert 0.06 < gas_per_mj < 0.09                 # 56.1 g CO2/MJ fuel / 0.87 plus supply chain
    assert base["kg_co2e_per_kwh"] - hp["kg_co2e_per_kwh"] == pytest.approx(
        heat * (gas_per_mj - ef / (3.6 * cop)), rel=1e-4)   # boiler stored as 0.277778 kWh/MJ
    # in Sweden the heat pump beats gas by more than in China
    hp_se = run(engine, **{"plant.heat": "heat_pump", "plant.heat_pump_cop": cop,
                           "plant.heat_pump_cop_source": "test value", "plant.country": "SE"})
    gas_se = run(engine, **{"plant.country": "SE"})
    assert gas_se["kg_co2e_per_kwh"] - hp_se["kg_co2e_per_kwh"] > base["kg_co2e_per_kwh"] - hp["kg_co2e_per_kwh"]


def test_measured_plant_energy_replaces_the_data_set(engine, base):
    ed = base["cell"]["energy_density_kwh_per_kg"]
    per_kwh = run(engine, **{"plant.electricity_kwh_per_kwh_cell": 10.0, "plant.heat_mj_per_kwh_cell": 30.0})
    per_kg = run(engine, **{"plant.electricity_kwh_per_kg_cell": 10.0 * ed, "plant.heat_mj_per_kg_cell": 30.0 * ed})
    assert per_kwh["plant"]["electricity_kwh_per_kwh"] == pytest.approx(10.0, rel=1e-9)
    assert per_kwh["plant"]["energy"]["steps"][0]["step"] == "measured"
    assert per_kg["kg_co2e_per_kwh"] == pytest.approx(per_kwh["kg_co2e_per_kwh"], rel=1e-9)
    more = run(engine, **{"plant.electricity_kwh_per_kwh_cell": 11.0, "plant.heat_mj_per_kwh_cell": 30.0})
    assert more["kg_co2e_per_kwh"] - per_kwh["kg_co2e_per_kwh"] == pytest.approx(grid_factor(engine, "cn"), rel=1e-9)
    with pytest.raises(StudyError, match="not both"):
        run(engine, **{"plant.electricity_kwh_per_kwh_cell": 10.0, "plant.electricity_kwh_per_kg_cell": 3.0})


def test_unknown_heat_source_names_the_allowed_ones(engine):
    with pytest.raises(StudyError) as exc:
        run(engine, **{"plant.heat": "geothermal"})
    msg = str(exc.value)
    assert "geothermal" in msg and "plant.heat" in msg
    for allowed in ("natural_gas", "coal", "electric_boiler", "heat_pump", "district_steam"):
        assert allowed in msg


def test_heat_pump_needs_a_cited_cop(engine):
    with pytest.raises(StudyError, match="heat_pump_cop"):
        run(engine, **{"plant.heat": "heat_pump"})
    with pytest.raises(StudyError, match="heat_pump_cop_source"):
        run(engine, **{"plant.heat": "heat_pump", "plant.heat_pump_cop": 3.0})
    with pytest.raises(StudyError, match="plant.energy_data"):
        run(engine, **{"plant.energy_data": "nonsense"})


# --- plant yield (plant.yield; BatPaC 5.0 default 95 % for cells of the design model) ---------------

NO_PLANT_ENERGY = {"plant.electricity_kwh_per_kwh_cell": 0.0, "plant.heat_mj_per_kwh_cell": 0.0}


def with_yield(y, **sets):
    return {"plant.yield": y, "plant.yield_source": "test value", **sets}


def test_default_yield_is_batpacs_cell_yield(base):
    y = base["plant"]["yield"]
    assert y["yield"] == 0.95                                    # BatPaC 5.0, Dashboard row 112
    assert y["cells_built_per_good_cell"] == pytest.approx(1 / 0.95, rel=1e-12)
    assert "batpac50_workbook" in y["source"]


@pytest.mark.parametrize("scrap_rate", [0.0, 0.05])
def test_yield_divides_everything_but_per_good_cell_plant_energy(engine, scrap_rate):
    # with no plant energy and no distribution, every input of the cell is material (or made from it):
    # the footprint of a good cell is that of a built cell / yield, with or without the electrode scrap loop
    sets = {**NO_PLANT_ENERGY, "recycling.scrap_rate": scrap_rate}
    one = run(engine, **with_yield(1.0, **sets))
    for y in (0.95, 0.8):
        r = run(engine, **with_yield(y, **sets))
        assert r["kg_co2e_per_kwh"] == pytest.approx(one["kg_co2e_per_kwh"] / y, rel=1e-9)
        # the scrap loop's recycled share is a property of cathode making, not of the cell yield
        for metal, v in r["recycling"]["metals"].items():
            assert v["scrap_loop_share"] == pytest.approx(one["recycling"]["metals"][metal]["scrap_loop_share"],
                                                          abs=1e-15)
    if scrap_rate:
        assert any(v["scrap_loop_share"] > 0 for v in one["recycling"]["metals"].values())


def test_plant_energy_per_kwh_produced_is_not_divided_again(engine):
    # Degen & Schuette's plant total is per kWh of cell produced (good output): the yield leaves it,
    # and moves the footprint only by the materials' 1/y
    one = run(engine, **with_yield(1.0))
    low = run(engine, **with_yield(0.8))
    assert low["plant"]["electricity_kwh_per_kwh"] == pytest.approx(one["plant"]["electricity_kwh_per_kwh"],
                                                                    rel=1e-12)
    assert low["plant"]["energy"]["energy_divided_by_yield"] is False
    mat_one = run(engine, **with_yield(1.0, **NO_PLANT_ENERGY))["kg_co2e_per_kwh"]
    assert low["kg_co2e_per_kwh"] - one["kg_co2e_per_kwh"] == pytest.approx(mat_one * (1 / 0.8 - 1), rel=1e-9)


def test_inventory_profile_energy_is_per_cell_built(engine):
    one = run(engine, **with_yield(1.0, **{"plant.energy_data": "inventory"}))
    low = run(engine, **with_yield(0.8, **{"plant.energy_data": "inventory"}))
    e1, e8 = one["plant"]["energy"], low["plant"]["energy"]
    assert e8["energy_divided_by_yield"] is True
    assert e8["electricity_kwh_per_kwh"] == pytest.approx(e1["electricity_kwh_per_kwh"] / 0.8, rel=1e-12)
    assert e8["heat_mj_per_kwh"] == pytest.approx(e1["heat_mj_per_kwh"] / 0.8, rel=1e-12)
    # the matrix draws what the step table says, and the steps still add up
    assert low["plant"]["electricity_kwh_per_kwh"] == pytest.approx(e8["electricity_kwh_per_kwh"], rel=1e-9)
    assert sum(s["electricity_kwh_per_kwh"] for s in e8["steps"]) == pytest.approx(e8["electricity_kwh_per_kwh"])
    # all of this cell's inputs are per cell built: the whole footprint scales by 1/y
    assert low["kg_co2e_per_kwh"] == pytest.approx(one["kg_co2e_per_kwh"] / 0.8, rel=1e-9)


@pytest.mark.parametrize("bad", [0.0, 1.2, -0.5])
def test_yield_out_of_range_is_refused(engine, bad):
    with pytest.raises(StudyError, match="yield"):
        run(engine, **with_yield(bad))


def test_yield_needs_a_source(engine):
    with pytest.raises(StudyError, match="yield_source"):
        run(engine, **{"plant.yield": 0.9})


# --- district heat and steam (DESNZ) ----------------------------------------------------------------

def test_district_steam_follows_its_factor_and_the_heat(engine):
    proc = engine.inventory["heat_district_steam"]
    co2 = sum(x.amount for x in proc.exchanges if x.kind == "biosphere" and x.target == "Carbon dioxide, fossil")
    assert co2 == pytest.approx((0.1779 + 0.03341 + 0.00176) / 3.6, rel=1e-5)   # DESNZ direct CO2 + WTT
    diffs = []
    for heat in (30.0, 60.0):
        sets = {"plant.electricity_kwh_per_kwh_cell": 20.0, "plant.heat_mj_per_kwh_cell": heat}
        boiler = run(engine, **sets, **{"plant.heat": "electric_boiler"})
        steam = run(engine, **sets, **{"plant.heat": "district_steam"})
        per_mj = (steam["kg_co2e_per_kwh"] - boiler["kg_co2e_per_kwh"]) / heat + grid_factor(engine, "cn") / 3.6
        # CO2 plus the CH4 and N2O of 0.1796 - 0.1779 kg CO2e/kWh (AR5), give or take the GWP set
        assert co2 < per_mj < co2 + 2 * (0.1796 - 0.1779) / 3.6
        diffs.append(steam["kg_co2e_per_kwh"] - boiler["kg_co2e_per_kwh"])
    assert diffs[1] == pytest.approx(2 * diffs[0], rel=1e-9)


# --- biomass heat (IPCC 2006 Vol. 2 Table 2.3, wood/wood waste; efficiency and fuel supply from the study) ---

BIOMASS = {"plant.heat": "biomass", "plant.biomass_boiler_efficiency": 0.8,
           "plant.biomass_supply_kg_co2e_per_mj": 0.004, "plant.biomass_source": "test values"}
GWP_CH4_NONFOSSIL, GWP_N2O = 27.0, 273.0        # IPCC AR6 GWP100 (bw2io's IPCC 2021 method)


def test_biomass_combustion_factors_are_ipccs(engine):
    comb = {x.target: x.amount for x in engine.inventory["wood_fuel_combustion_plant"].exchanges
            if x.kind == "biosphere"}
    assert comb["Carbon dioxide, non-fossil"] == pytest.approx(112_000e-6)     # kg per MJ of fuel
    assert comb["Methane, non-fossil"] == pytest.approx(30e-6)
    assert comb["Dinitrogen monoxide"] == pytest.approx(4e-6)
    uptake = [x.amount for x in engine.inventory["wood_fuel_supply_plant"].exchanges
              if x.kind == "biosphere" and x.target == "Carbon dioxide, in air"]
    assert uptake == [pytest.approx(0.112 + 30e-6 * 44 / 16)]                  # the carbon that is burned


def test_a_heat_source_change_moves_only_the_heat_steps(engine, base):
    bio = run(engine, **BIOMASS)
    steps0 = {s["step"]: s for s in base["plant"]["energy"]["steps"]}
    steps1 = {s["step"]: s for s in bio["plant"]["energy"]["steps"]}
    assert steps0 == steps1                           # the steps' energy is the same, only its supply differs
    assert bio["plant"]["electricity_kwh_per_kwh"] == pytest.approx(base["plant"]["electricity_kwh_per_kwh"],
                                                                     rel=1e-12)
    heat = base["plant"]["energy"]["heat_mj_per_kwh"]
    # against the electric boiler (grid / 3.6 per MJ): the biomass heat is fuel / efficiency x
    # (CH4 + N2O of combustion + the study's supply chain); biogenic CO2 counts 0 in IPCC 2021
    boiler = run(engine, **{"plant.heat": "electric_boiler"})
    per_mj_fuel = 30e-6 * GWP_CH4_NONFOSSIL + 4e-6 * GWP_N2O + 0.004
    expect = heat * (grid_factor(engine, "cn") / 3.6 - per_mj_fuel / 0.8)
    assert boiler["kg_co2e_per_kwh"] - bio["kg_co2e_per_kwh"] == pytest.approx(expect, rel=1e-3)
    assert bio["gases"]["biogenic"] == pytest.approx(heat / 0.8 * 30e-6 * GWP_CH4_NONFOSSIL, rel=1e-3)
    # the supply factor is linear: twice the supply adds heat / efficiency x 0.004 once more
    more = run(engine, **{**BIOMASS, "plant.biomass_supply_kg_co2e_per_mj": 0.008})
    assert more["kg_co2e_per_kwh"] - bio["kg_co2e_per_kwh"] == pytest.approx(heat / 0.8 * 0.004, rel=1e-9)


def test_biomass_needs_cited_efficiency_and_supply(engine):
    with pytest.raises(StudyError, match="biomass_boiler_efficiency"):
        run(engine, **{"plant.heat": "biomass"})
    with pytest.raises(StudyError, match="biomass_source"):
        run(engine, **{**BIOMASS, "plant.biomass_source": ""})
    for bad in (0.0, 1.5, -0.2):
        with pytest.raises(StudyError, match=r"plant.biomass_boiler_efficiency.*\(0, 1\]"):
            run(engine, **{**BIOMASS, "plant.biomass_boiler_efficiency": bad})
    with pytest.raises(StudyError, match=r"plant.biomass_supply_kg_co2e_per_mj.*>= 0"):
        run(engine, **{**BIOMASS, "plant.biomass_supply_kg_co2e_per_mj": -0.01})


@pytest.mark.parametrize("bad", [0.0, 1.2, -0.5])
def test_yield_message_names_the_field_and_range(engine, bad):
    with pytest.raises(StudyError, match=r"plant.yield.*\(0, 1\]"):
        run(engine, **with_yield(bad))


@pytest.mark.parametrize("bad", [1.0, 1.5, -0.1])
def test_scrap_rate_message_names_the_field_and_range(engine, bad):
    with pytest.raises(StudyError, match=r"recycling.scrap_rate.*\[0, 1\)"):
        run(engine, **{"recycling.scrap_rate": bad})


def _step_supply(engine, **sets):
    """Supply (kWh of cell) of every step process and the cell's own plant electricity, per kWh of cell."""
    from lca_battery.api import prepare_mapping
    from lca_battery.model.plant import STEP_PREFIX, _energy
    from lca_battery.model.superstructure import PLANT_ELECTRICITY, all_processes
    study, mapping, eng = prepare_mapping(EXAMPLE, sets, engine=engine)
    solved = eng.solve(mapping.entries, study.method)
    procs = all_processes(eng.inventory)
    steps = {pid: float(solved.supply[eng.column(solved, pid)]) for pid in procs if pid.startswith(STEP_PREFIX)}
    cell = procs[mapping.cell_id]
    kg = float(solved.supply[eng.column(solved, cell.id)])
    own = sum(e.amount for e in mapping.entries if e.input == PLANT_ELECTRICITY and e.output == cell.id) * kg
    via_steps = sum(v * _energy(procs[pid], PLANT_ELECTRICITY) for pid, v in steps.items())
    return steps, own, via_steps, float(solved.supply[eng.column(solved, PLANT_ELECTRICITY)])


def test_each_step_is_a_unit_process_feeding_the_cell(engine, base):
    steps, own, via_steps, plant = _step_supply(engine)
    prof = "plant_step__degen_schutte_2022_by_step__"
    assert {pid for pid, v in steps.items() if v} == {pid for pid in steps if pid.startswith(prof)}
    for pid, v in steps.items():
        if pid.startswith(prof):
            assert v == pytest.approx(1.0, rel=1e-9)        # 1 kWh of cell through every step
    assert own == 0.0                                        # the cell itself draws no plant energy
    assert via_steps == pytest.approx(base["plant"]["energy"]["electricity_kwh_per_kwh"], rel=1e-9)
    assert plant == pytest.approx(via_steps, rel=1e-9)
    assert sum(base["stages"].values()) == pytest.approx(base["kg_co2e_per_kwh"], rel=1e-9)


@pytest.mark.parametrize("sets", [{"plant.energy_data": "inventory"},
                                  {"plant.electricity_kwh_per_kwh_cell": 12.0, "plant.heat_mj_per_kwh_cell": 40.0}])
def test_inventory_and_measured_plant_bypass_the_steps(engine, sets):
    steps, own, via_steps, plant = _step_supply(engine, **sets)
    assert not any(steps.values())
    assert via_steps == 0.0 and own > 0
