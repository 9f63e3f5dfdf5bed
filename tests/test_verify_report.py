"""`lca-battery verify` on a study report folder (`lca-battery report --out DIR`): every file's hash, the
inputs, the footprint part re-run always, the Monte Carlo / Sobol' parts re-run when cheap (else said to be
checked by hash only)."""
import json
import shutil

import pytest

from conftest import EXAMPLE
from lca_battery.cli import main

SETS = ["--set", "plant.country=SE"]
REPORT_ONLY = ("report.html", "report.json", "report.xlsx", "sensitivity.csv", "sobol.csv", "cutoff.csv")


@pytest.fixture(scope="module")
def report_dir(engine, tmp_path_factory):
    """A report written by the CLI (small Monte Carlo and Sobol' sample), its study beside it."""
    tmp = tmp_path_factory.mktemp("verify-report")
    study = tmp / "study.yaml"
    shutil.copy(EXAMPLE, study)
    assert main(["report", str(study), "--out", str(tmp / "rep"), "--samples", "20", "--sobol-n", "4",
                 "--seed", "7", *SETS]) == 0
    return tmp, study, tmp / "rep"


def _copy(report_dir, tmp_path):
    """A copy of the report folder and its study, at the same relative place, to tamper with."""
    tmp, study, folder = report_dir
    shutil.copy(study, tmp_path / "study.yaml")
    shutil.copytree(folder, tmp_path / "rep")
    return tmp_path / "study.yaml", tmp_path / "rep"


def _lines(out: str, word: str) -> list[str]:
    return [line for line in out.splitlines() if word in line]


def _check(out: str, name: str) -> str:
    """The one check line (OK/FAIL) of file ``name``."""
    line, = [x for x in out.splitlines() if x.lstrip().split()[1:2] == [name] and x.lstrip()[:4] in ("OK  ", "FAIL")]
    return line


def test_report_manifest_records_its_rerun_inputs(report_dir):
    m = json.loads((report_dir[2] / "manifest.json").read_text())
    ri = m["rerun_inputs"]
    assert (ri["subcommand"], ri["set"], ri["samples"], ri["seed"], ri["sobol_n"]) == \
        ("report", ["plant.country=SE"], 20, 7, 4)
    assert ri["inventory_files"]["sources.yaml"] and m["study_file"] == "../study.yaml"
    assert set(REPORT_ONLY) <= set(m["files"])


def test_a_report_folder_verifies_every_file_recomputed(report_dir, capsys):
    capsys.readouterr()
    assert main(["verify", str(report_dir[2])]) == 0
    out = capsys.readouterr().out
    assert "verified: every number matches" in out and "hash only" not in out
    m = json.loads((report_dir[2] / "manifest.json").read_text())
    for name in m["files"]:                 # the report's own files and the footprint's, each re-run and compared
        line = _check(out, name)
        assert line.lstrip().startswith("OK") and ("identical" in line or "every number matches" in line), line


def test_a_tampered_or_missing_report_file_fails_naming_it(report_dir, tmp_path, capsys):
    _, folder = _copy(report_dir, tmp_path)
    data = json.loads((folder / "report.json").read_text())
    data["uncertainty"]["kg_co2e_per_kwh"]["mean"] *= 0.9
    (folder / "report.json").write_text(json.dumps(data, indent=2) + "\n")
    (folder / "sobol.csv").unlink()
    capsys.readouterr()
    assert main(["verify", str(folder)]) == 1
    out = capsys.readouterr().out
    assert _lines(out, "FAIL") == ["  FAIL report.json                  changed since it was written (SHA-256 differs "
                                   "from the manifest)",
                                   "  FAIL sobol.csv                    missing from the results folder"]
    assert "NOT verified: 2 file(s) fail: report.json, sobol.csv" in out


def test_a_forged_report_file_with_its_hash_fails_on_the_rerun(report_dir, tmp_path, capsys):
    """The manifest's hash rewritten with the file: the re-run still finds the number that differs."""
    _, folder = _copy(report_dir, tmp_path)
    f = folder / "sensitivity.csv"
    rows = f.read_text(encoding="utf-8-sig").splitlines()
    cells = rows[1].split(",")
    i = rows[0].split(",").index("swing")
    cells[i] = repr(float(cells[i]) + 1.0)
    rows[1] = ",".join(cells)
    f.write_text("\n".join(rows) + "\n", encoding="utf-8-sig")
    m = json.loads((folder / "manifest.json").read_text())
    from lca_battery.report.outputs import sha256
    m["files"]["sensitivity.csv"] = sha256(f)
    (folder / "manifest.json").write_text(json.dumps(m, indent=2) + "\n")
    capsys.readouterr()
    assert main(["verify", str(folder)]) == 1
    fail, = _lines(capsys.readouterr().out, "FAIL")
    assert fail.split()[:2] == ["FAIL", "sensitivity.csv"] and "numbers differ" in fail


def test_a_changed_study_fails_in_one_line(report_dir, tmp_path, capsys):
    study, folder = _copy(report_dir, tmp_path)
    study.write_text(study.read_text().replace("capacity_ah: 60", "capacity_ah: 61"))
    capsys.readouterr()
    assert main(["verify", str(folder)]) == 1
    fail, = _lines(capsys.readouterr().out, "FAIL")
    assert "FAIL ../study.yaml" in fail and "study changed" in fail


def test_costly_parts_are_said_to_be_checked_by_hash_only(report_dir, monkeypatch, capsys):
    """Sobol' runs above the re-run limit: its files are checked by hash and the output says so; the
    footprint, sensitivity and cut-off files are still re-run; --full re-runs everything."""
    from lca_battery.report import verify as vmod
    monkeypatch.setattr(vmod, "MAX_RECOMPUTE_SOBOL_RUNS", 16)       # the report has 9 x 4 = 36
    folder = report_dir[2]
    capsys.readouterr()
    assert main(["verify", str(folder)]) == 0
    out = capsys.readouterr().out
    hashed = ["report.html", "report.json", "report.xlsx", "sobol.csv"]
    for name in hashed:
        line = _check(out, name)
        assert "OK" in line and "checked by hash only, not recomputed" in line and "36 runs" in line, line
    for name in ("summary.json", "sensitivity.csv", "cutoff.csv", "footprint.xlsx"):
        line = _check(out, name)
        assert "identical" in line, line
    assert f"4 file(s) checked by hash only, not recomputed: {', '.join(hashed)}" in out
    assert main(["verify", str(folder), "--full", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["ok"] and res["hash_only"] == [] and all(c["recomputed"] for c in res["checks"])


def test_a_report_of_an_earlier_version_is_refused_in_one_line(report_dir, tmp_path, capsys):
    _, folder = _copy(report_dir, tmp_path)
    m = json.loads((folder / "manifest.json").read_text())
    del m["rerun_inputs"]
    (folder / "manifest.json").write_text(json.dumps(m) + "\n")
    capsys.readouterr()
    assert main(["verify", str(folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "written by an earlier version" in err and "Traceback" not in err


@pytest.mark.parametrize("value", [None, "20", -1, True])
def test_a_bad_sample_count_in_the_manifest_is_one_message(report_dir, tmp_path, capsys, value):
    _, folder = _copy(report_dir, tmp_path)
    m = json.loads((folder / "manifest.json").read_text())
    m["rerun_inputs"]["samples"] = value
    (folder / "manifest.json").write_text(json.dumps(m) + "\n")
    capsys.readouterr()
    assert main(["verify", str(folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "rerun_inputs.samples" in err and "allowed" in err


def test_a_folder_received_without_its_study_takes_it_with_study(report_dir, tmp_path, capsys):
    """A verifier gets the folder and the study apart: --study FILE, whose SHA-256 must still match."""
    study = report_dir[1]
    folder = tmp_path / "received" / "rep"
    shutil.copytree(report_dir[2], folder)
    capsys.readouterr()
    assert main(["verify", str(folder)]) == 1
    fail, = _lines(capsys.readouterr().out, "FAIL")
    assert "study file not found" in fail and "--study FILE" in fail
    other = tmp_path / "elsewhere.yaml"
    other.write_text(study.read_text().replace("capacity_ah: 60", "capacity_ah: 61"))
    assert main(["verify", str(folder), "--study", str(other)]) == 1
    fail, = _lines(capsys.readouterr().out, "FAIL")
    assert f"FAIL {other}" in fail and "study changed" in fail
    shutil.copy(study, tmp_path / "copy.yaml")
    assert main(["verify", str(folder), "--study", str(tmp_path / "copy.yaml"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"]


def test_full_help_states_verify_limits(monkeypatch):
    """`verify --full`'s help is built from verify's own limits, not from literals beside them."""
    from lca_battery.cli import build_parser
    from lca_battery.report import limits
    from lca_battery.report import verify as vmod

    def full_help() -> str:
        import argparse
        sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
        vf = sub.choices["verify"]
        return " ".join(next(a.help for a in vf._actions if "--full" in a.option_strings).split())
    text = full_help()
    assert f"{vmod.MAX_RECOMPUTE_SAMPLES:,} samples / {vmod.MAX_RECOMPUTE_SOBOL_RUNS:,} Sobol' runs" in text
    monkeypatch.setattr(limits, "MAX_RECOMPUTE_SAMPLES", 123_456)
    monkeypatch.setattr(limits, "MAX_RECOMPUTE_SOBOL_RUNS", 777)
    assert "123,456 samples / 777 Sobol' runs" in full_help()
