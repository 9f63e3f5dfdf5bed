"""Bad input: one clear message naming file and field, exit code 2, no traceback, nothing written."""
import shutil

import pytest

from conftest import EXAMPLE, TINY
from lca_battery.cli import main


def run(argv, capsys, tmp_path):
    out = tmp_path / "results"
    code = main([*argv, "--out", str(out)] if argv[0] == "footprint" else argv)
    cap = capsys.readouterr()
    return code, cap.err, out


def write_study(tmp_path, text):
    p = tmp_path / "study.yaml"
    p.write_text(text)
    return p


BASE = EXAMPLE.read_text()


@pytest.mark.parametrize("edit, field, words", [
    (("chemistry: NMC811", "chemistry: NMC999"), "cell.chemistry", ["unknown chemistry", "NMC811"]),
    (("capacity_ah: 60", "capacity_ah: -60"), "cell.capacity_ah", ["greater than 0"]),
    (("capacity_ah: 60", "capacity_ah: sixty"), "cell.capacity_ah", ["number"]),
    (("country: CN", "country: XX"), "plant.country", ["unknown country code 'XX'", "SE"]),
    (("  format: pouch", "  fromat: pouch"), "cell.fromat", ["unknown field 'fromat'", "format"]),
    (("cobalt: economic", "cobalt: energy"), "allocation.cobalt", ["unknown alternative", "mass"]),
])
def test_bad_study(engine, tmp_path, capsys, edit, field, words):
    study = write_study(tmp_path, BASE.replace(*edit))
    code, err, out = run(["footprint", str(study)], capsys, tmp_path)
    assert code == 2
    assert "Traceback" not in err
    assert str(study) in err and f"'{field}'" in err
    for w in words:
        assert w in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists() or not any(out.iterdir())


def test_unknown_set_key(engine, tmp_path, capsys):
    code, err, out = run(["footprint", str(EXAMPLE), "--set", "plant.contry=SE"], capsys, tmp_path)
    assert code == 2 and "unknown key 'plant.contry'" in err and "plant.country" in err
    assert not out.exists()


def test_unknown_set_choice(engine, tmp_path, capsys):
    code, err, out = run(["footprint", str(EXAMPLE), "--set", "supply.cobalt_route=x"], capsys, tmp_path)
    assert code == 2 and "supply.cobalt_route" in err and "supply.graphite" in err
    assert not out.exists()


def test_missing_study_file(tmp_path, capsys):
    code, err, out = run(["footprint", str(tmp_path / "nope.yaml")], capsys, tmp_path)
    assert code == 2 and "study file not found" in err and not out.exists()


def test_good_run_writes_results(engine, tmp_path, capsys):
    code, err, out = run(["footprint", str(EXAMPLE)], capsys, tmp_path)
    assert code == 0
    (folder,) = list(out.iterdir())
    names = {p.name for p in folder.iterdir()}
    assert {"summary.json", "stages.csv", "processes.csv", "materials.csv", "manifest.json", "footprint.xlsx",
            "footprint.png", "declaration.json", "passport.json"} <= names
    import openpyxl
    wb = openpyxl.load_workbook(folder / "footprint.xlsx", read_only=True)
    assert {"summary", "stages", "processes", "datasets", "mass balance"} <= set(wb.sheetnames)


def test_json_output_fields(engine, tmp_path, capsys):
    import json
    code = main(["footprint", str(EXAMPLE), "--json", "--no-write"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    for key in ("kg_co2e_per_kwh", "kg_co2e_per_cell", "kg_co2e_per_kg", "stages", "gases", "top_processes",
                "cobalt_kg_per_kwh", "method", "inventory"):
        assert key in data
    assert set(data["gases"]) == {"fossil", "biogenic", "land_use_change"}
    assert {"name", "kg_co2e_per_kwh", "share"} <= set(data["top_processes"][0])


# ---------------------------------------------------------------- inventory errors

def broken_inventory(tmp_path, file, old, new):
    root = tmp_path / "inv"
    shutil.copytree(TINY, root)
    p = root / file
    text = p.read_text()
    assert old in text
    p.write_text(text.replace(old, new, 1))
    return root


@pytest.mark.parametrize("file, old, new, words", [
    ("materials/m.yaml", "{input: electricity_grid_cn, amount: 0.5, unit: kWh}",
     "{input: electricity_grid_cn, amount: 0.5, unit: kg}",
     ["materials/m.yaml", "metal_virgin", "electricity_grid_cn", "unit mismatch", "'kg'", "'kWh'"]),
    ("materials/m.yaml", "    source: handmade\n    dqr: {TeR: 2, GeR: 2, TiR: 2, P: 2}\n    composition: {Co: 1.0}\n"
     "    exchanges:\n      - {biosphere: \"Carbon dioxide, fossil\", amount: 10, unit: kg}",
     "    dqr: {TeR: 2, GeR: 2, TiR: 2, P: 2}\n    composition: {Co: 1.0}\n"
     "    exchanges:\n      - {biosphere: \"Carbon dioxide, fossil\", amount: 10, unit: kg}",
     ["materials/m.yaml", "metal_virgin", "has no source"]),
    ("materials/m.yaml", "amount: 0.8, unit: kg}", "amout: 0.8, unit: kg}",
     ["cam_tiny", "unknown field(s) ['amout']"]),
    ("cells/c.yaml", "unit: kWh}", "unit: kWt}", ["cell_tiny", "unknown unit 'kWt'"]),
    ("materials/m.yaml", "source: handmade", "source: nobody2020", ["source 'nobody2020' is not in sources.yaml"]),
])
def test_bad_inventory(tmp_path, capsys, file, old, new, words):
    root = broken_inventory(tmp_path, file, old, new)
    code = main(["check-inventories", "--inventories", str(root)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    for w in words:
        assert w in err, err


def test_footprint_with_a_broken_inventory_writes_nothing(tmp_path, capsys, monkeypatch):
    root = broken_inventory(tmp_path, "materials/m.yaml", "{input: electricity_grid_cn, amount: 0.5, unit: kWh}",
                            "{input: electricity_grid_cn, amount: 0.5, unit: kg}")
    monkeypatch.setenv("LCA_BATTERY_INVENTORIES", str(root))
    study = tmp_path / "tiny.yaml"
    study.write_text("cell: {chemistry: tiny, capacity_ah: 50, nominal_voltage_v: 4}\nplant: {country: CN}\n")
    out = tmp_path / "results"
    code = main(["footprint", str(study), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "unit mismatch" in err and "materials/m.yaml" in err and "Traceback" not in err
    assert not out.exists()
