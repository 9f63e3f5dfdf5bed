"""A compiled study model: the base matrices and characterisation vectors, built once per
inventory hash and Brightway build version, and exact low-rank solves of many scenarios.

bw2calc stays the reference solver (``footprint``). This module is the fast path of ``sweep``:

* :class:`CompiledModel` holds the technosphere matrix ``A`` and biosphere matrix ``B`` of the
  written databases (float64, exactly the matrices bw2calc builds from the engine's packages)
  and the characterisation vectors of every method family and gas part. It is cached on disk
  in the Brightway project folder (``lca_battery_compiled-<inventory hash>-<build>.npz``).
* A study is a list of entries (:func:`lca_battery.model.entries.study_mapping`); applied to the
  base model it changes a few matrix cells: ``A' = A + E_R Δ E_C^T`` with ``R``/``C`` the rows
  and columns that differ.
* :func:`solve_batch` solves many scenarios from one factorisation of ``A`` by the
  Sherman-Morrison-Woodbury identity, vectorised over the scenarios:
  ``A'^-1 F = Y - P (I + Δ G)^-1 Δ Y_C`` with ``Y = A^-1 F``, ``P = A^-1 E_R``, ``G = P_C``.
  Scenarios that change more than :data:`MAX_RANK` rows are refactorised, reusing the symbolic analysis of the
  base factorisation (KLU, :mod:`lca_battery.linalg`; SciPy SuperLU afresh where KLU is absent).
  The stage split of :mod:`lca_battery.analysis.contribution` (background attributed by
  ``A_NN^-1 d_X``, the cell's end-of-life branch apart) is done the same way on ``A_NN^T``, and the
  footprint of each direct input of the cell (``footprint``'s ``materials``) from ``A'^-T p`` on ``A^T``.

Every result equals ``footprint --set ...`` alone to solver precision; tests check 1e-9.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .inventory.records import STAGES

#: Above this many changed rows (and columns) a scenario is refactorised instead of updated.
MAX_RANK = 120
#: Scenarios solved together (memory: CHUNK x processes x demands floats).
CHUNK = 2048
#: Entry layouts (one per study family) kept by a compiled model.
MAX_LAYOUTS = 64
UNASSIGNED = "unassigned"
FORMAT = 1


class NotCompilable(Exception):
    """A study sets a matrix cell the compiled model cannot hold (a new biosphere flow): use bw2calc."""


@dataclass
class CompiledModel:
    A: sp.csc_matrix                 # technosphere, bw2calc's sign convention
    B: sp.csc_matrix                 # biosphere
    cols: dict[str, int]             # process id -> column (= row of its product)
    bio_rows: dict[str, int]         # bio_key -> biosphere row
    cf: dict[tuple[str, str], np.ndarray]   # (family, part) -> CF over biosphere rows
    stages: list                     # inventory stage per column (None: background)
    pids: list[str]
    key: str = ""
    _layouts: dict = field(default_factory=dict, repr=False, compare=False)

    # ------------------------------------------------------------ build and cache
    @classmethod
    def from_engine(cls, engine) -> "CompiledModel":
        """Compiled model of an engine's databases, from the disk cache when it matches."""
        cached = getattr(engine, "_compiled", None)
        if cached is not None:
            return cached
        from .bw.project import BUILD_VERSION, bd
        engine.activate()
        import hashlib
        own = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:8]      # this module's layout too
        key = f"{engine.inventory.content_hash[:16]}-{BUILD_VERSION}-{own}"
        path = Path(bd().projects.dir) / f"lca_battery_compiled-{key}.npz"
        model = None
        if path.is_file():
            try:
                model = cls.load(path)
            except Exception:       # a damaged cache file is rebuilt
                model = None
        if model is None:
            model = cls.build(engine)
            model.key = key
            model.save(path)
        engine._compiled = model
        return model

    @classmethod
    def build(cls, engine) -> "CompiledModel":
        import bw2calc as bc
        from .bw.project import GAS_PARTS, METHODS
        from .model.superstructure import ROOT
        lca = bc.LCA({engine.ids[ROOT]: 1.0}, data_objs=engine.base_packages("ipcc2021"))
        lca.lci(factorize=False)
        n = len(lca.dicts.activity)
        pids = [None] * n
        for node, col in lca.dicts.activity.items():
            if lca.dicts.product[node] != col:       # one product per process, same order
                raise RuntimeError("technosphere rows and columns differ")
            pids[col] = engine.codes[node]
        bio_rows = {}
        for k, nid in engine.biosphere_map.items():
            row = lca.dicts.biosphere.get(nid)
            if row is not None:
                bio_rows[k] = row
        cf = {}
        for family in METHODS:
            for part in ("total", *GAS_PARTS):
                cf[(family, part)] = engine.characterization(lca, family, part)
        stages = [engine.processes[p].stage for p in pids]
        return cls(sp.csc_matrix(lca.technosphere_matrix, dtype=float), sp.csc_matrix(lca.biosphere_matrix, dtype=float),
                   {p: i for i, p in enumerate(pids)}, bio_rows, cf, stages, pids)

    def save(self, path: Path) -> None:
        import json
        import os
        meta = {"format": FORMAT, "key": self.key, "pids": self.pids, "bio_rows": self.bio_rows,
                "stages": self.stages, "cf": [list(k) for k in self.cf]}
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            np.savez(fh, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
                     A_data=self.A.data, A_indices=self.A.indices, A_indptr=self.A.indptr, A_shape=self.A.shape,
                     B_data=self.B.data, B_indices=self.B.indices, B_indptr=self.B.indptr, B_shape=self.B.shape,
                     cf=np.array([self.cf[k] for k in self.cf]))
        os.replace(tmp, path)          # atomic: a reader never sees half a file

    @classmethod
    def load(cls, path: Path) -> "CompiledModel":
        import json
        with np.load(path) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            if meta.get("format") != FORMAT:
                raise ValueError("old compiled-model format")
            A = sp.csc_matrix((z["A_data"], z["A_indices"], z["A_indptr"]), shape=tuple(z["A_shape"]))
            B = sp.csc_matrix((z["B_data"], z["B_indices"], z["B_indptr"]), shape=tuple(z["B_shape"]))
            cfs = z["cf"]
        cf = {tuple(k): cfs[i] for i, k in enumerate(meta["cf"])}
        pids = meta["pids"]
        return cls(A, B, {p: i for i, p in enumerate(pids)}, meta["bio_rows"], cf, meta["stages"], pids, meta["key"])

    # ------------------------------------------------------------ studies
    def cells(self, entries) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The matrix cells a study's entries set, with their matrix values: (tech rows, cols, values, bio
        rows, cols, values). As the engine's override package: a technosphere entry sets ``-amount``, a
        biosphere one ``amount``; the last entry of a cell wins."""
        lay, amounts = self._layout(entries)
        ti, tr, tc, _, bi, br, bc_, _ = lay
        return tr.copy(), tc.copy(), -amounts[ti], br.copy(), bc_.copy(), amounts[bi]

    def delta(self, entries, keys: tuple | None = None, amounts: np.ndarray | None = None,
              layout_key: tuple | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                                        np.ndarray, np.ndarray]:
        """The cells a study changes against the base matrices: (tech rows, cols, deltas, bio rows, cols, deltas).

        ``keys``: the entries' (matrix, input, output), when known (:attr:`lca_battery.model.entries.Mapping.cells`);
        ``amounts``: the entries' amounts and ``layout_key`` a key standing for ``keys`` (both with ``keys``,
        :attr:`~lca_battery.model.entries.Mapping.amounts`, :attr:`~lca_battery.model.entries.Mapping.layout_key`)."""
        lay, amounts = self._layout(entries, keys, amounts, layout_key)
        ti, tr, tc, t0, bi, br, bc_, b0 = lay
        tv = -amounts[ti] - t0
        bv = amounts[bi] - b0
        t, b = tv != 0, bv != 0
        return tr[t], tc[t], tv[t], br[b], bc_[b], bv[b]

    def _layout(self, entries, keys: tuple | None = None, amounts: np.ndarray | None = None,
                layout_key: tuple | None = None) -> tuple[tuple, np.ndarray]:
        """Where a list of entries goes in the matrices, cached per sequence of (matrix, input, output)
        (scenarios of one study family share it), and the entries' amounts.

        Layout: (entry index, row, col, base value) of the technosphere cells, then of the biosphere
        cells, each cell once in the order it is first set, the index of the last entry setting it."""
        entries = list(entries)
        if keys is None or len(keys) != len(entries):
            keys = amounts = layout_key = None
            keys = tuple([(e.matrix, e.input, e.output) for e in entries])
        if amounts is not None and len(amounts) != len(entries):
            amounts = None
        cache_key = keys if layout_key is None else layout_key
        lay = self._layouts.get(cache_key)
        if lay is None:
            t, b = {}, {}
            for i, (matrix, inp, out) in enumerate(keys):
                c = self.cols.get(out)
                r = self.cols.get(inp) if matrix == "technosphere" else self.bio_rows.get(inp)
                if r is None or c is None:
                    raise NotCompilable(inp)
                (t if matrix == "technosphere" else b)[(r, c)] = i     # the last entry of a cell wins

            def arrays(d, M):
                ix = np.array(list(d.values()), dtype=np.int64)
                rows = np.array([k[0] for k in d], dtype=np.int64)
                cols = np.array([k[1] for k in d], dtype=np.int64)
                return ix, rows, cols, _cells(M, rows, cols)
            lay = (*arrays(t, self.A), *arrays(b, self.B))
            for a in lay:
                a.setflags(write=False)
            if len(self._layouts) >= MAX_LAYOUTS:
                self._layouts.clear()
            self._layouts[cache_key] = lay
        return lay, np.array([e.amount for e in entries], dtype=float) if amounts is None else amounts

    def staged_mask(self, stage_overrides: dict) -> tuple:
        out = []
        for pid, stage in zip(self.pids, self.stages):
            for pattern, new in (stage_overrides or {}).items():
                if stage is not None and fnmatchcase(pid, pattern):
                    stage = new
            out.append(stage)
        return tuple(out)


def _cells(M: sp.csc_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    if len(rows) == 0:
        return np.zeros(0)
    return np.asarray(M[rows, cols]).ravel()


@dataclass
class Scenario:
    """One scenario for :func:`solve_batch`: its matrix changes, method family and stage overrides."""
    delta: tuple
    family: str
    stage_overrides: dict


def _woodbury(lu_solve, n: int, F: np.ndarray, deltas: list, rows_of, cols_of, vals_of, trans: str = "N"):
    """``(M + E_R Δ_s E_C^T)^-1 F_s`` for every scenario s, from one factorisation of M.

    ``F`` is (m, n, k) or (n, k) (shared). Returns (m, n, k). R and C are the union over the batch."""
    m = len(deltas)
    R = np.unique(np.concatenate([rows_of(d) for d in deltas])) if m else np.zeros(0, int)
    C = np.unique(np.concatenate([cols_of(d) for d in deltas])) if m else np.zeros(0, int)
    shared = F.ndim == 2
    Y = lu_solve(F, trans) if shared else np.stack([lu_solve(f, trans) for f in F])
    if len(R) == 0:
        return np.broadcast_to(Y, (m, *Y.shape)).copy() if shared else Y
    ER = np.zeros((n, len(R)))
    ER[R, np.arange(len(R))] = 1.0
    P = lu_solve(ER, trans)                    # M^-1 E_R: n x r
    G = P[C]                                   # c x r
    ri = {r: i for i, r in enumerate(R)}
    ci = {c: i for i, c in enumerate(C)}
    D = np.zeros((m, len(R), len(C)))
    for s, d in enumerate(deltas):
        rr, cc, vv = rows_of(d), cols_of(d), vals_of(d)
        D[s, [ri[r] for r in rr], [ci[c] for c in cc]] = vv
    YC = Y[C] if shared else Y[:, C]           # (c,k) or (m,c,k)
    I = np.eye(len(R))
    K = I + D @ G                              # m x r x r
    Z = np.linalg.solve(K, D @ YC)             # m x r x k
    return (Y if shared else Y) - np.einsum("nr,mrk->mnk", P, Z)


class BatchSolver:
    """Solves scenarios of one compiled model; factorisations are made once and reused."""

    def __init__(self, model: CompiledModel):
        from .model.superstructure import ROOT
        self.model = model
        self.n = model.A.shape[0]
        from .linalg import factorise
        self.lu = factorise(model.A)              # KLU when kvxopt imports, else SuperLU
        A = sp.csc_matrix(model.A, dtype=np.float64, copy=True)
        A.sum_duplicates()
        A.sort_indices()
        self._A = A                               # canonical CSC: scenarios that change many cells keep its pattern
        self.refactorisations = {True: 0, False: 0}   # by whether the symbolic analysis was reused
        self.root = model.cols[ROOT]
        self.eol = np.array([c for p, c in model.cols.items() if p.startswith("eol_treatment__")], dtype=np.int64)
        F = np.zeros((self.n, 1 + len(self.eol)))
        F[self.root, 0] = 1.0
        F[self.eol, np.arange(1, 1 + len(self.eol))] = 1.0
        self.F = F
        self._nn: dict[tuple, tuple] = {}
        # the chemistries' cell processes: the root draws one of them (the study's cell)
        rc = model.A[:, self.root].tocoo()
        self.cells = np.array(sorted(int(r) for r in rc.row if model.pids[r].startswith("cell_")), dtype=np.int64)
        self._cell_cols: dict[int, np.ndarray] = {}           # base column of each cell (dense)

    def _solve(self, F, trans="N"):
        return self.lu.solve(np.asarray(F, dtype=float), trans=trans)

    def _nn_block(self, stages: tuple):
        if stages not in self._nn:
            staged = np.array([s is not None for s in stages])
            N = np.flatnonzero(~staged)
            A = self.model.A
            A_NN = A[N][:, N].tocsc()
            self._nn[stages] = (N, spla.splu(A_NN), {c: i for i, c in enumerate(N)})
        return self._nn[stages]

    def solve(self, scenarios: list[Scenario], materials: bool = True) -> list[dict]:
        """Totals, per-gas scores and stage split (as ``footprint``) per scenario, in order; with
        ``materials``, also ``materials``: the footprint of each direct input of the cell (as
        ``footprint``'s ``materials``, by process id)."""
        out: list[dict | None] = [None] * len(scenarios)
        groups: dict[tuple, list[int]] = {}
        for i, s in enumerate(scenarios):
            groups.setdefault((s.family, tuple(sorted((s.stage_overrides or {}).items()))), []).append(i)
        for (family, ov), idx in groups.items():
            for k in range(0, len(idx), CHUNK):
                part = idx[k:k + CHUNK]
                low = [i for i in part if len(np.unique(scenarios[i].delta[0])) <= MAX_RANK]
                high = [i for i in part if i not in set(low)]
                for i, r in zip(low, self._group([scenarios[i] for i in low], family, dict(ov), materials)):
                    out[i] = r
                for i in high:
                    out[i] = self._refactorised(scenarios[i], family, dict(ov), materials)
        return out

    # -- low-rank path
    def _group(self, scs: list[Scenario], family: str, overrides: dict, materials: bool = True) -> list[dict]:
        if not scs:
            return []
        n = self.n
        deltas = [s.delta for s in scs]
        X = _woodbury(self._solve, n, self.F, deltas, lambda d: d[0], lambda d: d[1], lambda d: d[2])
        return self._results(X, deltas, family, overrides, materials)

    def _on_pattern(self, tr: np.ndarray, tc: np.ndarray, tv: np.ndarray) -> sp.csc_matrix | None:
        """``A + delta`` on the base matrix's sparsity pattern (cells that become 0 stay stored), or ``None`` when
        the scenario sets a cell the base matrix does not hold."""
        A = self._A
        if len(tr) == 0:
            return A.copy()
        start, end = A.indptr[tc], A.indptr[tc + 1]
        pos = np.empty(len(tr), dtype=np.int64)
        for k in range(len(tr)):          # each column's rows are sorted (canonical CSC)
            pos[k] = start[k] + np.searchsorted(A.indices[start[k]:end[k]], tr[k])
        if np.any(pos >= end) or np.any(A.indices[np.minimum(pos, len(A.indices) - 1)] != tr):
            return None
        data = A.data.copy()
        np.add.at(data, pos, tv)
        return sp.csc_matrix((data, A.indices, A.indptr), shape=A.shape)

    def _refactorised(self, sc: Scenario, family: str, overrides: dict, materials: bool = True) -> dict:
        """One scenario that changes many cells: factorised afresh, reusing the base factorisation's symbolic
        analysis (KLU's ordering, :meth:`lca_battery.linalg.Factor.refactorise`) when its cells are all in the
        base pattern, as a study's entries are; a new pattern, a pivot that fails or no KLU factorise it anew."""
        from .linalg import factorise
        tr, tc, tv = (np.asarray(a) for a in sc.delta[:3])
        A = self._on_pattern(tr.astype(np.int64), tc.astype(np.int64), np.asarray(tv, dtype=np.float64))
        lu = None
        if A is not None:
            try:
                lu = self.lu.refactorise(A)
            except ArithmeticError:       # a pivot of the base ordering is 0 in this scenario
                lu = None
        if lu is None:
            A = (self.model.A + sp.csc_matrix((tv, (tr, tc)), shape=self.model.A.shape)).tocsc()
            lu = factorise(A)
        self.refactorisations[lu.reused_symbolic] += 1
        X = lu.solve(self.F)
        return self._results(X[None], [sc.delta], family, overrides, materials, lu)[0]

    def _results(self, X: np.ndarray, deltas: list, family: str, overrides: dict,
                 materials: bool = True, lu=None) -> list[dict]:
        from .bw.project import GAS_PARTS
        model = self.model
        m = len(deltas)
        stages = model.staged_mask(overrides)
        # characterised score per unit of each column, per scenario (biosphere changes are few)
        B = model.B
        parts = ("total", *GAS_PARTS)
        per = {p: np.tile(np.asarray(model.cf[(family, p)] @ B).ravel(), (m, 1)) for p in parts}
        for s, d in enumerate(deltas):
            br, bcol, bv = d[3], d[4], d[5]
            for p in parts:
                np.add.at(per[p][s], bcol, model.cf[(family, p)][br] * bv)
        x = X[:, :, 0]                                     # supply, m x n
        # the cell's end-of-life branch: demand = what the root draws of each eol treatment
        root_col = np.tile(np.asarray(model.A[:, self.root].todense()).ravel(), (m, 1))
        for s, d in enumerate(deltas):
            tr, tc, tv = d[:3]
            sel = tc == self.root
            np.add.at(root_col[s], tr[sel], tv[sel])
        eol_amount = -root_col[:, self.eol]                # m x e (A holds -amount)
        s_eol = np.einsum("mne,me->mn", X[:, :, 1:], eol_amount)
        total = np.einsum("mn,mn->m", per["total"], x)
        gases = {p: np.einsum("mn,mn->m", per[p], x) for p in GAS_PARTS}
        eol_total = np.einsum("mn,mn->m", per["total"], s_eol)
        v = x - s_eol
        # background attribution: g = A'_NN^-T p'_N, k_c = -g . A'[N, c]
        N, lu_nn, pos = self._nn_block(stages)
        nN = len(N)
        inN = np.zeros(self.n, dtype=bool)
        inN[N] = True
        nn_deltas = []
        for d in deltas:
            tr, tc, tv = d[:3]
            sel = inN[tr] & inN[tc]
            # transposed block: rows of A^T are columns of A
            nn_deltas.append((np.array([pos[c] for c in tc[sel]], dtype=np.int64),
                              np.array([pos[r] for r in tr[sel]], dtype=np.int64), tv[sel]))
        pN = per["total"][:, N]                            # m x nN (varies per scenario)
        g = _woodbury(lambda F, t: lu_nn.solve(F, trans="T"), nN, pN[:, :, None], nn_deltas,
                      lambda d: d[0], lambda d: d[1], lambda d: d[2])[:, :, 0]     # m x nN
        A_N = model.A[N].tocsc()                          # nN x n
        kcoef = -(A_N.T @ g.T).T                           # m x n: -g . A[N, c]
        for s, d in enumerate(deltas):
            tr, tc, tv = d[:3]
            sel = inN[tr]
            np.add.at(kcoef[s], tc[sel], -g[s, [pos[r] for r in tr[sel]]] * tv[sel])
        names = sorted({st for st in stages if st is not None})
        ind = np.zeros((self.n, len(names)))
        for c, st in enumerate(stages):
            if st is not None:
                ind[c, names.index(st)] = 1.0
        direct = per["total"] * v
        attributed = kcoef * v
        att = attributed @ ind                              # m x stages
        by_stage = direct @ ind + att
        residual = direct[:, N].sum(axis=1) - att.sum(axis=1)
        results = []
        for s in range(m):
            res = {st: 0.0 for st in STAGES}
            for j, st in enumerate(names):
                res[st] = res.get(st, 0.0) + float(by_stage[s, j])
            res["end_of_life"] = res.get("end_of_life", 0.0) + float(eol_total[s])
            if abs(residual[s]) > 1e-9 * max(1.0, abs(total[s])):
                res[UNASSIGNED] = float(residual[s])
            results.append({"kg_co2e_per_kwh": float(total[s]), "stages": res,
                            "gases": {p: float(gases[p][s]) for p in GAS_PARTS}})
        if materials:
            for r, mat in zip(results, self._materials(x, root_col, per["total"], deltas, lu)):
                r["materials"] = mat
        return results

    def _materials(self, x: np.ndarray, root_col: np.ndarray, per: np.ndarray, deltas: list, lu=None) -> list[dict]:
        """Cradle-to-gate footprint of each direct input of the study's cell, as
        :func:`lca_battery.analysis.contribution.input_contributions` (``footprint``'s ``materials``):
        ``-A'[i, c] x_c u_i`` with ``u = A'^-T p`` the scenarios' cumulative footprints per unit (Woodbury
        on ``A^T``; ``lu``: the factorisation of ``A'`` itself, one scenario). The cell ``c`` is the one the
        root draws; inputs whose amount is 0 are left out."""
        model, n = self.model, self.n
        if lu is not None:
            u = lu.solve(np.ascontiguousarray(per.T), trans="T").T
        else:
            if per.shape[0] > 1 and not np.any(per[1:] != per[0]):
                F = per[0][:, None]                         # no biosphere change: one shared right-hand side
            else:
                F = per[:, :, None]
            u = _woodbury(lambda F, t: self.lu.solve(F, trans=t), n, F, deltas,
                          lambda d: d[1], lambda d: d[0], lambda d: d[2], "T")[:, :, 0]       # m x n
        out = []
        for s, d in enumerate(deltas):
            drawn = self.cells[root_col[s, self.cells] != 0]
            if len(drawn) != 1:
                out.append({})
                continue
            c = int(drawn[0])
            if c not in self._cell_cols:
                self._cell_cols[c] = np.asarray(model.A[:, c].todense()).ravel()
            col = self._cell_cols[c].copy()
            tr, tc, tv = d[:3]
            sel = tc == c
            np.add.at(col, tr[sel], tv[sel])
            rows = np.flatnonzero(col)
            rows = rows[rows != c]
            out.append({model.pids[i]: float(-col[i] * x[s, c] * u[s, i]) for i in rows})
        return out


def batch_solver(engine) -> BatchSolver:
    """The engine's :class:`BatchSolver` on its compiled model, made on first use and kept on the engine (its
    factorisations are reused by every sweep on that engine)."""
    if getattr(engine, "_batch_solver", None) is None:
        engine._batch_solver = BatchSolver(CompiledModel.from_engine(engine))
    return engine._batch_solver
