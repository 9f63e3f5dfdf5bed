"""Issue 8 point 5: WBCSD PACT v3 export (validated against the pydantic models written from the PACT
Technical Specifications v3) and supplier PACT v2 / v3 files as supplier figures."""
import hashlib
import json
import shutil
from datetime import datetime, timezone

import pytest

from conftest import EXAMPLE, assert_user_error
from lca_battery.api import footprint, pact
from lca_battery.cli import main
from lca_battery.errors import StudyError
from lca_battery.report.pact import ProductFootprint, pef_to_pact_dqr
from lca_battery.supplier_pact import pact_to_pef_dqr

IDS = {"company.name": "Demo Cells Ltd", "company.ids": ["urn:pact:company:example:demo"],
       "product.ids": ["urn:pact:product:demo:cell-60ah"], "product.reference_period_start": "2024-01-01",
       "product.reference_period_end": "2024-12-31"}
CREATED = datetime(2025, 1, 31, 12, 0, 0, tzinfo=timezone.utc)


def _v3(value="9.5", unit="kilogram", **pcf):
    """A minimal supplier PACT v3 footprint (fields of the v3 data model), as the tests need it."""
    return {"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "specVersion": "3.0.0", "created": "2025-03-01T00:00:00Z",
            "status": "Active", "companyName": "CAM Supplier Co", "companyIds": ["urn:pact:company:example:cam"],
            "productDescription": "NMC811 cathode active material", "productIds": ["urn:pact:product:cam:811"],
            "productNameCompany": "CAM-811",
            "pcf": {"declaredUnitOfMeasurement": unit, "declaredUnitAmount": "1", "productMassPerDeclaredUnit": "1",
                    "referencePeriodStart": "2024-01-01T00:00:00Z", "referencePeriodEnd": "2024-12-31T00:00:00Z",
                    "pcfExcludingBiogenicUptake": value, "pcfIncludingBiogenicUptake": value,
                    "fossilGhgEmissions": value, "fossilCarbonContent": "0", "ipccCharacterizationFactors": ["AR6"],
                    "crossSectoralStandards": ["ISO14067"], "exemptedEmissionsPercent": "0",
                    "primaryDataShare": "60",
                    "dqi": {"technologicalDQR": "1.5", "geographicalDQR": "2", "temporalDQR": "1"},
                    "verification": {"coverage": "product level", "providerName": "Verifier GmbH"}, **pcf}}


def _write(tmp_path, doc, name="cam.json"):
    p = tmp_path / name
    p.write_text(json.dumps(doc) if not isinstance(doc, str) else doc, encoding="utf-8")
    return p


def test_export_validates_and_carries_the_result(engine):
    pf = pact(EXAMPLE, IDS, engine=engine, created=CREATED)
    again = ProductFootprint.model_validate(pf).model_dump(mode="json", exclude_none=True)
    assert again == pf                                                  # pydantic round trip
    r = footprint(EXAMPLE, IDS, engine=engine, details=False)
    pcf = pf["pcf"]
    assert pf["specVersion"] == "3.0.0" and pcf["declaredUnitOfMeasurement"] == "kilowatt hour"
    assert float(pcf["pcfExcludingBiogenicUptake"]) == pytest.approx(r["kg_co2e_per_kwh"], rel=1e-5)
    assert float(pcf["declaredUnitAmount"]) == pytest.approx(r["cell"]["energy_kwh"], rel=1e-5)
    assert float(pcf["fossilGhgEmissions"]) == pytest.approx(r["gases"]["fossil"], rel=1e-5, abs=1e-6)
    assert pcf["referencePeriodStart"] == "2024-01-01T00:00:00Z"
    for k in ("technologicalDQR", "geographicalDQR", "temporalDQR"):
        assert 1 <= float(pcf["dqi"][k]) <= 3
    assert pcf["primaryDataShare"] == "0"                               # all defaults: no primary data
    assert 0 <= float(pcf["exemptedEmissionsPercent"]) < 100
    # deterministic: the same inputs give the same document
    assert pact(EXAMPLE, IDS, engine=engine, created=CREATED) == pf


def test_carbon_content_fossil_and_biogenic(engine):
    # the anode's CMC binder holds biogenic carbon (its cellulose: 6 of the repeat unit's 8 C), its SBR and every
    # other carbon-bearing input fossil or mineral carbon; the export reports the two apart, per kWh
    from lca_battery.model.cell import element_content
    from lca_battery.model.superstructure import all_processes
    pcf = pact(EXAMPLE, IDS, engine=engine, created=CREATED)["pcf"]
    r = footprint(EXAMPLE, IDS, engine=engine, details=False)
    procs = all_processes(engine.inventory)
    anode = next(b["input"] for b in r["bom"] if b["input"].startswith("anode_"))
    cmc = sum(x.amount for x in procs[anode].exchanges if x.target == "binder_cmc")
    sbr = sum(x.amount for x in procs[anode].exchanges if x.target == "binder_sbr")
    assert cmc > 0 and sbr > 0
    an = element_content(anode, procs)
    assert an["C_biogenic"] == pytest.approx(cmc * 6 * 12.011 / 242.159, rel=1e-5)
    assert element_content("binder_sbr", procs)["C"] == pytest.approx(
        (0.752 * 4 * 12.011 / (4 * 12.011 + 6 * 1.008) + 0.251 * 8 * 12.011 / (8 * 12.011 + 8 * 1.008)) / 1.003,
        rel=1e-5)
    assert float(pcf["biogenicCarbonContent"]) == pytest.approx(r["element_kg_per_kwh"]["C_biogenic"], rel=1e-5)
    assert float(pcf["biogenicCarbonContent"]) > 0
    assert float(pcf["fossilCarbonContent"]) == pytest.approx(r["element_kg_per_kwh"]["C"], rel=1e-5)


def test_export_needs_the_company_and_product_fields(engine):
    with pytest.raises(StudyError) as exc:
        pact(EXAMPLE, {k: v for k, v in IDS.items() if k != "company.ids"}, engine=engine)
    assert exc.value.field == "company.ids"
    with pytest.raises(StudyError, match="not a URN"):
        pact(EXAMPLE, {**IDS, "product.ids": ["gtin:123"]}, engine=engine)
    with pytest.raises(StudyError, match="before reference_period_start"):
        pact(EXAMPLE, {**IDS, "product.reference_period_end": "2023-01-01"}, engine=engine)
    with pytest.raises(StudyError) as exc:                  # none given: every missing field named at once
        pact(EXAMPLE, engine=engine)
    assert exc.value.field == "company.name"
    assert str(exc.value).endswith("; also missing: company.ids, product.ids, product.reference_period_start, "
                                   "product.reference_period_end")


def test_cli_export_pact_writes_a_file(engine, tmp_path, capsys):
    study = tmp_path / "study.yaml"
    shutil.copy(EXAMPLE, study)
    args = ["export-pact", str(study), "--out", str(tmp_path / "pf.json")] + [
        a for k, v in IDS.items() for a in ("--set", f"{k}={json.dumps(v) if isinstance(v, list) else v}")]
    assert main(args) == 0
    pf = json.loads((tmp_path / "pf.json").read_text())
    ProductFootprint.model_validate(pf)
    assert main(["export-pact", str(study)]) == 2
    assert "company" in capsys.readouterr().err


def test_supplier_pact_v3_replaces_the_figure_exactly(engine, tmp_path):
    f = _write(tmp_path, _v3("9.5"))
    by_pact = footprint(EXAMPLE, {"suppliers.cam_nmc811.pact": str(f)}, engine=engine, details=False)
    by_number = footprint(EXAMPLE, {"suppliers.cam_nmc811.pcf_kg_co2e_per_kg": 9.5,
                                    "suppliers.cam_nmc811.source": "x"}, engine=engine, details=False)
    assert by_pact["kg_co2e_per_kwh"] == by_number["kg_co2e_per_kwh"]
    row = next(d for d in by_pact["datasets"] if d["id"] == "cam_nmc811")
    assert row["pact"]["dqi"] == {"technologicalDQR": 1.5, "geographicalDQR": 2.0, "temporalDQR": 1.0}
    assert row["pact"]["verification"] == "third-party verified"
    assert row["dqr"] == pytest.approx(pact_to_pef_dqr(1.5))           # mean 1.5 on PACT's 1-3 -> 2 on PEF's 1-5
    assert "PACT 3.0.0" in row["data"] and "third-party verified" in row["data"]
    assert row["reference_year"] == 2024 and "CAM Supplier Co" in row["sources"][0]
    # the export of a study with it counts the supplier's primary data and its own DQI
    pf = pact(EXAMPLE, {**IDS, "suppliers.cam_nmc811.pact": str(f)}, engine=engine, created=CREATED)
    assert float(pf["pcf"]["primaryDataShare"]) > 0


def test_supplier_pact_v2_and_api_response(engine, tmp_path):
    v2 = {"id": "3fa85f64-5717-4562-b3fc-2c963f66afa7", "specVersion": "2.2.0", "status": "Active",
          "companyName": "Old Supplier", "productNameCompany": "CAM",
          "pcf": {"declaredUnit": "kilogram", "unitaryProductAmount": "1", "pCfExcludingBiogenic": "11.25",
                  "referencePeriodEnd": "2023-12-31T00:00:00Z",
                  "dqi": {"coveragePercent": 80, "technologicalDQR": 2, "temporalDQR": 2, "geographicalDQR": 2,
                          "completenessDQR": 2, "reliabilityDQR": 2},
                  "assurance": {"assurance": False, "providerName": "n/a"}}}
    f = _write(tmp_path, {"data": [v2]})
    r = footprint(EXAMPLE, {"suppliers.cam_nmc811.pact": str(f)}, engine=engine, details=False)
    sup = next(s for s in r["suppliers"] if s["process"] == "cam_nmc811")
    assert sup["pcf_kg_co2e_per_kg"] == 11.25 and sup["verification"] == "self-declared" and sup["year"] == 2023
    assert sup["dqr"] == pytest.approx(3.0)


@pytest.mark.parametrize("doc, field, words", [
    (_v3(unit="liter"), "pcf.declaredUnitOfMeasurement", ["must be 'kilogram'", "'liter'"]),
    ({**_v3(), "pcf": {k: v for k, v in _v3()["pcf"].items() if k != "pcfExcludingBiogenicUptake"}},
     "pcf.pcfExcludingBiogenicUptake", ["required field is missing"]),
    (_v3(value="about 9"), "pcf.pcfExcludingBiogenicUptake", ["not a decimal number"]),
    (_v3(value="-2"), "pcf.pcfExcludingBiogenicUptake", ["between 0 and 1e+06"]),
    ({**_v3(), "specVersion": "1.0.0"}, "specVersion", ["2.x or 3.x"]),
    ({**_v3(), "status": "Deprecated"}, "status", ["Deprecated"]),
    (_v3(dqi={"technologicalDQR": "4", "geographicalDQR": "2", "temporalDQR": "1"}), "pcf.dqi.technologicalDQR",
     ["between 1 and 3"]),
    ('{"id": 1,', None, ["not valid JSON", "line 1"]),
])
def test_bad_supplier_pact_file_is_one_clear_message(tmp_path, capsys, doc, field, words):
    f = _write(tmp_path, doc, "bad-cam.json")
    expected = [str(f), *words] + ([f"field '{field}'"] if field else [])
    assert_user_error(tmp_path, capsys, {"suppliers.cam_nmc811.pact": str(f)}, "suppliers.cam_nmc811.pact", expected)


def test_supplier_pact_conflicts_and_missing_file(tmp_path, capsys):
    f = _write(tmp_path, _v3())
    assert_user_error(tmp_path, capsys, {"suppliers.cam_nmc811.pact": str(f),
                                         "suppliers.cam_nmc811.pcf_kg_co2e_per_kg": 3},
                      "suppliers.cam_nmc811.pact", ["not both"])
    assert_user_error(tmp_path, capsys, {"suppliers.cam_nmc811.pact": str(tmp_path / "nope.json")},
                      "suppliers.cam_nmc811.pact", ["nope.json", "file not found"])


def test_dqr_scales_map_end_to_end():
    assert pef_to_pact_dqr(1) == 1 and pef_to_pact_dqr(5) == 3 and pef_to_pact_dqr(3) == 2
    assert pact_to_pef_dqr(pef_to_pact_dqr(2.4)) == pytest.approx(2.4)


def test_manifest_hashes_the_supplier_pact_file(engine, tmp_path):
    from lca_battery.report.outputs import supplier_files
    f = _write(tmp_path, _v3())
    study = tmp_path / "study.yaml"
    study.write_text(EXAMPLE.read_text() + "\nsuppliers:\n  cam_nmc811:\n    pact: cam.json\n", encoding="utf-8")
    files = supplier_files(str(study), [])
    assert files == {"cam.json": hashlib.sha256(f.read_bytes()).hexdigest()}
    f.write_text(f.read_text(encoding="utf-8").replace("}", " }", 1), encoding="utf-8")     # the file changes
    assert supplier_files(str(study), [])["cam.json"] == hashlib.sha256(f.read_bytes()).hexdigest() != files["cam.json"]


def test_pact_comment_states_the_plant_electricity_accounting(engine):
    """The exported footprint says how the plant's electricity was counted and, where the other rule gives another
    figure (contracts), that figure; a supplier figure without a site is not given the default dataset's."""
    ppa = pact(EXAMPLE, {**IDS, "plant.electricity.contract": {"wind_onshore": 0.4},
                         "plant.electricity.rule": "iso14067"}, engine=engine, created=CREATED)
    assert "cell-plant electricity: ISO 14067" in ppa["comment"] and "under EU draft delegated act" in ppa["comment"]
    plain = pact(EXAMPLE, IDS, engine=engine, created=CREATED)
    assert "cell-plant electricity: EU draft delegated act" in plain["comment"] and "under " not in plain["comment"]
    sup = footprint(EXAMPLE, {"suppliers.cam_nmc811.pcf_kg_co2e_per_kg": 18.0,
                              "suppliers.cam_nmc811.source": "Supplier Y"}, engine=engine)
    (row,) = [t for t in sup["top_processes"] if t["id"] == "cam_nmc811"]
    assert row["location"] == "supplier's site not given"


def test_an_override_naming_a_file_by_its_absolute_path_is_written_relative(engine, tmp_path, capsys):
    """``--set suppliers.<id>.pact=/abs/path`` works, and the manifest holds the path relative to the study's folder
    (where the study resolves a relative one), not the machine's absolute path; verify re-runs it."""
    study = tmp_path / "s" / "study.yaml"
    study.parent.mkdir()
    shutil.copy(EXAMPLE, study)
    f = _write(tmp_path, _v3("9.5"), "supplier-cam.json")
    out = tmp_path / "out"
    assert main(["footprint", str(study), "--set", f"suppliers.cam_nmc811.pact={f}", "--out", str(out)]) == 0
    folder = next(out.iterdir())
    text = (folder / "manifest.json").read_text()
    assert str(tmp_path) not in text
    m = json.loads(text)
    assert m["rerun_inputs"]["set"] == ["suppliers.cam_nmc811.pact=../supplier-cam.json"]
    assert "suppliers.cam_nmc811.pact=../supplier-cam.json" in m["command"]
    capsys.readouterr()
    assert main(["verify", str(folder)]) == 0, capsys.readouterr()
