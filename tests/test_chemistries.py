"""Every chemistry's default cell (CN plant): published ranges, literature order, BatPaC metal content."""
import pytest

from conftest import EXAMPLE, BATPAC
from lca_battery.api import footprint

CHEMS = ["NMC811", "NMC622", "NMC532", "NMC111", "NCA", "LFP", "NMMT"]


@pytest.fixture(scope="module")
def by_chem(engine):
    return {c: footprint(EXAMPLE, {"cell.chemistry": c, "cell.nominal_voltage_v": None}, engine=engine, details=False) for c in CHEMS}


def test_every_chemistry_runs_and_stages_add_up(by_chem):
    for c, r in by_chem.items():
        assert r["chemistry"] == c
        assert sum(r["stages"].values()) == pytest.approx(r["kg_co2e_per_kwh"], rel=1e-9)


#: above Xu's range on class-1 nickel (strict: the test fails once they are inside)
ABOVE_XU = {"NMC111": "89.4 on class-1 nickel, 0.5 % above Xu et al.'s 89: the cobalt-richest cell (0.34 kg Co per kWh) "
                      "on the design's measured capacity basis (the VW ID.3 teardown's 0.93; 84.3 on BatPaC's basis, "
                      "inside); the validation table gives the comparison per chemistry and region"}


@pytest.mark.parametrize("c", [pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=ABOVE_XU[c]))
                               if c in ABOVE_XU else c for c in ("NMC811", "NMC622", "NMC532", "NMC111", "NCA", "LFP")])
def test_inside_published_range(engine, by_chem, c):
    # Xu et al. 2022: 41-89 kg CO2e/kWh (cells, 8 chemistries, CN/US/EU plants, 2020), with the physical cell
    # design, the measured whole-plant energy (Degen & Schuette 2022) and the rebuilt material unit processes,
    # on the class-1 nickel origin that matches Xu's 2020 NiSO4 supply
    class1 = footprint(EXAMPLE, {"cell.chemistry": c, "cell.nominal_voltage_v": None,
                                 "supply.nickel": "class1"}, engine=engine, details=False)
    assert 41 <= class1["kg_co2e_per_kwh"] <= 89, c
    # the default nickel (China's 2025 NiSO4 feed, Mysteel) lifts nickel cells above that 2020 range, by their
    # nickel-origin difference only (LFP is unchanged). No published figure for cells with Indonesian/Chinese
    # nickel was found, so the upper bound is the cell made with the most carbon-intensive cited origin route
    # (all NPI/matte), not a number (an uncited 89 x 1.15 guard stood here before)
    all_npi = footprint(EXAMPLE, {"cell.chemistry": c, "cell.nominal_voltage_v": None,
                                  "supply.nickel": "npi_matte_id"}, engine=engine, details=False)
    assert class1["kg_co2e_per_kwh"] * (1 - 1e-12) <= by_chem[c]["kg_co2e_per_kwh"], c
    assert by_chem[c]["kg_co2e_per_kwh"] <= all_npi["kg_co2e_per_kwh"] * (1 + 1e-12), c


def test_sodium_ion_inside_published_range(by_chem):
    # sodium-ion: about 60 to just over 100 kg CO2e/kWh (Wickerts et al. 2024, J. Ind. Ecol. 28:116)
    assert 60 <= by_chem["NMMT"]["kg_co2e_per_kwh"] <= 105


def test_literature_order(by_chem):
    # LFP below every NMC/NCA cell per kWh (Xu et al. 2022; the issue-7 review) and NMC111 above NMC811
    lfp = by_chem["LFP"]["kg_co2e_per_kwh"]
    assert all(lfp < by_chem[c]["kg_co2e_per_kwh"] for c in ("NMC811", "NMC622", "NMC532", "NMC111", "NCA"))
    assert by_chem["NMC111"]["kg_co2e_per_kwh"] > by_chem["NMC811"]["kg_co2e_per_kwh"]


@pytest.mark.parametrize("chem", sorted(BATPAC))
def test_element_content_near_batpac(by_chem, chem):
    got = by_chem[chem]["element_kg_per_kwh"]
    for el, ref in BATPAC[chem].items():
        assert got[el] == pytest.approx(ref, rel=0.30), (chem, el, got[el], ref)


def test_formats_differ_in_casing(engine):
    """Each format takes its own casing (process and kg per kg of cell) from the cell's ``cell_format`` entry in
    the inventory, and the footprints differ."""
    from lca_battery.model.superstructure import chemistries
    formats = chemistries(engine.inventory)["NMC811"].extra["cell_format"]
    totals = {}
    for fmt in ("pouch", "prismatic", "cylindrical"):
        r = footprint(EXAMPLE, {"cell.format": fmt}, engine=engine, details=False)
        casing = r["cell_design"]["casing"]
        assert casing["process"] == formats[fmt]["casing"], fmt
        assert casing["source"] == formats[fmt]["source"], fmt
        lines = {b["input"]: b for b in r["bom"] if b["role"] == "casing"}
        assert lines[casing["process"]]["kg_per_kg_cell"] == pytest.approx(casing["kg_per_kg_cell"], rel=1e-12)
        assert casing["kg_per_kg_cell"] > 0
        assert all(b["kg_per_kg_cell"] == 0 for k, b in lines.items() if k != casing["process"]), fmt   # the others
        totals[fmt] = r["kg_co2e_per_kwh"]
    assert len({formats[f]["casing"] for f in totals}) == 3 and len(set(totals.values())) == 3


def test_stated_energy_density_does_not_change_the_design_bom(engine, default_result):
    # the design model fixes the bill of materials; a stated energy density is checked, not absorbed
    hi = footprint(EXAMPLE, {"cell.energy_density_wh_per_kg": 400}, engine=engine, details=False)
    assert hi["kg_co2e_per_kwh"] == pytest.approx(default_result["kg_co2e_per_kwh"], rel=1e-9)
    assert [b["kg_per_kg_cell"] for b in hi["bom"]] == pytest.approx([b["kg_per_kg_cell"] for b in default_result["bom"]])
    assert hi["warnings"] and "cell.energy_density_wh_per_kg" in hi["warnings"][0]
    assert not default_result["warnings"]


def test_unreachable_energy_density_is_a_clear_error(engine, tmp_path, capsys):
    from lca_battery.cli import main
    code = main(["footprint", str(EXAMPLE), "--set", "cell.energy_density_wh_per_kg=900", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "not reachable" in err and "'cell.energy_density_wh_per_kg'" in err
