"""Electrolyte salt and PVDF binder as unit processes (issue 7, electrolyte part): grid electricity on the
engine's own grid processes, so a study can move their site, and the LiF step carries its carbonate CO2."""
import pytest

from conftest import EXAMPLE
from lca_battery.api import footprint, prepare

MOVABLE = ("lipf6", "lithium_fluoride", "binder_pvdf")


def ef(engine, pid):
    (x,) = [x for x in engine.inventory[pid].exchanges if x.kind == "biosphere"]
    return x.amount


def grid_kwh(engine, pid, grid="electricity_grid_cn"):
    """kWh of ``grid`` per unit of ``pid``, read from the inventory (not hard-coded)."""
    return sum(x.amount for x in engine.inventory[pid].exchanges if x.kind != "biosphere" and x.target == grid)


@pytest.fixture(scope="module")
def solved(engine):
    _, entries, eng = prepare(EXAMPLE, engine=engine)
    return eng, eng.solve(entries)


@pytest.mark.parametrize("pid", MOVABLE + ("ethylene_carbonate", "dimethyl_carbonate"))
def test_rebuilt_processes_are_unit_processes(engine, pid):
    proc = engine.inventory[pid]
    assert not any(getattr(x, "aggregated", False) for x in proc.exchanges), pid
    assert grid_kwh(engine, pid) > 0


def test_lipf6_takes_its_lithium_from_lif_made_of_the_study_carbonate(engine):
    lipf6 = engine.inventory["lipf6"]
    targets = {x.target for x in lipf6.exchanges if x.kind != "biosphere"}
    assert {"lithium_fluoride", "hydrofluoric_acid", "chlorine"} <= targets
    assert "lithium_carbonate" not in targets
    lif = engine.inventory["lithium_fluoride"]
    assert "lithium_carbonate" in {x.target for x in lif.exchanges if x.kind != "biosphere"}
    # Li2CO3 + 2 HF -> 2 LiF + H2O + CO2: the carbonate's carbon leaves as CO2, none is created or lost
    li2co3 = sum(x.amount for x in lif.exchanges if x.kind != "biosphere" and x.target == "lithium_carbonate")
    co2 = sum(x.amount for x in lif.exchanges if x.kind == "biosphere" and x.target == "Carbon dioxide, fossil")
    assert co2 == pytest.approx(li2co3 * 44.010 / 73.890, rel=1e-3)


def test_lipf6_reagents_are_per_mole_of_the_napf6_inventory(engine):
    # Zhang et al. 2024 give 4.04 kg HF and 0.541 kWh per kg NaPF6 (167.954 g/mol); per kg LiPF6 (151.905 g/mol)
    # the same moles of PF6 salt need 167.954 / 151.905 times as much
    ratio = 167.954 / 151.905
    lipf6 = engine.inventory["lipf6"]
    hf = sum(x.amount for x in lipf6.exchanges if x.kind != "biosphere" and x.target == "hydrofluoric_acid")
    assert hf == pytest.approx(4.04 * ratio, rel=1e-3)
    assert grid_kwh(engine, "lipf6") == pytest.approx(0.541 * ratio, rel=1e-3)


@pytest.mark.parametrize("pid", MOVABLE)
def test_moving_a_site_changes_the_cell_by_its_kwh_times_grid_difference(engine, default_result, solved, pid):
    eng, s = solved
    site_kwh = s.supply[eng.column(s, f"electricity_site__{pid}")]
    kwh = s.supply[eng.column(s, pid)] * grid_kwh(engine, pid)
    assert kwh > 0
    assert site_kwh == pytest.approx(kwh, rel=1e-9)
    moved = footprint(EXAMPLE, {f"suppliers.{pid}.location": "SE"}, engine=engine)
    delta = kwh * (ef(engine, "electricity_grid_se") - ef(engine, "electricity_grid_cn"))
    assert delta < 0
    assert moved["kg_co2e_per_kwh"] - default_result["kg_co2e_per_kwh"] == pytest.approx(delta, rel=1e-9)


def test_lif_per_kg_at_least_its_carbonate_and_co2(engine, solved):
    eng, s = solved
    _, lif = eng.resolve(s, {"lithium_fluoride": 1.0})
    _, li2co3 = eng.resolve(s, {"lithium_carbonate": 1.0})
    assert lif > 1.4243 * li2co3 + 0.8483


def test_pvdf_electricity_is_the_sum_of_its_two_steps(engine):
    # premise_sib (Zhang et al. 2024): 42 kWh per kg PVDF plus 7.6 kWh per 2.2 kg R-132b, 2.2 kg R-132b per kg PVDF
    assert grid_kwh(engine, "binder_pvdf") == pytest.approx(42 + 7.6 / 2.2 * 2.2, rel=1e-9)
