"""The physical cell design model (lca_battery.model.cell, cells with a ``design:`` mapping)."""
import pytest

from conftest import EXAMPLE, assert_user_error, BATPAC
from lca_battery.api import footprint
from lca_battery.inventory.records import Exchange, Process
from lca_battery.model.cell import design_per_ah

DQR = {"TeR": 1, "GeR": 1, "TiR": 1, "P": 1}
# nominal voltages of the example studies per chemistry: the BatPaC 5.0 average (OCV at 50 % SOC)
VOLT = {"NMC811": 3.713, "NMC622": 3.705, "NMC532": 3.705, "NMC111": 3.714, "NCA": 3.699, "LFP": 3.325}


def _proc(pid, exchanges=()):
    return Process(id=pid, name=pid, reference_product=pid, unit="kg", location="GLO", stage="main_production",
                   reference_year=2020, source=None, dqr=DQR, file="test",
                   exchanges=tuple(Exchange("technosphere", t, a, "kg", "") for t, a in exchanges))


def _tiny_cell():
    """A cell of two electrodes with one active material each (the hand-computed designs below)."""
    procs = {p.id: p for p in [
        _proc("cathode_x", [("cam_x", 0.9), ("binder_pvdf", 0.1)]),
        _proc("anode_x", [("graphite_anode", 1.0)]),
        _proc("cam_x"), _proc("binder_pvdf"), _proc("graphite_anode")]}
    cell = _proc("cell_x", [("cathode_x", 0.5), ("anode_x", 0.3)])
    return procs, cell


def _tiny_design() -> dict:
    return {"voltage_v": 4.0,
            "cathode": {"capacity_mah_per_g": 200, "areal_capacity_mah_per_cm2": 4.0, "porosity": 0.2,
                        "densities_g_per_cm3": {"cam_x": 5.0, "binder_pvdf": 2.0}},
            "anode": {"capacity_mah_per_g": 350, "np_ratio": 1.2, "porosity": 0.3,
                      "densities_g_per_cm3": {"graphite_anode": 2.0}},
            "positive_foil": {"input": "al", "thickness_um": 10, "density_g_per_cm3": 2.7},
            "negative_foil": {"input": "cu", "thickness_um": 5, "density_g_per_cm3": 9.0},
            "separator": {"input": "sep", "thickness_um": 20, "porosity": 0.4, "density_g_per_cm3": 1.0},
            "electrolyte": {"input": "el", "density_g_per_cm3": 1.25, "excess": 1.1}}


def test_hand_computed_tiny_design():
    procs, cell = _tiny_cell()
    d = _tiny_design()
    r = design_per_ah(cell, procs, d)
    g = r["g_per_ah"]
    # by hand, per Ah: CAM 1000/200 = 5 g; coating 5/0.9 = 5.5556 g
    m_c = 5.0 / 0.9
    rho_c = (1 - 0.2) / (0.9 / 5.0 + 0.1 / 2.0)          # 0.8 / 0.23 = 3.4783 g/cm3
    area = 1000.0 / 4.0                                  # 250 cm2 (both sides)
    m_a = 1.2 * 1000.0 / 350.0                           # 3.4286 g graphite = coating
    rho_a = (1 - 0.3) * 2.0                              # 1.4 g/cm3
    al = 125 * 10e-4 * 2.7                               # 0.3375 g
    cu = 125 * 5e-4 * 9.0                                # 0.5625 g
    sep = 250 * 20e-4 * 1.0 * 0.6                        # 0.3 g
    pores = 0.2 * m_c / rho_c + 0.3 * m_a / rho_a + 0.4 * 250 * 20e-4
    el = 1.1 * 1.25 * pores
    assert g == pytest.approx({"cathode_x": m_c, "anode_x": m_a, "al": al, "cu": cu, "sep": sep, "el": el}, rel=1e-12)
    assert r["cathode_thickness_um"] == pytest.approx(m_c / rho_c / area * 1e4, rel=1e-12)   # 63.9 um
    # the same cell given by loading (mg/cm2 coating per side) gives the same design
    d2 = {**d, "cathode": {**d["cathode"], "loading_mg_per_cm2": 4.0 * 1000 / (0.9 * 200)}}
    del d2["cathode"]["areal_capacity_mah_per_cm2"]
    assert design_per_ah(cell, procs, d2)["g_per_ah"] == pytest.approx(g, rel=1e-12)


@pytest.fixture(scope="module")
def designs(engine):
    return {c: footprint(EXAMPLE, {"cell.chemistry": c, "cell.nominal_voltage_v": v}, engine=engine, details=False)
            for c, v in VOLT.items()}


def shares(r, *prefixes):
    return sum(b["kg_per_kg_cell"] for b in r["bom"] if b["input"].startswith(prefixes))


def test_component_shares_within_cited_ranges(designs):
    for c, r in designs.items():
        assert r["cell"]["method"] == "cell design model"
        # sum of the components is the cell (no filler): tabs and casing are kept per kg cell
        assert sum(b["kg_per_kg_cell"] for b in r["bom"]) == pytest.approx(1.0, rel=1e-9), c
    lfp = designs["LFP"]
    # LFP cell shares. Separator: lithium-chemical.com 2024 (lfp_cell_composition_industry) 2-3 %; the design's
    # 13 um separator of the CATL teardown (stock2023_catl_lfp_teardown) gives just below that.
    # Electrolyte: the industry estimate is 10-12 %, the premise cell (Majeau-Bettez 2011 via Crenna 2021) 21 %;
    # the design fills the measured 32 % electrode porosities of the CATL teardown (about 17 %), inside that span
    assert 0.10 <= shares(lfp, "electrolyte") <= 0.21
    assert 0.014 <= shares(lfp, "separator") <= 0.03
    # current LFP cathode coating: 2 % PVDF (BatPaC 5.0 LFP-G), not 8 % (Majeau-Bettez 2011)
    cath = next(b for b in lfp["bom"] if b["input"] == "cathode_lfp")
    assert lfp["cell_design"]["design"]["cathode_active_fraction"] == pytest.approx(0.96)
    assert cath["data"] == "design model"
    for c in ("NMC811", "NMC622", "NCA"):
        r = designs[c]
        assert 0.09 <= shares(r, "electrolyte") <= 0.13, c
        assert 0.008 <= shares(r, "separator") <= 0.02, c
        assert 0.02 <= shares(r, "aluminium_foil") <= 0.05, c
        assert 0.05 <= shares(r, "copper_foil") <= 0.10, c


@pytest.mark.parametrize("chem", sorted(BATPAC))
def test_design_reproduces_batpac_metal_intensity(engine, designs, chem):
    """On BatPaC's capacity basis (cathode utilisation 1) the design carries BatPaC 5.2's metal per kWh. The defaults
    are on their teardown cell's measured basis (LFP: the CATL cell's 0.796; NMC/NCA: the VW ID.3 cell's 0.93;
    inventories/cells/cells.yaml), so their cathode metal per kWh is BatPaC's basis divided by that utilisation."""
    got = designs[chem]["element_kg_per_kwh"]
    u = designs[chem]["cell_design"]["design"].get("cathode_utilisation", 1.0)
    assert u == pytest.approx(CATL_UTILISATION if chem == "LFP" else ID3_UTILISATION, abs=0.001), chem
    at_batpac = footprint(EXAMPLE, {"cell.chemistry": chem, "cell.nominal_voltage_v": VOLT[chem],
                                    "cell.design.cathode_utilisation": 1.0}, engine=engine, details=False)
    for el, ref in BATPAC[chem].items():
        assert got[el] == pytest.approx(at_batpac["element_kg_per_kwh"][el] / u, rel=1e-6), (chem, el)
        assert at_batpac["element_kg_per_kwh"][el] == pytest.approx(ref, rel=0.10), (chem, el, ref)


# Hasselwander et al. 2023 via premise energy_density.yaml, 2020 (min, max) kWh/kg cell
ED_RANGE = {"NMC811": (0.24, 0.34), "NCA": (0.24, 0.34), "NMC622": (0.20, 0.28), "NMC111": (0.15, 0.19),
            "LFP": (0.14, 0.19)}
_NMC_OLD = ("the design carries the 2020 VW ID.3 areal capacity (5.02 mAh/cm2, gunter2022_id3_teardown) with BatPaC 5.0 "
            "capacities, foils and separator; the 2020 fleet of this chemistry had thinner electrodes and older hardware "
            "(open point: no open teardown with loadings of an NMC111 or NMC622 cell was found)")
KNOWN_HIGH = {
    # NMC622 passes (0.279) since the NMC designs carry the ID.3 teardown's measured capacity basis (0.93)
    "NMC111": "pouch design 0.264 kWh/kg above 0.19: " + _NMC_OLD,
    # LFP passes since its design is on the CATL teardown's measured capacity basis (0.796): 0.184 kWh/kg; on BatPaC's
    # basis (cell.design.cathode_utilisation=1) it would be 0.232, above the range
}


@pytest.mark.parametrize("chem", [pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=KNOWN_HIGH[c]))
                                  if c in KNOWN_HIGH else c for c in sorted(ED_RANGE)])
def test_energy_density_within_published_range(designs, chem):
    lo, hi = ED_RANGE[chem]
    assert lo <= designs[chem]["cell"]["energy_density_kwh_per_kg"] <= hi


def test_mass_far_from_design_is_reported(engine, default_result):
    mass = default_result["cell"]["mass_kg"]
    near = footprint(EXAMPLE, {"cell.mass_kg": mass * 1.05}, engine=engine, details=False)
    far = footprint(EXAMPLE, {"cell.mass_kg": mass * 1.5}, engine=engine, details=False)
    assert not near["warnings"]
    assert len(far["warnings"]) == 1 and "cell.mass_kg" in far["warnings"][0] and "+50%" in far["warnings"][0]
    assert far["cell"]["stated_vs_design"] == pytest.approx(0.5, rel=1e-9)
    assert far["cell"]["mass_kg"] == pytest.approx(mass, rel=1e-12)          # the design's mass
    assert far["kg_co2e_per_kwh"] == pytest.approx(default_result["kg_co2e_per_kwh"], rel=1e-12)


def test_mass_warning_in_cli(engine, capsys):
    import io
    import json
    from lca_battery.cli import main, print_footprint
    code = main(["footprint", str(EXAMPLE), "--set", "cell.mass_kg=2.0", "--no-write", "--json"])
    r = json.loads(capsys.readouterr().out)
    assert code == 0 and "cell.mass_kg" in r["warnings"][0]
    buf = io.StringIO()
    print_footprint(r, out=buf)
    assert "warning: cell.mass_kg" in buf.getvalue()


def test_design_override_moves_the_bom(engine, default_result):
    thick = footprint(EXAMPLE, {"cell.design.copper_foil_thickness_um": 20}, engine=engine, details=False)
    cu = lambda r: r["cell_design"]["design"]["components_g_per_ah"]["copper_foil"]
    assert cu(thick) == pytest.approx(2 * cu(default_result), rel=1e-12)
    assert thick["cell"]["energy_density_kwh_per_kg"] < default_result["cell"]["energy_density_kwh_per_kg"]


@pytest.mark.parametrize("override, field, words", [
    ({"cell.design.cathode_porosity": 1.2}, "cell.design.cathode_porosity", ["0 < porosity < 1"]),
    ({"cell.design.separator_porosity": 0}, "cell.design.separator_porosity", ["0 < porosity < 1"]),
    ({"cell.design.cathode_loading_mg_per_cm2": -5}, "cell.design.cathode_loading_mg_per_cm2", ["> 0 mg/cm2"]),
    ({"cell.design.aluminium_foil_thickness_um": 2}, "cell.design.aluminium_foil_thickness_um", [">= 3 um"]),
    ({"cell.design.electrolyte_excess": 0.5}, "cell.design.electrolyte_excess", [">= 1"]),
    ({"cell.design.np_ratio": 0.8}, "cell.design.np_ratio", [">= 1"]),
    ({"cell.design.cathode_utilisation": 1.2}, "cell.design.cathode_utilisation", ["0 < utilisation <= 1"]),
    ({"cell.design.cathode_utilisation": 0}, "cell.design.cathode_utilisation", ["0 < utilisation <= 1"]),
    ({"cell.energy_density_wh_per_kg": 600}, "cell.energy_density_wh_per_kg", ["not reachable", "<= 4"]),
    ({"cell.mass_kg": 0.1}, "cell.mass_kg", ["not reachable", "mass >="]),
    ({"cell.design.porosity": 0.3}, "cell.design.porosity", ["unknown key 'cell.design.porosity'", "cell.design.cathode_porosity"]),
])
def test_bad_design_input(engine, tmp_path, capsys, override, field, words):
    assert_user_error(tmp_path, capsys, override, field, words)


def test_sodium_ion_keeps_its_inventory_bom(engine):
    r = footprint(EXAMPLE, {"cell.chemistry": "NMMT", "cell.nominal_voltage_v": 3.2}, engine=engine, details=False)
    assert r["cell"]["method"].startswith("inventory bill of materials")
    assert r["cell"]["energy_density_kwh_per_kg"] == pytest.approx(0.157)


def test_hand_computed_overhang_and_utilisation():
    """Overhang (anode and separator larger than the cathode) and cathode utilisation, by hand."""
    procs, cell = _tiny_cell()
    d = {**_tiny_design(), "cathode_utilisation": 0.8,
         "overhang": {"anode_area_ratio": 1.1, "separator_area_ratio": 1.25}}
    g = design_per_ah(cell, procs, d)["g_per_ah"]
    # per rated Ah: CAM 1000 / (0.8 x 200) = 6.25 g, coating 6.25 / 0.9 = 6.944 g
    m_c = 6.25 / 0.9
    area = 1000.0 / (0.8 * 4.0)                          # 312.5 cm2 cathode (both sides)
    m_a = 1.1 * 1.2 * 1000.0 / (0.8 * 350.0)             # 4.714 g graphite over 1.1 x the cathode area
    al = area / 2 * 10e-4 * 2.7                          # 0.4219 g
    cu = 1.1 * area / 2 * 5e-4 * 9.0                     # 0.7734 g
    sep = 1.25 * area * 20e-4 * 1.0 * 0.6                # 0.46875 g
    pores = 0.2 * m_c / (0.8 / 0.23) + 0.3 * m_a / 1.4 + 0.4 * 1.25 * area * 20e-4
    assert g == pytest.approx({"cathode_x": m_c, "anode_x": m_a, "al": al, "cu": cu, "sep": sep,
                               "el": 1.1 * 1.25 * pores}, rel=1e-12)
    # the anode coating keeps its thickness: the extra anode mass sits on the extra area
    with pytest.raises(ValueError, match="overhang"):
        design_per_ah(cell, procs, {**d, "overhang": {"anode_area_ratio": 1.3, "separator_area_ratio": 1.2}})


def _design_measured(engine, cell_id, changes, casing, capacity_ah):
    """Designs a measured cell with its own published parameters: (designed g per Ah, details)."""
    import copy
    from lca_battery.model.cell import _kg_inputs
    from lca_battery.model.superstructure import all_processes
    procs = all_processes(engine.inventory)
    cell = procs[cell_id]
    d = copy.deepcopy(cell.extra["design"])
    for (section, key), v in changes.items():
        if section is None:
            d[key] = v
        else:
            if key == "loading_mg_per_cm2":
                for k in ("areal_capacity_mah_per_cm2", "thickness_um"):
                    d[section].pop(k, None)
            d[section][key] = v
    r = design_per_ah(cell, procs, d)
    base = _kg_inputs(cell, procs)
    tabs = base["tab_aluminium"] + base["tab_copper"]
    return sum(r["g_per_ah"].values()) / (1.0 - casing - tabs), r


# VW ID.3 78 Ah pouch cell (gunter2022_id3_teardown): 268 Wh/kg at 3.65 V -> 1000 x 3.65 / 268 = 13.62 g per Ah.
# Its own parameters: half-cell areal capacity 5.02 mAh/cm2 per side, N/P 1.04, cathode porosity 22 %, 93 % of the
# cathode capacity used by the rated cell. CAM Ni65 lies between NMC622 and NMC811: the two designs bracket it.
# Not given in the cited table (BatPaC defaults kept): foils, separator, anode porosity, electrolyte excess.
ID3_UTILISATION = 0.93
ID3 = {("cathode", "areal_capacity_mah_per_cm2"): 5.02, ("anode", "np_ratio"): 1.04,
       ("cathode", "porosity"): 0.22, (None, "cathode_utilisation"): ID3_UTILISATION}


def test_teardown_id3_electrolyte(engine):
    """VW ID.3 teardown (gunter2022_id3_teardown): electrolyte 1 g per Ah; the design with the cell's own measured
    parameters (BatPaC pores x 1.081 otherwise) lies within 40 % of it."""
    for c in ("cell_nmc811", "cell_nmc622", "cell_nca"):
        el_g_per_ah = _design_measured(engine, c, ID3, 0.02228, 78)[1]["g_per_ah"]["electrolyte"]
        assert 1.0 <= el_g_per_ah <= 1.4, (c, el_g_per_ah)


def test_teardown_id3_pouch_mass(engine):
    measured = 1000.0 * 3.65 / 268.0
    g = {c: _design_measured(engine, c, ID3, 0.02228, 78)[0] for c in ("cell_nmc811", "cell_nmc622")}
    # the NMC811 design is lighter (higher capacity CAM) than the NMC622 one; Ni 0.65 is a quarter of the way from
    # NMC622 (Ni 0.6) to NMC811 (Ni 0.8): interpolated by nickel content, the design is within 10 % of the measured cell
    assert g["cell_nmc811"] < g["cell_nmc622"]
    ni65 = g["cell_nmc622"] + 0.25 * (g["cell_nmc811"] - g["cell_nmc622"])
    assert ni65 == pytest.approx(measured, rel=0.10), (ni65, measured)
    # without the measured 93 % utilisation the same design is lighter by that share
    no_u = {**ID3, (None, "cathode_utilisation"): 1.0}
    assert _design_measured(engine, "cell_nmc622", no_u, 0.02228, 78)[0] < g["cell_nmc622"] * 0.94
    # electrolyte: measured 1 g/Ah; the design (pores x BatPaC excess 1.081) within 40 %
    el = _design_measured(engine, "cell_nmc622", ID3, 0.02228, 78)[1]["g_per_ah"]["electrolyte"]
    assert 1.0 <= el <= 1.4


# CATL 161.5 Ah LFP prismatic cell (stock2023_catl_lfp_teardown): 163 Wh/kg at 3.2 V -> 19.63 g per Ah.
# Its own parameters (table of electrode parameters): loading, porosities, N/P, foils, separator (the default LFP design
# takes the same numbers since it was rebased on this teardown; repeated here so that the test states the cell).
CATL = {("cathode", "loading_mg_per_cm2"): 22.6, ("cathode", "porosity"): 0.32, ("anode", "porosity"): 0.32,
        ("anode", "np_ratio"): 3.66 / 3.44, ("positive_foil", "thickness_um"): 12,
        ("negative_foil", "thickness_um"): 5, ("separator", "thickness_um"): 13}
# Utilisation, from the same table: the cell holds two jelly rolls, each with a cathode of 22.0 m x 67 mm coated on both
# sides at 3.44 mAh/cm2 (half cell), i.e. 2 x 2 x 2200 cm x 6.7 cm x 3.44 mAh/cm2 = 202.8 Ah of cathode half-cell capacity
# for a rated 161.5 Ah: 0.796. (The lengths are per jelly roll: one 22 m set of cathode, anode and separator sheets is
# 575 cm3 and about 1.12 kg of coatings and foils, 40 % of the 280 x 63 x 82 mm can and a third of the 3.1-3.2 kg cell;
# two sets fill 80 % of the can, in line with the 6.4 % void volume of the paper's abstract.) The 161.5 Ah is the
# capacity measured at C/20 on the cell before teardown, so 0.796 is a measured ratio, not a rating margin.
CATL_UTILISATION = 161.5 / (2 * 2 * 2200.0 * 6.7 * 3.44e-3)


def test_teardown_catl_lfp_prismatic_mass(engine):
    measured = 1000.0 * 3.2 / 163.0
    assert CATL_UTILISATION == pytest.approx(0.796, abs=0.001)
    g, r = _design_measured(engine, "cell_lfp", {**CATL, (None, "cathode_utilisation"): CATL_UTILISATION}, 0.061, 161.5)
    assert r["areal_capacity_mah_per_cm2"] == pytest.approx(3.44, rel=0.03)   # loading x 96 % x 156.7 mAh/g
    # the designed cell is 3 % lighter than measured (18.98 vs 19.63 g/Ah): the prismatic casing (0.061 kg/kg, Blade side
    # walls only) leaves out lids, terminals, vent and insulation film, for which no public mass was found
    assert g == pytest.approx(measured, rel=0.10), (g, measured)
    assert g < measured
    # the cathode coating per rated Ah matches the measured electrode: 2 x 2 x 1.474 m2 x 22.6 mg/cm2 / 161.5 Ah
    geometric = 2 * 2 * 2200.0 * 6.7 * 22.6e-3 / 161.5
    assert r["g_per_ah"]["cathode_lfp"] == pytest.approx(geometric, rel=0.02)
    # the default LFP design carries this cell's measured utilisation (inventories/cells/cells.yaml)
    g0, r0 = _design_measured(engine, "cell_lfp", CATL, 0.061, 161.5)
    assert r0["cathode_utilisation"] == pytest.approx(CATL_UTILISATION, abs=0.001)
    assert g0 == pytest.approx(g, rel=0.002)
    # on BatPaC's capacity basis (utilisation 1) the same cell would be 20 % lighter than designed, 26 % below measured
    g1, _ = _design_measured(engine, "cell_lfp", {**CATL, (None, "cathode_utilisation"): 1.0}, 0.061, 161.5)
    assert g1 == pytest.approx(g * CATL_UTILISATION, rel=0.01)
    # on BatPaC's LiFePO4 capacity (156.7 mAh/g) instead of the half-cell measurement the ratio is nearly the same:
    # 161.5 Ah / (1332 g coating x 0.96 LiFePO4 x 0.1567 Ah/g) = 0.806
    lfp_g = geometric * 161.5 * r["cathode_coating"]["active_fraction"]
    assert 161.5 / (lfp_g * 0.1567) == pytest.approx(0.806, abs=0.002)


# BYD Blade 135 Ah LFP prismatic cell (crps2025_4680_blade_teardown): 160 Wh/kg at 3.2 V, 2.7 +/- 0.3 kg -> 20.0 (17.8 to
# 22.2) g per Ah. Its own parameters: cathode areal capacity 2.393 mAh/cm2 "calculated" (rated capacity over the coated
# cathode area, so utilisation 1 on that rated basis), Al foil 20 um, Cu foil 10 um, separator 12 um; the casing share
# 0.061 is this cell's side walls. Not given: porosities, loadings, N/P (the CATL teardown's kept).
BLADE = {("cathode", "areal_capacity_mah_per_cm2"): 2.393, ("positive_foil", "thickness_um"): 20,
         ("negative_foil", "thickness_um"): 10, ("separator", "thickness_um"): 12, (None, "cathode_utilisation"): 1.0}


def test_teardown_byd_blade_cathode_thickness(engine):
    """The coating that holds the rated areal capacity at full utilisation, against the measured 70 um: its ratio is the
    utilisation the Blade's numbers imply, which hangs on the unpublished cathode porosity: 0.91 at 25 %, 1.00 at the
    CATL cell's 32 % (BatPaC 5.0 solid densities). So the Blade neither confirms nor refutes the CATL cell's 0.796 (and
    the About:Energy cell's 0.83, test_aboutenergy_lfp18650_utilisation)."""
    implied = {}
    for p in (0.25, 0.32):
        _, r = _design_measured(engine, "cell_lfp", {**BLADE, ("cathode", "porosity"): p}, 0.061, 135)
        implied[p] = r["cathode_thickness_um"] / 70.0
    assert implied[0.32] == pytest.approx(1.0, abs=0.05)
    assert implied[0.25] == pytest.approx(0.91, abs=0.02)
    assert implied[0.25] < implied[0.32]


@pytest.mark.xfail(strict=True, reason="the designed Blade cell is 13 % lighter than measured (17.4 vs 20.0 g per Ah), "
                   "below the published +/- 0.3 kg: the designed anode coating is 52 um against 65 um measured (its "
                   "porosity and N/P are not published) and the casing share (side walls only) leaves out lids, "
                   "terminals and insulation, for which no public mass was found")
def test_teardown_byd_blade_mass(engine):
    g, _ = _design_measured(engine, "cell_lfp", BLADE, 0.061, 135)
    assert 1000.0 * 2.4 / 135 <= g <= 1000.0 * 3.0 / 135, g


# A second LFP cell with electrode data from a teardown: the About:Energy 2 Ah LFP|graphite 18650 parameterisation
# (aboutenergy2022_lfp18650_bpx, file lfp_18650_cell_BPX.json): "based on cell cycling data, and electrode data gathered
# after cell teardown". Cathode: 64.3 um, active volume fraction = surface area per volume x particle radius / 3 =
# 4418460 x 5e-7 / 3 = 0.7364, maximum concentration 21200 mol/m3 (below LiFePO4's crystallographic 22806 at 3.6 g/cm3,
# i.e. a measured capacity: 157.8 mAh/g at 3.6 g/cm3), electrode area 0.0896 m2, nominal 2 Ah.
AE = {"c_max": 21200.0, "a": 4418460.0, "r": 5e-7, "L_m": 6.43e-5, "area_m2": 0.08959998, "nominal_ah": 2.0,
      "x_full": 0.0875, "x_empty": 0.95038, "an_c_max": 31400.0, "an_a": 473004.0, "an_r": 4.8e-6, "an_L_m": 4.44e-5,
      "an_x_full": 0.82258, "an_x_empty": 0.0016261}
FARADAY_AH_PER_MOL = 96485.33212 / 3600.0


def test_aboutenergy_lfp18650_utilisation(engine):
    """The About:Energy cell rates 0.83 of its cathode capacity (its cycling window uses 0.863 of it), close to the
    CATL cell's 0.796 and far from BatPaC's 1; on BatPaC's LiFePO4 capacity and density it is 0.87."""
    eps = AE["a"] * AE["r"] / 3.0
    assert eps == pytest.approx(0.7364, abs=1e-4)
    cathode_ah = AE["c_max"] * eps * AE["L_m"] * AE["area_m2"] * FARADAY_AH_PER_MOL
    areal = cathode_ah / AE["area_m2"] / 10.0                            # mAh/cm2 per coated side
    assert areal == pytest.approx(2.69, abs=0.01)
    u = AE["nominal_ah"] / cathode_ah
    assert u == pytest.approx(0.83, abs=0.005)
    window = AE["x_empty"] - AE["x_full"]
    assert window == pytest.approx(0.863, abs=0.001)
    # the model is consistent: the anode's window holds the same Ah as the cathode's, at N/P 1.05 (CATL cell 1.064)
    an_eps = AE["an_a"] * AE["an_r"] / 3.0
    anode_ah = AE["an_c_max"] * an_eps * AE["an_L_m"] * AE["area_m2"] * FARADAY_AH_PER_MOL
    assert anode_ah * (AE["an_x_full"] - AE["an_x_empty"]) == pytest.approx(cathode_ah * window, rel=0.001)
    assert anode_ah / cathode_ah == pytest.approx(1.05, abs=0.01)
    # on the design's basis: LiFePO4 mass at BatPaC 5.0's solid density x BatPaC's 156.7 mAh/g
    from lca_battery.model.superstructure import all_processes
    d = all_processes(engine.inventory)["cell_lfp"].extra["design"]
    rho, q = d["cathode"]["densities_g_per_cm3"]["cam_lfp"], d["cathode"]["capacity_mah_per_g"]
    lfp_g = eps * AE["L_m"] * 100.0 * AE["area_m2"] * 1e4 * rho
    u_batpac = AE["nominal_ah"] / (lfp_g * q / 1000.0)
    assert u_batpac == pytest.approx(0.87, abs=0.01)
    # both bases put this cell within 10 % of the CATL cell's measured utilisation, the LFP default
    for x in (u, window, u_batpac):
        assert CATL_UTILISATION < x < 0.9
    assert d["cathode_utilisation"] == pytest.approx(CATL_UTILISATION, abs=0.001)


def test_study_cathode_utilisation(engine, default_result):
    """cell.design.cathode_utilisation: the study's capacity basis; the default's own value gives the default design
    exactly, another u scales the CAM per rated Ah by u_default / u (the design's hand rule above)."""
    u0 = default_result["cell_design"]["design"]["cathode_utilisation"]
    same = footprint(EXAMPLE, {"cell.design.cathode_utilisation": u0}, engine=engine, details=False)
    assert same["kg_co2e_per_kwh"] == pytest.approx(default_result["kg_co2e_per_kwh"], rel=1e-12)
    low = footprint(EXAMPLE, {"cell.design.cathode_utilisation": 0.8}, engine=engine, details=False)
    assert low["element_kg_per_kwh"]["Ni"] == pytest.approx(default_result["element_kg_per_kwh"]["Ni"] * u0 / 0.8,
                                                            rel=1e-9)
    assert low["cell"]["energy_density_kwh_per_kg"] < default_result["cell"]["energy_density_kwh_per_kg"]
    assert low["kg_co2e_per_kwh"] > default_result["kg_co2e_per_kwh"]
