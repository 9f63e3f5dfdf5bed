"""The chart and workbook workers forked at the start of ``lca-battery footprint``
(lca_battery/report/workers.py), and the CLI's exit."""
import json
import os
import threading

import pytest

from conftest import EXAMPLE
from lca_battery.report import charts, outputs, workers


@pytest.fixture
def fork(monkeypatch):
    """The forked path even when earlier tests left threads behind (Dask, progress bars): those threads
    only idle (as in tests/test_outputs_child.py)."""
    monkeypatch.setattr(threading, "active_count", lambda: 1)


def _files(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _write(result, folder, started):
    return outputs.write_footprint(result, folder, command=["lca-battery", "footprint"], workers=started)


def test_folder_from_workers_is_the_folder_written_without(default_result, tmp_path, fork):
    started = workers.start_footprint_workers()
    assert set(started) == {"chart", "workbook"}
    forked = _write(default_result, tmp_path / "forked", started)
    assert all(w.pid is None for w in started.values())              # waited for and reaped
    inline = _write(default_result, tmp_path / "inline", None)
    assert _files(forked) == _files(inline)
    assert {"footprint.png", "footprint.svg", "footprint.xlsx", "manifest.json"} <= set(_files(forked))


def test_figure_without_pyplot_is_the_pyplot_figure(default_result, tmp_path, monkeypatch):
    charts.footprint_chart(default_result, tmp_path / "figure")
    monkeypatch.setattr(charts, "_figure", lambda **kw: charts._pyplot().figure(**kw))
    charts.footprint_chart(default_result, tmp_path / "pyplot")
    for ext in ("png", "svg"):
        assert (tmp_path / f"figure.{ext}").read_bytes() == (tmp_path / f"pyplot.{ext}").read_bytes()
    assert charts.footprint_chart(charts.footprint_chart_input(default_result), None) == \
        charts.footprint_chart(default_result, None)


@pytest.mark.parametrize("kind", ["chart", "workbook"])
def test_error_in_a_worker_is_raised_and_nothing_is_written(default_result, tmp_path, fork, monkeypatch, kind):
    monkeypatch.setenv("LCA_BATTERY_TEST_WORKER_FAIL", kind)         # read by the child after the fork
    started = workers.start_footprint_workers()
    with pytest.raises(RuntimeError, match=rf"(?s)the {kind} failed in its worker process: "
                                           rf"RuntimeError: test failure in the {kind} worker\nTraceback .*_run"):
        _write(default_result, tmp_path / "out", started)
    assert not (tmp_path / "out").exists()
    assert list(tmp_path.iterdir()) == []                              # no temporary folder left behind
    assert all(w.pid is None for w in started.values())


def test_error_while_writing_ends_the_workers_and_leaves_nothing(default_result, tmp_path, fork, monkeypatch):
    def broken(*_):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(outputs, "_csv", broken)
    started = workers.start_footprint_workers()
    with pytest.raises(OSError, match="No space left"):
        _write(default_result, tmp_path / "out", started)
    assert list(tmp_path.iterdir()) == []
    assert all(w.pid is None for w in started.values())


def test_unused_worker_is_killed_and_reaped(fork):
    w = workers.Worker.start("chart")
    pid = w.pid
    w.close()
    w.close()                                                          # safe to repeat
    assert w.pid is None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, 0)


def test_no_workers_when_threads_run_or_switched_off(monkeypatch):
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    assert workers.start_footprint_workers() == {}
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setenv("LCA_BATTERY_PREFORK", "0")
    assert workers.start_footprint_workers() == {}
    with pytest.raises(ValueError, match="unknown worker 'x'"):
        workers.Worker.start("x")


def test_cli_error_before_writing_kills_the_workers(engine, tmp_path, capsys, fork, monkeypatch):
    """A bad --set: the workers forked at the start get nothing and are ended (no child left running)."""
    from lca_battery.cli import main
    started = []
    real = workers.start_footprint_workers
    monkeypatch.setattr(workers, "start_footprint_workers", lambda: started.append(real()) or started[-1])
    assert main(["footprint", str(EXAMPLE), "--set", "plant.country=XX", "--out", str(tmp_path / "r")]) == 2
    assert "error" in capsys.readouterr().err
    assert set(started[0]) == {"chart", "workbook"} and all(w.pid is None for w in started[0].values())
    assert not (tmp_path / "r").exists()


def test_cli_with_workers_writes_the_same_folder(engine, tmp_path, fork, monkeypatch):
    from lca_battery.cli import main
    assert main(["footprint", str(EXAMPLE), "--out", str(tmp_path / "a")]) == 0
    monkeypatch.setenv("LCA_BATTERY_PREFORK", "0")
    assert main(["footprint", str(EXAMPLE), "--out", str(tmp_path / "b")]) == 0
    a, b = _files(tmp_path / "a" / "nmc811-cn"), _files(tmp_path / "b" / "nmc811-cn")
    manifest_a, manifest_b = (json.loads(m.pop("manifest.json")) for m in (a, b))
    assert a == b
    for m in (manifest_a, manifest_b):       # the command line differs in --out only
        del m["command"], m["rerun"]
    assert manifest_a == manifest_b


def test_exit_as_the_program_flushes_runs_atexit_and_ends(monkeypatch, capsys):
    import atexit
    from lca_battery import cli
    calls = []
    monkeypatch.setattr(atexit, "_run_exitfuncs", lambda: calls.append("atexit"))
    monkeypatch.setattr(os, "_exit", lambda status: calls.append(("_exit", status)))
    monkeypatch.setattr(cli, "_main", lambda argv: print("result") or 0)
    monkeypatch.delenv("LCA_BATTERY_FULL_EXIT", raising=False)
    assert cli.main(["footprint"]) == 0 and calls == []              # called with arguments: returns
    cli.main(None)
    assert calls == ["atexit", ("_exit", 0)]
    assert "result" in capsys.readouterr().out
    monkeypatch.setenv("LCA_BATTERY_FULL_EXIT", "1")
    calls.clear()
    assert cli.main(None) == 0 and calls == []


def test_cli_chart_starts_at_the_headline_and_an_error_after_it_leaves_nothing(engine, tmp_path, fork, monkeypatch):
    """The chart worker is sent its input when the headline is known (before the mass balance), into a staged
    folder; an error after that (here in the mass balance) waits for the chart and removes that folder."""
    from lca_battery.analysis import massbalance
    from lca_battery.cli import main
    seen = []
    real_send = outputs.send_chart

    def send(chart, headline, tmp):
        seen.append((tmp, "mass_balance" in headline))
        real_send(chart, headline, tmp)
    monkeypatch.setattr(outputs, "send_chart", send)
    assert main(["footprint", str(EXAMPLE), "--out", str(tmp_path / "a")]) == 0
    (tmp, had_balance), = seen
    assert not had_balance and tmp.parent == tmp_path / "a" and not tmp.exists()
    assert {"footprint.png", "footprint.svg"} <= set(_files(tmp_path / "a" / "nmc811-cn"))

    def broken(*_a, **_k):
        raise MemoryError("test: failed after the headline")
    monkeypatch.setattr(massbalance, "balances", broken)
    assert main(["footprint", str(EXAMPLE), "--out", str(tmp_path / "b")]) != 0       # reported as an internal error
    assert len(seen) == 2 and list((tmp_path / "b").iterdir()) == []
