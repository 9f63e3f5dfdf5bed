"""Sweeps: the Cartesian product of study values, each scenario on the same matrices."""
import json

import pytest

from conftest import EXAMPLE
from lca_battery.api import footprint, sweep
from lca_battery.cli import main


def test_sweep_matches_single_footprints(engine):
    grid = {"plant.country": ["CN", "SE"], "recycling.recycled_content.Co.post_consumer": [0.0, 0.26]}
    rows = sweep(EXAMPLE, grid, engine=engine)
    assert len(rows) == 4
    for r in rows:
        one = footprint(EXAMPLE, {"plant.country": r["plant.country"],
                                  "recycling.recycled_content.Co.post_consumer":
                                      r["recycling.recycled_content.Co.post_consumer"]},
                        engine=engine, details=False)
        assert r["kg_co2e_per_kwh"] == pytest.approx(one["kg_co2e_per_kwh"], rel=1e-12)
        assert sum(v for k, v in r.items() if k.startswith("stage:")) == pytest.approx(r["kg_co2e_per_kwh"], rel=1e-9)


def test_sweep_cli_writes_csv(engine, tmp_path, capsys):
    code = main(["sweep", str(EXAMPLE), "--grid", "plant.country=CN,SE,PL", "--out", str(tmp_path)])
    assert code == 0
    folder = tmp_path / "nmc811-cn-sweep"
    rows = json.loads((folder / "sweep.json").read_text())
    assert [r["plant.country"] for r in rows] == ["CN", "SE", "PL"]
    assert (folder / "sweep.csv").read_text(encoding="utf-8-sig").splitlines()[0].startswith("plant.country,")


def test_sweep_bad_key(engine, tmp_path, capsys):
    code = main(["sweep", str(EXAMPLE), "--grid", "plant.contry=CN,SE", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "unknown key 'plant.contry'" in err and not any(tmp_path.iterdir())
