"""Grid sweeps at portfolio scale: separable scenario building and a vectorised exact solve.

A grid sweep (the Cartesian product of study values) of ``n_1 x ... x n_k`` scenarios is built
from far fewer study builds than scenarios:

1. *Separable building.* Each axis value is built with the other axes at their first value
   (``sum n_i`` builds). Every pair of axes is then built on all its combinations and compared,
   cell by cell, with the additive prediction ``d(a_i, b_j) = d(a_i, b_0) + d(a_0, b_j) - d(a_0, b_0)``
   (technosphere and biosphere cells, energy density, kWh per cell, method and stage overrides).
   Axes that do not add up are merged into one *block* whose combinations are all built explicitly,
   unless some of its axes add up with each other in every combination of the others (the block's
   *contexts*, e.g. recycled contents and collection rate per accounting rule and chemistry): then
   each pair of those axes is built on all its combinations in every context and compared cell by
   cell as above, and the block is assembled per context (:meth:`GridBuilder._conditional`).
   A seeded random sample of full combinations is then built directly and compared with the
   assembled scenario; any difference and the sweep falls back to building every scenario.
   On Linux with two cores or more, a large grid's builds are shared with a forked
   helper process (:class:`BuildPool`; the study build is pure Python, so threads would not help).
2. *Vectorised solve* (:class:`GridSolver`). All scenarios of a method family share one cell
   layout; the changed matrix cells are an ``(m x cells)`` array. The exact Sherman-Morrison-Woodbury
   update, in its column or row form whichever is smaller (the default grids change about 10
   columns), is applied to all scenarios at once; totals, gases, the end-of-life branch and the
   stage split are linear functionals, folded into small matrices of the precomputed solves
   ``A^-1 F`` and ``A^-1 E_R``, so no supply vector is formed per scenario. The per-material columns
   (``material:<id>``, the cell's direct inputs ``-A'[i, c] x_c u_i``) need the cumulative footprints
   ``u_I`` of the cell's inputs: the row form of the same update, ``h^T A'^-1 = h^T A^-1 - w_s E_C^T A^-1``
   with ``w_s`` from the transposed small matrices ``K`` (:func:`_lowrank`'s ``left``) and the precomputed
   ``(A^-1 E_I)_C``. The small matrix ``K`` of the update depends only on the changed cells with nonzero
   entries in ``G``; scenarios equal on those cells share it, so a chunk factorises ``K`` once per distinct
   value (the portfolio grid: 20 per 8,192 scenarios; :data:`GROUP_MAX`) and applies its inverse to every
   scenario's right-hand side and left vector. Scenarios of a chunk identical to another (same cells,
   scalars, method and stage overrides; e.g. every collection rate under the cut-off rule) are solved
   once and their rows copied (:data:`DEDUPE`). Both groupings hash the rows and then check each row equal,
   element by element, to its group's first. Chunks run on
   :data:`THREADS` threads. Nothing is approximated: each row equals ``footprint --set ...`` alone
   (tests: 1e-9 relative).
3. *Columnar result.* :func:`grid_frame` returns numpy columns (a :class:`SweepFrame`), not one dict
   per scenario; :func:`lca_battery.api.sweep` turns it into the usual rows.

4. *Scenario tables* (:func:`table_frame`; also each Dask chunk, which is a table). The rows are points of
   a virtual grid whose axes are the table's columns and whose values are each column's distinct values
   (an empty cell: the study's value, :data:`UNSET`). Two columns of which the table does not hold every
   combination of values (e.g. a recycling route set only on LFP rows) are joined into one axis
   (:class:`Joint`), since a combination no row has may be no valid study. The grid is built, checked and
   assembled as above, except that the verification sample is drawn from the table's rows, and only the
   rows' points are solved. A table whose scheme would need as many builds as it has distinct rows
   (:func:`table_builds`: e.g. a column with a new value in every row), or whose build fails, takes the
   per-scenario path, which reports a bad row by its number.

A grid on a licensed background (``background.database=...`` in the overrides or the study) is solved
on the linked model, which has the open model's size (each linked activity is one column holding its
cumulative inventory), exactly as on the open background. Scenarios the vectorised solver cannot hold
(a changed biosphere cell, a supplier inventory in its own project, scenarios on different
backgrounds) raise :class:`Fallback` and the caller uses
the per-scenario path (:class:`lca_battery.compiled.BatchSolver`), which is exact too.
"""
from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field

import numpy as np

from .compiled import UNASSIGNED, NotCompilable
from .inventory.records import STAGES

#: Full combinations built directly to check the assembled scenarios.
VERIFY_SAMPLE = 64
#: Combinations of two blocks of axes checked for additivity (pairs of single axes: all of them).
PAIR_SAMPLE = 24
#: A block (interacting axes) with more combinations than this is not assembled: per-scenario path.
MAX_BLOCK = 20_000
#: Scenarios solved together by :class:`GridSolver` (memory ~ CHUNK x (cells + staged processes) floats).
CHUNK = 8_192
#: Scenarios of a chunk identical to another (same changed cells, energy density, kWh per cell, method and
#: stage overrides: e.g. a collection rate under the cut-off rule) solved once (:func:`_distinct_rows`).
DEDUPE = True
#: Threads solving chunks at once (numpy's kernels run outside the GIL); LCA_BATTERY_SWEEP_THREADS overrides.
THREADS = int(os.environ.get("LCA_BATTERY_SWEEP_THREADS", 0)) or min(2, os.cpu_count() or 1)
#: Relative tolerance of the additivity check (sums of the same float deltas in another order).
ADD_RTOL = 1e-12
#: Processes building studies at once (this one and forked helpers; Linux only, 1: none forked);
#: LCA_BATTERY_SWEEP_PROCS overrides.
PROCS = int(os.environ.get("LCA_BATTERY_SWEEP_PROCS", 0)) or min(2, os.cpu_count() or 1)
#: A grid with fewer scenarios than this builds its studies in this process only.
PAR_MIN_SCENARIOS = 20_000
#: Fewer missing builds than this in one step: built here, not handed to the helpers.
PAR_MIN_BUILDS = 16
#: Seconds (plus 0.1 per build) to wait for a helper's batch; then its builds are made here.
HELPER_TIMEOUT = 120.0


_WORKER_BUILD = None          # the forked helpers' build function (inherited at fork, never pickled)
_WORKER_NEXT = None           # the next unclaimed build of a batch: a counter shared with the helpers


def _claim(n: int) -> int | None:
    """The index of the next build of the batch nobody has claimed yet (this process or a helper), or None."""
    with _WORKER_NEXT.get_lock():
        i = _WORKER_NEXT.value
        if i >= n:
            return None
        _WORKER_NEXT.value = i + 1
        return i


def _worker_builds(ovs: list) -> list:
    """In a forked helper: builds of ``ovs`` claimed one at a time from the shared counter (this process
    claims from the same counter, so neither waits for the other), as (index, build); None for one that
    raised (this process builds it again and raises the same error where the sequential order would)."""
    out = []
    while (i := _claim(len(ovs))) is not None:
        try:
            out.append((i, _WORKER_BUILD(ovs[i])))
        except Exception:                   # noqa: BLE001 - re-raised by the parent's own build
            out.append((i, None))
            _stop(len(ovs))                 # the sweep stops at this error: nobody claims further builds
    return out


def _stop(n: int) -> None:
    """Nothing more of the batch is claimed (a build failed: the caller will raise its error)."""
    with _WORKER_NEXT.get_lock():
        _WORKER_NEXT.value = max(_WORKER_NEXT.value, n)


class BuildPool:
    """Forked helper processes building studies while this process builds too (the study build is pure
    Python: threads would share one interpreter lock). Each build is claimed from a shared counter, so a
    process slowed down by other jobs on the machine takes fewer. Every build is the same function as in
    this process, so results are identical; a helper's failure is left to this process to raise."""

    def __init__(self, build_fn, procs: int):
        import multiprocessing as mp
        global _WORKER_BUILD, _WORKER_NEXT
        ctx = mp.get_context("fork")
        _WORKER_BUILD = build_fn
        _WORKER_NEXT = ctx.Value("q", 0)          # before the fork: the helpers inherit it
        self.pool = ctx.Pool(procs - 1)
        self.helpers = procs - 1

    def map(self, ovs: list, local) -> list:
        """Builds of ``ovs`` (None: not made, or raised), shared between this process (``local(ov)``) and the
        helpers."""
        if self.pool is None:                 # a helper was lost: the caller builds everything itself
            return [None] * len(ovs)
        import multiprocessing as mp
        with _WORKER_NEXT.get_lock():
            _WORKER_NEXT.value = 0
        pending = [self.pool.apply_async(_worker_builds, (ovs,)) for _ in range(self.helpers)]
        out = [None] * len(ovs)
        while (i := _claim(len(ovs))) is not None:
            try:
                out[i] = local(ovs[i])
            except Exception:              # noqa: BLE001 - raised again by the caller's own build
                out[i] = None
                _stop(len(ovs))
        for p in pending:
            try:                           # a helper killed meanwhile would never answer
                got = p.get(timeout=HELPER_TIMEOUT + 0.1 * len(ovs)) if self.pool is not None else []
            except mp.TimeoutError:
                self.close()
                break
            for i, b in got or ():
                out[i] = b
        return out

    def close(self):
        global _WORKER_BUILD, _WORKER_NEXT
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None
        _WORKER_BUILD = _WORKER_NEXT = None


def _other_threads() -> bool:
    """Called outside the main thread, or another non-daemon thread alive (a thread pool, a threaded
    scheduler's workers)? Daemon helpers that only wait (tqdm's monitor) do not count."""
    import threading
    main = threading.main_thread()
    return threading.current_thread() is not main or any(
        t is not main and not t.daemon and t.is_alive() for t in threading.enumerate())


def build_pool(build_fn, total: int, keys: list):
    """A :class:`BuildPool` for a large grid on Linux with more than one core (fork is unsafe with macOS
    system libraries, absent on Windows) when no other thread works (a fork copies no thread, so a lock
    another thread holds would stay held in the helper; :func:`_other_threads`), else None. Not for
    grids changing supplier inventories or the background (a build may then set up another project)."""
    import multiprocessing as mp
    import sys
    if PROCS < 2 or total < PAR_MIN_SCENARIOS or not sys.platform.startswith("linux") \
            or "fork" not in mp.get_all_start_methods() or _other_threads() \
            or any(k.startswith(("suppliers", "background")) for kk in keys for k in kk.split(JOINT)):
        return None
    try:
        return BuildPool(build_fn, PROCS)
    except OSError:
        return None


class Fallback(Exception):
    """The grid cannot be assembled or solved vectorised: use the per-scenario path."""


@dataclass
class Build:
    """One built scenario: its changed cells against the compiled base model and its scalars."""
    tech: dict                 # (row, col) -> delta
    bio: dict                  # (row, col) -> delta
    ed: float                  # energy density, kWh per kg
    ekwh: float                # kWh per cell
    method: str
    overrides: tuple           # sorted stage overrides


def _predict(base: Build, a: Build, b: Build) -> Build:
    """The additive prediction of a pair: a + b - base (categorical values: the one that differs from base)."""
    def cells(x, y, z):
        out = {}
        for k in set(x) | set(y) | set(z):
            out[k] = y.get(k, 0.0) + z.get(k, 0.0) - x.get(k, 0.0)
        return out

    def cat(x, y, z):
        if y != x and z != x and y != z:
            return None                       # both differ from base, differently: not separable
        return y if y != x else z
    return Build(cells(base.tech, a.tech, b.tech), cells(base.bio, a.bio, b.bio), a.ed + b.ed - base.ed,
                 a.ekwh + b.ekwh - base.ekwh, cat(base.method, a.method, b.method),
                 cat(base.overrides, a.overrides, b.overrides))


def _close(x: float, y: float, scale: float) -> bool:
    return abs(x - y) <= ADD_RTOL * max(abs(x), abs(y), scale)


def same(pred: Build, act: Build, base_of=None) -> bool:
    """Does a predicted scenario equal the built one? Each cell to :data:`ADD_RTOL` of its own matrix value
    (``base_of(matrix, cell)``: the base model's value, so a cell that cancels to zero is compared with
    the magnitude it has in the matrix, never with other cells')."""
    if pred.method != act.method or pred.overrides != act.overrides:
        return False
    if not (_close(pred.ed, act.ed, 0.0) and _close(pred.ekwh, act.ekwh, 0.0)):
        return False
    for name, p, q in (("technosphere", pred.tech, act.tech), ("biosphere", pred.bio, act.bio)):
        for k in set(p) | set(q):
            x, y = p.get(k, 0.0), q.get(k, 0.0)
            if x != y and not _close(x, y, abs(base_of(name, k)) if base_of else 0.0):
                return False
    return True


@dataclass
class SweepFrame:
    """Columnar sweep result: one numpy array (or list) per column, ``len`` scenarios, grid order."""
    columns: dict
    n: int
    value_keys: list = field(default_factory=list)

    def rows(self) -> list[dict]:
        """The rows as :func:`lca_battery.api.sweep` returns them (a column absent in a row is NaN here)."""
        return column_rows(self.columns, self.n)

    def to_pandas(self):
        import pandas as pd
        return pd.DataFrame({k: v for k, v in self.columns.items()})


UNASSIGNED_COL = f"stage:{UNASSIGNED}"
#: Columns of the cell's direct inputs (``footprint``'s ``materials``); NaN where the scenario's cell has no such input.
MATERIAL_PREFIX = "material:"


def column_rows(columns: dict, n: int, heads: list[dict] | None = None) -> list[dict]:
    """``n`` row dicts from result columns, each after its ``heads[i]`` (a table row's own values) when given; the
    optional columns (unassigned stage, materials) are left out of a row where they are NaN (the row has none)."""
    cols = [(k, v.tolist() if isinstance(v, np.ndarray) else list(v)) for k, v in columns.items()]
    opt = {UNASSIGNED_COL} | {k for k in columns if k.startswith(MATERIAL_PREFIX)}
    out = []
    for i in range(n):
        r = dict(heads[i]) if heads is not None else {}
        for k, v in cols:
            x = v[i]
            if k in opt and x != x:           # NaN: the row has no such column
                continue
            r[k] = x
        out.append(r)
    return out


# ---------------------------------------------------------------------------- building
class GridBuilder:
    """Builds the scenarios of a grid separably (see the module doc)."""

    def __init__(self, build_fn, keys: list, values: list[list], seed: int = 0, base_of=None, points=None):
        self.build_fn = build_fn            # ov dict -> Build (raises Fallback / StudyError)
        self.points = points                # a table's scenarios (flat indices; None: the whole grid)
        self.base_of = base_of              # (matrix, (row, col)) -> the base model's value (see same())
        self.keys = keys
        self.values = values
        self.shape = tuple(len(v) for v in values)
        self._cache: dict[tuple, Build] = {}
        self.seed = seed
        self.builds = 0
        self.pool: BuildPool | None = None      # helpers building prefetched combinations
        self.conditional: list = []             # (context axes, additive axes) of blocks assembled per context

    def _ov(self, idx: tuple) -> dict:
        return {k: self.values[i][j] for i, (k, j) in enumerate(zip(self.keys, idx))}

    def build(self, idx: tuple) -> Build:
        b = self._cache.get(idx)
        if b is None:
            b = self.build_fn(self._ov(idx))
            self.builds += 1
            self._cache[idx] = b
        return b

    def prefetch(self, idxs) -> None:
        """Build these combinations now, shared with the helper processes (when there are some). Only
        combinations the sequential order builds anyway are prefetched (but for a few when a check
        fails early: the rest of its sample, the verification sample of a grid that falls back); one
        whose build fails is left for :meth:`build` to raise in the sequential order."""
        todo = [i for i in dict.fromkeys(idxs) if i not in self._cache]
        if self.pool is None or len(todo) < PAR_MIN_BUILDS:
            return
        for idx, b in zip(todo, self.pool.map([self._ov(i) for i in todo], self.build_fn)):
            if b is not None:
                self._cache[idx] = b
                self.builds += 1

    def at(self, changes: dict) -> tuple:
        idx = [0] * len(self.keys)
        for i, j in changes.items():
            idx[i] = j
        return tuple(idx)

    def interactions(self) -> list[list[int]]:
        """Blocks of axes. Every pair of axes is built on all its combinations (the other axes at their
        first value) and compared with the additive prediction; axes that do not add up are merged into
        one block. Then every pair of blocks is checked the same way on a seeded random sample of
        :data:`PAIR_SAMPLE` combinations (all of them when fewer), merging again until no pair
        interacts: an interaction of three axes of which two already interact is found there, and any
        other is left to the full-combination sample of :meth:`verify`."""
        k = len(self.keys)
        base = self.build(self.at({}))
        parent = list(range(k))

        def find(i):
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i
        varying = [i for i in range(k) if self.shape[i] > 1]
        # every value of every axis alone first (a bad value stops the sweep here, before the pairs' builds,
        # which are the product of two axes' lengths), in the grid's order: the first bad value is the one reported
        singles = [self.at({a: i}) for a in varying for i in range(1, self.shape[a])]
        self.prefetch(singles)
        for idx in singles:
            self.build(idx)
        # every pair's combinations, and the full combinations verify() will build (one batch for the helpers)
        self.prefetch([self.at({a: i, b: j}) for a, b in itertools.combinations(varying, 2)
                       for i in range(self.shape[a]) for j in range(self.shape[b])]
                      + [tuple(int(x) for x in np.unravel_index(int(f), self.shape)) for f in self._verify_picks()])
        for a, b in itertools.combinations(varying, 2):
            if find(a) != find(b) and not self._additive(base, [a], [b]):
                parent[find(a)] = find(b)
        rng = np.random.default_rng(self.seed + 1)
        checked: set = set()
        while True:
            groups: dict[int, list[int]] = {}
            for i in varying:
                groups.setdefault(find(i), []).append(i)
            blocks = sorted(groups.values())
            merged = False
            for a, b in itertools.combinations(blocks, 2):
                if len(a) == 1 and len(b) == 1 or (tuple(a), tuple(b)) in checked:
                    continue                          # single axes: checked on every combination above
                checked.add((tuple(a), tuple(b)))
                if not self._additive(base, a, b, rng):
                    parent[find(a[0])] = find(b[0])
                    merged = True
                    break
            if not merged:
                break
        return sorted(blocks + [[i] for i in range(k) if self.shape[i] <= 1])

    def _combos(self, blk: list[int]):
        """Every combination of a block's axes but the all-first one, as {axis: value index}."""
        for c in itertools.product(*(range(self.shape[i]) for i in blk)):
            if any(c):
                yield dict(zip(blk, c))

    def _additive(self, base: Build, a: list[int], b: list[int], rng=None) -> bool:
        """Do blocks a and b add up on all their combinations (``rng``: on a sample of PAIR_SAMPLE)?"""
        pairs = list(itertools.product(list(self._combos(a)), list(self._combos(b))))
        if rng is not None and len(pairs) > PAIR_SAMPLE:
            pairs = [pairs[i] for i in rng.choice(len(pairs), size=PAIR_SAMPLE, replace=False)]
            self.prefetch(self.at(c) for ca, cb in pairs for c in (ca, cb, {**ca, **cb}))
        for ca, cb in pairs:
            pred = _predict(base, self.build(self.at(ca)), self.build(self.at(cb)))
            if not same(pred, self.build(self.at({**ca, **cb})), self.base_of):
                return False
        return True

    def assemble(self, blocks: list[list[int]]):
        """Per block, every combination of its axes built (others at their first value), on one cell layout.

        Returns (tech cells, bio cells, base vector, per-block contributions, per-block category codes,
        categories); a vector is (tech deltas, bio deltas, kWh/kg, kWh/cell), a category (method, overrides),
        code 0 the base's."""
        base = self.build(self.at({}))
        combos = []
        for blk in blocks:
            n = int(np.prod([self.shape[i] for i in blk]))
            if n > MAX_BLOCK:
                raise Fallback(f"{n} combinations in one block of interacting axes")
        cond = {}
        for bi, blk in enumerate(blocks):
            got = self._conditional(blk)
            if got is not None:
                cond[bi] = got
        self.prefetch(self.at(dict(zip(blk, c))) for bi, blk in enumerate(blocks) if bi not in cond
                      for c in itertools.product(*(range(self.shape[i]) for i in blk)))
        for bi, blk in enumerate(blocks):
            combos.append(cond[bi] if bi in cond else
                          [self.build(self.at(dict(zip(blk, c))))
                           for c in itertools.product(*(range(self.shape[i]) for i in blk))])
        tech = list(dict.fromkeys(k for bl in combos for b in bl for k in b.tech))
        bio = list(dict.fromkeys(k for bl in combos for b in bl for k in b.bio))
        ti = {k: i for i, k in enumerate(tech)}
        bi = {k: i for i, k in enumerate(bio)}

        def vec(b: Build):
            t = np.zeros(len(tech))
            for k, v in b.tech.items():
                t[ti[k]] = v
            s = np.zeros(len(bio))
            for k, v in b.bio.items():
                s[bi[k]] = v
            return np.concatenate([t, s, [b.ed, b.ekwh]])
        v0 = vec(base)
        contrib = [np.array([vec(b) - v0 for b in bl]) for bl in combos]
        catlist = [(base.method, base.overrides)]
        codes = []
        for bl in combos:
            cc = []
            for b in bl:
                cat = (b.method, b.overrides)
                if cat not in catlist:
                    catlist.append(cat)
                cc.append(catlist.index(cat))
            codes.append(np.array(cc, dtype=np.int64))
        return tech, bio, v0, contrib, codes, catlist

    def _conditional(self, blk: list[int]):
        """The combinations of a block of interacting axes, assembled per *context*, or None (build them all).

        In a block some axes may add up with each other and interact only through the others (e.g.
        recycled contents, chemistry and collection rate interact with the accounting rule, not with each
        other). For a set ``F`` of block axes that add up pairwise in the base context, the other axes
        of the block are the context: for every context combination ``k``, each pair of axes of ``F``
        is built on all its combinations and compared, cell by cell, with the additive prediction in
        that context (as :meth:`interactions` does in the base context); then every combination is
        ``d(k) + sum_f (d(k, f_i) - d(k))``. A pair that does not add up in some context is taken
        out and ``F`` chosen again; a single build of another method or stage overrides than its
        context's, or no choice needing fewer builds than the block, and the block is built in full.
        The seeded full-combination sample of :meth:`verify` checks the result as any other. ``F`` is
        the choice needing the fewest builds."""
        if not 3 <= len(blk) <= 12:          # the choice below tries every subset of the block's axes
            return None
        base = self.build(self.at({}))
        add = {(a, b): self._additive(base, [a], [b]) for a, b in itertools.combinations(blk, 2)}
        full = int(np.prod([self.shape[i] for i in blk]))
        while True:
            best = None
            for r in range(2, len(blk) + 1):
                for F in itertools.combinations(blk, r):
                    if not all(add[p] for p in itertools.combinations(F, 2)):
                        continue
                    ctx = [i for i in blk if i not in F]
                    m = [self.shape[i] - 1 for i in F]
                    cost = int(np.prod([self.shape[i] for i in ctx])) * (
                        1 + sum(m) + sum(x * y for x, y in itertools.combinations(m, 2)))
                    if best is None or cost < best[0]:
                        best = (cost, F, ctx)
            if best is None or best[0] >= full:
                return None
            _, F, ctx = best
            got = self._per_context(F, ctx)
            if got is None:
                return None
            if len(got) == 2 and isinstance(got[0], int):
                add[got] = False              # this pair does not add up in some context: choose again
                continue
            ctxs, singles = got
            break
        self.conditional.append(([self.keys[i] for i in ctx], [self.keys[i] for i in F]))
        out = []
        cpos = {ax: p for p, ax in enumerate(ctx)}
        for c in itertools.product(*(range(self.shape[i]) for i in blk)):
            cc = dict(zip(blk, c))
            n = int(np.ravel_multi_index(tuple(cc[i] for i in ctx), tuple(self.shape[i] for i in ctx))) \
                if ctx else 0
            assert all(ctxs[n][ax] == cc[ax] for ax in cpos)
            b0 = self.build(self.at(ctxs[n]))
            parts = [singles[(n, f, cc[f])] for f in F if cc[f]]
            if not parts:
                out.append(b0)
                continue
            tech, bio = dict(b0.tech), dict(b0.bio)
            ed, ekwh = b0.ed, b0.ekwh
            for b in parts:
                for d, src, base_d in ((tech, b.tech, b0.tech), (bio, b.bio, b0.bio)):
                    for key in set(src) | set(base_d):
                        d[key] = d.get(key, 0.0) + src.get(key, 0.0) - base_d.get(key, 0.0)
                ed += b.ed - b0.ed
                ekwh += b.ekwh - b0.ekwh
            out.append(Build(tech, bio, ed, ekwh, b0.method, b0.overrides))
        return out

    def _per_context(self, F, ctx):
        """The builds of :meth:`_conditional`'s scheme for additive axes ``F`` in contexts ``ctx``: (contexts,
        single-axis builds); or a pair of ``F`` that does not add up in some context; or None when a
        build has another method or stage overrides than its context's."""
        ctxs = [dict(zip(ctx, c)) for c in itertools.product(*(range(self.shape[i]) for i in ctx))]
        pairs = [(f, g, i, j) for f, g in itertools.combinations(F, 2)
                 for i in range(1, self.shape[f]) for j in range(1, self.shape[g])]
        changes = [{}] + [{f: i} for f in F for i in range(1, self.shape[f])] + [{f: i, g: j} for f, g, i, j in pairs]
        singles = {}
        for n, k in enumerate(ctxs):
            # the first two contexts one by one (a pair failing stops the builds early), then the rest at once
            if n <= 2:
                self.prefetch(self.at({**kk, **ch}) for kk in (ctxs[n:] if n == 2 else [k]) for ch in changes)
            b0 = self.build(self.at(k))
            for f in F:
                for i in range(1, self.shape[f]):
                    b = singles[(n, f, i)] = self.build(self.at({**k, f: i}))
                    if (b.method, b.overrides) != (b0.method, b0.overrides):
                        return None
            for f, g, i, j in pairs:
                pred = _predict(b0, singles[(n, f, i)], singles[(n, g, j)])
                if not same(pred, self.build(self.at({**k, f: i, g: j})), self.base_of):
                    return (f, g)
        return ctxs, singles

    def assembled(self, blocks, asm, flat: np.ndarray):
        """The assembled scenarios ``flat`` (indices into the grid): (m x vector, m category codes).

        Categories: the pair check allows at most one distinct non-base category per scenario."""
        tech, bio, v0, contrib, codes, catlist = asm
        idx = np.unravel_index(flat, self.shape)
        vals = np.broadcast_to(v0, (len(flat), len(v0))).copy()
        code = np.zeros(len(flat), dtype=np.int64)
        for blk, c, cc in zip(blocks, contrib, codes):
            bi = np.ravel_multi_index(tuple(idx[i] for i in blk), tuple(self.shape[i] for i in blk))
            vals += c[bi]
            code = np.maximum(code, cc[bi])
        return vals, code

    def _verify_picks(self) -> np.ndarray:
        """The full combinations :meth:`verify` builds (seeded: known before anything is built)."""
        if self.points is not None:        # a table: its own rows (the virtual grid may hold invalid ones)
            pts = np.unique(self.points)
            return pts[np.random.default_rng(self.seed).choice(len(pts), size=min(VERIFY_SAMPLE, len(pts)),
                                                               replace=False)]
        total = int(np.prod(self.shape))
        return np.random.default_rng(self.seed).choice(total, size=min(VERIFY_SAMPLE, total), replace=False)

    def verify(self, blocks, asm) -> bool:
        """A seeded random sample of full combinations built directly equals the assembled ones."""
        picks = self._verify_picks()
        tech, bio, catlist = asm[0], asm[1], asm[5]
        vals, code = self.assembled(blocks, asm, picks)
        self.prefetch(tuple(int(x) for x in np.unravel_index(int(f), self.shape)) for f in picks)
        for flat, vec, cd in zip(picks, vals, code):
            idx = tuple(int(x) for x in np.unravel_index(int(flat), self.shape))
            got = Build(dict(zip(tech, vec[:len(tech)])), dict(zip(bio, vec[len(tech):len(tech) + len(bio)])),
                        float(vec[-2]), float(vec[-1]), *catlist[cd])
            if not same(got, self.build(idx), self.base_of):
                return False
        return True


# ---------------------------------------------------------------------------- vectorised solve
#: A chunk is solved once per distinct small matrix ``K`` (:func:`_kgroups`) when it has at most this
#: fraction of its scenarios' count of them (the portfolio grid: 20 per 8,192 scenarios).
GROUP_MAX = 0.25


def _distinct_rows(X: np.ndarray):
    """The distinct rows of ``X``: (index of each one's first occurrence, each row's distinct row). Rows are
    grouped by a hash (a fixed random projection), then every row is checked equal, element by element, to
    its group's first; on a collision the rows are sorted (``np.unique``), and rows that still do not
    compare equal (NaN) are left each on its own."""
    m, k = X.shape
    if k == 0:
        return np.zeros(min(m, 1), dtype=np.int64), np.zeros(m, dtype=np.int64)
    h = X @ (np.random.default_rng(0).random(k) + 1.0)
    _, first, inv = np.unique(h, return_index=True, return_inverse=True)
    inv = inv.reshape(m)
    if not np.array_equal(X[first][inv], X):
        _, first, inv = np.unique(X, axis=0, return_index=True, return_inverse=True)
        inv = inv.reshape(m)
        if not np.array_equal(X[first][inv], X):
            return np.arange(m), np.arange(m)
    return first, inv


def _kgroups(X: np.ndarray):
    """Scenarios with equal rows of ``X`` (the cells that enter ``K``): (index of each distinct row's first
    scenario, each scenario's group; :func:`_distinct_rows`), or None when more than :data:`GROUP_MAX` of
    them are distinct."""
    first, inv = _distinct_rows(X)
    if len(first) > GROUP_MAX * X.shape[0]:
        return None
    return first, inv


def _lowrank(DV: np.ndarray, ri: np.ndarray, ci: np.ndarray, r: int, c: int, G: np.ndarray, HC: np.ndarray,
             Sr: np.ndarray, left: np.ndarray | None = None):
    """``T`` (transposed: m x q x r; or by cell, m x q x L, with ``T = W Sr``: see :func:`_project`) of the exact Woodbury update ``(M + E_R D_s E_C^T)^-1 F = M^-1 F - P T_s`` for every
    scenario s, with ``P = M^-1 E_R``, ``G = P_C`` (c x r), ``HC = (M^-1 F)_C`` (c x q, or m x c x q) and
    ``D_s`` the cells ``(ri, ci)`` with values ``DV[s]``. The smaller of the column form
    (``T = D (I_c + G D)^-1 HC``) and the row form (``T = (I_r + D G)^-1 D HC``) is solved.

    ``K`` (``I_c + G D`` or ``I_r + D G``) depends only on the cells whose ``G`` entries are not all zero;
    scenarios equal on those cells share it (:func:`_kgroups`): then ``K`` is factorised once per group
    (its inverse, by LU with partial pivoting) and applied to every scenario's right-hand side, else each
    scenario's ``K`` is solved (batched LAPACK).

    ``left`` (``P^T h``, r): also the row vector ``w_s`` (m x c) of the update of ``h^T M^-1``:
    ``h^T (M + E_R D_s E_C^T)^-1 = h^T M^-1 - w_s E_C^T M^-1`` (``w_s = h^T P (I_r + D G)^-1 D``, from the same
    matrices ``K`` transposed); then returns (T, by cell, w)."""
    m, L = DV.shape
    if HC.ndim == 2:
        HC = np.broadcast_to(HC, (m, *HC.shape))
    q = HC.shape[2]
    col = c <= r
    k = c if col else r
    Mk = np.zeros((L, k * k))
    for l in range(L):
        if col:
            Mk[l, np.arange(c) * c + ci[l]] = G[:, ri[l]]
        else:
            Mk[l, ri[l] * r + np.arange(r)] = G[ci[l], :]
    act = np.flatnonzero(np.any(Mk != 0, axis=1))          # the cells K depends on
    grp = _kgroups(DV[:, act]) if m > 1 else None
    Kinv = None
    if grp is not None:
        first, inv = grp
        Ku = (DV[first][:, act] @ Mk[act]).reshape(len(first), k, k)
        Ku[:, np.arange(k), np.arange(k)] += 1.0
        Kinv = np.linalg.inv(Ku)[inv]                           # m x k x k: one factorisation a group
    else:
        K = (DV @ Mk).reshape(m, k, k)
        K[:, np.arange(k), np.arange(k)] += 1.0
    if col:
        Z = (Kinv @ HC if Kinv is not None else np.linalg.solve(K, HC)).transpose(0, 2, 1)    # m x q x c
        W = DV[:, None, :] * np.take(Z, ci, axis=2)                # m x q x L: T = W Sr (summed by row)
        if left is None:
            return W, True
        Sc = np.zeros((L, c))
        Sc[np.arange(L), ci] = 1.0
        hD = DV @ (left[ri][:, None] * Sc)                        # m x c: h^T P D
        w = (hD[:, None, :] @ Kinv)[:, 0, :] if Kinv is not None else \
            np.linalg.solve(K.transpose(0, 2, 1), hD[:, :, None])[:, :, 0]
        return W, True, w
    DH = ((DV[:, :, None] * HC[:, ci, :]).transpose(0, 2, 1).reshape(m * q, L) @ Sr).reshape(m, q, r)
    T = (Kinv @ DH.transpose(0, 2, 1) if Kinv is not None else
         np.linalg.solve(K, DH.transpose(0, 2, 1))).transpose(0, 2, 1)          # m x q x r
    if left is None:
        return T, False
    if Kinv is not None:
        y = (left[None, None, :] @ Kinv)[:, 0, :]                 # m x r: K^-T left
    else:
        y = np.linalg.solve(K.transpose(0, 2, 1), np.broadcast_to(left, (m, r))[:, :, None])[:, :, 0]
    Sc = np.zeros((L, c))
    Sc[np.arange(L), ci] = 1.0
    return T, False, (y[:, ri] * DV) @ Sc


def _project(T, by_cell: bool, X: np.ndarray, SrX: np.ndarray) -> np.ndarray:
    """``T_q X`` (m x q x p) for X (r x p), from :func:`_lowrank`'s result (by cell: ``W (Sr X)``)."""
    m, q, w = T.shape
    return (T.reshape(m * q, w) @ (SrX if by_cell else X)).reshape(m, q, X.shape[1])


class GridSolver:
    """Exact low-rank solves of many scenarios sharing a cell layout (Woodbury, :func:`_lowrank`).

    Everything a row needs is a linear functional of the supply ``x`` and of the end-of-life supply,
    so only small projections of ``A^-1 F`` and ``A^-1 E_R`` are kept; the stage split follows
    :meth:`lca_battery.compiled.BatchSolver._results` (background footprints ``g = A_NN^-T p_N``
    updated the same way when a scenario changes cells inside the background block)."""

    def __init__(self, batch):
        self.b = batch                       # a compiled.BatchSolver (factorisations, F, root, eol)
        self._prep: dict = {}

    def _prepare(self, tr: np.ndarray, tc: np.ndarray, family: str, overrides: tuple):
        key = (tr.tobytes(), tc.tobytes(), family, overrides)
        got = self._prep.get(key)
        if got is not None:
            return got
        from .bw.project import GAS_PARTS
        b, model = self.b, self.b.model
        n = b.n
        stages = model.staged_mask(dict(overrides))
        N, lu_nn, pos = b._nn_block(stages)
        inN = np.zeros(n, dtype=bool)
        inN[N] = True
        L = len(tr)
        R, ri = np.unique(tr, return_inverse=True)
        C, ci = np.unique(tc, return_inverse=True)
        Sr = np.zeros((L, len(R)))
        Sr[np.arange(L), ri] = 1.0
        Y = b._solve(b.F)                                         # n x k (root, then eol treatments)
        ER = np.zeros((n, len(R)))
        ER[R, np.arange(len(R))] = 1.0
        P = b._solve(ER) if len(R) else np.zeros((n, 0))          # n x r
        Bm = model.B
        p0 = np.asarray(model.cf[(family, "total")] @ Bm).ravel()
        pg = [np.asarray(model.cf[(family, g)] @ Bm).ravel() for g in GAS_PARTS]
        # the chemistries' cells the root may draw here (base or changed amount; it draws one a scenario)
        root0 = np.asarray(model.A[b.cells, b.root].todense()).ravel()
        changed = {int(r) for r, c in zip(tr, tc) if c == b.root}
        cells = np.array([c for c, a in zip(b.cells, root0) if a != 0 or int(c) in changed], dtype=np.int64)
        Ecell = np.zeros((len(cells), n))
        Ecell[np.arange(len(cells)), cells] = 1.0
        fun = np.array([p0, *pg, *Ecell, np.where(inN, p0, 0.0)])  # total, gases, cell supplies, background part
        g = lu_nn.solve(p0[N], trans="T")                         # background footprints per unit
        A_N = model.A[N].tocsc()
        k0 = -(A_N.T @ g)
        names = sorted({st for st in stages if st is not None})
        S = np.array([c for c, st in enumerate(stages) if st is not None], dtype=np.int64)
        spos = {c: i for i, c in enumerate(S)}
        ind = np.zeros((len(S), len(names)))
        for i, c in enumerate(S):
            ind[i, names.index(stages[c])] = 1.0
        # end-of-life demand: what the root draws of each eol treatment (A holds -amount)
        eolpos = {c: i for i, c in enumerate(b.eol)}
        a0 = -np.asarray(model.A[b.eol, b.root].todense()).ravel() if len(b.eol) else np.zeros(0)
        e_cells = np.array([l for l in range(L) if tc[l] == b.root and tr[l] in eolpos], dtype=np.int64)
        e_idx = np.array([eolpos[tr[l]] for l in e_cells], dtype=np.int64)
        # background rows of staged columns: their attribution k_c changes by -g_r * delta
        n_cells = np.array([l for l in range(L) if inN[tr[l]] and tc[l] in spos], dtype=np.int64)
        n_col = np.array([spos[tc[l]] for l in n_cells], dtype=np.int64)
        # cells inside the background block: A_NN^T + E_Rm Dm E_Cm^T (its rows are A's columns)
        nn = np.flatnonzero(inN[tr] & inN[tc])
        Rm, rmi = np.unique(np.array([pos[c] for c in tc[nn]], dtype=np.int64), return_inverse=True)
        Cm, cmi = np.unique(np.array([pos[r] for r in tr[nn]], dtype=np.int64), return_inverse=True)
        # linear functionals of the staged part of v = x - s_eol (columns of Phi)
        WS = (p0[S] + k0[S])[:, None] * ind                       # stages, base attribution
        phi = [WS, k0[S][:, None]]
        if len(nn):
            Em = np.zeros((len(N), len(Rm)))
            Em[Rm, np.arange(len(Rm))] = 1.0
            Pm = lu_nn.solve(Em, trans="T")                       # nN x rm; g_s = g - Pm T_s
            Qm = np.asarray(A_N[:, S].T @ Pm)                     # k_S = k0_S + Qm T_s
            phi += [Qm[:, j:j + 1] * ind for j in range(len(Rm))] + [Qm]
            Srm = np.zeros((len(nn), len(Rm)))
            Srm[np.arange(len(nn)), rmi] = 1.0
            nnq = dict(rmi=rmi, cmi=cmi, rm=len(Rm), cm=len(Cm), G=Pm[Cm], hC=g[Cm][:, None], Sr=Srm,
                       Pn=Pm[[pos[tr[l]] for l in n_cells]] if len(n_cells) else np.zeros((0, len(Rm))))
        else:
            nnq = None
        ucol, n_u = np.unique(n_col, return_inverse=True)        # v at the staged columns those cells are in
        sel = np.zeros((len(S), len(ucol)))
        sel[ucol, np.arange(len(ucol))] = 1.0
        phi.append(sel)
        Phi = np.concatenate(phi, axis=1)                         # |S| x q
        YS = Y[S]
        got = dict(L=L, ri=ri, ci=ci, r=len(R), c=len(C), Sr=Sr, G=P[C], YC=Y[C], FY=fun @ Y, FP=fun @ P,
                   vY0=YS[:, 0] @ Phi, vYe=YS[:, 1:].T @ Phi, vP=P[S].T @ Phi, ns=len(names), n_u=n_u,
                   FPvP=np.concatenate([(fun @ P).T, P[S].T @ Phi], axis=1),
                   a0=a0, e_cells=e_cells, e_idx=e_idx, n_cells=n_cells,
                   n_coef=np.array([-g[pos[tr[l]]] for l in n_cells]), n_ind=ind[n_col] if len(n_cells) else
                   np.zeros((0, len(names))), names=names, ng=len(pg), nn=nn, nnq=nnq)
        got["SrFPvP"] = Sr @ got["FPvP"]
        got["mat"] = self._prepare_materials(tr, tc, p0, P, C, cells)
        if len(self._prep) > 32:
            self._prep.clear()
        self._prep[key] = got
        return got

    def _prepare_materials(self, tr, tc, p0, P, C, cells) -> dict:
        """What the cell's direct inputs need (see :meth:`_materials`): the inputs ``I`` of every chemistry's
        cell (base matrix or changed cells), their base amounts, ``u0_I`` (``A^-T p``) and ``(A^-1 E_I)_C``."""
        b, model = self.b, self.b.model
        n = b.n
        cpos = {int(c): j for j, c in enumerate(cells)}
        Acell = model.A[:, cells].tocoo()
        I = np.unique(np.concatenate([Acell.row.astype(np.int64),
                                      np.array([r for r, c in zip(tr, tc) if int(c) in cpos], dtype=np.int64)]))
        ipos = {int(i): j for j, i in enumerate(I)}
        base = np.asarray(model.A[I][:, cells].todense()) if len(I) else np.zeros((0, len(cells)))   # |I| x cells
        u0 = b._solve(p0, "T")
        EI = np.zeros((n, len(I)))
        EI[I, np.arange(len(I))] = 1.0
        HCI = b._solve(EI)[C] if len(I) and len(C) else np.zeros((len(C), len(I)))        # c x |I|
        root_cells = np.array([l for l in range(len(tr)) if tc[l] == b.root and int(tr[l]) in cpos], dtype=np.int64)
        root_sel = np.zeros((len(root_cells), len(cells)))          # changed root cells -> cells drawn
        root_sel[np.arange(len(root_cells)), [cpos[int(tr[l])] for l in root_cells]] = -1.0
        in_cells = np.array([l for l in range(len(tr)) if int(tc[l]) in cpos and int(tr[l]) in ipos], dtype=np.int64)
        in_sel = np.zeros((len(in_cells), len(I)))                  # changed cells of a cell column -> inputs
        in_sel[np.arange(len(in_cells)), [ipos[int(tr[l])] for l in in_cells]] = 1.0
        return dict(I=I, ids=[model.pids[i] for i in I], base=base, u0=u0[I], HCI=HCI, hP=P.T @ p0,
                    root0=-np.asarray(model.A[cells, b.root].todense()).ravel(),
                    root_cells=root_cells, root_sel=root_sel, in_cells=in_cells, in_sel=in_sel,
                    in_cell=np.array([cpos[int(tc[l])] for l in in_cells], dtype=np.int64),
                    diag=np.array([[int(i) == int(c) for c in cells] for i in I], dtype=bool).reshape(len(I), len(cells)))

    @staticmethod
    def _materials(mq: dict, DV: np.ndarray, xcell: np.ndarray, w) -> np.ndarray:
        """Footprint of each input ``i`` of the scenario's cell ``c`` (m x |I|; NaN: not an input of it):
        ``-A'[i, c] x_c u_i`` with ``u_I = u0_I - w_s (A^-1 E_I)_C`` (``w``: :func:`_lowrank`'s left update)."""
        m = DV.shape[0]
        if not len(mq["root0"]) or not len(mq["I"]):
            return np.full((m, len(mq["I"])), np.nan)
        draw = mq["root0"][None, :] + DV[:, mq["root_cells"]] @ mq["root_sel"]  # kg of each cell per kWh
        drawn = draw != 0
        one = drawn.sum(axis=1) == 1
        cs = np.argmax(drawn, axis=1)                                          # the scenario's cell
        amt = mq["base"][:, cs].T                                              # m x |I|: A[i, c_s]
        if len(mq["in_cells"]):
            hit = mq["in_cell"][None, :] == cs[:, None]                        # m x L': cells of c_s's column
            amt = amt + np.where(hit, DV[:, mq["in_cells"]], 0.0) @ mq["in_sel"]
        u = mq["u0"][None, :] if w is None else mq["u0"][None, :] - w @ mq["HCI"]
        xc = xcell[np.arange(m), cs]
        out = (-xc)[:, None] * amt * u
        bad = amt == 0
        if mq["diag"].any():
            bad |= mq["diag"][:, cs].T
        if not one.all():
            bad |= ~one[:, None]
        out[bad] = np.nan
        return out

    def solve(self, tr, tc, DV: np.ndarray, family: str, overrides: tuple, materials: bool = True) -> dict:
        """Totals, gases, end-of-life and stages of ``m`` scenarios: DV (m x cells) the deltas of cells (tr, tc);
        with ``materials``, also ``materials`` (m x inputs, :meth:`_materials`) and ``material_ids``."""
        q = self._prepare(tr, tc, family, overrides)
        m = DV.shape[0]
        a = np.broadcast_to(q["a0"], (m, len(q["a0"]))).copy()   # eol treatments drawn by the root
        if len(q["e_cells"]):
            np.add.at(a, (slice(None), q["e_idx"]), -DV[:, q["e_cells"]])
        YC = q["YC"]
        HC = np.stack([np.broadcast_to(YC[:, 0], (m, YC.shape[0])), a @ YC[:, 1:].T], axis=2)   # m x c x 2
        FY = q["FY"]
        nf = FY.shape[0]
        mq, w = q["mat"], None
        if q["L"]:
            if materials:
                T, by_cell, w = _lowrank(DV, q["ri"], q["ci"], q["r"], q["c"], q["G"], HC, q["Sr"], mq["hP"])
            else:
                T, by_cell = _lowrank(DV, q["ri"], q["ci"], q["r"], q["c"], q["G"], HC, q["Sr"])
            TP = _project(T, by_cell, q["FPvP"], q["SrFPvP"])         # m x 2 x (nf + |Phi|)
        else:
            TP = np.zeros((m, 2, nf + q["vP"].shape[1]))
        fx = FY[:, 0][None, :] - TP[:, 0, :nf]                   # functionals of x: m x nf
        fe = a @ FY[:, 1:].T - TP[:, 1, :nf]                     # ... of the eol supply
        ng, ns = q["ng"], q["ns"]
        total = fx[:, 0]
        vphi = q["vY0"][None, :] - a @ q["vYe"] - (TP[:, 0, nf:] - TP[:, 1, nf:])       # m x |Phi|
        by_stage = vphi[:, :ns].copy()
        att = vphi[:, ns].copy()
        o = ns + 1
        n_coef = np.broadcast_to(q["n_coef"], (m, len(q["n_cells"])))
        nnq = q["nnq"]
        if nnq is not None:
            DVn = DV[:, q["nn"]]
            Tn, by_cell = _lowrank(DVn, nnq["rmi"], nnq["cmi"], nnq["rm"], nnq["cm"], nnq["G"], nnq["hC"], nnq["Sr"])
            Tm = (Tn[:, 0, :] @ nnq["Sr"]) if by_cell else Tn[:, 0, :]          # m x rm
            rm = nnq["rm"]
            for j in range(rm):
                by_stage += Tm[:, j:j + 1] * vphi[:, o + j * ns:o + (j + 1) * ns]
            o += rm * ns
            att += np.einsum("mj,mj->m", Tm, vphi[:, o:o + rm])
            o += rm
            n_coef = n_coef + Tm @ nnq["Pn"].T
        if len(q["n_cells"]):
            corr = n_coef * DV[:, q["n_cells"]] * vphi[:, o:][:, q["n_u"]]
            by_stage += corr @ q["n_ind"]
            att += corr.sum(axis=1)
        residual = (fx[:, -1] - fe[:, -1]) - att
        out = {"total": total, "gases": fx[:, 1:1 + ng], "eol": fe[:, 0], "by_stage": by_stage,
               "names": q["names"], "residual": residual}
        if materials:
            out["materials"] = self._materials(mq, DV, fx[:, 1 + ng:1 + ng + len(mq["root0"])], w)
            out["material_ids"] = mq["ids"]
        return out


def stage_columns(names: list) -> list:
    """Stage keys in the order of a ``footprint`` result: the standard stages, then others sorted."""
    return list(dict.fromkeys([*STAGES, *names, "end_of_life"]))


def solve_frame(solver: GridSolver, tr, tc, DV, family, overrides, ed, ekwh, materials: bool = True) -> dict:
    """Result columns of one family group (see :func:`grid_frame`)."""
    from .bw.project import GAS_PARTS
    parts = []
    for k in range(0, DV.shape[0], CHUNK):
        parts.append(solver.solve(tr, tc, DV[k:k + CHUNK], family, overrides, materials))
    if not parts:
        parts = [solver.solve(tr, tc, DV, family, overrides, materials)]
    cat = {k: np.concatenate([p[k] for p in parts]) for k in ("total", "gases", "eol", "by_stage", "residual")}
    names = parts[0]["names"]
    tot = cat["total"]
    cols = {"kg_co2e_per_kwh": tot, "kg_co2e_per_kg": tot * ed, "kg_co2e_per_cell": tot * ekwh}
    m = len(tot)
    for st in stage_columns(names):
        v = np.zeros(m)
        if st in names:
            v = v + cat["by_stage"][:, names.index(st)]
        if st == "end_of_life":
            v = v + cat["eol"]
        cols[f"stage:{st}"] = v
    res = cat["residual"]
    cols[UNASSIGNED_COL] = np.where(np.abs(res) > 1e-9 * np.maximum(1.0, np.abs(tot)), res, np.nan)
    for j, g in enumerate(GAS_PARTS):
        cols[f"gas:{g}"] = cat["gases"][:, j]
    if materials:
        mats = np.concatenate([p["materials"] for p in parts])
        ids = parts[0]["material_ids"]
        for j in sorted(range(len(ids)), key=lambda j: ids[j]):
            cols[f"{MATERIAL_PREFIX}{ids[j]}"] = mats[:, j]
    return cols


# ---------------------------------------------------------------------------- driver
def _solver(engine) -> GridSolver:
    from .compiled import batch_solver
    gs = getattr(engine, "_grid_solver", None)
    batch = batch_solver(engine)
    if gs is None or gs.b is not batch:
        gs = engine._grid_solver = GridSolver(batch)
    return gs


class _Unset:
    """A scenario table's empty cell: the field keeps the study's value (the key is left out of the build)."""

    def __repr__(self):
        return "<unset>"

    def __reduce__(self):          # the one instance, also in a forked helper's arguments
        return "UNSET"


UNSET = _Unset()


def _index_of(vals: list, v, seen: dict | None = None) -> int:
    """Index of ``v`` among ``vals`` (equal value and type; values may be unhashable, e.g. a mix mapping,
    then searched one by one; ``seen``: (type, value) -> index of the hashable ones)."""
    try:
        key = (type(v), v)
        hash(key)
    except TypeError:
        key = None
    if key is not None and seen is not None:
        i = seen.get(key)
        if i is None:
            i = seen[key] = len(vals)
            vals.append(v)
        return i
    for i, w in enumerate(vals):
        if w is v or (type(w) is type(v) and w == v):
            return i
    vals.append(v)
    return len(vals) - 1


@dataclass(frozen=True)
class Joint:
    """The value of a joint axis of a scenario table: columns whose values are not seen in every combination
    (e.g. a recycling route set only on the LFP rows) vary together, one value a combination seen in a row."""
    items: tuple            # ((study path, value or UNSET), ...)


#: The name of a joint axis joins its columns' names with this.
JOINT = " & "


def table_points(combos: list[dict]):
    """A scenario table (rows x grid, full override mappings) as points of a virtual grid: (axes, the
    distinct values of each axis in order of appearance, and each row's flat index into the grid). An axis is
    a column (a row without it: :data:`UNSET`) or a :class:`Joint` of columns: two columns are joined when
    the table has not every combination of their values (a combination no row has may be no valid study).
    The first row is the grid's all-first combination."""
    cols = list(dict.fromkeys(k for ov in combos for k in ov))
    vals: list[list] = [[] for _ in cols]
    seen: list[dict] = [{} for _ in cols]
    idx = np.empty((len(combos), len(cols)), dtype=np.int64)
    for n, ov in enumerate(combos):
        for i, k in enumerate(cols):
            idx[n, i] = _index_of(vals[i], ov.get(k, UNSET), seen[i])
    parent = list(range(len(cols)))

    def find(i):
        while parent[i] != i:
            i = parent[i]
        return i
    for a, b in itertools.combinations(range(len(cols)), 2):
        if len(vals[a]) > 1 and len(vals[b]) > 1 and \
                len(np.unique(idx[:, a] * len(vals[b]) + idx[:, b])) < len(vals[a]) * len(vals[b]):
            parent[find(a)] = find(b)
    groups: dict[int, list[int]] = {}
    for i in range(len(cols)):
        groups.setdefault(find(i), []).append(i)
    keys, values, axis_idx = [], [], []
    for g in sorted(groups.values()):
        if len(g) == 1:
            keys.append(cols[g[0]])
            values.append(vals[g[0]])
            axis_idx.append(idx[:, g[0]])
            continue
        _, first, inv = np.unique(idx[:, g], axis=0, return_index=True, return_inverse=True)
        order = np.argsort(first)                      # values in order of appearance
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        keys.append(JOINT.join(cols[i] for i in g))
        values.append([Joint(tuple((cols[i], vals[i][idx[first[o], i]]) for i in g)) for o in order])
        axis_idx.append(rank[inv.reshape(-1)])
    shape = tuple(len(v) for v in values)
    if float(np.prod([float(x) for x in shape])) >= 2.0 ** 62:
        raise Fallback("a virtual grid too large to index")
    flat = np.ravel_multi_index(tuple(axis_idx), shape) if keys else np.zeros(len(combos), dtype=np.int64)
    return keys, values, flat


def table_builds(shape: tuple, n_rows: int) -> int:
    """Study builds the separable scheme needs at least on a virtual grid of ``shape`` (every value alone,
    every pair of axes on all its combinations), to compare with building each of ``n_rows`` scenarios."""
    m = [x - 1 for x in shape if x > 1]
    return 1 + sum(m) + sum(a * b for a, b in itertools.combinations(m, 2)) + min(VERIFY_SAMPLE, n_rows)


def table_frame(study, combos: list[dict], overrides: dict, engine, parsed=None, progress=None, seed: int = 0,
                stats: dict | None = None, threads: int | None = None, materials: bool = True, memo=None) -> dict:
    """Result columns of a scenario table's rows (``combos``: each row's full override mapping, table rows x
    grid as :func:`lca_battery.api.sweep` makes them), by the grid engine on the virtual grid of the
    distinct values of each column (:func:`table_points`): built separably, checked as a grid is, and
    only the table's points assembled and solved. The verification sample is drawn from the table's rows.

    Raises :class:`Fallback` when that path does not apply: more builds than rows
    (:func:`table_builds`), any study error (the per-scenario path reports it with its row), or any
    reason :func:`grid_frame` has."""
    keys, values, flat = table_points(combos)
    if not keys:
        raise Fallback("a table without columns")
    shape = tuple(len(v) for v in values)
    if table_builds(shape, len(combos)) >= len(np.unique(flat)):
        raise Fallback("fewer distinct scenarios than the builds of the separable scheme")
    return _frame(study, keys, values, overrides, engine, parsed, progress, seed, stats, threads, materials,
                  points=flat, memo=memo)


def grid_frame(study, grid: dict, overrides: dict, engine, parsed=None, progress=None, seed: int = 0,
               stats: dict | None = None, threads: int | None = None, materials: bool = True,
               memo=None, pool=None) -> SweepFrame:
    """Footprints of every combination of ``grid`` as columns (grid order: the last key varies fastest).

    Raises :class:`Fallback` when the grid cannot be assembled or solved vectorised (then use the
    per-scenario path); study errors are raised as by ``footprint``. ``stats`` receives the number of
    study builds, the blocks of interacting axes and the cell layout size. ``pool``: what builds the scenarios
    beside this process (``pool(keys)`` -> an object with :class:`BuildPool`'s ``map``/``close``/``helpers``, e.g.
    a Dask cluster's workers, :func:`lca_battery.distributed.sweep_grid`), else the forked helpers of
    :func:`build_pool`; the builds are the same function anywhere, so the result is the same bit for bit."""
    keys = list(grid)
    values = [list(grid[k]) for k in keys]
    return _frame(study, keys, values, overrides, engine, parsed, progress, seed, stats, threads, materials,
                  memo=memo, pool=pool)


def build_scenario(study, overrides: dict, ov: dict, engine, parsed, memo, model, table: bool = False) -> Build:
    """One scenario of a grid built against the compiled ``model`` of ``engine``: the study with ``overrides`` and
    the scenario's values ``ov``. The same function in this process, in a forked build helper and on a Dask worker
    (:func:`lca_battery.distributed.sweep_grid`), so a build is the same wherever it is made."""
    from .prepare import prepare_mapping
    from .errors import StudyError
    try:
        st, mapping, eng = prepare_mapping(study, {**overrides, **ov}, engine, parsed=parsed, memo=memo)
    except StudyError:
        if table:        # perhaps a combination no row has: the per-scenario path reports a row's error
            raise Fallback("a study error (reported per row by the per-scenario path)") from None
        raise
    if eng is not engine:
        raise Fallback("a supplier inventory (its own project)" if eng.inventory.extra_files
                       else "scenarios on different backgrounds")
    try:
        tr, tc, tv, br, bc_, bv = model.delta(mapping.entries, mapping.cells, mapping.amounts, mapping.layout_key)
    except NotCompilable as exc:
        raise Fallback(str(exc)) from None
    return Build(dict(zip(zip(tr.tolist(), tc.tolist()), tv.tolist())),
                 dict(zip(zip(br.tolist(), bc_.tolist()), bv.tolist())),
                 float(mapping.bom_info["energy_density_kwh_per_kg"]), float(st.cell.energy_kwh),
                 st.method, tuple(sorted(dict(st.stage_overrides).items())))


def _frame(study, keys, values, overrides, engine, parsed, progress, seed, stats, threads, materials,
           points: np.ndarray | None = None, memo=None, pool=None):
    """:func:`grid_frame` (``points`` None: every combination, a :class:`SweepFrame`) or
    :func:`table_frame` (``points``: flat indices of the scenarios into the grid; their result columns)."""
    from .prepare import prepare_mapping
    from .compiled import CompiledModel
    from .errors import StudyError
    table = points is not None

    def given(ov: dict) -> dict:
        if not table:
            return ov
        out = {}
        for k, v in ov.items():
            for kk, vv in (v.items if isinstance(v, Joint) else ((k, v),)):
                if vv is not UNSET:
                    out[kk] = vv
        return out
    # the engine of the grid's first scenario: a study on a licensed background is solved on the linked
    # model (its own project, the open model's size: the linked activities hold cumulative inventories)
    try:
        _, _, first = prepare_mapping(study, {**overrides, **given({k: v[0] for k, v in zip(keys, values)})},
                                      engine, parsed=parsed)
    except StudyError:
        if table:
            raise Fallback("a study error (reported per row by the per-scenario path)") from None
        raise
    if first is not engine:
        if first.inventory.extra_files:
            raise Fallback("a supplier inventory (its own project)")
        engine = first
    model = CompiledModel.from_engine(engine)
    from .model.entries import BuildMemo
    if memo is None:            # the design model, plant energy and recycling entries kept between builds
        memo = BuildMemo()      # (a caller's memo: kept across sweeps, e.g. a Dask worker's chunks)

    def build_fn(ov: dict) -> Build:
        return build_scenario(study, overrides, given(ov), engine, parsed, memo, model, table)

    import time
    t0 = time.perf_counter()
    base_vals: dict = {}

    def base_of(matrix: str, cell: tuple) -> float:
        v = base_vals.get((matrix, cell))
        if v is None:
            M = model.A if matrix == "technosphere" else model.B
            v = base_vals[(matrix, cell)] = float(M[cell[0], cell[1]])
        return v
    builder = GridBuilder(build_fn, keys, values, seed, base_of, points=points)
    builder.build(builder.at({}))              # the base first: a grid the engine cannot hold stops here
    total = int(np.prod(builder.shape)) if points is None else len(points)
    builder.pool = pool(keys) if pool is not None else build_pool(build_fn, total, keys)
    procs = 1 + (builder.pool.helpers if builder.pool is not None else 0)
    try:
        blocks = builder.interactions()
        asm = builder.assemble(blocks)
        if not builder.verify(blocks, asm):
            raise Fallback("an assembled scenario differs from its direct build")
    finally:
        if builder.pool is not None:
            builder.pool.close()
            builder.pool = None
    tech, bio, catlist = asm[0], asm[1], asm[5]
    if bio:
        raise Fallback("a changed biosphere cell")
    t1 = time.perf_counter()
    tr = np.array([k[0] for k in tech], dtype=np.int64)
    tc = np.array([k[1] for k in tech], dtype=np.int64)
    L = len(tech)
    solver = _solver(engine)
    cols: dict | None = None

    def chunk(k):
        at = np.arange(k, min(k + CHUNK, total))
        vals, code = builder.assembled(blocks, asm, at if points is None else points[at])
        out = []
        for cd in np.unique(code):
            sel = np.flatnonzero(code == cd)
            method, ov = catlist[cd]
            v = vals[sel]
            first, inv = _distinct_rows(v) if DEDUPE else (np.arange(len(sel)), None)
            if len(first) == len(sel):
                inv = None
            v = v[first] if inv is not None else v
            part = solve_frame(solver, tr, tc, v[:, :L], method, ov, v[:, -2], v[:, -1], materials)
            if inv is not None:                   # identical scenarios: solved once, the rows copied
                part = {c: x[inv] for c, x in part.items()}
            out.append((at[sel], part))
        return out
    for cd in range(len(catlist)):              # layouts prepared once, before the threads share them
        solver._prepare(tr, tc, *catlist[cd])
    starts = list(range(0, total, CHUNK))
    workers = max(1, min(threads or THREADS, len(starts)))
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=workers) as pool:       # numpy releases the GIL in its kernels
        done = 0
        for parts in pool.map(chunk, starts):
            for where, part in parts:
                if cols is None:
                    cols = {c: np.full(total, np.nan) for c in part}
                if list(part) != list(cols):
                    raise Fallback("scenarios with different stage columns")
                for c, v in part.items():
                    cols[c][where] = v
                done += len(where)
            if progress:
                progress(done, total)
    if stats is not None:
        stats.update(background=None if engine.background is None else engine.background.database)
        stats.update(builds=builder.builds, blocks=[[keys[i] for i in b] for b in blocks], cells=len(tech),
                     per_context=builder.conditional, build_processes=procs,
                     build_memo={"hits": memo.hits, "misses": memo.misses,
                                 "kept": {k: len(v) for k, v in memo.parts.items()}},
                     build_s=t1 - t0, solve_s=time.perf_counter() - t1)
    if points is not None:
        return cols
    idx = np.unravel_index(np.arange(total), builder.shape)
    out = {}
    for i, key in enumerate(keys):
        vs = np.empty(len(values[i]), dtype=object)
        for j, v in enumerate(values[i]):
            vs[j] = v
        out[key] = vs[idx[i]]
    out.update(cols)
    for c in [c for c in out if c == UNASSIGNED_COL or c.startswith(MATERIAL_PREFIX)]:
        if np.all(np.isnan(out[c])):        # no scenario has it (another chemistry's input)
            del out[c]
    return SweepFrame(out, total, keys)
