"""The Brightway project: biosphere, climate-change methods and the inventory databases.

Set-up is paid once. ``lca_battery_build.json`` in the project folder records the SHA-256 of the
inventory files and :data:`BUILD_VERSION` (a hash of the model and writer code); when both match,
nothing is rebuilt.

The build is crash-safe and serialised:

* every check and build runs under a file lock (``filelock``) beside the projects, one lock per
  project name; a second run waits for it and says so;
* a (re)build writes a fresh staging project (:data:`STAGING_SUFFIX`), switches it to the real
  name only when complete, and writes the completeness marker last. A project without a
  matching marker (a killed build, a half-deleted folder) is never used: it is deleted and
  rebuilt from scratch, with a message.

``BRIGHTWAY2_DIR`` is honoured (it must be set before bw2data is imported, which is why this
module imports bw2data lazily). The project is an ordinary Brightway project named
:data:`PROJECT_NAME`, so Activity Browser opens it from the same data folder.
"""
from __future__ import annotations

import contextlib
import io
import json
import sys
import os
import zipfile
from pathlib import Path

def _writer_hash() -> str:
    """SHA-256 of the code that decides what is written to Brightway (the model builders and the writer):
    a project built by other code is rebuilt, so no hand-bumped version can be forgotten."""
    import hashlib
    pkg = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for f in sorted([*(pkg / "model").glob("*.py"), pkg / "bw" / "writer.py", pkg / "inventory" / "loader.py",
                     pkg / "inventory" / "records.py"]):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:16]


#: Changes whenever the way inventories are written to Brightway changes: forces a rebuild.
BUILD_VERSION = _writer_hash()
PROJECT_NAME = "lca_battery"
#: Suffix of the project a build writes before it replaces the real one.
STAGING_SUFFIX = "~building"
#: The completeness marker, written last into the project folder.
MARKER = "lca_battery_build.json"
#: Build phases, for the fault-injection hook ``LCA_BATTERY_TEST_STOP_AFTER_PHASE=N``.
BUILD_PHASES = {1: "fresh staging project created", 2: "biosphere3 written", 3: "methods written",
                4: "inventory databases written", 5: "staging project switched to the real name",
                6: "completeness marker written"}
KILLED_EXIT = 86
BIOSPHERE = "biosphere3"

#: Method families offered. Each has a total and its fossil / biogenic / land-use parts.
METHODS = {
    "ipcc2021": {
        "label": "IPCC 2021 (AR6) GWP100, as bundled with bw2io (ecoinvent 3.9 LCIA)",
        "total": ("IPCC 2021", "climate change", "global warming potential (GWP100)"),
        "fossil": ("IPCC 2021", "climate change: fossil", "global warming potential (GWP100)"),
        "biogenic": ("IPCC 2021", "climate change: biogenic", "global warming potential (GWP100)"),
        "land_use_change": ("IPCC 2021", "climate change: land use", "global warming potential (GWP100)"),
    },
    "ef31": {
        "label": "EF v3.1 climate change (GWP100, IPCC AR6 based), as bundled with bw2io",
        "total": ("EF v3.1", "climate change", "global warming potential (GWP100)"),
        "fossil": ("EF v3.1", "climate change: fossil", "global warming potential (GWP100)"),
        "biogenic": ("EF v3.1", "climate change: biogenic", "global warming potential (GWP100)"),
        "land_use_change": ("EF v3.1", "climate change: land use and land use change",
                            "global warming potential (GWP100)"),
    },
}
GAS_PARTS = ("fossil", "biogenic", "land_use_change")


def _check_data_dir(base: str) -> None:
    """``BRIGHTWAY2_DIR`` must be (or become) a writable folder: say so in one line otherwise."""
    from ..errors import LcaBatteryError
    path = Path(base)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise LcaBatteryError(f"BRIGHTWAY2_DIR '{path}' is a file, not a folder", field="BRIGHTWAY2_DIR") from None
    except OSError as exc:
        raise LcaBatteryError(f"cannot create the Brightway data folder '{path}': {exc.strerror}",
                              field="BRIGHTWAY2_DIR") from None
    if not path.is_dir():
        raise LcaBatteryError(f"BRIGHTWAY2_DIR '{path}' is not a folder", field="BRIGHTWAY2_DIR")
    if not os.access(path, os.W_OK | os.X_OK):
        raise LcaBatteryError(f"the Brightway data folder '{path}' is not writable (permission denied); "
                              f"set BRIGHTWAY2_DIR to a folder you can write", field="BRIGHTWAY2_DIR")


def bd():
    """bw2data, imported late so that ``BRIGHTWAY2_DIR`` (created if missing) is honoured."""
    if "bw2data" not in sys.modules:
        import filelock
        import tempfile
        base = os.environ.get("BRIGHTWAY2_DIR")
        if base:
            _check_data_dir(base)
        # importing bw2data creates its data folder and "default" project: two first runs importing at
        # once race there (FileExistsError), so the import is serialised too
        lock = Path(base) / ".lca_battery-import.lock" if base else Path(tempfile.gettempdir()) / \
            "lca_battery-bw2data-import.lock"
        # bw2data's feedback logger prints on import and on every write; its lines interleaved with our
        # progress bars (a new user's first run, DESIGN.md). Its printer is bound on first use, so
        # importing under a muted stdout/stderr keeps it muted; lca_battery reports progress itself.
        with filelock.FileLock(str(lock), mode=0o666), \
                contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            import bw2data
            import bw2io  # noqa: F401  (its optional-import warnings go through the same logger)
        bw2data.config.is_test = True      # only switches off bw2data's per-database tqdm bars
        _mute_feedback_logger()
    import bw2data
    return bw2data


def _mute_feedback_logger() -> None:
    """Replace the feedback logger the Brightway modules imported by name with one that prints errors only
    (its warnings, e.g. "not ready for regionalization", say nothing about a footprint)."""
    import logging

    import structlog
    quiet = structlog.wrap_logger(structlog.PrintLogger(sys.stderr), processors=[structlog.dev.ConsoleRenderer()],
                                  wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    for name, mod in list(sys.modules.items()):
        if name.split(".")[0] in ("bw2data", "bw2io", "bw2calc") and hasattr(mod, "stdout_feedback_logger"):
            mod.stdout_feedback_logger = quiet


def _quiet():
    """Silence bw2calc's pypardiso hint and bw2io's optional-import warnings."""
    import logging
    import warnings
    warnings.filterwarnings("ignore", message=".*pypardiso.*")
    warnings.filterwarnings("ignore", category=UserWarning, module="bw2calc")
    logging.getLogger("bw2io").setLevel(logging.ERROR)
    try:
        import structlog
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    except Exception:  # structlog is optional in bw2data's stack
        pass


def project_name(inventory=None) -> str:
    """``$LCA_BATTERY_PROJECT``, else :data:`PROJECT_NAME` for the shipped inventories, else a
    name derived from the inventory folder (so a custom inventory never overwrites the default)."""
    if os.environ.get("LCA_BATTERY_PROJECT"):
        return os.environ["LCA_BATTERY_PROJECT"]
    if inventory is None:
        return PROJECT_NAME
    import hashlib
    if getattr(inventory, "extra_files", ()):
        key = "\0".join([str(Path(inventory.root).resolve()), *inventory.extra_files])
        return f"{PROJECT_NAME}-supplier-{hashlib.sha256(key.encode()).hexdigest()[:8]}"
    from ..inventory.loader import default_root
    try:
        if Path(inventory.root).resolve() == default_root().resolve():
            return PROJECT_NAME
    except Exception:  # no default inventories (custom install): fall through
        pass
    return f"{PROJECT_NAME}-{hashlib.sha256(str(Path(inventory.root).resolve()).encode()).hexdigest()[:8]}"


def activate(inventory=None) -> str:
    """Make the project of ``inventory`` current (creating it if needed); returns its name."""
    _quiet()
    b = bd()
    name = project_name(inventory)
    if b.projects.current != name:
        b.projects.set_current(name)
    return name


def build_file() -> Path:
    """The completeness marker of the current project (written last by a build)."""
    return Path(bd().projects.dir) / MARKER


def read_build() -> dict:
    try:
        return json.loads(build_file().read_text())
    except (OSError, ValueError):
        return {}


def _fault_hook(phase: int) -> None:
    """Test hook: ``LCA_BATTERY_TEST_STOP_AFTER_PHASE=N`` ends the process abruptly (as ``kill -9``
    would: no clean-up, no ``finally``) right after build phase ``N`` (see :data:`BUILD_PHASES`)."""
    stop = os.environ.get("LCA_BATTERY_TEST_STOP_AFTER_PHASE")
    if stop and stop.strip() == str(phase):
        sys.stderr.flush()
        os._exit(KILLED_EXIT)
def ensure_biosphere_and_methods(progress=None, after_biosphere=None) -> None:
    b = bd()
    if BIOSPHERE not in b.databases:
        import bw2io
        if progress:
            progress("creating biosphere3 from bw2io's bundled ecoinvent 3.9 elementary flows")
        with contextlib.redirect_stdout(io.StringIO()):     # bw2io prints each import strategy
            bw2io.create_default_biosphere3()
    if after_biosphere:
        after_biosphere()
    wanted = [m for fam in METHODS.values() for k, m in fam.items() if k != "label"]
    missing = [m for m in wanted if m not in b.methods]
    if missing:
        if progress:
            progress(f"writing {len(missing)} climate-change methods from bw2io's bundled LCIA data")
        write_methods(missing)


def write_methods(names) -> None:
    """Write methods from bw2io's bundled ``lcia_39_ecoinvent.zip``, converting the flow
    references (lists there) to the tuples bw2data 4 expects (brightway2-io issue 277)."""
    import bw2io
    b = bd()
    path = Path(bw2io.__file__).parent / "data" / "lcia" / "lcia_39_ecoinvent.zip"
    with zipfile.ZipFile(path) as z:
        data = json.load(z.open(z.namelist()[0]))
    by_name = {tuple(m["name"]): m for m in data}
    bio_codes = {code for code in _biosphere_codes()}
    for name in names:
        m = by_name[tuple(name)]
        cfs = [(tuple(cf["input"]), float(cf["amount"])) for cf in m["exchanges"]
               if cf["input"][1] in bio_codes]
        meth = b.Method(tuple(name))
        meth.register(unit=m.get("unit", "kg CO2-Eq"),
                      description=f"{m.get('description', '')} Imported by lca_battery from bw2io "
                                  f"lcia_39_ecoinvent.zip.")
        meth.write(cfs)


def _biosphere_codes():
    import bw2data.backends as backends
    return [a.code for a in backends.ActivityDataset.select(backends.ActivityDataset.code).where(
        backends.ActivityDataset.database == BIOSPHERE)]


def biosphere_index(with_ids: bool = False) -> dict:
    """(flow name, categories) -> (code, unit) for every biosphere3 flow (one query);
    with ``with_ids``: -> (code, unit, node id)."""
    import bw2data.backends as backends
    A = backends.ActivityDataset
    out = {}
    for row in A.select(A.id, A.code, A.name, A.data).where(A.database == BIOSPHERE):
        key = (row.name, tuple(row.data.get("categories", ())))
        out[key] = (row.code, row.data.get("unit", ""), row.id) if with_ids else (row.code, row.data.get("unit", ""))
    return out


def databases_state(project_dir, names) -> dict:
    """What of each database's bw2data metadata says it changed since: its modification time (bw2data sets it
    on every write and every saved activity or exchange, as Activity Browser's edits do) and its number of
    activities, read from the project folder's ``databases.json`` without bw2data (the warm path reads it too);
    a database that is gone is None."""
    try:
        meta = json.loads((Path(project_dir) / "databases.json").read_text())
    except (OSError, ValueError):
        meta = {}
    out = {}
    for name in names:
        m = meta.get(name) if isinstance(meta, dict) else None
        out[name] = database_state(m) if isinstance(m, dict) else None
    return out


def database_state(meta: dict) -> dict:
    """What of a database's bw2data metadata says it changed: its modification time (bw2data sets it on every
    write and every saved activity or exchange) and its number of activities."""
    return {"modified": str(meta.get("modified")), "number": meta.get("number")}


def edited_databases(info: dict, project_dir) -> list[str]:
    """The databases of the project whose state differs from the one its build recorded (edited after the build,
    e.g. in Activity Browser); every database for a marker that recorded none."""
    recorded = info.get("database_state")
    if not isinstance(recorded, dict):
        return list(info.get("databases", [])) or [BIOSPHERE]
    now = databases_state(project_dir, list(recorded))
    return [db for db in recorded if now.get(db) != recorded[db]]


def is_current(inventory_hash: str) -> bool:
    """The current project is complete (marker written last), built from these inventories and not edited
    since (:func:`edited_databases`)."""
    info = read_build()
    b = bd()
    return (info.get("complete") is True and info.get("inventory_hash") == inventory_hash
            and info.get("build_version") == BUILD_VERSION and info.get("project") == b.projects.current
            and all(db in b.databases for db in info.get("databases", []))
            and BIOSPHERE in b.databases and not edited_databases(info, b.projects.dir))


def _base_dir() -> Path:
    return Path(bd().projects._base_data_dir)


def lock_path(name: str) -> Path:
    """The lock file of project ``name`` (beside ``projects.db``)."""
    import re
    return _base_dir() / f".lca_battery-{re.sub(r'[^A-Za-z0-9._-]+', '_', name)}.lock"


def _lock(name: str, progress=None):
    """The build lock of project ``name``, acquired; a run that must wait says so."""
    import filelock
    from ..errors import LcaBatteryError
    path = lock_path(name)
    lock = filelock.FileLock(str(path))
    try:
        lock.acquire(timeout=0)
        return lock
    except filelock.Timeout:
        pass
    except OSError as exc:
        raise LcaBatteryError(f"cannot create the lock file '{path}': {exc.strerror}") from None
    timeout = float(os.environ.get("LCA_BATTERY_LOCK_TIMEOUT", "1800"))
    msg = (f"another lca-battery run holds the Brightway project '{name}' (lock {path}); "
           f"waiting for it (up to {timeout:g} s)")
    (progress or (lambda m: print(f"lca-battery: {m} ...", file=sys.stderr, flush=True)))(msg)
    try:
        lock.acquire(timeout=timeout)
    except filelock.Timeout:
        raise LcaBatteryError(f"gave up after {timeout:g} s waiting for the lock {path} held by another "
                              f"lca-battery run (set LCA_BATTERY_LOCK_TIMEOUT to wait longer)") from None
    return lock


def _drop_project(name: str) -> None:
    """Delete project ``name`` and its folder, whatever state an interrupted build left it in."""
    import shutil
    import warnings
    from bw_processing import safe_filename
    b = bd()
    if name in b.projects:
        if b.projects.current == name:
            b.projects.set_current("default" if name != "default" else PROJECT_NAME)
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            b.projects.delete_project(name, delete_dir=False)
    for full in (True, False):     # the folder, even when its row is gone (killed mid-delete)
        for base in (_base_dir(), Path(b.projects._base_logs_dir)):
            d = base / safe_filename(name, full=full)
            if d.is_dir():
                shutil.rmtree(d)


def _switch(staging: str, name: str) -> None:
    """Give the complete staging project the real name (the old project, if any, goes first)."""
    import warnings
    b = bd()
    _drop_project(name)
    b.projects.set_current(staging)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")        # "renaming ... relatively expensive"
        b.projects.copy_project(name, switch=True)
    _drop_project(staging)
    b.projects.set_current(name)
