"""Monte Carlo iterations per second on the default NMC811 study: bw2calc's own sampling
(``Engine.monte_carlo``: ``LCA(use_distributions=True)`` and ``next()``), SciPy SuperLU per
sample on the fast path's sampled matrices, and the fast path (``lca_battery.montecarlo``).

    PYTHONPATH=. BRIGHTWAY2_DIR=$(mktemp -d) python scripts/bench_monte_carlo.py [N]
"""
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from lca_battery import montecarlo as mc
from lca_battery.api import get_engine, prepare_mapping
from lca_battery.compiled import CompiledModel
from lca_battery.model.superstructure import ROOT

STUDY = Path(__file__).resolve().parent.parent / "examples" / "nmc811-cn.yaml"
N = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000

eng = get_engine()
st, mapping, eng = prepare_mapping(STUDY, {}, eng)
eng.monte_carlo(mapping.entries, st.method, 5, 1)          # warm
mc.run(eng, [mapping.entries], st.method, 5, 1)

n_bw = 300
t = time.perf_counter()
eng.monte_carlo(mapping.entries, st.method, n_bw, 1)
bw = n_bw / (time.perf_counter() - t)

model = CompiledModel.from_engine(eng)
ex = mc.exchanges(eng, model)
cells = mc.study_cells(model, mapping.entries)
S = mc.Sampler(model, ex, [cells], model.cf[(st.method, "total")], model.cols[ROOT])
n_lu = 300
t = time.perf_counter()
tv, bv = S.values(next(S.draws(1, n_lu)))
f = np.zeros(model.A.shape[0])
f[model.cols[ROOT]] = 1.0
tsign = np.where(ex.t_flip, -1.0, 1.0)
for k in range(n_lu):
    A = sp.csr_matrix((tsign * tv[:, k], (ex.t_row, ex.t_col)), shape=model.A.shape).tolil()
    A[cells[0], cells[1]] = cells[2]
    B = sp.csr_matrix((bv[:, k], (ex.b_row, ex.b_col)), shape=model.B.shape).tolil()
    B[cells[3], cells[4]] = cells[5]
    model.cf[(st.method, "total")] @ (B.tocsr() @ spla.splu(A.tocsc()).solve(f))
lu = n_lu / (time.perf_counter() - t)

t = time.perf_counter()
runs, _ = mc.run(eng, [mapping.entries], st.method, N, 1)
dt = time.perf_counter() - t
fast = N / dt
t = time.perf_counter()
mc.run(eng, [mapping.entries, mapping.entries], st.method, N, 1)
paired = N / (time.perf_counter() - t)

print(f"model: {model.A.shape[0]} processes, {len(ex.t_row)} technosphere + {len(ex.b_row)} biosphere exchanges, "
      f"{ex.n_uncertain} uncertain")
print(f"bw2calc Monte Carlo ({n_bw} it.)        {bw:10,.0f} it/s")
print(f"SciPy splu per sample ({n_lu} it.)       {lu:10,.0f} it/s  ({lu / bw:.1f}x bw2calc)")
print(f"fast path, {N:,} it. in {dt:.2f} s        {fast:10,.0f} it/s  ({fast / bw:.1f}x bw2calc)")
print(f"fast path, paired (2 studies)           {paired:10,.0f} it/s per pair")
