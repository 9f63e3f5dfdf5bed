"""One sparse LU for the engine: :func:`factorise` ``(A) -> Factor`` with ``solve(b, trans)``.

Which solver (measured, ``scripts/bench_background.py``; README "An ecoinvent-size background"):

* ``kvxopt`` (KLU, from SuiteSparse, bundled in its PyPI wheels) when it can be imported: fastest of
  the candidates on the default model and on the 20,000-process synthetic background (0.045 s, where
  SuperLU did not finish in minutes and PARDISO took 113 s); its symbolic analysis can be reused for
  a matrix of the same pattern (:meth:`Factor.refactorise`).
* otherwise SciPy's SuperLU (``splu``, COLAMD), silently: same solutions to round-off (tests: 1e-12).

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
            self._lu = spla.splu(At, permc_spec="COLAMD")

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


def _to_kvx(M: sp.csc_matrix):
    coo = M.tocoo()
    return _spmatrix(coo.data.tolist(), coo.row.tolist(), coo.col.tolist(), M.shape)


def factorise(A) -> Factor:
    """LU factorisation of the square sparse matrix ``A`` with the fastest solver available."""
    return Factor(A)
