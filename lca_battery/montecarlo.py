"""Fast Monte Carlo of the data-quality uncertainty: vectorised sampling, vectorised exact solves.

Same distributions as the bw2calc path (:meth:`lca_battery.calc.Engine.monte_carlo`, see
:mod:`lca_battery.analysis.uncertainty`): every stored exchange of the written databases that
is not a production exchange is lognormal with median = its amount (sign kept) and the sigma
of its dataset's PEF scores; duplicate exchanges of a cell are sampled apart and summed; the
cells a study sets replace the sampled cell and stay fixed; characterisation factors are fixed.

What differs is how it is computed:

* **Sampling** is one ``numpy`` draw of standard normals per chunk of :data:`CHUNK` samples,
  ``Z[s, i]`` for every uncertain exchange ``i`` of the inventory, each chunk from its own stream
  spawned from the seed (:func:`chunk_draws`), so the first ``k`` samples of a run do not depend on
  how many are asked for, nor on whether the chunks are drawn in one process or on many workers.
  The draws belong to the inventory's exchanges, not to the study: two studies run with the same
  seed see the same draws on every exchange they share, which is *paired* (correlated) Monte
  Carlo, and their difference has its own distribution.
* **Solving**: the sparsity pattern is the same for every sample, so it is analysed once. The
  technosphere graph is split into strongly connected components and ordered topologically
  (block-triangular form); each level of blocks is then solved for all samples at once with
  vectorised numpy (a division per 1x1 block, a batched dense solve per cycle). This is an
  exact direct solve - forward substitution on the block-triangular matrix - not an
  approximation; :func:`solve_values` agrees with SciPy's SuperLU per sample to rounding
  (tests), and every run checks its zero-noise solve against bw2calc's deterministic score.

Not covered (the caller falls back to bw2calc): engines whose background is linked to a
user's database, and studies that set a biosphere flow the written databases do not hold.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph

from .linalg import component_levels

#: samples solved together (memory ~ CHUNK x exchanges x 8 bytes x 3)
CHUNK = 1024


class NotSampleable(Exception):
    """The fast Monte Carlo cannot hold this engine or study: use bw2calc."""


@dataclass
class Exchanges:
    """Every stored exchange of an engine's databases, in compiled-model indices."""
    t_row: np.ndarray
    t_col: np.ndarray
    t_amount: np.ndarray      # as stored (before the technosphere-input flip)
    t_flip: np.ndarray
    t_sigma: np.ndarray       # 0: fixed
    b_row: np.ndarray
    b_col: np.ndarray
    b_amount: np.ndarray
    b_sigma: np.ndarray

    @property
    def n_uncertain(self) -> int:
        return int(self.t_unc.sum() + self.b_unc.sum())

    def __post_init__(self):
        # uncertain as in lognormal_distributions: sigma > 0 and amount != 0
        self.t_unc = (self.t_sigma > 0) & (self.t_amount != 0)
        self.b_unc = (self.b_sigma > 0) & (self.b_amount != 0)


def exchanges(engine, model) -> Exchanges:
    """The exchanges of ``engine`` (from its float64 datapackage with distributions), cached on it."""
    cached = getattr(engine, "_mc_exchanges", None)
    if cached is not None:
        return cached
    if getattr(engine, "links", None):
        raise NotSampleable("background linked to a user's database")
    disk = _disk_cache(engine)
    if disk is not None and disk.is_file():       # a warm engine's: read without bw2data
        try:
            with np.load(disk) as z:
                ex = Exchanges(*(z[f] for f in EXCHANGE_FIELDS))
            engine._mc_exchanges = ex
            return ex
        except Exception:                         # noqa: BLE001 - a damaged file is made again
            pass
    from .analysis.uncertainty import sigma
    from .bw.matrices import inventory_datapackage
    engine.activate()
    sig = {pid: sigma(p.dqr) for pid, p in engine.processes.items()}
    dp = inventory_datapackage(engine.databases, sigma_of=lambda code: sig.get(code, 0.0))
    bio_key_of = {nid: k for k, nid in engine.biosphere_map.items()}
    out = {}
    for matrix in ("technosphere_matrix", "biosphere_matrix"):
        name = f"lcab-{matrix}"
        idx = dp.get_resource(f"{name}.indices")[0]
        data = np.asarray(dp.get_resource(f"{name}.data")[0], dtype=float)
        try:
            flip = np.asarray(dp.get_resource(f"{name}.flip")[0], dtype=bool)
        except KeyError:        # bw_processing stores no flip array when nothing is flipped
            flip = np.zeros(len(data), dtype=bool)
        dist = dp.get_resource(f"{name}.distributions")[0]
        cols = np.array([model.cols[engine.codes[int(c)]] for c in idx["col"]], dtype=np.int64)
        if matrix == "technosphere_matrix":
            rows = np.array([model.cols[engine.codes[int(r)]] for r in idx["row"]], dtype=np.int64)
        else:
            rows = np.array([model.bio_rows[bio_key_of[int(r)]] for r in idx["row"]], dtype=np.int64)
        s = np.where(dist["uncertainty_type"] == 2, np.nan_to_num(dist["scale"]), 0.0)
        out[matrix] = (rows, cols, data, flip, s)
    t, b = out["technosphere_matrix"], out["biosphere_matrix"]
    ex = Exchanges(t[0], t[1], t[2], t[3], t[4], b[0], b[1], b[2], b[4])
    # the sampled matrices at zero noise must be the compiled model's matrices
    A = sp.csc_matrix((np.where(ex.t_flip, -ex.t_amount, ex.t_amount), (ex.t_row, ex.t_col)), shape=model.A.shape)
    B = sp.csc_matrix((ex.b_amount, (ex.b_row, ex.b_col)), shape=model.B.shape)
    if abs(A - model.A).max() > 1e-12 * max(1.0, abs(model.A).max()) or abs(B - model.B).max() > 1e-12 * max(1.0, abs(model.B).max()):
        raise RuntimeError("Monte Carlo exchanges do not add up to the compiled matrices")
    engine._mc_exchanges = ex
    if disk is not None:
        import os
        try:
            tmp = disk.with_name(disk.name + f".{os.getpid()}.tmp.npz")
            np.savez(tmp, **{f: getattr(ex, f) for f in EXCHANGE_FIELDS})
            os.replace(tmp, disk)
        except OSError:                           # a read-only data folder: computed again next time
            pass
    return ex


EXCHANGE_FIELDS = ("t_row", "t_col", "t_amount", "t_flip", "t_sigma", "b_row", "b_col", "b_amount", "b_sigma")


def _disk_cache(engine):
    """Where a warm engine (:mod:`lca_battery.warm`) keeps its exchanges beside its cache (so that a warm
    ``uncertainty`` reads them without importing bw2data), keyed by the warm cache's key and this code and the
    sigma's; None for another engine."""
    key = getattr(engine, "warm_key", None)
    if not key:
        return None
    import hashlib
    from pathlib import Path
    from .warm import cache_dir
    here = Path(__file__).resolve().parent
    code = hashlib.sha256(b"".join((here / f).read_bytes() for f in ("montecarlo.py", "analysis/uncertainty.py")))
    return cache_dir() / f"{key}.mc-{code.hexdigest()[:12]}.npz"


class Sampler:
    """Paired Monte Carlo of one or more studies (sets of compiled deltas) on one inventory."""

    def __init__(self, model, ex: Exchanges, study_deltas: list[tuple], cf: np.ndarray, root: int):
        """``study_deltas``: per study the cells it sets, :func:`study_cells` (matrix values, not changes)."""
        self.model, self.ex, self.cf, self.root = model, ex, np.asarray(cf, dtype=float), root
        n = model.A.shape[0]
        self.n = n
        A0 = model.A.tocoo()
        # technosphere cells: the base pattern plus every cell a study sets
        rows = [A0.row, *[d[0] for d in study_deltas]]
        cols = [A0.col, *[d[1] for d in study_deltas]]
        pattern = sp.csr_matrix((np.ones(sum(len(r) for r in rows)), (np.concatenate(rows), np.concatenate(cols))),
                                shape=(n, n))
        pattern.sum_duplicates()
        pattern.sort_indices()
        self.cell_row = np.repeat(np.arange(n), np.diff(pattern.indptr)).astype(np.int64)
        self.cell_col = pattern.indices.astype(np.int64)
        key = {(int(r), int(c)): i for i, (r, c) in enumerate(zip(self.cell_row, self.cell_col))}
        self._key = key
        self.t_cell = np.array([key[(int(r), int(c))] for r, c in zip(ex.t_row, ex.t_col)], dtype=np.int64)
        n_cells = len(self.cell_row)
        self.t_sum = sp.csr_matrix((np.ones(len(ex.t_row)), (self.t_cell, np.arange(len(ex.t_row)))),
                                   shape=(n_cells, len(ex.t_row)))
        # biosphere: only the characterised score is needed: score = sum_k cf[row_k] b_k x[col_k]
        B0 = model.B.tocoo()
        bkeys = [(int(r), int(c)) for r, c in zip(B0.row, B0.col)]
        for d in study_deltas:
            bkeys += [(int(r), int(c)) for r, c in zip(d[3], d[4])]
        bkeys = sorted(set(bkeys))
        bkey = {k: i for i, k in enumerate(bkeys)}
        self.bcell_row = np.array([k[0] for k in bkeys], dtype=np.int64)
        self.bcell_col = np.array([k[1] for k in bkeys], dtype=np.int64)
        self.b_cell = np.array([bkey[(int(r), int(c))] for r, c in zip(ex.b_row, ex.b_col)], dtype=np.int64)
        self.b_sum = sp.csr_matrix((np.ones(len(ex.b_row)), (self.b_cell, np.arange(len(ex.b_row)))),
                                   shape=(len(bkeys), len(ex.b_row)))
        # per study: the cells it sets, fixed at the study's value (the override package replaces them)
        self.fixed = []
        for d in study_deltas:
            tr, tc, tv, br, bc_, bv = d
            tcells = np.array([key[(int(r), int(c))] for r, c in zip(tr, tc)], dtype=np.int64)
            bcells = np.array([bkey[(int(r), int(c))] for r, c in zip(br, bc_)], dtype=np.int64)
            self.fixed.append((tcells, np.asarray(tv, dtype=float), bcells, np.asarray(bv, dtype=float)))
        # cells that can be non-zero: a non-zero stored exchange; per study, the cells it sets replace them
        live = np.zeros(n_cells, dtype=bool)
        live[self.t_cell[ex.t_amount != 0]] = True
        self.plans = []
        for tcells, tvals, _, _ in self.fixed:
            mask = live.copy()
            mask[tcells] = tvals != 0
            self.plans.append(self._plan(mask))

    # ------------------------------------------------------------ symbolic analysis, once per study
    def _plan(self, live: np.ndarray) -> list:
        """Levels of the block-triangular form of the pattern of ``live`` cells (cells that are
        zero in every sample of the study are left out: they would only join blocks)."""
        n = self.n
        keep = np.flatnonzero(live)
        g = sp.csr_matrix((np.ones(len(keep)), (self.cell_row[keep], self.cell_col[keep])), shape=(n, n))
        nb, lab = csgraph.connected_components(g, directed=True, connection="strong")
        # condensation: block a depends on block b when a row of a uses a column of b (a != b)
        off = live & (lab[self.cell_row] != lab[self.cell_col])
        dep_a, dep_b = lab[self.cell_row][off], lab[self.cell_col][off]
        level = component_levels(nb, dep_a, dep_b)      # longest-path levels on the DAG of blocks
        levels = []
        for L in range(int(level.max()) + 1 if nb else 0):
            blocks = np.flatnonzero(level == L)
            members = [np.flatnonzero(lab == b) for b in blocks]
            single = np.array([m[0] for m in members if len(m) == 1], dtype=np.int64)
            cycles = [m for m in members if len(m) > 1]
            rows = np.concatenate([single, *cycles]) if cycles else single
            in_level = np.zeros(n, dtype=bool)
            in_level[rows] = True
            blk = lab
            # entries of these rows that reach already solved columns (other blocks)
            e = np.flatnonzero(live & in_level[self.cell_row] & (blk[self.cell_row] != blk[self.cell_col]))
            pos = {int(r): i for i, r in enumerate(rows)}
            agg = sp.csr_matrix((np.ones(len(e)), ([pos[int(r)] for r in self.cell_row[e]], np.arange(len(e)))),
                                shape=(len(rows), len(e)))
            diag = self._cells_of(single, single)
            cyc = []
            for m in cycles:
                rr, cc = np.meshgrid(m, m, indexing="ij")
                cyc.append((m, self._cells_of(rr.ravel(), cc.ravel(), missing_ok=True), len(m)))
            levels.append((rows, e, agg, single, diag, cyc))
        return levels

    def _cells_of(self, rows, cols, missing_ok=False):
        key = self._key
        out = np.array([key.get((int(r), int(c)), -1) for r, c in zip(rows, cols)], dtype=np.int64)
        if not missing_ok and (out < 0).any():
            raise NotSampleable("a zero on the diagonal")
        return out

    # ------------------------------------------------------------ numeric
    def draws(self, seed: int, samples: int):
        """Standard normals per chunk, ``(k, uncertain exchanges)``: the same for every study."""
        for c, shape in chunks(samples, self.ex.n_uncertain):
            yield chunk_draws(seed, c, shape)

    def values(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exchange values (as stored, before the flip) for draws ``Z`` (k x uncertain): (tech, bio), each exchanges x k."""
        ex = self.ex
        k = Z.shape[0]
        nt = int(ex.t_unc.sum())
        tv = np.repeat(ex.t_amount[:, None], k, axis=1)
        bv = np.repeat(ex.b_amount[:, None], k, axis=1)
        tv[ex.t_unc] *= np.exp(ex.t_sigma[ex.t_unc][:, None] * Z[:, :nt].T)
        bv[ex.b_unc] *= np.exp(ex.b_sigma[ex.b_unc][:, None] * Z[:, nt:].T)
        return tv, bv

    def scores(self, Z: np.ndarray, study: int = 0) -> np.ndarray:
        tv, bv = self.values(Z)
        return solve_values(self, tv, bv, study)


def chunks(samples: int, n_uncertain: int):
    """(chunk number, shape of its draws) for a run of ``samples``: chunks of :data:`CHUNK` samples, the last shorter."""
    for c, k in enumerate(range(0, samples, CHUNK)):
        yield c, (min(CHUNK, samples - k), n_uncertain)


def chunk_draws(seed: int, chunk: int, shape: tuple) -> np.ndarray:
    """The standard normals of chunk ``chunk`` (samples ``chunk * CHUNK`` on) of a run seeded ``seed``.

    Each chunk has its own stream, ``SeedSequence(seed, spawn_key=(chunk,))`` (numpy's way to give
    parallel workers independent streams; the same as ``SeedSequence(seed).spawn(n)[chunk]``), so a
    chunk is drawn without drawing the ones before it: a serial run and one spread over workers draw
    the same numbers, and the first ``k`` samples do not depend on how many are asked for."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(chunk,))).standard_normal(shape)


def solve_values(sampler: Sampler, tv: np.ndarray, bv: np.ndarray, study: int = 0) -> np.ndarray:
    """Scores (root demand 1) for exchange values ``tv``/``bv`` (exchanges x k), study ``study``."""
    ex = sampler.ex
    k = tv.shape[1]
    cells = sampler.t_sum @ np.where(ex.t_flip[:, None], -tv, tv)        # cells x k
    bcells = sampler.b_sum @ bv
    tcells, tvals, bcs, bvals = sampler.fixed[study]
    cells[tcells] = tvals[:, None]
    bcells[bcs] = bvals[:, None]
    X = np.zeros((sampler.n, k))
    f = np.zeros(sampler.n)
    f[sampler.root] = 1.0
    for rows, e, agg, single, diag, cyc in sampler.plans[study]:
        rhs = f[rows][:, None] - agg @ (cells[e] * X[sampler.cell_col[e]])
        ns = len(single)
        if ns:
            X[single] = rhs[:ns] / cells[diag]
        at = ns
        for m, idx, size in cyc:
            M = np.where(idx[:, None] >= 0, cells[np.maximum(idx, 0)], 0.0)     # size^2 x k
            M = M.T.reshape(k, size, size)
            X[m] = np.linalg.solve(M, rhs[at:at + size].T[:, :, None])[:, :, 0].T
            at += size
    w = sampler.cf[sampler.bcell_row][:, None] * bcells                  # bio cells x k
    return np.einsum("ek,ek->k", w, X[sampler.bcell_col])


def study_cells(model, entries) -> tuple:
    """The matrix cells a study's entries set, with their matrix values (:meth:`CompiledModel.cells`)."""
    return model.cells(entries)


def run(engine, entry_lists: list, family: str, samples: int, seed: int, progress=None):
    """Paired samples of the scores of every study (its entries; same draws for all), and the
    zero-noise score of each (to be checked against bw2calc's deterministic one)."""
    from .compiled import CompiledModel
    from .model.superstructure import ROOT
    model = CompiledModel.from_engine(engine)
    ex = exchanges(engine, model)
    deltas = [study_cells(model, entries) for entries in entry_lists]
    sampler = Sampler(model, ex, deltas, model.cf[(family, "total")], model.cols[ROOT])
    out = [np.empty(samples) for _ in deltas]
    det = [float(sampler.scores(np.zeros((1, ex.n_uncertain)), i)[0]) for i in range(len(deltas))]
    done = 0
    for Z in sampler.draws(seed, samples):
        tv, bv = sampler.values(Z)
        for i in range(len(deltas)):
            out[i][done:done + len(Z)] = solve_values(sampler, tv, bv, i)
        done += len(Z)
        if progress:
            progress(done, samples)
    return out, det
