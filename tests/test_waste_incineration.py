"""Waste incineration from the IPCC 2006 default data (Vol. 5 ch. 5, Table 5.2) by the kind of waste, in place of
burning every kg of hazardous waste as kerosene: organic liquid waste (spent solvents, rolling oil) as fossil liquid
waste, the cobalt refinery's process residue as industrial waste (counted as dry mass, an upper bound)."""
import pytest

from conftest import EXAMPLE
from lca_battery.api import material_footprint, prepare

M_CO2, M_C = 44.0095, 12.011          # g/mol (stoichiometry)
#: IPCC 2006 Vol. 5 Table 5.2: (total carbon of the mass counted, fossil fraction of that carbon, oxidation factor)
IPCC = {"waste_incineration_hazardous": (0.80, 1.00, 1.00),   # fossil liquid waste, per kg as received
        "waste_incineration_industrial": (0.50, 0.90, 1.00)}  # industrial waste, per kg dry


def _co2(engine, pid, flow):
    return sum(x.amount for x in engine.inventory[pid].exchanges if x.kind == "biosphere" and x.target == flow)


@pytest.mark.parametrize("pid", sorted(IPCC))
def test_fossil_and_biogenic_co2_follow_the_ipcc_defaults(engine, pid):
    carbon, fossil, oxidised = IPCC[pid]
    p = engine.inventory[pid]
    assert p.source == "ipcc2006_v5_incineration" and p.source in engine.inventory.sources
    assert _co2(engine, pid, "Carbon dioxide, fossil") == pytest.approx(carbon * fossil * oxidised * M_CO2 / M_C,
                                                                         rel=1e-5)
    assert _co2(engine, pid, "Carbon dioxide, non-fossil") == pytest.approx(
        carbon * (1 - fossil) * oxidised * M_CO2 / M_C, rel=1e-4, abs=1e-12)
    assert not any(x.aggregated for x in p.exchanges)
    # the cradle-to-gate footprint of 1 kg is its fossil CO2 (biogenic CO2 counts zero in GWP100)
    r = material_footprint(pid, engine=engine)
    assert r["kg_co2e"] == pytest.approx(carbon * fossil * oxidised * M_CO2 / M_C, rel=1e-5)


def test_each_waste_goes_to_the_treatment_of_its_kind(engine):
    def drawers(pid):
        return {p for p, rec in engine.processes.items()
                if any(x.kind != "biosphere" and x.target == pid for x in rec.exchanges)}
    industrial = drawers("waste_incineration_industrial")
    liquid = drawers("waste_incineration_hazardous")
    assert industrial == {"cobalt_sulfate_virgin"}
    assert {"aluminium_foil", "copper_foil"} <= liquid and not industrial & liquid


def test_the_cell_carries_the_waste_it_draws_times_its_factor(engine, solved):
    """The default cell's fossil CO2 from each waste treatment is the waste it draws x the treatment's factor."""
    eng, s = solved
    for pid in IPCC:
        kg = s.supply[eng.column(s, pid)]
        assert kg > 0, pid
        direct = s.scores[eng.column(s, pid)]          # the process's own (direct) kg CO2e per kWh of cell
        assert direct == pytest.approx(kg * _co2(engine, pid, "Carbon dioxide, fossil"), rel=1e-9)


def test_the_ecoinvent_mapping_links_both_treatments(engine):
    import json
    from pathlib import Path
    m = json.loads((Path(engine.inventory.root) / "mappings" / "ecoinvent.json").read_text())
    codes = {e["source"]["code"] for e in m["replace"]}
    assert set(IPCC) <= codes


@pytest.fixture(scope="module")
def solved(engine):
    _, entries, eng = prepare(EXAMPLE, engine=engine)
    return eng, eng.solve(entries)
