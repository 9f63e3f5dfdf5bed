"""Fault injection (issue 9): concurrent first builds, a build killed at every phase, read-only and
full folders, result-folder collisions, alias bombs, infinite / boolean / implausible values and a
supplier file that loses metal. After each fault the next run gives the same number to the last
digit, every user mistake is one line with exit status 2, and no results folder is half-written.

Builds run in subprocesses on the tiny test inventory (fast); kills use the test hook
``LCA_BATTERY_TEST_STOP_AFTER_PHASE=N`` (the process ends as ``kill -9`` would, right after build
phase N), never wall-clock sleeps.
"""
import errno
import json
import os
import subprocess
import sys

import pytest

from conftest import EXAMPLE, ROOT, TINY

from lca_battery.bw.project import BUILD_PHASES, KILLED_EXIT

TINY_STUDY = "name: tiny\ncell: {chemistry: tiny, capacity_ah: 50, nominal_voltage_v: 4}\nplant: {country: CN}\n"


def _env(bw_dir, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LCA_BATTERY_")}
    env.update(BRIGHTWAY2_DIR=str(bw_dir), LCA_BATTERY_INVENTORIES=str(TINY),
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]), **extra)
    return env


def _start(bw_dir, study, **extra):
    return subprocess.Popen([sys.executable, "-m", "lca_battery", "footprint", str(study), "--json", "--no-write"],
                            env=_env(bw_dir, **extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _number(out: str) -> float:
    return json.loads(out)["kg_co2e_per_kwh"]


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory):
    p = tmp_path_factory.mktemp("study") / "tiny.yaml"
    p.write_text(TINY_STUDY)
    return p


@pytest.fixture(scope="module")
def reference(tiny_engine, tiny_study):
    """The number of an undisturbed run (in this process, on the session's tiny project)."""
    from lca_battery.api import footprint
    return footprint(tiny_study, engine=tiny_engine, details=False)["kg_co2e_per_kwh"]


def _run(bw_dir, study, **extra):
    p = _start(bw_dir, study, **extra)
    out, err = p.communicate(timeout=120)
    return p.returncode, out, err


def test_build_killed_at_every_phase_then_next_run_same_number(tiny_study, reference, tmp_path):
    # two chains in parallel (one per core): phases 1..5 in one folder, phase 6 in another
    a, b = tmp_path / "a", tmp_path / "b"
    six = _start(b, tiny_study, LCA_BATTERY_TEST_STOP_AFTER_PHASE="6")
    for n in (1, 2, 3, 4, 5):
        code, _, err = _run(a, tiny_study, LCA_BATTERY_TEST_STOP_AFTER_PHASE=str(n))
        assert code == KILLED_EXIT, (n, err)
        if n in (3, 4, 5):    # the previous run died while building the staging project
            assert "interrupted build" in err, (n, err)
    code, out, err = _run(a, tiny_study)   # after phase 5: switched in, no marker yet
    assert code == 0 and "Traceback" not in err, err
    assert "incomplete" in err and "rebuilding" in err, err
    assert _number(out) == reference                      # to the last digit
    code, out, err = _run(a, tiny_study)   # and now it is trusted: nothing rebuilt
    assert code == 0 and "creating biosphere3" not in err and _number(out) == reference
    six.communicate(timeout=120)
    assert six.returncode == KILLED_EXIT
    code, out, err = _run(b, tiny_study)   # killed after the marker: complete, not rebuilt
    assert code == 0 and "creating biosphere3" not in err, err
    assert _number(out) == reference
    assert set(BUILD_PHASES) == {1, 2, 3, 4, 5, 6}


def test_concurrent_first_runs_wait_for_the_lock(tiny_study, reference, tmp_path):
    import filelock
    from lca_battery.bw.project import PROJECT_NAME
    bw = tmp_path / "bw"
    bw.mkdir()
    lock = filelock.FileLock(str(bw / f".lca_battery-{PROJECT_NAME}.lock"))
    lock.acquire()              # as a first run busy building would hold it
    procs = [_start(bw, tiny_study) for _ in range(2)]
    try:
        for p in procs:          # each says it waits (no sleeps: read until the message)
            seen = ""
            while "waiting" not in seen:
                line = p.stderr.readline()
                assert line, f"ended without waiting: {seen}"
                seen += line
    finally:
        lock.release()
    results = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, results):
        assert p.returncode == 0, err
        assert _number(out) == reference
    assert sum("creating biosphere3" in err for _, err in results) == 1      # built once, by one of them


def _one_line_error(code, err, *words):
    assert code == 2 and "Traceback" not in err, err
    assert len([line for line in err.splitlines() if line.startswith("lca-battery: error")]) == 1, err
    for w in words:
        assert w in err, err


def test_unwritable_brightway_folder(tiny_study, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    p = _start(blocker / "bw", tiny_study)
    _, err = p.communicate(timeout=60)
    _one_line_error(p.returncode, err, "BRIGHTWAY2_DIR", str(blocker))
    if os.geteuid() != 0:      # root writes anywhere: only the case above applies
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        p = _start(ro, tiny_study)
        _, err = p.communicate(timeout=60)
        _one_line_error(p.returncode, err, "not writable", str(ro))


def _no_partial(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(".")] if folder.exists() else []


@pytest.mark.parametrize("fault", [errno.EACCES, errno.ENOSPC, errno.EROFS])
def test_results_folder_faults_are_one_line(engine, capsys, tmp_path, monkeypatch, fault):
    from lca_battery.cli import main
    from lca_battery.report import outputs
    out = tmp_path / "r"
    if fault == errno.EACCES and os.geteuid() != 0:
        out.mkdir()
        out.chmod(0o555)
    else:
        real = outputs._csv

        def failing(path, *a, **k):
            if path.name == "processes.csv":
                raise OSError(fault, os.strerror(fault), str(path))
            return real(path, *a, **k)
        monkeypatch.setattr(outputs, "_csv", failing)
    code = main(["footprint", str(EXAMPLE), "--out", str(out)])
    _one_line_error(code, capsys.readouterr().err, "cannot write results", str(out))
    assert not (out / "nmc811-cn").exists() and _no_partial(out) == []


def test_a_file_where_the_results_folder_should_be(engine, capsys, tmp_path):
    from lca_battery.cli import main
    (tmp_path / "r").write_text("")
    code = main(["footprint", str(EXAMPLE), "--out", str(tmp_path / "r" / "sub")])
    _one_line_error(code, capsys.readouterr().err, "--out")


def test_result_folders_never_collide(engine, capsys, tmp_path):
    from lca_battery.cli import main
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "cell.yaml").write_text(EXAMPLE.read_text())
    out = tmp_path / "r"

    def run(study, *sets):
        args = ["footprint", str(study), "--out", str(out), "--json"]
        for s in sets:
            args += ["--set", s]
        assert main(args) == 0
        return json.loads(capsys.readouterr().out)["results_dir"]
    a = run(tmp_path / "a" / "cell.yaml")
    b = run(tmp_path / "b" / "cell.yaml")
    assert a != b
    manifests = {json.loads((tmp_path / "r" / d / "manifest.json").read_text())["results_owner"]
                 for d in (a, b)}
    assert len(manifests) == 2
    assert run(tmp_path / "a" / "cell.yaml") == a               # a re-run replaces its own folder
    # a folder lca_battery did not write is never replaced
    (out / "cell-plant.country-se").mkdir()
    (out / "cell-plant.country-se" / "mine.txt").write_text("keep")
    c = run(tmp_path / "a" / "cell.yaml", "plant.country=SE")
    assert c != str(out / "cell-plant.country-se")
    assert (out / "cell-plant.country-se" / "mine.txt").read_text() == "keep"
    assert _no_partial(out) == []


def test_alias_bomb_is_refused_before_expansion(engine, capsys, tmp_path):
    from lca_battery.cli import main
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines + ["cell: {chemistry: NMC811, capacity_ah: 60}", "plant: {country: CN}"]) + "\n")
    code = main(["footprint", str(bomb), "--no-write"])
    _one_line_error(code, capsys.readouterr().err, "alias", "refused")


def test_oversized_yaml_is_refused(engine, capsys, tmp_path, monkeypatch):
    from lca_battery.cli import main
    from lca_battery.inventory import loader
    monkeypatch.setattr(loader, "MAX_YAML_BYTES", 100)
    code = main(["footprint", str(EXAMPLE), "--no-write"])
    _one_line_error(code, capsys.readouterr().err, "limit", "refused")


@pytest.mark.parametrize("override, field, words", [
    ("cell.capacity_ah=.inf", "cell.capacity_ah", ["finite"]),
    ("cell.capacity_ah=.nan", "cell.capacity_ah", ["finite"]),
    ("cell.capacity_ah=true", "cell.capacity_ah", ["not true"]),
    ("cell.nominal_voltage_v=.inf", "cell.nominal_voltage_v", ["finite"]),
    ("cell.mass_kg=.inf", "cell.mass_kg", ["finite"]),
    ("cell.mass_kg=500", "cell.mass_kg", ["500"]),
    ("cell.mass_kg=5", "cell.mass_kg", ["g/Ah", "design"]),
    ("cell.nominal_voltage_v=36.5", "cell.nominal_voltage_v", ["36.5"]),
    ("cell.capacity_ah=1e9", "cell.capacity_ah", ["2000"]),
    ("cell.energy_density_wh_per_kg=20", "cell.energy_density_wh_per_kg", ["Wh/kg"]),
    ("plant.electricity.onsite={pv_rooftop: true}", "plant.electricity.onsite", ["not true"]),
    ("plant.electricity.onsite={pv_rooftop: 0.3", "plant.electricity.onsite", ["syntax error"]),
])
def test_infinite_boolean_and_implausible_values(engine, capsys, tmp_path, override, field, words):
    from lca_battery.cli import main
    out = tmp_path / "r"
    code = main(["footprint", str(EXAMPLE), "--set", override, "--out", str(out), "--json"])
    cap = capsys.readouterr()
    _one_line_error(code, cap.err, f"'{field}'", *words)
    assert cap.out == "" and not out.exists()


def test_json_output_never_holds_nan_or_infinity():
    from lca_battery.report.outputs import to_json
    with pytest.raises(ValueError):
        to_json({"x": float("inf")})


def test_supplier_file_short_of_nickel_is_an_error(engine, capsys, tmp_path):
    from lca_battery.cli import main
    src = (ROOT / "tests" / "data" / "supplier" / "cam_supplier_x.yaml").read_text()
    assert "Ni: 0.4827" in src
    (tmp_path / "sup.yaml").write_text(src.replace("Ni: 0.4827", "Ni: 0.2124"))     # 56 % too little
    study = tmp_path / "study.yaml"
    study.write_text(EXAMPLE.read_text() + "\nsuppliers:\n  cam_nmc811:\n    inventory: sup.yaml\n"
                     "    process: supplier_x_cam_nmc811\n")
    code = main(["footprint", str(study), "--no-write"])
    _one_line_error(code, capsys.readouterr().err, "Ni", "short", "56%", "suppliers.cam_nmc811.process")


def test_internal_error_is_status_1_and_says_so(capsys, monkeypatch):
    from lca_battery import cli
    monkeypatch.setattr(cli, "cmd_chemistries", lambda args: 1 / 0)
    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["chemistries"].set_defaults(func=lambda a: 1 / 0)
    code = cli.main(["chemistries"])
    err = capsys.readouterr().err
    assert code == 1 and "internal error" in err and "ZeroDivisionError" in err and "Traceback" not in err
