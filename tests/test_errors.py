"""Bad input: one clear message naming file and field, exit code 2, no traceback, nothing written."""
import shutil
from pathlib import Path

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
    (("capacity_ah: 60", "capacity_ah: -60"), "cell.capacity_ah", ["greater than or equal to 0.001"]),
    (("capacity_ah: 60", "capacity_ah: sixty"), "cell.capacity_ah", ["number"]),
    (("country: CN", "country: XX"), "plant.country", ["unknown country code 'XX'", "SE"]),
    (("  format: pouch", "  fromat: pouch"), "cell.fromat", ["unknown field 'fromat'", "format"]),
    (("cobalt: economic", "cobalt: energy"), "allocation.cobalt", ["unknown alternative", "mass"]),
    # a number written with its unit or a percent sign: what to write instead
    (("capacity_ah: 60", "capacity_ah: 60 Ah"), "cell.capacity_ah", ["write 60 (the field is in Ah"]),
    (("capacity_ah: 60", "capacity_ah: 60000 mAh"), "cell.capacity_ah", ["write the number in Ah", "'mAh'"]),
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


@pytest.mark.parametrize("argv, option", [
    (["compare", str(EXAMPLE), "--set", "plant.contry=SE", "--no-write"], "--set"),
    (["export-pact", str(EXAMPLE), "--set", "plant.contry=SE"], "--set"),
    (["export", str(EXAMPLE), "--format", "ab-scenarios", "--out", "x.csv", "--grid", "plant.contry=SE,PL"], "--grid"),
])
def test_every_command_names_the_option_of_an_unknown_key(engine, tmp_path, capsys, monkeypatch, argv, option):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and f"(in {option})" in err and "plant.country" in err


@pytest.mark.parametrize("argv", [["compare", str(EXAMPLE), "--steps", "2000"],
                                  ["report", str(EXAMPLE), "--out", "r", "--sobol-n", "100"],
                                  ["footprint"]])
def test_a_bad_option_value_is_one_line(tmp_path, capsys, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and len(err.strip().splitlines()) == 1 and "usage:" not in err
    assert "--help" in err


def test_uncertainty_json_names_its_folder(engine, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["uncertainty", str(EXAMPLE), "--samples", "50", "--json"]) == 0
    import json
    out = json.loads(capsys.readouterr().out)
    assert Path(out["results_dir"]).is_dir() and (Path(out["results_dir"]) / "uncertainty.json").is_file()


def test_unknown_set_choice(engine, tmp_path, capsys):
    code, err, out = run(["footprint", str(EXAMPLE), "--set", "supply.cobalt_route=x"], capsys, tmp_path)
    assert code == 2 and "supply.cobalt_route" in err and "supply.graphite" in err
    assert not out.exists()


def test_a_percent_in_a_share_and_a_folder_as_study(engine, tmp_path, capsys):
    code, err, _ = run(["footprint", str(EXAMPLE), "--set", "recycling.recycled_content.Co.post_consumer=16%"],
                       capsys, tmp_path)
    assert code == 2 and "0.16 for 16 %" in err and len(err.strip().splitlines()) == 1
    code, err, _ = run(["footprint", str(EXAMPLE.parent)], capsys, tmp_path)
    assert code == 2 and "is a folder, not a study file" in err


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
    import csv

    import openpyxl
    wb = openpyxl.load_workbook(folder / "footprint.xlsx", read_only=True)
    tables = sorted(p for p in folder.iterdir() if p.suffix == ".csv")
    # the workbook holds the summary and the same tables as the CSV files: same columns, same rows
    assert sorted(wb.sheetnames) == sorted(["summary", *(p.stem.replace("_", " ") for p in tables)])
    for p in tables:
        with p.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        sheet = [["" if v is None else v for v in r] for r in wb[p.stem.replace("_", " ")].iter_rows(values_only=True)]
        assert sheet[0] == rows[0], p.name
        assert len(sheet) == len(rows), p.name
        for a, b in zip(rows[1:], sheet[1:]):            # numbers to Excel's 15-16 digits; text as it is
            for x, y in zip(a, b):
                if isinstance(y, bool):
                    assert x == str(y), p.name
                elif isinstance(y, (int, float)):
                    assert float(x) == pytest.approx(y, rel=1e-15, abs=0), (p.name, x, y)
                else:
                    assert x == y, (p.name, x, y)


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
    ("materials/m.yaml", "    composition: {Co: 1.0}\n",
     "    composition: {Co: 1.0}\n    allocation: {basis: price, co_products: copper, reason: because}\n",
     ["materials/m.yaml", "metal_virgin", "allocation.basis 'price' unknown", "economic"]),
    ("materials/m.yaml", "    composition: {Co: 1.0}\n",
     "    composition: {Co: 1.0}\n    allocation: {basis: mass, co_products: copper}\n",
     ["materials/m.yaml", "metal_virgin", "allocation must map exactly", "reason"]),
    ("cells/c.yaml", "unit: kWh}", "unit: kWt}", ["cell_tiny", "unknown unit 'kWt'"]),
    ("materials/m.yaml", "source: handmade", "source: nobody2020", ["source 'nobody2020' is not in sources.yaml"]),
    # the cut-off log: every excluded flow needs its size, as a share in [0, 1] or a computed kg_co2e with its basis
    ("materials/m.yaml", "composition: {Co: 1.0}\n    exchanges:\n      - {biosphere",
     "composition: {Co: 1.0}\n    excluded:\n      - {flow: ore haulage, share: 1.5, reason: none}\n    exchanges:\n"
     "      - {biosphere", ["metal_virgin", "excluded #1", "share must be a number in [0, 1]", "1.5"]),
    ("materials/m.yaml", "composition: {Co: 1.0}\n    exchanges:\n      - {biosphere",
     "composition: {Co: 1.0}\n    excluded:\n      - {flow: ore haulage, kg_co2e: 0.2, reason: no data}\n"
     "    exchanges:\n      - {biosphere", ["metal_virgin", "excluded #1", "kg_co2e needs its 'basis'"]),
    ("materials/m.yaml", "composition: {Co: 1.0}\n    exchanges:\n      - {biosphere",
     "composition: {Co: 1.0}\n    excluded:\n      - {flow: ore haulage, shares: 0.1, reason: no data}\n"
     "    exchanges:\n      - {biosphere", ["excluded #1", "unknown field(s) ['shares']", "not neither"]),
])
def test_bad_inventory(tmp_path, capsys, file, old, new, words):
    root = broken_inventory(tmp_path, file, old, new)
    code = main(["check-inventories", "--inventories", str(root)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    for w in words:
        assert w in err, err


@pytest.mark.parametrize("old, new, words", [
    # a co-product credited as a material must say how it compares with it (an end-of-life credit's upper bound)
    ("        grade: crude\n", "", ["recycling/routes.yaml", "lithium_carbonate_recycled_hydro", "needs a grade",
                                   "substitute_grade, crude, scrap, not_stated", "got None"]),
    ("        grade: crude\n", "        grade: battery\n", ["lithium_carbonate_recycled_hydro", "needs a grade",
                                                           "got 'battery'"]),
])
def test_coproduct_grade_is_checked(tmp_path, capsys, old, new, words):
    root = tmp_path / "inv"
    shutil.copytree(Path(__file__).resolve().parent.parent / "inventories", root)
    p = root / "recycling" / "routes.yaml"
    text = p.read_text()
    i = text.index("      - id: lithium_carbonate_recycled_hydro\n")
    assert old in text[i:]
    p.write_text(text[:i] + text[i:].replace(old, new, 1))
    code = main(["check-inventories", "--inventories", str(root)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    for w in words:
        assert w in err, err


def _tiny_footprint(root, tmp_path, capsys, monkeypatch):
    """``footprint`` of the tiny study on the inventories at ``root``: (exit code, stderr, results folder)."""
    monkeypatch.setenv("LCA_BATTERY_INVENTORIES", str(root))
    study = tmp_path / "tiny.yaml"
    study.write_text("cell: {chemistry: tiny, capacity_ah: 50, nominal_voltage_v: 4}\nplant: {country: CN}\n")
    out = tmp_path / "results"
    code = main(["footprint", str(study), "--out", str(out)])
    return code, capsys.readouterr().err, out


def test_footprint_with_a_broken_inventory_writes_nothing(tmp_path, capsys, monkeypatch):
    root = broken_inventory(tmp_path, "materials/m.yaml", "{input: electricity_grid_cn, amount: 0.5, unit: kWh}",
                            "{input: electricity_grid_cn, amount: 0.5, unit: kg}")
    code, err, out = _tiny_footprint(root, tmp_path, capsys, monkeypatch)
    assert code == 2 and "unit mismatch" in err and "materials/m.yaml" in err and "Traceback" not in err
    assert not out.exists()


# ---------------------------------------------------------------- source hygiene (issue 7)

def _tiny_with_source(tmp_path, **fields):
    """The tiny inventory with its 'handmade' source entry changed by ``fields``."""
    import yaml
    root = tmp_path / "inv"
    shutil.copytree(TINY, root)
    p = root / "sources.yaml"
    data = yaml.safe_load(p.read_text())
    data["handmade"].update(fields)
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return root


@pytest.mark.parametrize("fields, field, words", [
    ({"table": "Table 3, about 4 (check)"}, "table", ["'check'"]),
    ({"title": "Some report (unverified)"}, "title", ["'unverified'"]),
    ({"author": "Someone, to be confirmed"}, "author", ["'to be confirmed'"]),
    ({"table": "Table 2; TODO read the PDF"}, "table", ["'TODO'"]),
    ({"table": "cell footprints 41-89 kg CO2e/kWh"}, "table", ["names no table, figure, sheet, page"]),
])
def test_unsettled_source_is_refused(tmp_path, capsys, fields, field, words):
    root = _tiny_with_source(tmp_path, **fields)
    code = main(["check-inventories", "--inventories", str(root)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    lines = [ln for ln in err.splitlines() if "source 'handmade'" in ln]
    assert len(lines) == 1, err                      # one clear line per problem
    assert f"field '{field}'" in lines[0]
    for w in words:
        assert w in lines[0], err


@pytest.mark.parametrize("fields, field, words", [
    ({"author": "not shown on the indexed abstract page"}, "author", ["'not shown'"]),
    ({"author": "authors as listed in the DOI record 10.1/x"}, "author", ["'authors as listed'"]),
    ({"author": "Unknown"}, "author", ["'Unknown'"]),
    ({"author": "anonymous reviewer"}, "author", ["'anonym'"]),
    ({"author": "teardown of a prismatic cell, as summarised by an article"}, "author", ["describes the source"]),
    ({"year": "n.d. (publication year not shown)"}, "year", ["year of publication"]),
    ({"year": 20}, "year", ["year of publication"]),
    ({"year": "2019"}, "year", ["year of publication"]),
])
def test_source_without_author_or_year_is_refused(tmp_path, capsys, fields, field, words):
    """Issue 7: every source names its author(s) and year; a placeholder or a description is refused."""
    root = _tiny_with_source(tmp_path, **fields)
    code = main(["check-inventories", "--inventories", str(root)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    lines = [ln for ln in err.splitlines() if "source 'handmade'" in ln]
    assert len(lines) == 1, err
    assert f"field '{field}'" in lines[0]
    for w in words:
        assert w in lines[0], err


@pytest.mark.parametrize("author", ["Ember", "lca_battery developers", "lithium-chemical.com (industry article)",
                                    "Wensheng, L., Zuohua, L. and Miller, J. D.", "IPCC (Gómez, D.R. et al.)"])
def test_named_authors_pass(tmp_path, capsys, author):
    root = _tiny_with_source(tmp_path, author=author, year=2016)
    assert main(["check-inventories", "--inventories", str(root)]) == 0, capsys.readouterr().err


def test_shipped_sources_name_author_and_year():
    """Every entry of the shipped sources.yaml (and of the test supplier file) names its author(s) and year."""
    import yaml
    from lca_battery.inventory.loader import _anonymous, default_root
    data = yaml.safe_load((default_root() / "sources.yaml").read_text())
    supplier = yaml.safe_load((Path(__file__).parent / "data" / "supplier" / "cam_supplier_x.yaml").read_text())
    data.update(supplier["sources"])
    problems = [p for key, entry in data.items() for p in _anonymous(entry, key)]
    assert not problems, "\n".join(problems)
    for gone in ("pvdf_lca_abstract", "cp_audit_emm_2018", "tesla_m3_lfp_teardown"):
        assert gone not in data


def test_settled_source_passes(tmp_path, capsys):
    root = _tiny_with_source(tmp_path, table="Table 3 (cross-check of Fig. 2 done by the authors)")
    assert main(["check-inventories", "--inventories", str(root)]) == 0, capsys.readouterr().err


def test_footprint_refuses_an_unsettled_source(tmp_path, capsys, monkeypatch):
    root = _tiny_with_source(tmp_path, table="p. 4, value to be confirmed")
    code, err, out = _tiny_footprint(root, tmp_path, capsys, monkeypatch)
    assert code == 2 and "source 'handmade'" in err and "to be confirmed" in err and not out.exists()


def test_shipped_sources_are_settled():
    """Every entry of the shipped sources.yaml names where its numbers are and nothing is left to check."""
    import yaml
    from lca_battery.inventory.loader import _unsettled, default_root
    data = yaml.safe_load((default_root() / "sources.yaml").read_text())
    problems = [p for key, entry in data.items() for p in _unsettled(entry, key)]
    assert not problems, "\n".join(problems)
    assert data["xu2022"]["title"].startswith("Future greenhouse gas emissions of automotive lithium-ion battery "
                                              "cell production")


def test_check_inventories_says_when_it_checked_the_brightway_project(engine, capsys):
    assert main(["check-inventories"]) == 0
    plain = capsys.readouterr().out
    assert main(["check-inventories", "--brightway"]) == 0
    bw = capsys.readouterr().out
    assert "Brightway" not in plain and "Brightway project" in bw and "lcab-materials" in bw
