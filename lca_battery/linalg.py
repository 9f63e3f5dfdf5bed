"""One sparse LU for the engine: :func:`factorise` ``(A) -> Factor`` with ``solve(b, trans)``.

Which solver (measured, ``scripts/bench_background.py``; README "An ecoinvent-size background"):

* ``kvxopt`` (KLU, from SuiteSparse, bundled in its PyPI wheels) when it can be imported: fastest of
  the candidates on the default model and on the 20,000-process synthetic background (0.045 s, where
  SuperLU did not finish in minutes and PARDISO took 113 s); its symbolic analysis can be reused for
  a matrix of the same pattern (:meth:`Factor.refactorise`).
* otherwise SciPy alone, silently: the matrix in block-triangular form (its strongly connected components,
  :class:`BlockLU`), each cycle factorised by SuperLU with its own fill-reducing ordering and the rest solved
  by substitution, level by level; same solutions to round-off (tests: 1e-12). SuperLU on the whole matrix
  did not finish the synthetic 20,000-process background in minutes (the orderings mix the cycles: 18 to 116
  million fill-in entries); block by block its largest cycle (6,000 processes) takes 0.04 s.

Technosphere matrices have far less fill-in factorised transposed (bw2calc's ``lu_solver`` notes
52 s against 1.7 s for SuperLU on ecoinvent 3.9), so :func:`factorise` factorises ``A^T`` and swaps
``trans``: ``solve(b, "N")`` solves ``A x = b`` and ``solve(b, "T")`` solves ``A^T x = b``
whatever the solver. :data:`SOLVER` names the solver in use (results and manifests carry it).
``LCA_BATTERY_LU=scipy`` forces the fallback.
"""
from __future__ import annotations

import os

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

try:                                             # pragma: no cover - depends on the environment
    if os.environ.get("LCA_BATTERY_LU", "").lower() == "scipy":
        raise ImportError("forced")
    from kvxopt import klu as _klu
    from kvxopt import spmatrix as _spmatrix
    from kvxopt import matrix as _kmatrix
    SOLVER = "klu (kvxopt)"
except ImportError:
    _klu = None
    SOLVER = "superlu (scipy)"


def _swap(trans: str) -> str:
    return "N" if trans in ("T", "H") else "T"


class Factor:
    """A factorisation of ``A`` (stored as one of ``A^T``). ``solve(b, trans)``: ``b`` is (n,) or (n, k)."""

    solver = SOLVER

    def __init__(self, A):
        At = sp.csr_matrix(A, dtype=np.float64).T.tocsc()        # CSC of A^T (same arrays as CSR of A)
        At.sum_duplicates()
        At.sort_indices()
        self.shape = At.shape
        self._pattern = (At.indptr.copy(), At.indices.copy())
        self.solver = SOLVER if _klu is not None else "superlu (scipy)"
        self.reused_symbolic = False             # True for a refactorisation that reused another's analysis
        self._lu = None
        if _klu is not None:
            self._K = _to_kvx(At)
            ccs = self._K.CCS
            # KLU's matrix holds A^T's cells in CSC order: a refactorisation then only swaps its values
            self._aligned = (np.array_equal(np.asarray(ccs[0]).ravel(), At.indptr)
                             and np.array_equal(np.asarray(ccs[1]).ravel(), At.indices))
            self._symbolic = _klu.symbolic(self._K)
            self._numeric = _klu.numeric(self._K, self._symbolic)
        else:
            self._lu = BlockLU(At)

    def solve(self, b, trans: str = "N") -> np.ndarray:
        b = np.asarray(b, dtype=np.float64)
        t = _swap(trans)                         # A^T is what is factorised
        if self._lu is not None:
            return self._lu.solve(b, trans=t)
        x = _kmatrix(np.array(b.reshape(b.shape[0], -1), dtype=np.float64, order="F"))
        _klu.solve(self._K, self._symbolic, self._numeric, x, trans=t)
        return np.array(x).reshape(b.shape)

    def refactorise(self, A) -> "Factor":
        """A factorisation of ``A`` (same sparsity pattern as the factorised matrix), reusing the
        symbolic analysis where the solver allows it (KLU); SuperLU factorises afresh."""
        At = sp.csr_matrix(A, dtype=np.float64).T.tocsc()
        At.sum_duplicates()
        At.sort_indices()
        if self._lu is not None or _klu is None or not (np.array_equal(At.indptr, self._pattern[0])
                                and np.array_equal(At.indices, self._pattern[1])):
            return Factor(A)
        new = object.__new__(Factor)
        new.shape, new._pattern, new._symbolic = self.shape, self._pattern, self._symbolic
        new.solver, new._lu, new.reused_symbolic = self.solver, None, True
        if self._aligned:
            new._K = +self._K                    # a copy of the pattern, then the new values
            new._K.V = _kmatrix(np.ascontiguousarray(At.data, dtype=np.float64))
        else:                                    # pragma: no cover - kvxopt stored the cells otherwise
            new._K = _to_kvx(At)
        new._aligned = self._aligned
        new._numeric = _klu.numeric(new._K, self._symbolic)
        return new


class BlockLU:
    """A direct LU solve of the square sparse ``M`` in SciPy alone: its strongly connected components (SciPy's
    csgraph) put it in block-triangular form; each component of more than one node is factorised by SuperLU
    (``MMD_AT_PLUS_A`` ordering, fill-reducing within a cycle), and ``M x = b`` is solved by block substitution
    in levels of the components' dependency graph (a level's components depend only on earlier levels): the
    single nodes of a level at once (one division each), the cycles one by one. Exact: no approximation, only
    the order of the arithmetic differs from one LU of the whole matrix. ``solve(b, trans)`` as SuperLU's."""

    def __init__(self, M):
        import scipy.sparse.csgraph as csgraph
        M = sp.csr_matrix(M, dtype=np.float64)
        M.sum_duplicates()
        MT = M.T.tocsr()
        self.shape = M.shape
        ncomp, lab = csgraph.connected_components(M, directed=True, connection="strong")
        # dependencies between components: row block k uses column block j (k != j): j is solved first
        coo = M.tocoo()
        off = lab[coo.row] != lab[coo.col]
        level = component_levels(ncomp, lab[coo.row[off]], lab[coo.col[off]])
        sizes = np.bincount(lab, minlength=ncomp)
        diag = M.diagonal()
        # per level: its single-node components (their diagonal) and its cycles (their SuperLU factorisation);
        # the rows each solve multiplies, of M or of M^T, are sliced on the first solve of that direction
        self._M, self._MT, self._rows = M, MT, {}
        self._levels_of = []
        order = np.argsort(level[lab], kind="stable")
        cuts = np.flatnonzero(np.diff(level[lab][order])) + 1
        for nodes in np.split(order, cuts):
            single = nodes[sizes[lab[nodes]] == 1]
            if np.any(diag[single] == 0):
                raise RuntimeError("Factor is exactly singular")
            cycles = []
            for c in np.unique(lab[nodes[sizes[lab[nodes]] > 1]]):
                idx = np.flatnonzero(lab == c)
                cycles.append((idx, spla.splu(M[idx][:, idx].tocsc(), permc_spec="MMD_AT_PLUS_A")))
            self._levels_of.append((single, diag[single][:, None], cycles))

    def _level_rows(self, t: bool) -> list:
        """Per level (in solving order): the rows of its single nodes and of each cycle, of M or (``t``) of M^T."""
        if t not in self._rows:
            M = self._MT if t else self._M
            self._rows[t] = [(M[single], [M[idx] for idx, _ in cycles])
                             for single, _, cycles in (self._levels_of[::-1] if t else self._levels_of)]
        return self._rows[t]

    def solve(self, b, trans: str = "N") -> np.ndarray:
        b = np.asarray(b, dtype=np.float64)
        B = b.reshape(b.shape[0], -1)
        t = trans in ("T", "H")
        X = np.zeros_like(B)
        levels = self._levels_of[::-1] if t else self._levels_of        # M^T: the components in reverse order
        for (single, diag, cycles), (rows, cycle_rows) in zip(levels, self._level_rows(t)):
            if len(single):
                X[single] = (B[single] - rows @ X) / diag                 # X is 0 where not solved yet
            for (idx, lu), crows in zip(cycles, cycle_rows):
                X[idx] = lu.solve(B[idx] - crows @ X, trans="T" if t else "N")
        return X.reshape(b.shape)


def component_levels(n: int, dep_a: np.ndarray, dep_b: np.ndarray) -> np.ndarray:
    """The longest-path level of each of ``n`` components (strongly connected, so their graph is a DAG) where
    component ``dep_a[i]`` needs ``dep_b[i]`` solved first: a component's level is one more than the highest of
    those it needs, so the components of one level can be solved together once the lower levels are."""
    from collections import deque
    pairs = np.unique(np.asarray(dep_a, dtype=np.int64) * n + np.asarray(dep_b, dtype=np.int64))
    a_of, b_of = pairs // n, pairs % n
    indeg = np.bincount(a_of, minlength=n)
    by_b = np.argsort(b_of, kind="stable")                  # the users of b: a_of[by_b[ptr[b]:ptr[b + 1]]]
    users, ptr = a_of[by_b].tolist(), np.concatenate([[0], np.cumsum(np.bincount(b_of, minlength=n))]).tolist()
    level = [0] * n
    left = indeg.tolist()
    queue = deque(np.flatnonzero(indeg == 0).tolist())
    seen = 0
    while queue:
        b = queue.popleft()
        seen += 1
        for a in users[ptr[b]:ptr[b + 1]]:
            if level[b] + 1 > level[a]:
                level[a] = level[b] + 1
            left[a] -= 1
            if left[a] == 0:
                queue.append(a)
    if seen != n:                                # pragma: no cover - components of a graph form a DAG
        raise RuntimeError("components left unordered")
    return np.asarray(level, dtype=np.int64)


def _to_kvx(M: sp.csc_matrix):
    coo = M.tocoo()
    return _spmatrix(coo.data.tolist(), coo.row.tolist(), coo.col.tolist(), M.shape)


def factorise(A) -> Factor:
    """LU factorisation of the square sparse matrix ``A`` with the fastest solver available."""
    return Factor(A)
