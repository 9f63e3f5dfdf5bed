"""Regressions found by a fresh-eyes review of the command line (each once a crash or a wrong number)."""
import json

import pytest

from conftest import EXAMPLE, ROOT, assert_user_error
from lca_battery.api import compare, footprint
from lca_battery.cli import main


def test_compare_with_a_scrap_loop_ends_the_curve_where_it_stops_being_physical(engine):
    c = compare(ROOT / "examples" / "nmc811-recycled-cobalt.yaml", engine=engine, steps=3)
    co = [r for r in c["curves"] if r["metal"] == "Co"]
    assert co and max(r["recycled_content"] for r in co) < 1.0          # 100 % + the scrap loop > 1
    assert {r["accounting"] for r in co} == {"cut_off", "avoided_burden", "cff"}


def test_compare_for_lfp_covers_lithium_only(engine):
    c = compare(EXAMPLE, {"cell.chemistry": "LFP", "cell.nominal_voltage_v": None, "recycling.route": "hydro_lfp"}, engine=engine, steps=3)
    assert c["metals"] == ["Li"] and {r["metal"] for r in c["curves"]} == {"Li"}
    # the materials too: an LFP cell holds no Co or Ni (its element content), so no Co or Ni salts
    assert {r["metal"] for r in c["materials"]} == {"Li"}
    assert c["metals_not_in_cell"] == ["Co", "Ni"] and "not in this LFP cell" in c["metals_not_in_cell_note"]
    assert list(c["cff_parameters"]["A"]) == ["Li"]


def test_compare_command_lfp_shows_only_its_metals_nmc_all(engine, tmp_path, capsys):
    lfp = ["--set", "cell.chemistry=LFP", "--set", "cell.nominal_voltage_v=null", "--set", "recycling.route=hydro_lfp"]
    assert main(["compare", str(EXAMPLE), "--steps", "3", "--out", str(tmp_path), *lfp]) == 0
    out = capsys.readouterr().out
    assert "Co: virgin" not in out and "Ni: virgin" not in out and "Li: virgin" in out, out
    assert "note: Co, Ni: not in this LFP cell" in out and "A = Li 0.2;" in out
    materials = (tmp_path / "nmc811-cn-compare" / "materials.csv").read_text(encoding="utf-8-sig")
    assert "cobalt_sulfate" not in materials and "nickel_sulfate" not in materials
    assert main(["compare", str(EXAMPLE), "--steps", "3", "--no-write"]) == 0
    out = capsys.readouterr().out
    assert "Co: virgin" in out and "Ni: virgin" in out and "not in this" not in out
    assert "A = Co 0.2, Ni 0.2, Li 0.2;" in out


def test_cut_off_recycled_content_is_raw_material_not_end_of_life(engine):
    r = footprint(EXAMPLE, {"recycling.recycled_content": {"Co": {"post_consumer": 0.16}}}, engine=engine,
                  details=False)
    assert r["stages"]["end_of_life"] == 0.0


def test_cff_end_of_life_stage_is_burdens_plus_credits(engine):
    r = footprint(ROOT / "examples" / "nmc811-recycled-cobalt.yaml", engine=engine)
    rec = r["recycling"]
    assert r["stages"]["end_of_life"] == pytest.approx(rec["end_of_life_burdens"] + rec["end_of_life_credits"],
                                                       rel=1e-9)


def test_supplier_figure_keeps_the_mass_balance_closed(engine):
    r = footprint(EXAMPLE, {"suppliers.cam_nmc811.pcf_kg_co2e_per_kg": 12, "suppliers.cam_nmc811.source": "X",
                            "recycling.recycled_content": {"Co": {"post_consumer": 0.2}}}, engine=engine)
    for m, b in r["mass_balance"].items():
        assert not b["processes_creating_metal"] and abs(b["relative_residual"]) < 1e-9, m
    assert {"Co", "Ni", "Mn", "Li"} <= set(r["mass_balance"])
    assert any("supplier data replace cam_nmc811" in n for n in r["notes"])


def test_total_recycled_content_without_split_is_reported_as_unstated(engine):
    r = footprint(EXAMPLE, {"recycling.recycled_content": {"Co": {"total": 0.26}}}, engine=engine, details=False)
    co = r["recycling"]["metals"]["Co"]
    assert co["R1"] == 0.26 and co["R1_pre_consumer"] is None and co["R1_post_consumer"] is None
    circ = r["passport"]["Circularity"]["recycledContent"]
    assert "Cobalt" not in {c["recycledMaterial"] for c in circ}          # no split: not written as 0 %
    assert r["passport"]["lcaBatteryExtras"]["recycledContentSplitNotStated"] == ["Co"]


@pytest.mark.parametrize("override, field, words", [
    ({"cell.chemistry": "NMMT", "cell.nominal_voltage_v": "null", "recycling.recycled_content": {"Li": {"total": 0.1}}},
     "recycling.recycled_content.Li", ["draws no Li"]),
    ({"recycling.recycled_content": {"Co": {"total": 0.3, "post_consumer": 0.2}}}, "recycling.recycled_content.Co",
     ["differs from total"]),
    ({"recycling.route": "hydro_xyz"}, "recycling.route", ["unknown recycling route 'hydro_xyz'"]),
])
def test_claims_that_cannot_apply_are_errors(engine, tmp_path, capsys, override, field, words):
    assert_user_error(tmp_path, capsys, override, field, words)


def test_all_mistakes_of_a_study_are_named(engine, tmp_path, capsys):
    study = tmp_path / "typos.yaml"
    study.write_text("cell: {chemisty: NMC811, capacity_ah: 60, nominal_voltage_v: 3.65}\nplant: {country: CN}\n")
    code = main(["footprint", str(study), "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and "unknown field 'chemisty'" in err and "cell.chemistry" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv, words", [
    (["compare", str(EXAMPLE), "--steps", "-1"], "must be at least 2"),
    (["uncertainty", str(EXAMPLE), "--samples", "0"], "must be at least 2"),
    (["uncertainty", str(EXAMPLE), "--seed", "-1"], "must be at least 0"),
])
def test_bad_numeric_options(argv, words, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2 and words in capsys.readouterr().err


def test_non_utf8_study_and_out_on_a_file(engine, tmp_path, capsys):
    study = tmp_path / "latin1.yaml"
    study.write_bytes(EXAMPLE.read_text().replace("generic cell plant", "Usine Électrique").encode("latin-1"))
    code = main(["footprint", str(study), "--out", str(tmp_path / "r")])
    assert code == 2 and "not UTF-8" in capsys.readouterr().err
    afile = tmp_path / "afile"
    afile.write_text("x")
    code = main(["footprint", str(EXAMPLE), "--out", str(afile / "sub")])
    err = capsys.readouterr().err
    assert code == 2 and "a file stands where a folder is needed" in err and "Traceback" not in err


def test_csv_numbers_are_plain(engine, tmp_path):
    assert main(["footprint", str(EXAMPLE), "--out", str(tmp_path)]) == 0
    (folder,) = list(tmp_path.iterdir())
    for name in ("mass_balance.csv", "materials.csv", "processes.csv"):
        assert "np.float64" not in (folder / name).read_text(encoding="utf-8-sig"), name


def test_method_name_is_case_insensitive(engine, default_result):
    r = footprint(EXAMPLE, {"method": "EF31"}, engine=engine, details=False)
    assert r["method"]["family"] == "ef31"


def _warm_up(tmp_path):
    """One run first, so that the runs compared both take the warm cache (the first run of a session may solve
    through bw2calc while it writes the cache; summary.json names the solver)."""
    assert main(["footprint", str(EXAMPLE), "--out", str(tmp_path / "warm-up"), "--no-write"]) == 0


def test_a_rerun_writes_the_same_bytes(engine, tmp_path):
    _warm_up(tmp_path)
    for out in ("a", "b"):
        assert main(["footprint", str(EXAMPLE), "--out", str(tmp_path / out)]) == 0
    a, b = (json.loads((tmp_path / o / "nmc811-cn" / "manifest.json").read_text()) for o in ("a", "b"))
    assert a["files"] == b["files"]          # every output's SHA-256, the workbook and the charts included
    assert a["inventory_content_hash"] == b["inventory_content_hash"]


def test_the_manifests_rerun_command_rewrites_the_folder_in_place(engine, tmp_path, monkeypatch):
    # the verification pack's own instruction, run as written from inside the folder it replaces: it once moved
    # the old folder away with the working directory in it, so the relative staging path pointed nowhere (exit
    # 2, the folder gone, the new files stranded in a hidden temporary folder)
    import shlex
    _warm_up(tmp_path)
    study = tmp_path / "study.yaml"
    study.write_text(EXAMPLE.read_text())
    assert main(["footprint", str(study), "--out", str(tmp_path / "results")]) == 0
    folder = tmp_path / "results" / "study"
    before = json.loads((folder / "manifest.json").read_text())
    prefix = "cd <this folder> && lca-battery "
    assert before["rerun"].startswith(prefix)
    monkeypatch.chdir(folder)
    assert main(shlex.split(before["rerun"][len(prefix):])) == 0
    monkeypatch.chdir(tmp_path)
    after = json.loads((folder / "manifest.json").read_text())
    assert after["files"] == before["files"]
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["study"]     # nothing hidden left over


def test_progress_bar_in_a_log_file_is_not_redrawn_at_every_step(monkeypatch):
    """Into a file (stderr not a terminal) the bar is drawn at its start and end, not at each of 1,024 steps
    (a CI log once held 1,024 redraws of the Sobol bar on one line); on a terminal it is throttled to 10 Hz."""
    import io
    import time

    from lca_battery import cli
    log = io.StringIO()
    monkeypatch.setattr("sys.stderr", log)
    with cli._progress_bar("sensitivity runs") as update:
        for i in range(1, 1025):
            update(i, 1024)
    assert 1 <= log.getvalue().count("sensitivity runs") <= 3
    term = io.StringIO()
    term.isatty = lambda: True
    monkeypatch.setattr("sys.stderr", term)
    start = time.monotonic()
    with cli._progress_bar("sensitivity runs") as update:
        for i in range(1, 201):
            update(i, 200)
    # at most one redraw per 0.1 s of the loop, plus the first and the closing one
    assert term.getvalue().count("sensitivity runs") <= 3 + 10 * (time.monotonic() - start)
