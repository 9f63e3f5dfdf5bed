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
        n = M.shape[0]
        self.shape = M.shape
        self._M, self._MT = M, M.T.tocsr()
        ncomp, lab = csgraph.connected_components(M, directed=True, connection="strong")
        # dependencies between components: row block k uses column block j (k != j): j is solved first
        coo = M.tocoo()
        off = lab[coo.row] != lab[coo.col]
        dep = sp.csr_matrix((np.ones(int(off.sum())), (lab[coo.row[off]], lab[coo.col[off]])), shape=(ncomp, ncomp))
        level = self._levels(dep, ncomp)
        sizes = np.bincount(lab, minlength=ncomp)
        self._levels_of = []                    # per level: (nodes of its single-node components, [cycles])
        order = np.argsort(level[lab], kind="stable")
        node_level = level[lab][order]
        cuts = np.flatnonzero(np.diff(node_level)) + 1
        self._lus = {}
        for nodes in np.split(order, cuts):
            single = nodes[sizes[lab[nodes]] == 1]
            cycles = []
            for c in np.unique(lab[nodes[sizes[lab[nodes]] > 1]]):
                idx = np.flatnonzero(lab == c)
                block = M[idx][:, idx].tocsc()
                cycles.append((idx, spla.splu(block, permc_spec="MMD_AT_PLUS_A")))
            self._levels_of.append((single, cycles))
        self._diag = M.diagonal()
        if np.any(self._diag[np.concatenate([s for s, _ in self._levels_of]) if self._levels_of else []] == 0):
            raise RuntimeError("Factor is exactly singular")

    @staticmethod
    def _levels(dep: sp.csr_matrix, n: int) -> np.ndarray:
        """Longest-path level of each component in the dependency DAG ``dep`` (k -> j: j before k)."""
        indeg = np.asarray((dep != 0).sum(axis=1)).ravel()          # how many components k waits for
        users = dep.T.tocsr()                                        # j -> the components that use it
        level = np.zeros(n, dtype=np.int64)
        ready = list(np.flatnonzero(indeg == 0))
        seen = 0
        while ready:
            nxt = []
            for j in ready:
                seen += 1
                for k in users.indices[users.indptr[j]:users.indptr[j + 1]]:
                    level[k] = max(level[k], level[j] + 1)
                    indeg[k] -= 1
                    if indeg[k] == 0:
                        nxt.append(k)
            ready = nxt
        if seen != n:                          # pragma: no cover - the condensation of a graph is acyclic
            raise RuntimeError("components left unordered")
        return level

    def solve(self, b, trans: str = "N") -> np.ndarray:
        b = np.asarray(b, dtype=np.float64)
        B = b.reshape(b.shape[0], -1)
        M = self._MT if trans in ("T", "H") else self._M
        X = np.zeros_like(B)
        levels = self._levels_of if M is self._M else self._levels_of[::-1]
        for single, cycles in levels:           # M^T: the same components in the reverse order
            if len(single):
                r = B[single] - M[single] @ X                          # X is 0 on the nodes not solved yet
                X[single] = r / self._diag[single][:, None]
            for idx, lu in cycles:
                r = B[idx] - M[idx] @ X
                X[idx] = lu.solve(r, trans="T" if M is self._MT else "N")
        return X.reshape(b.shape)


def _to_kvx(M: sp.csc_matrix):
    coo = M.tocoo()
    return _spmatrix(coo.data.tolist(), coo.row.tolist(), coo.col.tolist(), M.shape)


def factorise(A) -> Factor:
    """LU factorisation of the square sparse matrix ``A`` with the fastest solver available."""
    return Factor(A)
