"""Dask: sweeps and Monte Carlo on a local cluster equal the serial run; an unreachable scheduler is
one clear error within seconds; the CLI's --paired-with / --paired-set."""
import csv
import os
import socket
import time

import pytest

from conftest import EXAMPLE, assert_same_rows
from lca_battery.api import sweep, uncertainty
from lca_battery.cli import main
from lca_battery.errors import StudyError

distributed = pytest.importorskip("distributed")

SCENARIOS = [
    {"plant.country": "CN"},
    {"plant.country": "PL", "recycling.recycled_content.Co.post_consumer": 0.26},
    {"recycling.recycled_content.Co.post_consumer": 0.5, "recycling.accounting": "cff"},
    {"recycling.eol_collection_rate": 0.6, "recycling.accounting": "avoided_burden"},
    {"cell.chemistry": "LFP", "cell.nominal_voltage_v": 3.2, "recycling.route": "hydro_lfp"},
    {"cell.chemistry": "NMC622", "plant.country": "HU"},
    {"method": "ef31", "plant.country": "FR"},
]


@pytest.fixture(scope="module")
def cluster():
    """Two workers as threads of this process (quick to start; test_real_processes uses processes)."""
    from lca_battery.distributed import client
    with client(workers=2, processes=False) as c:
        yield c


def _equal(a: list[dict], b: list[dict]):
    assert_same_rows(b, a, same_columns=True, rel=1e-12)


def test_sweep_on_cluster_equals_serial(engine, cluster, monkeypatch):
    import lca_battery.sweep_serial as sweep_serial
    grid = {"recycling.recycled_content.Li.post_consumer": [0.0, 0.1],        # fields no column of the table sets
            "recycling.recycled_content.Li.pre_consumer": [0.0, 0.02]}
    serial = sweep(EXAMPLE, grid, engine=engine, table=SCENARIOS)
    t0 = time.perf_counter()
    same = sweep(EXAMPLE, grid, engine=engine, table=SCENARIOS, client=cluster)     # one chunk: bit-identical
    assert same == serial
    monkeypatch.setattr(sweep_serial, "SOLVE_BATCH", 5)            # 6 chunks over 2 workers, in order
    seen = []
    split = sweep(EXAMPLE, grid, engine=engine, table=SCENARIOS, client=cluster,
                  progress=lambda d, n: seen.append((d, n)))
    _equal(serial, split)
    assert seen[-1] == (len(serial), len(serial))
    assert time.perf_counter() - t0 < 60


def test_grid_split_choice():
    """The cut keeps the grid engine's builds lowest: along the long axis (its pairs are built with every
    other axis anyway), never along an axis of one value; no cut when it cannot pay."""
    from lca_battery.distributed import _split_builds, grid_split
    from lca_battery.sweep_engine import table_builds
    assert grid_split((8, 1000), 2) == (1, 8)            # 8 sub-grids of 125 x 8: about the serial builds
    assert grid_split((1000, 8), 2) == (0, 8)
    assert grid_split((8, 1000, 3), 2)[0] == 1
    assert grid_split((1, 1, 1), 2) is None              # nothing to cut: row chunks
    assert grid_split((1, 5), 2) == (1, 5)
    axis, parts = grid_split((8, 1000, 3), 4)
    assert parts == 16 and _split_builds((8, 1000, 3), axis, parts) <= 1.25 * table_builds((8, 1000, 3), 24000)
    for other in (0, 2):                                 # cutting another axis would build more
        assert _split_builds((8, 1000, 3), other, 8) > _split_builds((8, 1000, 3), 1, 8)


def test_grid_on_cluster_builds_on_the_workers_and_equals_serial_bit_for_bit(engine, cluster):
    """A grid (no table): the grid engine runs on the client, its study builds on the workers
    (DaskBuildPool, the same build function on the same compiled model), the assembly and the vectorised solve
    on the client: the rows are the serial rows bit for bit, in the serial (Cartesian) order, stage, gas and
    material columns included (the issue asks for results identical to the serial run)."""
    import lca_battery.distributed as dist
    grid = {"cell.chemistry": ["NMC811", "NMC622"], "plant.country": ["CN", "SE", "PL"],
            "recycling.recycled_content.Co.post_consumer": [0.0, 0.1, 0.2, 0.3, 0.4]}
    serial = sweep(EXAMPLE, grid, engine=engine)
    before = dict(dist._COUNTS)                          # the workers are threads of this process
    seen = []
    rows = sweep(EXAMPLE, grid, engine=engine, client=cluster, progress=lambda d, n: seen.append((d, n)))
    assert dist._COUNTS["builds"] - before["builds"] >= 16       # the pairs' builds went to the workers
    assert dist._COUNTS["chunks"] == before["chunks"] and dist._COUNTS["subgrids"] == before["subgrids"]
    assert rows == serial                                # bit for bit
    assert any(k.startswith("material:") for k in rows[0]) and any(k.startswith("gas:") for k in rows[0])
    assert seen[-1] == (30, 30)
    two = {"plant.country": ["CN", "SE", "PL", "DE", "FR"],
           "recycling.recycled_content.Co.post_consumer": [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]}
    assert sweep(EXAMPLE, two, engine=engine, client=cluster) == sweep(EXAMPLE, two, engine=engine)
    one = {"plant.country": ["SE"], "recycling.eol_collection_rate": [0.6]}      # one build: on the client
    assert sweep(EXAMPLE, one, engine=engine, client=cluster) == sweep(EXAMPLE, one, engine=engine)
    with pytest.raises(StudyError, match="unknown country code 'XX'"):           # the serial run's error
        sweep(EXAMPLE, {"plant.country": ["CN", "SE", "XX", "PL", "DE"],
                        "recycling.recycled_content.Co.post_consumer": [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]},
              engine=engine, client=cluster)


def test_grid_error_on_cluster_as_serial(engine, cluster):
    """A bad value in a grid cut into sub-grids: the error of the serial run, word for word."""
    from lca_battery.errors import StudyError
    grid = {"plant.country": ["CN", "SE", "XX", "PL"], "recycling.recycled_content.Co.post_consumer": [0.0, 0.1, 0.2]}
    with pytest.raises(StudyError) as serial:
        sweep(EXAMPLE, grid, engine=engine)
    with pytest.raises(StudyError) as dask:
        sweep(EXAMPLE, grid, engine=engine, client=cluster)
    assert str(dask.value) == str(serial.value)
    assert "XX" in str(dask.value)


def test_sweep_error_on_cluster_names_row_as_serial(engine, cluster, monkeypatch):
    import lca_battery.sweep_serial as sweep_serial
    from lca_battery.errors import StudyError
    monkeypatch.setattr(sweep_serial, "SOLVE_BATCH", 2)
    table = [{"plant.country": "CN"}, {"plant.country": "SE"}, {"plant.country": "SE"},
             {"plant.country": "XX"}, {"plant.country": "CN"}]
    with pytest.raises(StudyError) as serial:
        sweep(EXAMPLE, {"recycling.recycled_content.Co.post_consumer": [0.0, 0.1]}, engine=engine, table=table)
    with pytest.raises(StudyError) as dask:
        sweep(EXAMPLE, {"recycling.recycled_content.Co.post_consumer": [0.0, 0.1]}, engine=engine, table=table,
              client=cluster)
    assert str(dask.value) == str(serial.value)
    assert "row 4" in str(dask.value)


def test_monte_carlo_on_cluster_is_the_serial_run(engine, cluster, monkeypatch):
    import lca_battery.montecarlo as mc
    monkeypatch.setattr(mc, "CHUNK", 64)                  # 5 chunks (the client's chunking = the serial one)
    kw = dict(engine=engine, samples=300, seed=11, paired_with=EXAMPLE, paired_overrides={"plant.country": "SE"})
    serial = uncertainty(EXAMPLE, **kw)
    dask = uncertainty(EXAMPLE, **kw, client=cluster)
    assert dask["samples"] == serial["samples"]             # same draws, same solves: bit for bit
    assert dask["paired"]["samples"] == serial["paired"]["samples"]
    assert dask["paired"]["difference"] == serial["paired"]["difference"]


def test_real_processes(engine, monkeypatch):
    """Two worker processes: the worker builds its engine from the shipped model (no Brightway project
    of the user, no study file read on the worker), results equal to the serial run. Each worker builds
    its engine and the study's context once and reuses them for all its chunks, in this sweep and the
    next one of the same study (counted in the worker process; a new study gets a new context)."""
    import lca_battery.sweep_serial as sweep_serial
    import lca_battery.montecarlo as mc
    from lca_battery.distributed import client, worker_counts
    grid = {"plant.country": ["CN", "SE", "PL", "DE", "FR"],
            "recycling.recycled_content.Co.post_consumer": [0.0, 0.04, 0.08, 0.12, 0.16, 0.2]}
    table = [{"recycling.recycled_content.Co.post_consumer": i / 20, "plant.country": c}
             for i in range(10) for c in ("CN", "SE")]
    serial = sweep(EXAMPLE, grid, engine=engine)
    monkeypatch.setattr(mc, "CHUNK", 100)
    u_serial = uncertainty(EXAMPLE, engine=engine, samples=250, seed=3)
    monkeypatch.setattr(sweep_serial, "SOLVE_BATCH", 2)
    t_serial = sweep(EXAMPLE, table=table, engine=engine)      # solved in batches of 2: the chunks' batches
    with client(workers=2) as c:
        assert len(c.scheduler_info()["workers"]) == 2
        assert sweep(EXAMPLE, grid, engine=engine, client=c) == serial              # builds on the workers
        assert sweep(EXAMPLE, table=table, engine=engine, client=c) == t_serial      # 5 chunks: bit for bit
        assert sweep(EXAMPLE, table=table[:12], engine=engine, client=c) == t_serial[:12]
        counts = list(c.run(worker_counts).values())
        assert uncertainty(EXAMPLE, engine=engine, samples=250, seed=3, client=c)["samples"] == u_serial["samples"]
        sweep(EXAMPLE, table=table[:4], overrides={"plant.country": "DE"}, engine=engine, client=c)
        after = list(c.run(worker_counts).values())
        pids = set(c.run(os.getpid).values())
    assert len(pids) == 2 and os.getpid() not in pids
    assert sum(w["chunks"] for w in counts) == 5 + 6                 # the tables' chunks
    assert sum(w["builds"] for w in counts) >= 16                     # the grid's builds, made by the workers
    for w in counts:
        assert w["engines"] <= 1 and w["studies"] <= 1                  # once per worker, not per chunk
    assert sum(w["studies"] for w in after) - sum(w["studies"] for w in counts) >= 1   # other overrides: new context


def test_unreachable_scheduler_is_one_clear_error(capsys):
    with socket.socket() as s:                              # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.perf_counter()
    code = main(["sweep", str(EXAMPLE), "--grid", "plant.country=CN,SE", "--scheduler", f"tcp://127.0.0.1:{port}",
                 "--no-write"])
    took = time.perf_counter() - t0
    err = capsys.readouterr().err
    assert code == 2
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert took < 15


def test_bad_scheduler_options(capsys):
    assert main(["sweep", str(EXAMPLE), "--grid", "plant.country=CN", "--scheduler", "nowhere", "--no-write"]) == 2
    assert "is not a scheduler address" in capsys.readouterr().err
    assert main(["uncertainty", str(EXAMPLE), "--workers", "2", "--scheduler", "tcp://127.0.0.1:1", "--no-write"]) == 2
    assert "not both" in capsys.readouterr().err


def test_cli_paired_monte_carlo(tmp_path, capsys):
    code = main(["uncertainty", str(EXAMPLE), "--samples", "200", "--paired-set", "plant.country=SE",
                 "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "A - B" in out and "probability that B < A" in out
    with open(tmp_path / "nmc811-cn-uncertainty" / "samples.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 200 and set(rows[0]) == {"sample", "kg_co2e_per_kwh", "paired_kg_co2e_per_kwh", "difference"}
    r = rows[0]
    assert float(r["difference"]) == pytest.approx(float(r["kg_co2e_per_kwh"]) - float(r["paired_kg_co2e_per_kwh"]))
    import json
    res = json.loads((tmp_path / "nmc811-cn-uncertainty" / "uncertainty.json").read_text())
    assert res["paired"]["share_other_lower"] + res["paired"]["share_lower"] <= 1.0
    assert res["paired"]["share_other_lower"] > 0.9        # a Swedish plant is lower in (nearly) every sample


def test_cli_paired_bad_input(capsys):
    assert main(["uncertainty", str(EXAMPLE), "--samples", "20", "--paired-with", "no/such/study.yaml",
                 "--no-write"]) == 2
    err = capsys.readouterr().err
    assert "study file not found: no/such/study.yaml" in err and "Traceback" not in err
    assert main(["uncertainty", str(EXAMPLE), "--samples", "20", "--paired-set", "plant.nope=SE", "--no-write"]) == 2
    err = capsys.readouterr().err
    assert "plant.nope" in err and "Traceback" not in err
    assert len([x for x in err.splitlines() if "error" in x]) == 1
