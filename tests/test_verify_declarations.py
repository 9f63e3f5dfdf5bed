"""Issue 8 (points 3, 4, 6, 7): `verify`, passport and declaration against their schemas, rules,
supplier credit, scope, parameters with zeros, no absolute path in any output."""
import json
import shutil
import zipfile

import pytest

from conftest import EXAMPLE, ROOT, assert_user_error
from lca_battery.api import footprint
from lca_battery.cli import main
from lca_battery.report.passport import validate

LIFE = {"declaration.vehicle_category": "M1", "declaration.service_life_years": 10,
        "declaration.justification": "manufacturer warranty, 10 years",
        "declaration.study_url": "https://example.org/study.pdf"}
SUPPLIER = {"suppliers.cam_nmc811.pcf_kg_co2e_per_kg": 12.0, "suppliers.cam_nmc811.source": "Supplier X PCF 2025",
            "suppliers.cam_nmc811.year": 2025, "suppliers.cam_nmc811.dqr": 1.8,
            "suppliers.cam_nmc811.location": "KR", "suppliers.cam_nmc811.verification": "third-party verified"}


def _all_text(folder):
    for f in sorted(folder.iterdir()):
        if f.suffix == ".xlsx":
            with zipfile.ZipFile(f) as z:
                for n in z.namelist():
                    yield f"{f.name}:{n}", z.read(n).decode("utf-8", "replace")
        else:
            yield f.name, f.read_bytes().decode("utf-8", "replace")


@pytest.fixture(scope="module")
def run(engine, tmp_path_factory):
    """A results folder from a study copied into the temporary folder."""
    tmp = tmp_path_factory.mktemp("verify")
    study = tmp / "study.yaml"
    shutil.copy(EXAMPLE, study)
    assert main(["footprint", str(study), "--out", str(tmp / "results")]) == 0
    return tmp, study, tmp / "results" / "study"


def test_no_absolute_path_in_any_output(run):
    tmp, _, folder = run
    for name, text in _all_text(folder):
        assert str(tmp) not in text and str(ROOT) not in text, name
    m = json.loads((folder / "manifest.json").read_text())
    assert m["study_file"] == "../../study.yaml" and m["lca_battery"] and "git" in m
    assert m["rerun_inputs"]["inventory_files"]["sources.yaml"]
    assert json.loads((folder / "summary.json").read_text())["inventory"]["root"] == "shipped"


def test_verify_passes_on_a_fresh_run(run, capsys):
    assert main(["verify", str(run[2])]) == 0
    out = capsys.readouterr().out
    assert "verified: every number matches" in out and "OK   summary.json" in out
    # a footprint folder: every file re-run and compared (none checked by hash only), as before report folders
    m = json.loads((run[2] / "manifest.json").read_text())
    assert m["rerun_inputs"]["subcommand"] == "footprint" and "hash only" not in out
    for name in m["files"]:
        line, = [x for x in out.splitlines() if f" {name} " in x]
        assert line.lstrip().startswith("OK") and ("identical" in line or "every number matches" in line), line


def test_verify_fails_naming_a_changed_inventory(run, tmp_path, monkeypatch, capsys):
    inv = tmp_path / "inventories"
    shutil.copytree(ROOT / "inventories", inv)
    target = sorted(inv.rglob("*.yaml"))[3]
    target.write_text(target.read_text() + "\n# changed\n")
    monkeypatch.setenv("LCA_BATTERY_INVENTORIES", str(inv))
    assert main(["verify", str(run[2])]) == 1
    out = capsys.readouterr().out
    rel = target.relative_to(inv).as_posix()
    assert f"FAIL inventories/{rel}" in out and "inventory changed" in out and "NOT verified" in out


def test_verify_fails_naming_a_changed_study_or_output(run, capsys):
    tmp, study, folder = run
    copy = tmp / "copy"
    shutil.copytree(folder.parent, copy)
    (copy / "study" / "summary.json").write_text("{}\n")
    assert main(["verify", str(copy / "study")]) == 1
    assert "FAIL summary.json" in capsys.readouterr().out
    original = study.read_text()
    try:
        study.write_text(original.replace("capacity_ah: 60", "capacity_ah: 61"))
        assert main(["verify", str(folder)]) == 1
        out = capsys.readouterr().out
        assert "FAIL ../../study.yaml" in out and "study changed" in out
    finally:
        study.write_text(original)


def test_verify_refuses_a_folder_without_manifest(tmp_path, capsys):
    assert main(["verify", str(tmp_path)]) == 2
    assert "no manifest.json" in capsys.readouterr().err


def test_passport_validates_against_the_battery_pass_schemas(engine):
    r = footprint(EXAMPLE, {**LIFE, "recycling.recycled_content": {"Co": {"post_consumer": 0.16}}}, engine=engine,
                  details=False)
    p = r["passport"]
    assert validate(p, "CarbonFootprintForBatteries") == []
    assert validate(p, "Circularity", engine_fields_only=True) == []
    cf = p["CarbonFootprintForBatteries"]
    assert isinstance(cf["batteryCarbonFootprint"], float)
    assert cf["batteryCarbonFootprint"] == pytest.approx(r["declaration"]["kg_co2e_per_kwh_e_total"], rel=1e-12)
    assert sum(s["carbonFootprint"] for s in cf["carbonFootprintPerLifecycleStage"]) == pytest.approx(
        cf["batteryCarbonFootprint"], rel=1e-9)
    co = next(c for c in p["Circularity"]["recycledContent"] if c["recycledMaterial"] == "Cobalt")
    assert co == {"recycledMaterial": "Cobalt", "preConsumerShare": 0.0, "postConsumerShare": pytest.approx(16.0)}
    assert "renewableContent" in p["Circularity"]
    # the battery-level Circularity fields are not the engine's: listed, and the full schema says so
    assert any("required property" in e for e in validate(p, "Circularity"))
    assert len(p["lcaBatteryExtras"]["missingRequired"]["Circularity"]) == 4


def test_passport_without_service_life_does_not_validate_and_says_why(default_result):
    p = default_result["passport"]
    errors = validate(p, "CarbonFootprintForBatteries")
    assert any("batteryCarbonFootprint" in e for e in errors)
    missing = p["lcaBatteryExtras"]["missingRequired"]["CarbonFootprintForBatteries"]
    assert any(m.startswith("batteryCarbonFootprint:") for m in missing)
    assert any(m.startswith("carbonFootprintStudy:") for m in missing)


def test_declaration_fields_label_and_missing(engine, default_result):
    d = default_result["declaration"]
    assert d["declared_object"] == "cell" and "not a battery" in d["declared_object_note"]
    assert d["performance_class"]["value"] == "not yet defined" and "delegated act" in d["performance_class"]["reason"]
    assert "eu_declaration_of_conformity_number" in d and d["eu_declaration_of_conformity_number"] is None
    assert d["label"] == "partial carbon footprint (cradle-to-gate), ISO 14067"
    text = " ".join(d["missing"])
    for words in ("declaration of conformity", "distribution stage", "end-of-life", "cathode", "battery-level"):
        assert words in text, words
    full = footprint(EXAMPLE, {**LIFE, "declaration.eu_declaration_of_conformity_number": "DoC-2026-001",
                               "declaration.manufacturer": "X"}, engine=engine, details=False)["declaration"]
    assert full["eu_declaration_of_conformity_number"] == "DoC-2026-001"
    assert not any("declaration of conformity" in m or m.startswith("manufacturer") for m in full["missing"])
    # no rule set chosen: said in the regulation field and the missing list (not a hard-coded 'draft rules' label)
    assert "no rule set chosen" in d["regulation"] and any(m.startswith("a named rule set") for m in d["missing"])
    # the cell plant's energy: a published plant stands in until the company's measured figures are given
    assert any(m.startswith("company-specific cell plant energy") and "degen_schutte" in m for m in d["missing"])
    measured = footprint(EXAMPLE, {"plant.electricity_kwh_per_kwh_cell": 25.0, "plant.heat_mj_per_kwh_cell": 40.0},
                         engine=engine, details=False)["declaration"]
    assert not any(m.startswith("company-specific cell plant energy") for m in measured["missing"])
    eol = footprint(EXAMPLE, {"recycling.accounting": "avoided_burden", "recycling.eol_collection_rate": 0.9},
                    engine=engine, details=False)
    assert "cradle-to-gate" not in eol["declaration"]["label"].replace("not cradle-to-gate", "")
    assert "not cradle-to-gate" in eol["label"]


def test_rules_pin_switches_and_list_non_conformities(engine, tmp_path, capsys):
    r = footprint(EXAMPLE, {"rules": "eu_cfb_2024_draft", "method": "ef31",
                            "recycling.recycled_content": {"Co": {"post_consumer": 0.16}}}, engine=engine,
                  details=False)
    rules = r["rules"]
    assert "rule set: EU carbon footprint of EV batteries" in r["declaration"]["regulation"]
    assert not any(m.startswith("a named rule set") for m in r["declaration"]["missing"])
    assert rules["pinned"] == {"method": "ef31", "plant.electricity.rule": "eu_delegated_act",
                               "recycling.accounting": "cff"}
    assert r["recycling"]["accounting"] == "cff" and r["plant"]["electricity_rule"] == "eu_delegated_act"
    text = " | ".join(rules["non_conformities"])
    for comp in ("cathode", "anode", "electrolyte", "separator", "casing"):
        assert f"mandatory for the {comp}" in text
    assert "EF 3.1" in text and "without chain-of-custody evidence" in text and not rules["conforms"]
    ok = footprint(EXAMPLE, {"rules": "eu_cfb_2024_draft", "method": "ef31", **SUPPLIER,
                             "recycling.recycled_content": {"Co": {"post_consumer": 0.16}},
                             "recycling.chain_of_custody_evidence": "certificate 123"}, engine=engine, details=False)
    text = " | ".join(ok["rules"]["non_conformities"])
    assert "for the cathode" not in text and "chain-of-custody" not in text
    # a supplier figure without a data-quality rating is named (its share is outside the weighted DQR)
    assert ("without a data-quality rating" in text) is (SUPPLIER.get("suppliers.cam_nmc811.dqr") is None)
    no_dqr = footprint(EXAMPLE, {"rules": "iso14067", "suppliers.cam_nmc811.pcf_kg_co2e_per_kg": 12.0,
                                 "suppliers.cam_nmc811.source": "Supplier X"}, engine=engine, details=False)
    assert any("without a data-quality rating (suppliers.<id>.dqr): cam_nmc811" in n
               for n in no_dqr["rules"]["non_conformities"])
    iso = footprint(EXAMPLE, {"rules": "iso14067"}, engine=engine, details=False)["rules"]
    assert iso["pinned"]["plant.electricity.rule"] == "iso14067"
    assert not any("EF 3.1" in n for n in iso["non_conformities"])
    assert_user_error(tmp_path, capsys, {"rules": "eu_cfb_2024_draft"}, "method", ["fix this to 'ef31'"])


def test_bad_supplier_scope_is_a_clear_error(tmp_path, capsys):
    assert_user_error(tmp_path, capsys, {"suppliers.cam_nmc811.pcf_kg_co2e_per_kg": 12,
                                         "suppliers.cam_nmc811.source": "x", "suppliers.cam_nmc811.scope": "banana"},
                      "suppliers.cam_nmc811.scope", ["must be 'cradle-to-gate'", "banana"])


def test_supplier_data_credited_to_the_supplier(engine, default_result):
    r = footprint(EXAMPLE, SUPPLIER, engine=engine)
    row = next(p for p in r["processes"] if p["id"] == "cam_nmc811")
    assert row["source"] == "Supplier X PCF 2025 (2025)" and row["dqr"] == 1.8 and row["location"] == "KR"
    assert row["data"] == "supplier PCF, third-party verified"
    ds = next(d for d in r["datasets"] if d["id"] == "cam_nmc811")
    assert ds["dqr"] == 1.8 and ds["sources"] == ["Supplier X PCF 2025"] and ds["location"] == "KR"
    rows = [p for p in r["processes"] if p["dqr"] is not None]
    w = sum(abs(p["kg_co2e"]) for p in rows)
    assert r["dqr_weighted"] == pytest.approx(sum(abs(p["kg_co2e"]) * p["dqr"] for p in rows) / w, rel=1e-12)
    top = next(t for t in r["top_processes"] if t["id"] == "cam_nmc811")
    assert top["supplier_source"] == row["source"]


def test_supplier_replaced_downstream_is_reported_unused(engine):
    r = footprint(EXAMPLE, {**SUPPLIER, "suppliers.pcam_nmc811.pcf_kg_co2e_per_kg": 5.0,
                            "suppliers.pcam_nmc811.source": "pCAM supplier"}, engine=engine, details=False)
    by = {s["process"]: s for s in r["suppliers"]}
    assert by["cam_nmc811"]["used"] and not by["pcam_nmc811"]["used"]
    assert any("supplier data for pcam_nmc811 unused" in n for n in r["notes"])
    assert not any(d["id"] == "pcam_nmc811" for d in r["datasets"])


def test_parameters_include_entries_set_to_zero(engine):
    r = footprint(EXAMPLE, SUPPLIER, engine=engine, details=False)
    zeros = [p for p in r["parameters"] if p["amount"] == 0 and p["output"] == "cam_nmc811"]
    assert zeros and all(p["parameter"] == "suppliers.cam_nmc811.pcf_kg_co2e_per_kg" for p in zeros)


def test_verify_with_a_supplier_file_fails_naming_it_when_changed(engine, tmp_path, capsys):
    shutil.copy(ROOT / "tests" / "data" / "supplier" / "cam_supplier_x.yaml", tmp_path / "cam_supplier_x.yaml")
    study = tmp_path / "study.yaml"
    study.write_text(EXAMPLE.read_text() + "\nsuppliers:\n  cam_nmc811:\n    inventory: cam_supplier_x.yaml\n"
                     "    process: supplier_x_cam_nmc811\n")
    assert main(["footprint", str(study), "--out", str(tmp_path / "r")]) == 0
    folder = tmp_path / "r" / "study"
    m = json.loads((folder / "manifest.json").read_text())
    assert list(m["rerun_inputs"]["supplier_files"]) == ["cam_supplier_x.yaml"]
    for name, text in _all_text(folder):
        assert str(tmp_path) not in text, name
    capsys.readouterr()
    assert main(["verify", str(folder)]) == 0
    f = tmp_path / "cam_supplier_x.yaml"
    f.write_text(f.read_text() + "\n# changed\n")
    assert main(["verify", str(folder)]) == 1
    assert "FAIL supplier file cam_supplier_x.yaml" in capsys.readouterr().out


def test_verify_names_the_code_that_wrote_the_folder(run, tmp_path, monkeypatch, capsys):
    """The manifest records the code (version, git commit, SHA-256 over the package's code); a folder
    re-run by other code passes when every number matches and says which code wrote it; when numbers
    differ with unchanged inputs, verify lays the difference to the code and says how to reproduce it."""
    import lca_battery.report.verify as verify
    from lca_battery.report.outputs import code_sha256
    folder = run[2]
    m = json.loads((folder / "manifest.json").read_text())
    assert m["code_sha256"] == code_sha256() and len(m["code_sha256"]) == 64
    copy = tmp_path / "other" / "study"
    shutil.copytree(folder, copy)
    shutil.copy(run[1], tmp_path / "study.yaml")      # the study where the manifest's relative path looks
    m["code_sha256"], m["git"] = "0" * 64, {"commit": "abc1234def" + "0" * 30, "uncommitted_changes": False}
    (copy / "manifest.json").write_text(json.dumps(m))
    assert main(["verify", str(copy)]) == 0
    out = capsys.readouterr().out
    line, = [x for x in out.splitlines() if " code " in x]
    assert line.lstrip().startswith("OK") and "commit abc1234def" in line and "code 000000000000" in line
    assert "every number still matches" in line
    real = verify._compare_file
    monkeypatch.setattr(verify, "_compare_file", lambda old, new: (False, "numbers differ: stand-in")
                        if old.name == "summary.json" else real(old, new))
    assert main(["verify", str(copy)]) == 1
    out = capsys.readouterr().out
    line, = [x for x in out.splitlines() if " code " in x]
    assert line.lstrip().startswith("FAIL") and "may come from the code" in line and "git checkout abc1234def" in line
    assert main(["verify", str(folder)]) == 1           # the same code: the difference is not laid to it
    out = capsys.readouterr().out
    assert "FAIL summary.json" in out and not [x for x in out.splitlines() if " code " in x]


def test_verify_a_folder_of_another_version(run, tmp_path, capsys):
    """A folder written by another version (its shipped inventories and its code differ from the ones re-running
    it): verify names the changed inventory files and says the folder is of another version, with the commit to
    check out; nothing is re-run."""
    folder = run[2]
    m = json.loads((folder / "manifest.json").read_text())
    copy = tmp_path / "other" / "study"
    shutil.copytree(folder, copy)
    shutil.copy(run[1], tmp_path / "study.yaml")
    m["rerun_inputs"]["inventory_files"]["sources.yaml"] = "0" * 64          # that version's sources.yaml
    m["code_sha256"] = "0" * 64                                                # that version's code
    m["git"] = {"commit": "7543015c94" + "0" * 30, "uncommitted_changes": False}
    (copy / "manifest.json").write_text(json.dumps(m))
    assert main(["verify", str(copy)]) == 1
    out = capsys.readouterr().out
    assert "FAIL inventories/sources.yaml" in out and "OK   inputs" not in out
    line, = [x for x in out.splitlines() if " code " in x]
    assert line.lstrip().startswith("FAIL") and "another version" in line and "git checkout 7543015c94" in line
    assert "other code" in line
    m.pop("code_sha256"), m.pop("git")        # a manifest of before the field, written outside a git checkout
    (copy / "manifest.json").write_text(json.dumps(m))
    assert main(["verify", str(copy)]) == 1
    line, = [x for x in capsys.readouterr().out.splitlines() if " code " in x]
    assert "code not comparable" in line and "install lca_battery" in line


def test_a_file_differing_only_in_its_software_record_is_called_identical_but_for_it(tmp_path):
    """A summary written by the warm path and re-run through bw2calc differs in the solver's name only: verify says
    so instead of 'text differs'; any other difference is still named."""
    from lca_battery.report.verify import _compare_file
    base = {"kg_co2e_per_kwh": 98.15, "stages": {"main_production": 16.28}}
    a, b, c = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    a.write_text(json.dumps({**base, "software": {"solver": "lca_battery.warm"}}))
    b.write_text(json.dumps({**base, "software": {"solver": "bw2calc"}}))
    c.write_text(json.dumps({**base, "study": "x", "software": {"solver": "bw2calc"}}))
    assert _compare_file(a, b) == (True, "identical but for the software record (solver, versions)")
    ok, detail = _compare_file(a, c)
    assert not ok and "study" in detail
