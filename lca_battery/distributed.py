"""Sweeps and Monte Carlo on a Dask cluster (``--workers N`` or ``--scheduler tcp://host:port``).

The distribution sits *above* the serial engine and does not change what it computes:

* **Grid sweep** (a grid without a table; :func:`sweep_grid`): the grid engine runs on the client as in the
  serial run; its study builds go to the workers (:class:`DaskBuildPool`: the same build function on the same
  compiled model, each worker with its kept study context, the client building a share too) and the assembly
  and the vectorised solve stay on the client, so the rows are the serial rows bit for bit. A failing build:
  the client builds it again and raises the serial run's error. A grid on a licensed background is cut
  into sub-grids instead (:func:`sweep_subgrids`, :func:`grid_split`: each worker links its own model and runs
  the serial grid sweep on its sub-grid; within 1e-12, a sub-grid being assembled from its own first values).
* **Table sweep**: the client builds the scenario list exactly as the serial sweep does (:func:`lca_battery.sweep_serial.scenarios`),
  splits it into consecutive chunks (:func:`sweep_chunk_size`: about :data:`CHUNKS_PER_WORKER` per
  worker, multiples of ``sweep_serial.SOLVE_BATCH``, the serial per-scenario path's own solve batch, so when
  the serial run solves scenario by scenario every batch a worker solves is one of its batches), and
  each worker runs the serial :func:`~lca_battery.sweep_serial.sweep` on its chunk (as a scenario table). The
  rows come back in order and are concatenated: the serial rows (bit for bit when the serial run goes
  row by row; within 1e-12 when it builds the grid or the table's virtual grid as a whole).
* **Monte Carlo**: the client does the symbolic analysis once (:class:`lca_battery.montecarlo.Sampler`)
  and sends each worker the seed and a chunk's number; every chunk of
  :data:`lca_battery.montecarlo.CHUNK` samples has its own stream spawned from the seed
  (:func:`lca_battery.montecarlo.chunk_draws`), so a worker draws its chunk without anything drawn
  before it and solves it with the serial :func:`~lca_battery.montecarlo.solve_values`. The draws
  therefore never depend on the number of workers, and the samples are those of the serial run, bit
  for bit.

What a worker needs: the compiled model (:class:`lca_battery.compiled.CompiledModel`), the loaded
inventory and the parsed study are sent to every worker once per sweep (``Client.scatter(broadcast=True)``,
not pickled into every task). A worker builds its engine and factorisation from them once per compiled
model and keeps them for every following chunk and sweep (:func:`_worker_engine`), and it keeps one
study context per (compiled model, study, fixed overrides): the study's build memo (design model, plant
energy, recycling entries: :class:`lca_battery.model.entries.BuildMemo`), shared by all the chunks of that
study it gets (:func:`_worker_study`; :func:`worker_counts` counts what a worker built). A worker
therefore needs neither the user's Brightway project nor the
study file nor the inventory folder: only ``lca_battery`` installed (same version as the client).
A worker's chunk is a scenario table, so it goes through the grid engine on the chunk's virtual grid
(:func:`lca_battery.sweep_engine.table_frame`) when that pays, else through the per-scenario path, as
the serial table sweep does. A study on a licensed background is solved on the linked model, which
the worker links (or loads from its warm cache) in its own ``BRIGHTWAY2_DIR`` once and keeps, with its
factorisation, for the following chunks: the licensed project must be reachable there. Scenarios the
compiled model cannot hold (a supplier inventory file, a new biosphere flow) fall back to bw2calc, as
in the serial sweep; on a worker that builds the Brightway project in the worker's own
``BRIGHTWAY2_DIR`` (set it in the worker's environment), and the supplier files must be reachable
there at the same paths.
"""
from __future__ import annotations

import contextlib
import functools
import math
import re
import threading

#: Chunks per worker a sweep is split into (at least; load balancing).
CHUNKS_PER_WORKER = 4
#: Scenarios a sweep chunk has at most (a multiple of the serial solve batch ``sweep_serial.SOLVE_BATCH``).
MAX_CHUNK = 8192
#: Seconds to wait for a scheduler before giving up.
CONNECT_TIMEOUT = 3
#: Monte Carlo chunks in flight per worker (bounds the client's memory for the returned scores).
MC_IN_FLIGHT = 2

_WORKER_ENGINES: dict = {}
#: A worker's study contexts: (engine key, study key) -> the study's build memo, kept for every chunk.
_WORKER_STUDIES: dict = {}
#: What this worker process has built: engines, study contexts, sweep chunks (tables) and sub-grids it solved
#: (:func:`worker_counts`, read by the tests through ``Client.run``).
_COUNTS = {"engines": 0, "studies": 0, "chunks": 0, "subgrids": 0, "build_tasks": 0, "builds": 0, "build_s": 0.0}
#: Study contexts a worker keeps (least recently used dropped first).
MAX_STUDIES = 8
_STUDIES_LOCK = threading.Lock()


def sweep_chunk_size(n: int, n_workers: int) -> int:
    """Scenarios per sweep chunk: about :data:`CHUNKS_PER_WORKER` chunks per worker, a multiple of the
    serial solve batch (``sweep_serial.SOLVE_BATCH``: a worker's batches are those of the serial per-scenario path), at
    most :data:`MAX_CHUNK`. A chunk of the per-scenario path costs about 1-5 ms a scenario, a task of
    Dask some milliseconds: one batch per chunk at least keeps the overhead below 1 %."""
    from .sweep_serial import SOLVE_BATCH
    per = math.ceil(n / (max(1, n_workers) * CHUNKS_PER_WORKER)) if n else 1
    return min(MAX_CHUNK, max(SOLVE_BATCH, math.ceil(per / SOLVE_BATCH) * SOLVE_BATCH))


#: Seconds a scheduler may take beyond the connect timeout to finish Dask's handshake.
HANDSHAKE_GRACE = 2.0


def worker_counts() -> dict:
    """This process's counts (:data:`_COUNTS`) and its pid: ``client.run(worker_counts)``."""
    import os
    return {**_COUNTS, "pid": os.getpid()}


def _require():
    try:
        import distributed  # noqa: F401
    except ImportError:
        from .errors import LcaBatteryError
        raise LcaBatteryError("--workers/--scheduler need Dask's distributed scheduler: "
                              "pip install 'dask[distributed]'") from None


@contextlib.contextmanager
def client(workers: int | None = None, scheduler: str | None = None, *, processes: bool = True,
           timeout: float = CONNECT_TIMEOUT):
    """A Dask client: a local cluster of ``workers`` processes (one thread each), or the running
    scheduler at ``scheduler`` (``tcp://host:port``); None when neither is given (serial run).
    A scheduler that cannot be reached within ``timeout`` seconds is one :class:`LcaBatteryError`."""
    from .errors import LcaBatteryError
    if workers and scheduler:
        raise LcaBatteryError("give --workers (a local cluster) or --scheduler (a running one), not both",
                              field="--scheduler")
    if not workers and not scheduler:
        yield None
        return
    _require()
    import logging
    from distributed import Client, LocalCluster
    if scheduler:
        if not re.fullmatch(r"[a-z]+://[^\s:/]+:\d+|[^\s:/]+:\d+", scheduler.strip()):
            raise LcaBatteryError(f"'{scheduler}' is not a scheduler address", field="--scheduler",
                                  allowed="tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786 (printed by `dask scheduler`)")
        quiet = [logging.getLogger(n) for n in ("distributed", "distributed.client", "distributed.comm",
                                                 "distributed.core", "tornado")]
        levels = [lg.level for lg in quiet]
        for lg in quiet:
            lg.setLevel(logging.CRITICAL)
        got: dict = {}

        def connect():                  # in a thread of its own: a listener that is not a Dask scheduler can
            try:                        # leave the handshake waiting for ever (an HTTP server does)
                got["client"] = Client(scheduler.strip(), timeout=timeout, set_as_default=False)
            except BaseException as exc:            # noqa: BLE001 - reported below, whatever it is
                got["error"] = exc
        t = threading.Thread(target=connect, name="lca-battery-connect", daemon=True)
        t.start()
        t.join(timeout + HANDSHAKE_GRACE)
        for lg, lv in zip(quiet, levels):
            lg.setLevel(lv)
        exc = got.get("error")
        if t.is_alive() or (exc is not None and not isinstance(exc, (OSError, TimeoutError, ValueError))):
            what = (f"no Dask handshake within {timeout + HANDSHAKE_GRACE:g} s" if t.is_alive() else
                    f"its answer is not Dask's: {type(exc).__name__}")
            raise LcaBatteryError(f"{scheduler} accepted the connection but is not a Dask scheduler ({what}): "
                                  f"give the address `dask scheduler` prints", field="--scheduler")
        if exc is not None:
            raise LcaBatteryError(f"cannot reach the Dask scheduler at {scheduler} within {timeout:g} s "
                                  f"({type(exc).__name__}): start one with `dask scheduler` and workers with "
                                  f"`dask worker {scheduler}`, or use --workers N for a local cluster",
                                  field="--scheduler") from None
        c = got["client"]
        try:
            yield c
        finally:
            c.close()
        return
    cluster = LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=processes,
                           dashboard_address=":0", silence_logs=logging.ERROR)
    c = Client(cluster, set_as_default=False)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def _n_workers(c) -> int:
    return max(1, len(c.scheduler_info().get("workers", {})))


# ------------------------------------------------------------------ worker side
def _worker_engine(payload: dict):
    """The engine of a worker: the shipped inventory and compiled model, built once per worker."""
    key = _engine_key(payload)
    eng = _WORKER_ENGINES.get(key)
    if eng is None:
        eng = _WorkerEngine(payload["inventory"], payload["model"])
        _WORKER_ENGINES[key] = eng
        _COUNTS["engines"] += 1
    return eng


def _engine_key(payload: dict) -> tuple:
    return payload["model"].key, payload["inventory"].content_hash, tuple(payload["inventory"].extra_files)


def _worker_study(payload: dict):
    """(engine, build memo, lock) of a worker for the payload's study: made once per (compiled model, study,
    overrides) and kept for every chunk of every sweep of that study on this worker, so a chunk neither
    rebuilds the engine, its factorisation nor the study's shared build parts (design model, plant energy,
    recycling entries: :class:`lca_battery.model.entries.BuildMemo`). The lock: a worker with several
    threads builds one chunk of a study at a time (the builds are pure Python: threads would share one
    interpreter lock anyway)."""
    from .model.entries import BuildMemo
    with _STUDIES_LOCK:
        eng = _worker_engine(payload)
        key = (_engine_key(payload), payload["study_key"])
        ctx = _WORKER_STUDIES.pop(key, None)
        if ctx is None:
            ctx = (BuildMemo(), threading.Lock())
            _COUNTS["studies"] += 1
            while len(_WORKER_STUDIES) >= MAX_STUDIES:
                _WORKER_STUDIES.pop(next(iter(_WORKER_STUDIES)))
        _WORKER_STUDIES[key] = ctx             # most recently used last
    return eng, *ctx


def _study_key(study, parsed, overrides: dict, materials: bool) -> str:
    """What a worker's study context depends on, as a digest: the study (its path, parsed content or the
    mapping itself) and the sweep's fixed overrides."""
    import hashlib
    import pickle
    try:
        blob = pickle.dumps((study, parsed, overrides, materials), protocol=4)
    except Exception:                     # noqa: BLE001 - an unpicklable study: never shared between sweeps
        import uuid
        return uuid.uuid4().hex
    return hashlib.sha256(blob).hexdigest()


@functools.lru_cache(maxsize=None)
def _engine_class():
    from .calc import Engine

    class WorkerEngine(Engine):
        """An :class:`~lca_battery.calc.Engine` whose compiled model was shipped: the Brightway project
        (``build``, ``ids``, ...) is built in this worker's ``BRIGHTWAY2_DIR`` only if a scenario falls
        back to bw2calc."""

        def __init__(self, inventory, model):     # noqa: super().__init__ builds the project: deferred
            from .model.superstructure import all_processes
            self.inventory = inventory
            self.background = None
            self.links = {}
            self.processes = all_processes(inventory)
            self._base, self._cf_cache = {}, {}
            self._compiled = model
            self._batch_solver = None

        def __getattr__(self, name):
            if name.startswith("_") or self.__dict__.get("_full_built"):
                raise AttributeError(name)
            self.__dict__["_full_built"] = True
            full = Engine(self.inventory)
            for k in ("build", "project", "databases", "ids", "codes"):
                self.__dict__[k] = getattr(full, k)
            return getattr(self, name)
    return WorkerEngine


def _WorkerEngine(inventory, model):
    return _engine_class()(inventory, model)


def _sweep_chunk(payload: dict, combos: list[dict], start: int):
    """Worker: the serial sweep of ``combos`` (scenario indices ``start``...); ("ok", rows) or
    ("error", index of the first failing scenario) - the client words the error as the serial run."""
    from . import sweep_serial
    from .errors import LcaBatteryError
    from .prepare import prepare_mapping
    eng, memo, lock = _worker_study(payload)
    _COUNTS["chunks"] += 1
    try:
        with lock:
            return "ok", sweep_serial.sweep(payload["study"], None, payload["overrides"], engine=eng, table=combos,
                                            fast=True, parsed=payload["parsed"],
                                            materials=payload.get("materials", True), memo=memo)
    except LcaBatteryError:
        for i, ov in enumerate(combos):
            try:
                prepare_mapping(payload["study"], {**payload["overrides"], **ov}, eng, parsed=payload["parsed"])
            except LcaBatteryError:
                return "error", start + i
        raise


def _sweep_subgrid(payload: dict, grid: dict):
    """Worker: the serial grid sweep (grid engine) of the sub-grid ``grid``; ("ok", rows) or ("error", message)
    - the client then reproduces the serial run's error (:func:`sweep_grid`)."""
    from . import sweep_serial
    from .errors import LcaBatteryError
    eng, memo, lock = _worker_study(payload)
    _COUNTS["subgrids"] += 1
    try:
        with lock:
            return "ok", sweep_serial.sweep(payload["study"], grid, payload["overrides"], engine=eng, fast=True,
                                            parsed=payload["parsed"], materials=payload.get("materials", True),
                                            memo=memo)
    except LcaBatteryError as exc:
        return "error", str(exc)


def _mc_chunk(sampler, seed: int, chunk: int, shape: tuple, n_studies: int):
    """Worker: the scores of every study for one chunk of draws (the serial draw and solve)."""
    from .montecarlo import chunk_draws, solve_values
    Z = chunk_draws(seed, chunk, shape)
    tv, bv = sampler.values(Z)
    return [solve_values(sampler, tv, bv, i) for i in range(n_studies)]


# ------------------------------------------------------------------ client side
def _scatter_payload(c, study, overrides: dict, engine, parsed, materials: bool):
    """(the payload future, broadcast once to every worker, not pickled into every task; the parsed study)."""
    from pathlib import Path
    from .compiled import CompiledModel
    from .errors import StudyError
    if parsed is None and isinstance(study, (str, Path)):
        from .study import read_study_file
        try:
            parsed = read_study_file(study)
        except StudyError:
            parsed = None
    model = CompiledModel.from_engine(engine)
    study_arg = str(study) if isinstance(study, Path) else study
    payload = {"study": study_arg, "parsed": parsed, "overrides": dict(overrides), "inventory": engine.inventory,
               "model": model, "materials": materials,
               "study_key": _study_key(study_arg, parsed, dict(overrides), materials)}
    [shared] = c.scatter([payload], broadcast=True, hash=False)
    return shared, parsed


def _pieces(n: int, parts: int) -> list[tuple[int, int]]:
    """``n`` values cut into ``parts`` consecutive (start, stop) ranges of near-equal size."""
    q, r = divmod(n, parts)
    out, at = [], 0
    for j in range(parts):
        size = q + (j < r)
        out.append((at, at + size))
        at += size
    return out


def _sub_shape(shape: tuple, axis: int, a: int, b: int) -> tuple:
    """The shape of the sub-grid of ``shape`` holding values ``a:b`` of ``axis``."""
    return tuple(b - a if i == axis else x for i, x in enumerate(shape))


def _split_builds(shape: tuple, axis: int, parts: int) -> int:
    """Study builds the grid engine needs at least for the sub-grids of ``shape`` cut along ``axis`` into
    ``parts`` (:func:`lca_battery.sweep_engine.table_builds` of each sub-grid)."""
    from .sweep_engine import table_builds
    total = 0
    for a, b in _pieces(shape[axis], parts):
        sub = _sub_shape(shape, axis, a, b)
        total += table_builds(sub, math.prod(sub))
    return total


def grid_split(shape: tuple, n_workers: int) -> tuple[int, int] | None:
    """(axis, number of sub-grids) to cut a grid of ``shape`` into for ``n_workers`` workers, or None when
    cutting does not pay (no axis of two values or more; or cut in one piece per worker the sub-grids would
    need more study builds in all than the workers' share of the whole grid's builds saves).

    The grid engine's builds grow with the axes that are *not* cut (every value alone, every pair of axes on
    all its combinations, 64 verification builds: :func:`lca_battery.sweep_engine.table_builds`), which every
    sub-grid repeats; so each axis is tried, cut into ``min(values, CHUNKS_PER_WORKER x workers)`` pieces (load
    balancing) or, when that costs more than a quarter more builds than the whole grid, into as many pieces down
    to one per worker as stay within that quarter (else one per worker), and the cut with the fewest builds in
    all wins (ties: the axis with more values, then the first)."""
    from .sweep_engine import table_builds
    n_workers = max(1, n_workers)
    whole = table_builds(shape, math.prod(shape))
    best = None
    for axis, n in enumerate(shape):
        if n < 2:
            continue
        top = min(n, CHUNKS_PER_WORKER * n_workers)
        low = min(n, n_workers)
        parts = low
        for p in range(top, low - 1, -1):      # top >= low: at least one cut is tried
            cost = _split_builds(shape, axis, p)
            if cost <= 1.25 * whole:
                parts = p
                break                          # without a break, the last cost tried is that of ``low``
        key = (cost, -n, axis)
        if best is None or key < best[0]:
            best = (key, axis, parts)
    if best is None or best[2] < 2:
        return None
    # one piece per worker at best: the slowest worker builds cost/parts x ceil(parts/workers); serial: whole
    cost, axis, parts = best[0][0], best[1], best[2]
    if cost / parts * math.ceil(parts / n_workers) >= whole:
        return None
    return axis, parts


class DaskBuildPool:
    """The grid engine's study builds (:func:`lca_battery.sweep_engine.build_scenario`) made on the workers of
    client ``c``: what :class:`lca_battery.sweep_engine.BuildPool` does with forked helpers on one machine. Each
    batch of builds is cut into consecutive pieces (about :data:`CHUNKS_PER_WORKER` per worker), each piece
    built by a worker with its kept study context; a piece stops at its first failing build (the client builds
    it again and raises the serial run's error). The builds are the function the client runs, on the same
    compiled model and parsed study, so the assembled grid and its solve are the serial run's, bit for bit."""

    def __init__(self, c, shared):
        self.c, self.shared = c, shared
        self.helpers = _n_workers(c)
        self.tasks = 0

    def map(self, ovs: list, local=None) -> list:
        n = len(ovs)
        parts = max(1, min(n // 8 or 1, CHUNKS_PER_WORKER * (max(1, self.helpers) + 1)))
        ranges = _pieces(n, parts)
        # the client builds a worker's share too (its first pieces) while the workers build the rest
        mine = len(ranges) // (max(1, self.helpers) + 1) if local is not None else 0
        futs = [self.c.submit(_grid_builds, self.shared, ovs[a:b], pure=False) for a, b in ranges[mine:]]
        self.tasks += len(futs)
        out: list = []
        for a, b in ranges[:mine]:
            for ov in ovs[a:b]:
                try:
                    out.append(local(ov))
                except Exception:             # noqa: BLE001 - the caller's own build raises it again
                    out.extend([None] * (b - a - (len(out) - a)))
                    break
        for got in self.c.gather(futs):
            out.extend(got)
        return out

    def close(self):
        pass


def _grid_builds(payload: dict, ovs: list) -> list:
    """Worker: the builds of ``ovs`` (a grid's values, the study and fixed overrides of ``payload``), each as the
    client would make it (:func:`lca_battery.sweep_engine.build_scenario` on the shipped compiled model); None
    from the first that fails on (the client builds those itself)."""
    from .compiled import CompiledModel
    from .sweep_engine import build_scenario
    import time
    t0 = time.perf_counter()
    eng, memo, lock = _worker_study(payload)
    _COUNTS["build_tasks"] += 1
    model = CompiledModel.from_engine(eng)
    out: list = []
    with lock:
        for ov in ovs:
            try:
                out.append(build_scenario(payload["study"], payload["overrides"], ov, eng, payload["parsed"], memo,
                                          model))
            except Exception:                 # noqa: BLE001 - the client's own build raises it
                break
    _COUNTS["builds"] += len(out)
    _COUNTS["build_s"] += time.perf_counter() - t0
    return out + [None] * (len(ovs) - len(out))


def sweep_grid(c, study, grid: dict, overrides: dict, *, engine, progress=None, parsed: dict | None = None,
               materials: bool = True) -> list[dict] | None:
    """Rows of :func:`lca_battery.api.sweep` for the grid ``grid`` (no table), on the cluster of client ``c``:
    the grid engine runs here, its study builds (the pure-Python part) on the workers
    (:class:`DaskBuildPool`), and the assembly and the vectorised solve here, so the rows are the serial rows
    bit for bit. A grid on a licensed background (each worker links its own model) is cut into sub-grids instead
    (:func:`sweep_subgrids`). None when the grid engine does not apply (the caller sends row chunks)."""
    from .errors import StudyError
    from .prepare import prepare_mapping
    from .sweep_serial import _grid_frame
    try:
        _, _, first = prepare_mapping(study, {**overrides, **{k: v[0] for k, v in grid.items()}}, engine,
                                      parsed=parsed)
    except StudyError:
        first = engine                         # the serial build phase reports it, as without a cluster
    if first is not engine:
        return sweep_subgrids(c, study, grid, overrides, engine=engine, progress=progress, parsed=parsed,
                              materials=materials)
    shared, parsed = _scatter_payload(c, study, overrides, engine, parsed, materials)
    frame = _grid_frame(study, grid, overrides, engine, parsed, progress, materials=materials,
                        pool=lambda keys: DaskBuildPool(c, shared))
    return None if frame is None else frame.rows()


def sweep_subgrids(c, study, grid: dict, overrides: dict, *, engine, progress=None, parsed: dict | None = None,
                   materials: bool = True) -> list[dict] | None:
    """Rows of :func:`lca_battery.api.sweep` for the grid ``grid`` (no table), solved as sub-grids on the
    cluster of client ``c``: the grid is cut along one axis (:func:`grid_split`), each worker runs the serial
    grid sweep (grid engine: separable builds, one vectorised solve) on its sub-grid with its kept study
    context, and the rows are put back in the grid's order (the last key fastest). None when the grid is not
    worth cutting (the caller sends row chunks). A failing scenario is reported as the serial run reports it:
    the client runs the serial sweep, which stops at the same error (builds come before any solve)."""
    import numpy as np
    from distributed import as_completed
    from .sweep_serial import sweep as serial_sweep
    keys = list(grid)
    shape = tuple(len(grid[k]) for k in keys)
    cut = grid_split(shape, _n_workers(c))
    if cut is None:
        return None
    axis, parts = cut
    shared, parsed = _scatter_payload(c, study, overrides, engine, parsed, materials)
    n = math.prod(shape)
    ranges = _pieces(shape[axis], parts)
    futs = {}
    for k, (a, b) in enumerate(ranges):
        sub = {key: (list(grid[key])[a:b] if i == axis else list(grid[key])) for i, key in enumerate(keys)}
        futs[c.submit(_sweep_subgrid, shared, sub, pure=False)] = k
    out: list = [None] * n
    errors = []
    done = 0
    for fut in as_completed(futs, loop=c.loop):
        k = futs[fut]
        status, rows = fut.result()
        if status != "ok":
            errors.append(rows)
            continue
        a, b = ranges[k]
        idx = list(np.unravel_index(np.arange(len(rows)), _sub_shape(shape, axis, a, b)))
        idx[axis] = idx[axis] + a
        for at, row in zip(np.ravel_multi_index(tuple(idx), shape).tolist(), rows):
            out[at] = row
        done += len(rows)
        if progress:
            progress(done, n)
    if errors:
        serial_sweep(study, grid, overrides, engine=engine, parsed=parsed, materials=materials)   # raises its error
        raise RuntimeError(f"a sub-grid failed on a worker but not on the client: {errors[0]}")
    return out


def sweep_combos(c, study, combos: list[dict], overrides: dict, *, engine, progress=None,
                 n_grid: int = 1, rows_in: list | None = None, parsed: dict | None = None,
                 materials: bool = True) -> list[dict]:
    """Rows of :func:`lca_battery.api.sweep` for ``combos`` (full override mappings, in order), solved
    in chunks on the cluster of client ``c``. Equal to the serial rows (same batches, same code)."""
    from distributed import as_completed
    from .prepare import prepare_mapping
    from .errors import StudyError
    shared, parsed = _scatter_payload(c, study, overrides, engine, parsed, materials)
    n = len(combos)
    size = sweep_chunk_size(n, _n_workers(c))
    starts = list(range(0, n, size))
    futs = {c.submit(_sweep_chunk, shared, combos[s:s + size], s, pure=False): k for k, s in enumerate(starts)}
    parts: list = [None] * len(starts)
    done = 0
    for fut in as_completed(futs, loop=c.loop):
        k = futs[fut]
        parts[k] = fut.result()
        if parts[k][0] == "ok":
            done += len(parts[k][1])
            if progress:
                progress(done, n)
    bad = [p[1] for p in parts if p[0] == "error"]
    if bad:
        i = min(bad)      # the serial run stops at the first failing scenario: reproduce its message
        try:
            prepare_mapping(study, {**overrides, **combos[i]}, engine, parsed=parsed)
        except StudyError as exc:
            if rows_in is not None and len(rows_in) and rows_in != [{}]:
                from .sweep_table import cell_error
                raise cell_error(exc, i // n_grid, rows_in[i // n_grid]) from None
            raise
        raise RuntimeError(f"scenario {i} failed on a worker but not on the client")
    return [row for p in parts for row in p[1]]


def monte_carlo(c, engine, entry_lists: list, family: str, samples: int, seed: int, progress=None):
    """:func:`lca_battery.montecarlo.run` with the chunks of draws solved on the cluster of client ``c``:
    same draws (each chunk's stream spawned from the seed, drawn on its worker), same solves, same samples."""
    import numpy as np
    from distributed import as_completed
    from . import montecarlo
    from .compiled import CompiledModel
    from .model.superstructure import ROOT
    model = CompiledModel.from_engine(engine)
    ex = montecarlo.exchanges(engine, model)
    deltas = [montecarlo.study_cells(model, entries) for entries in entry_lists]
    sampler = montecarlo.Sampler(model, ex, deltas, model.cf[(family, "total")], model.cols[ROOT])
    det = [float(sampler.scores(np.zeros((1, ex.n_uncertain)), i)[0]) for i in range(len(deltas))]
    [shared] = c.scatter([sampler], broadcast=True, hash=False)
    out = [np.empty(samples) for _ in deltas]
    limit = MC_IN_FLIGHT * _n_workers(c)
    draws = montecarlo.chunks(samples, ex.n_uncertain)
    ac = as_completed(loop=c.loop)
    where: dict = {}
    at = done = 0

    def submit() -> bool:
        nonlocal at
        nxt = next(draws, None)
        if nxt is None:
            return False
        f = c.submit(_mc_chunk, shared, seed, nxt[0], nxt[1], len(deltas), pure=False)
        where[f.key] = (at, nxt[1][0])
        ac.add(f)
        at += nxt[1][0]
        return True
    for _ in range(limit):
        if not submit():
            break
    for f in ac:
        a, k = where.pop(f.key)
        for i, v in enumerate(f.result()):
            out[i][a:a + k] = v
        done += k
        if progress:
            progress(done, samples)
        submit()         # keeps ``limit`` chunks in flight
    return out, det
