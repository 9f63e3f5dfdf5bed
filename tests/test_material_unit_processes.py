"""Synthetic graphite, primary aluminium and copper cathode (issue 7): unit processes whose
electricity sits on the engine's own grid processes, so that their footprint follows the grid."""
import pytest

from conftest import assert_site_move, site_power


def grid_kwh(engine, pid, cc="cn"):
    return sum(x.amount for x in engine.inventory[pid].exchanges
               if x.kind == "technosphere" and x.target == f"electricity_grid_{cc}")


@pytest.mark.parametrize("pid", ["graphite_synthetic", "aluminium_primary", "alumina_metallurgical"])
def test_unit_processes_are_not_aggregated(engine, pid):
    p = engine.inventory[pid]
    assert not any(getattr(x, "aggregated", False) for x in p.exchanges), pid
    assert any(x.kind == "technosphere" for x in p.exchanges)


def test_graphite_and_aluminium_draw_grid_electricity(engine):
    # graphitisation alone is 16 kWh per kg of powder (Carrere 2024), smelting 13.6 kWh/kg Al
    assert grid_kwh(engine, "graphite_synthetic") > 16
    # the smelter: 65 % from the smelters' captive coal plants, the rest from the grid (Ember 2021)
    power = site_power(engine, "aluminium_primary")
    assert sum(power.values()) == pytest.approx(13.599, rel=1e-6)
    assert power["electricity_tech_coal"] == pytest.approx(0.65 * 13.599, rel=1e-5)
    assert power["electricity_grid_cn"] == pytest.approx(0.35 * 13.599, rel=1e-5)


def test_copper_cathode_is_staged_unit_processes_with_primary_sources(engine):
    p = engine.inventory["copper_cathode"]
    assert p.is_switch and set(p.alternatives) == {"electrorefined", "sxew"}
    assert p.default["sxew"] == pytest.approx(0.1827)       # ICSG Factbook 2022: SX-EW share 2021
    for pid in ("copper_concentrate", "copper_anode_smelting", "copper_cathode_electrorefining",
                "copper_cathode_sxew"):
        q = engine.inventory[pid]
        assert not any(getattr(x, "aggregated", False) for x in q.exchanges), pid
        sources = {q.source} | {x.source for x in q.exchanges}
        assert "northey2013_copper" not in sources and "lcab_data_brief" not in sources
        assert sources & {"marsden2008_copper_energy", "lagos2018_copper_chile"}
    # concentrate and SX-EW cathode draw Chilean grid power; smelter and refinery Chinese
    assert grid_kwh(engine, "copper_concentrate", "cl") > 2.5
    assert grid_kwh(engine, "copper_cathode_sxew", "cl") > 2.0
    assert grid_kwh(engine, "copper_anode_smelting") > 0.7
    assert grid_kwh(engine, "copper_cathode_electrorefining") == pytest.approx(0.75)


def test_copper_cathode_per_kg_within_published_range(solved):
    eng, s = solved
    _, per_kg = eng.resolve(s, {"copper_cathode": 1.0})
    # Northey et al. 2013: company-reported primary copper 1 to 9 kg CO2e/kg (average 2.6, scope 1+2)
    assert 1.0 < per_kg < 9.0
    _, sxew = eng.resolve(s, {"copper_cathode_sxew": 1.0})
    _, er = eng.resolve(s, {"copper_cathode_electrorefining": 1.0})
    assert 1.0 < sxew < 9.0 and 1.0 < er < 9.0
    assert per_kg == pytest.approx(0.8173 * er + 0.1827 * sxew, rel=1e-9)


def test_moving_synthetic_graphite_site_changes_cell_by_its_kwh(engine, default_result, solved):
    delta = -assert_site_move(engine, default_result, solved, "graphite_synthetic", "SE")
    assert delta > 5    # graphitisation power is a large share of the default cell


def test_synthetic_graphite_per_kg_within_published_range(solved):
    eng, s = solved
    _, per_kg = eng.resolve(s, {"graphite_synthetic": 1.0})
    # Surovtseva et al. 2022 13.8 (no graphitisation power) ... Istrate et al. 2024 43.87 (ecoinvent
    # CN grid, about 0.95 kg/kWh); on Ember's 0.5575 kg/kWh CN grid it must fall in between
    assert 13.8 < per_kg < 43.87


def test_primary_aluminium_per_kg_below_iai_captive_power_average(solved):
    eng, s = solved
    _, per_kg = eng.resolve(s, {"aluminium_primary": 1.0})
    # smelting power alone is 13.6 kWh at 0.65 x 0.82 (captive coal) + 0.35 x 0.5575 (grid); IAI's global 15.1
    # (2022) also counts its hydro-powered smelters elsewhere, and the captive plants here are at the coal median
    assert 13.599 * (0.65 * 0.82 + 0.35 * 0.5575) < per_kg < 15.1


def test_moving_the_aluminium_smelter_changes_cell_by_its_kwh(engine, default_result, solved):
    # a background material made with grid power has a site switch too: a study moves its smelter
    assert assert_site_move(engine, default_result, solved, "aluminium_primary", "NO") < 0


@pytest.mark.parametrize("pid,cc", [("copper_cathode_electrorefining", "SE"), ("copper_anode_smelting", "NO")])
def test_moving_the_copper_smelter_or_refinery_changes_cell_by_its_kwh(engine, default_result, solved, pid, cc):
    assert assert_site_move(engine, default_result, solved, pid, cc) < 0
