"""Chlor-alkali as a unit process (issue 7): sodium hydroxide and chlorine are the mass-allocated co-products of one
electrolysis (USLCI 'Chlorine, production mix, at plant', inputs per 0.48 kg Cl2 + 0.52 kg NaOH), with the
electricity on the engine's grids and the boiler fuels through its heat processes, so that moving the NaOH site
(``suppliers.sodium_hydroxide.location``) changes NaOH and the cell by exactly its kWh x the grid difference."""
import pytest

from conftest import EXAMPLE, assert_site_move, ef, grid_kwh
from lca_battery.api import material_footprint, prepare

#: IUPAC standard atomic weights (source ``stoichiometry``)
NA, CL, O, H = 22.990, 35.45, 15.999, 1.008
#: USLCI 'Chlorine, production mix, at plant' (uslci_chlorine_mix): product outputs and inputs as read
CL2_OUT, NAOH_OUT = 0.48, 0.52
USLCI_KWH = 0.629 + 0.36634              # grid + on-site gas cogeneration, per (0.48 + 0.52) kg
USLCI_GAS_M3, USLCI_COAL_KG, USLCI_SALT = 0.11918, 0.025421, 0.88982
PRODUCTS = ("sodium_hydroxide", "chlorine")


def _ex(engine, pid, target):
    return [x for x in engine.inventory[pid].exchanges if x.target == target]


def _fuel_per_mj(engine, heat, fuel):
    (x,) = _ex(engine, heat, fuel)
    return x.amount


@pytest.mark.parametrize("pid", PRODUCTS)
def test_kwh_per_kg_is_the_uslci_figure_times_the_mass_allocation(engine, pid):
    p = engine.inventory[pid]
    assert p.source == "uslci_chlorine_mix" and "uslci_chlorine_mix" in engine.inventory.sources
    allocation = 1.0 / (CL2_OUT + NAOH_OUT)          # mass allocation: the same burden on every kg of the set
    assert grid_kwh(engine, pid) == pytest.approx(USLCI_KWH * allocation, rel=1e-9)
    # 2.07 MWh per t Cl2: below the EU Taxonomy ceiling of 2.45 MWh/t for membrane electrolysis (a lower bound)
    assert 2.0 < grid_kwh(engine, pid) / CL2_OUT < 2.45
    (gas,) = _ex(engine, pid, "heat_natural_gas_industrial")
    (coal,) = _ex(engine, pid, "heat_coal_industrial")
    assert gas.amount * _fuel_per_mj(engine, "heat_natural_gas_industrial", "natural_gas") == pytest.approx(
        USLCI_GAS_M3 * allocation, rel=1e-5)
    assert coal.amount * _fuel_per_mj(engine, "heat_coal_industrial", "hard_coal") == pytest.approx(
        USLCI_COAL_KG * allocation, rel=1e-5)
    # no aggregated factor is left in the electrolysis
    assert not any(x.aggregated for x in p.exchanges)


def test_chlorine_and_naoh_carry_the_same_burden_per_kg(engine):
    a, b = (engine.inventory[pid] for pid in PRODUCTS)
    key = lambda p: sorted((x.kind, x.target, round(x.amount, 12)) for x in p.exchanges)  # noqa: E731
    assert key(a) == key(b)
    assert material_footprint("chlorine", engine=engine)["kg_co2e"] == pytest.approx(
        material_footprint("sodium_hydroxide", engine=engine)["kg_co2e"], rel=1e-12)


def test_salt_covers_the_sodium_and_chlorine_of_the_product_set(engine):
    (salt,) = _ex(engine, "sodium_hydroxide", "sodium_chloride")
    assert salt.amount == pytest.approx(USLCI_SALT / (CL2_OUT + NAOH_OUT))
    nacl = NA + CL
    for_cl = CL2_OUT * nacl / CL                    # kg NaCl whose Cl leaves as chlorine
    for_na = NAOH_OUT * nacl / (NA + O + H)         # kg NaCl whose Na leaves as NaOH
    assert for_cl == pytest.approx(0.7913, abs=1e-3) and for_na == pytest.approx(0.7598, abs=1e-3)
    # Na and Cl balance: the salt holds at least the Na and Cl of the products (losses to brine purge on top)
    assert salt.amount > max(for_cl, for_na)
    assert salt.amount < 1.2 * max(for_cl, for_na)
    # the salt is a unit process of its own with a site switch, not a factor
    assert grid_kwh(engine, "sodium_chloride") > 0
    assert not any(x.aggregated for x in engine.inventory["sodium_chloride"].exchanges)


def test_hydrochloric_acid_still_draws_chlorine_per_kg_hcl(engine):
    amounts = [x.amount for x in _ex(engine, "hydrochloric_acid", "chlorine")]
    assert sum(amounts) == pytest.approx(1.0, rel=1e-5)       # 0.9724 kg Cl2 + 0.0276 kg H2 at the same burden
    assert amounts[0] == pytest.approx(2 * CL / (2 * (H + CL)), rel=1e-3)
    hcl = material_footprint("hydrochloric_acid", engine=engine)["kg_co2e"]
    cl2 = material_footprint("chlorine", engine=engine)["kg_co2e"]
    assert hcl == pytest.approx(cl2, rel=1e-5)


def test_naoh_moved_by_its_site_switch(engine):
    kwh = grid_kwh(engine, "sodium_hydroxide")
    _, entries, eng = prepare(EXAMPLE, engine=engine)
    _, base = eng.resolve(eng.solve(entries), {"sodium_hydroxide": 1.0})
    _, entries2, eng2 = prepare(EXAMPLE, {"suppliers.sodium_hydroxide.location": "SE"}, engine=engine)
    _, moved = eng2.resolve(eng2.solve(entries2), {"sodium_hydroxide": 1.0})
    diff = ef(engine, "electricity_grid_se") - ef(engine, "electricity_grid_cn")
    assert diff != 0 and moved - base == pytest.approx(kwh * diff, rel=1e-9)
    # chlorine has a site of its own: moving the NaOH plant leaves it where it was
    _, cl_base = eng.resolve(eng.solve(entries), {"chlorine": 1.0})
    _, cl_moved = eng2.resolve(eng2.solve(entries2), {"chlorine": 1.0})
    assert cl_moved == pytest.approx(cl_base, rel=1e-12)


def test_moving_the_naoh_site_changes_the_cell_by_its_kwh_times_grid_difference(engine, default_result, solved):
    assert_site_move(engine, default_result, solved, "sodium_hydroxide", "PL")


def test_thannimalay_figure_is_kept_as_a_validation_row(engine):
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "scripts" / "validate.py"
    spec = importlib.util.spec_from_file_location("validate_script", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    (row,) = mod.build_rows(engine, only=["thannimalay2013_naoh"])
    assert row["theirs"] == pytest.approx(0.6329)
    assert row["ours"] == pytest.approx(material_footprint("sodium_hydroxide", engine=engine)["kg_co2e"])
    assert "Malaysian" in row["reason"]
