"""Building the Brightway project: the orchestration above :mod:`.project` (data folder, names, locks,
biosphere and methods) and :mod:`.writer` (the inventory databases), so neither imports the other.

:func:`ensure_project` checks the project under its lock and, when the inventories or the writer changed
or an earlier build was interrupted, builds it into a staging project that replaces the real one only
when complete (see :mod:`.project` for the crash-safety rules).
"""
from __future__ import annotations

import json
import os
import time

from .project import (BUILD_VERSION, STAGING_SUFFIX, _drop_project, _fault_hook, _lock, _quiet, _switch, bd,
                      biosphere_index, build_file, ensure_biosphere_and_methods, is_current, project_name,
                      read_build)


def ensure_project(inventory, progress=None, background=None) -> dict:
    """Activate the project and (re)build it if it is incomplete or the inventories changed.

    Runs under the project's lock. A build goes into a staging project, which replaces the real
    one only when complete; the completeness marker is written last. Returns the build info."""
    from .writer import write_databases   # here, not at the top: the writer needs pint, which a warm run never loads
    _quiet()
    b = bd()
    name = project_name(inventory)
    content = inventory.content_hash
    if background is not None:      # a licensed background: a project of its own (lca_battery.background)
        import hashlib
        name += "-bg-" + hashlib.sha256(f"{background.project}\0{background.database}\0"
                                        f"{background.mapping_file}".encode()).hexdigest()[:8]
        content += "+" + background.fingerprint
    lock = _lock(name, progress)
    try:
        if name in b.projects:
            b.projects.set_current(name)
            if is_current(content):
                return read_build() | {"rebuilt": False}
            info = read_build()
            if progress and info.get("complete") is not True:
                progress(f"the Brightway project '{name}' is incomplete (an earlier build was interrupted); "
                         f"rebuilding it from scratch")
            elif progress:
                progress(f"the inventories or the writer changed since the Brightway project '{name}' was built; "
                         f"rebuilding it")
        t0 = time.perf_counter()
        staging = name + STAGING_SUFFIX
        if staging in b.projects and progress:
            progress(f"discarding the staging project '{staging}' of an earlier, interrupted build")
        _drop_project(staging)                  # what a killed build left
        b.projects.set_current(staging)
        _fault_hook(1)
        ensure_biosphere_and_methods(progress, after_biosphere=lambda: _fault_hook(2))
        _fault_hook(3)
        lcis = None
        if background is not None:
            from ..background import link_inventories
            if progress:
                progress(f"computing the inventories of {len(background.links)} activities of "
                         f"'{background.database}' (project '{background.project}')")
            lcis = link_inventories(background, {code for code, _ in biosphere_index().values()})
        databases = write_databases(inventory, progress, background, lcis)
        _fault_hook(4)
        _switch(staging, name)
        _fault_hook(5)
        info = {"inventory_hash": content, "build_version": BUILD_VERSION,
                "databases": databases, "project": name,
                "build_seconds": round(time.perf_counter() - t0, 2), "complete": True}
        tmp = build_file().with_suffix(".tmp")
        tmp.write_text(json.dumps(info, indent=2))
        os.replace(tmp, build_file())          # the marker, last and atomically
        _fault_hook(6)
        return info | {"rebuilt": True}
    finally:
        lock.release()
