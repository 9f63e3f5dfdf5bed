"""Activity Browser scenario difference files rebuild lca_battery's numbers (issue 10, point 3).

The check does what Activity Browser does with the file (``SuperstructureMLCA.update_matrices``):
bw2data's own datapackages of the project, then each scenario column written into the matrices
(technosphere amounts flipped) and solved again. It uses none of lca_battery's engine code."""
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT
from lca_battery.api import footprint, sweep
from lca_battery.cli import main
from lca_battery.export.ab import SUPERSTRUCTURE, read_scenarios, scenario_columns

EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def ab_scores(path: Path, engine, method) -> dict[str, float]:
    import bw2calc as bc
    import bw2data as bd
    engine.activate()
    df = read_scenarios(path)
    root = bd.get_node(database="lcab-model", code="product_system")
    fu, data_objs, _ = bd.prepare_lca_inputs({root: 1}, method=method)
    lca = bc.LCA(fu, data_objs=data_objs)
    lca.lci()
    lca.lcia()
    ids = {k: bd.get_id(k) for k in set(df["from key"]) | set(df["to key"])}
    out = {}
    for name in scenario_columns(df):
        A, B = lca.technosphere_matrix.tolil(), lca.biosphere_matrix.tolil()
        for frm, to, kind, v in zip(df["from key"], df["to key"], df["flow type"], df[name]):
            col = lca.dicts.activity[ids[to]]
            if kind == "technosphere":
                A[lca.dicts.product[ids[frm]], col] = -v
            else:
                B[lca.dicts.biosphere[ids[frm]], col] = v
        lca.technosphere_matrix, lca.biosphere_matrix = A.tocsr(), B.tocsr()
        if hasattr(lca, "solver"):
            del lca.solver
        lca.lci_calculation()
        lca.lcia_calculation()
        out[name] = float(lca.score)
    return out


def test_three_examples_round_trip(engine, tmp_path):
    from lca_battery.bw.project import METHODS
    out = tmp_path / "scenarios.csv"
    assert main(["export", *map(str, EXAMPLES), "--format", "ab-scenarios", "--out", str(out)]) == 0
    df = read_scenarios(out)
    assert list(df.columns[:13]) == list(SUPERSTRUCTURE)
    assert scenario_columns(df) == [p.stem for p in EXAMPLES]
    assert not df[scenario_columns(df)].isna().any().any()
    assert set(df["flow type"]) == {"technosphere", "biosphere"}
    for frm, db in zip(df["from key"], df["from database"]):
        assert frm[0] == db                      # AB's database_and_key_check
    scores = ab_scores(out, engine, METHODS["ipcc2021"]["total"])
    for p in EXAMPLES:
        r = footprint(p, engine=engine, details=False)
        if r["method"]["family"] != "ipcc2021":
            scores[p.stem] = ab_scores(out, engine, METHODS[r["method"]["family"]]["total"])[p.stem]
        assert scores[p.stem] == pytest.approx(r["kg_co2e_per_kwh"], rel=2e-6), p.stem


def test_zeros_are_rows(engine, tmp_path):
    """Entries a study sets to 0 are rows too (parameters.csv leaves them out): e.g. the cells not chosen."""
    out = tmp_path / "s.csv"
    assert main(["export", str(EXAMPLES[0]), "--format", "ab-scenarios", "--out", str(out)]) == 0
    df = read_scenarios(out)
    to_root = df[df["to key"] == ("lcab-model", "product_system")]
    assert (to_root[EXAMPLES[0].stem] == 0).sum() >= 3


def test_grid_columns_and_xlsx(engine, tmp_path):
    from lca_battery.bw.project import METHODS
    ex = ROOT / "examples" / "nmc811-cn.yaml"
    out = tmp_path / "grid.xlsx"
    assert main(["export", str(ex), "--format", "ab-scenarios", "--out", str(out),
                 "--grid", "plant.country=CN,SE", "--grid", "recycling.recycled_content.Co.post_consumer=0,0.26"]) == 0
    df = read_scenarios(out)
    cols = scenario_columns(df)
    assert len(cols) == 4 and cols[0] == "nmc811-cn | plant.country=CN, recycling.recycled_content.Co.post_consumer=0"
    rows = sweep(ex, {"plant.country": ["CN", "SE"], "recycling.recycled_content.Co.post_consumer": [0, 0.26]},
                 engine=engine)
    scores = ab_scores(out, engine, METHODS["ipcc2021"]["total"])
    assert np.allclose([scores[c] for c in cols], [r["kg_co2e_per_kwh"] for r in rows], rtol=2e-6)


def test_bad_out_suffix(engine, tmp_path, capsys):
    code = main(["export", str(EXAMPLES[0]), "--format", "ab-scenarios", "--out", str(tmp_path / "x.txt")])
    err = capsys.readouterr().err
    assert code == 2 and ".csv or .xlsx" in err and "Traceback" not in err
