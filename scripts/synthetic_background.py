#!/usr/bin/env python
"""A synthetic, ecoinvent-size background database, linked under the battery model as a user's
ecoinvent is (``background: {database: ..., project: ...}``, lca_battery/background.py).

ALL NUMBERS IT WRITES ARE MADE-UP TEST DATA, seeded and reproducible. They stand for nothing real
and must never be used as an inventory: the database exists to measure and test the linking code
path and the sparse LU on a matrix of ecoinvent's size and shape.

Shape (defaults, ~ecoinvent 3.9 cut-off: 21,255 activities, ~300,000 technosphere exchanges):

* ``n`` processes (default 20,000), each producing one unit of its own product;
* ``inputs`` (default 18) sets the technosphere inputs per process: drawn around it, fewer for the SCC
  producers (a few market inputs each) and after duplicates are merged; the defaults give 307,603
  non-zeros with the diagonal (ecoinvent 3.9 cut-off: about 300,000);
* strongly connected components as in ecoinvent (whose markets, electricity, transport and
  chemicals feed one another): ``scc`` blocks (default 6,000 + 1,500 + 400 + 100 processes) whose
  processes draw most of their inputs from their own block, closed by a ring so that each block is
  one SCC; the other processes form a DAG (inputs only from processes listed before them, SCC
  members included), as ecoinvent's many single-process SCCs;
* every column's inputs sum to at most ``dominance`` (default 0.5) units per unit produced, so the
  matrix is column diagonally dominant: productive (every supply is positive) and non-singular;
* biosphere: fossil CO2 (every process), CH4 (one in ten), N2O (one in twenty), flows with the
  biosphere3 codes the engine characterises, in a biosphere database of their own;
* the activities of ``inventories/mappings/ecoinvent.json`` (name, reference product, location,
  units of the open process) are written among the SCC processes, so that linking runs the real
  code path: name/product/location lookup, location fallback, the cumulative LCI of each.

Usage::

  python scripts/synthetic_background.py --project synth-ei --processes 20000   # writes the database
  python -m lca_battery footprint examples/nmc811-cn.yaml \\
      --set background.database=synthetic-ecoinvent-cutoff --set background.project=synth-ei

It prints the time to generate, to write through bw2data (``Database.write`` with one dict, the
bulk path) and to process the datapackage.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parent.parent
MAPPING = ROOT / "inventories" / "mappings" / "ecoinvent.json"
DATABASE = "synthetic-ecoinvent-cutoff"
BIOSPHERE = "synthetic-ecoinvent-biosphere"
GASES = {"co2": ("Carbon dioxide, fossil", ("air",)), "ch4": ("Methane, fossil", ("air",)),
         "n2o": ("Dinitrogen monoxide", ("air",))}
DEFAULT_SCC = (6000, 1500, 400, 100)


def generate(n: int = 20000, inputs: int = 18, scc: tuple = DEFAULT_SCC, dominance: float = 0.5,
             seed: int = 42, hubs: float = 0.05, hub_inputs: int = 4, local: int = 0) -> dict:
    """The matrices (made-up numbers): ``A`` (n x n, CSC, Brightway signs: +1 production on the
    diagonal, inputs negative), ``B`` (3 x n: CO2, CH4, N2O in kg per unit), ``blocks`` (start, stop)
    of the SCC blocks, and ``anchors``: SCC processes the mapped activities are written on."""
    rng = np.random.default_rng(seed)
    scc = tuple(s for s in scc if s > 2)
    if sum(scc) > n:                              # small sizes: scale the blocks down
        f = 0.6 * n / sum(scc)
        scc = tuple(max(3, int(s * f)) for s in scc)
    blocks, start = [], 0
    for s in scc:
        blocks.append((start, start + s))
        start += s
    hubs_of = [max(1, int(hubs * (z - a))) for a, z in blocks]
    in_block = np.full(n, -1)
    for b, (a, z) in enumerate(blocks):
        in_block[a:z] = b
    rows, cols = [], []
    for j in range(n):
        k = int(rng.integers(max(1, inputs - 6), inputs + 7))
        b = in_block[j]
        if b >= 0:
            a, z = blocks[b]
            nh = hubs_of[b]
            if j < a + nh:                                          # a market: draws on producers of its block
                own = np.concatenate([np.arange(a + nh + (j - a), z, nh),  # (each producer on one market at least)
                                      rng.integers(a + nh, z, size=k)])
                ring = [a + (j - a + 1) % nh]                          # markets in a ring: one SCC per block
            else:                                                   # a producer: markets, and earlier processes
                own = np.concatenate([rng.integers(a, a + nh, size=min(k, hub_inputs)),
                                      rng.integers(a + nh, z, size=local)])
                ring = []
            prev = rng.integers(0, a, size=max(0, k - len(own))) if a > 0 else np.zeros(0, int)
            src = np.concatenate([own, prev, np.array(ring, dtype=int)]).astype(int)
        else:
            if j == 0:
                continue
            src = rng.integers(0, j, size=min(k, j))                  # DAG: only earlier processes
        src = np.unique(src[src != j])
        rows.append(src)
        cols.append(np.full(len(src), j))
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    v = rng.lognormal(0.0, 1.5, size=len(r))
    colsum = np.bincount(c, weights=v, minlength=n)
    scale = dominance * rng.uniform(0.2, 1.0, size=n) / np.where(colsum > 0, colsum, 1.0)
    v = -v * scale[c]                                                  # sum of inputs <= dominance
    A = sp.csc_matrix((np.concatenate([np.ones(n), v]), (np.concatenate([np.arange(n), r]),
                                                          np.concatenate([np.arange(n), c]))), shape=(n, n))
    co2 = rng.lognormal(-1.0, 1.5, size=n)
    ch4 = np.where(rng.random(n) < 0.1, rng.lognormal(-5.0, 1.0, size=n), 0.0)
    n2o = np.where(rng.random(n) < 0.05, rng.lognormal(-7.0, 1.0, size=n), 0.0)
    B = sp.csc_matrix(np.vstack([co2, ch4, n2o]))
    members = np.concatenate([np.arange(a, z) for a, z in blocks]) if blocks else np.arange(n)
    anchors = rng.permutation(members)
    return {"A": A, "B": B, "blocks": blocks, "anchors": anchors}


def mapped_targets(inventory=None) -> list[tuple[str, dict, str]]:
    """(open id, mapping target, Brightway unit of the open process) for each row of the mapping."""
    from lca_battery.model.superstructure import all_processes
    from lca_battery.units import BRIGHTWAY_UNIT_NAMES
    if inventory is None:
        from lca_battery.api import get_engine
        inventory = get_engine().inventory
    procs = all_processes(inventory)
    out = []
    for row in json.loads(MAPPING.read_text())["replace"]:
        pid = row["source"]["code"]
        unit = procs[pid].unit
        out.append((pid, row["target"], BRIGHTWAY_UNIT_NAMES.get(unit, unit)))
    return out


def biosphere_codes() -> dict[str, str]:
    """gas -> code of its flow in the engine's biosphere (bw2io's biosphere3 = ecoinvent's UUIDs)."""
    from lca_battery.api import get_engine
    from lca_battery.bw.project import biosphere_index
    get_engine().activate()
    idx = biosphere_index()
    return {g: idx[key][0] for g, key in GASES.items()}


def write(project: str, model: dict, targets, codes: dict[str, str], database: str = DATABASE) -> dict:
    """Write ``model`` into Brightway ``project`` (created if absent; the database replaced) with
    bw2data's bulk path. Returns timings (s) and sizes."""
    import bw2data as bd
    t0 = time.perf_counter()
    bd.projects.set_current(project)
    flows = {(BIOSPHERE, codes[g]): {"name": GASES[g][0], "categories": GASES[g][1], "unit": "kilogram",
                                     "type": "emission", "comment": "synthetic background (made-up test data)"}
             for g in GASES}
    if BIOSPHERE in bd.databases:
        del bd.databases[BIOSPHERE]
    bd.Database(BIOSPHERE).write(flows)
    A, B = model["A"].tocsc(), model["B"].tocsc()
    n = A.shape[0]
    names = {}
    for k, (pid, t, unit) in enumerate(targets):
        names[int(model["anchors"][k])] = (t["name"], t["reference product"], t["location"], unit)
    gas = list(GASES)
    data = {}
    for j in range(n):
        name, product, loc, unit = names.get(j, (f"synthetic process {j:05d}", f"synthetic product {j:05d}",
                                                 "GLO", "kilogram"))
        code = f"s{j:05d}"
        ex = []
        for p in range(A.indptr[j], A.indptr[j + 1]):
            i, a = int(A.indices[p]), float(A.data[p])
            if i == j:
                ex.append({"input": (database, code), "amount": a, "type": "production"})
            else:
                ex.append({"input": (database, f"s{i:05d}"), "amount": -a, "type": "technosphere"})
        for p in range(B.indptr[j], B.indptr[j + 1]):
            ex.append({"input": (BIOSPHERE, codes[gas[B.indices[p]]]), "amount": float(B.data[p]),
                       "type": "biosphere"})
        data[(database, code)] = {"name": name, "reference product": product, "location": loc, "unit": unit,
                                  "type": "process", "exchanges": ex,
                                  "comment": "synthetic background: MADE-UP TEST DATA (scripts/synthetic_background.py)"}
    t1 = time.perf_counter()
    if database in bd.databases:
        del bd.databases[database]
    db = bd.Database(database)
    db.write(data, process=False)
    t2 = time.perf_counter()
    db.process()
    t3 = time.perf_counter()
    return {"dicts_s": t1 - t0, "write_s": t2 - t1, "process_s": t3 - t2, "processes": n,
            "technosphere_nnz": int(A.nnz), "biosphere_nnz": int(B.nnz)}


def has_long_cycle(A: sp.spmatrix, min_length: int = 3) -> bool:
    """The graph of the off-diagonal entries has a strongly connected component of more than
    ``min_length - 1`` processes (so a cycle longer than ``min_length - 1``, not only self-loops
    and pairs)."""
    from scipy.sparse.csgraph import connected_components
    G = sp.csr_matrix(A, copy=True)
    G.setdiag(0)
    G.eliminate_zeros()
    _, labels = connected_components(G, directed=True, connection="strong")
    return int(np.bincount(labels).max()) >= min_length


def scc_sizes(A: sp.spmatrix) -> list[int]:
    from scipy.sparse.csgraph import connected_components
    G = sp.csr_matrix(A, copy=True)
    G.setdiag(0)
    G.eliminate_zeros()
    _, labels = connected_components(G, directed=True, connection="strong")
    sizes = np.bincount(labels)
    return sorted((int(s) for s in sizes if s > 1), reverse=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--project", default="synthetic-ecoinvent")
    ap.add_argument("--database", default=DATABASE)
    ap.add_argument("--processes", type=int, default=20000)
    ap.add_argument("--inputs", type=int, default=18)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    t = time.perf_counter()
    model = generate(args.processes, args.inputs, seed=args.seed)
    t_gen = time.perf_counter() - t
    codes = biosphere_codes()
    info = write(args.project, model, mapped_targets(), codes, args.database)
    print(json.dumps({"generate_s": round(t_gen, 2), **{k: (round(v, 2) if isinstance(v, float) else v)
                                                       for k, v in info.items()},
                      "largest_sccs": scc_sizes(model["A"])[:5]}, indent=1))


if __name__ == "__main__":
    main()
