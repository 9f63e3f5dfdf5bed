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

from .project import (BIOSPHERE, BUILD_VERSION, STAGING_SUFFIX, _drop_project, _fault_hook, _lock, _quiet, _switch,
                      bd, biosphere_index, build_file, databases_state, edited_databases, ensure_biosphere_and_methods,
                      is_current, project_name, read_build)


def _say(msg: str) -> None:
    import sys
    print(f"lca-battery: {msg}", file=sys.stderr, flush=True)


def _keep_edited(name: str) -> str:
    """A copy of the current (edited) project under a new name, so that a rebuild loses none of the user's work."""
    import warnings
    b = bd()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    kept = f"{name}-edited-{stamp}"
    k = 1
    while kept in b.projects:
        k += 1
        kept = f"{name}-edited-{stamp}-{k}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b.projects.copy_project(kept, switch=False)
    return kept


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
            edited = (edited_databases(info, b.projects.dir) if info.get("complete") is True
                      and info.get("inventory_hash") == content and info.get("build_version") == BUILD_VERSION
                      and "database_state" in info else [])
            if progress and info.get("complete") is not True:
                progress(f"the Brightway project '{name}' is incomplete (an earlier build was interrupted); "
                         f"rebuilding it from scratch")
            elif edited:
                kept = _keep_edited(name)
                (progress or _say)(
                    f"the Brightway project '{name}' was changed after it was built (database"
                    f"{'s' if len(edited) > 1 else ''} {', '.join(edited)}, e.g. in Activity Browser). lca_battery "
                    f"computes from its inventory files, so the project is rebuilt from them; the edited project is "
                    f"kept as '{kept}'. To change the model, edit the inventory files or give a supplier inventory "
                    f"(README: suppliers)")
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
                "database_state": databases_state(b.projects.dir, [*databases, BIOSPHERE]),
                "build_seconds": round(time.perf_counter() - t0, 2), "complete": True}
        tmp = build_file().with_suffix(".tmp")
        tmp.write_text(json.dumps(info, indent=2))
        os.replace(tmp, build_file())          # the marker, last and atomically
        _fault_hook(6)
        return info | {"rebuilt": True}
    finally:
        lock.release()
