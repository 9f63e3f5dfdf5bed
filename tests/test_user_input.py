"""User mistakes found by feeding the command line malformed input: each is one message naming the file or
option and the field, exit 2, no traceback, nothing written (before, each ended as an internal error, a hang or
a silently wrong number)."""
from __future__ import annotations

import json
import shutil
import socket
import threading
import time

import pytest

from conftest import EXAMPLE, tiny_variant
from lca_battery.cli import main
from lca_battery.errors import InventoryError, LcaBatteryError, UnitError


def _user_error(capsys, args, *words, out=None):
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err, err
    for w in words:
        assert w in err, err
    if out is not None:
        assert not out.exists()
    return err


# ------------------------------------------------------------------------------------------ YAML scalars

def test_yaml_keeps_country_codes_and_date_like_text():
    """YAML 1.1 reads NO (Norway) as false and 2024-02-30 as a date that cannot exist; the loader reads both as
    text, keeps true/false and numbers."""
    from lca_battery.inventory.loader import read_yaml_text
    got = read_yaml_text("a: NO\nb: 2024-02-30\nc: true\nd: no\ne: 1.5\nf: 2024-01-01\ng: False\nh: ~\ni: 12")
    assert got == {"a": "NO", "b": "2024-02-30", "c": True, "d": "no", "e": 1.5, "f": "2024-01-01", "g": False,
                   "h": None, "i": 12}


def test_norway_as_a_plant_country(engine, capsys):
    assert main(["footprint", str(EXAMPLE), "--set", "plant.country=NO", "--json", "--no-write"]) == 0
    assert json.loads(capsys.readouterr().out)["plant_country"] == "NO"


def test_an_impossible_date_is_the_fields_error(tmp_path, capsys):
    study = tmp_path / "date.yaml"
    study.write_text(EXAMPLE.read_text() + "\nproduct:\n  reference_period_start: 2024-02-30\n"
                     "  reference_period_end: 2024-12-31\n")
    _user_error(capsys, ["footprint", str(study), "--out", str(tmp_path / "r")], "date.yaml",
                "'product.reference_period_start'", "2024-02-30", out=tmp_path / "r")
    _user_error(capsys, ["footprint", str(EXAMPLE), "--set", "product.reference_period_start=2024-13-45",
                         "--set", "product.reference_period_end=2024-12-31", "--out", str(tmp_path / "r")],
                "'product.reference_period_start'", out=tmp_path / "r")


def test_a_date_like_amount_in_an_inventory(tmp_path):
    from lca_battery.inventory.loader import load_inventory
    root = tiny_variant(tmp_path, {"background/bg.yaml": ("amount: 0.6,", "amount: 2024-13-01,")})
    with pytest.raises(InventoryError) as exc:
        load_inventory(root)
    assert "bg.yaml" in str(exc.value) and "2024-13-01" in str(exc.value)


# ------------------------------------------------------------------------------------------ units

@pytest.mark.parametrize("unit", ["kWh/", "(kWh", "kWh/0", "kWh**", "kg^", "kg*", "kg-", "..", "kg)", "kg/(", "1/0",
                                  "kWh#t", "kg,", "kg;", "kg=1", "kg@", "kg'"])
def test_a_malformed_unit_is_an_unknown_unit(unit):
    from lca_battery.units import parse
    with pytest.raises(UnitError, match="unknown unit"):
        parse(unit)


def test_the_units_of_the_inventories_still_parse():
    from lca_battery.units import factor
    assert factor("g", "kg") == 1e-3 and factor("GJ", "MJ") == 1000.0 and factor("kg/kWh", "g/kWh") == 1000.0
    assert factor("tkm", "kgkm") == 1000.0


# ------------------------------------------------------------------------------------------ Dask scheduler

def _listener(answer: bytes | None):
    """A TCP listener that accepts and then says ``answer`` (None: nothing) and keeps the connection open."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    conns = []

    def serve():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            conns.append(c)
            if answer:
                c.sendall(answer)
    threading.Thread(target=serve, daemon=True).start()
    return srv, conns


@pytest.mark.parametrize("answer", [None, b"\xff" * 64, b"HTTP/1.0 400 Bad Request\r\n\r\n"])
def test_a_listener_that_is_not_a_scheduler(answer):
    pytest.importorskip("distributed")
    from lca_battery.distributed import HANDSHAKE_GRACE, client
    srv, conns = _listener(answer)
    port = srv.getsockname()[1]
    t0 = time.perf_counter()
    try:
        with pytest.raises(LcaBatteryError) as exc:
            with client(scheduler=f"tcp://127.0.0.1:{port}", timeout=1.0):
                pass
    finally:
        srv.close()
        for c in conns:
            c.close()
    assert time.perf_counter() - t0 < 1.0 + HANDSHAKE_GRACE + 5
    assert exc.value.field == "--scheduler"
    assert "is not a Dask scheduler" in str(exc.value) or "cannot reach" in str(exc.value)


# ------------------------------------------------------------------------------------------ scenario tables

def test_a_formula_without_a_saved_value(tmp_path, capsys):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["plant.country", "cell.capacity_ah"])
    ws.append(["SE", "=25*2"])
    ws.append(["PL", 40])
    wb.save(tmp_path / "t.xlsx")
    _user_error(capsys, ["sweep", str(EXAMPLE), "--table", str(tmp_path / "t.xlsx"), "--out", str(tmp_path / "r")],
                "t.xlsx row 1 (sheet row 2), column 'cell.capacity_ah'", "=25*2", "without a saved value",
                out=tmp_path / "r")


def test_a_table_not_in_utf8_or_not_comma_separated(tmp_path, capsys):
    t = tmp_path / "t16.csv"
    t.write_bytes("plant.country\nCN\n".encode("utf-16"))
    _user_error(capsys, ["sweep", str(EXAMPLE), "--table", str(t), "--out", str(tmp_path / "r")],
                "t16.csv is not UTF-8 text", out=tmp_path / "r")
    t = tmp_path / "semi.csv"
    t.write_text("plant.country;cell.capacity_ah\nCN;50\n", encoding="utf-8")
    _user_error(capsys, ["sweep", str(EXAMPLE), "--table", str(t), "--out", str(tmp_path / "r")],
                "semi.csv: its columns are separated by semicolons", out=tmp_path / "r")


# ------------------------------------------------------------------------------------------ run sizes

@pytest.mark.parametrize("args, words", [
    (["uncertainty", "--samples", "100000000000"], "must be at most 10,000,000"),
    (["report", "--sobol-n", "1073741824"], "must be at most 65,536"),
    (["compare", "--steps", "100000000"], "must be at most 1,001"),
])
def test_run_sizes_beyond_memory_or_patience_are_refused(tmp_path, capsys, args, words):
    cmd, *rest = args
    with pytest.raises(SystemExit) as e:
        main([cmd, str(EXAMPLE), *rest, "--out", str(tmp_path / "r")])
    assert e.value.code == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


# ------------------------------------------------------------------------------------------ verify

@pytest.fixture(scope="module")
def footprint_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("fp")
    assert main(["footprint", str(EXAMPLE), "--out", str(out)]) == 0
    (folder,) = list(out.iterdir())
    return folder


@pytest.mark.parametrize("edit, field", [
    (lambda m: m.update(files="abc"), "files"),
    (lambda m: m.update(files=5), "files"),
    (lambda m: m.update(rerun_inputs="abc"), "rerun_inputs"),
    (lambda m: m["rerun_inputs"].pop("inventory_files"), "rerun_inputs.inventory_files"),
    (lambda m: m["rerun_inputs"].update(set="plant.country=SE"), "rerun_inputs.set"),
    (lambda m: m.update(study_sha256=None), "study_sha256"),
])
def test_verify_a_manifest_of_the_wrong_shape(footprint_folder, tmp_path, capsys, edit, field):
    folder = tmp_path / "copy"
    shutil.copytree(footprint_folder, folder)
    m = json.loads((folder / "manifest.json").read_text())
    edit(m)
    (folder / "manifest.json").write_text(json.dumps(m))
    _user_error(capsys, ["verify", str(folder)], f"manifest.json': {field} is", "not a manifest this version")


def test_verify_with_a_missing_study_file(footprint_folder, tmp_path, capsys):
    _user_error(capsys, ["verify", str(footprint_folder), "--study", str(tmp_path / "nope.yaml")],
                "'--study'", "study file not found")


# ------------------------------------------------------------------------------------------ supplier files

def test_a_supplier_inventory_error_names_the_file_given(engine, tmp_path, capsys):
    bad = tmp_path / "sup.yaml"
    bad.write_text("sources:\n  own: {author: Us, year: 2025, title: plant data, table: 'meter log 2025'}\n"
                   "processes:\n  - id: sup_cam\n    name: x\n    reference_product: x\n    unit: kg\n"
                   "    location: KR\n    stage: raw_material_acquisition\n    reference_year: 2025\n    source: own\n"
                   "    dqr: {TeR: 1, GeR: 1, TiR: 1, P: 1}\n"
                   "    exchanges:\n      - {input: electricity_grid_kr, amount: 5, unit: 'kWh/'}\n")
    study = tmp_path / "study.yaml"
    study.write_text(EXAMPLE.read_text() + "\nsuppliers:\n  cam_nmc811:\n    inventory: sup.yaml\n"
                     "    process: sup_cam\n")
    err = _user_error(capsys, ["footprint", str(study), "--out", str(tmp_path / "r")], "unknown unit 'kWh/'",
                      out=tmp_path / "r")
    assert str(bad) in err and "supplier/sup.yaml" not in err


# ------------------------------------------------------------------------------------------ options named

def test_an_error_names_the_option_that_set_the_field(engine, tmp_path, capsys):
    err = _user_error(capsys, ["sweep", str(EXAMPLE), "--grid", "plant.countryy=SE", "--no-write"],
                      "unknown key 'plant.countryy' (in --grid)")
    assert err.startswith("lca-battery: error:"), err          # no empty progress bar before the message
    _user_error(capsys, ["sweep", str(EXAMPLE), "--grid", "plant.country=CN,XX", "--no-write"],
                "unknown country code 'XX'", "(in --grid)")
    _user_error(capsys, ["uncertainty", str(EXAMPLE), "--samples", "100", "--paired-set", "plant.countryy=SE",
                         "--no-write"], "unknown key 'plant.countryy' (in --paired-set)")
    err = _user_error(capsys, ["sweep", str(EXAMPLE), "--grid", "plant.country=CN", "--set", "plant.countryy=SE",
                               "--no-write"], "in --set")
    assert "(in --grid)" not in err


def test_an_empty_inventory_file_is_named(tmp_path):
    from lca_battery.inventory.loader import load_inventory
    root = tiny_variant(tmp_path, {})
    (root / "materials" / "empty.yaml").write_text("# nothing yet\n")
    with pytest.raises(InventoryError) as exc:
        load_inventory(root)
    assert "materials/empty.yaml: empty file" in str(exc.value)


def test_a_number_where_text_is_wanted_is_that_text(engine, capsys):
    assert main(["footprint", str(EXAMPLE), "--set", "cell.model=123", "--set", "declaration.battery_model=2024",
                 "--json", "--no-write"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["declaration"]["battery_model"] == "2024"


# ------------------------------------------------------------------------------------------ supply loops

@pytest.mark.parametrize("edit, words", [
    # a process consuming its own product at 1 or more per unit made
    (("      - {input: electricity_grid_cn, amount: 0.5, unit: kWh}\n",
      "      - {input: electricity_grid_cn, amount: 0.5, unit: kWh}\n"
      "      - {input: metal_virgin, amount: 1.0, unit: kg}\n"), "process 'metal_virgin': consumes 1 kg of its own"),
    (("      - {input: electricity_grid_cn, amount: 0.5, unit: kWh}\n",
      "      - {input: electricity_grid_cn, amount: 0.5, unit: kWh}\n"
      "      - {input: metal_virgin, amount: 2.0, unit: kg}\n"), "consumes 2 kg of its own product"),
    # the scrap loop at a gain of exactly 1 (1.25 kg scrap x 0.8 kg recycled metal) and above it
    (("      - {input: metal_recycled, amount: 200, unit: g}\n", "      - {input: metal_recycled, amount: 800, unit: g}\n"),
     "their inputs form a loop that consumes as much as it makes or more"),
    (("      - {input: metal_recycled, amount: 200, unit: g}\n", "      - {input: metal_recycled, amount: 1, unit: kg}\n"),
     "'cam_tiny', 'metal_recycled'"),
])
def test_a_supply_loop_that_cannot_make_its_product(tmp_path, edit, words):
    """Such a loop solved as it stands gives a huge or negative footprint with exit 0 (the fuzzing helper's
    -1e29 kg CO2e/kWh); the inventory is refused instead, naming the processes. The tiny system's own loop
    (gain 0.25) loads."""
    from lca_battery.inventory.loader import load_inventory
    load_inventory(tiny_variant(tmp_path / "ok", {}))
    with pytest.raises(InventoryError) as exc:
        load_inventory(tiny_variant(tmp_path, {"materials/m.yaml": edit}))
    assert "materials/m.yaml" in str(exc.value) and words in str(exc.value), str(exc.value)


def test_yaml_numbers_are_decimal():
    from lca_battery.inventory.loader import read_yaml_text
    assert read_yaml_text("a: 060\nb: 1:30\nc: 6_0\nd: 1e-3\ne: +5\nf: 0x1f") == {
        "a": 60, "b": "1:30", "c": "6_0", "d": 0.001, "e": 5, "f": "0x1f"}


# ------------------------------------------------------------------------------------------ second pass

@pytest.mark.parametrize("old, new, words", [
    ('{biosphere: "Carbon dioxide, fossil", amount: 10, unit: kg}', '{biosphere: "Carbon dioxide, fossil", amount: -10, '
     'unit: kg}', "an emission must be >= 0"),
    ("{input: electricity_grid_cn, amount: 0.5, unit: kWh}", "{input: [electricity_grid_cn], amount: 0.5, unit: kWh}",
     "input must be a process id (text"),
    ("{input: electricity_grid_cn, amount: 0.5, unit: kWh}", "{input: electricity_grid_cn, amount: 0.5, unit: [kWh]}",
     "unit must be text"),
    ("composition: {Co: 1.0}\n    exchanges:\n      - {biosphere: \"Carbon dioxide, fossil\", amount: 10, unit: kg}\n"
     "      - {input: electricity_grid_cn, amount: 0.5, unit: kWh}", "composition: {Co: 1.0}\n    exchanges: 5",
     "exchanges must be a list"),
    ("composition: {Co: 1.0}\n    exchanges:\n      - {biosphere: \"Carbon dioxide, fossil\", amount: 10, unit: kg}\n"
     "      - {input: electricity_grid_cn", "composition: {? [Co] : 1.0}\n    exchanges:\n      - {biosphere: \"Carbon "
     "dioxide, fossil\", amount: 10, unit: kg}\n      - {input: electricity_grid_cn", "a key must be text"),
])
def test_odd_shapes_in_an_inventory_file(tmp_path, old, new, words):
    from lca_battery.inventory.loader import load_inventory
    with pytest.raises(InventoryError) as exc:
        load_inventory(tiny_variant(tmp_path, {"materials/m.yaml": (old, new)}))
    assert "materials/m.yaml" in str(exc.value) and words in str(exc.value), str(exc.value)


def test_fields_the_engine_computes_with_are_checked(tmp_path):
    from lca_battery.inventory.loader import load_inventory
    from lca_battery.inventory.loader import _check_extra
    problems = []
    _check_extra({"recovery": {"Co": 5.0, "Ni": "high"}, "energy_density_kwh_per_kg": -0.28,
                  "design": {"voltage_v": "high", "voltage_source": "x", "cathode": {"porosity": 0.25}}}, "f: p", problems)
    assert problems == ["f: p: energy_density_kwh_per_kg must be a number > 0 (got -0.28)",
                        "f: p: recovery of Co must be a number in [0, 1] (got 5.0)",
                        "f: p: recovery of Ni must be a number in [0, 1] (got 'high')",
                        "f: p: design.voltage_v must be a number > 0 (got 'high')"]
    load_inventory(tiny_variant(tmp_path, {}))           # the fixture's own fields pass


def test_a_study_nested_thousands_deep(tmp_path, capsys):
    study = tmp_path / "deep.yaml"
    study.write_text(EXAMPLE.read_text() + "\nnotes: " + "[" * 5000 + "]" * 5000 + "\n")
    _user_error(capsys, ["footprint", str(study), "--no-write"], "deep.yaml", "nested too deeply")


def test_out_inside_another_runs_results(footprint_folder, tmp_path, capsys):
    before = sorted(p.name for p in footprint_folder.iterdir())
    _user_error(capsys, ["footprint", str(EXAMPLE), "--out", str(footprint_folder)], "'--out'",
                "is the results folder of another run")
    _user_error(capsys, ["export", str(EXAMPLE), "--format", "ab-scenarios", "--out",
                         str(footprint_folder / "stages.csv")], "'--out'", "is the results folder of another run")
    _user_error(capsys, ["export-pact", str(EXAMPLE), "--out", str(footprint_folder / "pact.json")], "'--out'")
    assert sorted(p.name for p in footprint_folder.iterdir()) == before


@pytest.mark.parametrize("edit, field", [
    (lambda m: m.update(code_sha256=123), "code_sha256"),
    (lambda m: m.update(git="abc"), "git"),
    (lambda m: m["files"].update({"/etc/hostname": "0" * 64}), "files"),
])
def test_verify_more_manifest_shapes(footprint_folder, tmp_path, capsys, edit, field):
    test_verify_a_manifest_of_the_wrong_shape(footprint_folder, tmp_path, capsys, edit, field)


def _pact(tmp_path, text):
    f = tmp_path / "cam.json"
    f.write_text(text, encoding="utf-8")
    study = tmp_path / "study.yaml"
    study.write_text(EXAMPLE.read_text() + "\nsuppliers:\n  cam_nmc811:\n    pact: cam.json\n", encoding="utf-8")
    return study


@pytest.mark.parametrize("change, words", [
    (lambda d: json.dumps(d).replace('"pcfExcludingBiogenicUptake": "9.5"',
                                      '"pcfExcludingBiogenicUptake": "9.5", "pcfExcludingBiogenicUptake": "95"'),
     "appears twice"),
    (lambda d: json.dumps({**d, "status": "Foo"}), "field 'status': must be one of Active, Deprecated"),
    (lambda d: json.dumps({**d, "productIds": 5}), "field 'productIds': must be a list"),
    (lambda d: json.dumps({**d, "companyName": {"a": "b"}}), "field 'companyName': must be text"),
    (lambda d: json.dumps({**d, "pcf": {**d["pcf"], "pcfExcludingBiogenicUptake": "1e307"}}), "between 0 and 1e+06"),
    (lambda d: json.dumps({**d, "pcf": {**d["pcf"], "dqi": [1, 2]}}), "field 'pcf.dqi': must be an object"),
    (lambda d: json.dumps({**d, "pcf": {**d["pcf"], "referencePeriodEnd": "1066-10-14T00:00:00Z"}}),
     "the year must be between 1990 and 2100"),
    (lambda d: "[" * 200000 + "]" * 200000, "nested too deeply"),
])
def test_odd_supplier_pact_files(engine, tmp_path, capsys, change, words):
    from test_pact import _v3
    study = _pact(tmp_path, change(_v3()))
    _user_error(capsys, ["footprint", str(study), "--out", str(tmp_path / "r")], "suppliers.cam_nmc811.pact", words,
                out=tmp_path / "r")


def test_an_empty_verification_is_self_declared_and_a_bom_is_read(engine, tmp_path):
    from lca_battery.supplier_pact import read_supplier_pact
    from test_pact import _v3
    f = tmp_path / "cam.json"
    f.write_bytes(b"\xef\xbb\xbf" + json.dumps({**_v3(), "pcf": {**_v3()["pcf"], "verification": {}}}).encode())
    assert read_supplier_pact(f)["verification"] == "self-declared"


@pytest.mark.parametrize("sets, field, words", [
    (["distribution.sea_km=1e300"], "distribution.sea_km", "less than or equal to 40075"),
    (["plant.electricity_kwh_per_kwh_cell=1e308"], "plant.electricity_kwh_per_kwh_cell", "less than or equal to 1000"),
    (["cell.capacity_ah=1e-310"], "cell.capacity_ah", "greater than or equal to 0.001"),
    (["stage_overrides={nonexistent_*: main_production}"], "stage_overrides.nonexistent_*", "matches no process"),
])
def test_magnitudes_and_patterns_beyond_reason(engine, tmp_path, capsys, sets, field, words):
    args = ["footprint", str(EXAMPLE), "--out", str(tmp_path / "r")]
    for s in sets:
        args += ["--set", s]
    _user_error(capsys, args, f"'{field}'", words, out=tmp_path / "r")


def test_compare_names_only_routes_that_recover_the_cells_metals(engine, capsys):
    err = _user_error(capsys, ["compare", str(EXAMPLE), "--set", "cell.chemistry=LFP", "--set", "cell.nominal_voltage_v=null",
                               "--set", "recycling.route=pyro_lfp", "--no-write"], "route 'pyro_lfp' recovers none")
    assert "(allowed: hydro_lfp)" in err


def test_yaml_merge_keys_are_named_not_a_parser_error():
    import yaml
    from lca_battery.inventory.loader import read_yaml_text
    with pytest.raises(yaml.YAMLError, match="merge keys"):
        read_yaml_text("a: &c {x: 1}\nb:\n  <<: *c\n  y: 2")
    assert read_yaml_text("a: &c {x: 1}\nb: *c") == {"a": {"x": 1}, "b": {"x": 1}}


def test_a_value_that_fits_no_member_of_a_union_is_one_error(engine, tmp_path, capsys):
    err = _user_error(capsys, ["footprint", str(EXAMPLE), "--set", "supply.graphite=null", "--out",
                               str(tmp_path / "r")], "field 'supply.graphite': Input should be text or a mapping (got None)",
                      out=tmp_path / "r")
    assert "'supply.graphite.str'" not in err and "dict[" not in err


def test_feed_carbon_is_a_true_flag_on_an_emission(tmp_path):
    """``feed_carbon`` marks a recycling route's CO2 from its feed's own carbon; 'yes', a number or the flag on an input
    would be silently read otherwise."""
    from lca_battery.inventory.loader import load_inventory
    edit, words = 'amount: 0.07, unit: kg}', "feed_carbon must be 'true' on a biosphere emission"
    for value in ("false", "1", "yes"):
        root = tiny_variant(tmp_path / value, {"background/bg.yaml": (edit, edit[:-1] + f", feed_carbon: {value}}}")})
        with pytest.raises(InventoryError) as exc:
            load_inventory(root)
        assert words in str(exc.value) and "bg.yaml" in str(exc.value), value
    root = tiny_variant(tmp_path / "ok", {"background/bg.yaml": (edit, edit[:-1] + ", feed_carbon: true}")})
    assert any(x.feed_carbon for p in load_inventory(root).processes.values() for x in p.exchanges)


def test_a_bad_date_gets_no_unit_hint(tmp_path, capsys):
    """'2024-02-30' is a date out of range, not a number written with a unit: the message says what is wrong with
    the date and gives no hint about units (a new user's walk-through found one)."""
    from lca_battery.cli import main
    code = main(["footprint", str(EXAMPLE), "--no-write", "--set", "product.reference_period_end=2024-02-30"])
    err = capsys.readouterr().err
    assert code == 2 and "product.reference_period_end" in err and "Traceback" not in err
    assert "day value is outside" in err and "write the number" not in err and "unit" not in err


def test_a_bad_grid_value_stops_the_sweep_before_the_pairs_are_built(engine, monkeypatch):
    """The grid engine builds every pair of axes on all its combinations (here 3 x 300); a bad value of one axis
    is found among the single values first (303 builds at most), not after the pairs' 900."""
    import lca_battery.prepare as prepare
    from lca_battery.api import sweep_frame
    from lca_battery.errors import StudyError
    import lca_battery.sweep_engine as sweep_engine
    monkeypatch.setattr(sweep_engine, "PROCS", 1)          # every build in this process, where it is counted
    calls = []
    real = prepare.prepare_mapping

    def counting(*a, **k):
        calls.append(1)
        return real(*a, **k)
    monkeypatch.setattr(prepare, "prepare_mapping", counting)
    grid = {"plant.country": ["CN", "SE", "XX"],
            "recycling.recycled_content.Co.post_consumer": [round(i / 1000, 4) for i in range(300)]}
    with pytest.raises(StudyError) as exc:
        sweep_frame(EXAMPLE, grid, engine=engine)
    assert "unknown country code 'XX'" in exc.value.message and exc.value.field == "plant.country"
    assert 0 < len(calls) <= 305


def test_sweep_sizes_beyond_the_cap_or_the_memory_are_refused_up_front(tmp_path, capsys, monkeypatch):
    values = ",".join(str(i) for i in range(2001))
    _user_error(capsys, ["sweep", str(EXAMPLE), "--grid", f"cell.capacity_ah={values}", "--grid",
                         f"cell.nominal_voltage_v={values}", "--out", str(tmp_path / "r")],
                "4,004,001 scenarios is more than a sweep holds in memory (2,000,000)", out=tmp_path / "r")
    import lca_battery.sweep_serial as sweep_serial
    monkeypatch.setattr(sweep_serial, "available_memory", lambda: 500_000_000)
    vals = ",".join(f"{i / 1000:.3f}" for i in range(200))
    _user_error(capsys, ["sweep", str(EXAMPLE), "--grid", f"recycling.recycled_content.Co.post_consumer={vals}",
                         "--grid", f"recycling.recycled_content.Ni.post_consumer={vals}", "--out", str(tmp_path / "r")],
                "40,000 scenarios need about 0.5 GB of memory", "more than the 0.5 GB available",
                "sweeps of at most 38,461 scenarios", out=tmp_path / "r")


def test_a_table_column_and_a_grid_key_for_the_same_field(tmp_path, capsys):
    t = tmp_path / "t.csv"
    t.write_text("plant.country,recycling.accounting\nSE,cff\nPL,cut_off\n", encoding="utf-8")
    _user_error(capsys, ["sweep", str(EXAMPLE), "--table", str(t), "--grid", "plant.country=CN,SE",
                         "--out", str(tmp_path / "r")],
                "--grid plant.country sets what the scenario table's column 'plant.country' sets", out=tmp_path / "r")


def test_a_table_column_of_an_unknown_section_is_named(tmp_path, capsys):
    t = tmp_path / "t.csv"
    t.write_text("plant.country,foo.bar\nSE,1\n", encoding="utf-8")
    err = _user_error(capsys, ["sweep", str(EXAMPLE), "--table", str(t), "--out", str(tmp_path / "r")],
                      "t.csv", "row 1, column 'foo.bar'", "unknown key", out=tmp_path / "r")
    assert err.count("nmc811-cn.yaml:") == 0 or err.index("t.csv") < err.index("nmc811-cn.yaml")


@pytest.mark.parametrize("call, kw, words", [
    ("uncertainty", {"samples": 0}, "samples must be at least 2 (got 0)"),
    ("uncertainty", {"samples": -5}, "samples must be at least 2"),
    ("uncertainty", {"samples": 10**9}, "samples must be at most 10,000,000"),
    ("uncertainty", {"seed": "x"}, "seed must be a whole number (got 'x')"),
    ("uncertainty", {"samples": 2.5}, "samples must be a whole number"),
    ("compare", {"steps": 0}, "steps must be at least 2"),
    ("compare", {"steps": 10**6}, "steps must be at most 1,001"),
    ("sensitivity", {"sobol_n": 3}, "sobol_n must be 0 or a power of 2 (got 3; e.g. 2 or 4)"),
    ("report", {"sobol_n": 10**6}, "sobol_n must be at most 65,536"),
])
def test_the_api_refuses_the_run_sizes_the_cli_refuses(engine, call, kw, words):
    """A program gets the command line's message (an LcaBatteryError naming the argument), not numpy's IndexError,
    MemoryError or TypeError, nor an empty curve."""
    from lca_battery import api
    from lca_battery.errors import LcaBatteryError
    with pytest.raises(LcaBatteryError) as exc:
        getattr(api, call)(EXAMPLE, engine=engine, **kw)
    assert words in str(exc.value) and exc.value.field == next(iter(kw))


def test_the_api_takes_one_override_string_and_says_a_grid_value_is_not_a_list(engine):
    from lca_battery import api
    from lca_battery.errors import StudyError
    one = api.footprint(EXAMPLE, "plant.country=SE", engine=engine, details=False)
    assert one["kg_co2e_per_kwh"] == api.footprint(EXAMPLE, ["plant.country=SE"], engine=engine,
                                                   details=False)["kg_co2e_per_kwh"]
    with pytest.raises(StudyError, match=r"sweep key 'plant.country' needs a list of values \(got str 'CN'\)"):
        api.sweep(EXAMPLE, {"plant.country": "CN"}, engine=engine)
