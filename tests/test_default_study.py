"""The default NMC811 cell made in China, on the shipped open inventories."""
import pytest

from conftest import EXAMPLE
from lca_battery.api import footprint


def test_inside_published_cell_range(engine, default_result):
    """Xu et al. 2022 (RCR 187:106606): cells of 8 chemistries in CN/US/EU, 41-89 kg CO2e/kWh, with the 2020
    (ecoinvent market, class-1-like) NiSO4. On that nickel origin ours lies inside the range.

    The default nickel is China's 2025 NiSO4 feed (Mysteel: 43 % Indonesian NPI/matte, 57 % HPAL MHP). No
    published cradle-to-gate figure for cells made with Indonesian/Chinese NPI and HPAL nickel was found, so
    the upper bound is not a published number (it used to be an uncited guard, 89 x 1.15): the default is
    bounded by the engine's own origin routes, each of them cited: above the class-1 cell and below the
    cell made with its most carbon-intensive route (all NPI/matte: RKEF smelting on captive coal power). The
    validation table reports the default against Xu's range with the reason."""
    class1 = footprint(EXAMPLE, {"supply.nickel": "class1"}, engine=engine)
    assert 41.0 <= class1["kg_co2e_per_kwh"] <= 89.0
    all_npi = footprint(EXAMPLE, {"supply.nickel": "npi_matte_id"}, engine=engine)
    assert class1["kg_co2e_per_kwh"] < default_result["kg_co2e_per_kwh"] < all_npi["kg_co2e_per_kwh"]


def test_stages_sum_to_total(default_result):
    r = default_result
    assert set(r["stages"]) == {"raw_material_acquisition", "main_production", "distribution", "end_of_life"}
    assert sum(r["stages"].values()) == pytest.approx(r["kg_co2e_per_kwh"], rel=1e-9)
    assert r["stages"]["raw_material_acquisition"] > r["stages"]["main_production"] > 0
    # traceable from the process table (a verifier's check): each process's score split by the stage it serves,
    # the background's by its consumers, adds up to each stage; no row is left without an Annex II stage
    for st, v in r["stages"].items():
        assert sum(p[f"kg_co2e_{st}"] for p in r["processes"]) == pytest.approx(v, rel=1e-9, abs=1e-12), st
    grid = next(p for p in r["processes"] if p["id"] == "electricity_grid_cn")
    assert grid["stage"].startswith("raw_material_acquisition") and "main_production" in grid["stage"]
    assert grid["kg_co2e_main_production"] == pytest.approx(
        r["plant"]["electricity_kwh_per_kwh"] * 0.5575, rel=1e-9)           # the cell plant's grid power
    stages = set(r["stages"])
    for e in r["electricity_sites"]:
        assert all(part.rsplit(" ", 1)[0] in stages for part in e["stage"].split(", ")), e


def test_gases_sum_to_total(default_result):
    g = default_result["gases"]
    assert g["fossil"] + g["biogenic"] + g["land_use_change"] == pytest.approx(
        default_result["kg_co2e_per_kwh"], rel=1e-6)


def test_cobalt_per_kwh_near_batpac(default_result):
    """BatPaC 5.2, NMC811: 0.076 kg Co per kWh with the cathode counted at utilisation 1; the default design
    is on the VW ID.3 teardown's measured basis (0.93 of the cathode's capacity, inventories/cells/cells.yaml),
    so BatPaC's figure on that basis is 0.076 / 0.93. Within 10 % (issue 7); the cobalt line is the cell's
    element content."""
    assert default_result["cobalt_kg_per_kwh"] == pytest.approx(0.076 / 0.93, rel=0.10)
    assert default_result["cobalt_kg_per_kwh"] == default_result["element_kg_per_kwh"]["Co"]


def test_reference_flows_are_consistent(default_result):
    r = default_result
    assert r["kg_co2e_per_cell"] == pytest.approx(r["kg_co2e_per_kwh"] * 60 * 3.65 / 1000, rel=1e-12)
    assert r["kg_co2e_per_kg"] == pytest.approx(r["kg_co2e_per_kwh"] * r["cell"]["energy_density_kwh_per_kg"],
                                                rel=1e-12)


def test_top_processes_shares(default_result):
    tops = default_result["top_processes"]
    assert len(tops) >= 5
    assert all(t["share"] > 0 for t in tops[:5])
    assert tops == sorted(tops, key=lambda t: -abs(t["kg_co2e_per_kwh"]))


def test_cathode_is_shown_explicitly(default_result):
    ids = [m["id"] for m in default_result["materials"]]
    assert any(i.startswith("cathode_") for i in ids)


def test_moving_plant_to_sweden_matches_plant_electricity_times_grid_difference(engine, default_result):
    se = footprint(EXAMPLE, ["plant.country=SE"], engine=engine)
    inv = engine.inventory
    ef = {}
    for cc in ("cn", "se"):
        (x,) = [x for x in inv[f"electricity_grid_{cc}"].exchanges if x.kind == "biosphere"]
        ef[cc] = x.amount
    kwh = default_result["plant"]["electricity_kwh_per_kwh"]
    assert kwh > 1.0
    assert default_result["kg_co2e_per_kwh"] - se["kg_co2e_per_kwh"] == pytest.approx(
        kwh * (ef["cn"] - ef["se"]), rel=1e-9)


def test_plant_energy_parameter_moves_the_matrix(engine, default_result):
    more = footprint(EXAMPLE, ["plant.electricity_kwh_per_kg_cell=20"], engine=engine)
    assert more["kg_co2e_per_kwh"] > default_result["kg_co2e_per_kwh"]
    assert more["plant"]["electricity_kwh_per_kwh"] > default_result["plant"]["electricity_kwh_per_kwh"]


def test_mass_allocation_of_cobalt_is_lower_than_economic(engine, default_result):
    mass = footprint(EXAMPLE, ["allocation.cobalt=mass"], engine=engine)
    assert mass["kg_co2e_per_kwh"] < default_result["kg_co2e_per_kwh"]


def test_ef31_method_family_runs(engine, default_result):
    """EF v3.1 runs on the default study and gives the same digits: the three flows on which bw2io's EF v3.1 and
    IPCC 2021 differ are emitted by no default inventory (the families are told apart on the tiny system:
    test_tiny_system.py::test_the_method_family_chooses_the_factors). A default emitting one fails here."""
    ef = footprint(EXAMPLE, ["method=ef31"], engine=engine)
    assert ef["method"]["family"] == "ef31"
    assert ef["kg_co2e_per_kwh"] == default_result["kg_co2e_per_kwh"]


def test_reproducible_to_the_same_digits(engine, default_result):
    again = footprint(EXAMPLE, engine=engine)
    assert again["kg_co2e_per_kwh"] == default_result["kg_co2e_per_kwh"]


def test_declaration_over_service_life(engine, tmp_path):
    from lca_battery.cli import main
    r = footprint(EXAMPLE, {"declaration.vehicle_category": "M1", "declaration.service_life_years": 10,
                            "declaration.justification": "manufacturer warranty, 10 years"}, engine=engine)
    d = r["declaration"]
    e_total = 60 * 3.65 / 1000 * 60 * 10          # Ah x V x cycles/year (M1: 60) x years
    assert d["service_life"]["e_total_kwh_per_cell"] == pytest.approx(e_total, rel=1e-12)
    assert d["kg_co2e_per_kwh_e_total"] == pytest.approx(r["kg_co2e_per_cell"] / e_total, rel=1e-12)
    stages = {s["lifecycleStage"] for s in r["passport"]["CarbonFootprintForBatteries"]["carbonFootprintPerLifecycleStage"]}
    assert stages == {"RawMaterialExtraction", "MainProduction", "Distribution", "Recycling"}
    assert footprint(EXAMPLE, engine=engine)["declaration"]["kg_co2e_per_kwh_e_total"] is None
    code = main(["footprint", str(EXAMPLE), "--set", "declaration.service_life_years=10", "--out", str(tmp_path)])
    assert code == 2 and not any(tmp_path.iterdir())


def test_stage_rule_can_be_changed_by_the_study(engine, default_result):
    moved = footprint(EXAMPLE, {"stage_overrides": {"cam_*": "main_production", "pcam_*": "main_production"}},
                      engine=engine, details=False)
    assert moved["kg_co2e_per_kwh"] == pytest.approx(default_result["kg_co2e_per_kwh"], rel=1e-12)
    assert sum(moved["stages"].values()) == pytest.approx(moved["kg_co2e_per_kwh"], rel=1e-9)
    shift = moved["stages"]["main_production"] - default_result["stages"]["main_production"]
    # the pCAM and CAM steps with the background they draw (energy, NaOH...) move; the metal salts they
    # consume stay raw-material acquisition
    assert shift > 5
    assert default_result["stages"]["raw_material_acquisition"] - moved["stages"]["raw_material_acquisition"] == \
        pytest.approx(shift, rel=1e-9)


def test_parameters_name_the_study_field_that_sets_them(engine, default_result):
    """``parameters.csv`` names the study field behind each entry: a material's site is
    ``suppliers.<id>.location`` (``.power`` when the study gives a power source), never the model's internal
    switch name; the field's section is one a study file has."""
    from lca_battery.study import Study
    sections = set(Study.model_fields)
    params = {p["parameter"] for p in default_result["parameters"]}
    assert not any(p.startswith("locations.") for p in params)
    assert {p.split(".")[0].split(" ")[0] for p in params} <= sections
    r = footprint(EXAMPLE, {"suppliers.sodium_hydroxide.location": "SE",
                            "suppliers.aluminium_primary.power": "hydro"}, engine=engine, details=False)
    naoh = {p["input"]: p["amount"] for p in r["parameters"] if p["parameter"] == "suppliers.sodium_hydroxide.location"}
    assert naoh["electricity_grid_se"] == 1.0 and naoh["electricity_grid_cn"] == 0.0
    al = {p["input"]: p["amount"] for p in r["parameters"] if p["parameter"] == "suppliers.aluminium_primary.power"}
    assert al and max(al.values()) == 1.0


def test_tables_list_only_what_the_study_uses(engine, default_result):
    """Round-off supplies (1e-15 kWh at the NCA cathode plant: the solver works through the zero cells of the other
    chemistries) are not uses: no other chemistry's cathode chain in the datasets, electricity or process tables of an
    NMC811 study, while the datasets and electricity tables hold the NMC811 chain."""
    other = ("cam_nca", "cam_lfp", "cam_nmc111", "cam_nmc622", "cam_nmmt", "cathode_lfp", "cathode_nmmt", "pcam_nca")
    datasets = {d["id"] for d in default_result["datasets"]}
    sites = {r["switch"] for r in default_result["electricity_sites"]}
    processes = {p["id"] for p in default_result["processes"]}
    assert not datasets & set(other)
    assert not sites & {f"electricity_site__{p}" for p in other}
    assert not processes & set(other)
    assert {"cam_nmc811", "pcam_nmc811", "cathode_nmc811"} <= datasets
    assert "electricity_site__cam_nmc811" in sites and "electricity_grid_cn" in processes
    # the datasets the study uses carry the whole footprint: none left out above round-off
    solved_total = sum(p["kg_co2e"] for p in default_result["processes"])
    assert solved_total == pytest.approx(default_result["kg_co2e_per_kwh"], rel=1e-12)


def test_dataset_register_has_each_dqr_criterion_and_a_version(default_result):
    import hashlib
    from conftest import ROOT
    for d in default_result["datasets"]:
        if d["file"].endswith(".yaml") and not d["file"].startswith("study"):
            assert (d["TeR"] + d["GeR"] + d["TiR"] + d["P"]) / 4 == pytest.approx(d["dqr"]), d["id"]
            digest = hashlib.sha256((ROOT / "inventories" / d["file"]).read_bytes()).hexdigest()[:12]
            assert d["version"] == f"{d['file']} sha256:{digest}", d["id"]
