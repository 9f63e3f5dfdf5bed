"""Double-precision datapackages read from the written Brightway databases.

bw2data processes amounts into bw_processing arrays of ``float32`` (about 7 significant
digits). A footprint that a verifier re-runs "to the same digits", an exact hand-computed check
and metal mass balances at 1e-9 need ``float64``. So the engine reads the exchanges that are
stored in the Brightway SQLite database (full precision) and packs them itself, with the same
node ids, matrix names and sign conventions as bw2data (technosphere inputs flipped,
production and substitution not). ``tests/test_project.py`` checks that these matrices
equal bw2data's own datapackages to float32 precision, so Activity Browser and the engine see
the same model.
"""
from __future__ import annotations

import numpy as np

from .project import bd


def _node_ids(databases) -> dict[tuple[str, str], int]:
    import bw2data.backends as backends
    A = backends.ActivityDataset
    return {(r.database, r.code): r.id for r in A.select(A.database, A.code, A.id)
            .where(A.database.in_(list(databases)))}


def inventory_datapackage(databases: list[str], sigma_of=None):
    """Technosphere and biosphere matrices of ``databases`` at float64 precision.

    ``sigma_of(code)``, if given, returns the lognormal sigma of every exchange of the process
    ``code``: the package then carries distributions (for Monte Carlo)."""
    import bw_processing as bwp
    import bw2data.backends as backends
    E = backends.ExchangeDataset
    ids = _node_ids([*databases, "biosphere3"])
    tech, bio = [], []
    for row in E.select(E.data, E.type).where(E.output_database.in_(list(databases))):
        d = row.data
        inp, out = ids[tuple(d["input"])], ids[tuple(d["output"])]
        kind = row.type
        sig = sigma_of(d["output"][1]) if sigma_of is not None and kind != "production" else 0.0
        if kind == "biosphere":
            bio.append((inp, out, float(d["amount"]), False, sig))
        elif kind in ("production", "substitution"):
            tech.append((inp, out, float(d["amount"]), False, sig))
        elif kind == "technosphere":
            tech.append((inp, out, float(d["amount"]), True, sig))
        else:  # pragma: no cover - we write no other types
            raise ValueError(f"unexpected exchange type {kind!r}")
    dp = bwp.create_datapackage(sequential=True, sum_intra_duplicates=True, sum_inter_duplicates=False)
    for matrix, rows in (("technosphere_matrix", tech), ("biosphere_matrix", bio)):
        arr = np.array(rows, dtype=[("row", np.int64), ("col", np.int64), ("amount", np.float64), ("flip", bool),
                                    ("sigma", np.float64)])
        kwargs = {}
        if sigma_of is not None:
            kwargs["distributions_array"] = lognormal_distributions(arr["amount"], arr["sigma"])
        dp.add_persistent_vector(
            matrix=matrix, name=f"lcab-{matrix}",
            indices_array=np.array(list(zip(arr["row"], arr["col"])), dtype=bwp.INDICES_DTYPE),
            data_array=arr["amount"], flip_array=arr["flip"], **kwargs)
    return dp


def lognormal_distributions(amounts: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    """stats_arrays rows: lognormal with median = amount where sigma > 0 and amount != 0, else fixed.
    A negative amount (a credit, an uptake) is flagged ``negative`` so that sampling keeps its sign
    (a lognormal alone is positive)."""
    import bw_processing as bwp
    amounts = np.asarray(amounts, dtype=float)
    dist = np.zeros(len(amounts), dtype=bwp.UNCERTAINTY_DTYPE)
    uncertain = (np.asarray(sigmas) > 0) & (amounts != 0)
    dist["uncertainty_type"] = np.where(uncertain, 2, 0)                   # 2: lognormal (stats_arrays)
    dist["loc"] = np.where(uncertain, np.log(np.abs(np.where(amounts == 0, 1.0, amounts))), amounts)
    dist["scale"] = np.where(uncertain, sigmas, np.nan)
    dist["shape"] = dist["minimum"] = dist["maximum"] = np.nan
    dist["negative"] = amounts < 0
    return dist


def method_datapackage(method: tuple):
    """Characterization factors of ``method`` at float64 precision."""
    import bw_processing as bwp
    b = bd()
    pairs = []
    for flow, cf in b.Method(method).load():
        fid = flow if isinstance(flow, int) else b.get_id(tuple(flow))
        pairs.append((fid, float(cf)))
    glo = b.geomapping[b.config.global_location]    # as bw2data's Method.process does
    dp = bwp.create_datapackage(sequential=True)
    dp.add_persistent_vector(
        matrix="characterization_matrix", name="lcab-cf",
        indices_array=np.array([(f, glo) for f, _ in pairs], dtype=bwp.INDICES_DTYPE),
        data_array=np.array([cf for _, cf in pairs], dtype=np.float64), global_index=glo)
    return dp
