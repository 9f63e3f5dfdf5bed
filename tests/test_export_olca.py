"""openLCA JSON-LD and Brightway Excel exports (issue 10, point 4).

The openLCA zip is read back with olca-schema; the matrices rebuilt from its processes and
exchanges (product system links) give the study's footprint with the IPCC 2021 factors."""
import re

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from conftest import ROOT
from lca_battery.api import footprint
from lca_battery.cli import main

EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def ipcc_by_code(engine) -> dict[str, float]:
    import bw2data as bd
    from lca_battery.bw.project import METHODS
    engine.activate()
    out = {}
    for flow, cf in bd.Method(METHODS["ipcc2021"]["total"]).load():
        node = bd.get_node(id=flow) if isinstance(flow, int) else bd.get_node(database=flow[0], code=flow[1])
        out[node["code"]] = out.get(node["code"], 0.0) + float(cf)
    return out


def zip_score(path, cf_by_code) -> tuple[float, dict]:
    import olca_schema as o
    import olca_schema.zipio as zipio
    from lca_battery.export.olca import ef_mapping
    mapping = ef_mapping()
    with zipio.ZipReader(str(path)) as z:
        systems = list(z.read_each(o.ProductSystem))
        procs = {p.id: p for p in z.read_each(o.Process)}
        flows = {f.id: f for f in z.read_each(o.Flow)}
    assert len(systems) == 1
    ps = systems[0]
    assert {r.id for r in ps.processes} == set(procs)
    idx = {pid: n for n, pid in enumerate(procs)}
    provider = {}                               # product flow id -> process id (its reference output)
    for p in procs.values():
        ref = [x for x in p.exchanges if x.is_quantitative_reference]
        assert len(ref) == 1 and not ref[0].is_input
        provider[ref[0].flow.id] = p.id
    links = {(lk.process.id, lk.exchange.internal_id): lk.provider.id for lk in ps.process_links}
    rows, cols, vals, cf = [], [], [], np.zeros(len(procs))
    for p in procs.values():
        j = idx[p.id]
        for x in p.exchanges:
            f = flows[x.flow.id]
            if f.flow_type == o.FlowType.ELEMENTARY_FLOW:
                code = re.search(r"elementary flow (\S+):", f.description).group(1)
                scale = float(mapping.get(code, {}).get("unit_scaling") or 1.0)
                cf[j] += x.amount / scale * cf_by_code.get(code, 0.0)
                continue
            if x.is_quantitative_reference:
                rows.append(j), cols.append(j), vals.append(x.amount)
                continue
            prov = links[(p.id, x.internal_id)]
            assert prov == provider[x.flow.id] and x.default_provider.id == prov
            sign = 1.0 if (x.is_avoided_product or not x.is_input) else -1.0
            rows.append(idx[prov]), cols.append(j), vals.append(sign * x.amount)
    A = sp.csc_matrix((vals, (rows, cols)), shape=(len(procs),) * 2)
    demand = np.zeros(len(procs))
    demand[idx[ps.ref_process.id]] = ps.target_amount
    supply = spla.spsolve(A, demand)
    return float(cf @ supply), {"procs": procs, "flows": flows, "ps": ps}


@pytest.mark.parametrize("study", EXAMPLES, ids=lambda p: p.stem)
def test_olca_round_trip(engine, tmp_path, study):
    out = tmp_path / f"{study.stem}.zip"
    assert main(["export", str(study), "--format", "olca", "--out", str(out)]) == 0
    r = footprint(study, engine=engine, details=False)
    score, z = zip_score(out, ipcc_by_code(engine))
    if r["method"]["family"] == "ipcc2021":
        assert score == pytest.approx(r["kg_co2e_per_kwh"], rel=2e-6)
    assert len(z["procs"]) == len(engine.processes)
    # the root's cell input is the study's kg of cell per kWh; the cells not chosen are 0 exchanges
    root = z["procs"][z["ps"].ref_process.id]
    cell_inputs = {z["flows"][x.flow.id].name: x.amount for x in root.exchanges
                   if x.is_input and "(cell_" in z["flows"][x.flow.id].name}
    chosen = [v for v in cell_inputs.values() if v]
    assert len(chosen) == 1 and chosen[0] == pytest.approx(r["cell"]["mass_kg"] / r["cell"]["energy_kwh"], rel=1e-9)
    assert len(cell_inputs) >= 3
    # every elementary flow has an EF 3.1 id (none is left on its ecoinvent id)
    from lca_battery.export.olca import ef_mapping
    efids = {t["uuid"] for t in ef_mapping().values()}
    import olca_schema as o
    assert all(f.id in efids for f in z["flows"].values() if f.flow_type == o.FlowType.ELEMENTARY_FLOW)


def test_olca_one_study_only(engine, tmp_path, capsys):
    code = main(["export", *map(str, EXAMPLES[:2]), "--format", "olca", "--out", str(tmp_path / "x.zip")])
    err = capsys.readouterr().err
    assert code == 2 and "ab-scenarios" in err and not (tmp_path / "x.zip").exists()


def test_bw_excel(engine, tmp_path):
    import openpyxl
    out = tmp_path / "xl"
    assert main(["export", str(EXAMPLES[0]), "--format", "bw-excel", "--out", str(out)]) == 0
    books = sorted(p.name for p in out.glob("*.xlsx"))
    assert books == sorted(f"lci-{db}.xlsx" for db in engine.databases)
    ws = openpyxl.load_workbook(out / "lci-lcab-model.xlsx", read_only=True).worksheets[0]
    cells = {v for row in ws.iter_rows(values_only=True) for v in row if isinstance(v, str)}
    assert "battery cell capacity, product system of the study" in cells
    assert (out / f"{EXAMPLES[0].stem}-scenario.csv").is_file()
