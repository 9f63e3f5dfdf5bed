"""The warm ``footprint`` path: the model from a disk cache, solved without Brightway's database layer.

A cold run (no cache, or a stale one) builds the Brightway project as always (Activity Browser
opens it) and then writes one cache file per inventory hash into the Brightway data folder
(``<BRIGHTWAY2_DIR>/lca_battery-warm/<key>.pkl``): the validated inventory records, the
:class:`~lca_battery.compiled.CompiledModel` (technosphere and biosphere matrices and the
characterisation vectors of every method family, exactly as bw2calc builds them from the engine's
packages), the node ids and bw2calc's row/column dictionaries, and the project's build marker.

A warm run hashes the inventory files' bytes (no YAML parsing), finds the cache of that key,
checks that the Brightway project it was made from is still complete and built from the same
inventories (its marker file, one small JSON read), and solves the study on the cached matrices
with the study's entries set in them (the values bw2calc's override package would set), by SciPy's
SuperLU, as bw2calc does here. Everything after the solve (stage, gas, process, material,
electricity and mass-balance tables, declaration, passport, result files) is the same code as
the bw2calc path, fed through :class:`FastLCA`, which offers the attributes of a bw2calc ``LCA``
that code reads. Tests check the warm results against the bw2calc path to 1e-9 on several studies.

The key covers the inventory bytes, :data:`lca_battery.bw.project.BUILD_VERSION` (model, writer,
loader code), this module, :mod:`lca_battery.compiled`, :mod:`lca_battery.calc`, the unit
conversions, the package version, the project name and the inventory folder: a change to any of
them is a cold run. A study the compiled model cannot hold (a new biosphere flow) or a supplier
inventory file is solved by bw2calc on the project, as before.

A licensed background (``--set background.database=... --set background.project=...``) has a cache
of its own: the model linked to it keeps each linked activity's cumulative inventory, so it has the
open model's size and is cached and solved the same way. Its key adds the database, the project and
the mapping file (path and a hash of its bytes); the cache also holds the user's project folder and the
database's modification state as bw2data records it (``databases.json``: ``modified``, set on every
write and every saved activity or exchange, and ``number``), read again on each warm run without
bw2data: an edited database is linked again, cold. The project must be named for the warm path (which
project holds a database is bw2data's to say).
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path

import numpy as np

from .calc import Engine, Solved
from .model.superstructure import ROOT

#: Cache layout version (part of the key).
FORMAT = 1
CACHE_FOLDER = "lca_battery-warm"
SOLVER_WARM = "lca_battery.warm (cached compiled model, SciPy SuperLU; checked against bw2calc in the tests)"


def data_dir() -> Path:
    """The Brightway data folder bw2data would use (``BRIGHTWAY2_DIR``, else its platform default)."""
    base = os.environ.get("BRIGHTWAY2_DIR")
    if base:
        return Path(base).absolute()
    from platformdirs import PlatformDirs
    return Path(PlatformDirs("Brightway3", "pylca").user_data_dir)


def cache_dir() -> Path:
    return data_dir() / CACHE_FOLDER


def _code_hash() -> str:
    pkg = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for f in ("warm.py", "compiled.py", "calc.py", "units.py", "__init__.py"):
        h.update(f.encode() + b"\0" + (pkg / f).read_bytes())
    return h.hexdigest()[:16]


def warm_key(root: Path, content_hash: str) -> str:
    """Key of the cache of the inventories at ``root`` (with that content hash) and of this code."""
    from . import __version__
    from .bw.project import BUILD_VERSION
    parts = [str(FORMAT), content_hash, BUILD_VERSION, _code_hash(), __version__,
             os.environ.get("LCA_BATTERY_PROJECT", ""), str(Path(root).resolve())]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]


def background_id(database: str, project: str, mapping_file) -> list:
    """The identity of a linked background in the cache key: database, project, the mapping file (path
    and a hash of its bytes). The database's modification state is checked when the cache is read
    (:func:`load`): it is in the user's project folder, which the cache names."""
    path = Path(mapping_file).resolve()
    return [database, project, str(path), hashlib.sha256(path.read_bytes()).hexdigest()]


def cache_path(root: Path | None = None, content_hash: str | None = None, background: list | None = None) -> Path:
    from .inventory.loader import content_hash as _hash, default_root
    root = Path(root) if root else default_root()
    key = warm_key(root, content_hash or _hash(root))
    if background:
        key = hashlib.sha256("\0".join([key, "background", *background]).encode()).hexdigest()[:24]
    return cache_dir() / f"{key}.pkl"


# ---------------------------------------------------------------------------------------- writing
def save(engine: Engine) -> Path | None:
    """Write the warm cache of a (cold) engine, on the open background or a licensed one; returns its path
    (None: not cacheable)."""
    if engine.inventory.extra_files:
        return None
    bg = engine.background
    bg_id = None
    if bg is not None:
        if not bg.project_dir or not bg.state:
            return None
        bg_id = background_id(bg.database, bg.project, bg.mapping_file)
    import bw2calc as bc
    from .bw.project import MARKER, bd
    from .compiled import CompiledModel
    model = CompiledModel.from_engine(engine)
    engine.activate()
    lca = bc.LCA({engine.ids[ROOT]: 1.0}, data_objs=engine.base_packages("ipcc2021"))
    lca.load_lci_data()
    activity = [(int(k), int(v)) for k, v in lca.dicts.activity.items()]
    product = [(int(k), int(v)) for k, v in lca.dicts.product.items()]
    biosphere = [(int(k), int(v)) for k, v in lca.dicts.biosphere.items()]
    if any(model.pids[col] != engine.codes[nid] for nid, col in activity) or dict(activity) != dict(product):
        return None                       # not the layout the compiled model holds: stay on bw2calc
    marker = Path(bd().projects.dir) / MARKER
    try:
        build = json.loads(marker.read_text())
    except (OSError, ValueError):
        return None
    model._layouts.clear()
    root = Path(engine.inventory.root)
    expected = engine.inventory.content_hash + ("" if bg is None else "+" + bg.fingerprint)
    if build.get("inventory_hash") != expected:
        return None                       # the project is not the one this engine was built on
    data = {"format": FORMAT, "inventory": engine.inventory, "model": model, "ids": dict(engine.ids),
            "activity": activity, "product": product, "biosphere": biosphere, "build": build,
            "marker": str(marker), "background": bg, "background_id": bg_id, "expected_hash": expected}
    path = cache_path(root, engine.inventory.content_hash, bg_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        pickle.dump(data, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)                 # atomic: a reader never sees half a file
    for old in path.parent.glob("*.pkl"):  # caches of other inventories or code versions of this folder
        if old != path:                    # (and the same background: the open one, or this linked one)
            try:
                with open(old, "rb") as fh:
                    other = pickle.load(fh)
                same_bg = (other.get("background_id") or [None])[:3] == (bg_id or [None])[:3]
                if Path(other["inventory"].root).resolve() == root.resolve() and same_bg:
                    old.unlink()
            except Exception:
                pass
    return path


# ---------------------------------------------------------------------------------------- reading
def load(root: Path | None = None, background=None, content_hash: str | None = None) -> "WarmEngine | None":
    """The warm engine of the inventories at ``root`` (default: the shipped ones), or None when there is
    no valid cache (then the caller takes the cold path).

    ``background``: a study's :class:`~lca_battery.study.LicensedBackground` (``project`` named; the
    mapping file as given, default the inventories' own): the cache of the model linked to it, valid only
    while the database's modification state (bw2data's ``databases.json`` in the user's project folder)
    is the one it was linked at."""
    try:
        bg_id = None
        if background is not None:
            if not background.project:
                return None                # which project holds it: bw2data must look (cold path)
            from .background import DEFAULT_MAPPING
            from .inventory.loader import default_root
            mapping = (Path(background.mapping) if background.mapping
                       else Path(root or default_root()) / DEFAULT_MAPPING)
            bg_id = background_id(background.database, background.project, mapping)
        path = cache_path(root, content_hash, bg_id)
    except Exception:
        return None
    if not path.is_file():
        return None
    try:
        with open(path, "rb") as fh:
            data = pickle.load(fh)
        if data.get("format") != FORMAT:
            return None
        marker = json.loads(Path(data["marker"]).read_text())
    except Exception:             # damaged cache, or the project folder is gone: rebuild
        return None
    build = data["build"]
    if (marker.get("complete") is not True or marker.get("inventory_hash") != build.get("inventory_hash")
            or marker.get("build_version") != build.get("build_version")
            or marker.get("inventory_hash") != data.get("expected_hash", data["inventory"].content_hash)
            or not str(marker.get("inventory_hash")).startswith(data["inventory"].content_hash)
            or data.get("background_id") != bg_id):
        return None
    from .bw.project import edited_databases
    if edited_databases(marker, Path(data["marker"]).parent):
        return None                        # the project was edited after its build: the cold path rebuilds it
    bg = data.get("background")
    if bg is not None:
        from .background import read_database_state
        if read_database_state(bg.project_dir, bg.database) != bg.state:
            return None                    # the user's database was edited (or is gone): link again
    return WarmEngine(data, path.stem)


class _Dicts:
    def __init__(self, activity, product, biosphere):
        self.activity, self.product, self.biosphere = activity, product, biosphere


class FastLCA:
    """What the result code reads of a bw2calc ``LCA``, for one solved system of the compiled model.

    The matrices are CSR as bw2calc builds them, and the system is solved as bw2calc's ``lu_solver``
    does without UMFPACK or PARDISO: SuperLU factorises ``A^T`` (the CSC view of CSR ``A``) and solves
    the transposed system. Same matrix, same factorisation: the same supply to the last digits, so
    even round-off-size supplies (1e-16) come out as bw2calc's and the result tables have the same rows."""

    def __init__(self, A, B, dicts: _Dicts, demand: np.ndarray):
        from scipy.sparse.linalg import splu
        self.technosphere_matrix = A.tocsr()
        self.biosphere_matrix = B.tocsr()
        self.dicts = dicts
        self.demand_array = demand
        transposed = self.technosphere_matrix.T
        if not transposed.has_canonical_format:
            transposed = transposed.astype(np.float64, copy=True)
            transposed.sum_duplicates()
            transposed.sort_indices()
        self._lu = splu(transposed)
        self.supply_array = self.solve_linear_system()

    def solve_linear_system(self, demand=None) -> np.ndarray:
        b = np.asarray(self.demand_array if demand is None else demand, dtype=float)
        return self._lu.solve(b, trans="T")


def _set_cells(M, rows: np.ndarray, cols: np.ndarray, values: np.ndarray):
    """A copy of the CSC matrix ``M`` with the cells (rows, cols) set to ``values`` (stored, zeros too, as
    bw2calc stores the entries of an override package); ``M`` must have sorted indices, no duplicates."""
    import scipy.sparse as sp
    n_rows, n_cols = M.shape
    if len(rows) == 0:
        return M.copy()
    col_of = np.repeat(np.arange(n_cols, dtype=np.int64), np.diff(M.indptr))
    keys = col_of * n_rows + M.indices
    want = cols.astype(np.int64) * n_rows + rows.astype(np.int64)
    pos = np.searchsorted(keys, want)
    found = pos < len(keys)
    found[found] = keys[pos[found]] == want[found]
    data = M.data.copy()
    data[pos[found]] = values[found]
    if found.all():
        return sp.csc_matrix((data, M.indices.copy(), M.indptr.copy()), shape=M.shape)
    new = ~found
    r = np.concatenate([M.indices, rows[new]])
    c = np.concatenate([col_of, cols[new]])
    v = np.concatenate([data, values[new]])
    out = sp.csc_matrix((v, (r, c)), shape=M.shape)
    out.sort_indices()
    return out


class WarmEngine(Engine):
    """An :class:`~lca_battery.calc.Engine` whose model comes from the warm cache: ``solve`` runs on the
    compiled matrices; anything needing the Brightway project (Monte Carlo, exports, a study the
    compiled model cannot hold) uses the project as the cold engine does."""

    solver = SOLVER_WARM

    def __init__(self, data: dict, key: str):        # noqa: D107  (no Engine.__init__: no bw2data)
        from .model.superstructure import all_processes
        self.inventory = data["inventory"]
        self.background = data.get("background")
        self.links = dict(self.background.links) if self.background is not None else {}
        self.build = data["build"]
        self.project = self.build["project"]
        self.databases = list(self.build["databases"])
        self.ids = data["ids"]
        self.codes = {v: k for k, v in self.ids.items()}
        self.processes = all_processes(self.inventory)
        self._base: dict[str, list] = {}
        self._cf_cache: dict[tuple, list] = {}
        self._compiled = data["model"]
        self.warm_key = key
        self._dicts = _Dicts(dict(data["activity"]), dict(data["product"]), dict(data["biosphere"]))
        A = self._compiled.A.tocsc(copy=True)
        A.sum_duplicates()
        B = self._compiled.B.tocsc(copy=True)
        B.sum_duplicates()
        self._A, self._B = A, B

    def biosphere_names(self, solved) -> dict[int, str]:
        """Biosphere row -> flow key, from the compiled model (no Brightway import)."""
        return {row: key for key, row in self._compiled.bio_rows.items()}

    def solve(self, entries, family: str = "ipcc2021", demand: dict | None = None) -> Solved:
        import scipy.sparse as sp
        from .bw.project import GAS_PARTS
        from .compiled import NotCompilable
        model = self._compiled
        self.check_linked(entries)
        try:
            tr, tc, tv, br, bc_, bv = model.cells(entries)
        except NotCompilable:                 # a biosphere flow the base matrices lack: bw2calc
            return Engine.solve(self, entries, family, demand)
        A = _set_cells(self._A, tr, tc, tv)
        B = _set_cells(self._B, br, bc_, bv)
        demand = demand or {ROOT: 1.0}
        d = np.zeros(A.shape[0])
        for pid, amount in demand.items():
            d[self._dicts.product[self.ids[pid]]] += amount
        lca = FastLCA(A, B, self._dicts, d)
        supply = lca.supply_array
        cf = {part: model.cf[(family, part)] for part in ("total", *GAS_PARTS)}
        n = len(supply)        # the inventory as bw2calc forms it: B diag(supply)
        inv = lca.biosphere_matrix @ sp.spdiags([supply], [0], n, n)
        lca.inventory = inv
        scores = np.asarray(cf["total"] @ inv).ravel()
        lca.score = float(scores.sum())
        return Solved(lca=lca, supply=np.asarray(supply).copy(), scores=scores,
                      gas_scores={p: np.asarray(cf[p] @ inv).ravel() for p in GAS_PARTS}, cf=cf,
                      solver=f"{SOLVER_WARM}; cache {self.warm_key}")


def footprint_engine(progress=None, study=None, overrides=None):
    """The engine of ``lca-battery footprint`` on the shipped (or ``$LCA_BATTERY_INVENTORIES``) inventories:
    the warm one when its cache is valid, else the cold one (building the Brightway project if needed),
    after which the cache is written for the next run.

    With ``study`` (and its ``--set`` overrides): when the study asks for a licensed background with its
    project named, the engine of the model linked to it, warm from its own cache (no bw2data) while the
    inventories, the mapping file and the user's database are unchanged; else linked cold and cached."""
    from .prepare import get_engine
    if os.environ.get("LCA_BATTERY_NO_WARM"):
        return get_engine(progress=progress)
    eng = load()
    if eng is None:
        eng = get_engine(progress=progress)
        _save_quietly(eng)
    if study is None:
        return eng
    try:
        from .model.superstructure import switch_parameters
        from .study import load_study
        st = load_study(study, overrides or [], switch_parameters(eng.inventory))
    except Exception:                      # reported by footprint itself, as without the cache
        return eng
    bg = st.background
    if bg == "open" or any(s.inventory for s in st.suppliers.values()):
        return eng                         # a supplier inventory: its own project, bw2calc (footprint)
    linked = load(eng.inventory.root, bg, eng.inventory.content_hash)
    if linked is not None:
        return linked
    linked = get_engine(eng.inventory.root, progress=progress, background=bg)
    _save_quietly(linked)
    return linked


def _save_quietly(eng) -> None:
    try:
        save(eng)
    except (OSError, pickle.PicklingError):
        pass                               # a read-only data folder: every run is cold, still correct
