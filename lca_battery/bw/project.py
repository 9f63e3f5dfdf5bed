"""The Brightway project: biosphere, climate-change methods and the inventory databases.

Set-up is paid once. ``build.json`` in the project folder records the SHA-256 of the
inventory files and :data:`BUILD_VERSION` (a hash of the model and writer code); when both match,
nothing is rebuilt.

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
import time
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


def bd():
    """bw2data, imported late so that ``BRIGHTWAY2_DIR`` (created if missing) is honoured."""
    base = os.environ.get("BRIGHTWAY2_DIR")
    if base:
        Path(base).mkdir(parents=True, exist_ok=True)
    if "bw2data" not in sys.modules:
        # bw2data's feedback logger prints on import and on every write; its lines interleaved with our
        # progress bars (a new user's first run, DESIGN.md). Its printer is bound on first use, so
        # importing under a muted stdout/stderr keeps it muted; lca_battery reports progress itself.
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
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
    return Path(bd().projects.dir) / "lca_battery_build.json"


def read_build() -> dict:
    try:
        return json.loads(build_file().read_text())
    except (OSError, ValueError):
        return {}


def ensure_biosphere_and_methods(progress=None) -> None:
    b = bd()
    if BIOSPHERE not in b.databases:
        import bw2io
        if progress:
            progress("creating biosphere3 from bw2io's bundled ecoinvent 3.9 elementary flows")
        with contextlib.redirect_stdout(io.StringIO()):     # bw2io prints each import strategy
            bw2io.create_default_biosphere3()
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


def is_current(inventory_hash: str) -> bool:
    info = read_build()
    b = bd()
    return (info.get("inventory_hash") == inventory_hash and info.get("build_version") == BUILD_VERSION
            and all(db in b.databases for db in info.get("databases", []))
            and BIOSPHERE in b.databases)


def ensure_project(inventory, progress=None) -> dict:
    """Activate the project and (re)build it if the inventories changed. Returns build info."""
    from .writer import write_databases
    name = activate(inventory)
    if is_current(inventory.content_hash):
        return read_build() | {"rebuilt": False}
    t0 = time.perf_counter()
    ensure_biosphere_and_methods(progress)
    databases = write_databases(inventory, progress)
    info = {"inventory_hash": inventory.content_hash, "build_version": BUILD_VERSION,
            "databases": databases, "project": name,
            "build_seconds": round(time.perf_counter() - t0, 2)}
    build_file().write_text(json.dumps(info, indent=2))
    return info | {"rebuilt": True}
