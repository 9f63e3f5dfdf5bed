"""A hand-computed 4-process system with a recycling loop, through the same code path as real studies.

System (per kg cell; 0.2 kWh/kg, so 5 kg cell per kWh):
  cell:      0.5 kg cathode material, 3 kWh plant electricity, 5 MJ heat, 0.2 kg CO2
  cathode:   0.8 kg virgin metal, 0.2 kg recycled metal, 7.2 MJ (= 2 kWh) CN electricity
  recycled:  1.25 kg cathode scrap (the loop), 1 kWh CN electricity, 0.1 kg CO2
  virgin:    10 kg CO2, 0.5 kWh CN electricity
Grid CN 0.6, SE 40 g = 0.04 kg CO2/kWh; heat 0.07 kg CO2/MJ.
"""
from fractions import Fraction as F

import pytest

from conftest import tiny_study
from lca_battery.api import footprint


def hand_solution(grid_plant):
    kg_cell = F(5)
    # c = 0.5*kg_cell + 1.25 r ; r = 0.2 c  =>  c = 2.5 / (1 - 0.25)
    c = F(1, 2) * kg_cell / (1 - F(5, 4) * F(1, 5))
    r = F(1, 5) * c
    m = F(4, 5) * c
    cn_kwh = F(1, 2) * m + 2 * c + 1 * r
    plant_kwh = 3 * kg_cell
    co2 = (F(3, 5) * cn_kwh + grid_plant * plant_kwh + F(7, 100) * 5 * kg_cell
           + F(1, 5) * kg_cell + 10 * m + F(1, 10) * r)
    return dict(c=c, r=r, m=m, co2=co2, plant_kwh=plant_kwh)


def test_exact_analytic_footprint(tiny_engine):
    res = footprint(tiny_study(), engine=tiny_engine)
    exact = hand_solution(F(3, 5))
    assert res["kg_co2e_per_kwh"] == pytest.approx(float(exact["co2"]), rel=1e-12)
    assert res["kg_co2e_per_cell"] == pytest.approx(float(exact["co2"]) * 0.2, rel=1e-12)  # 50 Ah x 4 V
    assert res["kg_co2e_per_kg"] == pytest.approx(float(exact["co2"]) * 0.2, rel=1e-12)


def test_loop_supply_is_exact(tiny_engine):
    from lca_battery.api import prepare
    study, entries, eng = prepare(tiny_study(), engine=tiny_engine)
    solved = eng.solve(entries)
    exact = hand_solution(F(3, 5))
    for pid, key in (("cam_tiny", "c"), ("metal_recycled", "r"), ("metal_virgin", "m")):
        assert solved.supply[eng.column(solved, pid)] == pytest.approx(float(exact[key]), rel=1e-12)


def test_stages_sum_to_total_and_are_attributed(tiny_engine):
    res = footprint(tiny_study(), engine=tiny_engine)
    assert sum(res["stages"].values()) == pytest.approx(res["kg_co2e_per_kwh"], rel=1e-12)
    e = hand_solution(F(3, 5))
    # raw materials: virgin metal and cathode, with their CN electricity
    raw = 10 * e["m"] + F(3, 5) * (F(1, 2) * e["m"] + 2 * e["c"])
    eol = F(1, 10) * e["r"] + F(3, 5) * e["r"]
    assert res["stages"]["raw_material_acquisition"] == pytest.approx(float(raw), rel=1e-12)
    assert res["stages"]["end_of_life"] == pytest.approx(float(eol), rel=1e-12)
    assert res["stages"]["distribution"] == 0.0
    # the process table splits each process by the stage it serves: its columns add up to the stage table
    for st, v in res["stages"].items():
        assert sum(r[f"kg_co2e_{st}"] for r in res["processes"]) == pytest.approx(v, rel=1e-9, abs=1e-12), st
    assert not any(r["stage"] == "background" for r in res["processes"])


def test_moving_plant_changes_by_plant_kwh_times_grid_difference(tiny_engine):
    cn = footprint(tiny_study(), engine=tiny_engine)
    se = footprint(tiny_study(country="SE"), engine=tiny_engine)
    assert cn["plant"]["electricity_kwh_per_kwh"] == pytest.approx(15.0, rel=1e-12)
    assert cn["kg_co2e_per_kwh"] - se["kg_co2e_per_kwh"] == pytest.approx(15.0 * (0.6 - 0.04), rel=1e-12)


def test_cobalt_mass_balance_through_the_loop(tiny_engine):
    from lca_battery.api import prepare
    study, entries, eng = prepare(tiny_study(), engine=tiny_engine)
    s = eng.solve(entries)
    sup = lambda pid: s.supply[eng.column(s, pid)]
    co_in = sup("metal_virgin") * 1.0
    co_product = 2.5 * 1.0                      # 5 kg cell x 0.5 kg cathode material x 1 kg Co/kg
    co_to_recycling = 1.25 * sup("metal_recycled")
    co_recovered = sup("metal_recycled")
    loss = co_to_recycling - co_recovered
    assert co_in == pytest.approx(co_product + loss, rel=1e-12)


def test_materials_contribution_sums_with_cell_direct(tiny_engine):
    res = footprint(tiny_study(), engine=tiny_engine)
    direct_cell = 0.2 * 5
    assert sum(m["kg_co2e_per_kwh"] for m in res["materials"]) + direct_cell == pytest.approx(
        res["kg_co2e_per_kwh"], rel=1e-12)


def test_cutoff_log_hand_computed(tmp_path):
    """The cut-off log on the tiny system: a computed exclusion (kg CO2e per kg of product) counts once per kg
    the cell draws, a share counts on its process's cradle-to-gate footprint."""
    from conftest import tiny_variant
    from lca_battery.api import get_engine, prepare_mapping
    from lca_battery.report.study_report import cutoff_log
    root = tiny_variant(tmp_path, {"materials/m.yaml": (
        "    composition: {Co: 1.0}\n    exchanges:\n      - {biosphere",
        "    composition: {Co: 1.0}\n    excluded:\n"
        "      - {flow: ore haulage, kg_co2e: 0.5, basis: '10 t km x 0.05 kg CO2e/t km', reason: test}\n"
        "      - {flow: explosives, share: 0.02, reason: test}\n"
        "    exchanges:\n      - {biosphere")})
    eng = get_engine(root)
    st, mapping, _ = prepare_mapping(tiny_study(), {}, eng)
    solved = eng.solve(mapping.entries, st.method)
    exact = hand_solution(F(3, 5))
    total = float(exact["co2"])
    log = cutoff_log(eng, solved, total)
    rows = {r["flow"]: r for r in log["rows"]}
    m_kg = float(exact["m"])                              # kg virgin metal per kWh of cell
    virgin = m_kg * (10 + 0.6 * 0.5)                      # its cradle-to-gate: 10 kg CO2 + 0.5 kWh CN per kg
    assert rows["ore haulage"]["estimated_kg_co2e_per_kwh"] == pytest.approx(0.5 * m_kg, rel=1e-12)
    assert rows["ore haulage"]["share_of_process"] == pytest.approx(0.5 * m_kg / virgin, rel=1e-12)
    assert "10 t km" in rows["ore haulage"]["basis"]
    assert rows["explosives"]["estimated_kg_co2e_per_kwh"] == pytest.approx(0.02 * virgin, rel=1e-12)
    assert log["total_share"] == pytest.approx((0.5 * m_kg + 0.02 * virgin) / total, rel=1e-12)


def test_the_method_family_chooses_the_factors(tmp_path):
    """IPCC 2021 and EF v3.1 differ on three flows (bw2io's bundled methods): perfluoropentane is 9,220 kg CO2e
    per kg in IPCC 2021 and not characterised in EF v3.1. The tiny system's heat emits 0.1 g of it per MJ
    (25 MJ per kWh of cell), so the two families must differ by exactly 25 x 1e-4 x 9,220 kg CO2e per kWh,
    and EF v3.1 gives the hand solution's CO2 alone (the default study emits none of the three flows and
    cannot tell the families apart)."""
    from conftest import tiny_variant
    from lca_battery.api import get_engine
    root = tiny_variant(tmp_path, {"background/bg.yaml": (
        'exchanges: [{biosphere: "Carbon dioxide, fossil", amount: 0.07, unit: kg}]}',
        'exchanges: [{biosphere: "Carbon dioxide, fossil", amount: 0.07, unit: kg},\n'
        '                {biosphere: "Perfluoropentane", amount: 0.1, unit: g}]}')})
    eng = get_engine(root)
    co2 = float(hand_solution(F(3, 5))["co2"])
    heat_mj = 5 * 5                                      # 5 MJ per kg of cell, 5 kg of cell per kWh
    ipcc = footprint({**tiny_study(), "method": "ipcc2021"}, engine=eng)
    ef = footprint({**tiny_study(), "method": "ef31"}, engine=eng)
    assert ipcc["kg_co2e_per_kwh"] == pytest.approx(co2 + heat_mj * 1e-4 * 9220, rel=1e-12)
    assert ef["kg_co2e_per_kwh"] == pytest.approx(co2, rel=1e-12)
    assert ef["method"]["family"] == "ef31" and ipcc["method"]["family"] == "ipcc2021"
