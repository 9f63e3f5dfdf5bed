"""Activity Browser scenario difference file ("superstructure" file) of one or more studies.

Layout (Activity Browser ``bwutils/superstructure/utils.py``, ``SUPERSTRUCTURE``, and
``file_imports.py``, ``ABCSVImporter``; read at commit 03fe1cb of LCA-ActivityBrowser/activity-browser):
the thirteen columns ``from activity name``, ``from reference product``, ``from location``,
``from categories``, ``from database``, ``from key``, ``to activity name``, ``to reference
product``, ``to location``, ``to categories``, ``to database``, ``to key``, ``flow type``, then
one column of amounts per scenario. Keys are written as Python tuples ``('database', 'code')``
(AB parses them with ``ast.literal_eval`` and checks that the database matches the key); the CSV
separator is ``;`` (AB's default). An ``.xlsx`` file has the table on its second sheet (AB imports
sheet 1 by default; the first holds a description).

Amounts are as stored in a Brightway exchange: a technosphere input positive (AB flips it into
the matrix), an avoided product negative, a biosphere flow in the flow's unit. AB *replaces* the
matrix value of each row's (input, output) pair by the scenario's amount, as lca_battery's study
datapackage does (``sum_inter_duplicates=False``). Every entry a study sets is a row, zeros
included; a row one study does not set carries the database's value for that study, so that no
cell is empty (AB would fill it with the same value, with a warning).
"""
from __future__ import annotations

from pathlib import Path

SUPERSTRUCTURE = ("from activity name", "from reference product", "from location", "from categories",
                  "from database", "from key", "to activity name", "to reference product", "to location",
                  "to categories", "to database", "to key", "flow type")


def _base_matrices(engine):
    """Technosphere and biosphere matrices of the databases as written (the default study)."""
    import bw2calc as bc
    from ..model.superstructure import ROOT
    engine.activate()
    lca = bc.LCA({engine.ids[ROOT]: 1.0}, data_objs=engine.base_packages("ipcc2021")[:1])
    lca.load_lci_data()
    return lca


def scenario_table(scenarios, engine):
    """A pandas DataFrame in Activity Browser's layout: one row per matrix entry any study sets."""
    import pandas as pd
    from ..bw.project import BIOSPHERE, biosphere_index
    from ..bw.writer import database_of
    from ..model.superstructure import bio_key
    engine.activate()
    procs = engine.processes
    bio = {bio_key(flow): (flow, code, nid) for flow, (code, _, nid) in biosphere_index(True).items()}
    rows: dict[tuple, dict] = {}
    for sc in scenarios:
        for e in sc.mapping.entries:
            rows.setdefault((e.matrix, e.input, e.output), {})[sc.name] = e.amount
    lca = _base_matrices(engine)
    A, B = lca.technosphere_matrix, lca.biosphere_matrix
    records = []
    for (matrix, inp, outp), values in rows.items():
        o = procs[outp]
        col = lca.dicts.activity[engine.ids[outp]]
        if matrix == "technosphere":
            i = procs[inp]
            frm = {"from activity name": i.name, "from reference product": i.reference_product,
                   "from location": i.location, "from categories": None, "from database": database_of(i),
                   "from key": str((database_of(i), inp))}
            row = lca.dicts.product[engine.ids[inp]]
            default = -float(A[row, col]) if row != col else float(A[row, col])
        else:
            flow, code, nid = bio[inp]
            frm = {"from activity name": flow[0], "from reference product": None, "from location": None,
                   "from categories": str(tuple(flow[1])), "from database": BIOSPHERE,
                   "from key": str((BIOSPHERE, code))}
            row = lca.dicts.biosphere.get(nid)
            default = float(B[row, col]) if row is not None else 0.0
        rec = {**frm, "to activity name": o.name, "to reference product": o.reference_product,
               "to location": o.location, "to categories": None, "to database": database_of(o),
               "to key": str((database_of(o), outp)), "flow type": matrix}
        for sc in scenarios:
            rec[sc.name] = values.get(sc.name, default)
        records.append(rec)
    df = pd.DataFrame.from_records(records, columns=[*SUPERSTRUCTURE, *(sc.name for sc in scenarios)])
    return df.sort_values(["flow type", "to database", "to key", "from key"], kind="stable").reset_index(drop=True)


def write_scenarios(scenarios, engine, out: Path) -> Path:
    """Write the scenario difference file: ``.csv`` (``;``-separated) or ``.xlsx``."""
    from ..errors import LcaBatteryError
    out = Path(out)
    df = scenario_table(scenarios, engine)
    suffix = out.suffix.lower()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        df.to_csv(out, sep=";", index=False)
    elif suffix == ".xlsx":
        import pandas as pd
        info = pd.DataFrame({"lca_battery scenario difference file": [
            "Activity Browser scenario difference file written by lca-battery export --format ab-scenarios.",
            "Open the Brightway project 'lca_battery' in Activity Browser, create a calculation setup with the "
            "reference flow 'battery cell capacity, product system of the study' (1 kWh) and a climate-change "
            "method, choose 'Scenario LCA' and load this file (sheet 2).",
            *(f"scenario '{s.name}': {s.file}" for s in scenarios)]})
        with pd.ExcelWriter(out) as xw:
            info.to_excel(xw, sheet_name="info", index=False)
            df.to_excel(xw, sheet_name="scenarios", index=False)
    else:
        raise LcaBatteryError(f"--out must end in .csv or .xlsx for ab-scenarios (got '{out.name}')", field="--out")
    return out


def read_scenarios(path: Path):
    """Read a scenario difference file back as Activity Browser does (keys as tuples)."""
    import ast
    import pandas as pd
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        df = pd.read_excel(path, sheet_name=1)
        for c in ("from key", "to key"):
            df[c] = df[c].map(ast.literal_eval)
        return df
    return pd.read_csv(path, sep=";", index_col=False,
                       converters={"from key": ast.literal_eval, "to key": ast.literal_eval})


def scenario_columns(df) -> list[str]:
    return [c for c in df.columns if c not in SUPERSTRUCTURE]

