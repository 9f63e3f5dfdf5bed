"""Quicklime as a unit process (issue 7, materials-audit exceptions): calcination CO2 from stoichiometry and the
lime's CaO content, the rotary kiln's coal and gas burned through this engine's heat processes and its electricity
on the engine's grids (USLCI 'Quicklime, at plant'), so that moving the lime site
(``suppliers.quicklime.location``) changes the lime and the cell by exactly its kWh x the grid difference."""
import pytest

from conftest import EXAMPLE, ef, grid_kwh
from lca_battery.api import footprint, prepare
from lca_battery.study import DEFAULT_STUDY

#: IUPAC standard atomic weights (source ``stoichiometry``)
CA, C, O = 40.078, 12.011, 15.999
CAO_CONTENT = 0.95           # USLCI's stated 95 % oxide content, taken as the lime's CaO content


def _exchanges(engine, target):
    return [x for x in engine.inventory["quicklime"].exchanges if x.target == target]


def test_calcination_co2_is_stoichiometry_times_cao_content(engine):
    (co2,) = [x for x in engine.inventory["quicklime"].exchanges
              if x.kind == "biosphere" and x.target == "Carbon dioxide, fossil"]
    assert co2.source == "stoichiometry" and not co2.aggregated
    assert co2.amount == pytest.approx((C + 2 * O) / (CA + O) * CAO_CONTENT, rel=1e-5)
    # between the stoichiometric maximum (pure CaO) and the IPCC AR4 European figure it replaced (0.75)
    assert 0.74 < co2.amount < 0.785
    # no aggregated factor is left in the lime kiln
    assert not any(x.aggregated for x in engine.inventory["quicklime"].exchanges)


def test_kiln_fuel_burns_exactly_the_uslci_coal_and_gas(engine):
    p = engine.inventory["quicklime"]
    assert p.source == "uslci_quicklime" and "uslci_quicklime" in engine.inventory.sources
    (coal,) = _exchanges(engine, "heat_coal_industrial")
    (gas,) = _exchanges(engine, "heat_natural_gas_industrial")
    (coal_per_mj,) = [x.amount for x in engine.inventory["heat_coal_industrial"].exchanges if x.target == "hard_coal"]
    (gas_per_mj,) = [x.amount for x in engine.inventory["heat_natural_gas_industrial"].exchanges
                     if x.target == "natural_gas"]
    assert coal.amount * coal_per_mj == pytest.approx(0.172, rel=1e-5)      # kg bituminous coal per kg lime
    assert gas.amount * gas_per_mj == pytest.approx(0.021, rel=1e-5)        # m3 natural gas per kg lime
    (stone,) = _exchanges(engine, "limestone")
    assert stone.amount == pytest.approx(1.87)
    # more limestone than the stoichiometric CaCO3 for the lime's CaO: impurities and losses
    assert stone.amount > CAO_CONTENT * (CA + C + 3 * O) / (CA + O)
    assert grid_kwh(engine, "quicklime", "electricity_grid_us") == pytest.approx(0.0678)


def test_quicklime_is_no_longer_an_audit_exception():
    from lca_battery.analysis.material_audit import EXCEPTIONS
    assert "quicklime" not in EXCEPTIONS


@pytest.mark.parametrize("site, grid", [("CN", "electricity_grid_cn"), ("SE", "electricity_grid_se")])
def test_moving_the_lime_site_changes_lime_and_cell_by_its_kwh_times_grid_difference(engine, default_result,
                                                                                    solved, site, grid):
    eng, s = solved
    kwh_per_kg = grid_kwh(engine, "quicklime", "electricity_grid_us")
    kg = s.supply[eng.column(s, "quicklime")]
    site_kwh = s.supply[eng.column(s, "electricity_site__quicklime")]
    assert kg > 0 and site_kwh == pytest.approx(kg * kwh_per_kg, rel=1e-9)
    diff = ef(engine, grid) - ef(engine, "electricity_grid_us")
    assert diff != 0
    moved = footprint(EXAMPLE, {"suppliers.quicklime.location": site}, engine=engine)
    assert moved["kg_co2e_per_kwh"] - default_result["kg_co2e_per_kwh"] == pytest.approx(site_kwh * diff, rel=1e-9)
    # the lime itself, per kg
    _, base = eng.resolve(s, {"quicklime": 1.0})
    _, entries, eng2 = prepare(EXAMPLE, {"suppliers.quicklime.location": site}, engine=engine)
    _, per_kg = eng2.resolve(eng2.solve(entries), {"quicklime": 1.0})
    assert per_kg - base == pytest.approx(kwh_per_kg * diff, rel=1e-9)


def test_sodium_ion_cell_moves_with_the_lime_site(engine):
    # quicklime is above 2 % of the sodium-ion (NMMT) cell: its site is a setting that moves that cell too
    ov = {"cell.chemistry": "NMMT", "cell.nominal_voltage_v": None}
    _, entries, eng = prepare(DEFAULT_STUDY, ov, engine=engine)
    s = eng.solve(entries)
    site_kwh = s.supply[eng.column(s, "electricity_site__quicklime")]
    base = footprint(DEFAULT_STUDY, ov, engine=engine, details=False)["kg_co2e_per_kwh"]
    moved = footprint(DEFAULT_STUDY, {**ov, "suppliers.quicklime.location": "PL"}, engine=engine,
                      details=False)["kg_co2e_per_kwh"]
    diff = ef(engine, "electricity_grid_pl") - ef(engine, "electricity_grid_us")
    assert site_kwh > 0 and moved - base == pytest.approx(site_kwh * diff, rel=1e-9)


def test_calcined_coke_passes_the_audit_through_its_lime_but_has_no_site_of_its_own(engine):
    # the calciner burns its own volatiles and makes its power from waste heat (no grid input): the explicit
    # energy of its chain is the lime's, so it is no audit exception any more but still not switchable
    from lca_battery.analysis.material_audit import EXCEPTIONS, material_audit
    _, entries, eng = prepare(DEFAULT_STUDY, engine=engine)
    rows = {r["id"]: r for r in material_audit(eng, eng.solve(entries), threshold=0.0)}
    cpc = rows["calcined_petroleum_coke"]
    assert cpc["unit_process"] and "calcined_petroleum_coke" not in EXCEPTIONS
    assert "quicklime" in cpc["electricity_at"] and "quicklime" in cpc["heat_at"]
    assert cpc["electricity_at"] == ["quicklime"] and cpc["site_kwh"] == 0 and not cpc["switchable"]
    lime = rows["quicklime"]
    assert lime["unit_process"] and lime["switchable"] and not lime["aggregated"] and lime["site_kwh"] > 0
